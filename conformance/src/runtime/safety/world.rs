//! Building a scenario [`World`] whose runtime talks to a wrapped store (see [`super::stores`])
//! while the test's own reads and writes go to the real one.

use std::sync::Arc;

use operator_runtime_core::ObjectStore;
use operator_runtime_core::cache::{Cache, CacheConfig};
use operator_runtime_core::clock::ManualClock;
use operator_runtime_core::counting::CountingStore;
use operator_runtime_core::events::MemoryRecorder;
use operator_runtime_core::reconcile::{DynamicOperator, Reconciler, ReconcilerConfig};

use crate::runtime::fixture::World;
use crate::support::ctx::Ctx;
use crate::support::poll::CONTROLLER_DEADLINE;

/// A [`World`] for `operator` whose runtime (cache and writes) goes through `runtime`, a
/// wrapper of `raw`. Waits until every kind synced or was refused (not for a full sync: a
/// refused kind never syncs).
pub async fn world_over<O: DynamicOperator>(
    raw: Arc<dyn ObjectStore>,
    runtime: Arc<dyn ObjectStore>,
    scenario: &str,
    operator: O,
    manager: &str,
) -> Result<World<O>, String> {
    let ns = {
        let cx = Ctx::new(&*raw, scenario).await?;
        cx.install_crds().await?;
        cx.ns.clone()
    };
    let counted = Arc::new(CountingStore::new(runtime));
    let cache = Cache::new(Arc::clone(&counted), CacheConfig::default());
    let events = MemoryRecorder::new();
    let reconciler = Reconciler::new(
        counted.clone(),
        cache.clone(),
        Arc::new(events.clone()),
        Arc::new(ManualClock::at_epoch()),
        Arc::new(operator),
        ReconcilerConfig::new(manager),
    );
    reconciler.track().map_err(|e| format!("tracking kinds: {e}"))?;
    tokio::time::timeout(CONTROLLER_DEADLINE, cache.wait_all_settled())
        .await
        .map_err(|_| "cache did not settle".to_owned())?
        .map_err(|e| format!("cache: {e}"))?;
    Ok(World {
        raw,
        counted,
        cache,
        events,
        reconciler,
        ns,
    })
}
