//! Each test plays the workload controller: it writes the status fields the StatefulSet or
//! Deployment controller would write at each step of a rollout and checks the readiness.

use serde_json::{Value, json};

use super::*;
use crate::model::TypeRef;

fn workload(kind: &str, spec: Value) -> Object {
    let mut object = Object::new(&TypeRef::new("apps/v1", kind), Some("prod"), "data").with("spec", spec);
    object.metadata.generation = Some(1);
    object
}

fn sts(spec: Value) -> Object {
    workload("StatefulSet", spec)
}

fn deploy(spec: Value) -> Object {
    workload("Deployment", spec)
}

/// The user (or the operator) changes the spec: the API server bumps the generation.
fn edit_spec(object: &mut Object, field: &str, value: Value) {
    object.body["spec"][field] = value;
    object.metadata.generation = object.metadata.generation.map(|g| g + 1);
}

/// The controller writes status fields; it always reports the generation it acted on.
fn controller_writes(object: &mut Object, status: Value) {
    let generation = object.metadata.generation.unwrap_or(0);
    let entry = object.body.entry("status").or_insert_with(|| json!({}));
    if let (Some(entry), Some(fields)) = (entry.as_object_mut(), status.as_object()) {
        for (k, v) in fields {
            entry.insert(k.clone(), v.clone());
        }
        entry.insert("observedGeneration".into(), json!(generation));
    }
}

fn progressing_with(r: &Readiness, needle: &str) -> bool {
    matches!(r, Readiness::Progressing { reason } if reason.contains(needle))
}

#[test]
fn statefulset_is_progressing_until_the_controller_observes_it() {
    let s = sts(json!({"replicas": 3}));
    let r = readiness(&s);
    assert!(progressing_with(&r, "waiting for the controller to observe it"), "{r}");
}

#[test]
fn statefulset_install_becomes_ready_as_pods_come_up() {
    let mut s = sts(json!({"replicas": 3}));
    controller_writes(
        &mut s,
        json!({"replicas": 1, "readyReplicas": 0, "updatedReplicas": 1,
            "currentRevision": "data-1", "updateRevision": "data-1"}),
    );
    assert!(progressing_with(&readiness(&s), "0 of 3 pods ready"));
    controller_writes(
        &mut s,
        json!({"replicas": 3, "readyReplicas": 3, "availableReplicas": 2, "updatedReplicas": 3}),
    );
    assert!(progressing_with(&readiness(&s), "2 of 3 pods available"));
    controller_writes(&mut s, json!({"availableReplicas": 3}));
    assert_eq!(readiness(&s), Readiness::Ready);
}

#[test]
fn statefulset_replicas_default_to_one() {
    let mut s = sts(json!({}));
    controller_writes(&mut s, json!({"replicas": 1, "readyReplicas": 0}));
    assert!(progressing_with(&readiness(&s), "0 of 1 pods ready"));
    controller_writes(
        &mut s,
        json!({"readyReplicas": 1, "availableReplicas": 1, "updatedReplicas": 1}),
    );
    assert!(readiness(&s).is_ready());
}

#[test]
fn statefulset_spec_change_waits_for_the_new_generation() {
    let mut s = sts(json!({"replicas": 2}));
    controller_writes(
        &mut s,
        json!({"replicas": 2, "readyReplicas": 2, "availableReplicas": 2, "updatedReplicas": 2,
            "currentRevision": "data-1", "updateRevision": "data-1"}),
    );
    assert!(readiness(&s).is_ready());
    edit_spec(
        &mut s,
        "template",
        json!({"metadata": {"annotations": {"config-hash": "new"}}}),
    );
    // The old status is still there, but describes generation 1.
    assert!(progressing_with(&readiness(&s), "observe generation 2 (observed 1)"));
}

#[test]
fn statefulset_rolling_update_waits_for_updated_pods_and_revisions() {
    let mut s = sts(json!({"replicas": 3, "updateStrategy": {"type": "RollingUpdate"}}));
    edit_spec(&mut s, "template", json!({"metadata": {"labels": {"v": "2"}}}));
    // Highest ordinal first: pod 2 is replaced, pods 0 and 1 are still at the old revision.
    controller_writes(
        &mut s,
        json!({"replicas": 3, "readyReplicas": 3, "availableReplicas": 3, "updatedReplicas": 1,
            "currentRevision": "data-1", "updateRevision": "data-2"}),
    );
    assert!(progressing_with(&readiness(&s), "1 of 3 pods updated"));
    controller_writes(&mut s, json!({"updatedReplicas": 3}));
    assert!(progressing_with(
        &readiness(&s),
        "current revision data-1 is not yet the update revision data-2"
    ));
    controller_writes(&mut s, json!({"currentRevision": "data-2", "currentReplicas": 3}));
    assert!(readiness(&s).is_ready());
}

