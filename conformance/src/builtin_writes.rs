//! What the server adds to a write of a built-in kind on its own, and who owns it afterwards:
//! fields the strategy, admission or the versioned conversion set before or after the field
//! manager records the writer's entry, the default deletion policy of a Job, and the fields a
//! kind's Go type does not have (which an apply must not invent).

use operator_runtime_core::model::OwnerReference;
use operator_runtime_core::store::ObjectStoreExt;
use operator_runtime_core::store::{ApplySupport, DeleteOutcome, DeleteParams, WriteParams};
use operator_runtime_core::{Object, ObjectStore, StoreError, TypeRef};
use serde_json::{Value, json};

use crate::outcome::{CaseResult, Outcome};
use crate::support::poll::{CONTROLLER_DEADLINE, eventually};
use crate::support::{Ctx, OrFail};

const CREATOR: &str = "creator";
const NO_MANAGED_FIELDS: &str = "backend records no managedFields (ApplySupport::None)";

fn by_creator() -> WriteParams {
    WriteParams {
        field_manager: Some(CREATOR.to_owned()),
        ..WriteParams::default()
    }
}

/// The `fieldsV1` of `manager`'s `Update` entry, as a tree.
fn update_fields(object: &Object, manager: &str) -> Option<Value> {
    object
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .find(|e| e.manager.as_deref() == Some(manager) && e.operation.as_deref() == Some("Update"))
        .and_then(|e| e.fields_v1.as_ref())
        .and_then(|f| operator_runtime_core::fields_v1::tree(&f.0))
        .map(std::borrow::Cow::into_owned)
}

fn pod_template(labels: Value, restart: &str) -> Value {
    json!({
        "metadata": {"labels": labels},
        "spec": {
            "restartPolicy": restart,
            "containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]
        }
    })
}

fn job(ns: &str, name: &str) -> Object {
    Object::new(&TypeRef::new("batch/v1", "Job"), Some(ns), name)
        .with("spec", json!({"template": pod_template(json!({"app": "a"}), "Never")}))
}

/// A Job created without labels takes its template's labels (`SetDefaults_Job`, at decoding:
/// the creator owns them); the labels the create strategy generates (`controller-uid`,
/// `job-name`) reach the Job's labels too (Go shares one map) but are nobody's.
pub async fn job_labels_from_template_are_the_creators_generated_ones_nobodys<S: ObjectStore + ?Sized>(
    store: &S,
) -> CaseResult {
    let cx = Ctx::new(
        store,
        "job_labels_from_template_are_the_creators_generated_ones_nobodys",
    )
    .await?;
    require!(
        store.capabilities().server_side_apply != ApplySupport::None,
        NO_MANAGED_FIELDS
    );
    let created = store
        .create(&job(&cx.ns, "worker"), &by_creator())
        .await
        .or_fail("create the Job")?;
    let labels = created.metadata.labels.clone().unwrap_or_default();
    ensure!(labels.get("app").map(String::as_str) == Some("a"), "labels {labels:?}");
    ensure!(
        labels.get("batch.kubernetes.io/job-name").map(String::as_str) == Some("worker"),
        "no generated job-name label: {labels:?}"
    );
    let fields = update_fields(&created, CREATOR).ok_or("no entry of the creator")?;
    let owned = &fields["f:metadata"]["f:labels"];
    ensure!(
        owned.get("f:app").is_some(),
        "the creator does not own the copied label: {fields}"
    );
    ensure!(
        owned.get("f:batch.kubernetes.io/job-name").is_none() && owned.get("f:controller-uid").is_none(),
        "the creator owns a generated label: {fields}"
    );
    // By generateName the server creates a deep copy, which no longer shares the map: the
    // generated labels stay on the template, and name the generated name.
    let mut generated = job(&cx.ns, "");
    generated.metadata.name = None;
    generated.metadata.generate_name = Some("worker-".to_owned());
    let created = store
        .create(&generated, &by_creator())
        .await
        .or_fail("create the Job by generateName")?;
    let labels = created.metadata.labels.clone().unwrap_or_default();
    ensure!(
        labels.len() == 1 && labels.get("app").map(String::as_str) == Some("a"),
        "labels of the Job created by generateName: {labels:?}"
    );
    let template_labels = &created.body["spec"]["template"]["metadata"]["labels"];
    ensure!(
        template_labels["batch.kubernetes.io/job-name"].as_str() == Some(created.name()),
        "template labels {template_labels}"
    );
    Ok(Outcome::Passed)
}

