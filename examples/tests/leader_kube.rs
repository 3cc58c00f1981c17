//! Leader election in the example's cluster mode, on the real API server of the test control
//! plane: two replicas, exactly one reconciles; the leader dies (its task is dropped without
//! releasing the Lease), and the other takes over once the Lease expired.

use std::future::Future;
use std::time::Duration;

use kube::CustomResourceExt;
use operator_runtime_core::lease::LeaseConfig;
use operator_runtime_core::metrics::{Metrics, ReconcileResult};
use operator_runtime_core::store::{Patch, PatchParams, WriteParams};
use operator_runtime_core::{Object, ObjectRef, ObjectStore, TypeRef};
use operator_runtime_examples::cluster::{ClusterOptions, run_operator_with};
use operator_runtime_examples::crd::DataCluster;
use operator_runtime_kube::KubeStore;
use operator_runtime_kube::runtime::health::Probes;
use operator_runtime_kube::testenv::{self, TestEnv};
use serde_json::json;

const DEADLINE: Duration = Duration::from_secs(60);
const LEASE_DURATION: Duration = Duration::from_secs(6);
const RENEW_DEADLINE: Duration = Duration::from_secs(4);
const RETRY_PERIOD: Duration = Duration::from_secs(1);

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

async fn holder(store: &KubeStore, lease: &ObjectRef) -> Result<String, String> {
    let lease = store.get(lease).await.map_err(|e| e.to_string())?;
    Ok(lease
        .spec()
        .and_then(|s| s["holderIdentity"].as_str())
        .unwrap_or_default()
        .to_owned())
}

fn successes(probes: &Probes) -> u64 {
    probes.metrics().reconciles("datacluster", ReconcileResult::Success)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_one_reconciles_and_the_other_takes_over_when_it_dies() {
    let Some(env) = testenv::available(TestEnv::shared()) else {
        return;
    };
    let client = env.client().unwrap();
    env.install_crds(&client, &[DataCluster::crd()]).await.unwrap();
    let ns = env.create_namespace(&client, "leader").await.unwrap();
    let store = KubeStore::new(client.clone());
    let options = |identity: &str| ClusterOptions {
        leader_election: Some(
            LeaseConfig::new(ns.clone(), "datacluster", identity)
                .and_then(|c| c.with_timings(LEASE_DURATION, RENEW_DEADLINE, RETRY_PERIOD))
                .unwrap(),
        ),
    };
    let lease = ObjectRef::namespaced(TypeRef::new("coordination.k8s.io/v1", "Lease"), &ns, "datacluster");

    let probes_a = Probes::new(Metrics::new());
    let replica_a = tokio::spawn(run_operator_with(
        client.clone(),
        probes_a.clone(),
        options("replica-a"),
        std::future::pending(),
    ));
    eventually("replica-a holds the Lease", || async {
        match holder(&store, &lease).await?.as_str() {
            "replica-a" => Ok(()),
            other => Err(format!("holder {other:?}")),
        }
    })
    .await;
    let probes_b = Probes::new(Metrics::new());
    let (stop_b, stopped_b) = tokio::sync::oneshot::channel::<()>();
    let replica_b = tokio::spawn(run_operator_with(
        client.clone(),
        probes_b.clone(),
        options("replica-b"),
        async move {
            let _ = stopped_b.await;
        },
    ));

    let dc = Object::from_value(json!({
        "apiVersion": "datainfra.io/v1alpha1", "kind": "DataCluster",
        "metadata": {"name": "pinot", "namespace": ns},
        "spec": {"image": "apache/pinot:1.2.0", "nodes": [
            {"name": "broker", "kind": "Deployment", "replicas": 2, "ports": [8099]}
        ]}
    }))
    .unwrap();
    store.create(&dc, &WriteParams::default()).await.unwrap();
    let deploy = ObjectRef::namespaced(TypeRef::new("apps/v1", "Deployment"), &ns, "pinot-broker");
    eventually("the leader creates the children", || async {
        store.get(&deploy).await.map(|_| ()).map_err(|e| e.to_string())
    })
    .await;
    // Give the follower time to (wrongly) act, were it not gated.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(successes(&probes_a) > 0, "the leader never reconciled");
    assert_eq!(successes(&probes_b), 0, "the follower reconciled while replica-a led");

    // The leader dies: its task is dropped mid-term, the Lease is not released.
    replica_a.abort();
    let killed = tokio::time::Instant::now();
    let _ = replica_a.await;
    eventually("replica-b takes the Lease over", || async {
        match holder(&store, &lease).await?.as_str() {
            "replica-b" => Ok(()),
            other => Err(format!("holder {other:?}")),
        }
    })
    .await;
    let takeover = killed.elapsed();
    eprintln!(
        "figure: takeover {takeover:?} after the leader died (lease duration {LEASE_DURATION:?}, retry period {RETRY_PERIOD:?})"
    );
    assert!(
        takeover <= LEASE_DURATION + RETRY_PERIOD + Duration::from_secs(2),
        "takeover took {takeover:?}"
    );

    // The new leader reconciles: a manual edit is repaired.
    let edit = Patch::Merge(json!({"spec": {"replicas": 7}}));
    let params = PatchParams {
        field_manager: Some("kubectl-edit".into()),
        ..PatchParams::default()
    };
    store.patch(&deploy, &edit, &params).await.unwrap();
    eventually("replica-b repairs the manual edit", || async {
        let d = store.get(&deploy).await.map_err(|e| e.to_string())?;
        match d.spec().and_then(|s| s.get("replicas")) {
            Some(r) if *r == json!(2) => Ok(()),
            other => Err(format!("replicas {other:?}")),
        }
    })
    .await;
    assert!(
        successes(&probes_b) > 0,
        "replica-b never reconciled after the takeover"
    );

    // A clean stop releases the Lease at once.
    stop_b.send(()).unwrap();
    replica_b.await.unwrap().unwrap();
    let released = holder(&store, &lease).await.unwrap();
    assert!(
        released.is_empty(),
        "Lease still held by {released:?} after a clean stop"
    );
}
