//! Read-your-writes for the parent: after writing the parent (finalizer, status), a reconcile
//! waits, briefly, until the cache holds that write before it returns.
//!
//! Why: every parent write comes back as a watch event that queues the parent again. If the
//! reconcile returned before the cache saw its own write, the next reconcile could start from
//! the older parent (no finalizer, the old status), repeat an event and send a status write
//! that conflicts, and the write's event would queue yet another reconcile. Waiting folds the
//! write's event into the one follow-up reconcile the runner already owes.

use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;

use std::sync::PoisonError;

use super::{DynamicOperator, Reconciler};
use crate::model::{Object, ObjectRef};

/// How long a reconcile waits for the cache to reflect its own write of the parent; past
/// this, it returns anyway (the watch event still arrives and queues the parent).
const OWN_WRITE_WAIT: Duration = Duration::from_secs(2);

impl<O: DynamicOperator> Reconciler<O> {
    /// Remembers that the parent was written and is now `written`.
    pub(super) fn note_own_write(&self, written: &Object) {
        if let Some(rv) = written.resource_version() {
            self.own_writes
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(written.object_ref(), rv.to_owned());
        }
    }

    /// The resourceVersion of the last write of `key` since the last call, if any.
    pub(super) fn take_own_write(&self, key: &ObjectRef) -> Option<String> {
        self.own_writes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key)
    }

    /// Waits until the cached parent `key` is at `resource_version` or newer (numeric
    /// resourceVersions), gone, or [`OWN_WRITE_WAIT`] passed.
    pub(super) async fn await_own_write(&self, key: &ObjectRef, resource_version: Option<&str>) {
        let Some(written) = resource_version.and_then(|rv| rv.parse::<u64>().ok()) else {
            return;
        };
        let caught_up = || {
            self.cache.get(key).is_none_or(|cached| {
                cached
                    .resource_version()
                    .and_then(|rv| rv.parse::<u64>().ok())
                    .is_none_or(|rv| rv >= written)
            })
        };
        // Woken by the cache's change notifications rather than a polling timer: on a fast
        // backend the write is reflected within a task switch, and a timer tick per parent
        // write (milliseconds) would dominate a converge. Subscribed before the first look, so
        // a change applied in between is not missed.
        let mut changes = self.cache.subscribe();
        let deadline = tokio::time::Instant::now() + OWN_WRITE_WAIT;
        while !caught_up() {
            match tokio::time::timeout_at(deadline, changes.recv()).await {
                Ok(Ok(_) | Err(RecvError::Lagged(_))) => {}
                // The cache stopped, or the wait is over: the watch event still queues the parent.
                Ok(Err(RecvError::Closed)) | Err(_) => return,
            }
        }
    }
}