/// The apps/v1 DaemonSet carries its template generation in an annotation written by the
/// versioned conversion, before the field manager compares: the creator owns it; the stored
/// value is the strategy's, 1.
pub async fn daemonset_template_generation_annotation_is_the_creators<S: ObjectStore + ?Sized>(
    store: &S,
) -> CaseResult {
    let cx = Ctx::new(store, "daemonset_template_generation_annotation_is_the_creators").await?;
    require!(
        store.capabilities().server_side_apply != ApplySupport::None,
        NO_MANAGED_FIELDS
    );
    let daemon_set = Object::new(&TypeRef::new("apps/v1", "DaemonSet"), Some(&cx.ns), "agent").with(
        "spec",
        json!({"selector": {"matchLabels": {"app": "a"}}, "template": pod_template(json!({"app": "a"}), "Always")}),
    );
    let created = store
        .create(&daemon_set, &by_creator())
        .await
        .or_fail("create the DaemonSet")?;
    let annotations = created.metadata.annotations.clone().unwrap_or_default();
    ensure!(
        annotations
            .get("deprecated.daemonset.template.generation")
            .map(String::as_str)
            == Some("1"),
        "annotations {annotations:?}"
    );
    let fields = update_fields(&created, CREATOR).ok_or("no entry of the creator")?;
    ensure!(
        fields["f:metadata"]["f:annotations"]
            .get("f:deprecated.daemonset.template.generation")
            .is_some(),
        "the creator does not own the annotation: {fields}"
    );
    Ok(Outcome::Passed)
}

/// `StorageObjectInUseProtection` admission gives a new claim the `kubernetes.io/pvc-protection`
/// finalizer after the field manager ran (nobody owns it); `spec.resources` is a struct, so
/// the creator owns its fields but not the struct itself.
pub async fn new_claim_gets_protection_finalizer_nobody_owns<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "new_claim_gets_protection_finalizer_nobody_owns").await?;
    require!(
        store.capabilities().server_side_apply != ApplySupport::None,
        NO_MANAGED_FIELDS
    );
    let claim = Object::new(&TypeRef::new("v1", "PersistentVolumeClaim"), Some(&cx.ns), "data").with(
        "spec",
        json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}),
    );
    let created = store.create(&claim, &by_creator()).await.or_fail("create the claim")?;
    ensure!(
        created.metadata.finalizers.as_deref() == Some(&["kubernetes.io/pvc-protection".to_owned()][..]),
        "finalizers {:?}",
        created.metadata.finalizers
    );
    let fields = update_fields(&created, CREATOR).ok_or("no entry of the creator")?;
    ensure!(
        fields["f:metadata"].get("f:finalizers").is_none(),
        "the creator owns the finalizer: {fields}"
    );
    let resources = &fields["f:spec"]["f:resources"];
    ensure!(
        resources.get(".").is_none() && resources["f:requests"].get("f:storage").is_some(),
        "resources owned as {resources}"
    );
    cx.release(&created.object_ref()).await;
    Ok(Outcome::Passed)
}

/// A ServiceAccount's references are `omitempty` strings: an empty name does not survive
/// decoding.
pub async fn service_account_reference_with_empty_name_drops_it<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "service_account_reference_with_empty_name_drops_it").await?;
    let account = Object::new(&TypeRef::new("v1", "ServiceAccount"), Some(&cx.ns), "robot")
        .with("imagePullSecrets", json!([{"name": ""}, {"name": "pull"}]));
    let created = cx.create(&account).await?;
    ensure!(
        created.body.get("imagePullSecrets") == Some(&json!([{}, {"name": "pull"}])),
        "imagePullSecrets {:?}",
        created.body.get("imagePullSecrets")
    );
    Ok(Outcome::Passed)
}

/// An apply that creates an object gets the Go zero value of its kind's fields, and only of
/// those: a RoleBinding has no `spec` or `status`, a NetworkPolicy and a Lease no `status`.
pub async fn apply_adds_no_field_the_kind_lacks<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "apply_adds_no_field_the_kind_lacks").await?;
    require!(
        store.capabilities().server_side_apply != ApplySupport::None,
        NO_MANAGED_FIELDS
    );
    let binding = Object::new(
        &TypeRef::new("rbac.authorization.k8s.io/v1", "RoleBinding"),
        Some(&cx.ns),
        "b",
    )
    .with(
        "roleRef",
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}),
    )
    .with("subjects", json!([{"kind": "Group", "name": "devs"}]));
    let policy = Object::new(
        &TypeRef::new("networking.k8s.io/v1", "NetworkPolicy"),
        Some(&cx.ns),
        "p",
    )
    .with("spec", json!({"podSelector": {}}));
    let lease = Object::new(&TypeRef::new("coordination.k8s.io/v1", "Lease"), Some(&cx.ns), "l")
        .with("spec", json!({"holderIdentity": "a"}));
    for (object, absent) in [
        (binding, &["spec", "status"][..]),
        (policy, &["status"]),
        (lease, &["status"]),
    ] {
        let applied = store
            .apply(&object, "applier", false)
            .await
            .or_fail(&format!("apply {}", object.kind))?;
        for field in absent {
            ensure!(
                !applied.body.contains_key(*field),
                "{} got {field}: {:?}",
                object.kind,
                applied.body.get(*field)
            );
        }
    }
    Ok(Outcome::Passed)
}

