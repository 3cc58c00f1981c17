//! The delete pipeline (`Store.Delete`): preconditions, the garbage collector's finalizers
//! from the propagation policy, graceful deletion of objects with finalizers (deletionTimestamp
//! set, still readable, Modified), and immediate removal.

use std::sync::Arc;

use operator_runtime_core::Object;
use operator_runtime_core::ObjectRef;
use operator_runtime_core::store::{DeleteOutcome, DeleteParams, Propagation, StoreResult};

use super::{kind_of, remove_now, request_namespace, stored};
use crate::errors::precondition;
use crate::kinds::KindSpec;
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
    if kind.strategy.hooks.deletes_gracefully() {
        return delete_gracefully(state, &kind, old, params);
    }

    // `Store.Delete` for kinds without a graceful-delete strategy: the propagation policy
    // rewrites the garbage collector's finalizers (even on an object already terminating), and
    // the object waits while any finalizer is left.
    let gc_finalizers = finalizers_for_propagation(&old, params.propagation, kind.strategy.orphans_by_default);
    let pending = old.metadata.finalizers.as_ref().is_some_and(|f| !f.is_empty());
    if pending || gc_finalizers.is_some() {
        let mut new = Object::clone(&old);
        if let Some(finalizers) = gc_finalizers {
            new.metadata.finalizers = (!finalizers.is_empty()).then_some(finalizers);
        }
        if new.metadata.finalizers.as_ref().is_some_and(|f| !f.is_empty()) {
            let period = if old.is_terminating() {
                0
            } else {
                kind.strategy.hooks.grace_period(&old).unwrap_or(0)
            };
            mark_as_deleting(state, &mut new);
            if period > 0 {
                set_grace_period(state, &mut new, period);
            }
            kind.strategy.hooks.prepare_for_delete(&mut new);
            return Ok(DeleteOutcome::Pending(commit_pending(
                state,
                &kind,
                &old,
                new,
                params.dry_run,
            )));
        }
        // errDeleteNow: the policy removed the last finalizer; the object goes at once.
    }
    if let Some(period) = kind.strategy.hooks.grace_period(&old) {
        // `BeforeDelete` marks the object (an update watchers see) before it goes.
        let mut marked = Object::clone(&old);
        mark_as_deleting(state, &mut marked);
        if period > 0 {
            // A pod on a node waits for its kubelet.
            set_grace_period(state, &mut marked, period);
            return Ok(DeleteOutcome::Pending(commit_pending(
                state,
                &kind,
                &old,
                marked,
                params.dry_run,
            )));
        }
        if params.dry_run {
            return Ok(DeleteOutcome::Deleted(deleted_answer(&kind, Arc::new(marked))));
        }
        let marked = commit_pending(state, &kind, &old, marked, false);
        let gone = remove_now(state, &kind, &marked).unwrap_or(marked);
        return Ok(DeleteOutcome::Deleted(deleted_answer(&kind, gone)));
    }
    if params.dry_run {
        return Ok(DeleteOutcome::Deleted(deleted_answer(&kind, old)));
    }
    let gone = remove_now(state, &kind, &old).unwrap_or(old);
    Ok(DeleteOutcome::Deleted(deleted_answer(&kind, gone)))
}

/// A Namespace's delete: it always goes through the terminating state (the namespace
/// controller empties it first), and a second delete changes nothing.
fn delete_gracefully(
    state: &mut State,
    kind: &Arc<KindSpec>,
    old: Arc<Object>,
    params: &DeleteParams,
) -> StoreResult<DeleteOutcome> {
    if old.is_terminating() {
        return Ok(DeleteOutcome::Pending(old));
    }
    let mut new = Object::clone(&old);
    if let Some(finalizers) = finalizers_for_propagation(&old, params.propagation, kind.strategy.orphans_by_default) {
        new.metadata.finalizers = (!finalizers.is_empty()).then_some(finalizers);
    }
    mark_as_deleting(state, &mut new);
    kind.strategy.hooks.prepare_for_delete(&mut new);
    Ok(DeleteOutcome::Pending(commit_pending(
        state,
        kind,
        &old,
        new,
        params.dry_run,
    )))
}

/// Stores the terminating state (unless dry-run or unchanged) and returns it.
fn commit_pending(
    state: &mut State,
    kind: &Arc<KindSpec>,
    old: &Arc<Object>,
    new: Object,
    dry_run: bool,
) -> Arc<Object> {
    if new == **old {
        return Arc::clone(old);
    }
    if dry_run {
        return Arc::new(new);
    }
    let stored = state.commit_put(kind.slot, new);
    if let Some(uid) = stored.uid() {
        state.gc_owners.insert(uid.to_owned());
        if stored.has_finalizer(FOREGROUND_FINALIZER) && !old.has_finalizer(FOREGROUND_FINALIZER) {
            state.gc_waiting_started.insert(uid.to_owned());
        }
    }
    stored
}

