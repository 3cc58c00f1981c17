//! Per-key exponential backoff with jitter: the project's one backoff, for retrying failed
//! reconciles (the controller runner) and failed lists and watches (the cache) without hot
//! loops.
//!
//! The n-th consecutive failure of a key waits `min(max, initial * 2^(n-1))`, shortened by a
//! random fraction of up to `jitter` so that keys failing together do not retry in lockstep.
//! The randomness comes from a seeded ChaCha RNG, never from the OS, so a run is reproducible.
//! A success resets the key.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What is wrong with a [`BackoffConfig`].
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum BackoffConfigError {
    /// `initial` is zero or larger than `max`.
    #[error("backoff needs 0 < initial ({initial:?}) <= max ({max:?})")]
    Bounds {
        /// The configured first delay.
        initial: Duration,
        /// The configured cap.
        max: Duration,
    },
    /// `jitter` is not within `[0, 1]`.
    #[error("backoff jitter must be within [0, 1], got {0}")]
    Jitter(f64),
}

/// Bounds and jitter of a [`Backoff`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BackoffConfig {
    initial: Duration,
    max: Duration,
    jitter: f64,
}

impl Default for BackoffConfig {
    /// 1 s doubling up to 5 min, jitter 0.2.
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(300),
            jitter: 0.2,
        }
    }
}

impl BackoffConfig {
    /// 500 ms doubling up to 30 s, no jitter: the cache's list/watch loops (close to client-go's
    /// reflector, 800 ms .. 30 s), reproducible.
    pub const fn watch_default() -> Self {
        Self {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
            jitter: 0.0,
        }
    }

    /// A configuration: first delay `initial`, cap `max`, and up to `jitter` (a fraction in
    /// `[0, 1]`) of each delay removed at random.
    ///
    /// # Errors
    /// [`BackoffConfigError`] for an empty or inverted range or a jitter outside `[0, 1]`.
    pub fn new(initial: Duration, max: Duration, jitter: f64) -> Result<Self, BackoffConfigError> {
        if initial.is_zero() || initial > max {
            return Err(BackoffConfigError::Bounds { initial, max });
        }
        if !(0.0..=1.0).contains(&jitter) {
            return Err(BackoffConfigError::Jitter(jitter));
        }
        Ok(Self { initial, max, jitter })
    }

    /// The first delay.
    pub fn initial(&self) -> Duration {
        self.initial
    }
    /// The cap.
    pub fn max(&self) -> Duration {
        self.max
    }
    /// The jitter fraction.
    pub fn jitter(&self) -> f64 {
        self.jitter
    }

    /// The delay before jitter after `failures` consecutive failures (`failures >= 1`).
    pub fn base_delay(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(63);
        self.initial
            .checked_mul(1u32.checked_shl(doublings).unwrap_or(u32::MAX))
            .map_or(self.max, |d| d.min(self.max))
    }
}

/// Consecutive-failure counts per key and the seeded RNG for jitter.
#[derive(Debug)]
pub struct Backoff<K> {
    config: BackoffConfig,
    failures: HashMap<K, u32>,
    rng: ChaCha8Rng,
}

impl<K: Eq + Hash + Clone> Backoff<K> {
    /// A backoff with no failures recorded; `seed` fixes the jitter sequence.
    pub fn new(config: BackoffConfig, seed: u64) -> Self {
        Self {
            config,
            failures: HashMap::new(),
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// Records a failure of `key` and returns how long to wait before retrying it.
    pub fn next_delay(&mut self, key: &K) -> Duration {
        let failures = self.failures.entry(key.clone()).or_insert(0);
        *failures = failures.saturating_add(1);
        let base = self.config.base_delay(*failures);
        let cut: f64 = self.config.jitter * self.rng.random::<f64>();
        base.mul_f64(1.0 - cut)
    }

    /// Forgets the failures of `key` (after a success).
    pub fn reset(&mut self, key: &K) {
        self.failures.remove(key);
    }

    /// Consecutive failures recorded for `key`.
    pub fn failures(&self, key: &K) -> u32 {
        self.failures.get(key).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_and_resets() {
        let config = BackoffConfig::new(Duration::from_millis(100), Duration::from_secs(1), 0.0).unwrap();
        let mut backoff = Backoff::new(config, 7);
        let delays: Vec<_> = (0..6).map(|_| backoff.next_delay(&"a").as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(
            backoff.next_delay(&"b"),
            Duration::from_millis(100),
            "keys are independent"
        );
        backoff.reset(&"a");
        assert_eq!(backoff.failures(&"a"), 0);
        assert_eq!(backoff.next_delay(&"a"), Duration::from_millis(100));
    }

    #[test]
    fn jitter_stays_in_range_and_is_reproducible() {
        let config = BackoffConfig::new(Duration::from_secs(1), Duration::from_secs(60), 0.5).unwrap();
        let run = |seed| {
            let mut backoff = Backoff::new(config, seed);
            (0..5).map(|_| backoff.next_delay(&1u8)).collect::<Vec<_>>()
        };
        let first = run(42);
        assert_eq!(first, run(42), "same seed, same delays");
        assert_ne!(first, run(43), "different seed, different jitter");
        for (n, delay) in first.iter().enumerate() {
            let base = config.base_delay(u32::try_from(n).unwrap() + 1);
            assert!(
                *delay <= base && *delay >= base / 2,
                "{delay:?} outside [{:?}, {base:?}]",
                base / 2
            );
        }
    }

    #[test]
    fn rejects_bad_configs() {
        let s = Duration::from_secs;
        assert!(matches!(
            BackoffConfig::new(s(0), s(1), 0.1),
            Err(BackoffConfigError::Bounds { .. })
        ));
        assert!(matches!(
            BackoffConfig::new(s(2), s(1), 0.1),
            Err(BackoffConfigError::Bounds { .. })
        ));
        assert!(matches!(
            BackoffConfig::new(s(1), s(2), 1.5),
            Err(BackoffConfigError::Jitter(_))
        ));
        assert_eq!(BackoffConfig::default().base_delay(1000), s(300));
    }
}
