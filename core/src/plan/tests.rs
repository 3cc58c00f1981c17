use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{FieldsV1, ManagedFieldsEntry};
use serde_json::{Value, json};

use super::*;
use crate::builder::{COMPONENT_LABEL, GroupSpec, Ownership};

const UID: &str = "parent-uid";

fn parent() -> Object {
    let mut p = Object::new(&TypeRef::new("example.com/v1", "Db"), Some("prod"), "db1");
    p.metadata.uid = Some(UID.into());
    p
}

fn ownership() -> Ownership {
    Ownership::new("my-op")
        .owns::<ConfigMap>()
        .owns::<StatefulSet>()
        .owns::<Service>()
}

fn cm(name: &str, value: &str) -> Object {
    Object::from_value(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
        "data": {"k": value}}),
    )
    .unwrap()
}

fn sts(name: &str, replicas: i64, service: &str) -> Object {
    Object::from_value(
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
        "spec": {"replicas": replicas, "serviceName": service, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": "db:1"}]}}}}),
    )
    .unwrap()
}

/// A managedFields `Apply` entry of `manager` owning `fields` (fieldsV1).
fn apply_entry(manager: &str, fields: Value) -> ManagedFieldsEntry {
    ManagedFieldsEntry {
        manager: Some(manager.into()),
        operation: Some("Apply".into()),
        fields_type: Some("FieldsV1".into()),
        fields_v1: Some(FieldsV1(fields)),
        ..Default::default()
    }
}

fn set(children: &[(&str, Object)]) -> DesiredSet {
    let mut s = DesiredSet::new(&parent(), &ownership()).unwrap();
    for (group, child) in children {
        s.declare(GroupSpec::ordered(*group).component_label(*group)).unwrap();
        s.add(group, child.clone()).unwrap();
    }
    s
}

/// What the API server would return after creating or updating `desired`: server metadata and
/// some defaulted fields the operator never set.
fn served(desired: &Object, rv: u32) -> Arc<Object> {
    let mut live = desired.clone();
    live.metadata.uid = Some(format!("uid-{}", desired.name()));
    live.metadata.resource_version = Some(rv.to_string());
    if let Some(Value::Object(spec)) = live.body.get_mut("spec") {
        spec.entry("revisionHistoryLimit").or_insert(json!(10));
    }
    Arc::new(live)
}

fn apply(plan: &Plan, observed: &mut Vec<Arc<Object>>) {
    for item in plan.writes() {
        observed.retain(|o| o.object_ref() != item.key);
        if let Some(desired) = &item.desired {
            observed.push(served(desired, 2));
        }
    }
}

fn action_of<'a>(plan: &'a Plan, kind: &str, name: &str) -> &'a Action {
    &plan
        .items
        .iter()
        .find(|i| i.key.type_ref.kind == kind && i.key.name == name)
        .unwrap_or_else(|| panic!("no item for {kind} {name} in\n{plan:#}"))
        .action
}

#[test]
fn missing_child_is_created_then_unchanged() {
    let desired = set(&[("config", cm("c", "v"))]);
    let p = plan(&desired, &[], &PlanPolicy::new());
    assert_eq!(action_of(&p, "ConfigMap", "c"), &Action::Create);
    assert!(p.first_install);
    let mut observed = Vec::new();
    apply(&p, &mut observed);
    let again = plan(&desired, &observed, &PlanPolicy::new());
    assert!(again.is_converged(), "{again:#}");
    assert_eq!(again.counts().unchanged, 1);
}

#[test]
fn a_field_dropped_from_desired_is_named_from_our_apply_entry() {
    let with_two = Object::from_value(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
        "data": {"k": "v", "old": "x"}}),
    )
    .unwrap();
    let before = set(&[("config", with_two)]);
    let mut live = (*served(before.children().next().unwrap().object.as_ref(), 1)).clone();
    live.metadata.managed_fields = Some(vec![
        apply_entry(
            "my-op",
            json!({"f:data": {"f:k": {}, "f:old": {}}, "f:metadata": {"f:labels": {"f:app.kubernetes.io/managed-by": {}}}}),
        ),
        apply_entry("someone", json!({"f:data": {"f:theirs": {}}})),
    ]);
    live.body["data"]["theirs"] = json!("t");
    let after = set(&[("config", cm("c", "v"))]);
    let mut as_text = live.clone();
    as_text.metadata.managed_fields = as_text.metadata.managed_fields.map(compacted);
    let inputs = PlanInputs::default().field_manager("my-op");
    for observed in [vec![Arc::new(as_text)], vec![Arc::new(live.clone())]] {
        let p = plan_with(&after, &observed, &PlanPolicy::new(), &inputs);
        match action_of(&p, "ConfigMap", "c") {
            Action::Update { reason, changes } => {
                assert_eq!(*reason, UpdateReason::HashChanged);
                let text: Vec<String> = changes.iter().map(ToString::to_string).collect();
                assert_eq!(text, ["data.old: x -> <unset>"]);
            }
            other => panic!("expected update, got {other:?}"),
        }
    }
    let observed = vec![Arc::new(live)];
    // Without the manager the planner cannot tell, and names nothing.
    let p = plan(&after, &observed, &PlanPolicy::new());
    assert!(matches!(action_of(&p, "ConfigMap", "c"), Action::Update { changes, .. } if changes.is_empty()));
}

