//! The example operator's cluster mode (`datacluster --kubeconfig`) against a working test
//! cluster (real workload controllers, scheduler, fake nodes; no stand-in patches any status):
//! children created with owner references, the DataCluster Ready through real pods, an image
//! upgrade rolled one node type after another, a manual edit repaired, Events written,
//! `/readyz` readiness, and deletion with cleanup. The operator runs as a ServiceAccount (token
//! from the real token controller) bound to exactly the ClusterRole `datacluster rbac` prints.

use std::future::Future;
use std::time::Duration;

use base64::Engine;
use kube::CustomResourceExt;
use operator_runtime_core::metrics::{Metrics, ReconcileResult};
use operator_runtime_core::store::{DeleteParams, ListParams, Patch, PatchParams, WriteParams};
use operator_runtime_core::{Object, ObjectRef, ObjectStore, StoreError, TypeRef};
use operator_runtime_examples::cluster::run_operator;
use operator_runtime_examples::crd::DataCluster;
use operator_runtime_kube::KubeStore;
use operator_runtime_kube::runtime::health::Probes;
use operator_runtime_kube::testenv::{self, TestEnv};
use serde_json::json;

const DEADLINE: Duration = Duration::from_secs(120);

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
    let Some(env) = testenv::available(TestEnv::shared_cluster()) else {
        return;
    };
    let client = env.client().unwrap();
    env.install_crds(&client, &[DataCluster::crd()]).await.unwrap();
    let ns = env.create_namespace(&client, "datacluster").await.unwrap();
    let store = KubeStore::new(client.clone());
    // The operator runs as a ServiceAccount bound to exactly the rules `datacluster rbac` prints.
    let operator_client = service_account_client(env, &store, &ns).await;

    let probes = Probes::new(Metrics::new());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let operator = tokio::spawn(run_operator(operator_client, probes.clone(), async move {
        let _ = stopped.await;
    }));

    let dc = Object::from_value(json!({
        "apiVersion": "datainfra.io/v1alpha1", "kind": "DataCluster",
        "metadata": {"name": "pinot", "namespace": ns},
        "spec": {"image": "apache/pinot:1.2.0", "rolloutOrder": ["controller", "broker"], "nodes": [
            {"name": "controller", "kind": "StatefulSet", "replicas": 2, "ports": [9000], "config": {"controller.port": "9000"}, "storage": "1Gi"},
            {"name": "broker", "kind": "Deployment", "replicas": 2, "ports": [8099]}
        ]}
    }))
    .unwrap();
    let created_at = tokio::time::Instant::now();
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

    eventually("the DataCluster is Ready through real controllers and pods", || async {
        let p = store.get(&parent_key).await.map_err(|e| e.to_string())?;
        is_ready(&p)
    })
    .await;
    eprintln!(
        "DataCluster Ready {:.1} s after its creation",
        created_at.elapsed().as_secs_f64()
    );

    // An image upgrade rolls the node types in `rolloutOrder`: the broker's pods only change once
    // every controller pod runs the new image and is ready.
    let upgrade = Patch::Merge(json!({"spec": {"image": "apache/pinot:1.3.0"}}));
    store
        .patch(&parent_key, &upgrade, &PatchParams::default())
        .await
        .unwrap();
    let (sts, deploy) = (&children[4], &children[5]);
    let broker_rolled = std::cell::Cell::new(false);
    eventually("the upgrade reaches every node type in order", || {
        let (store, rolled, parent_key) = (&store, &broker_rolled, &parent_key);
        async move {
            let controller = store.get(sts).await.map_err(|e| e.to_string())?;
            let broker = store.get(deploy).await.map_err(|e| e.to_string())?;
            let controller_done = workload_rolled(&controller, "apache/pinot:1.3.0", 2);
            if template_image(&broker) == Some("apache/pinot:1.3.0") {
                assert!(
                    controller_done || rolled.get(),
                    "the broker's template changed before the controller's rollout finished: {}",
                    controller.status().unwrap_or(&json!(null))
                );
                rolled.set(true);
            }
            if rolled.get() && workload_rolled(&broker, "apache/pinot:1.3.0", 2) {
                let p = store.get(parent_key).await.map_err(|e| e.to_string())?;
                return is_ready(&p);
            }
            Err(format!(
                "controller {} broker {}",
                controller.status().unwrap_or(&json!(null)),
                broker.status().unwrap_or(&json!(null))
            ))
        }
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
            Some(r) if *r == json!(2) => Ok(()),
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

/// Ok when the DataCluster's Ready condition is True for its current generation.
fn is_ready(p: &Object) -> Result<(), String> {
    let status = p.status().cloned().unwrap_or_default();
    let ready = status["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True");
    if ready && status["observedGeneration"] == json!(p.metadata.generation) {
        Ok(())
    } else {
        Err(format!("status {status}"))
    }
}

fn template_image(workload: &Object) -> Option<&str> {
    workload.spec()?["template"]["spec"]["containers"][0]["image"].as_str()
}

/// The workload's controller observed its template with `image` and every replica is updated
/// and ready (StatefulSet: current revision caught up; Deployment: no old replicas left).
fn workload_rolled(workload: &Object, image: &str, replicas: i64) -> bool {
    let null = json!(null);
    let status = workload.status().unwrap_or(&null);
    let observed = status["observedGeneration"] == json!(workload.metadata.generation);
    let counts = status["updatedReplicas"] == json!(replicas) && status["readyReplicas"] == json!(replicas);
    let settled = match workload.kind.as_str() {
        "StatefulSet" => status["currentRevision"] == status["updateRevision"],
        _ => status["replicas"] == json!(replicas),
    };
    template_image(workload) == Some(image) && observed && counts && settled
}

/// A client authenticated as a new ServiceAccount in `ns`, bound by a ClusterRoleBinding to the
/// operator's derived ClusterRole; its token comes from the real token controller.
async fn service_account_client(env: &TestEnv, store: &KubeStore, ns: &str) -> kube::Client {
    let mut role = operator_runtime_examples::crd::rbac_cluster_role();
    let role_name = format!("datacluster-operator-{ns}");
    role["metadata"]["name"] = json!(role_name);
    let objects = [
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "operator", "namespace": ns}}),
        role,
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": role_name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role_name},
            "subjects": [{"kind": "ServiceAccount", "name": "operator", "namespace": ns}]}),
        json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
            "metadata": {"name": "operator-token", "namespace": ns,
                "annotations": {"kubernetes.io/service-account.name": "operator"}}}),
    ];
    for o in objects {
        let o = Object::from_value(o).unwrap();
        store.create(&o, &WriteParams::default()).await.unwrap();
    }
    let secret = key("v1", "Secret", ns, "operator-token");
    let token = std::cell::RefCell::new(String::new());
    eventually("the token controller fills the ServiceAccount token", || async {
        let s = store.get(&secret).await.map_err(|e| e.to_string())?;
        let encoded = s.body.get("data").and_then(|d| d.get("token")).and_then(|t| t.as_str());
        let encoded = encoded.ok_or("no token yet")?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| e.to_string())?;
        *token.borrow_mut() = String::from_utf8(bytes).map_err(|e| e.to_string())?;
        Ok(())
    })
    .await;
    let admin = env.config();
    let mut config = kube::Config::new(admin.cluster_url.clone());
    config.root_cert = admin.root_cert.clone();
    config.default_retry = false;
    config.auth_info.token = Some(token.into_inner().into());
    kube::Client::try_from(config).unwrap()
}
