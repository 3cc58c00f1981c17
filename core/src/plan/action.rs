//! What the planner decided for one child.

use std::sync::Arc;

use super::diff::FieldChange;
use crate::model::{Object, ObjectRef, OwnerReference};

/// Why an update is needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UpdateReason {
    /// The desired hash differs from the one on the live object: the operator wants something
    /// new (event reason `Updated`).
    HashChanged,
    /// Same hash, but a field the operator sets was changed by someone else (event reason
    /// `DriftRepaired`).
    Drift,
    /// The object has no controller and the policy adopts it: the update adds our
    /// ownerReference.
    Adopt,
}

/// Why a child waits.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum WaitReason {
    /// A rollout group ahead of this one is not ready or is itself changing.
    GroupNotReady {
        /// The first group that holds the rollout.
        group: String,
    },
    /// The live object is being deleted; it will be created again once it is gone.
    Terminating,
}

/// Why a child cannot be brought to its desired state by this operator. The driver reports
/// it as a Warning event and a Degraded condition and does not retry it in a loop: only a
/// change of the desired state, the policy or the object clears it.
#[derive(Clone, Debug, PartialEq)]
pub enum BlockReason {
    /// An immutable field changed and the policy does not allow recreating this kind.
    ImmutableChange {
        /// The immutable fields that differ.
        changes: Vec<FieldChange>,
    },
    /// An object with the desired name is controlled by another owner.
    OwnedByOther {
        /// Its controller ownerReference.
        owner: OwnerReference,
    },
    /// An object with the desired name has no controller and the policy does not adopt.
    NotOwned,
    /// The child's kind could not be listed, so its live state is unknown.
    KindNotListed,
}

/// The decision for one child.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// The child does not exist: create it.
    Create,
    /// The child exists and differs: write the desired object.
    Update {
        /// Hash change, drift or adoption.
        reason: UpdateReason,
        /// The fields that differ; a field the desired object dropped is named (to `<unset>`)
        /// when the live object carries our field manager's Apply entry, else the list can be
        /// empty with [`UpdateReason::HashChanged`].
        changes: Vec<FieldChange>,
    },
    /// An immutable field changed and the policy allows it: delete, then create.
    Recreate {
        /// The immutable fields that differ.
        immutable: Vec<FieldChange>,
        /// Every field that differs.
        changes: Vec<FieldChange>,
    },
    /// The child is an orphan of this parent (ownership labels, controller ownerReference to
    /// this parent's uid, not desired): delete it.
    Delete,
    /// The child is as desired.
    Unchanged,
    /// The child must wait; `pending` is what will be done when it may proceed.
    Wait {
        /// What it waits for.
        reason: WaitReason,
        /// The action held back.
        pending: Box<Action>,
    },
    /// The child cannot be converged; see [`BlockReason`].
    Blocked {
        /// Why.
        reason: BlockReason,
    },
}

impl Action {
    /// True for actions that write to the API server (create, update, recreate, delete).
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Action::Create | Action::Update { .. } | Action::Recreate { .. } | Action::Delete
        )
    }

    /// Short verb for logs: `create`, `update`, `recreate`, `delete`, `unchanged`, `wait`, `blocked`.
    pub fn verb(&self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update { .. } => "update",
            Action::Recreate { .. } => "recreate",
            Action::Delete => "delete",
            Action::Unchanged => "unchanged",
            Action::Wait { .. } => "wait",
            Action::Blocked { .. } => "blocked",
        }
    }
}

/// One line of a plan.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanItem {
    /// The child (the desired object's reference, or the orphan's).
    pub key: ObjectRef,
    /// Its rollout group; None for orphans.
    pub group: Option<String>,
    /// The finished desired object (None for orphans).
    pub desired: Option<Arc<Object>>,
    /// The observed object, if one exists (its uid and resourceVersion are the preconditions
    /// for update and delete).
    pub live: Option<Arc<Object>>,
    /// The decision.
    pub action: Action,
}

/// How many children get each action.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PlanCounts {
    /// Creates.
    pub creates: usize,
    /// Updates.
    pub updates: usize,
    /// Recreates.
    pub recreates: usize,
    /// Deletes.
    pub deletes: usize,
    /// Unchanged children.
    pub unchanged: usize,
    /// Children waiting (rollout order or termination).
    pub waiting: usize,
    /// Blocked children.
    pub blocked: usize,
}

impl PlanCounts {
    /// Number of writes the plan asks for now (a recreate counts once).
    pub fn writes(&self) -> usize {
        self.creates + self.updates + self.recreates + self.deletes
    }
}