/// `entries` with every `fieldsV1` kept as JSON text, as the cache keeps them.
fn compacted(mut entries: Vec<ManagedFieldsEntry>) -> Vec<ManagedFieldsEntry> {
    for e in &mut entries {
        if let Some(f) = e.fields_v1.as_mut() {
            crate::fields_v1::compact(&mut f.0);
            assert!(f.0.is_string());
        }
    }
    entries
}

#[test]
fn field_sets_kept_as_text_plan_as_the_tree() {
    let desired = set(&[("data", sts("s", 3, "svc"))]);
    let mut live = (*served(desired.children().next().unwrap().object.as_ref(), 1)).clone();
    live.body["spec"]["replicas"] = json!(5);
    live.body["spec"]["serviceName"] = json!("normalized-by-someone-we-share-with");
    // Someone took `replicas` from us; we still own `serviceName`, so its value is not drift.
    let entries = vec![apply_entry(
        "my-op",
        json!({"f:spec": {"f:serviceName": {}, "f:selector": {}, "f:template": {}},
            "f:metadata": {"f:labels": {"f:app.kubernetes.io/component": {},
                "f:app.kubernetes.io/instance": {}, "f:app.kubernetes.io/managed-by": {}}}}),
    )];
    let inputs = PlanInputs::default().field_manager("my-op");
    let mut results = Vec::new();
    for entries in [entries.clone(), compacted(entries)] {
        live.metadata.managed_fields = Some(entries);
        let p = plan_with(&desired, &[Arc::new(live.clone())], &PlanPolicy::new(), &inputs);
        match action_of(&p, "StatefulSet", "s") {
            Action::Update { reason, changes } => {
                assert_eq!(*reason, UpdateReason::Drift);
                let text: Vec<String> = changes.iter().map(ToString::to_string).collect();
                assert_eq!(text, ["spec.replicas: 5 -> 3"]);
                results.push(text);
            }
            other => panic!("expected drift repair, got {other:?}"),
        }
    }
    assert_eq!(results.len(), 2);
}

