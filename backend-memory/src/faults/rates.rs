//! Seeded-random fault rates.

use std::time::Duration;

use operator_runtime_core::StoreError;

/// Per-fault probabilities for seeded-random injection. Each field is a probability in
/// `[0, 1]`; values outside that range are clamped and NaN counts as 0.
///
/// The random stream is drawn the same way whatever the rates are (every call draws the same
/// number of values), so changing one rate never reshuffles when the other faults fire.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultRates {
    /// A call fails before reaching the store with one of [`FaultRates::errors`].
    pub error: f64,
    /// Errors a random failure picks from (uniformly). Empty means 503 Unavailable.
    pub errors: Vec<StoreError>,
    /// A write is applied, then reported as [`StoreError::Timeout`] (outcome unknown).
    pub timeout_after_write: f64,
    /// A get or list is served from an older snapshot (a lagging reader).
    pub stale_read: f64,
    /// A watch event is silently lost.
    pub watch_drop: f64,
    /// A watch event is delivered twice.
    pub watch_duplicate: f64,
    /// A watch event is held back for up to [`FaultRates::max_watch_delay`] (virtual time).
    pub watch_delay: f64,
    /// Upper bound of a random watch delay.
    pub max_watch_delay: Duration,
    /// A watch ends with `Err(StoreError::Expired)` instead of its next event.
    pub watch_expire: f64,
}

impl Default for FaultRates {
    /// No faults, and the usual transient errors to pick from once `error` is raised.
    fn default() -> Self {
        Self {
            error: 0.0,
            errors: default_errors(),
            timeout_after_write: 0.0,
            stale_read: 0.0,
            watch_drop: 0.0,
            watch_duplicate: 0.0,
            watch_delay: 0.0,
            max_watch_delay: Duration::from_secs(1),
            watch_expire: 0.0,
        }
    }
}

impl FaultRates {
    /// Every fault at the same probability `p` (a quick "chaos" setting).
    pub fn uniform(p: f64) -> Self {
        Self {
            error: p,
            timeout_after_write: p,
            stale_read: p,
            watch_drop: p,
            watch_duplicate: p,
            watch_delay: p,
            watch_expire: p,
            ..Self::default()
        }
    }
}

/// Transient errors a real API server returns under load.
fn default_errors() -> Vec<StoreError> {
    vec![
        StoreError::Unavailable {
            message: "injected: service unavailable".into(),
            retry_after: Some(Duration::from_secs(1)),
            source: None,
        },
        StoreError::TooManyRequests {
            message: "injected: too many requests".into(),
            retry_after: Some(Duration::from_secs(1)),
        },
        StoreError::Internal {
            message: "injected: internal error".into(),
        },
    ]
}

/// True with probability `p` for a uniform draw `u` in `[0, 1)`.
pub(crate) fn fires(u: f64, p: f64) -> bool {
    // `u < NaN` is false, so NaN never fires; p >= 1 always fires.
    u < p
}
