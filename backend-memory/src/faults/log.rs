//! The log of injected faults.

use std::time::Duration;

use operator_runtime_core::StoreError;
use serde::{Serialize, Serializer};

use super::operation::Operation;

/// Whether a fault was scripted through the handle or drawn at random.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultSource {
    /// Scripted (`fail_next`, `drop_next_watch_events`, ...).
    Scripted,
    /// Drawn from the seeded RNG at the configured [`super::FaultRates`].
    Random,
}

/// What was injected.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InjectedFault {
    /// The call failed with this error before reaching the store.
    Error {
        /// The error returned.
        #[serde(serialize_with = "serialize_error")]
        error: StoreError,
    },
    /// The call was held back for this long (virtual time) before reaching the store.
    Delay {
        /// How long.
        delay: Duration,
    },
    /// The write reached the store, then the caller got [`StoreError::Timeout`].
    TimeoutAfterWrite {
        /// Whether the store accepted the write (false: it failed, and the failure was hidden).
        applied: bool,
    },
    /// A read was served from an older snapshot.
    StaleRead,
    /// A watch event was lost.
    WatchDropped {
        /// resourceVersion of the lost event.
        resource_version: Option<String>,
    },
    /// A watch event was delivered twice.
    WatchDuplicated {
        /// resourceVersion of the duplicated event.
        resource_version: Option<String>,
    },
    /// A watch event was held back.
    WatchDelayed {
        /// resourceVersion of the delayed event.
        resource_version: Option<String>,
        /// How long.
        delay: Duration,
    },
    /// The watch ended with 410 Expired instead of delivering this event.
    WatchExpired {
        /// resourceVersion of the event that was not delivered.
        resource_version: Option<String>,
    },
}

/// One injected fault.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FaultRecord {
    /// Position in the sequence of calls and watch-event deliveries through the faulty store.
    pub step: u64,
    /// The operation faulted (watch events are logged under [`Operation::Watch`]).
    pub operation: Operation,
    /// What the operation was about: an object (`ConfigMap ns/name`), a kind, or `watch#N kind`.
    pub target: String,
    /// Scripted or random.
    pub source: FaultSource,
    /// The fault.
    pub fault: InjectedFault,
}

#[derive(Serialize)]
struct ErrorRepr {
    code: u16,
    message: String,
}

fn serialize_error<S: Serializer>(error: &StoreError, serializer: S) -> Result<S::Ok, S::Error> {
    ErrorRepr {
        code: error.code(),
        message: error.to_string(),
    }
    .serialize(serializer)
}
