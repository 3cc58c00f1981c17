//! Behaviours of the memory backend that the differential fuzzer found differing from
//! kube-apiserver 1.37.2, each pinned by a focused test (what the real server does is recorded
//! in backend-kube/CONFORMANCE-FINDINGS.md).

use operator_runtime_core::store::{DeleteOutcome, DeleteParams, Patch, PatchParams, Propagation, WriteParams};
use operator_runtime_core::{Object, ObjectStore, StoreError, TypeRef};
use operator_runtime_memory::MemoryStore;
use serde_json::{Value, json};

const HOLD: &str = "example.com/hold";

fn params() -> WriteParams {
    WriteParams {
        field_manager: Some("test".to_owned()),
        ..WriteParams::default()
    }
}

async fn store() -> MemoryStore {
    let store = MemoryStore::new();
    let ns = Object::new(&TypeRef::new("v1", "Namespace"), None, "ns");
    store.create(&ns, &WriteParams::default()).await.unwrap();
    store
}

fn config_map(name: &str) -> Object {
    Object::new(&TypeRef::new("v1", "ConfigMap"), Some("ns"), name).with("data", json!({"k": "v"}))
}

/// Apply parameters of `manager`.
fn apply(manager: &str) -> PatchParams {
    PatchParams {
        field_manager: Some(manager.to_owned()),
        ..PatchParams::default()
    }
}

/// An apply configuration of Secret `ns/s` that sets nothing, and the Secret's key.
fn empty_secret_apply() -> (serde_json::Value, operator_runtime_core::ObjectRef) {
    let empty = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "ns"}});
    (
        empty,
        Object::new(&TypeRef::new("v1", "Secret"), Some("ns"), "s").object_ref(),
    )
}

fn service(name: &str) -> Object {
    Object::new(&TypeRef::new("v1", "Service"), Some("ns"), name).with(
        "spec",
        json!({"ports": [{"name": "http", "port": 443, "targetPort": 8080}], "selector": {"app": "a"}}),
    )
}

