//! The migration pair runs: the kube-rs controller and the ported operator, each against its
//! own memory API server over HTTP (a real kube-rs client, no cluster), reach the same child;
//! at steady state the ported one sends no write while the kube-rs one re-applies.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, PostParams};
use kube::{CustomResourceExt, ResourceExt};
use operator_runtime_examples::migration::{kube_rs, ported};
use operator_runtime_memory::MemoryStore;

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for: {what}");
}

async fn rendered(cms: &Api<ConfigMap>) -> Option<String> {
    cms.get_opt("hello-greeting")
        .await
        .ok()
        .flatten()
        .and_then(|c| c.data)
        .and_then(|d| d.get("message").cloned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kube_rs_controller_renders_the_greeting() -> Result<(), Box<dyn std::error::Error>> {
    let server = operator_runtime_memory::http::start(MemoryStore::new()).await?;
    let client = server.client();
    Api::<CustomResourceDefinition>::all(client.clone())
        .create(&PostParams::default(), &kube_rs::Greeting::crd())
        .await?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let controller = tokio::spawn(kube_rs::run(client.clone(), async move {
        let _ = stopped.await;
    }));
    let greetings: Api<kube_rs::Greeting> = Api::default_namespaced(client.clone());
    let spec = kube_rs::GreetingSpec { message: "hi".into() };
    greetings
        .create(&PostParams::default(), &kube_rs::Greeting::new("hello", spec))
        .await?;
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    eventually("the kube-rs controller renders the ConfigMap", || async {
        rendered(&cms).await.as_deref() == Some("hi")
    })
    .await;
    let _ = stop.send(());
    controller.await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ported_operator_renders_the_same_greeting() -> Result<(), Box<dyn std::error::Error>> {
    let server = operator_runtime_memory::http::start(MemoryStore::new()).await?;
    let client = server.client();
    Api::<CustomResourceDefinition>::all(client.clone())
        .create(&PostParams::default(), &ported::Greeting::crd())
        .await?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let operator = tokio::spawn(ported::run(client.clone(), async move {
        let _ = stopped.await;
    }));
    let greetings: Api<ported::Greeting> = Api::default_namespaced(client.clone());
    let spec = ported::GreetingSpec { message: "hi".into() };
    greetings
        .create(&PostParams::default(), &ported::Greeting::new("hello", spec))
        .await?;
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    eventually(
        "the ported operator renders the ConfigMap and reports Ready",
        || async {
            let ready = greetings
                .get_opt("hello")
                .await
                .ok()
                .flatten()
                .and_then(|g| g.status)
                .and_then(|s| s.runtime.condition("Ready"));
            rendered(&cms).await.as_deref() == Some("hi") && ready == Some(true)
        },
    )
    .await;
    let cm = cms.get("hello-greeting").await?;
    assert_eq!(cm.owner_references().first().map(|o| o.kind.as_str()), Some("Greeting"));
    assert_eq!(
        cm.labels().get("app.kubernetes.io/managed-by").map(String::as_str),
        Some("greeting-controller")
    );
    let g = greetings.get("hello").await?;
    assert!(
        g.finalizers()
            .iter()
            .any(|f| f == "operator-runtime.io/greeting-controller"),
        "{:?}",
        g.finalizers()
    );

    // A spec change reaches the child.
    let mut changed = g.clone();
    changed.spec.message = "bye".into();
    greetings.replace("hello", &PostParams::default(), &changed).await?;
    eventually("the ConfigMap follows the spec", || async {
        rendered(&cms).await.as_deref() == Some("bye")
    })
    .await;
    let _ = stop.send(());
    let summary = operator.await??;
    assert!(summary.succeeded > 0, "{summary:?}");
    Ok(())
}
