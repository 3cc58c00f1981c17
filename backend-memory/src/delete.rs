//! Delete: preconditions, propagation finalizers, graceful deletion of objects with
//! finalizers (deletionTimestamp set, still readable, Modified), and immediate removal.

use std::sync::Arc;

use operator_runtime_core::store::{DeleteOutcome, DeleteParams, Propagation, StoreResult};
use operator_runtime_core::{Object, ObjectRef};
use serde_json::json;

use crate::errors::{not_found, precondition, unknown_kind};
use crate::kinds::{CRD_SLOT, KindSpec, NAMESPACE_SLOT};
use crate::meta::now_seconds;
use crate::state::State;
use crate::{crd, gc};

/// Removes an object now (no finalizers left) and runs the kind-specific clean-up.
pub(crate) fn remove_now(state: &mut State, kind: &KindSpec, object: &Object) -> Option<Arc<Object>> {
    let gone = state.commit_remove(kind.slot, object.namespace().unwrap_or(""), object.name())?;
    if kind.slot == CRD_SLOT {
        crd::removed(state, &gone);
    }
    Some(gone)
}

/// DELETE.
pub(crate) fn delete(state: &mut State, key: &ObjectRef, params: &DeleteParams) -> StoreResult<DeleteOutcome> {
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
    let old = state
        .lookup(kind.slot, namespace, &key.name)
        .cloned()
        .ok_or_else(|| not_found(&kind.info, &key.name))?;
    if let Some(pre) = &params.preconditions {
        if let Some(uid) = &pre.uid {
            let actual = old.uid().unwrap_or("");
            if uid != actual {
                return Err(precondition(&kind.info, &key.name, "UID", uid, actual));
            }
        }
        if let Some(rv) = &pre.resource_version {
            let actual = old.resource_version().unwrap_or("");
            if rv != actual {
                return Err(precondition(&kind.info, &key.name, "ResourceVersion", rv, actual));
            }
        }
    }
    if old.is_terminating() {
        // Already being deleted: nothing changes, same resourceVersion.
        return Ok(DeleteOutcome::Pending(old));
    }

    let mut new = Object::clone(&old);
    let finalizer = match params.propagation {
        Some(Propagation::Foreground) => Some(gc::FOREGROUND_FINALIZER),
        Some(Propagation::Orphan) => Some(gc::ORPHAN_FINALIZER),
        Some(Propagation::Background) | None => None,
    };
    if let Some(f) = finalizer
        && !new.has_finalizer(f)
    {
        new.metadata.finalizers.get_or_insert_with(Vec::new).push(f.to_owned());
    }
    let graceful = kind.slot == NAMESPACE_SLOT || new.metadata.finalizers.as_ref().is_some_and(|f| !f.is_empty());
    if !graceful {
        if params.dry_run {
            return Ok(DeleteOutcome::Deleted(old));
        }
        let gone = remove_now(state, &kind, &old).unwrap_or(old);
        return Ok(DeleteOutcome::Deleted(gone));
    }
    // markAsDeleting
    new.metadata.deletion_timestamp = Some(now_seconds(state.clock.as_ref()));
    new.metadata.deletion_grace_period_seconds = Some(0);
    if let Some(g) = new.metadata.generation.filter(|g| *g > 0) {
        new.metadata.generation = Some(g + 1);
    }
    if kind.slot == NAMESPACE_SLOT {
        let status = new.body.entry("status").or_insert_with(|| json!({}));
        if let Some(map) = status.as_object_mut() {
            map.insert("phase".into(), json!("Terminating"));
        }
    }
    if params.dry_run {
        return Ok(DeleteOutcome::Pending(Arc::new(new)));
    }
    let stored = state.commit_put(kind.slot, new);
    if let Some(uid) = stored.uid() {
        state.gc_owners.insert(uid.to_owned());
    }
    Ok(DeleteOutcome::Pending(stored))
}
