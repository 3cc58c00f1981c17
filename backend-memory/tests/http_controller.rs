//! A kube-rs operator, written the way kube-rs users write one (`#[derive(CustomResource)]`,
//! `Controller` with a reflector store and `owns`, server-side apply, the `finalizer` helper),
//! tested in-process against the memory API server: no cluster, no mocks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{Event as Finalizer, finalizer};
use kube::runtime::watcher;
use kube::{Client, CustomResource, CustomResourceExt, Resource, ResourceExt};
use operator_runtime_memory::MemoryStore;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A greeting rendered into a ConfigMap.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "example.com",
    version = "v1",
    kind = "Greeting",
    namespaced,
    status = "GreetingStatus"
)]
pub struct GreetingSpec {
    /// Text to render.
    pub message: String,
}

/// Observed state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GreetingStatus {
    /// The rendered ConfigMap's name.
    pub config_map: Option<String>,
    /// Reconciled.
    pub ready: bool,
}

const MANAGER: &str = "greeting-controller";
const FINALIZER: &str = "example.com/cleanup";

#[derive(Debug, thiserror::Error)]
enum Error {
    #[error("kube: {0}")]
    Kube(#[from] kube::Error),
    #[error("finalizer: {0}")]
    Finalizer(#[from] Box<kube::runtime::finalizer::Error<Error>>),
    #[error("object has no namespace")]
    NoNamespace,
}

struct Ctx {
    client: Client,
}

async fn reconcile(greeting: Arc<Greeting>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let ns = greeting.namespace().ok_or(Error::NoNamespace)?;
    let greetings: Api<Greeting> = Api::namespaced(ctx.client.clone(), &ns);
    finalizer(&greetings, FINALIZER, greeting, |event| async {
        match event {
            Finalizer::Apply(g) => apply(&g, &ctx.client, &ns).await,
            Finalizer::Cleanup(_) => Ok(Action::await_change()),
        }
    })
    .await
    .map_err(|e| Error::Finalizer(Box::new(e)))
}

async fn apply(greeting: &Greeting, client: &Client, ns: &str) -> Result<Action, Error> {
    let name = format!("{}-greeting", greeting.name_any());
    let owner = greeting.controller_owner_ref(&()).into_iter().collect::<Vec<_>>();
    let cm = ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            owner_references: Some(owner),
            ..ObjectMeta::default()
        },
        data: Some([("message".to_owned(), greeting.spec.message.clone())].into()),
        ..ConfigMap::default()
    };
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let ssa = PatchParams::apply(MANAGER).force();
    cms.patch(&name, &ssa, &Patch::Apply(&cm)).await?;
    let greetings: Api<Greeting> = Api::namespaced(client.clone(), ns);
    let status = json!({
        "apiVersion": Greeting::api_version(&()),
        "kind": Greeting::kind(&()),
        "status": {"config_map": name, "ready": true},
    });
    greetings
        .patch_status(&greeting.name_any(), &ssa, &Patch::Apply(&status))
        .await?;
    Ok(Action::requeue(Duration::from_secs(300)))
}

fn error_policy(_g: Arc<Greeting>, e: &Error, _ctx: Arc<Ctx>) -> Action {
    eprintln!("reconcile failed: {e}");
    Action::requeue(Duration::from_millis(50))
}

/// Polls `check` every 10 ms for up to 10 s.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for: {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_controller_converges_against_the_memory_api_server() -> Result<(), Box<dyn std::error::Error>> {
    let server = operator_runtime_memory::http::start(MemoryStore::new()).await?;
    let client = server.client();
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.create(&PostParams::default(), &Greeting::crd()).await?;

    let started = Instant::now();
    let greetings: Api<Greeting> = Api::default_namespaced(client.clone());
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    let controller = Controller::new(greetings.clone(), watcher::Config::default())
        .owns(cms.clone(), watcher::Config::default())
        .shutdown_on_signal()
        .run(reconcile, error_policy, Arc::new(Ctx { client: client.clone() }))
        .for_each(|_| futures::future::ready(()));
    let controller = tokio::spawn(controller);

    greetings
        .create(
            &PostParams::default(),
            &Greeting::new("hello", GreetingSpec { message: "hi".into() }),
        )
        .await?;
    eventually("the ConfigMap is rendered and the status is ready", || async {
        let cm = cms.get_opt("hello-greeting").await.ok().flatten();
        let g = greetings.get_opt("hello").await.ok().flatten();
        cm.and_then(|c| c.data)
            .and_then(|d| d.get("message").cloned())
            .as_deref()
            == Some("hi")
            && g.as_ref().and_then(|g| g.status.as_ref()).is_some_and(|s| s.ready)
            && g.is_some_and(|g| g.finalizers().iter().any(|f| f == FINALIZER))
    })
    .await;
    let converged = started.elapsed();

    // A spec change reaches the child.
    greetings
        .patch(
            "hello",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"message": "bye"}})),
        )
        .await?;
    eventually("the ConfigMap follows the spec", || async {
        cms.get_opt("hello-greeting")
            .await
            .ok()
            .flatten()
            .and_then(|c| c.data)
            .and_then(|d| d.get("message").cloned())
            .as_deref()
            == Some("bye")
    })
    .await;

    // `owns`: deleting the child triggers a reconcile that recreates it.
    cms.delete("hello-greeting", &DeleteParams::default()).await?;
    eventually("the deleted ConfigMap is recreated", || async {
        cms.get_opt("hello-greeting").await.ok().flatten().is_some()
    })
    .await;
    let owner = cms.get("hello-greeting").await?.owner_references().to_vec();
    assert_eq!(owner.first().map(|o| o.kind.as_str()), Some("Greeting"));
    let managers: Vec<String> = cms
        .get("hello-greeting")
        .await?
        .managed_fields()
        .iter()
        .filter_map(|m| m.manager.clone())
        .collect();
    assert!(managers.iter().any(|m| m == MANAGER), "{managers:?}");

    // Deleting the Greeting runs the finalizer, then the garbage collector takes the child.
    greetings.delete("hello", &DeleteParams::default()).await?;
    eventually("the Greeting is gone after its finalizer ran", || async {
        matches!(greetings.get_opt("hello").await, Ok(None))
    })
    .await;
    eventually("the owned ConfigMap is garbage collected", || async {
        matches!(cms.get_opt("hello-greeting").await, Ok(None))
    })
    .await;
    eprintln!("kube-rs controller converged in {converged:?} (in-process memory API server)");
    assert!(converged < Duration::from_secs(5), "{converged:?}");
    controller.abort();
    Ok(())
}
