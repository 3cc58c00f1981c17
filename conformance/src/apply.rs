//! Server-side apply (A.3 items 74-78). Cases inside the memory backend's documented subset
//! (create on apply, per-manager ownership of leaf fields, conflicts, force, removal of dropped
//! fields, atomic lists, no-op applies) need `ApplySupport::Subset` or better; cases beyond it
//! (keyed-list merging, `Update` entries for non-apply writes) need `ApplySupport::Full`.

use std::sync::Arc;

use operator_runtime_core::store::{ApplySupport, Patch, PatchParams, StoreResult, WriteParams};
use operator_runtime_core::{Object, ObjectRef, ObjectStore, StoreError};
use serde_json::{Value, json};

use crate::outcome::{CaseResult, Outcome};
use crate::support::kinds::config_map;
use crate::support::{Ctx, OrFail, edit, rv_of, with_labels};

const NO_APPLY: &str = "backend has no server-side apply (ApplySupport::None)";

/// The apply body of ConfigMap `name` in the behaviour's namespace with the given data.
fn config_map_body<S: ObjectStore + ?Sized>(cx: &Ctx<'_, S>, name: &str, data: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": cx.ns},
        "data": data
    })
}

/// An apply configuration of Deployment `d` with the selector, labels and `containers`.
fn deployment_body<S: ObjectStore + ?Sized>(cx: &Ctx<'_, S>, containers: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "d", "namespace": cx.ns},
        "spec": {"selector": {"matchLabels": {"app": "d"}},
            "template": {"metadata": {"labels": {"app": "d"}}, "spec": {"containers": containers}}}
    })
}

/// An apply configuration of Deployment `d` with only `containers` (what a sidecar injector sends).
fn containers_body<S: ObjectStore + ?Sized>(cx: &Ctx<'_, S>, containers: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "d", "namespace": cx.ns},
        "spec": {"template": {"spec": {"containers": containers}}}
    })
}

/// Write parameters of a non-apply write by `manager`.
fn written_by(manager: &str) -> WriteParams {
    WriteParams {
        dry_run: false,
        field_manager: Some(manager.to_owned()),
    }
}

/// The container names of a Deployment, in order.
fn container_names(deployment: &Object) -> Vec<String> {
    deployment
        .spec()
        .and_then(|s| s.pointer("/template/spec/containers"))
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn apply<S: ObjectStore + ?Sized>(
    cx: &Ctx<'_, S>,
    name: &str,
    body: Value,
    manager: &str,
    force: bool,
) -> StoreResult<Arc<Object>> {
    let params = PatchParams {
        field_manager: Some(manager.to_owned()),
        force,
        ..PatchParams::default()
    };
    cx.store
        .patch(&cx.key(&config_map(), name), &Patch::Apply(body), &params)
        .await
}

/// True if `manager` has a managedFields entry with `operation` that owns the field path
/// (`["f:data", "f:x"]`).
fn owns(object: &Object, manager: &str, operation: &str, path: &[&str]) -> bool {
    object.metadata.managed_fields.iter().flatten().any(|entry| {
        entry.manager.as_deref() == Some(manager)
            && entry.operation.as_deref() == Some(operation)
            && entry
                .fields_v1
                .as_ref()
                .and_then(|f| operator_runtime_core::fields_v1::tree(&f.0))
                .is_some_and(|tree| path.iter().try_fold(&*tree, |node, key| node.get(*key)).is_some())
    })
}

fn data(object: &Object) -> Option<&Value> {
    object.body.get("data")
}

/// A.3 #74: apply to a missing object creates it and records an `Apply` entry for the manager.
pub async fn apply_creates_missing_object_with_apply_entry<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().server_side_apply != ApplySupport::None, NO_APPLY);
    let cx = Ctx::new(store, "apply_creates_missing_object_with_apply_entry").await?;
    let created = apply(&cx, "a", config_map_body(&cx, "a", json!({"x": "1"})), "m1", false)
        .await
        .or_fail("apply")?;
    let stored = cx.get(&created.object_ref()).await?;
    ensure!(data(&stored) == Some(&json!({"x": "1"})), "data {:?}", data(&stored));
    ensure!(
        owns(&stored, "m1", "Apply", &["f:data", "f:x"]),
        "managedFields {:?}",
        stored.metadata.managed_fields
    );
    Ok(Outcome::Passed)
}

