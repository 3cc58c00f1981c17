//! Operator (a): this runtime, running the bench operator
//! (`operator_runtime_conformance::bench::ClusterOperator`) as `bench_kube` does (the cache
//! over `KubeStore`, the `Reconciler`), driven by the runtime's own `Controller` runner as a
//! deployed operator is. Events are dropped (the baselines record none either).
//! A forced resync reconciles every cached parent once.

use std::sync::Arc;

use futures::{Stream, StreamExt};
use operator_runtime_conformance::bench::{ClusterOperator, MANAGER};
use operator_runtime_conformance::support::kinds;
use operator_runtime_core::cache::{Cache, CacheConfig};
use operator_runtime_core::clock::{Clock, Timestamp};
use operator_runtime_core::controller::Controller;
use operator_runtime_core::events::{Event, EventRecorder};
use operator_runtime_core::reconcile::{ReconcileError, Reconciler, ReconcilerConfig};
use operator_runtime_core::{Action, Object, ObjectStore, StoreError};
use operator_runtime_kube::KubeStore;

/// The wall clock (the runtime takes time as an argument).
struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// Drops every event.
struct NoEvents;

#[async_trait::async_trait]
impl EventRecorder for NoEvents {
    async fn record(&self, _event: Event) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Runs the runtime's operator until the process ends; each item of `resync` reconciles
/// every cached parent once.
///
/// # Errors
/// A message when the cache cannot track the kinds or the runner fails to start.
pub async fn run(client: kube::Client, resync: impl Stream<Item = ()> + Send + 'static) -> Result<(), String> {
    let store: Arc<dyn ObjectStore> = Arc::new(KubeStore::new(client));
    let cache = Cache::new(Arc::clone(&store), CacheConfig::default());
    let reconciler = Arc::new(Reconciler::new(
        Arc::clone(&store),
        cache.clone(),
        Arc::new(NoEvents),
        Arc::new(SystemClock),
        Arc::new(ClusterOperator::new(MANAGER)),
        ReconcilerConfig::new(MANAGER),
    ));
    reconciler.track().map_err(|e| e.to_string())?;
    let resyncing = Arc::clone(&reconciler);
    let resync_cache = cache.clone();
    tokio::spawn(resync.for_each(move |()| {
        let reconciler = Arc::clone(&resyncing);
        let cache = resync_cache.clone();
        async move {
            let parents = cache.list(&kinds::widget(), None, None).unwrap_or_default();
            for parent in parents {
                if let Err(e) = reconciler.reconcile(&parent.object_ref()).await {
                    eprintln!("runtime: resync {}: {e}", parent.name());
                }
            }
        }
    }));
    let mut controller = Controller::new(Arc::new(cache), kinds::widget());
    for kind in reconciler.watched_types().into_iter().skip(1) {
        controller = controller.owns(kind);
    }
    controller
        .run(reconcile, reconciler, futures::future::pending::<()>())
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

async fn reconcile(parent: Arc<Object>, r: Arc<Reconciler<ClusterOperator>>) -> Result<Action, ReconcileError> {
    let report = r.reconcile(&parent.object_ref()).await?;
    Ok(report.action.unwrap_or_else(Action::await_change))
}
