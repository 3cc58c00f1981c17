//! What to do after a failed write: the operator's [`super::Operator::error_policy`] hook,
//! with [`ErrorPolicy::default_for`] as the default.

use crate::error::StoreError;

/// How the driver handles one failed write (to a child, the finalizer or the status).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorPolicy {
    /// Retry with the runner's backoff (throttling, unavailability, timeouts, lasting
    /// conflicts, server errors).
    Retry,
    /// Report once (a Degraded condition and one Warning event) and wait until something
    /// changes: the parent's spec, a child, or the runner's periodic resync.
    WaitForChange,
}

impl ErrorPolicy {
    /// The default: [`StoreError::is_retryable`] errors and Conflicts (which outlasted the
    /// driver's re-reads) are retried; everything else waits for a change: the
    /// [`StoreError::is_permanent`] ones, and NotFound / AlreadyExists / Expired, which the
    /// next watch event (the namespace, the object, the relist) resolves.
    pub fn default_for(error: &StoreError) -> Self {
        if error.is_retryable() || matches!(error, StoreError::Conflict { .. }) {
            Self::Retry
        } else {
            Self::WaitForChange
        }
    }
}