fn workload(kind: &str, name: &str) -> Object {
    let mut spec = json!({"replicas": 1, "selector": {"matchLabels": {"app": "a"}},
        "template": {"metadata": {"labels": {"app": "a"}},
            "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]}}});
    if kind == "StatefulSet" {
        spec["serviceName"] = json!("svc");
    }
    Object::new(&TypeRef::new("apps/v1", kind), Some("ns"), name).with("spec", spec)
}

fn with_finalizers(mut object: Object, finalizers: &[&str]) -> Object {
    object.metadata.finalizers = Some(finalizers.iter().map(|f| (*f).to_owned()).collect());
    object
}

fn finalizers(object: &Object) -> Vec<String> {
    object.metadata.finalizers.clone().unwrap_or_default()
}

#[tokio::test]
async fn an_immediate_delete_answers_with_the_identity_unless_the_kind_returns_the_object() {
    let store = store().await;
    let cm = store.create(&config_map("cm"), &params()).await.unwrap();
    let DeleteOutcome::Deleted(answer) = store.delete(&cm.object_ref(), &DeleteParams::default()).await.unwrap() else {
        panic!("a ConfigMap without finalizers goes at once");
    };
    // kube-apiserver answers with a Status naming the object: no data, no labels.
    assert_eq!(answer.name(), "cm");
    assert_eq!(answer.uid(), cm.uid());
    assert!(answer.body.get("data").is_none(), "{answer:?}");
    let svc = store.create(&service("svc"), &params()).await.unwrap();
    let dry = DeleteParams {
        dry_run: true,
        ..DeleteParams::default()
    };
    let DeleteOutcome::Deleted(answer) = store.delete(&svc.object_ref(), &dry).await.unwrap() else {
        panic!("a Service without finalizers goes at once");
    };
    // Service has ReturnDeletedObject: the whole object.
    assert_eq!(answer.body.get("spec"), svc.body.get("spec"));
}

#[tokio::test]
async fn a_delete_policy_rewrites_the_garbage_collector_finalizers_even_while_terminating() {
    let store = store().await;
    let cm = store
        .create(&with_finalizers(config_map("cm"), &[HOLD]), &params())
        .await
        .unwrap();
    let orphan = DeleteParams {
        propagation: Some(Propagation::Orphan),
        ..DeleteParams::default()
    };
    let first = store.delete(&cm.object_ref(), &orphan).await.unwrap();
    assert!(matches!(first, DeleteOutcome::Pending(_)));
    let foreground = DeleteParams {
        propagation: Some(Propagation::Foreground),
        ..DeleteParams::default()
    };
    let DeleteOutcome::Pending(second) = store.delete(&cm.object_ref(), &foreground).await.unwrap() else {
        panic!("still held by {HOLD}");
    };
    // `orphan` gave way to `foregroundDeletion` (the garbage collector's come last).
    let got = finalizers(&second);
    assert!(got == [HOLD, "foregroundDeletion"] || got == [HOLD], "{got:?}");
    assert_eq!(
        second.metadata.deletion_timestamp,
        first.object().metadata.deletion_timestamp
    );
}

#[tokio::test]
async fn a_deployment_annotation_change_bumps_its_generation_and_a_statefulset_one_does_not() {
    let store = store().await;
    for (kind, bumped) in [("Deployment", 2), ("StatefulSet", 1)] {
        let created = store.create(&workload(kind, "w"), &params()).await.unwrap();
        let mut body = Object::clone(&created);
        body.metadata.annotations = Some([("note".to_owned(), "x".to_owned())].into());
        let updated = store.replace(&body, &params()).await.unwrap();
        assert_eq!(updated.metadata.generation, Some(bumped), "{kind}");
    }
}

#[tokio::test]
async fn unknown_and_zero_omitempty_workload_fields_are_not_stored() {
    let store = store().await;
    let mut sts = workload("StatefulSet", "s");
    sts.body["spec"]["paused"] = json!(true);
    let created = store.create(&sts, &params()).await.unwrap();
    assert!(
        created.body["spec"].get("paused").is_none(),
        "StatefulSetSpec has no paused"
    );
    let deploy = store.create(&workload("Deployment", "d"), &params()).await.unwrap();
    let status = Object::clone(&deploy).with("status", json!({"replicas": 0, "observedGeneration": 1}));
    let written = store.replace_status(&status, &params()).await.unwrap();
    // DeploymentStatus.replicas is `omitempty`: a zero is not stored.
    assert_eq!(written.body.get("status"), Some(&json!({"observedGeneration": 1})));
}

#[tokio::test]
async fn a_status_put_of_a_missing_service_creates_it_without_addresses() {
    let store = store().await;
    let body = service("svc").with("status", json!({"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}]}}));
    let created = store.replace_status(&body, &params()).await.unwrap();
    let spec = &created.body["spec"];
    assert!(
        spec.get("clusterIP").is_none() && spec.get("ipFamilies").is_none(),
        "{spec}"
    );
    assert_eq!(created.body.get("status"), Some(&json!({"loadBalancer": {}})));
    let entry = &created.metadata.managed_fields.as_ref().unwrap()[0];
    assert_eq!(entry.subresource.as_deref(), Some("status"));
    // A later update allocates no cluster IP either (only leaving ExternalName does).
    let patched = store
        .patch(
            &created.object_ref(),
            &Patch::Merge(json!({"metadata": {"labels": {"a": "b"}}})),
            &PatchParams::default(),
        )
        .await
        .unwrap();
    assert!(patched.body["spec"].get("clusterIP").is_none());
    assert_eq!(patched.body["spec"]["ipFamilyPolicy"], json!("SingleStack"));
    // With a uid in the body, the missing object fails the uid precondition.
    let mut stale = service("other");
    stale.metadata.uid = Some("6a1c0f1e-0000-4000-8000-000000000001".to_owned());
    let err = store.replace(&stale, &params()).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
}

#[tokio::test]
async fn an_update_of_an_object_without_managed_fields_is_not_tracked() {
    let store = store().await;
    // An apply that owns nothing leaves the object without managedFields.
    let mut empty = Object::new(&TypeRef::new("v1", "ConfigMap"), Some("ns"), "cm");
    empty.metadata.labels = None;
    let applied = store
        .patch(
            &empty.object_ref(),
            &Patch::Apply(serde_json::to_value(&empty).unwrap()),
            &PatchParams {
                field_manager: Some("applier".to_owned()),
                ..PatchParams::default()
            },
        )
        .await
        .unwrap();
    assert!(applied.metadata.managed_fields.as_ref().is_none_or(Vec::is_empty));
    let body = Object::clone(&applied).with("data", json!({"k": "changed"}));
    let updated = store.replace(&body, &params()).await.unwrap();
    assert!(updated.metadata.managed_fields.is_none(), "{updated:?}");
    // A create without a field manager is recorded (for "unknown"), so its updates are.
    let created = store
        .create(&config_map("other"), &WriteParams::default())
        .await
        .unwrap();
    assert!(created.metadata.managed_fields.is_some());
}

#[tokio::test]
async fn empty_metadata_lists_are_not_stored_and_removing_the_last_finalizer_keeps_the_rv() {
    let store = store().await;
    let cm = store
        .create(&with_finalizers(config_map("cm"), &[HOLD]), &params())
        .await
        .unwrap();
    let DeleteOutcome::Pending(marked) = store.delete(&cm.object_ref(), &DeleteParams::default()).await.unwrap() else {
        panic!("held by {HOLD}");
    };
    let released = store
        .replace(&with_finalizers(Object::clone(&marked), &[]), &params())
        .await
        .unwrap();
    // The server answers with the object of the request, at the version it updated.
    assert_eq!(released.resource_version(), marked.resource_version());
    assert!(released.metadata.finalizers.is_none());
    assert!(store.get(&cm.object_ref()).await.is_err());
}

#[tokio::test]
async fn replaces_by_the_owning_manager_only_move_its_entry_time() {
    let store = store().await;
    let created = store.create(&config_map("cm"), &params()).await.unwrap();
    let before = created.metadata.managed_fields.clone().unwrap();
    let body = Object::clone(&created).with("data", json!({"k": "changed"}));
    let updated = store.replace(&body, &params()).await.unwrap();
    let after = updated.metadata.managed_fields.clone().unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].fields_v1, before[0].fields_v1);
    // Another manager taking the field over moves it out of the first entry.
    let body = Object::clone(&updated).with("data", json!({"k": "other"}));
    let other = WriteParams {
        field_manager: Some("other".to_owned()),
        ..WriteParams::default()
    };
    let taken = store.replace(&body, &other).await.unwrap();
    let managers: Vec<_> = taken
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .map(|e| {
            let fields = e
                .fields_v1
                .as_ref()
                .and_then(|f| operator_runtime_core::fields_v1::tree(&f.0));
            (
                e.manager.clone().unwrap_or_default(),
                fields.map(std::borrow::Cow::into_owned),
            )
        })
        .collect();
    assert!(
        managers
            .iter()
            .any(|(m, f)| m == "other" && f.as_ref().is_some_and(|f| f["f:data"].get("f:k").is_some())),
        "{managers:?}"
    );
    assert!(
        !managers
            .iter()
            .any(|(m, f)| m == "test" && f.as_ref().is_some_and(|f| f["f:data"].get("f:k").is_some())),
        "{managers:?}"
    );
}

#[tokio::test]
async fn the_first_apply_to_an_unmanaged_object_conflicts_with_before_first_apply() {
    let store = store().await;
    let (empty, key) = empty_secret_apply();
    let created = store.patch(&key, &Patch::Apply(empty), &apply("a")).await.unwrap();
    // The applier owns nothing, so the Secret (type Opaque, defaulted) has no managedFields.
    assert!(created.metadata.managed_fields.as_ref().is_none_or(Vec::is_empty));
    let typed = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "ns"},
        "type": "example.com/custom"});
    let err = store.patch(&key, &Patch::Apply(typed), &apply("b")).await.unwrap_err();
    let StoreError::Conflict { message, .. } = err else {
        panic!("expected a conflict, got {err:?}");
    };
    assert!(message.contains("before-first-apply"), "{message}");
}

#[tokio::test]
async fn a_second_apply_to_an_unmanaged_object_stores_the_before_first_apply_entry() {
    let store = store().await;
    let (empty, key) = empty_secret_apply();
    let created = store
        .patch(&key, &Patch::Apply(empty.clone()), &apply("a"))
        .await
        .unwrap();
    // Another empty apply owns nothing either, but the server records the fields that were
    // there before it under "before-first-apply": a change, with a new resourceVersion.
    let second = store
        .patch(&key, &Patch::Apply(empty.clone()), &apply("b"))
        .await
        .unwrap();
    assert_ne!(second.resource_version(), created.resource_version());
    let managers: Vec<_> = second
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .filter_map(|e| e.manager.clone())
        .collect();
    assert_eq!(managers, ["before-first-apply"]);
    assert_eq!(
        store.get(&key).await.unwrap().resource_version(),
        second.resource_version()
    );
    let third = store.patch(&key, &Patch::Apply(empty), &apply("a")).await.unwrap();
    assert_eq!(
        third.resource_version(),
        second.resource_version(),
        "then nothing changes"
    );
}

#[tokio::test]
async fn a_service_type_change_drops_what_the_old_type_needed() {
    let store = store().await;
    let node_port = service("svc").with(
        "spec",
        json!({"type": "NodePort", "ports": [{"name": "http", "port": 80, "targetPort": 8080}], "selector": {"app": "a"}}),
    );
    let created = store.create(&node_port, &params()).await.unwrap();
    assert_eq!(created.body["spec"]["externalTrafficPolicy"], "Cluster");
    assert!(created.body["spec"]["ports"][0]["nodePort"].is_i64());
    let key = created.object_ref();
    let merge = |spec: serde_json::Value| Patch::Merge(json!({ "spec": spec }));
    // What kube-apiserver 1.37.2 answers to `kubectl patch --type merge` of each step.
    let cluster_ip = store
        .patch(&key, &merge(json!({"type": "ClusterIP"})), &PatchParams::default())
        .await
        .unwrap();
    let spec = &cluster_ip.body["spec"];
    assert_eq!(spec.get("externalTrafficPolicy"), None, "{spec}");
    assert_eq!(spec["ports"][0].get("nodePort"), None, "{spec}");
    assert_eq!(spec["clusterIP"], created.body["spec"]["clusterIP"]);
    assert_eq!(cluster_ip.body["status"], json!({"loadBalancer": {}}));
    let external = store
        .patch(
            &key,
            &merge(json!({"type": "ExternalName", "externalName": "example.com"})),
            &PatchParams::default(),
        )
        .await
        .unwrap();
    let spec = external.body["spec"].as_object().unwrap();
    let mut fields: Vec<&str> = spec.keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["externalName", "ports", "selector", "sessionAffinity", "type"]);
}

