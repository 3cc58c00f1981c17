//! The status subresource and generation rules around status (A.3 items 26-31).

use operator_runtime_core::store::{Patch, PatchParams, WriteParams};
use operator_runtime_core::{Object, ObjectStore, StoreError};
use serde_json::{Value, json};

use crate::outcome::{CaseResult, Outcome};
use crate::support::{Ctx, OrFail, edit, rv_of, with_labels};

/// A.3 #26: with the status subresource, a main-resource update ignores status changes.
pub async fn main_update_ignores_status_with_status_subresource<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "main_update_ignores_status_with_status_subresource").await?;
    cx.install_crds().await?;
    let created = cx.create(&cx.widget("w", json!({"size": 1}))).await?;
    let with_status = store
        .replace_status(
            &edit(&created).with("status", json!({"phase": "A"})),
            &WriteParams::default(),
        )
        .await
        .or_fail("status update")?;
    let body = edit(&with_status)
        .with("spec", json!({"size": 2}))
        .with("status", json!({"phase": "B"}));
    let updated = cx.replace(&body).await?;
    ensure!(
        updated.status() == Some(&json!({"phase": "A"})),
        "status became {:?}",
        updated.status()
    );
    ensure!(
        updated.spec() == Some(&json!({"size": 2})),
        "spec not written: {:?}",
        updated.spec()
    );
    Ok(Outcome::Passed)
}

/// A.3 #27: with the status subresource, a main-resource update that only changes status is a
/// no-op (same resourceVersion).
pub async fn main_update_of_only_status_is_a_no_op<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "main_update_of_only_status_is_a_no_op").await?;
    cx.install_crds().await?;
    let created = cx.create(&cx.widget("w", json!({"size": 1}))).await?;
    let updated = cx
        .replace(&edit(&created).with("status", json!({"phase": "B"})))
        .await?;
    ensure!(
        rv_of(&updated)? == rv_of(&created)?,
        "resourceVersion moved on a status-only main update"
    );
    ensure!(
        updated.status().and_then(|s| s.get("phase")).is_none(),
        "status written: {:?}",
        updated.status()
    );
    Ok(Outcome::Passed)
}

/// A.3 #28: a `/status` update writes only status: generation stays, resourceVersion moves,
/// spec and label changes in the body are ignored.
pub async fn status_update_writes_only_status<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "status_update_writes_only_status").await?;
    cx.install_crds().await?;
    let created = cx.create(&cx.widget("w", json!({"size": 1}))).await?;
    let body = with_labels(edit(&created), &[("sneaky", "yes")])
        .with("spec", json!({"size": 9}))
        .with("status", json!({"phase": "Ready"}));
    let updated = store
        .replace_status(&body, &WriteParams::default())
        .await
        .or_fail("status update")?;
    ensure!(
        updated.status() == Some(&json!({"phase": "Ready"})),
        "status {:?}",
        updated.status()
    );
    ensure!(
        updated.spec() == Some(&json!({"size": 1})),
        "spec changed through /status: {:?}",
        updated.spec()
    );
    ensure!(updated.label("sneaky").is_none(), "label written through /status");
    ensure!(
        updated.metadata.generation == Some(1),
        "generation {:?}, expected 1",
        updated.metadata.generation
    );
    ensure!(rv_of(&updated)? != rv_of(&created)?, "resourceVersion did not change");
    let stored = cx.get(&created.object_ref()).await?;
    ensure!(stored == updated, "get differs from the status update's response");
    Ok(Outcome::Passed)
}

/// A.3 #29: a `/status` update with a stale resourceVersion is Conflict.
pub async fn status_update_with_stale_rv_conflicts<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "status_update_with_stale_rv_conflicts").await?;
    cx.install_crds().await?;
    let created = cx.create(&cx.widget("w", json!({"size": 1}))).await?;
    cx.replace(&edit(&created).with("spec", json!({"size": 2}))).await?;
    expect_err!(
        store
            .replace_status(
                &edit(&created).with("status", json!({"phase": "X"})),
                &WriteParams::default()
            )
            .await,
        StoreError::Conflict { .. },
        "status update with the stale resourceVersion"
    );
    Ok(Outcome::Passed)
}