/// A.3 #75: apply without a field manager is Invalid.
pub async fn apply_without_field_manager_is_invalid<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().server_side_apply != ApplySupport::None, NO_APPLY);
    let cx = Ctx::new(store, "apply_without_field_manager_is_invalid").await?;
    let body = config_map_body(&cx, "a", json!({"x": "1"}));
    expect_err!(
        store
            .patch(
                &cx.key(&config_map(), "a"),
                &Patch::Apply(body),
                &PatchParams::default()
            )
            .await,
        StoreError::Invalid { .. },
        "apply without a field manager"
    );
    Ok(Outcome::Passed)
}

/// A.3 #76: applying another manager's field with a different value is Conflict and changes
/// nothing.
pub async fn apply_of_field_owned_by_other_manager_conflicts<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().server_side_apply != ApplySupport::None, NO_APPLY);
    let cx = Ctx::new(store, "apply_of_field_owned_by_other_manager_conflicts").await?;
    let first = apply(&cx, "a", config_map_body(&cx, "a", json!({"x": "1"})), "m1", false)
        .await
        .or_fail("apply by m1")?;
    expect_err!(
        apply(&cx, "a", config_map_body(&cx, "a", json!({"x": "2"})), "m2", false).await,
        StoreError::Conflict { .. },
        "apply of data.x by m2"
    );
    let stored = cx.get(&first.object_ref()).await?;
    ensure!(
        rv_of(&stored)? == rv_of(&first)?,
        "the conflicting apply changed the object"
    );
    Ok(Outcome::Passed)
}

/// A.3 #76: with force, the other manager's field is taken over.
pub async fn apply_with_force_takes_ownership<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().server_side_apply != ApplySupport::None, NO_APPLY);
    let cx = Ctx::new(store, "apply_with_force_takes_ownership").await?;
    apply(&cx, "a", config_map_body(&cx, "a", json!({"x": "1"})), "m1", false)
        .await
        .or_fail("apply by m1")?;
    let forced = apply(&cx, "a", config_map_body(&cx, "a", json!({"x": "2"})), "m2", true)
        .await
        .or_fail("forced apply by m2")?;
    ensure!(data(&forced) == Some(&json!({"x": "2"})), "data {:?}", data(&forced));
    ensure!(
        owns(&forced, "m2", "Apply", &["f:data", "f:x"]),
        "m2 does not own data.x"
    );
    ensure!(
        !owns(&forced, "m1", "Apply", &["f:data", "f:x"]),
        "m1 still owns data.x"
    );
    Ok(Outcome::Passed)
}

/// A.3 #77: a field the manager applied before and now omits is removed.
pub async fn apply_omitting_field_removes_it<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().server_side_apply != ApplySupport::None, NO_APPLY);
    let cx = Ctx::new(store, "apply_omitting_field_removes_it").await?;
    apply(
        &cx,
        "a",
        config_map_body(&cx, "a", json!({"x": "1", "y": "2"})),
        "m1",
        false,
    )
    .await
    .or_fail("first apply")?;
    let second = apply(&cx, "a", config_map_body(&cx, "a", json!({"x": "1"})), "m1", false)
        .await
        .or_fail("second apply")?;
    ensure!(data(&second) == Some(&json!({"x": "1"})), "data {:?}", data(&second));
    Ok(Outcome::Passed)
}