#[tokio::test]
async fn a_headless_service_update_keeps_cluster_ips_in_step() {
    let store = store().await;
    let body = service("svc").with("status", json!({}));
    let created = store.replace_status(&body, &params()).await.unwrap();
    let mut headless = Object::clone(&created);
    headless.body["spec"]["clusterIP"] = json!("None");
    let updated = store.replace(&headless, &params()).await.unwrap();
    assert_eq!(updated.body["spec"]["clusterIPs"], json!(["None"]));
}

#[tokio::test]
async fn orphaning_removes_the_owner_reference_from_its_writers_managed_fields() {
    let store = store().await;
    let owner = store.create(&config_map("owner"), &params()).await.unwrap();
    let mut dependent = config_map("dependent");
    dependent.metadata.owner_references = Some(vec![operator_runtime_core::model::OwnerReference {
        api_version: "v1".to_owned(),
        kind: "ConfigMap".to_owned(),
        name: "owner".to_owned(),
        uid: owner.uid().unwrap().to_owned(),
        ..Default::default()
    }]);
    let dependent = store.create(&dependent, &params()).await.unwrap();
    let orphan = DeleteParams {
        propagation: Some(Propagation::Orphan),
        ..DeleteParams::default()
    };
    store.delete(&owner.object_ref(), &orphan).await.unwrap();
    let after = store.get(&dependent.object_ref()).await.unwrap();
    assert!(after.metadata.owner_references.is_none());
    let fields = after.metadata.managed_fields.as_ref().unwrap()[0]
        .fields_v1
        .clone()
        .unwrap()
        .0;
    assert!(fields["f:metadata"].get("f:ownerReferences").is_none(), "{fields}");
}

