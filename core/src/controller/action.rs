//! What a reconcile asks the runner to do next.

use std::time::Duration;

/// The successful result of a reconcile, as in kube-runtime: run again after a delay, or only
/// when something changes (or at the next periodic resync).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Action {
    /// Run this key again after this long, even if nothing changes.
    pub requeue_after: Option<Duration>,
}

impl Action {
    /// Run again after `after`.
    pub fn requeue(after: Duration) -> Self {
        Self {
            requeue_after: Some(after),
        }
    }

    /// Run again only when the object or something related changes (or on resync).
    pub fn await_change() -> Self {
        Self { requeue_after: None }
    }
}
