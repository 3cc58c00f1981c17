//! Skipping a pure operator's reconcile whose inputs did not change
//! ([`super::DynamicOperator::is_pure`]).
//!
//! After a converged reconcile of a pure operator's parent (every child unchanged and none
//! failing, every group ready, no owned kind unlisted or unservable, not paused, the status
//! written or already equal, the clock not read), the driver keeps the versions of what that
//! reconcile read: the parent as the reconcile left it (after its own status write), the uid
//! and resourceVersion of each observed child, and the resourceVersion each [`Context`] lookup
//! found. The next reconcile of the parent compares them with the cache; when all are equal
//! and every kind involved is still synced, it returns the kept conditions and waits for a
//! change, without calling `desired` or planning. Any difference runs the reconcile in full,
//! which keeps a new record only if it converges again.
//!
//! Why a skip is exact: the full reconcile would call `desired` and `status` with the same
//! inputs as the last one (the runtime's status write changed only what a pure operator does
//! not read), so it would plan the same all-unchanged plan, compute the same conditions
//! (transition times are kept for unchanged conditions) and find the status equal to the one
//! written: no write, no new event.
//!
//! [`Context`]: super::Context

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::{DynamicOperator, ReconcileReport, Reconciler};
use crate::action::Action;
use crate::model::{Object, ObjectRef};

/// What a converged reconcile read, before the parent's version after its writes is known.
#[derive(Debug)]
pub(super) struct Candidate {
    /// The parent's resourceVersion as `desired` saw it.
    pub parent_version: String,
    /// [`versions`] of the observed children.
    pub children: Vec<u8>,
    /// Each lookup through the context, with the resourceVersion found (None: absent).
    pub lookups: Vec<(ObjectRef, Option<String>)>,
    /// The conditions the reconcile computed, returned again by a skipped one.
    pub conditions: Vec<(String, bool, String, String)>,
}

/// Per parent, the inputs of its last converged reconcile.
#[derive(Debug, Default)]
pub(super) struct Fixpoints {
    parents: Mutex<HashMap<ObjectRef, Candidate>>,
}

impl Fixpoints {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ObjectRef, Candidate>> {
        self.parents.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Forgets `parent` (it is gone, or a full reconcile of it runs).
    pub fn forget(&self, parent: &ObjectRef) {
        self.lock().remove(parent);
    }

    /// Keeps `candidate` for `parent`, whose resourceVersion is now `written` when the
    /// reconcile wrote it (its status).
    pub fn keep(&self, parent: &ObjectRef, mut candidate: Candidate, written: Option<&str>) {
        if let Some(rv) = written {
            rv.clone_into(&mut candidate.parent_version);
        }
        self.lock().insert(parent.clone(), candidate);
    }
}

/// The observed children's (uid, resourceVersion) pairs, sorted by uid, each string
/// length-prefixed: one buffer that compares equal exactly when the sets of versions do.
pub(super) fn versions(children: &[Arc<Object>]) -> Vec<u8> {
    let mut pairs: Vec<(&str, &str)> = children
        .iter()
        .map(|c| (c.uid().unwrap_or_default(), c.resource_version().unwrap_or_default()))
        .collect();
    pairs.sort_unstable();
    let mut out = Vec::with_capacity(pairs.iter().map(|(u, v)| u.len() + v.len() + 16).sum());
    for (uid, version) in pairs {
        for s in [uid, version] {
            out.extend_from_slice(&(s.len() as u64).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
    }
    out
}

impl<O: DynamicOperator> Reconciler<O> {
    /// The report of a skipped reconcile when `parent`'s inputs are the ones its last
    /// converged reconcile kept; None (and the record dropped) otherwise.
    pub(super) fn skip_if_unchanged(&self, parent: &Object) -> Option<ReconcileReport> {
        let key = parent.object_ref();
        let mut parents = self.fixpoints.lock();
        let kept = parents.get(&key)?;
        if self.inputs_unchanged(parent, kept) {
            return Some(ReconcileReport {
                conditions: kept.conditions.clone(),
                action: Some(Action::await_change()),
                skipped: true,
                ..ReconcileReport::default()
            });
        }
        parents.remove(&key);
        None
    }

    fn inputs_unchanged(&self, parent: &Object, kept: &Candidate) -> bool {
        let cache = &self.cache;
        parent.resource_version() == Some(kept.parent_version.as_str())
            && self
                .operator
                .ownership()
                .owned_kinds()
                .iter()
                .all(|k| cache.has_synced(&k.type_ref))
            && kept.lookups.iter().all(|(key, version)| {
                let found = cache.get(key);
                cache.has_synced(&key.type_ref)
                    && found.as_ref().map(|o| o.resource_version().unwrap_or_default()) == version.as_deref()
            })
            && versions(&cache.owned_by(parent.uid().unwrap_or_default())) == kept.children
    }
}