/// A field dropped by one manager stays while another manager still applies it.
pub async fn apply_omitted_field_shared_with_other_manager_stays<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().server_side_apply != ApplySupport::None, NO_APPLY);
    let cx = Ctx::new(store, "apply_omitted_field_shared_with_other_manager_stays").await?;
    apply(
        &cx,
        "a",
        config_map_body(&cx, "a", json!({"x": "1", "y": "2"})),
        "m1",
        false,
    )
    .await
    .or_fail("apply by m1")?;
    apply(&cx, "a", config_map_body(&cx, "a", json!({"x": "1"})), "m2", false)
        .await
        .or_fail("apply of the same value by m2")?;
    let dropped = apply(&cx, "a", config_map_body(&cx, "a", json!({"y": "2"})), "m1", false)
        .await
        .or_fail("m1 drops x")?;
    ensure!(
        data(&dropped) == Some(&json!({"x": "1", "y": "2"})),
        "data {:?}",
        data(&dropped)
    );
    Ok(Outcome::Passed)
}

/// Two managers applying the same value share the field without conflict.
pub async fn apply_of_same_value_by_two_managers_shares_ownership<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().server_side_apply != ApplySupport::None, NO_APPLY);
    let cx = Ctx::new(store, "apply_of_same_value_by_two_managers_shares_ownership").await?;
    apply(&cx, "a", config_map_body(&cx, "a", json!({"x": "1"})), "m1", false)
        .await
        .or_fail("apply by m1")?;
    let shared = apply(&cx, "a", config_map_body(&cx, "a", json!({"x": "1"})), "m2", false)
        .await
        .or_fail("apply of the same value by m2")?;
    ensure!(
        owns(&shared, "m1", "Apply", &["f:data", "f:x"]) && owns(&shared, "m2", "Apply", &["f:data", "f:x"]),
        "data.x not owned by both managers: {:?}",
        shared.metadata.managed_fields
    );
    Ok(Outcome::Passed)
}

/// A.3 #78: applying the same configuration twice is a no-op (same resourceVersion).
pub async fn apply_of_same_config_twice_keeps_rv<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().server_side_apply != ApplySupport::None, NO_APPLY);
    let cx = Ctx::new(store, "apply_of_same_config_twice_keeps_rv").await?;
    let body = config_map_body(&cx, "a", json!({"x": "1"}));
    let first = apply(&cx, "a", body.clone(), "m1", false)
        .await
        .or_fail("first apply")?;
    let second = apply(&cx, "a", body, "m1", false).await.or_fail("second apply")?;
    ensure!(
        rv_of(&second)? == rv_of(&first)?,
        "identical apply moved the resourceVersion"
    );
    Ok(Outcome::Passed)
}

/// An apply that carries a resourceVersion creates a missing object (the resourceVersion is
/// dropped: the object gets one of its own), and is a Conflict on an existing object whose
/// resourceVersion differs. The driver creates children with such an apply instead of reading
/// them first.
pub async fn apply_with_resource_version_creates_or_conflicts<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().server_side_apply != ApplySupport::None, NO_APPLY);
    let cx = Ctx::new(store, "apply_with_resource_version_creates_or_conflicts").await?;
    let unheld = "18446744073709551615";
    let mut body = config_map_body(&cx, "a", json!({"x": "1"}));
    body["metadata"]["resourceVersion"] = json!(unheld);
    let created = apply(&cx, "a", body.clone(), "m1", false)
        .await
        .or_fail("apply that creates")?;
    ensure!(
        rv_of(&created)? != unheld,
        "the created object kept the apply's resourceVersion"
    );
    body["data"] = json!({"x": "2"});
    expect_err!(
        apply(&cx, "a", body, "m1", true).await,
        StoreError::Conflict { .. },
        "apply with another resourceVersion to an existing object"
    );
    let stored = cx.store.get(&created.object_ref()).await.or_fail("get")?;
    ensure!(
        rv_of(&stored)? == rv_of(&created)?,
        "the refused apply changed the object"
    );
    Ok(Outcome::Passed)
}

