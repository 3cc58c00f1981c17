//! Exponential backoff for the watch loops, without jitter so that runs are reproducible.

use std::time::Duration;

/// Delays between retries: `initial`, then multiplied by `factor` per failure, capped at `max`.
/// A server-suggested `retry-after` longer than the computed delay wins.
#[derive(Clone, Debug, PartialEq)]
pub struct Backoff {
    /// First delay.
    pub initial: Duration,
    /// Upper bound of the delay.
    pub max: Duration,
    /// Growth per consecutive failure (values below 1 are treated as 1).
    pub factor: f64,
}

impl Default for Backoff {
    /// 500 ms doubling up to 30 s, close to client-go's reflector (800 ms .. 30 s).
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
            factor: 2.0,
        }
    }
}

impl Backoff {
    /// The delay before retry number `attempt` (0-based), honouring `retry_after`.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let factor = if self.factor.is_finite() {
            self.factor.max(1.0)
        } else {
            1.0
        };
        let exp = i32::try_from(attempt).unwrap_or(i32::MAX);
        let secs = self.initial.as_secs_f64() * factor.powi(exp);
        let computed = if secs.is_finite() && secs < self.max.as_secs_f64() {
            Duration::from_secs_f64(secs)
        } else {
            self.max
        };
        retry_after.map_or(computed, |r| r.max(computed))
    }
}

/// Counts consecutive failures of one loop.
#[derive(Debug, Default)]
pub(crate) struct Attempts(u32);

impl Attempts {
    /// The delay for the next retry, counting this failure.
    pub(crate) fn next_delay(&mut self, backoff: &Backoff, retry_after: Option<Duration>) -> Duration {
        let d = backoff.delay(self.0, retry_after);
        self.0 = self.0.saturating_add(1);
        d
    }

    /// The delay before relisting after a 410: none the first time (a 410 after a long
    /// disconnect is normal), then growing until a watch makes progress again.
    pub(crate) fn expired_delay(&mut self, backoff: &Backoff) -> Option<std::time::Duration> {
        if self.0 == 0 {
            self.0 = 1;
            return None;
        }
        Some(self.next_delay(backoff, None))
    }

    /// Back to the initial delay after a success.
    pub(crate) fn reset(&mut self) {
        self.0 = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_then_caps_and_honours_retry_after() {
        let b = Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(5),
            factor: 2.0,
        };
        let delays: Vec<_> = (0..5).map(|a| b.delay(a, None).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 5, 5]);
        assert_eq!(b.delay(0, Some(Duration::from_secs(9))), Duration::from_secs(9));
        assert_eq!(b.delay(u32::MAX, None), Duration::from_secs(5));
        let mut a = Attempts::default();
        assert_eq!(a.next_delay(&b, None).as_secs(), 1);
        assert_eq!(a.next_delay(&b, None).as_secs(), 2);
        a.reset();
        assert_eq!(a.next_delay(&b, None).as_secs(), 1);
    }

    #[test]
    fn degenerate_factors_do_not_shrink_or_overflow() {
        let b = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            factor: f64::NAN,
        };
        assert_eq!(b.delay(10, None), Duration::from_millis(100));
        let b = Backoff { factor: 0.1, ..b };
        assert_eq!(b.delay(10, None), Duration::from_millis(100));
    }
}
