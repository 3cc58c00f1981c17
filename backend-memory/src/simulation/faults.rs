//! What faults a seed may draw: a [`FaultPlan`] of probabilities per [`FaultClass`].
//!
//! Faults act only during the fault phase of a run (while the user actor acts); then they
//! stop, so liveness can be judged. Every class is one a real cluster produces: transient API
//! errors (429 with Retry-After, 500, 503), a write applied whose answer is lost (timeout),
//! reads served from an earlier revision (a lagging reader), watch events held back or
//! delivered twice, a watch ended with 410 (the cache relists), operator calls slowed down
//! (which reorders the reconciles of different keys and replicas), and operator crashes
//! (right after a write, or at a step of the schedule) followed by a restart with a fresh
//! cache, and network partitions of one replica (its requests time out for a while: a leader
//! loses its Lease and another replica takes over while it still runs), crashes at any await
//! point that reaches the API server (before one of its calls is sent), and replica clocks
//! skewed within the lease tolerance. Watches never silently drop an event.

use std::fmt;
use std::time::Duration;

use operator_runtime_core::StoreError;

use crate::faults::FaultRates;

/// One kind of fault, as named in a replay command (`SIM_FAULTS=stale_reads,latency`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultClass {
    /// 429 (with Retry-After), 500 and 503 answers.
    ApiErrors,
    /// A write is applied, then the caller gets a timeout.
    TimeoutAfterWrite,
    /// A get or list is answered from an earlier revision.
    StaleReads,
    /// Watch events are held back (virtual time).
    WatchDelay,
    /// Watch events are delivered twice.
    WatchDuplicate,
    /// A watch ends with 410 Expired; the cache relists.
    WatchExpire,
    /// Operator calls are slowed down at random, reordering reconciles.
    Latency,
    /// The operator crashes right after a successful write, then restarts.
    CrashAfterWrite,
    /// The operator crashes at a step of the user schedule, then restarts.
    Crash,
    /// At a step of the user schedule, one replica's requests time out for a while (a network
    /// partition from the API server): a leader loses its Lease to another replica.
    Partition,
    /// The operator crashes at one of its await points that reaches the API server (before a
    /// call is sent: between any two of its requests), then restarts.
    CrashBeforeCall,
    /// A replica incarnation's wall clock runs ahead or behind the others' (within the lease
    /// tolerance: at most `max_clock_skew` either way).
    ClockSkew,
}

impl FaultClass {
    /// Every class, in a fixed order.
    pub const ALL: [FaultClass; 12] = [
        Self::ApiErrors,
        Self::TimeoutAfterWrite,
        Self::StaleReads,
        Self::WatchDelay,
        Self::WatchDuplicate,
        Self::WatchExpire,
        Self::Latency,
        Self::CrashAfterWrite,
        Self::Crash,
        Self::Partition,
        Self::CrashBeforeCall,
        Self::ClockSkew,
    ];

    /// The name used in replay commands.
    pub fn name(self) -> &'static str {
        match self {
            Self::ApiErrors => "api_errors",
            Self::TimeoutAfterWrite => "timeout_after_write",
            Self::StaleReads => "stale_reads",
            Self::WatchDelay => "watch_delay",
            Self::WatchDuplicate => "watch_duplicate",
            Self::WatchExpire => "watch_expire",
            Self::Latency => "latency",
            Self::CrashAfterWrite => "crash_after_write",
            Self::Crash => "crash",
            Self::Partition => "partition",
            Self::CrashBeforeCall => "crash_before_call",
            Self::ClockSkew => "clock_skew",
        }
    }

    /// The class with this name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name.trim())
    }
}

impl fmt::Display for FaultClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Probabilities of each fault class (per call, per watch event, per write, per step).
#[derive(Clone, Debug, PartialEq)]
pub struct FaultPlan {
    /// Per operator call: fails with 429, 500 or 503 before reaching the store.
    pub api_errors: f64,
    /// Per operator write: applied, then answered with a timeout.
    pub timeout_after_write: f64,
    /// Per operator get or list: served from what a reader saw earlier.
    pub stale_reads: f64,
    /// Per watch event: held back up to `max_watch_delay`.
    pub watch_delay: f64,
    /// Longest watch delay.
    pub max_watch_delay: Duration,
    /// Per watch event: delivered twice.
    pub watch_duplicate: f64,
    /// Per watch event: the watch ends with 410 instead.
    pub watch_expire: f64,
    /// Per operator call: held back up to `max_latency` first.
    pub latency: f64,
    /// Longest call latency.
    pub max_latency: Duration,
    /// Per successful operator write: the replica crashes right after it.
    pub crash_after_write: f64,
    /// Per user step: a replica crashes (and restarts) at that step.
    pub crash: f64,
    /// Per user step: a replica is partitioned from the API server at that step.
    pub partition: f64,
    /// Longest partition (the shortest is a quarter of it).
    pub max_partition: Duration,
    /// Per operator call: the replica crashes before sending it, then restarts.
    pub crash_before_call: f64,
    /// Per replica incarnation: its clock is off by up to `max_clock_skew`.
    pub clock_skew: f64,
    /// Largest clock offset either way. Leader election is safe while the offsets of two
    /// replicas differ by less than its margin (`lease_duration - renew_deadline`, 5 s by
    /// default) less the write latency: the default is 1.5 s.
    pub max_clock_skew: Duration,
}

