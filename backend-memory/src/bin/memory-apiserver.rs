//! `memory-apiserver`: the memory backend served as a Kubernetes API server on loopback, for
//! kubectl and any client. Prints the path of a kubeconfig pointing at it, then serves until
//! interrupted (SIGINT or SIGTERM; the kubeconfig it wrote is then removed).
//!
//! ```text
//! cargo run -p operator-runtime-memory --bin memory-apiserver -- [--port N] [--crd FILE]... [--kubeconfig PATH]
//! ```
//!
//! `--crd FILE` creates the CustomResourceDefinitions (and any other objects) of a YAML file
//! before serving, e.g. the DataCluster CRD from
//! `cargo run -p operator-runtime-examples --bin datacluster -- crd > datacluster-crd.yaml`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use operator_runtime_core::clock::{Clock, Timestamp};

use operator_runtime_core::store::WriteParams;
use operator_runtime_core::{Object, ObjectStore};
use operator_runtime_memory::MemoryStore;
use operator_runtime_memory::http::ApiServer;

/// The wall clock: creation timestamps and ages as people expect them from a server.
struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

struct Args {
    port: u16,
    crds: Vec<PathBuf>,
    kubeconfig: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        port: 0,
        crds: Vec::new(),
        kubeconfig: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--port" => {
                args.port = value("--port")?.parse().map_err(|e| format!("--port: {e}"))?;
            }
            "--crd" => args.crds.push(PathBuf::from(value("--crd")?)),
            "--kubeconfig" => args.kubeconfig = Some(PathBuf::from(value("--kubeconfig")?)),
            "-h" | "--help" => {
                return Err("usage: memory-apiserver [--port N] [--crd FILE]... [--kubeconfig PATH]".to_owned());
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

/// Creates every object of a (multi-document) YAML file.
async fn preload(store: &MemoryStore, file: &PathBuf) -> Result<usize, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut created = 0;
    let docs: Vec<serde_json::Value> =
        serde_saphyr::from_multiple(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    for value in docs {
        if value.is_null() {
            continue;
        }
        let object = Object::from_value(value).map_err(|e| format!("{}: {e}", file.display()))?;
        store
            .create(&object, &WriteParams::default())
            .await
            .map_err(|e| format!("{}: cannot create {}: {e}", file.display(), object.name()))?;
        created += 1;
    }
    Ok(created)
}

async fn run(args: Args) -> Result<(), String> {
    let store = MemoryStore::builder().clock(Arc::new(SystemClock)).build();
    for file in &args.crds {
        let n = preload(&store, file).await?;
        eprintln!("loaded {n} object(s) from {}", file.display());
    }
    let server = ApiServer::new(store)
        .bind(SocketAddr::from(([127, 0, 0, 1], args.port)))
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let kubeconfig = match &args.kubeconfig {
        Some(path) => {
            std::fs::copy(server.kubeconfig(), path).map_err(|e| format!("{}: {e}", path.display()))?;
            path.clone()
        }
        None => server.kubeconfig().to_path_buf(),
    };
    eprintln!("memory-apiserver serving on {}", server.url());
    println!("{}", kubeconfig.display());
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).map_err(|e| e.to_string())?;
    tokio::select! {
        interrupted = tokio::signal::ctrl_c() => interrupted.map_err(|e| e.to_string())?,
        _ = terminate.recv() => {}
    }
    drop(server);
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("memory-apiserver: {e}");
            ExitCode::FAILURE
        }
    }
}
