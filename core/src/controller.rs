//! The controller runner: watches the parent kind and everything it owns, and runs the
//! reconcile function for each parent that needs it.
//!
//! - **Sources**: every change of the parent kind queues that parent; a change of an owned
//!   kind queues the parent named by the object's controller ownerReference; a change of a
//!   kind added with [`Controller::watches`] queues whatever its mapper returns.
//! - **Queue** ([`crate::queue`]): keys are de-duplicated, one key never runs twice at once (a
//!   key changed while running runs again right after), and at most
//!   [`ControllerConfig::concurrency`] reconciles run together.
//! - **Outcomes**: `Ok(action)` resets the key's backoff and requeues it after
//!   `action.requeue_after`, if set; `Err` (or a panic) requeues it after an exponential backoff
//!   with seeded jitter ([`crate::backoff`]). A change of the object always queues it at once,
//!   backoff or not, as in controller-runtime and kube-runtime.
//! - **Resync**: every parent is queued every [`ControllerConfig::resync_period`].
//! - **Sync gate**: nothing runs before the source reports synced; then every parent is queued
//!   once.
//! - **Leadership** ([`Controller::leader_election`], which runs a
//!   [`crate::lease::LeaderElector`] next to the runner and releases the Lease on shutdown;
//!   or any gate with [`Controller::leader_gate`]): nothing starts while the value is `false`;
//!   when it turns `false`, running reconciles are aborted at their next await point and the
//!   queue is dropped; when it turns `true`, every parent is queued again.
//! - **Shutdown**: when the shutdown future completes, no new reconcile starts; running ones
//!   get [`ControllerConfig::shutdown_deadline`] to finish and are aborted after it.
//!
//! Everything time-related runs on tokio's clock, so under a paused runtime the runner is
//! deterministic and tests run in virtual time.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use operator_runtime_core::controller::{Action, Controller};
//! use operator_runtime_core::{Object, ObjectStore, TypeRef};
//! use operator_runtime_core::store::WriteParams;
//! use operator_runtime_memory::MemoryStore;
//!
//! #[derive(Debug, thiserror::Error)]
//! #[error("reconcile failed")]
//! struct Error;
//!
//! async fn reconcile(cm: Arc<Object>, seen: Arc<std::sync::Mutex<Vec<String>>>) -> Result<Action, Error> {
//!     seen.lock().unwrap().push(cm.name().to_owned());
//!     Ok(Action::requeue(Duration::from_secs(300)))
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
//! let store = Arc::new(MemoryStore::new());
//! let cm_type = TypeRef::new("v1", "ConfigMap");
//! store.create(&Object::new(&cm_type, Some("default"), "settings"), &WriteParams::default()).await.unwrap();
//!
//! let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
//! let shutdown = tokio::time::sleep(Duration::from_secs(1));
//! let summary = Controller::from_store(Arc::clone(&store), cm_type)
//!     .run(reconcile, Arc::clone(&seen), shutdown)
//!     .await
//!     .unwrap();
//! assert_eq!(*seen.lock().unwrap(), ["settings"]);
//! assert_eq!(summary.succeeded, 1);
//! # });
//! ```

mod config;
mod mapping;
mod reason;
mod runner;
mod source;

use std::sync::Arc;

use tokio::sync::watch;

pub use crate::action::Action;
pub use config::{ControllerConfig, ControllerConfigError, ControllerError};
pub use mapping::Mapper;
pub use reason::ReconcileReason;
pub use runner::RunSummary;
pub use source::{Change, ObjectSource};

use crate::cache::{Cache, CacheConfig};
use crate::clock::Clock;
use crate::lease::{LeaderElector, LeaseConfig};
use crate::metrics::Metrics;
use crate::model::{Object, ObjectRef, TypeRef};
use crate::store::ObjectStore;

/// A controller for one parent kind, built with a small builder and started with
/// [`Controller::run`].
pub struct Controller<Src> {
    source: Arc<Src>,
    watches: mapping::Watches,
    config: ControllerConfig,
    metrics: Metrics,
    name: String,
    leadership: Option<watch::Receiver<bool>>,
    election: Option<LeaderElector<Arc<dyn ObjectStore>>>,
}

impl<Src: ObjectSource> Controller<Src> {
    /// A controller of `parent` objects read from `source`, with the default configuration.
    /// Its name (the `controller` label of metrics and spans) is the parent kind in lower case.
    pub fn new(source: Arc<Src>, parent: TypeRef) -> Self {
        Self {
            source,
            name: parent.kind.to_lowercase(),
            watches: mapping::Watches::new(parent),
            config: ControllerConfig::default(),
            metrics: Metrics::new(),
            leadership: None,
            election: None,
        }
    }

    /// Also watches `kind`, whose objects map to their parent through the controller
    /// ownerReference.
    pub fn owns(mut self, kind: TypeRef) -> Self {
        self.watches.add_owned(kind);
        self
    }

    /// Also watches `kind`, whose objects map to parents through `mapper` (keys of other kinds
    /// are ignored).
    pub fn watches(
        mut self,
        kind: TypeRef,
        mapper: impl Fn(&Object) -> Vec<ObjectRef> + Send + Sync + 'static,
    ) -> Self {
        self.watches.add_mapped(kind, Arc::new(mapper));
        self
    }

    /// The parent kind is cluster-scoped: children map to an owner key without namespace.
    pub fn cluster_scoped_parent(mut self) -> Self {
        self.watches.set_parent_cluster_scoped();
        self
    }

    /// Replaces the configuration.
    pub fn with_config(mut self, config: ControllerConfig) -> Self {
        self.config = config;
        self
    }

    /// Records into `metrics` (a clone shares the series) instead of a private set.
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Sets the controller's name (the `controller` label).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Reconciles only while `leader` is `true` (see the module docs).
    pub fn leader_gate(mut self, leader: watch::Receiver<bool>) -> Self {
        self.leadership = Some(leader);
        self
    }

    /// Elects a leader among the replicas through the Lease of `config` (in `store`, with
    /// `clock` for its timestamps) and reconciles only while this replica leads: the elector
    /// runs next to the runner and, on shutdown, steps down and releases the Lease so another
    /// replica takes over at once. Replaces any [`Controller::leader_gate`].
    ///
    /// Production operators run several replicas; without this each of them would reconcile.
    pub fn leader_election(mut self, store: Arc<dyn ObjectStore>, clock: Arc<dyn Clock>, config: LeaseConfig) -> Self {
        let elector = LeaderElector::new(store, clock, config);
        self.leadership = Some(elector.subscribe());
        self.election = Some(elector);
        self
    }

    /// Whether the runner is gated on leadership ([`Controller::leader_election`] or
    /// [`Controller::leader_gate`]).
    pub fn is_leader_gated(&self) -> bool {
        self.leadership.is_some()
    }

    /// The metrics this controller records into.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }
}

impl Controller<Cache> {
    /// A controller of `parent` objects that reads through a new internal [`Cache`] over
    /// `store` (each watched kind is tracked in all namespaces when the controller starts).
    pub fn from_store(store: impl ObjectStore, parent: TypeRef) -> Self {
        Self::new(Arc::new(Cache::new(store, CacheConfig::default())), parent)
    }
}
