//! The front door: one builder that runs an operator, on a cluster or on any other backend.
//!
//! ```no_run
//! # use operator_runtime_kube::Runtime;
//! # async fn demo<O: operator_runtime_core::reconcile::DynamicOperator>(op: O) -> Result<(), Box<dyn std::error::Error>> {
//! let client = kube::Client::try_default().await?;
//! Runtime::kube(client)
//!     .operator(op)
//!     .health("0.0.0.0:8080".parse()?)
//!     .run(async { let _ = tokio::signal::ctrl_c().await; })
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! # Expected flow
//! 1. [`Runtime::kube`] (a cluster, through [`KubeStore`]) or [`Runtime::new`] (any
//!    [`ObjectStore`], the memory backend in tests);
//! 2. [`Runtime::operator`], then optional settings: [`Runtime::leader_election`],
//!    [`Runtime::metrics`], [`Runtime::health`], [`Runtime::clock`], ...;
//! 3. [`Runtime::run`] until the shutdown future resolves.
//!
//! # Guarantees
//! - What is watched comes from the operator: its parent type, the kinds its ownership owns
//!   (mapped to the parent through the controller ownerReference) and the kinds it reads
//!   (mapped through the lookups its `desired` made).
//! - Every request is counted in the metrics; events are written as events.k8s.io/v1 Events;
//!   `/readyz` turns ready once every kind synced and names the kinds the cluster refuses.
//! - [`Runtime::kube`] elects a leader by default (Lease named after the operator, in
//!   `$POD_NAMESPACE` or `default`, identity `$POD_NAME` or `<hostname>-<pid>`); only the
//!   leader reconciles, and it releases the Lease on shutdown.
//! - Time comes from the system clock unless [`Runtime::clock`] replaces it.
//!
//! # Errors
//! [`RuntimeError`]: a kind that cannot be tracked, a health address that cannot be bound, an
//! invalid Lease setting, a runner that cannot start.

pub mod health;

use std::net::SocketAddr;
use std::sync::Arc;

use operator_runtime_core::cache::{Cache, CacheConfig, CacheError};
use operator_runtime_core::clock::{Clock, Timestamp};
use operator_runtime_core::controller::{ControllerConfig, ControllerError, RunSummary};
use operator_runtime_core::events::StoreEventRecorder;
use operator_runtime_core::lease::{LeaseConfig, LeaseConfigError};
use operator_runtime_core::metrics::{InstrumentedStore, Metrics};
use operator_runtime_core::reconcile::{DynamicOperator, Reconciler, ReconcilerConfig};
use operator_runtime_core::store::ObjectStore;

use crate::KubeStore;
use health::Probes;