#[test]
fn a_dropped_keyed_list_entry_is_named_once() {
    let desired = set(&[("db", sts("s", 1, "svc"))]);
    let mut live = (*served(desired.children().next().unwrap().object.as_ref(), 1)).clone();
    live.body["spec"]["template"]["spec"]["containers"] = json!([
        {"name": "main", "image": "db:1"}, {"name": "proxy", "image": "proxy:1"}
    ]);
    let containers = json!({
        "k:{\"name\":\"main\"}": {".": {}, "f:name": {}, "f:image": {}},
        "k:{\"name\":\"proxy\"}": {".": {}, "f:name": {}, "f:image": {}}
    });
    live.metadata.managed_fields = Some(vec![apply_entry(
        "my-op",
        json!({"f:spec": {"f:template": {"f:spec": {"f:containers": containers}}}}),
    )]);
    live.metadata.annotations = Some(BTreeMap::from([(HASH_ANNOTATION.to_owned(), "stale".to_owned())]));
    let inputs = PlanInputs::default().field_manager("my-op");
    let p = plan_with(&desired, &[Arc::new(live)], &PlanPolicy::new(), &inputs);
    match action_of(&p, "StatefulSet", "s") {
        Action::Update { changes, .. } => {
            let text: Vec<String> = changes.iter().map(ToString::to_string).collect();
            assert_eq!(
                text,
                [r#"spec.template.spec.containers[name=proxy]: {"image":"proxy:1","name":"proxy"} -> <unset>"#]
            );
        }
        other => panic!("expected update, got {other:?}"),
    }
}

#[test]
fn spec_change_is_an_update_naming_the_path() {
    let before = set(&[("config", cm("c", "v"))]);
    let observed = vec![served(before.children().next().unwrap().object.as_ref(), 1)];
    let after = set(&[("config", cm("c", "w"))]);
    let p = plan(&after, &observed, &PlanPolicy::new());
    match action_of(&p, "ConfigMap", "c") {
        Action::Update { reason, changes } => {
            assert_eq!(*reason, UpdateReason::HashChanged);
            let text: Vec<String> = changes.iter().map(ToString::to_string).collect();
            assert_eq!(text, ["data.k: v -> w"]);
        }
        other => panic!("expected update, got {other:?}"),
    }
    assert_eq!(p.counts().updates, 1);
}

#[test]
fn drift_on_a_field_we_set_is_detected() {
    let desired = set(&[("data", sts("s", 3, "svc"))]);
    let mut edited = (*served(desired.children().next().unwrap().object.as_ref(), 1)).clone();
    edited.body["spec"]["replicas"] = json!(5);
    let p = plan(&desired, &[Arc::new(edited)], &PlanPolicy::new());
    match action_of(&p, "StatefulSet", "s") {
        Action::Update { reason, changes } => {
            assert_eq!(*reason, UpdateReason::Drift);
            assert_eq!(changes.len(), 1);
            assert_eq!(changes[0].to_string(), "spec.replicas: 5 -> 3");
        }
        other => panic!("expected drift repair, got {other:?}"),
    }
}

#[test]
fn a_field_another_manager_set_is_not_drift() {
    let mut no_replicas = sts("s", 1, "svc");
    no_replicas.body["spec"].as_object_mut().unwrap().remove("replicas");
    let desired = set(&[("data", no_replicas)]);
    let mut edited = (*served(desired.children().next().unwrap().object.as_ref(), 1)).clone();
    edited.body["spec"]["replicas"] = json!(7); // an HPA scaled it
    edited
        .metadata
        .annotations
        .get_or_insert_default()
        .insert("someone.else/note".into(), "hi".into());
    edited
        .metadata
        .labels
        .get_or_insert_default()
        .insert("team".into(), "x".into());
    let p = plan(&desired, &[Arc::new(edited)], &PlanPolicy::new());
    assert!(p.is_converged(), "{p:#}");
}

#[test]
fn our_label_removed_by_someone_is_drift() {
    let desired = set(&[("config", cm("c", "v"))]);
    let mut edited = (*served(desired.children().next().unwrap().object.as_ref(), 1)).clone();
    edited.metadata.labels.as_mut().unwrap().remove(COMPONENT_LABEL);
    let p = plan(&desired, &[Arc::new(edited)], &PlanPolicy::new());
    assert!(
        matches!(action_of(&p, "ConfigMap", "c"), Action::Update { reason: UpdateReason::Drift, changes }
            if changes[0].to_string() == "metadata.labels[app.kubernetes.io/component]: <unset> -> config"),
        "{p:#}"
    );
}

fn labelled(name: &str, labels: &[(&str, &str)], owner_uid: Option<(&str, bool)>) -> Arc<Object> {
    let mut o = cm(name, "x");
    o.metadata.namespace = Some("prod".into());
    o.metadata.uid = Some(format!("uid-{name}"));
    o.metadata.labels = Some(labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
    if let Some((uid, controller)) = owner_uid {
        o.metadata.owner_references = Some(vec![crate::model::OwnerReference {
            api_version: "example.com/v1".into(),
            kind: "Db".into(),
            name: "db1".into(),
            uid: uid.into(),
            controller: Some(controller),
            block_owner_deletion: Some(true),
        }]);
    }
    Arc::new(o)
}

#[test]
fn orphan_deletion_by_labels_alone_never_happens() {
    let ours = [(MANAGED_BY_LABEL, "my-op"), (INSTANCE_LABEL, "db1")];
    let observed = vec![
        labelled("labels-only", &ours, None),
        labelled("other-owner", &ours, Some(("someone-else", true))),
        labelled("not-controller", &ours, Some((UID, false))),
        labelled("owner-no-labels", &[], Some((UID, true))),
        labelled(
            "other-manager",
            &[(MANAGED_BY_LABEL, "helm"), (INSTANCE_LABEL, "db1")],
            Some((UID, true)),
        ),
    ];
    let p = plan(&set(&[]), &observed, &PlanPolicy::new());
    assert_eq!(p.counts().deletes, 0, "{p:#}");
    assert!(p.items.is_empty());
}

#[test]
fn orphan_with_labels_and_controller_owner_is_deleted() {
    let ours = [(MANAGED_BY_LABEL, "my-op"), (INSTANCE_LABEL, "db1")];
    let orphan = labelled("old", &ours, Some((UID, true)));
    let mut terminating = (*labelled("going", &ours, Some((UID, true)))).clone();
    terminating.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
    ));
    let desired = set(&[("config", cm("c", "v"))]);
    let observed = vec![orphan.clone(), Arc::new(terminating)];
    let p = plan(&desired, &observed, &PlanPolicy::new());
    assert_eq!(action_of(&p, "ConfigMap", "old"), &Action::Delete);
    assert_eq!(p.counts().deletes, 1);
    let last = p.items.last().unwrap();
    assert_eq!(last.live.as_ref().unwrap().uid(), Some("uid-old"));
    assert_eq!(last.group, None);
}

