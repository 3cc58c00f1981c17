//! Quantities of built-in kinds come back from the memory store exactly as kube-apiserver
//! 1.37.2 returned them for the same writes (observed on the test control plane), and a
//! malformed one fails with the server's 400 and message.

use operator_runtime_core::store::{Patch, PatchParams, WriteParams};
use operator_runtime_core::{Object, ObjectStore, StoreError};
use operator_runtime_memory::MemoryStore;
use serde_json::{Value, json};

fn object(value: Value) -> Object {
    Object::from_value(value).expect("test objects are valid")
}

fn deployment(requests: Value, limits: Value, size_limit: Value) -> Object {
    object(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "d", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "d"}}, "template": {
            "metadata": {"labels": {"app": "d"}},
            "spec": {
                "containers": [{"name": "app", "image": "app:1",
                    "resources": {"requests": requests, "limits": limits}}],
                "volumes": [{"name": "scratch", "emptyDir": {"sizeLimit": size_limit}}]}}}
    }))
}

#[tokio::test]
async fn deployment_and_claim_quantities_read_back_as_the_server_returns_them() {
    let store = MemoryStore::new();
    let written = deployment(
        json!({"cpu": "0.5", "memory": "1024Mi", "ephemeral-storage": "0.1m"}),
        json!({"cpu": "1000m", "memory": "1.5Gi", "ephemeral-storage": 2000}),
        json!("0.1m"),
    );
    store.create(&written, &WriteParams::default()).await.expect("create");
    let stored = store.get(&written.object_ref()).await.expect("get");
    let spec = &stored.body["spec"]["template"]["spec"];
    assert_eq!(
        spec["containers"][0]["resources"],
        json!({"requests": {"cpu": "500m", "memory": "1Gi", "ephemeral-storage": "1m"},
               "limits": {"cpu": "1", "memory": "1536Mi", "ephemeral-storage": "2k"}})
    );
    // A single quantity is not a resource list: no rounding to 1m.
    assert_eq!(spec["volumes"][0]["emptyDir"]["sizeLimit"], json!("100u"));

    let claim = object(json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "default"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1024Mi"}}}
    }));
    let created = store
        .create(&claim, &WriteParams::default())
        .await
        .expect("create claim");
    assert_eq!(created.body["spec"]["resources"]["requests"]["storage"], json!("1Gi"));
}

#[tokio::test]
async fn patched_quantities_are_canonical_and_a_respelling_keeps_the_revision() {
    let store = MemoryStore::new();
    let written = deployment(json!({"cpu": "1"}), json!({"cpu": "2"}), json!("1Gi"));
    let created = store.create(&written, &WriteParams::default()).await.expect("create");
    let patch = Patch::Merge(
        json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:1",
        "resources": {"requests": {"cpu": "1000m"}, "limits": {"cpu": 2}}}]}}}}),
    );
    let patched = store
        .patch(&written.object_ref(), &patch, &PatchParams::default())
        .await
        .expect("patch");
    assert_eq!(
        patched.resource_version(),
        created.resource_version(),
        "1000m over 1 is no change"
    );

    let patch = Patch::Merge(json!({"spec": {"template": {"spec": {"volumes": [{"name": "scratch",
        "emptyDir": {"sizeLimit": "1e3"}}]}}}}));
    let patched = store
        .patch(&written.object_ref(), &patch, &PatchParams::default())
        .await
        .expect("patch");
    assert_eq!(
        patched.body["spec"]["template"]["spec"]["volumes"][0]["emptyDir"]["sizeLimit"],
        json!("1e3")
    );
}

#[tokio::test]
async fn a_malformed_quantity_is_the_servers_bad_request() {
    let store = MemoryStore::new();
    let written = deployment(json!({"cpu": "1x"}), json!({}), json!("1Gi"));
    let error = store
        .create(&written, &WriteParams::default())
        .await
        .expect_err("1x is not a quantity");
    match error {
        StoreError::BadRequest { message } => assert_eq!(
            message,
            "Deployment in version \"v1\" cannot be handled as a Deployment: quantities must match the regular \
             expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        ),
        other => panic!("expected BadRequest, got {other:?}"),
    }
    assert!(store.get(&written.object_ref()).await.is_err(), "nothing stored");

    let claim = object(json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "default"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": true}}}
    }));
    let error = store
        .create(&claim, &WriteParams::default())
        .await
        .expect_err("true is not a quantity");
    assert!(matches!(error, StoreError::BadRequest { .. }), "{error:?}");
}
