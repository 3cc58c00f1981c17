//! `datacluster --kubeconfig PATH [--metrics-addr ADDR] [--no-leader-election]`: the same
//! operator against a real cluster, through `operator_runtime_kube::KubeStore`, until Ctrl-C. Events are written as
//! events.k8s.io/v1 Events.
//!
//! Leader election is on unless `--no-leader-election` is given: every replica competes for
//! the Lease `datacluster` (in `$POD_NAMESPACE`, else `default`, as `$POD_NAME`, else
//! `<hostname>-<pid>`), and only the holder reconciles; when it stops, it releases the Lease,
//! and when it dies, another replica takes over once the Lease expired.
//! With `--metrics-addr` (say `127.0.0.1:8080`), the runtime answers `/metrics`,
//! `/healthz` and `/readyz` there: reconciles by result and their durations, queue depth,
//! backend requests by verb and kind, and child writes skipped because the hash matched.

use std::net::SocketAddr;
use std::process::ExitCode;

use kube::config::{KubeConfigOptions, Kubeconfig};
use operator_runtime_core::controller::RunSummary;
use operator_runtime_core::lease::LeaseConfig;
use operator_runtime_kube::Runtime;
use operator_runtime_kube::runtime::health::Probes;
use operator_runtime_kube::runtime::lease_from_env;

use crate::operator::DataClusterOperator;

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
        Ok(Self {
            leader_election: Some(lease_from_env("datacluster").map_err(|e| e.to_string())?),
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
    match &options.leader_election {
        Some(lease) => println!(
            "datacluster operator running against {path} as {} (Lease {}/{}); Ctrl-C stops it",
            lease.identity(),
            lease.namespace(),
            lease.name()
        ),
        None => println!("datacluster operator running against {path}, no leader election; Ctrl-C stops it"),
    }
    if let Some(addr) = metrics_addr {
        println!("serving /metrics, /healthz and /readyz on http://{addr}");
    }
    let mut runtime = runtime(client, Probes::default(), options);
    if let Some(addr) = metrics_addr {
        runtime = runtime.health(addr);
    }
    let summary = runtime
        .run(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string())?;
    println!("stopped after {} reconciles", summary.succeeded + summary.failed);
    Ok(())
}

/// The DataCluster operator on the runtime's front door: the cluster of `client`, leader
/// election as `options` says, readiness and metrics in `probes`.
pub fn runtime(client: kube::Client, probes: Probes, options: ClusterOptions) -> Runtime<DataClusterOperator> {
    let runtime = Runtime::kube(client)
        .operator(DataClusterOperator::default())
        .probes(probes);
    match options.leader_election {
        Some(lease) => runtime.leader_election(lease),
        None => runtime.without_leader_election(),
    }
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

/// Runs the DataCluster operator through `client` until `shutdown` resolves ([`runtime`]):
/// `probes` turns ready once every kind synced; a kind the cluster refuses (forbidden, not
/// installed) is named by `/readyz` instead.
///
/// # Errors
/// A message when the cache cannot track the kinds or the runner fails to start.
pub async fn run_operator_with(
    client: kube::Client,
    probes: Probes,
    options: ClusterOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<RunSummary, String> {
    runtime(client, probes, options)
        .run(shutdown)
        .await
        .map_err(|e| e.to_string())
}
