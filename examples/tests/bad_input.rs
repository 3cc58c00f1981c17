//! Invalid DataCluster specs get a Degraded condition and a Warning event naming the field, no
//! child is written, and the runner keeps serving the other DataClusters.

use std::sync::Arc;
use std::time::Duration;

use operator_runtime_core::cache::{Cache, CacheConfig};
use operator_runtime_core::clock::ManualClock;
use operator_runtime_core::controller::Controller;
use operator_runtime_core::events::MemoryRecorder;
use operator_runtime_core::reconcile::{ReconcileError, Reconciler, ReconcilerConfig};
use operator_runtime_core::store::{ListParams, WriteParams};
use operator_runtime_core::{Action, Object, ObjectRef, ObjectStore, ObjectStoreExt, TypeRef};
use operator_runtime_examples::crd::DataCluster;
use operator_runtime_examples::operator::{DataClusterOperator, OPERATOR_NAME, data_cluster_type};
use operator_runtime_memory::MemoryStore;
use serde_json::{Value, json};

const NS: &str = "bad";

fn cluster(name: &str, spec: Value) -> Object {
    Object::new(&data_cluster_type(), Some(NS), name).with("spec", spec)
}

fn valid_spec() -> Value {
    json!({"image": "img:1", "nodes": [{"name": "broker", "kind": "Deployment", "replicas": 1}]})
}

async fn reconcile(parent: Arc<Object>, r: Arc<Reconciler<DataClusterOperator>>) -> Result<Action, ReconcileError> {
    Ok(r.reconcile(&parent.object_ref())
        .await?
        .action
        .unwrap_or_else(Action::await_change))
}

#[tokio::test(start_paused = true)]
async fn invalid_specs_are_degraded_with_the_field_named_and_others_unaffected() {
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "dup",
            json!({"image": "i", "nodes": [{"name": "a", "replicas": 1}, {"name": "a", "replicas": 1}]}),
            "spec.nodes[1].name",
        ),
        (
            "negative",
            json!({"image": "i", "nodes": [{"name": "a", "replicas": -1}]}),
            "spec.nodes[0].replicas",
        ),
        (
            "order",
            json!({"image": "i", "nodes": [{"name": "a", "replicas": 1}], "rolloutOrder": ["a", "zz"]}),
            "spec.rolloutOrder[1]",
        ),
        (
            "long",
            json!({"image": "i", "nodes": [{"name": "x".repeat(60), "replicas": 1}]}),
            "spec.nodes[0].name",
        ),
    ];
    let store = MemoryStore::new();
    let p = WriteParams::default();
    store
        .create(
            &Object::from_typed(&<DataCluster as kube::CustomResourceExt>::crd()).unwrap(),
            &p,
        )
        .await
        .unwrap();
    store
        .create(&Object::new(&TypeRef::new("v1", "Namespace"), None, NS), &p)
        .await
        .unwrap();
    let cache = Cache::new(store.clone(), CacheConfig::default());
    let events = MemoryRecorder::new();
    let reconciler = Reconciler::new(
        Arc::new(store.clone()),
        cache.clone(),
        Arc::new(events.clone()),
        Arc::new(ManualClock::at_epoch()),
        Arc::new(DataClusterOperator::default()),
        ReconcilerConfig::new(OPERATOR_NAME),
    );
    reconciler.track().unwrap();
    let mut controller = Controller::new(Arc::new(cache.clone()), data_cluster_type());
    for kind in reconciler.watched_types().into_iter().skip(1) {
        controller = controller.owns(kind);
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let runner = tokio::spawn(controller.run(reconcile, Arc::new(reconciler), async {
        let _ = stopped.await;
    }));

    for (name, spec, _) in &cases {
        store.create(&cluster(name, spec.clone()), &p).await.unwrap();
    }
    store.create(&cluster("good", valid_spec()), &p).await.unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;

    for (name, _, field) in &cases {
        let dc = store
            .get(&ObjectRef::namespaced(data_cluster_type(), NS, *name))
            .await
            .unwrap();
        let conds = dc
            .status()
            .and_then(|s| s.get("conditions"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let degraded = conds
            .iter()
            .find(|c| c["type"] == "Degraded")
            .unwrap_or_else(|| panic!("{name}: no Degraded"));
        assert_eq!(degraded["status"], "True", "{name}");
        assert!(
            degraded["message"].as_str().unwrap().contains(field),
            "{name}: condition names {field}: {degraded}"
        );
        let warned = events.events().iter().any(|e| {
            e.event.reason == "InvalidSpec" && e.event.regarding.name == *name && e.event.note.contains(field)
        });
        assert!(warned, "{name}: a Warning InvalidSpec event names {field}");
    }
    // No child of an invalid cluster was written; the valid one got its children.
    for kind in [
        TypeRef::new("v1", "ConfigMap"),
        TypeRef::new("v1", "Service"),
        TypeRef::new("apps/v1", "Deployment"),
    ] {
        let items = store
            .list_all(&kind, &ListParams::in_namespace(NS))
            .await
            .unwrap()
            .items;
        let names: Vec<&str> = items.iter().map(|o| o.name()).collect();
        assert!(
            names.iter().all(|n| n.starts_with("good-")),
            "{kind}: only good's children: {names:?}"
        );
        assert!(!names.is_empty(), "{kind}: good has its children");
    }
    // The runner is still serving: fixing a spec converges it.
    let mut fixed = (*store
        .get(&ObjectRef::namespaced(data_cluster_type(), NS, "negative"))
        .await
        .unwrap())
    .clone();
    fixed.body.insert(
        "spec".into(),
        json!({"image": "i", "nodes": [{"name": "a", "kind": "Deployment", "replicas": 1}]}),
    );
    store.replace(&fixed, &p).await.unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(
        store
            .get_opt(&ObjectRef::namespaced(
                TypeRef::new("apps/v1", "Deployment"),
                NS,
                "negative-a"
            ))
            .await
            .unwrap()
            .is_some()
    );
    let _ = stop.send(());
    runner.await.unwrap().unwrap();
}
