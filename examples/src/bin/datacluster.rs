//! `datacluster`: the DataCluster operator.
//!
//! - no arguments: runs the whole story on the in-memory backend (virtual time) and exits 0
//!   when every step reached its expected state;
//! - `crd`: prints the CustomResourceDefinition as YAML;
//! - `rbac`: prints the least-privilege ClusterRole the cluster mode needs, as YAML;
//! - `--kubeconfig PATH [--metrics-addr ADDR] [--no-leader-election]`: runs the operator
//!   against a real cluster until Ctrl-C, as one candidate of leader election (unless
//!   `--no-leader-election`); with `--metrics-addr`, serves `/metrics`, `/healthz` and
//!   `/readyz` on `ADDR`.

use std::process::ExitCode;
use std::sync::Arc;

use operator_runtime_examples::cluster::ClusterOptions;
use operator_runtime_examples::{crd, story};

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    // Leader election is on by default; this flag opts out (a single replica only).
    let no_election = args.iter().any(|a| a == "--no-leader-election");
    args.retain(|a| a != "--no-leader-election");
    let options = || {
        if no_election {
            Ok(ClusterOptions::without_leader_election())
        } else {
            ClusterOptions::from_env()
        }
    };
    match args.first().map(String::as_str) {
        None => run_story(),
        Some("rbac") => match crd::rbac_yaml() {
            Ok(yaml) => {
                print!("{yaml}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Some("crd") => match crd::crd_yaml() {
            Ok(yaml) => {
                print!("{yaml}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Some("--kubeconfig") => match (args.get(1), &args[2.min(args.len())..]) {
            (Some(path), []) => match options() {
                Ok(options) => operator_runtime_examples::cluster::run(path, None, options),
                Err(e) => usage(&format!("leader election: {e}")),
            },
            (Some(path), [flag, addr]) if flag == "--metrics-addr" => match (addr.parse(), options()) {
                (Ok(addr), Ok(options)) => operator_runtime_examples::cluster::run(path, Some(addr), options),
                (_, Err(e)) => usage(&format!("leader election: {e}")),
                (Err(e), _) => usage(&format!(
                    "--metrics-addr {addr:?}: {e} (expected HOST:PORT, e.g. 127.0.0.1:8080)"
                )),
            },
            (Some(_), rest) => usage(&format!("unexpected arguments {rest:?}")),
            (None, _) => usage("--kubeconfig needs a path"),
        },
        Some(other) => usage(&format!("unknown argument {other:?}")),
    }
}

fn usage(why: &str) -> ExitCode {
    eprintln!(
        "error: {why}\nusage: datacluster [crd | rbac | --kubeconfig PATH [--metrics-addr HOST:PORT] [--no-leader-election]]"
    );
    ExitCode::from(2)
}

fn run_story() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let log: story::Log = Arc::new(|line: &str| println!("{line}"));
    match runtime.block_on(story::run_story(log)) {
        Ok(summary) => {
            println!("{}", story::render_summary(&summary));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("\nSTORY FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}
