//! How long a kube-rs operator (`Controller` with `owns`, server-side apply, the `finalizer`
//! helper) takes to converge one object, on the in-process memory API server and on the real
//! kube-apiserver of the test control plane, in the same run. The same controller, as a test,
//! is `backend-memory/tests/http_controller.rs`.
//!
//! `cargo run --release -p operator-runtime-kube --example controller_figures`

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{Event as Finalizer, finalizer};
use kube::runtime::watcher;
use kube::{Client, CustomResource, CustomResourceExt, Resource, ResourceExt};
use operator_runtime_kube::testenv::TestEnv;
use operator_runtime_memory::MemoryStore;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A greeting rendered into a ConfigMap.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "figures.example.com",
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
    /// Reconciled.
    pub ready: bool,
}

type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct ReconcileError(String);

async fn reconcile(greeting: Arc<Greeting>, client: Arc<Client>) -> Result<Action, ReconcileError> {
    let ns = greeting.namespace().unwrap_or_default();
    let api: Api<Greeting> = Api::namespaced((*client).clone(), &ns);
    finalizer(&api, "figures.example.com/cleanup", greeting, |event| async {
        match event {
            Finalizer::Apply(g) => {
                let name = format!("{}-greeting", g.name_any());
                let cm = ConfigMap {
                    metadata: ObjectMeta {
                        name: Some(name.clone()),
                        owner_references: g.controller_owner_ref(&()).map(|o| vec![o]),
                        ..ObjectMeta::default()
                    },
                    data: Some([("message".to_owned(), g.spec.message.clone())].into()),
                    ..ConfigMap::default()
                };
                let ssa = PatchParams::apply("greeting-controller").force();
                let cms: Api<ConfigMap> = Api::namespaced((*client).clone(), &ns);
                cms.patch(&name, &ssa, &Patch::Apply(&cm)).await?;
                let status =
                    json!({"apiVersion": Greeting::api_version(&()), "kind": "Greeting", "status": {"ready": true}});
                api.patch_status(&g.name_any(), &ssa, &Patch::Apply(&status)).await?;
                Ok::<_, kube::Error>(Action::await_change())
            }
            Finalizer::Cleanup(_) => Ok(Action::await_change()),
        }
    })
    .await
    .map_err(|e| ReconcileError(e.to_string()))
}

fn error_policy(_g: Arc<Greeting>, _e: &ReconcileError, _c: Arc<Client>) -> Action {
    Action::requeue(Duration::from_millis(50))
}

/// Installs the CRD, starts the controller, creates one Greeting; returns the time from the
/// controller's start until the child exists and the status is ready.
async fn converge(client: Client, ns: &str) -> Result<Duration, Error> {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    if crds.get_opt(&Greeting::crd().name_any()).await?.is_none() {
        crds.create(&PostParams::default(), &Greeting::crd()).await?;
    }
    // Wait until the resource is served (immediate on memory, a moment on a real server).
    let greetings: Api<Greeting> = Api::namespaced(client.clone(), ns);
    let deadline = Instant::now() + Duration::from_secs(30);
    while greetings.list(&Default::default()).await.is_err() {
        if Instant::now() > deadline {
            return Err("the CRD was not served in time".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let started = Instant::now();
    let controller = tokio::spawn(
        Controller::new(greetings.clone(), watcher::Config::default())
            .owns(cms.clone(), watcher::Config::default())
            .run(reconcile, error_policy, Arc::new(client.clone()))
            .for_each(|_| futures::future::ready(())),
    );
    greetings
        .create(
            &PostParams::default(),
            &Greeting::new("hello", GreetingSpec { message: "hi".into() }),
        )
        .await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = greetings.get("hello").await?.status.is_some_and(|s| s.ready);
        if ready && cms.get_opt("hello-greeting").await?.is_some() {
            break;
        }
        if Instant::now() > deadline {
            return Err("the controller did not converge in 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    controller.abort();
    Ok(elapsed)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let server = operator_runtime_memory::http::start(MemoryStore::new()).await?;
    let memory = converge(server.client(), "default").await?;
    println!("memory API server (HTTP)   converged in {memory:?}");
    let env = TestEnv::shared()?;
    let client = env.client()?;
    let name = format!("controller-figures-{}", std::process::id());
    let mut ns = Namespace::default();
    ns.metadata.name = Some(name.clone());
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await?;
    let real = converge(client, &name).await?;
    println!("kube-apiserver (testenv)   converged in {real:?}");
    Ok(())
}
