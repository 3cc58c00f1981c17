//! Before: a Greeting controller written the kube-rs way (`Controller` with a reflector and
//! `owns`, server-side apply of the child, the `finalizer` helper, a status patch). Every
//! reconcile sends the apply and the status patch, changed or not.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ObjectMeta, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{Event as Finalizer, finalizer};
use kube::runtime::watcher;
use kube::{Client, CustomResource, Resource, ResourceExt};
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

/// Observed state, written by hand.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GreetingStatus {
    /// Reconciled.
    pub ready: bool,
}

const MANAGER: &str = "greeting-controller";
const FINALIZER: &str = "example.com/cleanup";

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An API call failed.
    #[error("kube: {0}")]
    Kube(#[from] kube::Error),
    /// The finalizer helper failed.
    #[error("finalizer: {0}")]
    Finalizer(#[from] Box<kube::runtime::finalizer::Error<Error>>),
    /// A Greeting without namespace.
    #[error("object has no namespace")]
    NoNamespace,
}

async fn reconcile(greeting: Arc<Greeting>, client: Arc<Client>) -> Result<Action, Error> {
    let ns = greeting.namespace().ok_or(Error::NoNamespace)?;
    let greetings: Api<Greeting> = Api::namespaced((*client).clone(), &ns);
    finalizer(&greetings, FINALIZER, greeting, |event| async {
        match event {
            Finalizer::Apply(g) => apply(&g, &client, &ns).await,
            Finalizer::Cleanup(_) => Ok(Action::await_change()),
        }
    })
    .await
    .map_err(|e| Error::Finalizer(Box::new(e)))
}

async fn apply(greeting: &Greeting, client: &Client, ns: &str) -> Result<Action, Error> {
    let name = format!("{}-greeting", greeting.name_any());
    let cm = ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            owner_references: Some(greeting.controller_owner_ref(&()).into_iter().collect()),
            ..ObjectMeta::default()
        },
        data: Some([("message".to_owned(), greeting.spec.message.clone())].into()),
        ..ConfigMap::default()
    };
    let ssa = PatchParams::apply(MANAGER).force();
    Api::<ConfigMap>::namespaced(client.clone(), ns)
        .patch(&name, &ssa, &Patch::Apply(&cm))
        .await?;
    let status = json!({
        "apiVersion": Greeting::api_version(&()), "kind": Greeting::kind(&()),
        "status": {"ready": true},
    });
    Api::<Greeting>::namespaced(client.clone(), ns)
        .patch_status(&greeting.name_any(), &ssa, &Patch::Apply(&status))
        .await?;
    Ok(Action::requeue(Duration::from_secs(300)))
}

fn error_policy(_: Arc<Greeting>, error: &Error, _: Arc<Client>) -> Action {
    tracing::warn!(%error, "reconcile failed");
    Action::requeue(Duration::from_secs(5))
}

/// Runs the controller until `shutdown` resolves.
pub async fn run(client: Client, shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static) {
    let greetings: Api<Greeting> = Api::all(client.clone());
    let config_maps: Api<ConfigMap> = Api::all(client.clone());
    Controller::new(greetings, watcher::Config::default())
        .owns(config_maps, watcher::Config::default())
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, Arc::new(client))
        .for_each(|_| futures::future::ready(()))
        .await;
}
