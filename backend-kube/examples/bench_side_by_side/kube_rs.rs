//! Baseline (b): the operator a Rust author would write with kube-rs 5's `kube::runtime`
//! alone, for the same workload as the runtime's bench operator. It is a yardstick, not a
//! recommendation, and written the way kube-rs's own examples are:
//!
//! - `Controller::new(widgets).owns(configmaps).owns(services).owns(statefulsets)`: every
//!   change of a child re-queues its parent (kube-rs 5 watches owned kinds' metadata only);
//! - a reflector (`kube::runtime::reflector`) of the StatefulSets, read for readiness;
//! - every reconcile, inside `kube::runtime::finalizer`: a server-side apply (forced) of each
//!   of the 12 children, then a server-side apply of the status (Ready when every StatefulSet
//!   reports its replicas ready);
//! - the "tuned" variant adds what the kube-rs docs suggest for load: a debounce of 1 s and at
//!   most 4 reconciles at once.
//!
//! A forced resync is `Controller::reconcile_all_on`.

use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::finalizer::{Event as Finalizer, finalizer};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, ResourceExt};

use crate::workload::{ChildKind, NODE_TYPES, Widget, children, status_value, sts_ready};

/// The field manager of the baseline.
const MANAGER: &str = "kube-rs-baseline";
/// The finalizer it adds.
const FINALIZER: &str = "bench.operator-runtime.io/kube-rs-cleanup";

/// Why a reconcile failed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ReconcileError(String);

struct Ctx {
    client: Client,
    statefulsets: Store<StatefulSet>,
}

/// Runs the baseline in `ns` until the process ends; `resync` re-queues every parent.
///
/// # Errors
/// A message when the StatefulSet reflector cannot sync.
pub async fn run(
    client: Client,
    ns: &str,
    tuned: bool,
    resync: impl Stream<Item = ()> + Send + 'static,
) -> Result<(), String> {
    let widgets: Api<Widget> = Api::namespaced(client.clone(), ns);
    let sts_api: Api<StatefulSet> = Api::namespaced(client.clone(), ns);
    let (reader, writer) = reflector::store();
    let sts_reflector = reflector::reflector(writer, watcher(sts_api.clone(), watcher::Config::default()))
        .default_backoff()
        .applied_objects()
        .for_each(|_| futures::future::ready(()));
    tokio::spawn(sts_reflector);
    reader
        .wait_until_ready()
        .await
        .map_err(|e| format!("statefulset reflector: {e}"))?;
    let config = if tuned {
        controller::Config::default()
            .debounce(Duration::from_secs(1))
            .concurrency(4)
    } else {
        controller::Config::default()
    };
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        statefulsets: reader,
    });
    Controller::new(widgets, watcher::Config::default())
        .owns(
            Api::<ConfigMap>::namespaced(client.clone(), ns),
            watcher::Config::default(),
        )
        .owns(
            Api::<Service>::namespaced(client.clone(), ns),
            watcher::Config::default(),
        )
        .owns(sts_api, watcher::Config::default())
        .with_config(config)
        .reconcile_all_on(resync)
        .run(reconcile, error_policy, ctx)
        .for_each(|_| futures::future::ready(()))
        .await;
    Ok(())
}

async fn reconcile(widget: Arc<Widget>, ctx: Arc<Ctx>) -> Result<Action, ReconcileError> {
    let ns = widget.namespace().unwrap_or_default();
    let widgets: Api<Widget> = Api::namespaced(ctx.client.clone(), &ns);
    finalizer(&widgets, FINALIZER, widget, |event| async {
        match event {
            Finalizer::Apply(w) => apply(&w, &ctx, &ns).await,
            // The children go with the parent (ownerReferences, garbage collector).
            Finalizer::Cleanup(_) => Ok(Action::await_change()),
        }
    })
    .await
    .map_err(|e| ReconcileError(e.to_string()))
}

async fn apply(w: &Widget, ctx: &Ctx, ns: &str) -> Result<Action, kube::Error> {
    let ssa = PatchParams::apply(MANAGER).force();
    let cms: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), ns);
    let svcs: Api<Service> = Api::namespaced(ctx.client.clone(), ns);
    let stss: Api<StatefulSet> = Api::namespaced(ctx.client.clone(), ns);
    for child in children(w) {
        let patch = Patch::Apply(&child.body);
        match child.kind {
            ChildKind::ConfigMap => drop(cms.patch(&child.name, &ssa, &patch).await?),
            ChildKind::Service => drop(svcs.patch(&child.name, &ssa, &patch).await?),
            ChildKind::StatefulSet => drop(stss.patch(&child.name, &ssa, &patch).await?),
        }
    }
    let name = w.name_any();
    let ready = NODE_TYPES.iter().all(|node| {
        ctx.statefulsets
            .get(&ObjectRef::new(&format!("{name}-{node}")).within(ns))
            .is_some_and(|sts| sts_ready(&sts, w.replicas(node)))
    });
    let widgets: Api<Widget> = Api::namespaced(ctx.client.clone(), ns);
    widgets
        .patch_status(&name, &ssa, &Patch::Apply(&status_value(w, ready)))
        .await?;
    Ok(Action::requeue(Duration::from_secs(3600)))
}

fn error_policy(_w: Arc<Widget>, _e: &ReconcileError, _ctx: Arc<Ctx>) -> Action {
    Action::requeue(Duration::from_secs(1))
}
