use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::rbac::v1::ClusterRole;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::json;

use super::*;

fn parent(ns: Option<&str>) -> Object {
    let mut p = Object::new(&TypeRef::new("example.com/v1", "Db"), ns, "db1");
    p.metadata.uid = Some("uid-1".into());
    p
}

fn ownership() -> Ownership {
    Ownership::new("my-op")
        .owns::<ConfigMap>()
        .owns::<StatefulSet>()
        .owns::<ClusterRole>()
        .owns_kind(OwnedKind::namespaced(TypeRef::new("example.com/v1", "Widget")))
}

fn cm(name: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        data: Some([("k".to_string(), "v".to_string())].into()),
        ..Default::default()
    }
}

#[test]
fn child_gets_namespace_owner_labels_and_hash() {
    let mut set = DesiredSet::new(&parent(Some("prod")), &ownership()).unwrap();
    let r = set.add("config", cm("c1")).unwrap();
    assert_eq!(r.namespace.as_deref(), Some("prod"));
    let child = set.get(&r).unwrap();
    assert_eq!(child.label(MANAGED_BY_LABEL), Some("my-op"));
    assert_eq!(child.label(INSTANCE_LABEL), Some("db1"));
    // An undeclared group is independent and sets no component label.
    assert_eq!(child.label(COMPONENT_LABEL), None);
    assert!(!set.groups()[0].ordered);
    let owner = child.controller_owner().unwrap();
    assert_eq!(owner.uid, "uid-1");
    assert_eq!(owner.block_owner_deletion, Some(true));
    assert_eq!(owner.kind, "Db");
    let hash = child.annotation(HASH_ANNOTATION).unwrap();
    assert_eq!(hash, hash::desired_hash(child).unwrap());
}

#[test]
fn hash_does_not_depend_on_parent_uid() {
    let mut a = DesiredSet::new(&parent(Some("prod")), &ownership()).unwrap();
    let mut p2 = parent(Some("prod"));
    p2.metadata.uid = Some("uid-2".into());
    let mut b = DesiredSet::new(&p2, &ownership()).unwrap();
    let r = a.add("g", cm("c")).unwrap();
    b.add("g", cm("c")).unwrap();
    assert_eq!(
        a.get(&r).unwrap().annotation(HASH_ANNOTATION),
        b.get(&r).unwrap().annotation(HASH_ANNOTATION)
    );
}

#[test]
fn callers_maps_are_not_mutated() {
    let mut typed = cm("c");
    typed.metadata.labels = Some(BTreeMap::from([("mine".to_string(), "yes".to_string())]));
    let before = typed.clone();
    let mut set = DesiredSet::new(&parent(Some("prod")), &ownership()).unwrap();
    let r = set.add("g", typed.clone()).unwrap();
    assert_eq!(typed, before);
    assert_eq!(set.get(&r).unwrap().label("mine"), Some("yes"));
}

#[test]
fn ordering_and_labelling_are_separate_choices() {
    let mut set = DesiredSet::new(&parent(Some("prod")), &ownership()).unwrap();
    set.declare(GroupSpec::ordered("gated")).unwrap();
    set.declare(GroupSpec::independent("labelled").component_label("web"))
        .unwrap();
    let gated = set.add("gated", cm("a")).unwrap();
    let labelled = set.add("labelled", cm("b")).unwrap();
    assert_eq!(set.get(&gated).unwrap().label(COMPONENT_LABEL), None);
    assert_eq!(set.get(&labelled).unwrap().label(COMPONENT_LABEL), Some("web"));
    assert!(set.groups()[0].ordered && !set.groups()[1].ordered);
    // The same declaration again is a no-op; other settings under the same name are refused.
    set.declare(GroupSpec::ordered("gated")).unwrap();
    assert!(matches!(
        set.declare(GroupSpec::independent("gated")),
        Err(BuildError::GroupRedeclared { .. })
    ));
}

#[test]
fn own_component_label_wins_and_groups_keep_declaration_order() {
    let mut set = DesiredSet::new(&parent(Some("prod")), &ownership()).unwrap();
    set.declare(GroupSpec::ordered("b").component_label("b")).unwrap();
    set.declare(GroupSpec::ordered("a").component_label("alpha")).unwrap();
    let mut c = cm("c");
    c.metadata.labels = Some(BTreeMap::from([(COMPONENT_LABEL.to_string(), "custom".to_string())]));
    let r1 = set.add("a", c).unwrap();
    let r2 = set.add("a", cm("d")).unwrap();
    set.add("z", cm("e")).unwrap();
    assert_eq!(set.get(&r1).unwrap().label(COMPONENT_LABEL), Some("custom"));
    assert_eq!(set.get(&r2).unwrap().label(COMPONENT_LABEL), Some("alpha"));
    let names: Vec<_> = set.groups().iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["b", "a", "z"]);
}

#[test]
fn duplicate_child_is_an_error() {
    let mut set = DesiredSet::new(&parent(Some("prod")), &ownership()).unwrap();
    set.add("g", cm("c")).unwrap();
    assert!(matches!(set.add("h", cm("c")), Err(BuildError::DuplicateChild { .. })));
}

