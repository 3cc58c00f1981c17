//! Create (POST): namespace checks, NamespaceLifecycle admission, generateName, server-set
//! metadata, validation, the existence check and the commit.

use std::sync::Arc;

use operator_runtime_core::store::{StoreResult, WriteParams};
use operator_runtime_core::{Object, StoreError};
use serde_json::json;

use crate::errors::{already_exists, namespace_not_found};
use crate::kinds::{KindSpec, NAMESPACE_SLOT};
use crate::meta::{generate_name, new_uid, now_seconds};
use crate::size::check_size;
use crate::state::State;
use crate::update::{decode_write, validate_schema};
use crate::validation::{Causes, name_error, validate_meta};
use crate::{crd, kinds};

/// How many generated names are tried before giving up (the server retries on collision).
const GENERATE_NAME_ATTEMPTS: usize = 8;

/// `maskTrailingDash`: a generateName prefix may end in '-' (the suffix follows it).
fn mask_trailing_dash(prefix: &str) -> String {
    match prefix.strip_suffix('-') {
        Some(stem) if !stem.is_empty() => format!("{stem}a"),
        _ => prefix.to_owned(),
    }
}

/// NamespaceLifecycle: the namespace must exist and must not be terminating.
pub(crate) fn admit_namespace(state: &State, namespace: &str) -> StoreResult<()> {
    match state.lookup(NAMESPACE_SLOT, "", namespace) {
        None => Err(namespace_not_found(namespace)),
        Some(ns) if ns.is_terminating() => Err(StoreError::forbidden(format!(
            "unable to create new content in namespace {namespace} because it is being terminated"
        ))),
        Some(_) => Ok(()),
    }
}

/// Normalises the body namespace against the kind's scope (the request namespace is the
/// body's own, so there is nothing to mismatch here; patches check it separately).
pub(crate) fn scope_namespace(kind: &KindSpec, object: &mut Object) -> StoreResult<()> {
    if !kind.info.namespaced {
        object.metadata.namespace = None;
        return Ok(());
    }
    match object.metadata.namespace.as_deref() {
        Some(ns) if !ns.is_empty() => Ok(()),
        _ => {
            let mut causes = Causes::default();
            causes.required("metadata.namespace", "");
            causes.into_result(&kind.info.type_ref.kind, object.name())
        }
    }
}

/// Creates an object (`dry_run`: validates and returns it without storing).
pub(crate) fn create(state: &mut State, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
    let kind = state
        .kinds
        .get_by(&object.api_version, &object.kind)
        .cloned()
        .ok_or_else(|| crate::errors::unknown_kind(&object.type_ref()))?;
    create_as(
        state,
        &kind,
        object.clone(),
        params.field_manager.as_deref(),
        params.dry_run,
    )
}

/// Creates an object of a known kind.
pub(crate) fn create_as(
    state: &mut State,
    kind: &Arc<KindSpec>,
    mut obj: Object,
    manager: Option<&str>,
    dry_run: bool,
) -> StoreResult<Arc<Object>> {
    let kind_name = kind.info.type_ref.kind.as_str();
    scope_namespace(kind, &mut obj)?;
    if let Some(ns) = obj.metadata.namespace.as_deref() {
        admit_namespace(state, ns)?;
    }
    if obj
        .metadata
        .resource_version
        .as_deref()
        .is_some_and(|rv| !rv.is_empty())
    {
        return Err(StoreError::Internal {
            message: "resourceVersion should not be set on objects to be created".into(),
        });
    }

    // rest.BeforeCreate: wipe and fill the server-owned fields.
    obj.metadata.uid = Some(new_uid(&mut state.rng));
    obj.metadata.creation_timestamp = Some(now_seconds(state.clock.as_ref()));
    obj.metadata.deletion_timestamp = None;
    obj.metadata.deletion_grace_period_seconds = None;
    obj.metadata.self_link = None;
    obj.metadata.resource_version = None;
    obj.metadata.generation = kind.uses_generation.then_some(1);
    if kind.info.status_subresource {
        obj.body.remove("status");
    }
    if kind.slot == NAMESPACE_SLOT {
        obj.body.insert("spec".into(), json!({"finalizers": ["kubernetes"]}));
        obj.body.insert("status".into(), json!({"phase": "Active"}));
    }

    if manager.is_some() {
        // A create's fields are all the creator's.
        obj.metadata.managed_fields = None;
    }
    decode_write(state, kind, None, &mut obj, manager, None)?;
    let mut causes = Causes::default();
    let generate = obj.metadata.generate_name.clone().filter(|g| !g.is_empty());
    let named = obj.metadata.name.as_deref().is_some_and(|n| !n.is_empty());
    if !named && generate.is_none() {
        causes.required("metadata.name", "name or generateName is required");
        return causes.fail(kind_name, "");
    }
    validate_meta(&obj, &mut causes);
    validate_schema(kind, &obj, &mut causes);
    if kind.slot == kinds::CRD_SLOT {
        crd::validate(&obj, &mut causes);
    }
    if let Some(prefix) = generate.as_deref().filter(|_| !named)
        && let Some(msg) = name_error(&mask_trailing_dash(prefix), kind.name_rule)
    {
        causes.invalid("metadata.generateName", prefix, &msg);
        return causes.fail(kind_name, "");
    }
    let mut attempts = 0;
    loop {
        if !named {
            let prefix = generate.as_deref().unwrap_or_default();
            obj.metadata.name = Some(generate_name(&mut state.rng, prefix));
        }
        if let Some(msg) = name_error(obj.name(), kind.name_rule) {
            let mut name_causes = Causes::default();
            name_causes.invalid("metadata.name", obj.name(), &msg);
            return name_causes.fail(kind_name, obj.name());
        }
        if state
            .lookup(kind.slot, obj.namespace().unwrap_or(""), obj.name())
            .is_none()
        {
            break;
        }
        attempts += 1;
        if named || attempts >= GENERATE_NAME_ATTEMPTS {
            return Err(already_exists(&kind.info, obj.name()));
        }
    }
    causes.into_result(kind_name, obj.name())?;
    check_size(&obj)?;
    if dry_run {
        return Ok(Arc::new(obj));
    }
    let stored = state.commit_put(kind.slot, obj);
    if kind.slot == kinds::CRD_SLOT {
        crd::established(state, &stored);
    }
    Ok(stored)
}