/// `ObjectStore::apply_object` is the apply of the object's JSON: a StatefulSet with keyed
/// lists of two entries applied both ways (one object each) is stored with the same labels,
/// spec and field ownership, and its resourceVersion argument is the same precondition
/// (dropped by the create, Conflict when stale, none when absent).
pub async fn apply_object_is_the_apply_of_its_json<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().server_side_apply != ApplySupport::None, NO_APPLY);
    let cx = Ctx::new(store, "apply_object_is_the_apply_of_its_json").await?;
    let unheld = "18446744073709551615";
    let statefulset = |name: &str, image: &str| -> Result<Object, String> {
        Object::from_value(json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": name, "namespace": cx.ns, "labels": {"app": "s", "tier": "db"},
                "annotations": {"note": "both ways"}},
            "spec": {"replicas": 2, "serviceName": "s",
                "selector": {"matchLabels": {"app": "s"}},
                "template": {"metadata": {"labels": {"app": "s"}},
                    "spec": {"containers": [
                        {"name": "main", "image": image, "ports": [{"containerPort": 80}, {"containerPort": 81, "protocol": "UDP"}]},
                        {"name": "sidecar", "image": "busybox"}]}}}
        }))
        .map_err(|e| e.to_string())
    };
    let params = PatchParams {
        field_manager: Some("m1".to_owned()),
        force: true,
        ..PatchParams::default()
    };
    let by_object = store
        .apply_object(&statefulset("a", "nginx")?, Some(unheld), &params)
        .await
        .or_fail("apply_object that creates")?;
    let mut body = statefulset("b", "nginx")?.to_value().map_err(|e| e.to_string())?;
    body["metadata"]["resourceVersion"] = json!(unheld);
    let by_json = store
        .patch(&cx.key(&by_object.type_ref(), "b"), &Patch::Apply(body), &params)
        .await
        .or_fail("apply of the JSON that creates")?;
    ensure!(
        rv_of(&by_object)? != unheld,
        "the created object kept the apply's resourceVersion"
    );
    let (a, b) = (
        cx.get(&by_object.object_ref()).await?,
        cx.get(&by_json.object_ref()).await?,
    );
    ensure!(
        a.metadata.labels == b.metadata.labels,
        "labels {:?} vs {:?}",
        a.metadata.labels,
        b.metadata.labels
    );
    ensure!(
        a.metadata.annotations == b.metadata.annotations,
        "annotations {:?} vs {:?}",
        a.metadata.annotations,
        b.metadata.annotations
    );
    ensure!(a.spec() == b.spec(), "spec {:?} vs {:?}", a.spec(), b.spec());
    let entries = |o: &Object| -> Vec<(Option<String>, Option<String>)> {
        let managed = o.metadata.managed_fields.iter().flatten();
        managed.map(|e| (e.manager.clone(), e.operation.clone())).collect()
    };
    ensure!(
        entries(&a) == entries(&b),
        "managedFields {:?} vs {:?}",
        entries(&a),
        entries(&b)
    );
    let (owned_a, owned_b) = (fields_of(&a, "m1", "Apply"), fields_of(&b, "m1", "Apply"));
    ensure!(
        owned_a.is_some() && owned_a == owned_b,
        "m1's fields {owned_a:?} vs {owned_b:?}"
    );
    expect_err!(
        store
            .apply_object(&statefulset("a", "httpd")?, Some(unheld), &params)
            .await,
        StoreError::Conflict { .. },
        "apply_object with another resourceVersion to an existing object"
    );
    let current = rv_of(&a)?;
    let updated = store
        .apply_object(&statefulset("a", "httpd")?, Some(&current), &params)
        .await
        .or_fail("apply_object at the current resourceVersion")?;
    let image = |o: &Object| {
        o.spec()
            .and_then(|s| s.pointer("/template/spec/containers/0/image"))
            .cloned()
    };
    ensure!(image(&updated) == Some(json!("httpd")), "image {:?}", image(&updated));
    let again = store
        .apply_object(&statefulset("a", "redis")?, None, &params)
        .await
        .or_fail("apply_object without a resourceVersion")?;
    ensure!(image(&again) == Some(json!("redis")), "image {:?}", image(&again));
    Ok(Outcome::Passed)
}