/// A.3 #30: `/status` on a kind without the status subresource is NotFound.
pub async fn status_update_without_status_subresource_is_not_found<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "status_update_without_status_subresource_is_not_found").await?;
    cx.install_crds().await?;
    let created = cx.create(&cx.gadget("g", json!({"size": 1}))).await?;
    expect_err!(
        store
            .replace_status(
                &edit(&created).with("status", json!({"phase": "X"})),
                &WriteParams::default()
            )
            .await,
        StoreError::NotFound { .. },
        "status update of a Gadget"
    );
    Ok(Outcome::Passed)
}

/// A.3 #31: without a status subresource, a status change through the main resource is written
/// and bumps generation.
pub async fn main_update_of_status_without_subresource_bumps_generation<S: ObjectStore + ?Sized>(
    store: &S,
) -> CaseResult {
    let cx = Ctx::new(store, "main_update_of_status_without_subresource_bumps_generation").await?;
    cx.install_crds().await?;
    let created = cx.create(&cx.gadget("g", json!({"size": 1}))).await?;
    let updated = cx
        .replace(&edit(&created).with("status", json!({"phase": "Ready"})))
        .await?;
    ensure!(
        updated.status() == Some(&json!({"phase": "Ready"})),
        "status {:?}",
        updated.status()
    );
    ensure!(
        updated.metadata.generation == Some(2),
        "generation {:?}, expected 2",
        updated.metadata.generation
    );
    Ok(Outcome::Passed)
}

/// A `/status` update of a missing object is NotFound (no create on update).
pub async fn status_update_of_missing_object_is_not_found<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "status_update_of_missing_object_is_not_found").await?;
    cx.install_crds().await?;
    let mut body = cx.widget("ghost", json!({})).with("status", json!({"phase": "X"}));
    body.metadata.resource_version = Some("1".into());
    expect_err!(
        store.replace_status(&body, &WriteParams::default()).await,
        StoreError::NotFound { .. },
        "status update of a missing Widget"
    );
    Ok(Outcome::Passed)
}

/// The status entry (`operation: Apply`, `subresource: status`) of `manager`, as `fieldsV1`.
fn status_apply_entry(object: &Object, manager: &str) -> Option<Value> {
    object.metadata.managed_fields.iter().flatten().find_map(|e| {
        (e.manager.as_deref() == Some(manager)
            && e.operation.as_deref() == Some("Apply")
            && e.subresource.as_deref() == Some("status"))
        .then(|| {
            e.fields_v1
                .as_ref()
                .and_then(|f| operator_runtime_core::fields_v1::tree(&f.0))
                .map(std::borrow::Cow::into_owned)
        })
        .flatten()
    })
}

