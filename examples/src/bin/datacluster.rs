//! `datacluster`: the DataCluster operator.
//!
//! - no arguments: runs the whole story on the in-memory backend (virtual time) and exits 0
//!   when every step reached its expected state;
//! - `crd`: prints the CustomResourceDefinition as YAML;
//! - `rbac`: prints the least-privilege ClusterRole the cluster mode needs, as YAML;
//! - `--kubeconfig PATH [--metrics-addr ADDR]`: runs the operator against a real cluster until
//!   Ctrl-C; with `--metrics-addr`, serves `/metrics`, `/healthz` and `/readyz` on `ADDR`.

use std::process::ExitCode;
use std::sync::Arc;

use operator_runtime_examples::{crd, story};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
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
            (Some(path), []) => operator_runtime_examples::cluster::run(path, None),
            (Some(path), [flag, addr]) if flag == "--metrics-addr" => match addr.parse() {
                Ok(addr) => operator_runtime_examples::cluster::run(path, Some(addr)),
                Err(e) => usage(&format!(
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
    eprintln!("error: {why}\nusage: datacluster [crd | rbac | --kubeconfig PATH [--metrics-addr HOST:PORT]]");
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
