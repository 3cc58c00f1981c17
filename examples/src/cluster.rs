//! `datacluster --kubeconfig PATH [--metrics-addr ADDR]`: the same operator against a real
//! cluster, through [`KubeStore`], until Ctrl-C. Events are written as events.k8s.io/v1 Events.
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

/// Runs the operator against the cluster of the kubeconfig at `path`; with `metrics_addr`,
/// also serves `/metrics`, `/healthz` and `/readyz` on it.
pub fn run(path: &str, metrics_addr: Option<SocketAddr>) -> ExitCode {
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
    match runtime.block_on(run_async(path, metrics_addr)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run_async(path: &str, metrics_addr: Option<SocketAddr>) -> Result<(), String> {
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
    println!("datacluster operator running against {path}; Ctrl-C stops it");
    let summary = run_operator(client, probes, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    println!("stopped after {} reconciles", summary.succeeded + summary.failed);
    Ok(())
}

/// Runs the DataCluster operator through `client` until `shutdown` resolves: the cache over
/// [`KubeStore`] (instrumented into the probes' metrics), the reconciler with events written
/// as events.k8s.io/v1 Events, and the controller runner. `probes` turns ready once every
/// cache has synced.
///
/// # Errors
/// A message when the cache cannot track the kinds or the runner fails to start.
pub async fn run_operator(
    client: kube::Client,
    probes: Probes,
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
        clock,
        Arc::new(DataClusterOperator::default()),
        ReconcilerConfig::new(OPERATOR_NAME),
    )
    .with_metrics(metrics.clone());
    reconciler.track().map_err(|e| e.to_string())?;
    let synced = cache.clone();
    tokio::spawn(async move {
        if synced.wait_all_synced().await.is_ok() {
            probes.set_ready();
        }
    });
    let mut controller = Controller::new(Arc::new(cache), data_cluster_type()).with_metrics(metrics);
    for kind in reconciler.watched_types().into_iter().skip(1) {
        controller = controller.owns(kind);
    }
    controller
        .run(reconcile, Arc::new(reconciler), shutdown)
        .await
        .map_err(|e| e.to_string())
}

async fn reconcile(parent: Arc<Object>, r: Arc<Reconciler<DataClusterOperator>>) -> Result<Action, ReconcileError> {
    let report = r.reconcile(&parent.object_ref()).await?;
    if let Some(plan) = report.plan.as_ref().filter(|p| !p.is_converged()) {
        println!("{plan}");
    }
    Ok(report.action.unwrap_or_else(Action::await_change))
}
