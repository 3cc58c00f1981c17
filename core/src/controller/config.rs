//! Settings of a controller runner, validated up front.

use std::time::Duration;

use crate::backoff::BackoffConfig;

/// What is wrong with a [`ControllerConfig`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ControllerConfigError {
    /// The concurrency limit is outside `1..=ControllerConfig::MAX_CONCURRENCY`.
    #[error("concurrency must be between 1 and {max}, got {got}")]
    Concurrency {
        /// The requested limit.
        got: usize,
        /// The largest allowed.
        max: usize,
    },
    /// A resync period of zero would reconcile in a hot loop.
    #[error("resync period must be positive")]
    ZeroResync,
}

/// Why [`Controller::run`](super::Controller::run) could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ControllerError {
    /// The object source could not start watching the parent or a related kind.
    #[error("the object source could not start watching: {0}")]
    Source(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Settings of a controller runner.
#[derive(Clone, Debug, PartialEq)]
pub struct ControllerConfig {
    concurrency: usize,
    resync_period: Option<Duration>,
    shutdown_deadline: Duration,
    backoff: BackoffConfig,
    seed: u64,
}

impl Default for ControllerConfig {
    /// Concurrency 4, resync every 10 minutes, 30 s to finish on shutdown, default backoff,
    /// jitter seed 0.
    fn default() -> Self {
        Self {
            concurrency: 4,
            resync_period: Some(Duration::from_secs(600)),
            shutdown_deadline: Duration::from_secs(30),
            backoff: BackoffConfig::default(),
            seed: 0,
        }
    }
}

impl ControllerConfig {
    /// The largest concurrency limit accepted.
    pub const MAX_CONCURRENCY: usize = 1024;

    /// Sets how many reconciles (of distinct keys) may run at once.
    ///
    /// # Errors
    /// [`ControllerConfigError::Concurrency`] outside `1..=MAX_CONCURRENCY`.
    pub fn with_concurrency(mut self, concurrency: usize) -> Result<Self, ControllerConfigError> {
        if !(1..=Self::MAX_CONCURRENCY).contains(&concurrency) {
            return Err(ControllerConfigError::Concurrency {
                got: concurrency,
                max: Self::MAX_CONCURRENCY,
            });
        }
        self.concurrency = concurrency;
        Ok(self)
    }

    /// Sets the periodic resync (every parent reconciled again); None turns it off.
    ///
    /// # Errors
    /// [`ControllerConfigError::ZeroResync`] for a zero period.
    pub fn with_resync(mut self, period: Option<Duration>) -> Result<Self, ControllerConfigError> {
        if period.is_some_and(|p| p.is_zero()) {
            return Err(ControllerConfigError::ZeroResync);
        }
        self.resync_period = period;
        Ok(self)
    }

    /// Sets how long running reconciles may take to finish after shutdown is requested; they
    /// are aborted after that.
    pub fn with_shutdown_deadline(mut self, deadline: Duration) -> Self {
        self.shutdown_deadline = deadline;
        self
    }

    /// Sets the error backoff.
    pub fn with_backoff(mut self, backoff: BackoffConfig) -> Self {
        self.backoff = backoff;
        self
    }

    /// Sets the seed of the backoff jitter.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The concurrency limit.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }
    /// The resync period.
    pub fn resync_period(&self) -> Option<Duration> {
        self.resync_period
    }
    /// The shutdown deadline.
    pub fn shutdown_deadline(&self) -> Duration {
        self.shutdown_deadline
    }
    /// The error backoff.
    pub fn backoff(&self) -> BackoffConfig {
        self.backoff
    }
    /// The jitter seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }
}
