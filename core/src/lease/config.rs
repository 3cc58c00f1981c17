//! Settings of one leader election, validated up front.

use std::time::Duration;

/// What is wrong with a [`LeaseConfig`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LeaseConfigError {
    /// The Lease name or namespace is empty.
    #[error("lease {field} must not be empty")]
    EmptyName {
        /// `name`, `namespace` or `identity`.
        field: &'static str,
    },
    /// The timings do not satisfy `0 < retry_period < renew_deadline < lease_duration`.
    #[error(
        "lease timings must satisfy 0 < retry_period ({retry_period:?}) < renew_deadline ({renew_deadline:?}) < lease_duration ({lease_duration:?})"
    )]
    Timings {
        /// The configured lease duration.
        lease_duration: Duration,
        /// The configured renew deadline.
        renew_deadline: Duration,
        /// The configured retry period.
        retry_period: Duration,
    },
    /// The lease duration does not fit `leaseDurationSeconds` (a positive i32 of whole seconds).
    #[error("lease duration {0:?} must be a whole number of seconds between 1 and i32::MAX")]
    Duration(Duration),
}

/// Settings of one leader election.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseConfig {
    namespace: String,
    name: String,
    identity: String,
    lease_duration: Duration,
    renew_deadline: Duration,
    retry_period: Duration,
}

impl LeaseConfig {
    /// Default `leaseDurationSeconds`, as in client-go.
    pub const DEFAULT_LEASE_DURATION: Duration = Duration::from_secs(15);
    /// Default time a leader keeps acting without a successful renew, as in client-go.
    pub const DEFAULT_RENEW_DEADLINE: Duration = Duration::from_secs(10);
    /// Default pause between two attempts, as in client-go.
    pub const DEFAULT_RETRY_PERIOD: Duration = Duration::from_secs(2);

    /// A configuration for Lease `namespace/name` held as `identity` (unique per replica, e.g.
    /// the pod name), with the default timings.
    ///
    /// # Errors
    /// [`LeaseConfigError::EmptyName`] when a string is empty.
    pub fn new(
        namespace: impl Into<String>,
        name: impl Into<String>,
        identity: impl Into<String>,
    ) -> Result<Self, LeaseConfigError> {
        let config = Self {
            namespace: namespace.into(),
            name: name.into(),
            identity: identity.into(),
            lease_duration: Self::DEFAULT_LEASE_DURATION,
            renew_deadline: Self::DEFAULT_RENEW_DEADLINE,
            retry_period: Self::DEFAULT_RETRY_PERIOD,
        };
        for (field, value) in [
            ("namespace", &config.namespace),
            ("name", &config.name),
            ("identity", &config.identity),
        ] {
            if value.is_empty() {
                return Err(LeaseConfigError::EmptyName { field });
            }
        }
        Ok(config)
    }

    /// Replaces the timings.
    ///
    /// # Errors
    /// [`LeaseConfigError::Timings`] unless `0 < retry_period < renew_deadline < lease_duration`;
    /// [`LeaseConfigError::Duration`] unless `lease_duration` is a whole number of seconds that
    /// fits an i32.
    pub fn with_timings(
        mut self,
        lease_duration: Duration,
        renew_deadline: Duration,
        retry_period: Duration,
    ) -> Result<Self, LeaseConfigError> {
        if retry_period.is_zero() || retry_period >= renew_deadline || renew_deadline >= lease_duration {
            return Err(LeaseConfigError::Timings {
                lease_duration,
                renew_deadline,
                retry_period,
            });
        }
        if lease_duration.subsec_nanos() != 0 || i32::try_from(lease_duration.as_secs()).is_err() {
            return Err(LeaseConfigError::Duration(lease_duration));
        }
        self.lease_duration = lease_duration;
        self.renew_deadline = renew_deadline;
        self.retry_period = retry_period;
        Ok(self)
    }

    /// Namespace of the Lease.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }
    /// Name of the Lease.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// This candidate's `holderIdentity`.
    pub fn identity(&self) -> &str {
        &self.identity
    }
    /// How long a Lease stays valid after its `renewTime`.
    pub fn lease_duration(&self) -> Duration {
        self.lease_duration
    }
    /// How long a leader keeps acting after the start of its last successful renew.
    pub fn renew_deadline(&self) -> Duration {
        self.renew_deadline
    }
    /// Pause between two acquire or renew attempts.
    pub fn retry_period(&self) -> Duration {
        self.retry_period
    }

    /// `leaseDurationSeconds` as written into the Lease (validated to fit).
    pub(crate) fn lease_duration_seconds(&self) -> i32 {
        i32::try_from(self.lease_duration.as_secs()).unwrap_or(i32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_inverted_timings_and_empty_names() {
        assert_eq!(
            LeaseConfig::new("", "l", "a"),
            Err(LeaseConfigError::EmptyName { field: "namespace" })
        );
        let cfg = LeaseConfig::new("ns", "l", "a").unwrap();
        let s = Duration::from_secs;
        assert!(matches!(
            cfg.clone().with_timings(s(10), s(10), s(2)),
            Err(LeaseConfigError::Timings { .. })
        ));
        assert!(matches!(
            cfg.clone().with_timings(s(15), s(10), s(10)),
            Err(LeaseConfigError::Timings { .. })
        ));
        assert!(matches!(
            cfg.clone().with_timings(Duration::from_millis(15_500), s(10), s(2)),
            Err(LeaseConfigError::Duration(_))
        ));
        let ok = cfg.with_timings(s(6), s(4), s(1)).unwrap();
        assert_eq!(ok.lease_duration_seconds(), 6);
    }
}
