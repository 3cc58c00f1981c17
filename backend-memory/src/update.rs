//! Update (PUT) and PUT on `/status`: the verbs; the pipeline is [`crate::registry::update`].
//! A PUT of a missing object creates it for kinds whose strategy allows create on update
//! (Lease, Service, Endpoints, Event, LimitRange, the RBAC kinds), else it is a 404.

use std::sync::Arc;

use operator_runtime_core::store::{StoreResult, WriteParams};
use operator_runtime_core::{Object, StoreError};

use crate::errors::not_found;
use crate::registry::{self, RvRule, WriteOptions};
use crate::state::State;
use crate::validation::Causes;

fn options(params: &WriteParams) -> WriteOptions<'_> {
    WriteOptions {
        manager: params.field_manager.as_deref(),
        dry_run: params.dry_run,
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
    match state.lookup(kind.slot, &namespace, new.name()).cloned() {
        Some(old) => {
            let opts = WriteOptions {
                manager: Some(params.field_manager.as_deref().unwrap_or(registry::UNNAMED_MANAGER)),
                ..options(params)
            };
            registry::update(state, &kind, &old, new, RvRule::PerKind, opts)
        }
        None if kind.strategy.create_on_update => {
            // The storage layer clears the resourceVersion of an object it creates.
            new.metadata.resource_version = None;
            registry::create(state, &kind, new, options(params))
        }
        None => Err(not_found(&kind.info, new.name())),
    }
}

/// PUT on `/status`: only `status` (and managedFields) of the body is written.
pub(crate) fn replace_status(state: &mut State, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
    let kind = registry::kind_of_object(state, object)?;
    if !kind.info.status_subresource {
        return Err(StoreError::not_found(format!(
            "the server could not find the requested resource ({} has no status subresource)",
            kind.info.type_ref
        )));
    }
    let mut body = object.clone();
    registry::scope_namespace(&kind, &mut body)?;
    let old = registry::stored(state, &kind, body.namespace().unwrap_or(""), body.name())?;
    registry::update_status(state, &kind, &old, body, options(params))
}