/// A batch/v1 Job deleted without a propagation policy orphans its dependents (the server's
/// default for that version, kept for backward compatibility): the dependent stays, without
/// its owner reference.
pub async fn job_deleted_without_policy_orphans_its_dependents<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "job_deleted_without_policy_orphans_its_dependents").await?;
    require!(
        store.capabilities().garbage_collection,
        "backend has no garbage collector"
    );
    let owner = cx.create(&job(&cx.ns, "batch")).await?;
    let mut dependent = cx.config_map("output");
    dependent.metadata.owner_references = Some(vec![OwnerReference {
        api_version: owner.api_version.clone(),
        kind: owner.kind.clone(),
        name: owner.name().to_owned(),
        uid: owner.uid().unwrap_or_default().to_owned(),
        controller: None,
        block_owner_deletion: None,
    }]);
    let dependent = cx.create(&dependent).await?;
    store
        .delete(&owner.object_ref(), &DeleteParams::default())
        .await
        .or_fail("delete the Job")?;
    cx.eventually_gone(&owner.object_ref()).await?;
    eventually("the dependent to lose its owner", CONTROLLER_DEADLINE, || async {
        let current = cx.get(&dependent.object_ref()).await?;
        match current.metadata.owner_references.as_deref() {
            None | Some([]) => Ok(()),
            Some(owners) => Err(format!("owners {owners:?}")),
        }
    })
    .await?;
    Ok(Outcome::Passed)
}

fn pod(ns: &str, name: &str) -> Object {
    Object::new(&TypeRef::new("v1", "Pod"), Some(ns), name).with(
        "spec",
        json!({"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]}),
    )
}

/// A Pod is deleted gracefully (`CheckGracefulDelete`): one on no node has a grace period of
/// zero, so it goes at once, but only after the deletion marks are written, which the answer
/// shows (deletionTimestamp, deletionGracePeriodSeconds 0, the generation moved).
pub async fn unscheduled_pod_delete_answers_with_the_deletion_marks<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "unscheduled_pod_delete_answers_with_the_deletion_marks").await?;
    let created = cx.create(&pod(&cx.ns, "p")).await?;
    let outcome = store
        .delete(&created.object_ref(), &DeleteParams::default())
        .await
        .or_fail("delete the pod")?;
    let DeleteOutcome::Deleted(answer) = outcome else {
        return Err(format!("a pod on no node is deleted at once, got {outcome:?}"));
    };
    ensure!(
        answer.metadata.deletion_timestamp.is_some(),
        "the answer has no deletionTimestamp"
    );
    ensure!(
        answer.metadata.deletion_grace_period_seconds == Some(0),
        "deletionGracePeriodSeconds {:?}, expected 0",
        answer.metadata.deletion_grace_period_seconds
    );
    ensure!(
        answer.metadata.generation == created.metadata.generation.map(|g| g + 1),
        "generation {:?} after {:?}",
        answer.metadata.generation,
        created.metadata.generation
    );
    cx.expect_gone(&created.object_ref()).await?;
    Ok(Outcome::Passed)
}

/// An apply whose configuration lists two items with one key in an associative list (two
/// volumes named `x`) fails as the configuration is typed, with 500, before validation would
/// have called the name a duplicate; nothing is stored.
pub async fn apply_with_duplicate_keyed_items_is_internal_error<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "apply_with_duplicate_keyed_items_is_internal_error").await?;
    require!(
        store.capabilities().server_side_apply != ApplySupport::None,
        NO_MANAGED_FIELDS
    );
    let mut duplicated = pod(&cx.ns, "dup");
    duplicated.body["spec"]["volumes"] = json!([{"name": "x", "emptyDir": {}}, {"name": "x", "emptyDir": {}}]);
    let result = store.apply(&duplicated, "applier", false).await;
    match &result {
        Err(StoreError::Internal { message }) if message.contains("duplicate entries for key") => {}
        other => return Err(format!("expected 500 naming the duplicate entries, got {other:?}")),
    }
    cx.expect_gone(&duplicated.object_ref()).await?;
    Ok(Outcome::Passed)
}

/// A claim's create stores the empty status its strategy left, and every read's defaulting
/// gives it phase `Pending`: the first update, even one that changes nothing a client sees, is
/// a real write (a new resourceVersion); the next identical one is a no-op.
pub async fn claim_first_update_after_create_is_a_write<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "claim_first_update_after_create_is_a_write").await?;
    let claim = Object::new(&TypeRef::new("v1", "PersistentVolumeClaim"), Some(&cx.ns), "data").with(
        "spec",
        json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}),
    );
    let created = cx.create(&claim).await?;
    let first = cx.replace(&created).await?;
    ensure!(
        first.resource_version() != created.resource_version(),
        "the first update after the create kept resourceVersion {:?}",
        created.resource_version()
    );
    let second = cx.replace(&first).await?;
    ensure!(
        second.resource_version() == first.resource_version(),
        "an identical second update moved resourceVersion {:?} to {:?}",
        first.resource_version(),
        second.resource_version()
    );
    Ok(Outcome::Passed)
}