#[test]
fn statefulset_partition_only_requires_ordinals_at_or_above_it() {
    let mut s = sts(json!({"replicas": 3,
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}}));
    edit_spec(&mut s, "template", json!({"metadata": {"labels": {"v": "2"}}}));
    controller_writes(
        &mut s,
        json!({"replicas": 3, "readyReplicas": 3, "availableReplicas": 3, "updatedReplicas": 0,
            "currentRevision": "data-1", "updateRevision": "data-2"}),
    );
    assert!(progressing_with(&readiness(&s), "0 of 1 pods at ordinals >= 2 updated"));
    // Pod 2 is updated; 0 and 1 stay behind the partition and the revisions never converge.
    controller_writes(&mut s, json!({"updatedReplicas": 1}));
    assert_eq!(readiness(&s), Readiness::Ready);
}

#[test]
fn statefulset_partition_beyond_replicas_needs_no_update() {
    let mut s = sts(json!({"replicas": 2,
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 5}}}));
    controller_writes(
        &mut s,
        json!({"replicas": 2, "readyReplicas": 2, "availableReplicas": 2, "updatedReplicas": 0,
            "currentRevision": "data-1", "updateRevision": "data-2"}),
    );
    assert!(readiness(&s).is_ready());
}

#[test]
fn statefulset_on_delete_is_ready_when_pods_are_ready_and_generation_observed() {
    let mut s = sts(json!({"replicas": 2, "updateStrategy": {"type": "OnDelete"}}));
    edit_spec(&mut s, "template", json!({"metadata": {"labels": {"v": "2"}}}));
    assert!(progressing_with(&readiness(&s), "waiting for the controller"));
    // The controller does not replace pods under OnDelete: nothing is updated.
    controller_writes(
        &mut s,
        json!({"replicas": 2, "readyReplicas": 1, "availableReplicas": 1, "updatedReplicas": 0,
            "currentRevision": "data-1", "updateRevision": "data-2"}),
    );
    assert!(progressing_with(&readiness(&s), "1 of 2 pods ready"));
    controller_writes(&mut s, json!({"readyReplicas": 2, "availableReplicas": 2}));
    assert!(readiness(&s).is_ready());
}

#[test]
fn statefulset_scale_down_finishes_when_extra_pods_are_gone() {
    let mut s = sts(json!({"replicas": 3}));
    edit_spec(&mut s, "replicas", json!(2));
    controller_writes(
        &mut s,
        json!({"replicas": 3, "readyReplicas": 3, "availableReplicas": 3, "updatedReplicas": 3,
            "currentRevision": "data-1", "updateRevision": "data-1"}),
    );
    assert!(progressing_with(&readiness(&s), "scaling down, 3 pods for 2 replicas"));
    controller_writes(
        &mut s,
        json!({"replicas": 2, "readyReplicas": 2, "availableReplicas": 2, "updatedReplicas": 2}),
    );
    assert!(readiness(&s).is_ready());
}

#[test]
fn statefulset_scaled_to_zero_is_ready_with_no_pods() {
    let mut s = sts(json!({"replicas": 0}));
    controller_writes(&mut s, json!({"replicas": 0}));
    assert!(readiness(&s).is_ready());
}

#[test]
fn statefulset_without_available_replicas_falls_back_to_ready() {
    let mut s = sts(json!({"replicas": 2}));
    controller_writes(&mut s, json!({"replicas": 2, "readyReplicas": 2, "updatedReplicas": 2}));
    assert!(readiness(&s).is_ready());
}

#[test]
fn malformed_status_fails_with_the_field_named() {
    let mut s = sts(json!({"replicas": 2}));
    controller_writes(&mut s, json!({"readyReplicas": "two"}));
    let r = readiness(&s);
    assert!(r.is_failed(), "{r}");
    assert!(
        r.reason()
            .is_some_and(|m| m.contains("status.readyReplicas is not an integer"))
    );

    let mut d = deploy(json!({"replicas": 1}));
    controller_writes(&mut d, json!({"conditions": {"type": "Progressing"}}));
    assert!(
        readiness(&d)
            .reason()
            .is_some_and(|m| m.contains("status.conditions is not an array"))
    );

    let mut s = sts(json!({"replicas": 1, "updateStrategy": {"type": "Sideways"}}));
    controller_writes(&mut s, json!({"readyReplicas": 1, "availableReplicas": 1}));
    assert!(readiness(&s).is_failed());
}

