//! Baseline (c): the hand-written reconcile loop operators often start from (the shape of this
//! project's own seed operator), for the same workload. A yardstick, not a recommendation:
//!
//! - a watch of the parents queues a parent on every change; one worker handles the queue in
//!   order, without duplicates;
//! - a reconcile GETs the parent (adding the finalizer with a PUT when missing), then GETs each
//!   of the 12 children and compares a hash annotation of the desired body: missing -> POST,
//!   different -> full PUT, equal -> nothing; then PUTs the status when it differs;
//! - no watch of the children: a parent not yet ready is queued again after 1 s (polling);
//! - a forced resync LISTs the parents and queues every one.

use std::collections::{HashSet, VecDeque};
use std::fmt::Debug;
use std::time::Duration;

use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use futures::{Stream, StreamExt};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use kube::api::{Api, ListParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::workload::{ChildKind, Widget, WidgetStatus, children, hex_sha256, status_value, sts_ready};

/// The finalizer the loop adds.
const FINALIZER: &str = "bench.operator-runtime.io/seed-cleanup";
/// The annotation holding the hash of the desired body.
const HASH: &str = "bench.operator-runtime.io/desired-hash";

/// Why a reconcile failed.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The API server refused or failed.
    #[error("api: {0}")]
    Kube(#[from] kube::Error),
    /// A body did not convert.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

/// Runs the loop in `ns` until the process ends; each item of `resync` queues every parent.
///
/// # Errors
/// Never returns while the process runs; a failed reconcile is retried after 1 s.
pub async fn run(
    client: Client,
    ns: &str,
    mut resync: impl Stream<Item = ()> + Send + Unpin + 'static,
) -> Result<(), String> {
    let widgets: Api<Widget> = Api::namespaced(client.clone(), ns);
    let (tx, mut rx) = unbounded::<String>();
    let watch_tx = tx.clone();
    tokio::spawn(
        watcher(widgets.clone(), watcher::Config::default())
            .default_backoff()
            .applied_objects()
            .for_each(move |w| {
                if let Ok(w) = w {
                    let _ = watch_tx.unbounded_send(w.name_any());
                }
                futures::future::ready(())
            }),
    );
    let resync_tx = tx.clone();
    let list_api = widgets.clone();
    tokio::spawn(async move {
        while resync.next().await.is_some() {
            match list_api.list(&ListParams::default()).await {
                Ok(list) => list
                    .items
                    .iter()
                    .for_each(|w| drop(resync_tx.unbounded_send(w.name_any()))),
                Err(e) => eprintln!("seed loop: resync list: {e}"),
            }
        }
    });
    let mut pending: VecDeque<String> = VecDeque::new();
    let mut queued: HashSet<String> = HashSet::new();
    loop {
        if pending.is_empty() {
            let Some(name) = rx.next().await else { return Ok(()) };
            enqueue(&mut pending, &mut queued, name);
        }
        drain(&mut rx, &mut pending, &mut queued);
        let Some(name) = pending.pop_front() else { continue };
        queued.remove(&name);
        let ready = match reconcile(&client, ns, &name).await {
            Ok(ready) => ready,
            Err(e) => {
                eprintln!("seed loop: {name}: {e}");
                false
            }
        };
        if !ready {
            requeue_later(tx.clone(), name);
        }
    }
}

fn enqueue(pending: &mut VecDeque<String>, queued: &mut HashSet<String>, name: String) {
    if queued.insert(name.clone()) {
        pending.push_back(name);
    }
}

fn drain(rx: &mut UnboundedReceiver<String>, pending: &mut VecDeque<String>, queued: &mut HashSet<String>) {
    while let Ok(name) = rx.try_recv() {
        enqueue(pending, queued, name);
    }
}

fn requeue_later(tx: UnboundedSender<String>, name: String) {
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let _ = tx.unbounded_send(name);
    });
}

/// One pass over parent `name`; returns whether it is ready (nothing left to wait for).
async fn reconcile(client: &Client, ns: &str, name: &str) -> Result<bool, SeedError> {
    let widgets: Api<Widget> = Api::namespaced(client.clone(), ns);
    let pp = PostParams::default();
    let Some(mut w) = widgets.get_opt(name).await? else {
        return Ok(true);
    };
    if w.metadata.deletion_timestamp.is_some() {
        if w.finalizers().iter().any(|f| f == FINALIZER) {
            w.finalizers_mut().retain(|f| f != FINALIZER);
            widgets.replace(name, &pp, &w).await?;
        }
        return Ok(true);
    }
    if !w.finalizers().iter().any(|f| f == FINALIZER) {
        w.finalizers_mut().push(FINALIZER.to_owned());
        w = widgets.replace(name, &pp, &w).await?;
    }
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let svcs: Api<Service> = Api::namespaced(client.clone(), ns);
    let stss: Api<StatefulSet> = Api::namespaced(client.clone(), ns);
    let mut ready = true;
    for child in children(&w) {
        match child.kind {
            ChildKind::ConfigMap => drop(ensure(&cms, &child.name, child.body).await?),
            ChildKind::Service => drop(ensure(&svcs, &child.name, child.body).await?),
            ChildKind::StatefulSet => {
                let sts = ensure(&stss, &child.name, child.body).await?;
                ready &= sts_ready(&sts, w.replicas(child.node));
            }
        }
    }
    let desired: WidgetStatus = serde_json::from_value(status_value(&w, ready)["status"].clone())?;
    if w.status.as_ref() != Some(&desired) {
        w.status = Some(desired);
        widgets.replace_status(name, &pp, &w).await?;
    }
    Ok(ready)
}

/// GET the child; POST it when missing, PUT the whole desired body when its hash annotation
/// differs from the desired body's.
async fn ensure<K>(api: &Api<K>, name: &str, mut body: Value) -> Result<K, SeedError>
where
    K: Resource + Clone + DeserializeOwned + Serialize + Debug,
{
    let hash = hex_sha256(&body);
    body["metadata"]["annotations"] = json!({HASH: hash});
    let pp = PostParams::default();
    match api.get_opt(name).await? {
        None => Ok(api.create(&pp, &serde_json::from_value(body)?).await?),
        Some(current) if current.annotations().get(HASH) == Some(&hash) => Ok(current),
        Some(current) => {
            body["metadata"]["resourceVersion"] = json!(current.resource_version());
            Ok(api.replace(name, &pp, &serde_json::from_value(body)?).await?)
        }
    }
}