#[tokio::test]
async fn an_empty_apply_after_owning_all_data_leaves_no_entry() {
    let store = store().await;
    let apply = apply("alpha");
    let key = config_map("cm").object_ref();
    let with_data = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "ns"},
        "data": {"k2": "v"}});
    store.patch(&key, &Patch::Apply(with_data), &apply).await.unwrap();
    let empty = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "ns"}});
    let after = store.patch(&key, &Patch::Apply(empty), &apply).await.unwrap();
    assert_eq!(after.body.get("data"), None);
    assert!(
        after.metadata.managed_fields.as_ref().is_none_or(Vec::is_empty),
        "{:?}",
        after.metadata.managed_fields
    );
}

/// A namespaced custom resource kind `Gadget` (`gadgets.x.io`) with a structural schema.
async fn store_with_gadgets() -> MemoryStore {
    let store = store().await;
    let schema = json!({"type": "object", "properties": {"spec": {"type": "object",
        "properties": {"size": {"type": "integer"},
            "extra": {"type": "object", "nullable": true, "properties": {"n": {"type": "integer"}}}}}}});
    let crd = Object::new(
        &TypeRef::new("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
        None,
        "gadgets.x.io",
    )
    .with(
        "spec",
        json!({"group": "x.io", "scope": "Namespaced", "names": {"kind": "Gadget", "plural": "gadgets"},
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": schema}}]}),
    );
    store.create(&crd, &WriteParams::default()).await.unwrap();
    store
}

#[tokio::test]
async fn an_apply_that_empties_custom_resource_labels_makes_the_next_write_a_change() {
    let store = store_with_gadgets().await;
    let config = json!({"apiVersion": "x.io/v1", "kind": "Gadget",
        "metadata": {"name": "g", "namespace": "ns", "labels": {}}, "spec": {"size": 1}});
    let key = Object::new(&TypeRef::new("x.io/v1", "Gadget"), Some("ns"), "g").object_ref();
    let created = store
        .patch(&key, &Patch::Apply(config.clone()), &apply("a"))
        .await
        .unwrap();
    // No read shows the empty map...
    assert_eq!(created.metadata.labels, None);
    assert_eq!(store.get(&key).await.unwrap().metadata.labels, None);
    // ...but the stored form keeps it: a merge patch that changes nothing is a write.
    let noop = Patch::Merge(json!({"spec": {"size": 1}}));
    let first = store.patch(&key, &noop, &apply("m")).await.unwrap();
    assert_ne!(first.resource_version(), created.resource_version());
    // That write stored the typed form: the next one is a no-op again.
    let second = store.patch(&key, &noop, &apply("m")).await.unwrap();
    assert_eq!(second.resource_version(), first.resource_version());
    // Every apply that leaves `labels: {}` is a write, even when it repeats itself.
    let reapplied = store
        .patch(&key, &Patch::Apply(config.clone()), &apply("a"))
        .await
        .unwrap();
    assert_ne!(reapplied.resource_version(), second.resource_version());
    let again = store.patch(&key, &Patch::Apply(config), &apply("a")).await.unwrap();
    assert_ne!(again.resource_version(), reapplied.resource_version());
    // So is the next apply of another manager that does not set labels; its repeat is not.
    let other = json!({"apiVersion": "x.io/v1", "kind": "Gadget",
        "metadata": {"name": "g", "namespace": "ns"}, "spec": {"size": 1}});
    let by_b = store
        .patch(&key, &Patch::Apply(other.clone()), &apply("b"))
        .await
        .unwrap();
    assert_ne!(by_b.resource_version(), again.resource_version());
    let by_b_again = store.patch(&key, &Patch::Apply(other), &apply("b")).await.unwrap();
    assert_eq!(by_b_again.resource_version(), by_b.resource_version());

    // A ConfigMap applied the same way is stored in its typed form: the no-op stays one.
    let cm_config = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "ns", "labels": {}}, "data": {"k": "v"}});
    let cm_key = config_map("c").object_ref();
    let cm = store
        .patch(&cm_key, &Patch::Apply(cm_config), &apply("a"))
        .await
        .unwrap();
    let patched = store
        .patch(&cm_key, &Patch::Merge(json!({"data": {"k": "v"}})), &apply("m"))
        .await
        .unwrap();
    assert_eq!(patched.resource_version(), cm.resource_version());
}