/// Lists of a custom resource without list-type markers are atomic: another manager applying a
/// different list conflicts.
pub async fn apply_of_different_atomic_list_conflicts<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().server_side_apply != ApplySupport::None, NO_APPLY);
    let cx = Ctx::new(store, "apply_of_different_atomic_list_conflicts").await?;
    cx.install_crds().await?;
    let body = |items: Value| {
        json!({
            "apiVersion": crate::support::kinds::widget().api_version,
            "kind": "Widget",
            "metadata": {"name": "w", "namespace": cx.ns},
            "spec": {"items": items}
        })
    };
    let key = cx.key(&crate::support::kinds::widget(), "w");
    let params = |m: &str| PatchParams::apply(m);
    store
        .patch(&key, &Patch::Apply(body(json!(["a"]))), &params("m1"))
        .await
        .or_fail("apply by m1")?;
    expect_err!(
        store
            .patch(&key, &Patch::Apply(body(json!(["b"]))), &params("m2"))
            .await,
        StoreError::Conflict { .. },
        "apply of another list by m2"
    );
    Ok(Outcome::Passed)
}

/// Applying a body that carries `managedFields` is BadRequest ("metadata.managedFields must be
/// nil", structured-merge apply in the API server's field manager).
pub async fn apply_with_managed_fields_in_body_is_error<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().server_side_apply != ApplySupport::None, NO_APPLY);
    let cx = Ctx::new(store, "apply_with_managed_fields_in_body_is_error").await?;
    let mut body = config_map_body(&cx, "a", json!({"x": "1"}));
    body["metadata"]["managedFields"] = json!([{"manager": "m1", "operation": "Apply"}]);
    expect_err!(
        apply(&cx, "a", body, "m1", false).await,
        StoreError::BadRequest { .. },
        "apply with managedFields"
    );
    Ok(Outcome::Passed)
}

/// Keyed lists (Deployment containers, keyed by name) merge entries from different managers.
pub async fn apply_merges_keyed_list_entries_of_two_managers<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().server_side_apply != ApplySupport::None, NO_APPLY);
    let cx = Ctx::new(store, "apply_merges_keyed_list_entries_of_two_managers").await?;
    let kind = operator_runtime_core::TypeRef::new("apps/v1", "Deployment");
    let key = ObjectRef::namespaced(kind, &cx.ns, "d");
    let first = deployment_body(&cx, json!([{"name": "a", "image": "example.invalid/a:1"}]));
    let second = containers_body(&cx, json!([{"name": "b", "image": "example.invalid/b:1"}]));
    store
        .patch(&key, &Patch::Apply(first), &PatchParams::apply("m1"))
        .await
        .or_fail("apply by m1")?;
    let merged = store
        .patch(&key, &Patch::Apply(second), &PatchParams::apply("m2"))
        .await
        .or_fail("apply by m2")?;
    let names = container_names(&merged);
    ensure!(names == ["a", "b"], "containers {names:?}, expected [a, b]");
    Ok(Outcome::Passed)
}

/// Non-apply writes record an `Update` entry for their field manager.
pub async fn update_records_update_entry_for_its_manager<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().server_side_apply != ApplySupport::None, NO_APPLY);
    let cx = Ctx::new(store, "update_records_update_entry_for_its_manager").await?;
    let created = cx.create(&cx.config_map("a")).await?;
    let params = written_by("editor");
    let updated = store
        .replace(&edit(&created).with("data", json!({"k": "v", "extra": "1"})), &params)
        .await
        .or_fail("update")?;
    ensure!(
        owns(&updated, "editor", "Update", &["f:data", "f:extra"]),
        "managedFields {:?}",
        updated.metadata.managed_fields
    );
    Ok(Outcome::Passed)
}

