//! Read-your-writes for the parent: after writing the parent (finalizer, status), a reconcile
//! waits, briefly, until the cache holds that write before it returns.
//!
//! Why: every parent write comes back as a watch event that queues the parent again. If the
//! reconcile returned before the cache saw its own write, the next reconcile could start from
//! the older parent (no finalizer, the old status), repeat an event and send a status write
//! that conflicts, and the write's event would queue yet another reconcile. Waiting folds the
//! write's event into the one follow-up reconcile the runner already owes.

use std::time::Duration;

use std::sync::PoisonError;

use super::{DynamicOperator, Reconciler};
use crate::model::{Object, ObjectRef};

/// How long a reconcile waits for the cache to reflect its own write of the parent; past
/// this, it returns anyway (the watch event still arrives and queues the parent).
const OWN_WRITE_WAIT: Duration = Duration::from_secs(2);
/// Between two looks at the cache.
const POLL: Duration = Duration::from_millis(2);

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
        let deadline = tokio::time::Instant::now() + OWN_WRITE_WAIT;
        while !caught_up() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(POLL).await;
        }
    }
}