#[tokio::test]
async fn an_apply_that_stops_setting_every_spec_field_of_a_custom_resource_is_invalid() {
    let store = store_with_gadgets().await;
    let key = Object::new(&TypeRef::new("x.io/v1", "Gadget"), Some("ns"), "g").object_ref();
    let gadget = |spec: Value| {
        Patch::Apply(json!({"apiVersion": "x.io/v1", "kind": "Gadget",
            "metadata": {"name": "g", "namespace": "ns"}, "spec": spec}))
    };
    store
        .patch(&key, &gadget(json!({"size": 1, "extra": {"n": 1}})), &apply("a"))
        .await
        .unwrap();
    // The prune empties `extra`: its schema is nullable, so the null is stored.
    let emptied = store
        .patch(&key, &gadget(json!({"size": 1, "extra": {}})), &apply("a"))
        .await
        .unwrap();
    assert_eq!(emptied.body["spec"], json!({"size": 1, "extra": null}));
    let created = store
        .patch(&key, &gadget(json!({"size": 1})), &apply("a"))
        .await
        .unwrap();
    // The prune empties `spec`, which is not nullable.
    let err = store
        .patch(&key, &gadget(json!({})), &apply("a"))
        .await
        .expect_err("spec: null is not an object");
    let StoreError::Invalid { causes, .. } = &err else {
        panic!("expected Invalid, got {err:?}");
    };
    assert_eq!(causes.len(), 1, "{causes:?}");
    assert_eq!(causes[0].field, "spec");
    assert!(
        causes[0]
            .message
            .ends_with("spec in body must be of type object: \"null\""),
        "{causes:?}"
    );
    let stored = store.get(&key).await.unwrap();
    assert_eq!(stored.resource_version(), created.resource_version());
    assert_eq!(stored.body["spec"], json!({"size": 1}));
    // A built-in kind is decoded into its type after the merge: the emptied field goes.
    let cm_key = config_map("c").object_ref();
    let cm = |data: Value| {
        Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "ns"}, "data": data}))
    };
    store.patch(&cm_key, &cm(json!({"k": "v"})), &apply("a")).await.unwrap();
    let emptied = store.patch(&cm_key, &cm(json!({})), &apply("a")).await.unwrap();
    assert_eq!(emptied.body.get("data"), None);
}

#[tokio::test]
async fn a_headless_service_that_gains_a_selector_may_not_keep_two_families() {
    let store = store().await;
    let headless = Object::new(&TypeRef::new("v1", "Service"), Some("ns"), "h")
        .with("spec", json!({"clusterIP": "None", "ports": [{"port": 80}]}));
    let created = store.create(&headless, &params()).await.unwrap();
    // Without a selector a single-stack cluster still gives both families.
    assert_eq!(created.body["spec"]["ipFamilies"], json!(["IPv4", "IPv6"]));
    assert_eq!(created.body["spec"]["ipFamilyPolicy"], "RequireDualStack");
    let add_selector = Patch::Json(json!([{"op": "add", "path": "/spec/selector", "value": {"app": "b"}}]));
    let Err(StoreError::Invalid { causes, .. }) = store.patch(&created.object_ref(), &add_selector, &apply("m")).await
    else {
        panic!("a selector makes the Service need addresses of both families");
    };
    let fields: Vec<&str> = causes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, ["spec.ipFamilyPolicy", "spec.ipFamilies[1]"]);
}
