//! The controller runner over the real internal cache and the memory backend, in virtual time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use operator_runtime_core::cache::{Cache, CacheConfig};
use operator_runtime_core::controller::{Action, Controller, ControllerConfig, RunSummary};
use operator_runtime_core::metrics::{InstrumentedStore, Metrics};
use operator_runtime_core::store::{KindInfo, WriteParams};
use operator_runtime_core::{Object, ObjectStore, TypeRef};
use operator_runtime_memory::MemoryStore;
use operator_runtime_memory::faults::{FaultyStore, Operation};
use serde_json::json;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep};

fn parent_type() -> TypeRef {
    TypeRef::new("example.com/v1", "DataCluster")
}

fn cm_type() -> TypeRef {
    TypeRef::new("v1", "ConfigMap")
}

fn memory_store() -> Arc<MemoryStore> {
    let store = MemoryStore::new();
    store.register_kind(KindInfo {
        type_ref: parent_type(),
        plural: "dataclusters".into(),
        namespaced: true,
        status_subresource: true,
    });
    Arc::new(store)
}

#[derive(Debug, thiserror::Error)]
#[error("never")]
struct Never;

/// Names of reconciled parents with the virtual second they started at.
type Seen = Arc<Mutex<Vec<(String, u64)>>>;

fn start(controller: Controller<Cache>, seen: &Seen) -> (oneshot::Sender<()>, JoinHandle<RunSummary>) {
    let t0 = Instant::now();
    let (stop, stopped) = oneshot::channel::<()>();
    let seen = Arc::clone(seen);
    let handle = tokio::spawn(async move {
        controller
            .run(
                move |object: Arc<Object>, seen: Arc<Mutex<Vec<(String, u64)>>>| async move {
                    seen.lock()
                        .unwrap()
                        .push((object.name().to_owned(), t0.elapsed().as_secs()));
                    Ok::<_, Never>(Action::await_change())
                },
                seen,
                async move {
                    let _ = stopped.await;
                },
            )
            .await
            .unwrap()
    });
    (stop, handle)
}

#[tokio::test(start_paused = true)]
async fn child_changes_in_the_store_reach_the_parent_through_the_cache() {
    let store = memory_store();
    let parent = store
        .create(
            &Object::new(&parent_type(), Some("default"), "dc"),
            &WriteParams::default(),
        )
        .await
        .unwrap();
    let mut child = Object::new(&cm_type(), Some("default"), "dc-config").with("data", json!({"k": "v1"}));
    child.metadata.owner_references = Some(vec![parent.controller_owner_ref().unwrap()]);
    let child = store.create(&child, &WriteParams::default()).await.unwrap();

    // The first list of ConfigMaps is slow: the cache is not synced for 30 s.
    let faulty = FaultyStore::new(Arc::clone(&store), 3);
    faulty.handle().delay_next(Operation::List, 1, Duration::from_secs(30));
    let cache = Cache::new(faulty, CacheConfig::default());
    let seen: Seen = Arc::default();
    let controller = Controller::new(Arc::new(cache), parent_type())
        .owns(cm_type())
        .with_config(ControllerConfig::default().with_resync(None).unwrap());
    let (stop, handle) = start(controller, &seen);

    sleep(Duration::from_secs(29)).await;
    assert!(
        seen.lock().unwrap().is_empty(),
        "no reconcile before the cache is synced"
    );
    sleep(Duration::from_secs(5)).await;
    assert_eq!(*seen.lock().unwrap(), [("dc".to_owned(), 30)]);

    let mut edited = (*child).clone();
    edited.body.insert("data".into(), json!({"k": "v2"}));
    store.replace(&edited, &WriteParams::default()).await.unwrap();
    sleep(Duration::from_secs(1)).await;
    assert_eq!(seen.lock().unwrap().len(), 2, "the child's change ran its parent");
    assert_eq!(seen.lock().unwrap()[1].0, "dc");

    stop.send(()).unwrap();
    let summary = handle.await.unwrap();
    assert_eq!(summary.succeeded, 2);
}

#[tokio::test(start_paused = true)]
async fn backend_requests_are_counted_by_verb_and_kind() {
    let store = memory_store();
    store
        .create(
            &Object::new(&parent_type(), Some("default"), "dc"),
            &WriteParams::default(),
        )
        .await
        .unwrap();
    let metrics = Metrics::new();
    let seen: Seen = Arc::default();
    let controller = Controller::from_store(
        InstrumentedStore::new(Arc::clone(&store), metrics.clone()),
        parent_type(),
    )
    .owns(cm_type())
    .with_metrics(metrics.clone());
    let (stop, handle) = start(controller, &seen);
    sleep(Duration::from_secs(5)).await;
    stop.send(()).unwrap();
    handle.await.unwrap();

    assert_eq!(metrics.store_requests("list", "DataCluster"), 1);
    assert_eq!(
        metrics.store_requests("get", "DataCluster"),
        0,
        "reads come from the cache"
    );
    let text = metrics.encode_text().unwrap();
    for series in [
        r#"operator_runtime_store_requests_total{verb="list",kind="ConfigMap"} 1"#,
        r#"operator_runtime_store_requests_total{verb="watch",kind="DataCluster"} 1"#,
        r#"operator_runtime_reconciles_total{controller="datacluster",result="success"} 1"#,
    ] {
        assert!(text.contains(series), "missing {series} in\n{text}");
    }
}
