//! [`Action`]: what a reconcile asks the controller to do next, returned as a value.

use std::time::Duration;

/// The decision a reconcile returns: when to look at this parent again.
///
/// Like kube-runtime's `Action`: the controller performs it, the reconcile only decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Action {
    /// Reconcile again after this delay even if nothing changes; None waits for a change.
    pub requeue_after: Option<Duration>,
}

impl Action {
    /// Reconcile again after `after`.
    pub fn requeue(after: Duration) -> Self {
        Self {
            requeue_after: Some(after),
        }
    }

    /// Wait for the next change of the parent or one of its children.
    pub fn await_change() -> Self {
        Self { requeue_after: None }
    }
}