#[test]
fn immutable_change_is_blocked_unless_recreate_is_allowed() {
    let before = set(&[("data", sts("s", 3, "svc-a"))]);
    let observed = vec![served(before.children().next().unwrap().object.as_ref(), 1)];
    let after = set(&[("data", sts("s", 4, "svc-b"))]);
    let blocked = plan(&after, &observed, &PlanPolicy::new());
    match action_of(&blocked, "StatefulSet", "s") {
        Action::Blocked {
            reason: BlockReason::ImmutableChange { changes },
        } => assert_eq!(changes[0].to_string(), "spec.serviceName: svc-a -> svc-b"),
        other => panic!("expected blocked, got {other:?}"),
    }
    let policy = PlanPolicy::new().allow_recreate(TypeRef::new("apps/v1", "StatefulSet"));
    let recreate = plan(&after, &observed, &policy);
    assert!(
        matches!(action_of(&recreate, "StatefulSet", "s"), Action::Recreate { immutable, changes }
            if immutable.len() == 1 && changes.len() == 2)
    );
}

#[test]
fn foreign_and_unowned_objects_are_never_written() {
    let desired = set(&[("config", cm("c", "v"))]);
    let mut foreign = (*served(desired.children().next().unwrap().object.as_ref(), 1)).clone();
    foreign.metadata.owner_references.as_mut().unwrap()[0].uid = "other".into();
    let p = plan(&desired, &[Arc::new(foreign.clone())], &PlanPolicy::new());
    assert!(matches!(
        action_of(&p, "ConfigMap", "c"),
        Action::Blocked {
            reason: BlockReason::OwnedByOther { .. }
        }
    ));
    assert_eq!(p.counts().writes(), 0);

    foreign.metadata.owner_references = None;
    let unowned = vec![Arc::new(foreign)];
    let p = plan(&desired, &unowned, &PlanPolicy::new());
    assert!(matches!(
        action_of(&p, "ConfigMap", "c"),
        Action::Blocked {
            reason: BlockReason::NotOwned
        }
    ));
    let p = plan(&desired, &unowned, &PlanPolicy::new().adopt_unowned(true));
    assert!(matches!(
        action_of(&p, "ConfigMap", "c"),
        Action::Update {
            reason: UpdateReason::Adopt,
            ..
        }
    ));
}

fn three_groups(value: &str) -> DesiredSet {
    let mut s = DesiredSet::new(&parent(), &ownership()).unwrap();
    for g in ["a", "b", "c"] {
        s.declare(GroupSpec::ordered(g).component_label(g)).unwrap();
    }
    s.add("c", cm("c1", value)).unwrap();
    s.add("b", cm("b1", value)).unwrap();
    s.add("a", cm("a1", value)).unwrap();
    s
}

#[test]
fn first_install_creates_every_group_at_once() {
    let p = plan_with(
        &three_groups("v"),
        &[],
        &PlanPolicy::new(),
        &PlanInputs::with_readiness(BTreeMap::new()),
    );
    assert!(p.first_install);
    assert_eq!(p.counts().creates, 3);
    let groups: Vec<_> = p.items.iter().map(|i| i.group.clone().unwrap()).collect();
    assert_eq!(groups, ["a", "b", "c"]);
}

#[test]
fn upgrade_moves_group_by_group() {
    let v1 = three_groups("v1");
    let mut observed: Vec<Arc<Object>> = v1.children().map(|c| served(&c.object, 1)).collect();
    let v2 = three_groups("v2");
    let all_ready = PlanInputs::with_readiness(
        [("a", true), ("b", true), ("c", true)]
            .map(|(g, r)| (g.to_string(), r))
            .into(),
    );

    let p = plan_with(&v2, &observed, &PlanPolicy::new(), &all_ready);
    assert!(!p.first_install);
    assert!(matches!(action_of(&p, "ConfigMap", "a1"), Action::Update { .. }));
    for name in ["b1", "c1"] {
        assert!(
            matches!(action_of(&p, "ConfigMap", name), Action::Wait { reason: WaitReason::GroupNotReady { group }, pending }
                if group == "a" && matches!(**pending, Action::Update { .. })),
            "{p:#}"
        );
    }
    assert_eq!(p.waiting_on(), Some("a"));
    apply(&p, &mut observed);

    // Group a is applied but reported not ready: b and c keep waiting.
    let a_not_ready = PlanInputs::with_readiness([("a".to_string(), false)].into());
    let p = plan_with(&v2, &observed, &PlanPolicy::new(), &a_not_ready);
    assert_eq!(p.counts().waiting, 2, "{p:#}");
    assert_eq!(p.counts().writes(), 0);

    let p = plan_with(&v2, &observed, &PlanPolicy::new(), &all_ready);
    assert!(matches!(action_of(&p, "ConfigMap", "b1"), Action::Update { .. }));
    assert!(matches!(action_of(&p, "ConfigMap", "c1"), Action::Wait { .. }));
    apply(&p, &mut observed);
    let p = plan_with(&v2, &observed, &PlanPolicy::new(), &all_ready);
    assert!(matches!(action_of(&p, "ConfigMap", "c1"), Action::Update { .. }));
    apply(&p, &mut observed);
    assert!(plan_with(&v2, &observed, &PlanPolicy::new(), &all_ready).is_converged());
}

