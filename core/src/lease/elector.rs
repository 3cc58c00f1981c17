//! The election loop: acquire, renew, step down on a missed deadline, release on shutdown.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::time::{Instant, sleep, sleep_until};
use tracing::Instrument;

use super::config::LeaseConfig;
use super::lock::{LeaseError, LeaseLock, LockOutcome};
use crate::clock::Clock;
use crate::store::ObjectStore;

/// Runs leader election for one candidate and publishes whether it is the leader.
///
/// Sleeping and deadlines use tokio's clock (virtual under `start_paused`); the timestamps
/// written into the Lease come from the injected [`Clock`]. See the [module docs](super) for
/// the guarantee and its assumptions.
pub struct LeaderElector<S> {
    lock: LeaseLock<S>,
    leader: watch::Sender<bool>,
}

impl<S: ObjectStore> LeaderElector<S> {
    /// A candidate for the Lease named by `config`, not yet running.
    pub fn new(store: S, clock: Arc<dyn Clock>, config: LeaseConfig) -> Self {
        let (leader, _) = watch::channel(false);
        Self {
            lock: LeaseLock::new(store, clock, config),
            leader,
        }
    }

    /// Whether this candidate is the leader now; `true` only between a successful acquire and
    /// the step-down. Subscribe before calling [`LeaderElector::run`].
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.leader.subscribe()
    }

    /// The configuration.
    pub fn config(&self) -> &LeaseConfig {
        self.lock.config()
    }

    /// Runs the election until `shutdown` completes, then steps down and releases the Lease if
    /// held. Store errors during the loop are logged and retried; they never end it.
    ///
    /// # Errors
    /// Only the release on shutdown reports an error, including when it takes longer than
    /// `retry_period` (the Lease then simply expires).
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), LeaseError> {
        let config = self.lock.config();
        let span = tracing::info_span!("leader_election", lease = %config.name(), identity = %config.identity());
        self.run_until(shutdown).instrument(span).await
    }

    async fn run_until(self, shutdown: impl Future<Output = ()>) -> Result<(), LeaseError> {
        let config = self.lock.config().clone();
        tokio::pin!(shutdown);
        // Some(deadline) while leader: the instant we must stop acting without a new renew.
        let mut deadline: Option<Instant> = None;
        loop {
            // Read before the request: the deadline counts from before the clock was read for
            // `renewTime`, so it never ends later than the Lease does.
            let started = Instant::now();
            let outcome = tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = sleep_until_or_never(deadline) => {
                    self.step_down(&mut deadline, "renew deadline passed while renewing");
                    continue;
                }
                outcome = self.lock.try_acquire_or_renew() => outcome,
            };
            match outcome {
                Ok(LockOutcome::Held { acquired, .. }) => {
                    if deadline.is_none() {
                        tracing::info!(acquired, "became leader");
                    }
                    deadline = Some(started + config.renew_deadline());
                    self.leader.send_replace(true);
                }
                Ok(LockOutcome::HeldByOther { holder, .. }) => {
                    if deadline.is_some() {
                        self.step_down(&mut deadline, "lease taken over");
                    }
                    tracing::debug!(%holder, "lease held by another candidate");
                }
                Ok(LockOutcome::Conflict) => tracing::debug!("lost a lease race"),
                Err(error) => tracing::warn!(%error, "lease attempt failed"),
            }
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = sleep_until_or_never(deadline) => {
                    self.step_down(&mut deadline, "renew deadline passed");
                }
                () = sleep(config.retry_period()) => {}
            }
        }
        let was_leader = deadline.is_some();
        self.leader.send_replace(false);
        if was_leader {
            // Bounded: an unreachable API server must not hold up the shutdown; the Lease
            // then simply expires.
            let released = tokio::time::timeout(config.retry_period(), self.lock.release())
                .await
                .map_err(|_| LeaseError::ReleaseTimedOut(config.retry_period()))??;
            tracing::info!(released, "stepped down on shutdown");
        }
        Ok(())
    }

    fn step_down(&self, deadline: &mut Option<Instant>, why: &str) {
        *deadline = None;
        self.leader.send_replace(false);
        tracing::warn!(why, "stepped down");
    }
}

async fn sleep_until_or_never(deadline: Option<Instant>) {
    match deadline {
        Some(at) => sleep_until(at).await,
        None => std::future::pending().await,
    }
}