/// Server-side apply to `/status` (kube-rs's `Api::patch_status` with `Patch::Apply`): the
/// entry carries `subresource: status` and owns only the status fields applied (spec and
/// labels in the configuration are ignored); a later apply by the same manager that omits a
/// field removes it; another manager changing an owned field conflicts (the message names the
/// owner "with subresource"), and with force takes it over, the first manager's entry going
/// when it owns nothing any more. A kind without the status subresource is NotFound, so is
/// the status of a missing object. Checked with kubectl against kube-apiserver 1.37.2.
pub async fn status_apply_owns_status_fields_apart_from_the_main_resource<S: ObjectStore + ?Sized>(
    store: &S,
) -> CaseResult {
    let cx = Ctx::new(store, "status_apply_owns_status_fields_apart_from_the_main_resource").await?;
    cx.install_crds().await?;
    let created = cx.create(&cx.widget("w", json!({"replicas": 1}))).await?;
    let status_apply = |manager: &str, body: Value, force: bool| {
        let params = PatchParams {
            field_manager: Some(manager.to_owned()),
            force,
            status: true,
            ..PatchParams::default()
        };
        let key = created.object_ref();
        async move { store.patch(&key, &Patch::Apply(body), &params).await }
    };
    let config = |status: Value| {
        json!({"apiVersion": created.api_version, "kind": created.kind,
            "metadata": {"name": "w", "namespace": cx.ns, "labels": {"sneaky": "yes"}},
            "spec": {"replicas": 9}, "status": status})
    };
    let first = status_apply("a", config(json!({"phase": "A", "ready": 1})), false)
        .await
        .or_fail("status apply")?;
    ensure!(
        first.status() == Some(&json!({"phase": "A", "ready": 1})),
        "status {:?}",
        first.status()
    );
    ensure!(
        first.spec() == Some(&json!({"replicas": 1})),
        "spec changed through /status: {:?}",
        first.spec()
    );
    ensure!(first.label("sneaky").is_none(), "label written through /status");
    ensure!(
        first.metadata.generation == Some(1),
        "generation {:?}",
        first.metadata.generation
    );
    ensure!(
        status_apply_entry(&first, "a") == Some(json!({"f:status": {"f:phase": {}, "f:ready": {}}})),
        "managedFields {:?}",
        first.metadata.managed_fields
    );

    let second = status_apply("a", config(json!({"phase": "A"})), false)
        .await
        .or_fail("second status apply")?;
    ensure!(
        second.status() == Some(&json!({"phase": "A"})),
        "a field the manager stopped applying stayed: {:?}",
        second.status()
    );

    let clash = status_apply("b", config(json!({"phase": "B", "note": "hi"})), false).await;
    match &clash {
        Err(StoreError::Conflict { message, .. }) if message.contains("with subresource \"status\"") => {}
        other => return Err(format!("a conflicting status apply answered {other:?}")),
    }
    let forced = status_apply("b", config(json!({"phase": "B", "note": "hi"})), true)
        .await
        .or_fail("forced status apply")?;
    ensure!(
        forced.status() == Some(&json!({"phase": "B", "note": "hi"})),
        "status {:?}",
        forced.status()
    );
    ensure!(
        status_apply_entry(&forced, "a").is_none()
            && status_apply_entry(&forced, "b") == Some(json!({"f:status": {"f:note": {}, "f:phase": {}}})),
        "managedFields {:?}",
        forced.metadata.managed_fields
    );

    let gadget = cx.create(&cx.gadget("g", json!({"size": 1}))).await?;
    let params = PatchParams::apply("a").status();
    let body = json!({"apiVersion": gadget.api_version, "kind": gadget.kind,
        "metadata": {"name": "g", "namespace": cx.ns}, "status": {"phase": "X"}});
    expect_err!(
        store.patch(&gadget.object_ref(), &Patch::Apply(body), &params).await,
        StoreError::NotFound { .. },
        "status apply to a Gadget (no status subresource)"
    );
    let ghost = cx.widget("ghost", json!({}));
    let body = json!({"apiVersion": ghost.api_version, "kind": ghost.kind,
        "metadata": {"name": "ghost", "namespace": cx.ns}, "status": {"phase": "X"}});
    expect_err!(
        store.patch(&ghost.object_ref(), &Patch::Apply(body), &params).await,
        StoreError::NotFound { .. },
        "status apply to a missing Widget"
    );
    Ok(Outcome::Passed)
}

/// A merge patch of `/status` writes only status and records the manager's `Update` entry
/// with `subresource: status` (owning the status it added, as a map with its self-marker);
/// a stale resourceVersion in the patch is a Conflict. Checked with kubectl against
/// kube-apiserver 1.37.2.
pub async fn status_merge_patch_writes_only_status<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "status_merge_patch_writes_only_status").await?;
    cx.install_crds().await?;
    let created = cx.create(&cx.widget("w", json!({"replicas": 1}))).await?;
    let params = PatchParams {
        field_manager: Some("patcher".into()),
        status: true,
        ..PatchParams::default()
    };
    let patch = Patch::Merge(json!({"spec": {"replicas": 5}, "status": {"ready": 4}}));
    let patched = store
        .patch(&created.object_ref(), &patch, &params)
        .await
        .or_fail("status merge patch")?;
    ensure!(
        patched.status() == Some(&json!({"ready": 4})),
        "status {:?}",
        patched.status()
    );
    ensure!(
        patched.spec() == Some(&json!({"replicas": 1})),
        "spec changed through /status: {:?}",
        patched.spec()
    );
    let entry = patched
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .find(|e| e.manager.as_deref() == Some("patcher"));
    ensure!(
        entry.is_some_and(|e| e.operation.as_deref() == Some("Update")
            && e.subresource.as_deref() == Some("status")
            && e.fields_v1
                .as_ref()
                .and_then(|f| operator_runtime_core::fields_v1::tree(&f.0))
                .as_deref()
                == Some(&json!({"f:status": {".": {}, "f:ready": {}}}))),
        "managedFields {:?}",
        patched.metadata.managed_fields
    );
    let stale = Patch::Merge(json!({"metadata": {"resourceVersion": rv_of(&created)?}, "status": {"ready": 5}}));
    expect_err!(
        store.patch(&created.object_ref(), &stale, &params).await,
        StoreError::Conflict { .. },
        "status merge patch with a stale resourceVersion"
    );
    Ok(Outcome::Passed)
}