#[test]
fn terminating_child_waits_then_is_created() {
    let desired = set(&[("config", cm("c", "v"))]);
    let mut live = (*served(desired.children().next().unwrap().object.as_ref(), 1)).clone();
    live.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
    ));
    let p = plan(&desired, &[Arc::new(live)], &PlanPolicy::new());
    assert!(matches!(
        action_of(&p, "ConfigMap", "c"),
        Action::Wait { reason: WaitReason::Terminating, pending } if **pending == Action::Create
    ));
}

#[test]
fn scanned_kinds_come_from_the_declaration_and_unlisted_kinds_are_skipped() {
    let desired = set(&[("config", cm("c", "v")), ("data", sts("s", 1, "svc"))]);
    let orphan_sts = {
        let mut o = (*served(&sts("old", 1, "svc"), 1)).clone();
        o.metadata.namespace = Some("prod".into());
        o.metadata.labels = Some(
            [(MANAGED_BY_LABEL, "my-op"), (INSTANCE_LABEL, "db1")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .into(),
        );
        o.metadata.owner_references = Some(vec![desired.owner_reference().clone()]);
        Arc::new(o)
    };
    let inputs = PlanInputs::default().unlisted(TypeRef::new("apps/v1", "StatefulSet"));
    let p = plan_with(&desired, std::slice::from_ref(&orphan_sts), &PlanPolicy::new(), &inputs);
    assert_eq!(
        p.scanned_kinds,
        [TypeRef::new("v1", "ConfigMap"), TypeRef::new("v1", "Service")]
    );
    assert_eq!(p.skipped_kinds, [TypeRef::new("apps/v1", "StatefulSet")]);
    assert!(matches!(
        action_of(&p, "StatefulSet", "s"),
        Action::Blocked {
            reason: BlockReason::KindNotListed
        }
    ));
    assert_eq!(p.counts().deletes, 0);
    let listed = plan(&desired, &[orphan_sts], &PlanPolicy::new());
    assert_eq!(action_of(&listed, "StatefulSet", "old"), &Action::Delete);
}

#[test]
fn items_are_ordered_by_group_then_dependency_order() {
    let mut s = DesiredSet::new(&parent(), &ownership()).unwrap();
    s.declare(GroupSpec::ordered("first").component_label("first")).unwrap();
    s.declare(GroupSpec::ordered("second").component_label("second"))
        .unwrap();
    s.add("second", cm("z", "v")).unwrap();
    s.add("first", sts("b", 1, "svc")).unwrap();
    s.add("first", cm("y", "v")).unwrap();
    s.add("first", cm("a", "v")).unwrap();
    let names: Vec<String> = plan(&s, &[], &PlanPolicy::new())
        .items
        .iter()
        .map(|i| i.key.to_string())
        .collect();
    assert_eq!(
        names,
        [
            "ConfigMap prod/a",
            "ConfigMap prod/y",
            "StatefulSet prod/b",
            "ConfigMap prod/z"
        ]
    );
}

#[test]
fn display_is_compact() {
    let before = three_groups("v1");
    let mut observed: Vec<Arc<Object>> = before.children().map(|c| served(&c.object, 1)).collect();
    observed.push(labelled(
        "old",
        &[(MANAGED_BY_LABEL, "my-op"), (INSTANCE_LABEL, "db1")],
        Some((UID, true)),
    ));
    let p = plan(&three_groups("v2"), &observed, &PlanPolicy::new());
    let text = p.to_string();
    assert_eq!(
        text,
        "Db prod/db1: 0 create, 1 update, 0 recreate, 1 delete, 0 unchanged, 2 waiting, 0 blocked\n  \
         [a] update ConfigMap prod/a1 (spec changed): data.k: v1 -> v2\n  \
         [b] wait ConfigMap prod/b1: group a is not ready (then update)\n  \
         [c] wait ConfigMap prod/c1: group a is not ready (then update)\n  \
         delete ConfigMap prod/old (orphan)"
    );
    let converged = plan(&before, &observed[..3], &PlanPolicy::new());
    assert_eq!(converged.to_string().lines().count(), 1);
    assert_eq!(format!("{converged:#}").lines().count(), 4);
}

/// The ConfigMap `name` is updated because its desired hash changed.
fn assert_hash_change(plan: &Plan, name: &str) {
    assert!(
        matches!(
            action_of(plan, "ConfigMap", name),
            Action::Update {
                reason: UpdateReason::HashChanged,
                ..
            }
        ),
        "{plan:#}"
    );
}

#[test]
fn a_child_verified_at_its_version_is_not_walked_again_but_its_next_version_is() {
    let desired = set(&[("config", cm("c", "v"))]);
    let child = Arc::clone(&desired.children().next().unwrap().object);
    let mut live = (*served(&child, 1)).clone();
    let labels = json!({"f:app.kubernetes.io/component": {}, "f:app.kubernetes.io/instance": {},
        "f:app.kubernetes.io/managed-by": {}});
    live.metadata.managed_fields = Some(vec![apply_entry(
        "my-op",
        json!({"f:data": {"f:k": {}}, "f:metadata": {"f:labels": labels}}),
    )]);
    let inputs = PlanInputs::default().field_manager("my-op");
    let first = plan_with(&desired, &[Arc::new(live.clone())], &PlanPolicy::new(), &inputs);
    assert_eq!(action_of(&first, "ConfigMap", "c"), &Action::Unchanged, "{first:#}");
    assert_eq!(first.verified.len(), 1);

    // The same uid, resourceVersion and desired hash are taken as verified: the field set is
    // not read again (here it lost `data.k`, which only a new version could do).
    live.metadata.managed_fields = Some(vec![apply_entry("my-op", json!({"f:metadata": {"f:labels": labels}}))]);
    let remembered = PlanInputs {
        verified: first.verified.clone(),
        ..inputs.clone()
    };
    let again = plan_with(&desired, &[Arc::new(live.clone())], &PlanPolicy::new(), &remembered);
    assert_eq!(action_of(&again, "ConfigMap", "c"), &Action::Unchanged);
    assert_eq!(again.verified, first.verified, "kept for the plan after");

    // A new version is walked: the drift is found, and not remembered.
    live.metadata.resource_version = Some("2".into());
    let changed = plan_with(&desired, &[Arc::new(live.clone())], &PlanPolicy::new(), &remembered);
    match action_of(&changed, "ConfigMap", "c") {
        Action::Update { reason, changes } => {
            assert_eq!(*reason, UpdateReason::Drift);
            let text: Vec<String> = changes.iter().map(ToString::to_string).collect();
            assert_eq!(text, ["data.k: v -> v"]);
        }
        other => panic!("expected drift repair, got {other:?}"),
    }
    assert!(changed.verified.is_empty());

    // Another desired state (another hash) is never taken from the memory either.
    live.metadata.resource_version = Some("1".into());
    let other = set(&[("config", cm("c", "w"))]);
    let p = plan_with(&other, &[Arc::new(live)], &PlanPolicy::new(), &remembered);
    assert_hash_change(&p, "c");
    assert!(p.verified.is_empty());
}

#[test]
fn a_new_version_with_the_same_entry_text_is_verified_and_a_changed_entry_is_walked() {
    let desired = set(&[("config", cm("c", "v"))]);
    let child = Arc::clone(&desired.children().next().unwrap().object);
    let labels = json!({"f:app.kubernetes.io/component": {}, "f:app.kubernetes.io/instance": {},
        "f:app.kubernetes.io/managed-by": {}});
    // The entry as JSON text, as the memory backend and the cache keep it.
    let text = |fields: Value| apply_entry("my-op", Value::String(fields.to_string()));
    let mut live = (*served(&child, 1)).clone();
    live.metadata.managed_fields = Some(vec![text(
        json!({"f:data": {"f:k": {}}, "f:metadata": {"f:labels": labels}}),
    )]);
    let inputs = PlanInputs::default().field_manager("my-op");
    let first = plan_with(&desired, &[Arc::new(live.clone())], &PlanPolicy::new(), &inputs);
    assert_eq!(action_of(&first, "ConfigMap", "c"), &Action::Unchanged, "{first:#}");
    let entry = Verified::entry_fingerprint(&child, &live, "my-op");
    assert!(entry.is_some_and(|e| first.verified.contains_entry(e)));

    // Another manager's change (a status write, say) is a new version with the same entry.
    live.metadata.resource_version = Some("2".into());
    live.body.insert("status".into(), json!({"seen": true}));
    let remembered = PlanInputs {
        verified: first.verified.clone(),
        ..inputs.clone()
    };
    let again = plan_with(&desired, &[Arc::new(live.clone())], &PlanPolicy::new(), &remembered);
    assert_eq!(action_of(&again, "ConfigMap", "c"), &Action::Unchanged);
    let version = Verified::fingerprint(&child, &live, "my-op").unwrap();
    assert_eq!(
        again.verified.entry_of(version),
        Some(entry),
        "remembered at its new version"
    );

    // Someone took `data.k`: the entry changed with the version, so it is walked.
    live.metadata.resource_version = Some("3".into());
    live.metadata.managed_fields = Some(vec![text(json!({"f:metadata": {"f:labels": labels}}))]);
    let taken = plan_with(&desired, &[Arc::new(live.clone())], &PlanPolicy::new(), &remembered);
    match action_of(&taken, "ConfigMap", "c") {
        Action::Update { reason, .. } => assert_eq!(*reason, UpdateReason::Drift),
        other => panic!("expected drift repair, got {other:?}"),
    }
    assert!(taken.verified.is_empty());

    // The same entry text under another desired hash is never taken from the memory.
    live.metadata.resource_version = Some("2".into());
    live.metadata.managed_fields = Some(vec![text(
        json!({"f:data": {"f:k": {}}, "f:metadata": {"f:labels": labels}}),
    )]);
    let other = set(&[("config", cm("c", "w"))]);
    let p = plan_with(&other, &[Arc::new(live)], &PlanPolicy::new(), &remembered);
    assert_hash_change(&p, "c");
}

#[test]
fn a_written_child_is_remembered_at_the_version_the_write_returned() {
    let desired = set(&[("config", cm("c", "v"))]);
    let child = Arc::clone(&desired.children().next().unwrap().object);
    let mut written = (*served(&child, 7)).clone();
    written.metadata.managed_fields = Some(vec![apply_entry("my-op", Value::String("{\"f:data\":{}}".into()))]);
    let mut verified = Verified::default();
    verified.record_written(&child, &written, "my-op");
    let version = Verified::fingerprint(&child, &written, "my-op").unwrap();
    let entry = Verified::entry_fingerprint(&child, &written, "my-op");
    assert!(entry.is_some());
    assert_eq!(verified.entry_of(version), Some(entry));
    // Recorded twice, kept once; a plan's set takes it in through `extend`.
    verified.record_written(&child, &written, "my-op");
    let mut kept = Verified::default();
    kept.extend(&verified);
    assert_eq!(kept.len(), 1);
    // Without a resourceVersion nothing pins it.
    written.metadata.resource_version = None;
    let mut none = Verified::default();
    none.record_written(&child, &written, "my-op");
    assert!(none.is_empty());
}

#[test]
fn fingerprints_tell_every_part_apart() {
    let desired = set(&[("config", cm("c", "v"))]);
    let child = Arc::clone(&desired.children().next().unwrap().object);
    let live = served(&child, 1);
    let base = Verified::fingerprint(&child, &live, "my-op");
    assert!(base.is_some());
    let mut other_version = (*live).clone();
    other_version.metadata.resource_version = Some("11".into());
    let mut other_uid = (*live).clone();
    other_uid.metadata.uid = Some("uid-c1".into());
    let mut no_version = (*live).clone();
    no_version.metadata.resource_version = None;
    assert_ne!(Verified::fingerprint(&child, &other_version, "my-op"), base);
    assert_ne!(Verified::fingerprint(&child, &other_uid, "my-op"), base);
    assert_ne!(Verified::fingerprint(&child, &live, "other-op"), base);
    assert_eq!(Verified::fingerprint(&child, &no_version, "my-op"), None);
    // Entry fingerprints are a kind of their own: never equal to a version's.
    let mut with_text = (*live).clone();
    with_text.metadata.managed_fields = Some(vec![apply_entry("my-op", Value::String("{}".into()))]);
    let entry = Verified::entry_fingerprint(&child, &with_text, "my-op");
    assert!(entry.is_some());
    assert_ne!(entry, base);
    assert_ne!(Verified::entry_fingerprint(&child, &with_text, "other-op"), entry);
    // Without an entry there is none (nor with a tree-form one: only text is fingerprinted).
    assert_eq!(Verified::entry_fingerprint(&child, &live, "my-op"), None);
    let mut with_tree = (*live).clone();
    with_tree.metadata.managed_fields = Some(vec![apply_entry("my-op", json!({}))]);
    assert_eq!(Verified::entry_fingerprint(&child, &with_tree, "my-op"), None);
}

#[test]
fn a_skeleton_is_planned_only_when_every_child_is_verified_without_a_walk() {
    let desired = set(&[("config", cm("c", "v")), ("more", cm("d", "w"))]);
    let text = |fields: Value| apply_entry("my-op", Value::String(fields.to_string()));
    let labels = json!({"f:app.kubernetes.io/component": {}, "f:app.kubernetes.io/instance": {},
        "f:app.kubernetes.io/managed-by": {}});
    let ours = json!({"f:data": {"f:k": {}}, "f:metadata": {"f:labels": labels}});
    let live: Vec<Object> = desired
        .children()
        .map(|c| {
            let mut live = (*served(&c.object, 1)).clone();
            live.metadata.managed_fields = Some(vec![text(ours.clone())]);
            live
        })
        .collect();
    let observed = |live: &[Object]| live.iter().cloned().map(Arc::new).collect::<Vec<_>>();
    let inputs = PlanInputs::default().field_manager("my-op");
    let first = plan_with(&desired, &observed(&live), &PlanPolicy::new(), &inputs);
    assert!(first.is_converged(), "{first:#}");

    let skeleton = desired.skeleton();
    let bones = DesiredSet::from_skeleton(&parent(), &ownership(), &skeleton).unwrap();
    assert_eq!(
        bones.skeleton(),
        skeleton,
        "a set rebuilt from a skeleton has that skeleton"
    );
    assert!(
        plan_verified(&bones, &observed(&live), &PlanPolicy::new(), &inputs).is_none(),
        "nothing verified yet: only a walk could tell"
    );

    // New versions (a status update) with the same entries: the skeleton's plan is the full one's.
    let remembered = PlanInputs {
        verified: first.verified.clone(),
        ..inputs.clone()
    };
    let mut updated = live.clone();
    for o in &mut updated {
        o.metadata.resource_version = Some("2".into());
        o.body.insert("status".into(), json!({"seen": true}));
    }
    let full = plan_with(&desired, &observed(&updated), &PlanPolicy::new(), &remembered);
    let from_bones = plan_verified(&bones, &observed(&updated), &PlanPolicy::new(), &remembered)
        .expect("every child verified by its entry");
    let actions = |p: &Plan| {
        p.items
            .iter()
            .map(|i| (i.key.clone(), i.action.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(actions(&from_bones), actions(&full));
    assert_eq!(from_bones.verified, full.verified);

    // Someone took a field of ours, a child is gone, an orphan appeared: each needs the full set.
    let mut taken = updated.clone();
    taken[0].metadata.managed_fields = Some(vec![text(json!({}))]);
    assert!(!plan_with(&desired, &observed(&taken), &PlanPolicy::new(), &remembered).is_converged());
    assert!(plan_verified(&bones, &observed(&taken), &PlanPolicy::new(), &remembered).is_none());
    assert!(plan_verified(&bones, &observed(&updated[1..]), &PlanPolicy::new(), &remembered).is_none());
    let orphan = labelled(
        "old",
        &[
            ("app.kubernetes.io/managed-by", "my-op"),
            ("app.kubernetes.io/instance", "db1"),
        ],
        Some((UID, true)),
    );
    let mut with_orphan = observed(&updated);
    with_orphan.push(orphan);
    assert!(plan_verified(&bones, &with_orphan, &PlanPolicy::new(), &remembered).is_none());
}

#[test]
fn a_version_written_with_its_entry_as_a_tree_learns_the_entry_from_the_cached_text() {
    let desired = set(&[("config", cm("c", "v"))]);
    let child = Arc::clone(&desired.children().next().unwrap().object);
    let labels = json!({"f:app.kubernetes.io/component": {}, "f:app.kubernetes.io/instance": {},
        "f:app.kubernetes.io/managed-by": {}});
    let fields = json!({"f:data": {"f:k": {}}, "f:metadata": {"f:labels": labels}});
    // A real API server's apply response: the entry as a tree, so no entry fingerprint.
    let mut written = (*served(&child, 7)).clone();
    written.metadata.managed_fields = Some(vec![apply_entry("my-op", fields.clone())]);
    let mut remembered = Verified::default();
    remembered.record_written(&child, &written, "my-op");
    let version = Verified::fingerprint(&child, &written, "my-op").unwrap();
    assert_eq!(remembered.entry_of(version), Some(None));

    // The cache holds the same version with the entry as text: the plan remembers the entry.
    let mut cached = written.clone();
    cached.metadata.managed_fields = Some(vec![apply_entry("my-op", Value::String(fields.to_string()))]);
    let inputs = PlanInputs {
        verified: remembered,
        ..PlanInputs::default().field_manager("my-op")
    };
    let plan = plan_with(&desired, &[Arc::new(cached.clone())], &PlanPolicy::new(), &inputs);
    assert!(plan.is_converged(), "{plan:#}");
    let entry = Verified::entry_fingerprint(&child, &cached, "my-op").unwrap();
    assert!(plan.verified.contains_entry(entry));

    // So a status update of the child (a new version, the same entry) plans from a skeleton.
    cached.metadata.resource_version = Some("8".into());
    cached.body.insert("status".into(), json!({"seen": true}));
    let next = PlanInputs {
        verified: plan.verified.clone(),
        ..inputs.clone()
    };
    let bones = DesiredSet::from_skeleton(&parent(), &ownership(), &desired.skeleton()).unwrap();
    assert!(plan_verified(&bones, &[Arc::new(cached)], &PlanPolicy::new(), &next).is_some());
}
