//! Validation of Ingress, NetworkPolicy, PersistentVolumeClaim and ServiceAccount writes
//! through the store, as kube-apiserver 1.37.2 answers them (the differential fuzzer's
//! rejections, word for word).

use operator_runtime_core::store::WriteParams;
use operator_runtime_core::{Object, ObjectStore, StoreError, TypeRef};
use operator_runtime_memory::MemoryStore;
use serde_json::{Value, json};

async fn store() -> MemoryStore {
    let store = MemoryStore::new();
    let ns = Object::new(&TypeRef::new("v1", "Namespace"), None, "ns");
    store.create(&ns, &WriteParams::default()).await.unwrap();
    store
}

fn object(api_version: &str, kind: &str, name: &str, fields: Value) -> Object {
    let mut object = Object::new(&TypeRef::new(api_version, kind), Some("ns"), name);
    if let Value::Object(map) = fields {
        object.body.extend(map);
    }
    object
}

/// The message of an Invalid error (panics on anything else).
fn invalid_message(result: Result<impl std::fmt::Debug, StoreError>) -> String {
    match result {
        Err(StoreError::Invalid { message, .. }) => message,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[tokio::test]
async fn an_ingress_needs_absolute_paths_and_backend_ports() {
    let store = store().await;
    let params = WriteParams::default();
    let bad = object(
        "networking.k8s.io/v1",
        "Ingress",
        "ing-2",
        json!({"spec": {"rules": [{"http": {"paths": [{"path": "relative", "pathType": "Prefix",
            "backend": {"service": {"name": "svc-0", "port": {"number": 0}}}}]}}]}}),
    );
    // The causes as the real server lists them (the message's prefix is the pipeline's).
    let message = invalid_message(store.create(&bad, &params).await);
    assert!(
        message.ends_with("[spec.rules[0].http.paths[0].path: Invalid value: \"relative\": must be an absolute path, spec.rules[0].http.paths[0].backend: Required value: port name or number is required]"),
        "{message}"
    );
    let good = object(
        "networking.k8s.io/v1",
        "Ingress",
        "ing-1",
        json!({"spec": {"rules": [{"host": "*.example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": "svc-0", "port": {"name": "http"}}}}]}}]}}),
    );
    let created = store.create(&good, &params).await.unwrap();
    // Removing the only rule leaves neither rules nor a default backend.
    let mut update = (*created).clone();
    update.body["spec"] = json!({"ingressClassName": "other"});
    let message = invalid_message(store.replace(&update, &params).await);
    assert!(
        message.contains("either `defaultBackend` or `rules` must be specified"),
        "{message}"
    );
}

#[tokio::test]
async fn a_network_policy_names_known_policy_types() {
    let store = store().await;
    let params = WriteParams::default();
    let bad = object(
        "networking.k8s.io/v1",
        "NetworkPolicy",
        "netpol-1",
        json!({"spec": {"podSelector": {}, "policyTypes": ["Bogus"]}}),
    );
    let message = invalid_message(store.create(&bad, &params).await);
    assert!(
        message
            .contains("spec.policyTypes[0]: Unsupported value: \"Bogus\": supported values: \"Ingress\", \"Egress\""),
        "{message}"
    );
    let good = object(
        "networking.k8s.io/v1",
        "NetworkPolicy",
        "netpol-2",
        json!({"spec": {"podSelector": {"matchLabels": {"app": "a"}},
            "ingress": [{"from": [{"podSelector": {}}], "ports": [{"port": 80, "endPort": 90}]}],
            "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}]}]}}),
    );
    store.create(&good, &params).await.unwrap();
}

fn claim(name: &str, access_modes: Value, storage: &str) -> Object {
    object(
        "v1",
        "PersistentVolumeClaim",
        name,
        json!({"spec": {"accessModes": access_modes, "resources": {"requests": {"storage": storage}}}}),
    )
}

#[tokio::test]
async fn a_claim_has_known_access_modes_and_an_immutable_spec() {
    let store = store().await;
    let params = WriteParams::default();
    let message = invalid_message(store.create(&claim("pvc-1", json!(["Bogus"]), "1Gi"), &params).await);
    assert!(
        message.contains("spec.accessModes: Unsupported value: \"Bogus\": supported values: \"ReadOnlyMany\", \"ReadWriteMany\", \"ReadWriteOnce\", \"ReadWriteOncePod\""),
        "{message}"
    );
    let message = invalid_message(
        store
            .create(&claim("pvc-1", json!(["ReadWriteOnce"]), "0"), &params)
            .await,
    );
    assert!(
        message.contains("spec.resources[storage]: Invalid value: \"0\": must be greater than zero"),
        "{message}"
    );

    let created = store
        .create(&claim("pvc-2", json!(["ReadWriteOnce"]), "1Gi"), &params)
        .await
        .unwrap();
    let mut resized = (*created).clone();
    resized.body["spec"]["resources"]["requests"]["storage"] = json!("2Gi");
    let message = invalid_message(store.replace(&resized, &params).await);
    assert!(
        message.contains("spec: Forbidden: spec is immutable after creation"),
        "{message}"
    );

    // A first volume name and a class on a claim that had none are allowed.
    let mut bind = (*created).clone();
    bind.body["spec"]["volumeName"] = json!("pv-1");
    bind.body["spec"]["storageClassName"] = json!("other");
    let bound = store.replace(&bind, &params).await.unwrap();

    // Once bound, the claim may grow.
    let mut status = (*bound).clone();
    status.body.insert("status".into(), json!({"phase": "Bound"}));
    let bound = store.replace_status(&status, &params).await.unwrap();
    let mut grow = (*bound).clone();
    grow.body["spec"]["resources"]["requests"]["storage"] = json!("2Gi");
    store.replace(&grow, &params).await.unwrap();
}

#[tokio::test]
async fn a_service_account_keeps_only_the_names_of_its_secrets() {
    let store = store().await;
    let sa = object(
        "v1",
        "ServiceAccount",
        "sa",
        json!({"secrets": [{"name": "s", "namespace": "other"}], "imagePullSecrets": [{"name": ""}]}),
    );
    let created = store.create(&sa, &WriteParams::default()).await.unwrap();
    assert_eq!(created.body["secrets"], json!([{"name": "s"}]));
    let mut update = (*created).clone();
    update.body["secrets"] = json!([{"name": "t", "kind": "Secret"}]);
    let updated = store.replace(&update, &WriteParams::default()).await.unwrap();
    assert_eq!(updated.body["secrets"], json!([{"name": "t"}]));
}
