//! PATCH with a JSON merge patch (RFC 7386) or a JSON patch (RFC 6902, via the `json-patch`
//! crate); server-side apply lives in [`crate::apply`].
//!
//! The patched object goes through the same update pipeline as a PUT, against the current
//! version: a `metadata.resourceVersion` that the patch puts into the object is a precondition
//! (so a merge patch carrying a stale resourceVersion is a 409). A JSON patch document that
//! does not decode is a 400; one that does not apply (a failed `test`, a missing path) is a
//! 422, as the API server answers since kubernetes#68838.

use std::sync::Arc;

use operator_runtime_core::store::{Patch, PatchParams, StoreResult};
use operator_runtime_core::{Object, ObjectRef, StatusCause, StoreError};
use serde_json::Value;

use crate::apply;

/// `maxJSONPatchOperations` of the apiserver's patch handler.
const MAX_JSON_PATCH_OPERATIONS: usize = 10_000;
use crate::errors::{not_found, unknown_kind};
use crate::kinds::KindSpec;
use crate::state::State;
use crate::update::{RvRule, update_main};

/// PATCH.
pub(crate) fn patch(
    state: &mut State,
    key: &ObjectRef,
    patch: &Patch,
    params: &PatchParams,
) -> StoreResult<Arc<Object>> {
    let kind = state
        .kinds
        .get(&key.type_ref)
        .cloned()
        .ok_or_else(|| unknown_kind(&key.type_ref))?;
    let namespace = if kind.info.namespaced {
        key.namespace.as_deref().unwrap_or("")
    } else {
        ""
    };
    if let Patch::Apply(body) = patch {
        return apply::apply(state, &kind, namespace, &key.name, body, params);
    }
    let old = state
        .lookup(kind.slot, namespace, &key.name)
        .cloned()
        .ok_or_else(|| not_found(&kind.info, &key.name))?;
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
            json_patch::patch(&mut doc, &ops).map_err(|e| StoreError::Invalid {
                message: format!("the server rejected our request due to an error in our request: {e}"),
                causes: vec![StatusCause::new("FieldValueInvalid", "patch", e.to_string())],
            })?;
        }
        Patch::Apply(_) => {}
    }
    let new =
        Object::from_value(doc).map_err(|e| StoreError::bad_request(format!("patched object is invalid: {e}")))?;
    let new = check_identity(&kind, namespace, &key.name, new)?;
    let manager = Some(
        params
            .field_manager
            .as_deref()
            .unwrap_or(crate::update::UNNAMED_MANAGER),
    );
    update_main(state, &kind, &old, new, RvRule::Unconditional, manager, params.dry_run)
}

/// The patched (or applied) object must still be the object the request names.
pub(crate) fn check_identity(kind: &KindSpec, namespace: &str, name: &str, mut new: Object) -> StoreResult<Object> {
    let want = &kind.info.type_ref;
    let got = new.type_ref();
    if got.kind != want.kind || got.group() != want.group() {
        return Err(StoreError::bad_request(format!(
            "the kind of the object ({got}) does not match the kind on the request ({want})"
        )));
    }
    if new.name().is_empty() {
        new.metadata.name = Some(name.to_owned());
    } else if new.name() != name {
        return Err(StoreError::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            new.name()
        )));
    }
    if kind.info.namespaced {
        match new.metadata.namespace.as_deref() {
            None | Some("") => new.metadata.namespace = Some(namespace.to_owned()),
            Some(ns) if ns != namespace => {
                return Err(StoreError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            Some(_) => {}
        }
    } else {
        new.metadata.namespace = None;
    }
    Ok(new)
}