impl Default for FaultPlan {
    /// Moderate rates of every class: a few faults of each kind per run.
    fn default() -> Self {
        Self {
            api_errors: 0.03,
            timeout_after_write: 0.02,
            stale_reads: 0.05,
            watch_delay: 0.1,
            max_watch_delay: Duration::from_secs(2),
            watch_duplicate: 0.05,
            watch_expire: 0.01,
            latency: 0.2,
            max_latency: Duration::from_millis(1500),
            crash_after_write: 0.02,
            crash: 0.05,
            partition: 0.03,
            max_partition: Duration::from_secs(30),
            crash_before_call: 0.003,
            clock_skew: 0.5,
            max_clock_skew: Duration::from_millis(1500),
        }
    }
}

impl FaultPlan {
    /// No faults at all (interleavings then come from the user schedule only).
    pub fn none() -> Self {
        let mut plan = Self::default();
        for class in FaultClass::ALL {
            plan.set(class, 0.0);
        }
        plan
    }

    /// The probability of `class`.
    pub fn rate(&self, class: FaultClass) -> f64 {
        match class {
            FaultClass::ApiErrors => self.api_errors,
            FaultClass::TimeoutAfterWrite => self.timeout_after_write,
            FaultClass::StaleReads => self.stale_reads,
            FaultClass::WatchDelay => self.watch_delay,
            FaultClass::WatchDuplicate => self.watch_duplicate,
            FaultClass::WatchExpire => self.watch_expire,
            FaultClass::Latency => self.latency,
            FaultClass::CrashAfterWrite => self.crash_after_write,
            FaultClass::Crash => self.crash,
            FaultClass::Partition => self.partition,
            FaultClass::CrashBeforeCall => self.crash_before_call,
            FaultClass::ClockSkew => self.clock_skew,
        }
    }

    /// Sets the probability of `class`.
    pub fn set(&mut self, class: FaultClass, rate: f64) {
        let slot = match class {
            FaultClass::ApiErrors => &mut self.api_errors,
            FaultClass::TimeoutAfterWrite => &mut self.timeout_after_write,
            FaultClass::StaleReads => &mut self.stale_reads,
            FaultClass::WatchDelay => &mut self.watch_delay,
            FaultClass::WatchDuplicate => &mut self.watch_duplicate,
            FaultClass::WatchExpire => &mut self.watch_expire,
            FaultClass::Latency => &mut self.latency,
            FaultClass::CrashAfterWrite => &mut self.crash_after_write,
            FaultClass::Crash => &mut self.crash,
            FaultClass::Partition => &mut self.partition,
            FaultClass::CrashBeforeCall => &mut self.crash_before_call,
            FaultClass::ClockSkew => &mut self.clock_skew,
        };
        *slot = rate;
    }

    /// The classes with a positive probability.
    pub fn enabled(&self) -> Vec<FaultClass> {
        FaultClass::ALL.into_iter().filter(|c| self.rate(*c) > 0.0).collect()
    }

    /// This plan with only the classes in `keep` left on.
    pub fn only(&self, keep: &[FaultClass]) -> Self {
        let mut plan = self.clone();
        for class in FaultClass::ALL {
            if !keep.contains(&class) {
                plan.set(class, 0.0);
            }
        }
        plan
    }

    /// The store-level rates handed to [`crate::faults::FaultyStore`].
    pub(crate) fn store_rates(&self) -> FaultRates {
        FaultRates {
            error: self.api_errors,
            errors: vec![
                StoreError::TooManyRequests {
                    message: "injected: too many requests".into(),
                    retry_after: Some(Duration::from_secs(1)),
                },
                StoreError::Internal {
                    message: "injected: internal error".into(),
                },
                StoreError::unavailable("injected: service unavailable"),
            ],
            timeout_after_write: self.timeout_after_write,
            stale_read: self.stale_reads,
            watch_drop: 0.0,
            watch_duplicate: self.watch_duplicate,
            watch_delay: self.watch_delay,
            max_watch_delay: self.max_watch_delay,
            watch_expire: self.watch_expire,
        }
    }
}
