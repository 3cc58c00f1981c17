//! One round of the Lease protocol: a single acquire-or-renew attempt, or a release.

use std::sync::Arc;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::{SignedDuration, Timestamp};

use super::config::LeaseConfig;
use crate::clock::Clock;
use crate::error::StoreError;
use crate::model::{ModelError, Object, ObjectMeta, ObjectRef, TypeRef};
use crate::store::{ObjectStore, ObjectStoreExt, WriteParams};

/// Why a lease operation failed (a lost race is not a failure: see [`LockOutcome::Conflict`]).
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// The store failed.
    #[error("lease store request failed: {0}")]
    Store(#[from] StoreError),
    /// The stored object is not a valid Lease.
    #[error("stored lease is malformed: {0}")]
    Malformed(#[from] ModelError),
    /// Releasing the Lease on shutdown did not finish in time.
    #[error("releasing the lease took longer than {0:?}")]
    ReleaseTimedOut(std::time::Duration),
}

/// Result of one acquire-or-renew attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LockOutcome {
    /// We hold the Lease; `renew_time` is what we wrote.
    Held {
        /// The `renewTime` written.
        renew_time: Timestamp,
        /// True when the Lease changed hands (or was created) in this attempt.
        acquired: bool,
    },
    /// Another candidate holds a Lease that has not expired.
    HeldByOther {
        /// Its `holderIdentity`.
        holder: String,
        /// When it expires unless renewed (by our clock).
        expires: Timestamp,
    },
    /// The Lease changed between our read and our write: another candidate won this round.
    Conflict,
}

/// The Lease protocol's single steps over an [`ObjectStore`], without any timing loop.
pub struct LeaseLock<S> {
    store: S,
    clock: Arc<dyn Clock>,
    config: LeaseConfig,
}

impl<S: ObjectStore> LeaseLock<S> {
    /// A lock on the Lease named by `config`.
    pub fn new(store: S, clock: Arc<dyn Clock>, config: LeaseConfig) -> Self {
        Self { store, clock, config }
    }

    /// The configuration.
    pub fn config(&self) -> &LeaseConfig {
        &self.config
    }

    /// The Lease's object reference.
    pub fn lease_ref(&self) -> ObjectRef {
        ObjectRef::namespaced(TypeRef::of::<Lease>(), self.config.namespace(), self.config.name())
    }

    /// Creates the Lease for us, takes over an expired or released one, or renews ours.
    ///
    /// # Errors
    /// [`LeaseError`] when the store fails or the stored Lease does not parse; a lost race is
    /// `Ok(LockOutcome::Conflict)`.
    pub async fn try_acquire_or_renew(&self) -> Result<LockOutcome, LeaseError> {
        let now = self.clock.now();
        let Some(current) = self.store.get_opt(&self.lease_ref()).await? else {
            return self.create(now).await;
        };
        let lease: Lease = current.to_resource()?;
        let spec = lease.spec.clone().unwrap_or_default();
        let holder = spec.holder_identity.clone().filter(|h| !h.is_empty());
        let ours = holder.as_deref() == Some(self.config.identity());
        if let Some(holder) = holder.filter(|_| !ours) {
            let expires = expiry(&spec);
            if expires > now {
                return Ok(LockOutcome::HeldByOther { holder, expires });
            }
        }
        let new_spec = LeaseSpec {
            holder_identity: Some(self.config.identity().to_owned()),
            lease_duration_seconds: Some(self.config.lease_duration_seconds()),
            renew_time: Some(MicroTime(now)),
            acquire_time: if ours { spec.acquire_time } else { Some(MicroTime(now)) },
            lease_transitions: if ours {
                spec.lease_transitions
            } else {
                Some(spec.lease_transitions.unwrap_or(0).saturating_add(1))
            },
            ..spec
        };
        let updated = Lease {
            spec: Some(new_spec),
            ..lease
        };
        match self
            .store
            .replace(&Object::from_typed(&updated)?, &WriteParams::default())
            .await
        {
            Ok(_) => Ok(LockOutcome::Held {
                renew_time: now,
                acquired: !ours,
            }),
            // Someone wrote (or deleted) the Lease since our read: they won this round.
            Err(StoreError::Conflict { .. } | StoreError::NotFound { .. }) => Ok(LockOutcome::Conflict),
            Err(e) => Err(e.into()),
        }
    }

    /// Clears `holderIdentity` if we still hold the Lease, so another candidate can take it at
    /// once. Returns whether we released it (false: it was not ours, or changed under us).
    ///
    /// # Errors
    /// [`LeaseError`] when the store fails or the stored Lease does not parse.
    pub async fn release(&self) -> Result<bool, LeaseError> {
        let Some(current) = self.store.get_opt(&self.lease_ref()).await? else {
            return Ok(false);
        };
        let lease: Lease = current.to_resource()?;
        let mut spec = lease.spec.clone().unwrap_or_default();
        if spec.holder_identity.as_deref() != Some(self.config.identity()) {
            return Ok(false);
        }
        spec.holder_identity = None;
        // As client-go: a released Lease expires a second after release.
        spec.lease_duration_seconds = Some(1);
        spec.renew_time = Some(MicroTime(self.clock.now()));
        let released = Lease {
            spec: Some(spec),
            ..lease
        };
        match self
            .store
            .replace(&Object::from_typed(&released)?, &WriteParams::default())
            .await
        {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict { .. } | StoreError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn create(&self, now: Timestamp) -> Result<LockOutcome, LeaseError> {
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(self.config.name().to_owned()),
                namespace: Some(self.config.namespace().to_owned()),
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(self.config.identity().to_owned()),
                lease_duration_seconds: Some(self.config.lease_duration_seconds()),
                acquire_time: Some(MicroTime(now)),
                renew_time: Some(MicroTime(now)),
                lease_transitions: Some(0),
                ..LeaseSpec::default()
            }),
        };
        match self
            .store
            .create(&Object::from_typed(&lease)?, &WriteParams::default())
            .await
        {
            Ok(_) => Ok(LockOutcome::Held {
                renew_time: now,
                acquired: true,
            }),
            Err(StoreError::AlreadyExists { .. }) => Ok(LockOutcome::Conflict),
            Err(e) => Err(e.into()),
        }
    }
}

/// When a Lease expires: `renewTime` (or `acquireTime`) plus `leaseDurationSeconds`. A Lease
/// with neither time, or with a non-positive duration, has already expired.
fn expiry(spec: &LeaseSpec) -> Timestamp {
    let Some(MicroTime(renewed)) = spec.renew_time.as_ref().or(spec.acquire_time.as_ref()) else {
        return Timestamp::MIN;
    };
    let seconds = spec.lease_duration_seconds.unwrap_or(0).max(0);
    renewed
        .checked_add(SignedDuration::from_secs(i64::from(seconds)))
        .unwrap_or(Timestamp::MAX)
}
