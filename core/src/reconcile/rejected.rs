//! Child writes the server rejected for good are not sent again until something changes.
//!
//! Why: a permanent rejection (Invalid, Forbidden, BadRequest, ...) of a child write is
//! reported once (a Degraded condition and one Warning event) and the reconcile waits for a
//! change. But the reconcile's own parent writes (finalizer, status) come back as watch events
//! and owe the parent one more reconcile; without this memory that reconcile would send the
//! same rejected write again, and so would every safety resync, for the whole life of the
//! parent. A write is sent again when the desired object changed (the spec changed), when the
//! live child changed (another actor fixed or removed it), or after [`REJECTED_WRITE_TTL`] (a
//! webhook or quota that rejected it may have changed without any object changing).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::clock::Timestamp;
use crate::error::StoreError;
use crate::model::{Object, ObjectRef};

/// How long a rejected write is remembered before the next reconcile tries it again.
pub const REJECTED_WRITE_TTL: Duration = Duration::from_secs(10 * 60);

/// The rejected writes of the children of every parent, by child.
#[derive(Debug, Default)]
pub(super) struct RejectedWrites {
    by_child: Mutex<HashMap<ObjectRef, Rejection>>,
}

#[derive(Debug)]
struct Rejection {
    desired: Arc<Object>,
    live_version: Option<String>,
    error: StoreError,
    at: Timestamp,
}

impl RejectedWrites {
    /// Remembers that writing `desired` over `live` failed permanently with `error` at `now`.
    /// Expired rejections are dropped here, so the children of parents long gone (whose
    /// rejections nothing looks up again) do not stay for the life of the process.
    pub fn remember(&self, desired: &Arc<Object>, live: Option<&Object>, error: &StoreError, now: Timestamp) {
        let mut by_child = self.lock();
        by_child.retain(|_, r| r.fresh_at(now));
        by_child.insert(
            desired.object_ref(),
            Rejection {
                desired: Arc::clone(desired),
                live_version: live_version(live),
                error: error.clone(),
                at: now,
            },
        );
    }

    /// The error of the same write (same desired object over the same live version) rejected
    /// less than [`REJECTED_WRITE_TTL`] before `now`; such a write is not sent again.
    pub fn repeat_of(&self, desired: &Object, live: Option<&Object>, now: Timestamp) -> Option<StoreError> {
        let mut by_child = self.lock();
        let key = desired.object_ref();
        let rejection = by_child.get(&key)?;
        if rejection.fresh_at(now) && *rejection.desired == *desired && rejection.live_version == live_version(live) {
            return Some(rejection.error.clone());
        }
        by_child.remove(&key);
        None
    }

    /// Forgets the rejection of `child` (its write went through).
    pub fn forget(&self, child: &ObjectRef) {
        self.lock().remove(child);
    }

    /// Rejections remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ObjectRef, Rejection>> {
        self.by_child.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Rejection {
    fn fresh_at(&self, now: Timestamp) -> bool {
        let ttl = k8s_openapi::jiff::SignedDuration::try_from(REJECTED_WRITE_TTL).unwrap_or_default();
        self.at.checked_add(ttl).is_ok_and(|until| now < until)
    }
}

fn live_version(live: Option<&Object>) -> Option<String> {
    live.and_then(Object::resource_version).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config_map(data: &str, rv: Option<&str>) -> Object {
        let mut metadata = json!({"name": "c", "namespace": "ns"});
        if let Some(rv) = rv {
            metadata["resourceVersion"] = json!(rv);
        }
        let value = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": {"k": data}});
        Object::from_value(value).expect("a valid object")
    }

    #[test]
    fn the_same_write_is_a_repeat_until_desired_live_or_time_changes() {
        let memo = RejectedWrites::default();
        let t0 = Timestamp::from_second(1_767_225_600).expect("a valid time");
        let desired = Arc::new(config_map("bad", None));
        let live = config_map("old", Some("7"));
        let error = StoreError::invalid("data.k", "bad");
        memo.remember(&desired, Some(&live), &error, t0);

        assert_eq!(memo.repeat_of(&desired, Some(&live), t0), Some(error.clone()));
        // The spec changed: the new desired object is sent.
        assert_eq!(memo.repeat_of(&config_map("fixed", None), Some(&live), t0), None);
        memo.remember(&desired, Some(&live), &error, t0);
        // Someone changed the child.
        assert_eq!(memo.repeat_of(&desired, Some(&config_map("old", Some("8"))), t0), None);
        memo.remember(&desired, Some(&live), &error, t0);
        // A long while later the write is tried again.
        let later = t0
            .checked_add(k8s_openapi::jiff::SignedDuration::from_secs(601))
            .expect("in range");
        assert_eq!(memo.repeat_of(&desired, Some(&live), later), None);
        memo.remember(&desired, Some(&live), &error, t0);
        memo.forget(&desired.object_ref());
        assert_eq!(memo.repeat_of(&desired, Some(&live), t0), None);
    }

    #[test]
    fn rejections_of_children_nobody_looks_up_again_expire() {
        let memo = RejectedWrites::default();
        let t0 = Timestamp::from_second(1_767_225_600).expect("a valid time");
        let error = StoreError::invalid("data.k", "bad");
        let gone = Arc::new(config_map("bad", None));
        memo.remember(&gone, None, &error, t0);
        let mut other = config_map("bad", None);
        other.metadata.name = Some("other".into());
        let later = t0
            .checked_add(k8s_openapi::jiff::SignedDuration::from_secs(601))
            .expect("in range");
        memo.remember(&Arc::new(other), None, &error, later);
        assert_eq!(memo.len(), 1, "the expired rejection was dropped");
    }
}
