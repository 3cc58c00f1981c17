//! The create pipeline (`Store.Create` + `rest.BeforeCreate`): scope and NamespaceLifecycle,
//! server-set metadata, the strategy's preparation, decode, name and generateName, validation,
//! the existence check, the size limit, dry-run and the commit.

use std::sync::Arc;

use operator_runtime_core::store::StoreResult;
use operator_runtime_core::{Object, StoreError};

use super::{WriteOptions, admit_namespace, after_commit, decode_write, is_builtin, normalize, scope_namespace};
use crate::defaults;
use crate::errors::already_exists;
use crate::kinds::KindSpec;
use crate::meta::{generate_name, new_uid, now_seconds};
use crate::size::check_size;
use crate::state::State;
use crate::validation::{Causes, name_error, validate_meta};

/// How many generated names are tried before giving up (the server retries on collision).
const GENERATE_NAME_ATTEMPTS: usize = 8;

/// `maskTrailingDash`: a generateName prefix may end in '-' (the suffix follows it).
fn mask_trailing_dash(prefix: &str) -> String {
    match prefix.strip_suffix('-') {
        Some(stem) if !stem.is_empty() => format!("{stem}a"),
        _ => prefix.to_owned(),
    }
}

/// Creates `obj` as an object of `kind` (`dry_run`: validates and returns it without storing).
pub(crate) fn create(
    state: &mut State,
    kind: &Arc<KindSpec>,
    mut obj: Object,
    opts: WriteOptions<'_>,
) -> StoreResult<Arc<Object>> {
    let kind_name = kind.info.type_ref.kind.as_str();
    let strategy = &kind.strategy;
    if !opts.normalized {
        normalize(kind, &mut obj)?;
    }
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

    // rest.BeforeCreate: wipe and fill the server-owned fields, then PrepareForCreate.
    obj.metadata.uid = Some(new_uid(&mut state.rng));
    obj.metadata.creation_timestamp = Some(now_seconds(state.clock.as_ref()));
    obj.metadata.deletion_timestamp = None;
    obj.metadata.deletion_grace_period_seconds = None;
    obj.metadata.self_link = None;
    obj.metadata.resource_version = None;
    obj.metadata.generation = strategy.uses_generation.then_some(1);
    // Through `/status` the field manager sees the body's status (and owns it) before the
    // create strategy resets it; through the main resource status is nobody's anyway.
    let status = if opts.subresource.is_some() {
        obj.body.get("status").cloned()
    } else {
        None
    };
    if strategy.status_subresource {
        obj.body.remove("status");
    }
    strategy.hooks.prepare_for_create(&mut obj);

    if opts.manager.is_some() {
        // A create's fields are all the creator's.
        obj.metadata.managed_fields = None;
    }
    if let Some(status) = status.filter(|_| strategy.status_subresource) {
        obj.body.insert("status".into(), status);
        decode_write(state, kind, None, &mut obj, opts.manager, opts.subresource);
        // PrepareForCreate resets the status to its zero value (defaulted, as on any create).
        obj.body.remove("status");
        strategy.hooks.prepare_for_create(&mut obj);
        if is_builtin(kind) {
            defaults::apply_write(kind, &mut obj);
        }
    } else {
        decode_write(state, kind, None, &mut obj, opts.manager, opts.subresource);
    }
    let mut causes = Causes::default();
    let generate = obj.metadata.generate_name.clone().filter(|g| !g.is_empty());
    let named = obj.metadata.name.as_deref().is_some_and(|n| !n.is_empty());
    if !named && generate.is_none() {
        causes.required("metadata.name", "name or generateName is required");
        return causes.fail(kind_name, "");
    }
    validate_meta(&obj, &mut causes);
    strategy.hooks.validate(&obj, &mut causes);
    if let Some(prefix) = generate.as_deref().filter(|_| !named)
        && let Some(msg) = name_error(&mask_trailing_dash(prefix), strategy.name_rule)
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
        if let Some(msg) = name_error(obj.name(), strategy.name_rule) {
            let mut name_causes = Causes::default();
            name_causes.invalid("metadata.name", obj.name(), &msg);
            return name_causes.fail(kind_name, obj.name());
        }
        if state
            .lookup(kind.slot, obj.namespace().unwrap_or(""), obj.name())
            .is_none()
        {
            if !named && is_builtin(kind) {
                defaults::after_name_generated(kind, &mut obj);
            }
            break;
        }
        attempts += 1;
        if named || attempts >= GENERATE_NAME_ATTEMPTS {
            return Err(already_exists(&kind.info, obj.name()));
        }
    }
    causes.into_result(kind_name, obj.name())?;
    check_size(&obj)?;
    if opts.dry_run {
        return Ok(Arc::new(obj));
    }
    let stored = state.commit_put(kind.slot, obj);
    state.set_stored_differs(&stored, opts.keeps_empty_metadata || kind.strategy.created_form_differs);
    after_commit(state, kind, &stored);
    Ok(stored)
}
