//! Why a key was queued, for logs and tracing spans.

use std::fmt;

use crate::model::ObjectRef;

/// Why the runner reconciles a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReconcileReason {
    /// The cache became synced (or leadership was gained): every parent is reconciled once.
    Initial,
    /// The parent itself changed.
    ObjectChanged,
    /// An owned or related object changed.
    RelatedChanged(ObjectRef),
    /// The previous reconcile asked to run again after a delay.
    RequeueAfter,
    /// The previous reconcile failed; this is the retry after backoff.
    ErrorBackoff,
    /// The periodic resync.
    Resync,
}

impl fmt::Display for ReconcileReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Initial => f.write_str("initial"),
            Self::ObjectChanged => f.write_str("object changed"),
            Self::RelatedChanged(related) => write!(f, "related object changed: {related}"),
            Self::RequeueAfter => f.write_str("requeue after"),
            Self::ErrorBackoff => f.write_str("error backoff"),
            Self::Resync => f.write_str("resync"),
        }
    }
}
