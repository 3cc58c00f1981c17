//! Golden vectors: the exact canonical hashes of a few objects, pinned across releases.
//!
//! Each pinned hex was computed with the reference definition of the canonical form
//! (`serde_json::to_value`, whose map sorts keys, then `serde_json::to_vec`); every test checks
//! that the reference still gives the pinned hex and that the fast paths give the same.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::ConfigMap;
use operator_runtime_core::Object;
use operator_runtime_core::hash::{HASH_ANNOTATION, canonical_hash, canonical_json, desired_hash, intent_view};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn reference_json(v: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(&serde_json::to_value(v).unwrap()).unwrap()
}

fn reference_hash(v: &impl Serialize) -> String {
    hex::encode(Sha256::digest(reference_json(v)))
}

/// Checks the reference and fast canonical hash of `typed` and the reference and fast desired
/// hash of its `Object` form against the pinned values.
fn check(typed: &impl Serialize, pinned_canonical: &str, pinned_desired: &str) {
    assert_eq!(
        reference_hash(typed),
        pinned_canonical,
        "reference canonical hash moved"
    );
    assert_eq!(
        canonical_hash(typed).unwrap(),
        pinned_canonical,
        "fast canonical hash differs"
    );
    assert_eq!(canonical_json(typed).unwrap(), reference_json(typed));
    let object = Object::from_typed(typed).unwrap();
    assert_eq!(
        canonical_hash(&object).unwrap(),
        pinned_canonical,
        "Object form hashes differently"
    );
    assert_eq!(
        reference_hash(&intent_view(&object)),
        pinned_desired,
        "reference desired hash moved"
    );
    assert_eq!(
        desired_hash(&object).unwrap(),
        pinned_desired,
        "fast desired hash differs"
    );
}

fn config_map() -> ConfigMap {
    let mut cm: ConfigMap = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "app-config", "namespace": "prod", "uid": "not-hashed",
            "labels": {"app.kubernetes.io/name": "app"},
            "annotations": {"note": "tab\there \"quoted\" back\\slash"}},
        "data": {"server.yaml": "port: 8080\nlog: info\n", "z-last": "", "A-upper": "x"}
    }))
    .unwrap();
    cm.metadata
        .annotations
        .get_or_insert_default()
        .insert(HASH_ANNOTATION.into(), "stale".into());
    cm
}

fn stateful_set() -> StatefulSet {
    serde_json::from_str(include_str!("fixtures/statefulset.json")).unwrap()
}

fn custom_resource() -> Value {
    json!({
        "apiVersion": "example.com/v1alpha1", "kind": "DataCluster",
        "metadata": {"name": "größe-☃", "namespace": "ns"},
        "spec": {
            "nodeTypes": [
                {"name": "data", "replicas": 3, "weights": [0.5, 1e-7, 1.5e300, -0.0, 3.0]},
                {"name": "ingest", "replicas": 0, "weights": [], "tags": {}, "extra": null}
            ],
            "matrix": [[1, [2, [3, []]]], [{}], [[{"z": 1, "a": 2}]]],
            "limits": {"u64max": u64::MAX, "i64min": i64::MIN, "pi": std::f64::consts::PI},
            "text": "ünïcödé 日本語 🦀 \u{0001}\u{001f}\u{007f}\u{2028} </script>",
            "enabled": true
        },
        "status": {"phase": "Running"}
    })
}

#[test]
fn config_map_canonical_form_is_pinned_byte_for_byte() {
    let object = Object::from_typed(&config_map()).unwrap();
    let text = String::from_utf8(canonical_json(&intent_view(&object)).unwrap()).unwrap();
    assert_eq!(
        text,
        r#"{"apiVersion":"v1","data":{"A-upper":"x","server.yaml":"port: 8080\nlog: info\n","z-last":""},"kind":"ConfigMap","metadata":{"annotations":{"note":"tab\there \"quoted\" back\\slash"},"labels":{"app.kubernetes.io/name":"app"},"name":"app-config","namespace":"prod"}}"#
    );
}

#[test]
fn golden_config_map() {
    check(
        &config_map(),
        "62bdeff9d2c07e92a2ed3d441dcc2662e0ac756e1e7693425dec736dcbfeec24",
        "9b554a239f4e59ba1cf30a753018136b7eaca2e4d9a3cc319c9664952eb8cb29",
    );
}

#[test]
fn golden_stateful_set_3kb() {
    check(
        &stateful_set(),
        "1c7f37583113da9cdc11b73f6c71c58893da01d1f7d82a7bcce1242b4c5be9b9",
        "7ebe9276ff5e94349e8fa5bfc7f1a724029dab82e974725384ba6df210235dde",
    );
}

#[test]
fn golden_custom_resource_with_nested_arrays_unicode_and_numbers() {
    check(
        &custom_resource(),
        "38327dbf884d28f8ebdb2a1a42023253b607b1ee5b58d8a40355e742e1db2a72",
        "309c798cae920920eaa6d55d9d9f536a5cb9ff26af601872870c4ab5d38b96c2",
    );
}
