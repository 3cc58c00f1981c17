//! The delete pipeline (`Store.Delete`): preconditions, propagation finalizers, graceful
//! deletion of objects with finalizers (deletionTimestamp set, still readable, Modified), and
//! immediate removal.

use std::sync::Arc;

use operator_runtime_core::Object;
use operator_runtime_core::ObjectRef;
use operator_runtime_core::store::{DeleteOutcome, DeleteParams, Propagation, StoreResult};

use super::{kind_of, remove_now, request_namespace, stored};
use crate::errors::precondition;
use crate::meta::now_seconds;
use crate::state::State;

/// Finalizer of foreground deletion.
pub(crate) const FOREGROUND_FINALIZER: &str = "foregroundDeletion";
/// Finalizer of orphaning deletion.
pub(crate) const ORPHAN_FINALIZER: &str = "orphan";

/// Deletes the object `key` names: used by the DELETE verb and by the controllers.
pub(crate) fn delete(state: &mut State, key: &ObjectRef, params: &DeleteParams) -> StoreResult<DeleteOutcome> {
    let kind = kind_of(state, &key.type_ref)?;
    let namespace = request_namespace(&kind, key.namespace.as_deref());
    let old = stored(state, &kind, namespace, &key.name)?;
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
        Some(Propagation::Foreground) => Some(FOREGROUND_FINALIZER),
        Some(Propagation::Orphan) => Some(ORPHAN_FINALIZER),
        Some(Propagation::Background) | None => None,
    };
    if let Some(f) = finalizer
        && !new.has_finalizer(f)
    {
        new.metadata.finalizers.get_or_insert_with(Vec::new).push(f.to_owned());
    }
    let graceful =
        kind.strategy.hooks.deletes_gracefully() || new.metadata.finalizers.as_ref().is_some_and(|f| !f.is_empty());
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
    kind.strategy.hooks.prepare_for_delete(&mut new);
    if params.dry_run {
        return Ok(DeleteOutcome::Pending(Arc::new(new)));
    }
    let stored = state.commit_put(kind.slot, new);
    if let Some(uid) = stored.uid() {
        state.gc_owners.insert(uid.to_owned());
    }
    Ok(DeleteOutcome::Pending(stored))
}
