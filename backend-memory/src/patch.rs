//! PATCH with a JSON merge patch (RFC 7386) or a JSON patch (RFC 6902, via the `json-patch`
//! crate); server-side apply lives in [`crate::apply`]. The verb builds the patched object;
//! the pipeline is [`crate::registry::update`].
//!
//! With [`PatchParams::status`] the patched object goes through the status store's pipeline
//! (`registry::update_status`), as a PUT on `/status` does.
//!
//! The patched object goes through the same update pipeline as a PUT, against the current
//! version: a `metadata.resourceVersion` that the patch puts into the object is a precondition
//! (so a merge patch carrying a stale resourceVersion is a 409). A JSON patch document that
//! does not decode is a 400; one that does not apply (a failed `test`, a missing path) is a
//! 422, as the API server answers since kubernetes#68838. A patched object the kind's type
//! cannot hold (a number in ConfigMap `data`, bad base64, a malformed quantity) is a 422 on
//! the field `patch`, before any precondition.

use std::sync::Arc;

use operator_runtime_core::store::{Patch, PatchParams, StoreResult};
use operator_runtime_core::{Object, ObjectRef, StatusCause, StoreError};
use serde_json::Value;

use crate::errors::no_status_subresource;
use crate::registry::{self, RvRule, WriteOptions};
use crate::state::State;

/// `maxJSONPatchOperations` of the apiserver's patch handler.
const MAX_JSON_PATCH_OPERATIONS: usize = 10_000;

/// PATCH.
pub(crate) fn patch(
    state: &mut State,
    key: &ObjectRef,
    patch: &Patch,
    params: &PatchParams,
) -> StoreResult<Arc<Object>> {
    let kind = registry::kind_of(state, &key.type_ref)?;
    if params.status && !kind.info.status_subresource {
        return Err(no_status_subresource(&kind.info));
    }
    let namespace = registry::request_namespace(&kind, key.namespace.as_deref());
    let old = registry::stored(state, &kind, namespace, &key.name)?;
    let mut doc = old.to_value().map_err(|e| StoreError::backend(e.to_string()))?;
    match patch {
        Patch::Merge(p) => {
            if !p.is_object() {
                return Err(StoreError::bad_request("a merge patch must be a JSON object"));
            }
            json_patch::merge(&mut doc, p);
        }
        Patch::Json(p) => {
            // Not a list of objects: the document does not decode (400). Too many operations:
            // 413. An operation that does not parse (unknown op, missing path) fails when
            // applied, like evanphx/json-patch: 422.
            let Some(raw_ops) = p.as_array().filter(|ops| ops.iter().all(Value::is_object)) else {
                return Err(StoreError::bad_request(
                    "invalid JSON patch: expected an array of operations",
                ));
            };
            if raw_ops.len() > MAX_JSON_PATCH_OPERATIONS {
                return Err(StoreError::TooLarge {
                    message: format!(
                        "The allowed maximum operations in a JSON patch is {MAX_JSON_PATCH_OPERATIONS}, got {}",
                        raw_ops.len()
                    ),
                });
            }
            let ops: json_patch::Patch = serde_json::from_value(p.clone()).map_err(|e| StoreError::Invalid {
                message: format!("the server rejected our request due to an error in our request: {e}"),
                causes: vec![StatusCause::new("FieldValueInvalid", "patch", e.to_string())],
            })?;
            let ops = null_tests_of_absent_members_pass(&doc, ops);
            json_patch::patch(&mut doc, &ops).map_err(|e| StoreError::Invalid {
                message: format!("the server rejected our request due to an error in our request: {e}"),
                causes: vec![StatusCause::new("FieldValueInvalid", "patch", e.to_string())],
            })?;
        }
        // The store routes apply to `crate::apply`; an apply body here is not a patch.
        Patch::Apply(_) => return Err(StoreError::bad_request("apply is not a merge or JSON patch")),
    }
    let new =
        Object::from_value(doc).map_err(|e| StoreError::bad_request(format!("patched object is invalid: {e}")))?;
    let mut new = registry::check_identity(&kind, namespace, &key.name, new)?;
    // The patched JSON is decoded into the kind's type here: a value the type cannot hold
    // (a number in ConfigMap data, bad base64, a malformed quantity) is the patch handler's
    // 422 on the field `patch`, not the 400 of a PUT body.
    registry::normalize(&kind, &mut new).map_err(|e| match e {
        StoreError::BadRequest { message } => {
            let detail = message.split_once(": ").map_or(message.as_str(), |(_, d)| d).to_owned();
            StoreError::Invalid {
                message: format!(" \"\" is invalid: patch: Invalid value: {detail}"),
                causes: vec![StatusCause::new("FieldValueInvalid", "patch", detail)],
            }
        }
        other => other,
    })?;
    let opts = WriteOptions {
        manager: Some(params.field_manager.as_deref().unwrap_or(registry::UNNAMED_MANAGER)),
        dry_run: params.dry_run,
        subresource: None,
        keeps_empty_metadata: false,
        normalized: false,
    };
    if params.status {
        // The status store: the patched object's `status` (and the metadata the kind's status
        // strategy keeps) is written, the rest of the patch is ignored.
        return registry::update_status(state, &kind, &old, new, RvRule::Unconditional, opts);
    }
    registry::update(state, &kind, &old, new, RvRule::Unconditional, opts)
}

/// Drops the `test` operations of `null` against a member absent from an existing object: the
/// API server's JSON patch library (evanphx/json-patch) passes them, the Rust crate does not.
/// kube-rs's finalizer helper sends one (`test /metadata/finalizers null`, then `add`).
pub(crate) fn null_tests_of_absent_members_pass(doc: &Value, ops: json_patch::Patch) -> json_patch::Patch {
    let passes = |op: &json_patch::PatchOperation| match op {
        json_patch::PatchOperation::Test(t) if t.value.is_null() => {
            let path = t.path.as_str();
            let parent = path.rsplit_once('/').map_or("", |(p, _)| p);
            doc.pointer(path).is_none() && doc.pointer(parent).is_some_and(Value::is_object)
        }
        _ => false,
    };
    json_patch::Patch(ops.0.into_iter().filter(|op| !passes(op)).collect())
}
