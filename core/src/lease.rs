//! Leader election over any [`ObjectStore`](crate::store::ObjectStore) with
//! `coordination.k8s.io/v1` Lease objects.
//!
//! Several replicas of an operator run a [`LeaderElector`] on the same Lease; at most one of them
//! is leader at a time, and only the leader should reconcile. Everything goes through the
//! store's primitive verbs (get, create, replace with a resourceVersion precondition), so the
//! election runs, and is tested, on every backend.
//!
//! # Protocol
//! - **Acquire**: create the Lease, or take it over (replace with the read resourceVersion) when
//!   its holder is empty or `renewTime + leaseDurationSeconds` lies in the past according to the
//!   injected [`Clock`](crate::clock::Clock). A `Conflict` or `AlreadyExists` means another
//!   candidate won the race; we stay a follower.
//! - **Renew**: the leader rewrites `renewTime` every `retry_period` (replace with
//!   resourceVersion).
//! - **Step down**: a leader whose last successful renew *started* more than `renew_deadline`
//!   ago (measured on tokio's clock) reports `false` on its watch channel at that instant, even if
//!   a renew request is still in flight, and then competes as a follower again.
//! - **Release**: on shutdown the leader first reports `false`, then clears `holderIdentity`
//!   so another candidate can acquire at once instead of waiting for expiry.
//!
//! # Guarantee and its assumptions
//! Let `t` be the moment the leader read the clock for its last successful renew (so
//! `renewTime = t` by its clock). The leader stops acting at `t + renew_deadline` by its own
//! monotonic clock. Another candidate takes over only when *its* clock reads later than
//! `t + lease_duration`. So **no two replicas act as leader at the same time** provided
//!
//! 1. the clocks of the replicas differ by less than `lease_duration - renew_deadline` minus
//!    the bound in 2 (bounded clock skew; each replica's [`Clock`](crate::clock::Clock) and its
//!    tokio clock advance at the same rate), and
//! 2. a write the leader started before its deadline reaches the API server within that same
//!    margin (the caller stops *starting* writes when the channel says `false`, but a request
//!    already sent may still land), and
//! 3. the consumer reacts to the watch channel promptly (it stops taking new work as soon as
//!    the value turns `false`).
//!
//! [`LeaseConfig::new`] rejects configurations where `renew_deadline >= lease_duration` or
//! `retry_period >= renew_deadline`. With the defaults (15 s / 10 s / 2 s) the margin for skew
//! plus write latency is 5 s.
//!
//! Without a renewal (a crashed leader), a follower acquires within
//! `lease_duration + retry_period` of the last successful renew; after a clean release, within
//! `retry_period`.

//! # Example
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use operator_runtime_core::clock::ManualClock;
//! use operator_runtime_core::lease::{LeaderElector, LeaseConfig};
//! use operator_runtime_memory::MemoryStore;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
//! let store = Arc::new(MemoryStore::new());
//! let config = LeaseConfig::new("default", "my-operator", "pod-a").unwrap();
//! let elector = LeaderElector::new(store, Arc::new(ManualClock::at_epoch()), config);
//! let mut leader = elector.subscribe();
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let election = tokio::spawn(elector.run(async move { let _ = stopped.await; }));
//! leader.wait_for(|is_leader| *is_leader).await.unwrap();
//! // ... run the controller with `.leader_gate(leader.clone())` ...
//! stop.send(()).unwrap();
//! election.await.unwrap().unwrap(); // stepped down and released the Lease
//! assert!(!*leader.borrow());
//! # });
//! ```

mod config;
mod elector;
mod lock;

pub use config::{LeaseConfig, LeaseConfigError};
pub use elector::LeaderElector;
pub use lock::{LeaseError, LeaseLock, LockOutcome};
