//! Starts the test control plane (etcd, kube-apiserver, kube-controller-manager) in the
//! foreground for a person to use with kubectl; Ctrl-C stops it.
//!
//! ```text
//! cargo run -p operator-runtime-kube --bin testenv
//! ```

use std::process::ExitCode;

use operator_runtime_kube::testenv::{KUBERNETES_VERSION, TestEnv};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    eprintln!("starting etcd, kube-apiserver and kube-controller-manager {KUBERNETES_VERSION} ...");
    let env = match TestEnv::start().await {
        Ok(env) => env,
        Err(e) => {
            eprintln!("error: the test control plane could not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("API server:  {}", env.server_url());
    println!("kubeconfig:  {}", env.kubeconfig_path().display());
    println!("logs:        {}", env.dir().display());
    println!();
    println!("  export KUBECONFIG={}", env.kubeconfig_path().display());
    println!("  kubectl get namespaces");
    println!();
    println!("Press Ctrl-C to stop.");
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("error: cannot wait for Ctrl-C: {e}");
    }
    eprintln!("stopping ...");
    drop(env);
    ExitCode::SUCCESS
}
