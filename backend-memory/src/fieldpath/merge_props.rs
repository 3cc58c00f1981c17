//! The merge's shortcut (a value on one side only is copied, not walked) against the merge by
//! the schema walk at every level, on workload-shaped values whose associative lists (containers
//! by name, ports by port and protocol) may hold two items with the same key.

use operator_runtime_core::model::TypeRef;
use proptest::prelude::*;
use serde_json::{Value, json};

use super::{Node, merge_owned, merge_with};

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (0..3i64).prop_map(Value::from),
        "[ab]".prop_map(Value::String),
    ]
}

/// Anything, with keys from a small vocabulary so two values share some.
fn tree() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            proptest::collection::btree_map("[abc]", inner, 0..3).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn port() -> impl Strategy<Value = Value> {
    (
        prop::option::of(80..82i64),
        prop::option::of(prop_oneof![Just("TCP"), Just("UDP")]),
        tree(),
    )
        .prop_map(|(port, protocol, extra)| {
            let mut p = json!({"name": extra});
            if let Some(port) = port {
                p["containerPort"] = json!(port);
                p["port"] = json!(port);
            }
            if let Some(protocol) = protocol {
                p["protocol"] = json!(protocol);
            }
            p
        })
}

fn container() -> impl Strategy<Value = Value> {
    (
        "[ab]",
        prop::option::of(scalar()),
        proptest::collection::vec(port(), 0..3),
        tree(),
    )
        .prop_map(|(name, image, ports, env)| json!({"name": name, "image": image, "ports": ports, "env": env}))
}

/// A workload-, Service- or ConfigMap-shaped object; any part may be missing.
fn object() -> impl Strategy<Value = Value> {
    (
        prop::option::of(proptest::collection::vec(container(), 0..3)),
        prop::option::of(proptest::collection::vec(port(), 0..3)),
        prop::option::of(tree()),
        prop::option::of(proptest::collection::vec("[ab]", 0..3)),
        tree(),
    )
        .prop_map(|(containers, ports, labels, finalizers, data)| {
            json!({
                "metadata": {"labels": labels, "finalizers": finalizers},
                "spec": {"ports": ports, "selector": labels, "replicas": data,
                    "template": {"metadata": {"labels": labels}, "spec": {"containers": containers}}},
                "data": data,
            })
        })
}

/// A custom resource's schema for [`object`]'s shape: containers a map list keyed by name,
/// ports a map list keyed by `containerPort` and `protocol`, the selector an atomic map.
fn crd_schema() -> Value {
    let port = json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true});
    let ports = json!({"type": "array", "items": port, "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["containerPort", "protocol"]});
    json!({"type": "object", "properties": {
        "data": {"x-kubernetes-preserve-unknown-fields": true},
        "spec": {"type": "object", "properties": {
            "ports": ports.clone(),
            "selector": {"type": "object", "x-kubernetes-map-type": "atomic", "x-kubernetes-preserve-unknown-fields": true},
            "replicas": {"x-kubernetes-preserve-unknown-fields": true},
            "template": {"type": "object", "properties": {
                "metadata": {"x-kubernetes-preserve-unknown-fields": true},
                "spec": {"type": "object", "properties": {"containers": {"type": "array",
                    "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                    "items": {"type": "object", "properties": {"ports": ports},
                        "x-kubernetes-preserve-unknown-fields": true}}}}}}}}}})
}

/// The roots the properties run on: built-in kinds (their generated tables) and a CRD schema.
fn roots(schema: &Value) -> Vec<(&'static str, Node<'_>)> {
    let builtin = |v: &str, k: &str| Node::root(&TypeRef::new(v, k), None);
    vec![
        ("StatefulSet", builtin("apps/v1", "StatefulSet")),
        ("Deployment", builtin("apps/v1", "Deployment")),
        ("Service", builtin("v1", "Service")),
        ("ConfigMap", builtin("v1", "ConfigMap")),
        (
            "custom",
            Node::root(&TypeRef::new("example.com/v1", "Custom"), Some(schema)),
        ),
    ]
}

proptest! {
    #[test]
    fn the_shortcut_merges_as_the_walk(live in object(), applied in object(), sides in 0..4u8) {
        let lhs = (sides & 1 == 1).then_some(&live);
        let rhs = (sides & 2 == 2).then_some(&applied);
        let schema = crd_schema();
        for (root, node) in roots(&schema) {
            prop_assert_eq!(merge_with::<true>(lhs, rhs, &node), merge_with::<false>(lhs, rhs, &node), "{}", root);
        }
    }
}

#[test]
fn a_one_sided_list_with_two_items_of_one_key_is_walked() {
    // The walk keeps the first of two containers named `a` twice: the shortcut must not copy.
    let applied = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "a", "image": "1"}, {"name": "a", "image": "2"}]}}}});
    let schema = crd_schema();
    for (root, node) in roots(&schema)
        .into_iter()
        .filter(|(r, _)| ["Deployment", "custom"].contains(r))
    {
        let walked = merge_with::<false>(None, Some(&applied), &node);
        assert_ne!(
            walked.as_ref(),
            Some(&applied),
            "{root}: the example must be one the walk changes"
        );
        assert_eq!(merge_with::<true>(None, Some(&applied), &node), walked, "{root}");
        assert_eq!(merge_owned(None, applied.clone(), &node), walked, "{root}");
    }
}

proptest! {
    #[test]
    fn the_owned_merge_merges_as_the_walk(live in object(), applied in object(), with_live in any::<bool>()) {
        let lhs = with_live.then_some(&live);
        let schema = crd_schema();
        for (root, node) in roots(&schema) {
            prop_assert_eq!(
                merge_owned(lhs, applied.clone(), &node),
                merge_with::<false>(lhs, Some(&applied), &node),
                "{}", root
            );
        }
    }
}