/// An update (say `kubectl edit`) that changes a field an applier owns takes the field over:
/// the applier keeps only its untouched fields, and applying its old value again without force
/// is a conflict with the editor (with force, it takes the field back).
pub async fn update_takes_changed_fields_from_the_applier<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().server_side_apply != ApplySupport::None, NO_APPLY);
    let cx = Ctx::new(store, "update_takes_changed_fields_from_the_applier").await?;
    let applied = json!({"k": "v", "keep": "1"});
    let created = apply(&cx, "a", config_map_body(&cx, "a", applied.clone()), "m1", false)
        .await
        .or_fail("apply")?;
    let params = written_by("editor");
    let edited = store
        .replace(&edit(&created).with("data", json!({"k": "w", "keep": "1"})), &params)
        .await
        .or_fail("update")?;
    ensure!(
        owns(&edited, "editor", "Update", &["f:data", "f:k"]),
        "editor does not own data.k: {:?}",
        edited.metadata.managed_fields
    );
    ensure!(
        !owns(&edited, "m1", "Apply", &["f:data", "f:k"]) && owns(&edited, "m1", "Apply", &["f:data", "f:keep"]),
        "m1 should own data.keep only: {:?}",
        edited.metadata.managed_fields
    );
    let err = expect_err!(
        apply(&cx, "a", config_map_body(&cx, "a", applied.clone()), "m1", false).await,
        StoreError::Conflict { .. },
        "re-apply of the edited field without force"
    );
    ensure!(
        err.to_string().contains("editor"),
        "conflict does not name the editor: {err}"
    );
    let forced = apply(&cx, "a", config_map_body(&cx, "a", applied), "m1", true)
        .await
        .or_fail("forced apply")?;
    ensure!(
        data(&forced) == Some(&json!({"k": "v", "keep": "1"})),
        "data {:?}",
        data(&forced)
    );
    ensure!(
        !owns(&forced, "editor", "Update", &["f:data", "f:k"]),
        "editor still owns data.k after the forced apply: {:?}",
        forced.metadata.managed_fields
    );
    Ok(Outcome::Passed)
}

/// A manager whose apply configuration no longer has its entry of a keyed list (a sidecar
/// container) removes that entry only; another manager's entry stays, and a conflicting
/// value for a field of the other manager's entry is a conflict.
pub async fn apply_dropping_a_keyed_entry_removes_only_that_entry<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().server_side_apply != ApplySupport::None, NO_APPLY);
    let cx = Ctx::new(store, "apply_dropping_a_keyed_entry_removes_only_that_entry").await?;
    let key = ObjectRef::namespaced(
        operator_runtime_core::TypeRef::new("apps/v1", "Deployment"),
        &cx.ns,
        "d",
    );
    let app = json!([{"name": "app", "image": "example.invalid/app:1"}]);
    store
        .patch(
            &key,
            &Patch::Apply(deployment_body(&cx, app)),
            &PatchParams::apply("owner"),
        )
        .await
        .or_fail("apply by owner")?;
    let with_sidecar = store
        .patch(
            &key,
            &Patch::Apply(containers_body(
                &cx,
                json!([{"name": "proxy", "image": "example.invalid/proxy:1"}]),
            )),
            &PatchParams::apply("injector"),
        )
        .await
        .or_fail("apply by injector")?;
    ensure!(
        container_names(&with_sidecar) == ["app", "proxy"],
        "containers {:?}",
        container_names(&with_sidecar)
    );
    expect_err!(
        store
            .patch(
                &key,
                &Patch::Apply(containers_body(
                    &cx,
                    json!([{"name": "app", "image": "example.invalid/other:2"}])
                )),
                &PatchParams::apply("injector"),
            )
            .await,
        StoreError::Conflict { .. },
        "injector sets the owner's container image"
    );
    // The injector's next configuration no longer mentions containers at all.
    let label_only = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "d", "namespace": cx.ns, "labels": {"injected": "false"}}
    });
    let without = store
        .patch(&key, &Patch::Apply(label_only), &PatchParams::apply("injector"))
        .await
        .or_fail("injector drops its container")?;
    ensure!(
        container_names(&without) == ["app"],
        "containers {:?}",
        container_names(&without)
    );
    Ok(Outcome::Passed)
}

/// The `fieldsV1` of `manager`'s entry with `operation`, if any.
fn fields_of(object: &Object, manager: &str, operation: &str) -> Option<Value> {
    object
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .find(|e| e.manager.as_deref() == Some(manager) && e.operation.as_deref() == Some(operation))
        .and_then(|e| e.fields_v1.as_ref())
        .and_then(|f| operator_runtime_core::fields_v1::tree(&f.0))
        .map(std::borrow::Cow::into_owned)
}

