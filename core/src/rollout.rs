//! Readiness of workloads, for ordered rollouts: a pure function of the observed object.
//!
//! A StatefulSet or Deployment is ready once its controller has observed the current
//! generation and its pods have caught up with the spec; every other kind is ready as soon as
//! it exists. The rules follow `kubectl rollout status`, with these additions:
//! - StatefulSet: `OnDelete` never updates pods by itself, so only the ready count and the
//!   observed generation matter; a `RollingUpdate` partition only requires the pods at ordinals
//!   `>= partition` to be updated (and the revisions only converge without a partition);
//!   `availableReplicas` (which honours `minReadySeconds`) must reach `spec.replicas`; a
//!   scale-down is finished when `status.replicas` is back to `spec.replicas`.
//! - Deployment: ready, updated and available replicas against `spec.replicas`; the
//!   `Progressing` condition with reason `ProgressDeadlineExceeded` means the rollout failed.
//!
//! A status field of the wrong JSON type cannot come from a real controller; it makes the
//! object [`Readiness::Failed`] with a reason naming the field, never a panic.

mod deployment;
mod fields;
mod stateful_set;

#[cfg(test)]
mod tests;

use std::fmt;

use crate::model::{Object, ObjectRef};

/// Whether a workload has finished rolling out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Readiness {
    /// Rolled out: every pod is updated, ready and available.
    Ready,
    /// Still rolling out (or not yet observed by its controller).
    Progressing {
        /// What is being waited for, human-readable.
        reason: String,
    },
    /// The rollout will not finish without intervention.
    Failed {
        /// Why, human-readable.
        reason: String,
    },
}

impl Readiness {
    /// A progressing state with this reason.
    pub fn progressing(reason: impl Into<String>) -> Self {
        Self::Progressing { reason: reason.into() }
    }

    /// A failed state with this reason.
    pub fn failed(reason: impl Into<String>) -> Self {
        Self::Failed { reason: reason.into() }
    }

    /// True when [`Readiness::Ready`].
    pub fn is_ready(&self) -> bool {
        matches!(self, Self::Ready)
    }

    /// True when [`Readiness::Failed`].
    pub fn is_failed(&self) -> bool {
        matches!(self, Self::Failed { .. })
    }

    /// The reason, when not ready.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Ready => None,
            Self::Progressing { reason } | Self::Failed { reason } => Some(reason),
        }
    }

    /// The readiness of a group: the first failure, else the first progressing member, else
    /// ready (an empty group is ready).
    pub fn all(members: impl IntoIterator<Item = Readiness>) -> Readiness {
        let mut progressing = None;
        for member in members {
            match member {
                Readiness::Failed { .. } => return member,
                Readiness::Progressing { .. } if progressing.is_none() => progressing = Some(member),
                _ => {}
            }
        }
        progressing.unwrap_or(Readiness::Ready)
    }
}

impl fmt::Display for Readiness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ready => f.write_str("ready"),
            Self::Progressing { reason } => write!(f, "progressing: {reason}"),
            Self::Failed { reason } => write!(f, "failed: {reason}"),
        }
    }
}

/// The readiness of an observed object (see the module docs for the rules per kind).
pub fn readiness(object: &Object) -> Readiness {
    let type_ref = object.type_ref();
    match (type_ref.group(), object.kind.as_str()) {
        ("apps", "StatefulSet") => stateful_set::readiness(object),
        ("apps", "Deployment") => deployment::readiness(object),
        _ => Readiness::Ready,
    }
}

/// The readiness of a child that may not exist yet: one that is missing is progressing.
pub fn readiness_of(child: &ObjectRef, observed: Option<&Object>) -> Readiness {
    match observed {
        Some(object) => readiness(object),
        None => Readiness::progressing(format!("{child} not created yet")),
    }
}
