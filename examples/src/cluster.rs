//! `datacluster --kubeconfig PATH [--metrics-addr ADDR] [--no-leader-election]`: the same
//! operator against a real cluster, through [`KubeStore`], until Ctrl-C. Events are written as
//! events.k8s.io/v1 Events.
//!
//! Leader election is on unless `--no-leader-election` is given: every replica competes for
//! the Lease `datacluster` (in `$POD_NAMESPACE`, else `default`, as `$POD_NAME`, else
//! `<hostname>-<pid>`), and only the holder reconciles; when it stops, it releases the Lease,
//! and when it dies, another replica takes over once the Lease expired.
//! With `--metrics-addr` (say `127.0.0.1:8080`), [`crate::serve`] answers `/metrics`,
//! `/healthz` and `/readyz` there: reconciles by result and their durations, queue depth,
//! backend requests by verb and kind, and child writes skipped because the hash matched.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use kube::config::{KubeConfigOptions, Kubeconfig};
use operator_runtime_core::cache::{Cache, CacheConfig};
use operator_runtime_core::clock::{Clock, Timestamp};
use operator_runtime_core::controller::{Controller, RunSummary};
use operator_runtime_core::events::StoreEventRecorder;
use operator_runtime_core::lease::LeaseConfig;
use operator_runtime_core::metrics::{InstrumentedStore, Metrics};
use operator_runtime_core::reconcile::{ReconcileError, Reconciler, ReconcilerConfig};
use operator_runtime_core::{Action, Object, ObjectStore};
use operator_runtime_kube::KubeStore;

use crate::operator::{DataClusterOperator, OPERATOR_NAME, data_cluster_type};
use crate::serve::{Probes, serve};

/// The wall clock: only a binary reads it; the library takes time as an argument.
struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// How the cluster mode runs.
#[derive(Clone, Debug)]
pub struct ClusterOptions {
    /// The Lease to elect a leader with; None reconciles without election (one replica only).
    pub leader_election: Option<LeaseConfig>,
}

impl ClusterOptions {
    /// Leader election on, with the Lease `datacluster` in `$POD_NAMESPACE` (else `default`)
    /// and this process's identity (`$POD_NAME`, else `<hostname>-<pid>`).
    ///
    /// # Errors
    /// When the namespace or identity from the environment is not a valid Lease setting.
    pub fn from_env() -> Result<Self, String> {
        let namespace = std::env::var("POD_NAMESPACE").unwrap_or_else(|_| "default".to_owned());
        let identity = std::env::var("POD_NAME").unwrap_or_else(|_| {
            let host = std::env::var("HOSTNAME")
                .ok()
                .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "datacluster".to_owned());
            format!("{host}-{}", std::process::id())
        });
        let config = LeaseConfig::new(namespace, OPERATOR_NAME, identity).map_err(|e| e.to_string())?;
        Ok(Self {
            leader_election: Some(config),
        })
    }

    /// No leader election: only safe with a single replica.
    pub fn without_leader_election() -> Self {
        Self { leader_election: None }
    }
}

/// Runs the operator against the cluster of the kubeconfig at `path`; with `metrics_addr`,
/// also serves `/metrics`, `/healthz` and `/readyz` on it.
pub fn run(path: &str, metrics_addr: Option<SocketAddr>, options: ClusterOptions) -> ExitCode {
    // Logs of the runner, the cache and failed event writes; RUST_LOG overrides the level.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // try_init: a subscriber someone installed first wins, instead of a panic.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run_async(path, metrics_addr, options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run_async(path: &str, metrics_addr: Option<SocketAddr>, options: ClusterOptions) -> Result<(), String> {
    let kubeconfig = Kubeconfig::read_from(path).map_err(|e| format!("reading {path}: {e}"))?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|e| format!("kubeconfig {path}: {e}"))?;
    let client = kube::Client::try_from(config).map_err(|e| format!("client: {e}"))?;
    let probes = Probes::new(Metrics::new());
    if let Some(addr) = metrics_addr {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("binding the metrics endpoint on {addr}: {e}"))?;
        println!("serving /metrics, /healthz and /readyz on http://{addr}");
        let served = probes.clone();
        tokio::spawn(async move {
            if let Err(e) = serve(listener, served, std::future::pending()).await {
                eprintln!("metrics endpoint stopped: {e}");
            }
        });
    }
    match &options.leader_election {
        Some(lease) => println!(
            "datacluster operator running against {path} as {} (Lease {}/{}); Ctrl-C stops it",
            lease.identity(),
            lease.namespace(),
            lease.name()
        ),
        None => println!("datacluster operator running against {path}, no leader election; Ctrl-C stops it"),
    }
    let summary = run_operator_with(client, probes, options, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    println!("stopped after {} reconciles", summary.succeeded + summary.failed);
    Ok(())
}

/// [`run_operator_with`] with leader election on ([`ClusterOptions::from_env`]).
///
/// # Errors
/// As [`run_operator_with`], and when the environment gives no valid Lease setting.
pub async fn run_operator(
    client: kube::Client,
    probes: Probes,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<RunSummary, String> {
    run_operator_with(client, probes, ClusterOptions::from_env()?, shutdown).await
}

/// Runs the DataCluster operator through `client` until `shutdown` resolves: the cache over
/// [`KubeStore`] (instrumented into the probes' metrics), the reconciler with events written
/// as events.k8s.io/v1 Events, and the controller runner, gated on leader election when
/// `options` asks for it. `probes` turns ready once every kind synced; a kind the cluster
/// refuses (forbidden, not installed) is named by `/readyz` instead.
///
/// # Errors
/// A message when the cache cannot track the kinds or the runner fails to start.
pub async fn run_operator_with(
    client: kube::Client,
    probes: Probes,
    options: ClusterOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<RunSummary, String> {
    let metrics = probes.metrics().clone();
    let store: Arc<dyn ObjectStore> = Arc::new(InstrumentedStore::new(KubeStore::new(client), metrics.clone()));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let cache = Cache::new(Arc::clone(&store), CacheConfig::default());
    let recorder = StoreEventRecorder::new(Arc::clone(&store), Arc::clone(&clock), OPERATOR_NAME, OPERATOR_NAME);
    let reconciler = Reconciler::new(
        Arc::clone(&store),
        cache.clone(),
        Arc::new(recorder),
        Arc::clone(&clock),
        Arc::new(DataClusterOperator::default()),
        ReconcilerConfig::new(OPERATOR_NAME),
    )
    .with_metrics(metrics.clone());
    reconciler.track().map_err(|e| e.to_string())?;
    // Aborted with this future, so a stopped operator leaves no task holding the cache.
    let readiness = AbortOnDrop(tokio::spawn(follow_readiness(cache.clone(), probes)));
    let mut controller = Controller::new(Arc::new(cache), data_cluster_type()).with_metrics(metrics);
    for kind in reconciler.watched_types().into_iter().skip(1) {
        controller = controller.owns(kind);
    }
    if let Some(lease) = options.leader_election {
        controller = controller.leader_election(store, clock, lease);
    }
    let summary = controller
        .run(reconcile, Arc::new(reconciler), shutdown)
        .await
        .map_err(|e| e.to_string());
    drop(readiness);
    summary
}

/// Aborts the task when dropped.
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

async fn reconcile(parent: Arc<Object>, r: Arc<Reconciler<DataClusterOperator>>) -> Result<Action, ReconcileError> {
    let report = r.reconcile(&parent.object_ref()).await?;
    if let Some(plan) = report.plan.as_ref().filter(|p| !p.is_converged()) {
        println!("{plan}");
    }
    Ok(report.action.unwrap_or_else(Action::await_change))
}