/// `markAsDeleting`: the generation moves once when deletion starts, the first deletion
/// timestamp stays, and the grace period is zero.
fn mark_as_deleting(state: &State, object: &mut Object) {
    if object.metadata.deletion_timestamp.is_none() {
        if let Some(g) = object.metadata.generation.filter(|g| *g > 0) {
            object.metadata.generation = Some(g + 1);
        }
        object.metadata.deletion_timestamp = Some(now_seconds(state.clock.as_ref()));
    }
    object.metadata.deletion_grace_period_seconds = Some(0);
}

/// A graceful deletion's marks: the deletion timestamp is the end of the grace period.
fn set_grace_period(state: &State, object: &mut Object, period: i64) {
    let now = now_seconds(state.clock.as_ref()).0;
    let end =
        operator_runtime_core::clock::Timestamp::from_second(now.as_second().saturating_add(period)).unwrap_or(now);
    object.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(end));
    object.metadata.deletion_grace_period_seconds = Some(period);
}

/// `deletionFinalizersForGarbageCollection`: the finalizers the object gets from the
/// propagation policy, or None when they would not change. An explicit policy removes the
/// other garbage-collector finalizer (Background removes both); without one the object's own
/// `orphan` / `foregroundDeletion` finalizer stands, and with neither the kind's default
/// (`orphans_by_default`) decides. The other finalizers keep their order and the garbage
/// collector's come last.
fn finalizers_for_propagation(
    object: &Object,
    propagation: Option<Propagation>,
    orphans_by_default: bool,
) -> Option<Vec<String>> {
    let current = object.metadata.finalizers.as_deref().unwrap_or_default();
    let has = |f: &str| current.iter().any(|c| c == f);
    // The first GC finalizer in the list decides when no policy is given.
    let own = current
        .iter()
        .find(|f| *f == ORPHAN_FINALIZER || *f == FOREGROUND_FINALIZER)
        .map(String::as_str);
    let (orphan, foreground) = match propagation {
        Some(Propagation::Orphan) => (true, false),
        Some(Propagation::Foreground) => (false, true),
        Some(Propagation::Background) => (false, false),
        None => match own {
            Some(f) => (f == ORPHAN_FINALIZER, f == FOREGROUND_FINALIZER),
            None => (orphans_by_default, false),
        },
    };
    let mut out: Vec<String> = current
        .iter()
        .filter(|f| *f != ORPHAN_FINALIZER && *f != FOREGROUND_FINALIZER)
        .cloned()
        .collect();
    if orphan {
        out.push(ORPHAN_FINALIZER.to_owned());
    }
    if foreground {
        out.push(FOREGROUND_FINALIZER.to_owned());
    }
    // Compared as sets, as the server does: a reordering alone is no change.
    let same = out.iter().all(|f| has(f)) && current.iter().all(|f| out.contains(f));
    (!same).then_some(out)
}

/// What an immediate delete answers: the object for kinds with `ReturnDeletedObject`, else
/// (the server's `Status`) only its identity: type, namespace, name and uid.
fn deleted_answer(kind: &KindSpec, object: Arc<Object>) -> Arc<Object> {
    if kind.strategy.returns_deleted_object {
        return object;
    }
    let mut identity = Object::new(&kind.info.type_ref, object.namespace(), object.name());
    identity.metadata.uid.clone_from(&object.metadata.uid);
    Arc::new(identity)
}

#[cfg(test)]
mod tests {
    use super::*;
    use operator_runtime_core::TypeRef;

    fn with_finalizers(finalizers: &[&str]) -> Object {
        let mut o = Object::new(&TypeRef::new("v1", "ConfigMap"), Some("ns"), "cm");
        o.metadata.finalizers = Some(finalizers.iter().map(|f| (*f).to_owned()).collect());
        o
    }

    #[test]
    fn an_explicit_policy_replaces_the_garbage_collector_finalizers() {
        let o = with_finalizers(&["orphan", "example.com/keep"]);
        assert_eq!(
            finalizers_for_propagation(&o, Some(Propagation::Foreground), false),
            Some(vec!["example.com/keep".to_owned(), "foregroundDeletion".to_owned()])
        );
        assert_eq!(
            finalizers_for_propagation(&o, Some(Propagation::Background), false),
            Some(vec!["example.com/keep".to_owned()])
        );
        // Same set, other order: no change.
        assert_eq!(finalizers_for_propagation(&o, Some(Propagation::Orphan), false), None);
        assert_eq!(finalizers_for_propagation(&o, None, false), None);
        let plain = with_finalizers(&[]);
        assert_eq!(finalizers_for_propagation(&plain, None, false), None);
        assert_eq!(
            finalizers_for_propagation(&plain, Some(Propagation::Orphan), false),
            Some(vec!["orphan".to_owned()])
        );
    }

    #[test]
    fn a_kind_that_orphans_by_default_does_so_only_without_a_policy_or_gc_finalizer() {
        let plain = with_finalizers(&["example.com/keep"]);
        assert_eq!(
            finalizers_for_propagation(&plain, None, true),
            Some(vec!["example.com/keep".to_owned(), "orphan".to_owned()])
        );
        assert_eq!(
            finalizers_for_propagation(&plain, Some(Propagation::Background), true),
            None
        );
        let foreground = with_finalizers(&["foregroundDeletion"]);
        assert_eq!(finalizers_for_propagation(&foreground, None, true), None);
    }
}
