//! Seeds run side by side on worker threads, with the answer of a sequential run.
//!
//! Workers take seeds in increasing order from one counter. Once a seed fails, no worker
//! takes a higher one, and every lower seed already taken is run to its end, so the failure
//! reported (the lowest failing seed) and the count of seeds before it do not depend on the
//! number of threads or on their timing.

use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::SeedsSummary;
use super::oracles::Violation;
use super::runner::{RunReport, Schedule, SimError, SimInner, run_once};

/// Why a seed failed.
pub(crate) enum SeedFailure {
    /// An invariant was violated; the run's report.
    Violation(Box<RunReport>, Violation),
    /// The harness could not run the seed.
    Harness(SimError),
}

/// What the workers found.
pub(crate) struct Outcome {
    /// Counters summed over the seeds that passed.
    pub(crate) summary: SeedsSummary,
    /// The lowest failing seed, if any.
    pub(crate) first_failure: Option<(u64, SeedFailure)>,
}

/// Runs the seeds of `seeds` (each with the schedule `schedule_of` gives) on `workers`
/// threads, stopping at the lowest failing seed.
pub(crate) fn run(
    inner: &SimInner,
    seeds: Range<u64>,
    workers: usize,
    schedule_of: impl Fn(u64) -> Schedule + Sync,
) -> Outcome {
    let next = AtomicU64::new(seeds.start);
    let lowest_failure = AtomicU64::new(u64::MAX);
    let shared = Mutex::new(Outcome {
        summary: SeedsSummary::default(),
        first_failure: None,
    });
    let work = || {
        // A seed that panics (an operator's bug the harness does not catch) stops the other
        // workers too: the panic surfaces when they are joined, not after every seed ran.
        let _stop_on_panic = StopOnPanic(&lowest_failure);
        let mut passed = SeedsSummary::default();
        let mut failed: Option<(u64, SeedFailure)> = None;
        loop {
            let seed = next.fetch_add(1, Ordering::SeqCst);
            if seed >= seeds.end || seed > lowest_failure.load(Ordering::SeqCst) {
                break;
            }
            let failure = match run_once(inner, &schedule_of(seed)) {
                Ok(report) => match report.violation.clone() {
                    None => {
                        passed.seeds += 1;
                        passed.add(&report.stats);
                        continue;
                    }
                    Some(violation) => SeedFailure::Violation(Box::new(report), violation),
                },
                Err(error) => SeedFailure::Harness(error),
            };
            lowest_failure.fetch_min(seed, Ordering::SeqCst);
            // Seeds are taken in increasing order: this worker's first failure is its lowest.
            failed = Some((seed, failure));
            break;
        }
        let mut outcome = shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        outcome.summary.absorb(&passed);
        if let Some((seed, failure)) = failed
            && outcome.first_failure.as_ref().is_none_or(|(lowest, _)| seed < *lowest)
        {
            outcome.first_failure = Some((seed, failure));
        }
    };
    if workers <= 1 {
        work();
    } else {
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(work);
            }
        });
    }
    shared.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Makes every worker stop taking seeds when dropped by a panicking thread.
struct StopOnPanic<'a>(&'a AtomicU64);

impl Drop for StopOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(0, Ordering::SeqCst);
        }
    }
}
