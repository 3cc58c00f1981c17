//! Update (PUT) and PUT on `/status`: the verbs; the pipeline is [`crate::registry::update`].
//! A PUT of a missing object creates it for kinds whose strategy allows create on update
//! (Lease, Service, Endpoints, Event, LimitRange, the RBAC kinds), else it is a 404.

use std::sync::Arc;

use operator_runtime_core::Object;
use operator_runtime_core::store::{StoreResult, WriteParams};
use serde_json::Map;

use crate::errors::{no_status_subresource, not_found, precondition};
use crate::kinds::KindSpec;
use crate::registry::{self, RvRule, WriteOptions};
use crate::state::State;
use crate::validation::Causes;

/// The write's options; an unnamed writer is [`registry::UNNAMED_MANAGER`].
fn options(params: &WriteParams) -> WriteOptions<'_> {
    WriteOptions {
        manager: Some(params.field_manager.as_deref().unwrap_or(registry::UNNAMED_MANAGER)),
        dry_run: params.dry_run,
        subresource: None,
        keeps_empty_metadata: false,
        normalized: false,
    }
}

/// PUT.
pub(crate) fn replace(state: &mut State, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
    let kind = registry::kind_of_object(state, object)?;
    let mut new = object.clone();
    registry::scope_namespace(&kind, &mut new)?;
    if new.name().is_empty() {
        let mut causes = Causes::default();
        causes.required("metadata.name", "name is required");
        return causes.fail(&kind.info.type_ref.kind, "");
    }
    // The body decodes (Secret base64, stringData) before the stored object is read.
    registry::normalize(&kind, &mut new)?;
    let namespace = new.namespace().unwrap_or("").to_owned();
    match registry::lookup_as(state, &kind, &namespace, new.name()) {
        Some(old) => registry::update(state, &kind, &old, new, RvRule::PerKind, options(params)),
        None if kind.strategy.create_on_update => create_on_update(state, &kind, new, options(params)),
        None => Err(not_found(&kind.info, new.name())),
    }
}

/// A PUT (main resource or `/status`) of a missing object of a kind that allows create on
/// update. The body's uid is a precondition the missing object fails (409), checked before
/// anything else; the storage layer clears the resourceVersion of an object it creates.
fn create_on_update(
    state: &mut State,
    kind: &Arc<KindSpec>,
    mut new: Object,
    opts: WriteOptions<'_>,
) -> StoreResult<Arc<Object>> {
    if let Some(uid) = new.uid().filter(|u| !u.is_empty()) {
        return Err(precondition(&kind.info, new.name(), "UID", uid, ""));
    }
    new.metadata.resource_version = None;
    registry::create(state, kind, new, opts)
}

/// PUT on `/status`: only `status` (and managedFields) of the body is written.
pub(crate) fn replace_status(state: &mut State, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
    let kind = registry::kind_of_object(state, object)?;
    if !kind.info.status_subresource {
        return Err(no_status_subresource(&kind.info));
    }
    // A status write over a stored object reads only the body's metadata and status: the
    // rest of it is not copied.
    let mut body = Object {
        api_version: object.api_version.clone(),
        kind: object.kind.clone(),
        metadata: object.metadata.clone(),
        body: Map::new(),
    };
    registry::scope_namespace(&kind, &mut body)?;
    // The status store shares the kind's create-on-update rule and creates with the main
    // create strategy (the status in the body is reset like any create's).
    match state
        .lookup(kind.slot, body.namespace().unwrap_or(""), body.name())
        .cloned()
    {
        Some(old) => {
            if let Some(status) = object.body.get("status") {
                body.body.insert("status".into(), status.clone());
            }
            registry::update_status(state, &kind, &old, body, RvRule::PerKind, options(params))
        }
        None if kind.strategy.create_on_update => {
            body.body.clone_from(&object.body);
            registry::normalize(&kind, &mut body)?;
            let opts = WriteOptions {
                subresource: Some("status"),
                ..options(params)
            };
            create_on_update(state, &kind, body, opts)
        }
        None => Err(not_found(&kind.info, body.name())),
    }
}