/// managedFields in the server's encoding: a Deployment's `spec.selector` (a LabelSelector,
/// `x-kubernetes-map-type: atomic`) is owned as a whole (`f:selector: {}`), so another
/// manager applying a different selector conflicts on `.spec.selector`; a keyed entry
/// (`k:{"name":"app"}`) is owned itself, with the `"."` self-marker beside its fields.
/// Drift detection reads these entries, so both backends must write them alike.
pub async fn apply_owns_atomic_selector_whole_and_marks_keyed_entries<S: ObjectStore + ?Sized>(
    store: &S,
) -> CaseResult {
    require!(store.capabilities().server_side_apply != ApplySupport::None, NO_APPLY);
    let cx = Ctx::new(store, "apply_owns_atomic_selector_whole_and_marks_keyed_entries").await?;
    let key = ObjectRef::namespaced(
        operator_runtime_core::TypeRef::new("apps/v1", "Deployment"),
        &cx.ns,
        "d",
    );
    let body = deployment_body(&cx, json!([{"name": "app", "image": "example.invalid/app:1"}]));
    let applied = store
        .patch(&key, &Patch::Apply(body.clone()), &PatchParams::apply("owner"))
        .await
        .or_fail("apply by owner")?;
    let fields = fields_of(&applied, "owner", "Apply").unwrap_or_default();
    ensure!(
        fields.pointer("/f:spec/f:selector") == Some(&json!({})),
        "selector not owned as a whole: {fields}"
    );
    let entry = fields.pointer("/f:spec/f:template/f:spec/f:containers/k:{\"name\":\"app\"}");
    ensure!(
        entry.is_some_and(|e| e.get(".") == Some(&json!({})) && e.get("f:image").is_some()),
        "keyed entry without its self-marker: {fields}"
    );
    let mut other = body;
    other["spec"]["selector"]["matchLabels"]["extra"] = json!("x");
    let err = expect_err!(
        store
            .patch(&key, &Patch::Apply(other), &PatchParams::apply("other"))
            .await,
        StoreError::Conflict { .. },
        "apply of another selector by a second manager"
    );
    ensure!(
        err.to_string().contains(".spec.selector"),
        "conflict does not name .spec.selector: {err}"
    );
    Ok(Outcome::Passed)
}

/// A create owns what it adds: a map that was absent (`metadata.labels`, `data`) is owned as a
/// whole (`"."`) and key by key; the Service cluster IP the server allocates is nobody's.
pub async fn create_owns_added_maps_but_not_allocated_fields<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().server_side_apply != ApplySupport::None, NO_APPLY);
    let cx = Ctx::new(store, "create_owns_added_maps_but_not_allocated_fields").await?;
    let params = written_by("creator");
    let cm = with_labels(cx.config_map("a"), &[("app", "a")]);
    let created = store.create(&cm, &params).await.or_fail("create ConfigMap")?;
    let fields = fields_of(&created, "creator", "Update").unwrap_or_default();
    ensure!(
        fields.pointer("/f:metadata/f:labels") == Some(&json!({".": {}, "f:app": {}})),
        "labels not owned as a whole: {fields}"
    );
    ensure!(
        fields.pointer("/f:data/.").is_some(),
        "data not owned as a whole: {fields}"
    );
    let service = Object::from_value(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "s", "namespace": cx.ns},
        "spec": {"ports": [{"port": 80}], "selector": {"app": "a"}}
    }))
    .map_err(|e| format!("service body: {e}"))?;
    let created = store.create(&service, &params).await.or_fail("create Service")?;
    let fields = fields_of(&created, "creator", "Update").unwrap_or_default();
    ensure!(
        fields.pointer("/f:spec/f:clusterIP").is_none() && fields.pointer("/f:spec/f:clusterIPs").is_none(),
        "the allocated cluster IP is owned by the creator: {fields}"
    );
    ensure!(
        fields.pointer("/f:spec/f:selector") == Some(&json!({})),
        "the Service selector (atomic) is not owned whole: {fields}"
    );
    Ok(Outcome::Passed)
}