/// The wall clock. Only the runtime's front door reads it; core takes time as an argument.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// Why [`Runtime::run`] could not run the operator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// [`Runtime::run`] was called before [`Runtime::operator`].
    #[error("no operator: call Runtime::operator first")]
    NoOperator,
    /// A kind could not be tracked in the cache.
    #[error("cannot track the operator's kinds: {0}")]
    Track(#[from] CacheError),
    /// The health endpoint could not be bound.
    #[error("cannot bind the health endpoint on {addr}: {source}")]
    Health {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The Lease setting derived from the environment is invalid.
    #[error("leader election: {0}")]
    Lease(#[from] LeaseConfigError),
    /// The runner did not start.
    #[error(transparent)]
    Controller(#[from] ControllerError),
}

/// Whether and how replicas elect a leader.
#[derive(Clone, Debug)]
enum Election {
    Off,
    /// Lease named after the operator, settings from the environment.
    FromEnv,
    With(LeaseConfig),
}

/// An operator runtime being configured; see the [module docs](self).
pub struct Runtime<O = ()> {
    store: Arc<dyn ObjectStore>,
    operator: Option<Arc<O>>,
    clock: Arc<dyn Clock>,
    metrics: Metrics,
    probes: Option<Probes>,
    health: Option<SocketAddr>,
    election: Election,
    reconciler: Option<ReconcilerConfig>,
    controller: ControllerConfig,
    cache: CacheConfig,
}

impl Runtime<()> {
    /// A runtime over any backend (the memory backend in tests, a [`KubeStore`]), without
    /// leader election (add it with [`Runtime::leader_election`]).
    pub fn new(store: impl ObjectStore) -> Self {
        Self::over(Arc::new(store), Election::Off)
    }

    /// A runtime for the cluster `client` talks to: [`KubeStore`], with leader election on.
    pub fn kube(client: kube::Client) -> Self {
        Self::over(Arc::new(KubeStore::new(client)), Election::FromEnv)
    }

    fn over(store: Arc<dyn ObjectStore>, election: Election) -> Self {
        Self {
            store,
            operator: None,
            clock: Arc::new(SystemClock),
            metrics: Metrics::new(),
            probes: None,
            health: None,
            election,
            reconciler: None,
            controller: ControllerConfig::default(),
            cache: CacheConfig::default(),
        }
    }

    /// The operator to run (typed or dynamic).
    pub fn operator<O: DynamicOperator>(self, operator: O) -> Runtime<O> {
        Runtime {
            store: self.store,
            operator: Some(Arc::new(operator)),
            clock: self.clock,
            metrics: self.metrics,
            probes: self.probes,
            health: self.health,
            election: self.election,
            reconciler: self.reconciler,
            controller: self.controller,
            cache: self.cache,
        }
    }
}

impl<O> Runtime<O> {
    /// Elects a leader through this Lease: only the holder reconciles.
    #[must_use]
    pub fn leader_election(mut self, lease: LeaseConfig) -> Self {
        self.election = Election::With(lease);
        self
    }

    /// No leader election: only safe with a single replica.
    #[must_use]
    pub fn without_leader_election(mut self) -> Self {
        self.election = Election::Off;
        self
    }

    /// Records into `metrics` (share it to read the series, or serve it elsewhere).
    #[must_use]
    pub fn metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Shares `probes` (readiness and metrics) with the caller; its metrics replace
    /// [`Runtime::metrics`].
    #[must_use]
    pub fn probes(mut self, probes: Probes) -> Self {
        self.metrics = probes.metrics().clone();
        self.probes = Some(probes);
        self
    }

    /// Serves `/healthz`, `/readyz` and `/metrics` on `addr`.
    #[must_use]
    pub fn health(mut self, addr: SocketAddr) -> Self {
        self.health = Some(addr);
        self
    }

    /// Replaces the system clock (a manual clock in tests).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Replaces the reconciler's settings (field manager, finalizer, ...); the default is
    /// [`ReconcilerConfig::new`] with the operator's manager name.
    #[must_use]
    pub fn reconciler_config(mut self, config: ReconcilerConfig) -> Self {
        self.reconciler = Some(config);
        self
    }

    /// Replaces the runner's settings (concurrency, resync, backoff).
    #[must_use]
    pub fn controller_config(mut self, config: ControllerConfig) -> Self {
        self.controller = config;
        self
    }

    /// Replaces the cache's settings.
    #[must_use]
    pub fn cache_config(mut self, config: CacheConfig) -> Self {
        self.cache = config;
        self
    }
}

impl<O: DynamicOperator> Runtime<O> {
    /// Runs the operator until `shutdown` resolves; see the [module docs](self).
    ///
    /// # Errors
    /// [`RuntimeError`].
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<RunSummary, RuntimeError> {
        let operator = self.operator.ok_or(RuntimeError::NoOperator)?;
        let name = operator.ownership().manager().to_owned();
        let probes = self.probes.unwrap_or_else(|| Probes::new(self.metrics.clone()));
        let store: Arc<dyn ObjectStore> =
            Arc::new(InstrumentedStore::new(Arc::clone(&self.store), self.metrics.clone()));
        let cache = Cache::new(Arc::clone(&store), self.cache);
        let recorder = StoreEventRecorder::new(Arc::clone(&store), Arc::clone(&self.clock), &name, &name);
        let config = self.reconciler.unwrap_or_else(|| ReconcilerConfig::new(&name));
        let reconciler = Reconciler::new(
            Arc::clone(&store),
            cache.clone(),
            Arc::new(recorder),
            Arc::clone(&self.clock),
            operator,
            config,
        )
        .with_metrics(self.metrics.clone());
        reconciler.track()?;
        let mut controller = reconciler
            .controller()
            .with_config(self.controller)
            .with_metrics(self.metrics.clone());
        let lease = match self.election {
            Election::Off => None,
            Election::FromEnv => Some(lease_from_env(&name)?),
            Election::With(lease) => Some(lease),
        };
        if let Some(lease) = lease {
            controller = controller.leader_election(store, Arc::clone(&self.clock), lease);
        }
        let _health = match self.health {
            Some(addr) => {
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(|source| RuntimeError::Health { addr, source })?;
                let served = probes.clone();
                Some(AbortOnDrop(tokio::spawn(async move {
                    if let Err(e) = health::serve(listener, served, std::future::pending()).await {
                        tracing::error!(error = %e, "the health endpoint stopped");
                    }
                })))
            }
            None => None,
        };
        let _readiness = AbortOnDrop(tokio::spawn(follow_readiness(cache, probes)));
        Ok(controller
            .run(Reconciler::run_one, Arc::new(reconciler), shutdown)
            .await?)
    }
}

/// The Lease `name` in `$POD_NAMESPACE` (else `default`), as `$POD_NAME` (else
/// `<hostname>-<pid>`).
///
/// # Errors
/// When the namespace, name or identity is not a valid Lease setting.
pub fn lease_from_env(name: &str) -> Result<LeaseConfig, LeaseConfigError> {
    let namespace = std::env::var("POD_NAMESPACE").unwrap_or_else(|_| "default".to_owned());
    let identity = std::env::var("POD_NAME").unwrap_or_else(|_| {
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| name.to_owned());
        format!("{host}-{}", std::process::id())
    });
    LeaseConfig::new(namespace, name, identity)
}

/// Aborts the task when dropped, so a stopped runtime leaves no task behind.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Keeps `/readyz` up to date: the kinds the cluster refuses to list or watch, and ready once
/// every kind synced.
async fn follow_readiness(cache: Cache, probes: Probes) {
    loop {
        let missing: Vec<String> = cache.unservable().iter().map(ToString::to_string).collect();
        probes.set_missing(missing);
        if cache.all_synced() {
            probes.set_ready();
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}
