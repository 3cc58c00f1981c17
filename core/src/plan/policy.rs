//! What the planner may do (operator-wide policy) and what it knows about this reconcile
//! beyond the objects (per-reconcile inputs).

use std::collections::{BTreeMap, BTreeSet};

use crate::builder::same_kind;
use crate::model::TypeRef;

/// Operator-wide planning policy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanPolicy {
    recreate: Vec<TypeRef>,
    adopt_unowned: bool,
}

impl PlanPolicy {
    /// The conservative default: never recreate, never adopt.
    pub fn new() -> Self {
        Self::default()
    }

    /// Allows deleting and recreating objects of `kind` (any version) when an immutable field
    /// changed. Without it such a change is [`BlockReason::ImmutableChange`](super::BlockReason).
    /// Recreating a StatefulSet restarts its pods; recreating a PVC loses its data, so opt in
    /// per kind, knowingly.
    pub fn allow_recreate(mut self, kind: TypeRef) -> Self {
        if !self.recreate_allowed(&kind) {
            self.recreate.push(kind);
        }
        self
    }

    /// Lets the planner take over an existing object with the desired name that has no
    /// controller ownerReference (an Update adds ours). Objects controlled by another owner are
    /// never taken over.
    pub fn adopt_unowned(mut self, adopt: bool) -> Self {
        self.adopt_unowned = adopt;
        self
    }

    /// True if objects of `kind` may be recreated.
    pub fn recreate_allowed(&self, kind: &TypeRef) -> bool {
        self.recreate.iter().any(|k| same_kind(k, kind))
    }

    /// True if unowned objects may be adopted.
    pub fn adopts_unowned(&self) -> bool {
        self.adopt_unowned
    }
}

/// Per-reconcile facts the planner cannot see in the objects themselves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanInputs {
    /// Readiness of each rollout group (computed by the caller from workload status, e.g. by
    /// the rollout module). `None` counts every group as ready; a group missing from the map
    /// counts as not ready, except groups without children.
    pub group_ready: Option<BTreeMap<String, bool>>,
    /// Owned kinds that could not be listed (typically Forbidden). Their desired children are
    /// [`Blocked`](super::Action::Blocked) with [`BlockReason::KindNotListed`](super::BlockReason),
    /// and they are not scanned for orphans.
    pub unlisted_kinds: BTreeSet<TypeRef>,
    /// The field manager the operator applies with. When set, a field that manager's `Apply`
    /// entry in the live object's managedFields still owns but the desired object no longer
    /// sets is reported as a change to `<unset>` (server-side apply removes it on the next
    /// apply), so an Update always names its paths.
    pub field_manager: Option<String>,
}

impl PlanInputs {
    /// Inputs with a readiness map.
    pub fn with_readiness(group_ready: BTreeMap<String, bool>) -> Self {
        Self {
            group_ready: Some(group_ready),
            ..Self::default()
        }
    }

    /// Sets the field manager (builder style); see [`PlanInputs::field_manager`].
    pub fn field_manager(mut self, manager: impl Into<String>) -> Self {
        self.field_manager = Some(manager.into());
        self
    }

    /// Marks `kind` as not listed (builder style).
    pub fn unlisted(mut self, kind: TypeRef) -> Self {
        self.unlisted_kinds.insert(kind);
        self
    }

    pub(crate) fn is_ready(&self, group: &str) -> bool {
        self.group_ready
            .as_ref()
            .is_none_or(|m| m.get(group).copied().unwrap_or(false))
    }

    pub(crate) fn is_unlisted(&self, kind: &TypeRef) -> bool {
        self.unlisted_kinds.iter().any(|k| same_kind(k, kind))
    }
}
