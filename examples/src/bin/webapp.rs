//! The WebApp operator's production `main`: the cluster of the environment's kubeconfig,
//! leader election, `/healthz` `/readyz` `/metrics` on :8080, until Ctrl-C.

use operator_runtime_examples::webapp::WebAppOperator;
use operator_runtime_kube::Runtime;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = kube::Client::try_default().await?;
    Runtime::kube(client)
        .operator(WebAppOperator::default())
        .health("0.0.0.0:8080".parse()?)
        .run(async { tokio::signal::ctrl_c().await.unwrap_or_default() })
        .await?;
    Ok(())
}
