//! What a pure operator's reconcile reuses from the parent's last one
//! ([`super::DynamicOperator::is_pure`]).
//!
//! After each reconcile of a pure operator's parent whose `desired` succeeded without reading
//! the clock or an unsynced kind, the driver keeps what `desired` read and built: the parent's
//! resourceVersion as the reconcile left it (after its own finalizer and status writes), the
//! resourceVersion each [`Context`] lookup found, and the desired set's [`Skeleton`]. When that
//! reconcile also converged (every child unchanged and none failing, every group ready, no
//! owned kind unlisted or unservable, not paused, the status written or already equal), it
//! also keeps the uid and resourceVersion of each observed child and the conditions.
//!
//! The next reconcile of the parent compares them with the cache:
//! - parent, lookups and children all unchanged (and every kind involved still synced): the
//!   reconcile is skipped ([`Reused::Everything`]). It would call `desired` and `status`
//!   with the same inputs as the last one, so it would plan the same all-unchanged plan,
//!   compute the same conditions (transition times are kept for unchanged conditions) and
//!   find the status equal to the one written: no write, no new event;
//! - parent and lookups unchanged, children changed (a workload's status, a manual edit):
//!   `desired` would return the same set, so its skeleton is planned instead
//!   ([`Reused::Desired`]). When every child is verified unchanged that plan is the full
//!   one's; otherwise the driver calls `desired` and plans in full after all;
//! - anything else: a full reconcile.
//!
//! [`Context`]: super::Context

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::{DynamicOperator, ReconcileReport, Reconciler};
use crate::action::Action;
use crate::builder::Skeleton;
use crate::model::{Object, ObjectRef};

/// How much of a reconcile was reused from the parent's last one (a pure operator's only,
/// see [`super::DynamicOperator::is_pure`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reused {
    /// Nothing: `desired` was called and the plan made in full.
    #[default]
    Nothing,
    /// The desired set: `desired`'s inputs were unchanged and every child was verified
    /// unchanged, so `desired` was not called. The plan's desired objects carry only their
    /// identity and desired hash.
    Desired,
    /// Everything: nothing `desired` or `status` reads changed since the last converged
    /// reconcile, whose conditions the report repeats. Nothing was computed or written.
    Everything,
}

impl Reused {
    /// The label value of `operator_runtime_reconciles_reused_total` (`nothing`, `desired`,
    /// `everything`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nothing => "nothing",
            Self::Desired => "desired",
            Self::Everything => "everything",
        }
    }
}

/// What one reconcile's `desired` read and built, kept for the next one.
#[derive(Debug)]
pub(super) struct Kept {
    /// The parent's resourceVersion as `desired` saw it; replaced by the version of the
    /// reconcile's own last write of the parent, if any.
    pub parent_version: String,
    /// Each lookup through the context, with the resourceVersion found (None: absent).
    pub lookups: Vec<(ObjectRef, Option<String>)>,
    /// The desired set.
    pub skeleton: Skeleton,
    /// Set when the reconcile converged.
    pub converged: Option<Converged>,
}

/// What a converged reconcile observed and concluded.
#[derive(Debug)]
pub(super) struct Converged {
    /// [`versions`] of the observed children.
    pub children: Vec<u8>,
    /// The conditions it computed, repeated by a skipped reconcile.
    pub conditions: Vec<(String, bool, String, String)>,
}

/// What the next reconcile of a parent can reuse.
pub(super) enum Reuse {
    Nothing,
    /// The kept desired set, with the lookups that built it.
    Desired(Skeleton, Vec<(ObjectRef, Option<String>)>),
    /// The whole reconcile: its report.
    Everything(Box<ReconcileReport>),
}

/// Per parent, what its last reconcile kept.
#[derive(Debug, Default)]
pub(super) struct KeptInputs {
    parents: Mutex<HashMap<ObjectRef, Kept>>,
}

impl KeptInputs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ObjectRef, Kept>> {
        self.parents.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Forgets `parent` (it is gone or terminating).
    pub fn forget(&self, parent: &ObjectRef) {
        self.lock().remove(parent);
    }

    /// Keeps `kept` for `parent`, whose resourceVersion is now `written` when the reconcile
    /// wrote the parent.
    pub fn keep(&self, parent: &ObjectRef, mut kept: Kept, written: Option<&str>) {
        if let Some(rv) = written {
            rv.clone_into(&mut kept.parent_version);
        }
        self.lock().insert(parent.clone(), kept);
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
    /// What the reconcile of `parent` can reuse from the last one. A desired-set reuse takes
    /// the record (the reconcile keeps a new one); any other answer but a skip drops it.
    pub(super) fn reusable(&self, parent: &Object) -> Reuse {
        let key = parent.object_ref();
        let mut parents = self.kept.lock();
        let Some(kept) = parents.get(&key) else {
            return Reuse::Nothing;
        };
        if !self.desired_inputs_unchanged(parent, kept) {
            parents.remove(&key);
            return Reuse::Nothing;
        }
        if let Some(converged) = &kept.converged
            && self.children_unchanged(parent, converged)
        {
            return Reuse::Everything(Box::new(ReconcileReport {
                conditions: converged.conditions.clone(),
                action: Some(Action::await_change()),
                reused: Reused::Everything,
                ..ReconcileReport::default()
            }));
        }
        match parents.remove(&key) {
            Some(kept) => Reuse::Desired(kept.skeleton, kept.lookups),
            None => Reuse::Nothing,
        }
    }

    /// The parent at the version the last reconcile left, every lookup at the version it
    /// found, and the kinds looked up still synced.
    fn desired_inputs_unchanged(&self, parent: &Object, kept: &Kept) -> bool {
        let cache = &self.cache;
        parent.resource_version() == Some(kept.parent_version.as_str())
            && kept.lookups.iter().all(|(key, version)| {
                let found = cache.get(key);
                cache.has_synced(&key.type_ref)
                    && found.as_ref().map(|o| o.resource_version().unwrap_or_default()) == version.as_deref()
            })
    }

    /// Every owned kind synced and the children the cache lists as the parent's exactly the
    /// ones the converged reconcile observed, at the same versions.
    fn children_unchanged(&self, parent: &Object, converged: &Converged) -> bool {
        let cache = &self.cache;
        self.operator
            .ownership()
            .owned_kinds()
            .iter()
            .all(|k| cache.has_synced(&k.type_ref))
            && versions(&cache.owned_by(parent.uid().unwrap_or_default())) == converged.children
    }
}
