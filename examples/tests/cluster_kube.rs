//! The example operator's cluster mode (`datacluster --kubeconfig`) against the real API server
//! of the test control plane: children created with owner references, status written, a manual
//! edit repaired, Events written, `/readyz` readiness, and deletion with cleanup.

use std::future::Future;
use std::time::Duration;

use kube::CustomResourceExt;
use operator_runtime_core::metrics::{Metrics, ReconcileResult};
use operator_runtime_core::store::{DeleteParams, ListParams, Patch, PatchParams, WriteParams};
use operator_runtime_core::{Object, ObjectRef, ObjectStore, StoreError, TypeRef};
use operator_runtime_examples::cluster::run_operator;
use operator_runtime_examples::crd::DataCluster;
use operator_runtime_examples::serve::Probes;
use operator_runtime_kube::KubeStore;
use operator_runtime_kube::testenv::TestEnv;
use serde_json::json;

const DEADLINE: Duration = Duration::from_secs(60);

/// Polls `check` until it returns Ok, or fails the test with its last error after the deadline.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let start = tokio::time::Instant::now();
    loop {
        match check().await {
            Ok(()) => return,
            Err(why) if start.elapsed() > DEADLINE => panic!("{what}: not within {DEADLINE:?}: {why}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

fn key(api_version: &str, kind: &str, ns: &str, name: &str) -> ObjectRef {
    ObjectRef::namespaced(TypeRef::new(api_version, kind), ns, name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_runs_against_the_real_api_server() {
    let env = TestEnv::shared().unwrap_or_else(|e| panic!("the test control plane is not available: {e}"));
    let client = env.client().unwrap();
    env.install_crds(&client, &[DataCluster::crd()]).await.unwrap();
    let ns = env.create_namespace(&client, "datacluster").await.unwrap();
    let store = KubeStore::new(client.clone());

    let probes = Probes::new(Metrics::new());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let operator = tokio::spawn(run_operator(client, probes.clone(), async move {
        let _ = stopped.await;
    }));

    let dc = Object::from_value(json!({
        "apiVersion": "datainfra.io/v1alpha1", "kind": "DataCluster",
        "metadata": {"name": "pinot", "namespace": ns},
        "spec": {"image": "apache/pinot:1.2.0", "rolloutOrder": ["controller", "broker"], "nodes": [
            {"name": "controller", "kind": "StatefulSet", "replicas": 1, "ports": [9000], "config": {"controller.port": "9000"}},
            {"name": "broker", "kind": "Deployment", "replicas": 2, "ports": [8099]}
        ]}
    }))
    .unwrap();
    let parent = store.create(&dc, &WriteParams::default()).await.unwrap();
    let uid = parent.uid().unwrap().to_owned();

    let children = [
        key("v1", "ConfigMap", &ns, "pinot-controller-config"),
        key("v1", "ConfigMap", &ns, "pinot-broker-config"),
        key("v1", "Service", &ns, "pinot-controller"),
        key("v1", "Service", &ns, "pinot-broker"),
        key("apps/v1", "StatefulSet", &ns, "pinot-controller"),
        key("apps/v1", "Deployment", &ns, "pinot-broker"),
    ];
    eventually("every child exists, controlled by the DataCluster", || async {
        for k in &children {
            let child = store.get(k).await.map_err(|e| format!("{k}: {e}"))?;
            if !child.is_controlled_by(&uid) {
                return Err(format!("{k} has no controller reference to the DataCluster"));
            }
        }
        Ok(())
    })
    .await;
    let parent_key = parent.object_ref();
    eventually("finalizer and conditions on the DataCluster", || async {
        let p = store.get(&parent_key).await.map_err(|e| e.to_string())?;
        let conditions = p
            .status()
            .and_then(|s| s.get("conditions"))
            .cloned()
            .unwrap_or_default();
        let types: Vec<&str> = conditions
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["type"].as_str())
            .collect();
        if p.metadata.finalizers.as_ref().is_none_or(Vec::is_empty) {
            return Err("no finalizer".into());
        }
        if !["Ready", "Progressing", "Degraded"].iter().all(|t| types.contains(t)) {
            return Err(format!("conditions {conditions}"));
        }
        Ok(())
    })
    .await;

    // Someone scales the StatefulSet by hand: the operator puts its replicas back.
    let sts = &children[4];
    let edit = Patch::Merge(json!({"spec": {"replicas": 7}}));
    let params = PatchParams {
        field_manager: Some("kubectl-edit".into()),
        ..PatchParams::default()
    };
    store.patch(sts, &edit, &params).await.unwrap();
    eventually("the manual edit is repaired", || async {
        let s = store.get(sts).await.map_err(|e| e.to_string())?;
        match s.spec().and_then(|x| x.get("replicas")) {
            Some(r) if *r == json!(1) => Ok(()),
            other => Err(format!("replicas {other:?}")),
        }
    })
    .await;

    eventually("Events were written for the children", || async {
        let events = store
            .list(
                &TypeRef::new("events.k8s.io/v1", "Event"),
                &ListParams::in_namespace(&ns),
            )
            .await
            .map_err(|e| e.to_string())?;
        let reasons: Vec<&str> = events.items.iter().filter_map(|e| e.body["reason"].as_str()).collect();
        if reasons.contains(&"Created") && reasons.contains(&"DriftRepaired") {
            Ok(())
        } else {
            Err(format!("reasons {reasons:?}"))
        }
    })
    .await;
    assert!(probes.is_ready(), "/readyz never turned ready");
    assert!(probes.metrics().reconciles("datacluster", ReconcileResult::Success) > 0);

    store.delete(&parent_key, &DeleteParams::default()).await.unwrap();
    eventually("the DataCluster and its children are gone", || async {
        for k in std::iter::once(&parent_key).chain(&children) {
            match store.get(k).await {
                Err(StoreError::NotFound { .. }) => {}
                Ok(_) => return Err(format!("{k} still exists")),
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(())
    })
    .await;

    stop.send(()).unwrap();
    let summary = operator.await.unwrap().unwrap();
    assert!(summary.succeeded > 0, "{summary:?}");
}