fn progressing_condition(reason: &str) -> Value {
    json!({"type": "Progressing", "status": if reason == "ProgressDeadlineExceeded" { "False" } else { "True" },
        "reason": reason, "message": format!("ReplicaSet \"data-7d9\" {reason}")})
}

#[test]
fn deployment_rollout_goes_through_updated_old_ready_available() {
    let mut d = deploy(json!({"replicas": 3}));
    assert!(progressing_with(
        &readiness(&d),
        "waiting for the controller to observe it"
    ));
    controller_writes(
        &mut d,
        json!({"replicas": 3, "updatedReplicas": 1, "readyReplicas": 3, "availableReplicas": 3,
            "conditions": [progressing_condition("ReplicaSetUpdated")]}),
    );
    assert!(progressing_with(&readiness(&d), "1 of 3 replicas updated"));
    // maxSurge: new pods exist next to old ones still terminating.
    controller_writes(&mut d, json!({"replicas": 4, "updatedReplicas": 3, "readyReplicas": 3}));
    assert!(progressing_with(&readiness(&d), "1 old replicas pending termination"));
    controller_writes(
        &mut d,
        json!({"replicas": 3, "readyReplicas": 2, "availableReplicas": 2}),
    );
    assert!(progressing_with(&readiness(&d), "2 of 3 replicas ready"));
    controller_writes(&mut d, json!({"readyReplicas": 3}));
    assert!(progressing_with(&readiness(&d), "2 of 3 replicas available"));
    controller_writes(
        &mut d,
        json!({"availableReplicas": 3, "conditions": [progressing_condition("NewReplicaSetAvailable")]}),
    );
    assert_eq!(readiness(&d), Readiness::Ready);
}

#[test]
fn deployment_progress_deadline_exceeded_is_a_failure() {
    let mut d = deploy(json!({"replicas": 2}));
    controller_writes(
        &mut d,
        json!({"replicas": 2, "updatedReplicas": 2, "readyReplicas": 0, "availableReplicas": 0,
            "conditions": [{"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable"},
                progressing_condition("ProgressDeadlineExceeded")]}),
    );
    let r = readiness(&d);
    assert!(r.is_failed(), "{r}");
    assert!(r.reason().is_some_and(|m| m.contains("exceeded its progress deadline")
        && m.contains("ReplicaSet \"data-7d9\" ProgressDeadlineExceeded")));
}

#[test]
fn deployment_stale_deadline_condition_is_ignored_after_a_spec_change() {
    let mut d = deploy(json!({"replicas": 1}));
    controller_writes(
        &mut d,
        json!({"replicas": 1, "updatedReplicas": 1, "conditions": [progressing_condition("ProgressDeadlineExceeded")]}),
    );
    assert!(readiness(&d).is_failed());
    // A fix to the spec: until the controller observes it, the old failure says nothing.
    edit_spec(
        &mut d,
        "template",
        json!({"spec": {"containers": [{"name": "c", "image": "fixed"}]}}),
    );
    assert!(progressing_with(&readiness(&d), "observe generation 2"));
}

#[test]
fn deployment_replicas_default_to_one() {
    let mut d = deploy(json!({}));
    controller_writes(
        &mut d,
        json!({"replicas": 1, "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 0}),
    );
    assert!(progressing_with(&readiness(&d), "0 of 1 replicas available"));
    controller_writes(&mut d, json!({"availableReplicas": 1}));
    assert!(readiness(&d).is_ready());
}

#[test]
fn other_kinds_are_ready_when_they_exist() {
    let cm = Object::new(&TypeRef::new("v1", "ConfigMap"), Some("prod"), "cfg");
    assert!(readiness(&cm).is_ready());
    // Only apps/v1 workloads have rollout semantics; a custom kind named alike does not.
    let custom = Object::new(&TypeRef::new("example.com/v1", "Deployment"), Some("prod"), "x");
    assert!(readiness(&custom).is_ready());
    let child = cm.object_ref();
    assert!(readiness_of(&child, Some(&cm)).is_ready());
    let missing = readiness_of(&child, None);
    assert!(
        progressing_with(&missing, "ConfigMap prod/cfg not created yet"),
        "{missing}"
    );
}

#[test]
fn group_readiness_reports_failures_first_then_progress() {
    let waiting = Readiness::progressing("a");
    let broken = Readiness::failed("b");
    assert_eq!(Readiness::all([]), Readiness::Ready);
    assert_eq!(Readiness::all([Readiness::Ready, waiting.clone()]), waiting);
    assert_eq!(
        Readiness::all([waiting.clone(), Readiness::Ready, broken.clone()]),
        broken
    );
    assert_eq!(Readiness::all([waiting.clone(), Readiness::progressing("c")]), waiting);
}
