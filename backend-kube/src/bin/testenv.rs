//! Starts the test control plane in the foreground for a person to use with kubectl; Ctrl-C
//! stops it. By default a working cluster without containers (etcd, kube-apiserver,
//! kube-controller-manager with the workload controllers, kube-scheduler and three fake nodes);
//! `--minimal` starts only etcd, kube-apiserver and the garbage-collector/namespace controllers.
//!
//! ```text
//! cargo run -p operator-runtime-kube --features testenv --bin testenv [-- --minimal]
//! ```

use std::process::ExitCode;
use std::time::Instant;

use operator_runtime_kube::testenv::{KUBERNETES_VERSION, TestEnv, TestEnvOptions};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let minimal = std::env::args().skip(1).any(|a| a == "--minimal");
    let options = if minimal {
        TestEnvOptions::minimal()
    } else {
        TestEnvOptions::cluster()
    };
    eprintln!(
        "starting etcd, kube-apiserver, kube-controller-manager ({}){} {KUBERNETES_VERSION} ...",
        options.controllers.join(","),
        if options.scheduler {
            ", kube-scheduler and fake nodes"
        } else {
            ""
        },
    );
    let started = Instant::now();
    let env = match TestEnv::start_with(&options).await {
        Ok(env) => env,
        Err(e) => {
            eprintln!("error: the test control plane could not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("started in:  {:.1} s", started.elapsed().as_secs_f64());
    println!("API server:  {}", env.server_url());
    println!("kubeconfig:  {}", env.kubeconfig_path().display());
    println!("logs:        {}", env.dir().display());
    println!();
    println!("  export KUBECONFIG={}", env.kubeconfig_path().display());
    println!("  kubectl get nodes,namespaces");
    println!();
    println!("Press Ctrl-C to stop.");
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("error: cannot wait for Ctrl-C: {e}");
    }
    eprintln!("stopping ...");
    drop(env);
    ExitCode::SUCCESS
}