#[test]
fn namespace_rules() {
    let mut set = DesiredSet::new(&parent(Some("prod")), &ownership()).unwrap();
    let mut other = cm("c");
    other.metadata.namespace = Some("dev".into());
    assert!(matches!(
        set.add("g", other.clone()),
        Err(BuildError::ForeignNamespace { .. })
    ));
    let role = Object::new(&TypeRef::new("rbac.authorization.k8s.io/v1", "ClusterRole"), None, "r");
    assert!(matches!(
        set.add("g", role.clone()),
        Err(BuildError::ClusterScopedChildOfNamespacedParent { .. })
    ));

    let mut cluster = DesiredSet::new(&parent(None), &ownership()).unwrap();
    let r = cluster.add("g", role).unwrap();
    assert_eq!(r.namespace, None);
    assert!(matches!(
        cluster.add("g", cm("c")),
        Err(BuildError::MissingNamespace { .. })
    ));
    let r = cluster.add("g", other).unwrap();
    assert_eq!(r.namespace.as_deref(), Some("dev"));
}

#[test]
fn typed_errors_for_bad_children_and_parents() {
    let mut set = DesiredSet::new(&parent(Some("prod")), &ownership()).unwrap();
    assert!(matches!(set.add("g", cm("")), Err(BuildError::MissingName { .. })));
    assert!(matches!(
        set.add("g", cm(&"a".repeat(300))),
        Err(BuildError::NameTooLong { .. })
    ));
    assert!(matches!(
        set.add("g", cm("Bad_Name")),
        Err(BuildError::InvalidName { .. })
    ));
    let svc = Object::new(&TypeRef::new("v1", "Service"), None, "s");
    assert!(matches!(set.add("g", svc), Err(BuildError::UndeclaredKind { .. })));
    let mut foreign = cm("c");
    foreign.metadata.labels = Some(BTreeMap::from([(INSTANCE_LABEL.to_string(), "other".to_string())]));
    assert!(matches!(set.add("g", foreign), Err(BuildError::ReservedLabel { .. })));

    let mut no_uid = parent(Some("prod"));
    no_uid.metadata.uid = None;
    assert!(matches!(
        DesiredSet::new(&no_uid, &ownership()),
        Err(BuildError::ParentWithoutUid { .. })
    ));
    let long = Object::new(&TypeRef::new("example.com/v1", "Db"), Some("p"), &"a".repeat(64));
    let mut long = long;
    long.metadata.uid = Some("u".into());
    assert!(matches!(
        DesiredSet::new(&long, &ownership()),
        Err(BuildError::InvalidLabelValue { .. })
    ));
}

#[test]
fn server_fields_status_and_foreign_controllers_are_dropped() {
    let mut set = DesiredSet::new(&parent(Some("prod")), &ownership()).unwrap();
    let mut w = Object::from_value(json!({"apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w", "uid": "x", "resourceVersion": "9", "generation": 3,
            "ownerReferences": [
                {"apiVersion": "v1", "kind": "Other", "name": "o", "uid": "o-1", "controller": true},
                {"apiVersion": "v1", "kind": "Keep", "name": "k", "uid": "k-1"}]},
        "spec": {"size": 1}, "status": {"ready": true}}))
    .unwrap();
    w.metadata.annotations = Some(BTreeMap::from([(HASH_ANNOTATION.to_string(), "stale".to_string())]));
    let r = set.add("g", w).unwrap();
    let child = set.get(&r).unwrap();
    assert_eq!(child.uid(), None);
    assert_eq!(child.resource_version(), None);
    assert!(child.status().is_none());
    let refs = child.metadata.owner_references.as_ref().unwrap();
    assert_eq!(refs.len(), 2);
    assert!(refs.iter().any(|r| r.uid == "k-1"));
    assert!(child.is_controlled_by("uid-1"));
    assert_ne!(child.annotation(HASH_ANNOTATION), Some("stale"));
}

#[test]
fn secret_string_data_is_folded_into_data() {
    let own = ownership().owns_kind(OwnedKind::of::<k8s_openapi::api::core::v1::Secret>());
    let mut set = DesiredSet::new(&parent(Some("prod")), &own).unwrap();
    let secret = Object::from_value(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
        "data": {"a": "YQ=="}, "stringData": {"b": "hello", "a": "x"}}))
    .unwrap();
    let r = set.add("g", secret).unwrap();
    let child = set.get(&r).unwrap();
    assert_eq!(child.body.get("stringData"), None);
    assert_eq!(child.body["data"], json!({"a": "eA==", "b": "aGVsbG8="}));
}

mod child_key {
    use proptest::prelude::*;

    use super::super::ChildKey;
    use crate::model::{ObjectRef, TypeRef};

    /// Names from a small alphabet, so equal and prefix-related parts are common.
    fn part() -> impl Strategy<Value = String> {
        "[ab.-]{0,3}"
    }

    fn object_ref() -> impl Strategy<Value = ObjectRef> {
        (part(), part(), proptest::option::of(part()), part()).prop_map(|(group, kind, namespace, name)| {
            let api_version = if group.is_empty() {
                "v1".to_owned()
            } else {
                format!("{group}/v1")
            };
            ObjectRef {
                type_ref: TypeRef::new(api_version, kind),
                namespace,
                name,
            }
        })
    }

    fn tuple(r: &ObjectRef) -> (&str, &str, Option<&str>, &str) {
        (r.type_ref.group(), &r.type_ref.kind, r.namespace.as_deref(), &r.name)
    }

    proptest! {
        /// The encoded key orders and matches as the tuple (group, kind, namespace, name) does.
        #[test]
        fn orders_and_matches_as_its_parts(a in object_ref(), b in object_ref()) {
            let (ka, kb) = (ChildKey::from_ref(&a), ChildKey::from_ref(&b));
            prop_assert_eq!(ka.cmp(&kb), tuple(&a).cmp(&tuple(&b)));
            prop_assert_eq!(ka.matches(&b), tuple(&a) == tuple(&b));
            prop_assert!(ka.matches(&a));
        }
    }
}
