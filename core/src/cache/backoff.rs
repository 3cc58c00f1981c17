//! Retry delays of the list/watch loops: core's one [`crate::backoff`], one per loop.

use std::time::Duration;

use crate::backoff::{Backoff, BackoffConfig};

/// Counts consecutive failures of one loop.
#[derive(Debug)]
pub(crate) struct Attempts(Backoff<()>);

impl Attempts {
    /// A loop with no failure yet. The jitter (none by default) is seeded, so runs stay
    /// reproducible.
    pub(crate) fn new(config: BackoffConfig) -> Self {
        Self(Backoff::new(config, 0))
    }

    /// The delay for the next retry, counting this failure. A server-suggested `retry_after`
    /// longer than the computed delay wins.
    pub(crate) fn next_delay(&mut self, retry_after: Option<Duration>) -> Duration {
        let computed = self.0.next_delay(&());
        retry_after.map_or(computed, |r| r.max(computed))
    }

    /// The delay before relisting after a 410: none the first time (a 410 after a long
    /// disconnect is normal), then growing until a watch makes progress again.
    pub(crate) fn expired_delay(&mut self) -> Option<Duration> {
        if self.0.failures(&()) == 0 {
            let _ = self.0.next_delay(&());
            return None;
        }
        Some(self.next_delay(None))
    }

    /// Back to the initial delay after a success.
    pub(crate) fn reset(&mut self) {
        self.0.reset(&());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_then_caps_and_honours_retry_after() {
        let config = BackoffConfig::new(Duration::from_secs(1), Duration::from_secs(5), 0.0).unwrap();
        let mut a = Attempts::new(config);
        let delays: Vec<_> = (0..5).map(|_| a.next_delay(None).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 5, 5]);
        a.reset();
        assert_eq!(a.next_delay(Some(Duration::from_secs(9))), Duration::from_secs(9));
        assert_eq!(a.next_delay(None).as_secs(), 2);
        a.reset();
        assert_eq!(a.next_delay(None).as_secs(), 1);
    }

    #[test]
    fn first_expiry_is_free_then_delays_grow() {
        let config = BackoffConfig::new(Duration::from_secs(1), Duration::from_secs(5), 0.0).unwrap();
        let mut a = Attempts::new(config);
        assert_eq!(a.expired_delay(), None);
        assert_eq!(a.expired_delay(), Some(Duration::from_secs(2)));
        a.reset();
        assert_eq!(a.expired_delay(), None);
    }
}
