//! Merge patch and JSON patch (A.3 items 32-35).

use operator_runtime_core::store::{Patch, PatchParams};
use operator_runtime_core::{ObjectStore, StoreError};
use serde_json::json;

use crate::outcome::{CaseResult, Outcome};
use crate::support::kinds::{config_map, widget};
use crate::support::{Ctx, OrFail, edit, rv_of};

fn merge(value: serde_json::Value) -> Patch {
    Patch::Merge(value)
}

/// A.3 #32: a merge patch of a missing object is NotFound.
pub async fn merge_patch_of_missing_object_is_not_found<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "merge_patch_of_missing_object_is_not_found").await?;
    let key = cx.key(&config_map(), "ghost");
    expect_err!(
        store
            .patch(&key, &merge(json!({"data": {"a": "b"}})), &PatchParams::default())
            .await,
        StoreError::NotFound { .. },
        "merge patch"
    );
    cx.expect_gone(&key).await?;
    Ok(Outcome::Passed)
}

/// A.3 #33: a merge patch carrying a stale `metadata.resourceVersion` is Conflict.
pub async fn merge_patch_with_stale_rv_conflicts<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "merge_patch_with_stale_rv_conflicts").await?;
    let created = cx.create(&cx.config_map("p")).await?;
    let current = cx.replace(&edit(&created).with("data", json!({"k": "first"}))).await?;
    let patch = merge(json!({"metadata": {"resourceVersion": rv_of(&created)?}, "data": {"k": "second"}}));
    expect_err!(
        store
            .patch(&created.object_ref(), &patch, &PatchParams::default())
            .await,
        StoreError::Conflict { .. },
        "merge patch with the stale resourceVersion"
    );
    let stored = cx.get(&created.object_ref()).await?;
    ensure!(
        stored == current,
        "rejected patch changed the object: {:?}",
        stored.body
    );
    Ok(Outcome::Passed)
}

/// A.3 #34: a merge patch without a resourceVersion applies to the latest version.
pub async fn merge_patch_without_rv_applies_to_latest<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "merge_patch_without_rv_applies_to_latest").await?;
    let created = cx.create(&cx.config_map("p")).await?;
    cx.replace(&edit(&created).with("data", json!({"k": "first"}))).await?;
    let patched = store
        .patch(
            &created.object_ref(),
            &merge(json!({"data": {"b": "2"}})),
            &PatchParams::default(),
        )
        .await
        .or_fail("merge patch")?;
    ensure!(
        patched.body.get("data") == Some(&json!({"k": "first", "b": "2"})),
        "data {:?}",
        patched.body.get("data")
    );
    Ok(Outcome::Passed)
}

/// RFC 7386: `null` in a merge patch removes the key.
pub async fn merge_patch_null_removes_key<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "merge_patch_null_removes_key").await?;
    let created = cx
        .create(&cx.config_map("p").with("data", json!({"k": "v", "gone": "x"})))
        .await?;
    let patched = store
        .patch(
            &created.object_ref(),
            &merge(json!({"data": {"gone": null}})),
            &PatchParams::default(),
        )
        .await
        .or_fail("merge patch")?;
    ensure!(
        patched.body.get("data") == Some(&json!({"k": "v"})),
        "data {:?}",
        patched.body.get("data")
    );
    Ok(Outcome::Passed)
}

/// A merge patch that changes nothing keeps the resourceVersion (no-op write).
pub async fn merge_patch_without_change_keeps_rv<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "merge_patch_without_change_keeps_rv").await?;
    let created = cx.create(&cx.config_map("p")).await?;
    let patched = store
        .patch(
            &created.object_ref(),
            &merge(json!({"data": {"k": "v"}})),
            &PatchParams::default(),
        )
        .await
        .or_fail("merge patch")?;
    ensure!(
        rv_of(&patched)? == rv_of(&created)?,
        "no-op patch moved the resourceVersion"
    );
    Ok(Outcome::Passed)
}

/// A merge patch of a custom resource's spec bumps generation.
pub async fn merge_patch_of_spec_bumps_generation<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "merge_patch_of_spec_bumps_generation").await?;
    cx.install_crds().await?;
    cx.create(&cx.widget("w", json!({"size": 1}))).await?;
    let patched = store
        .patch(
            &cx.key(&widget(), "w"),
            &merge(json!({"spec": {"size": 2}})),
            &PatchParams::default(),
        )
        .await
        .or_fail("merge patch")?;
    ensure!(patched.spec() == Some(&json!({"size": 2})), "spec {:?}", patched.spec());
    ensure!(
        patched.metadata.generation == Some(2),
        "generation {:?}, expected 2",
        patched.metadata.generation
    );
    Ok(Outcome::Passed)
}

/// With the status subresource, a main-resource merge patch of status is ignored (a no-op).
pub async fn merge_patch_of_status_is_ignored_with_status_subresource<S: ObjectStore + ?Sized>(
    store: &S,
) -> CaseResult {
    let cx = Ctx::new(store, "merge_patch_of_status_is_ignored_with_status_subresource").await?;
    cx.install_crds().await?;
    let created = cx.create(&cx.widget("w", json!({"size": 1}))).await?;
    let patched = store
        .patch(
            &created.object_ref(),
            &merge(json!({"status": {"phase": "X"}})),
            &PatchParams::default(),
        )
        .await
        .or_fail("merge patch")?;
    ensure!(
        patched.status().and_then(|s| s.get("phase")).is_none(),
        "status written: {:?}",
        patched.status()
    );
    ensure!(
        rv_of(&patched)? == rv_of(&created)?,
        "ignored status patch moved the resourceVersion"
    );
    Ok(Outcome::Passed)
}

/// A.3 #35: a JSON patch whose `test` operation fails is an error and changes nothing.
pub async fn json_patch_failed_test_is_error<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "json_patch_failed_test_is_error").await?;
    let created = cx.create(&cx.config_map("p")).await?;
    let patch = Patch::Json(json!([
        {"op": "test", "path": "/data/k", "value": "not-v"},
        {"op": "replace", "path": "/data/k", "value": "w"}
    ]));
    expect_any_err!(
        store
            .patch(&created.object_ref(), &patch, &PatchParams::default())
            .await,
        "JSON patch"
    );
    let stored = cx.get(&created.object_ref()).await?;
    ensure!(stored == created, "failed patch changed the object: {:?}", stored.body);
    Ok(Outcome::Passed)
}

/// A JSON patch applies add, replace and remove operations in order.
pub async fn json_patch_applies_operations_in_order<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "json_patch_applies_operations_in_order").await?;
    let created = cx
        .create(&cx.config_map("p").with("data", json!({"k": "v", "old": "x"})))
        .await?;
    let patch = Patch::Json(json!([
        {"op": "test", "path": "/data/k", "value": "v"},
        {"op": "add", "path": "/data/new", "value": "1"},
        {"op": "replace", "path": "/data/k", "value": "w"},
        {"op": "remove", "path": "/data/old"}
    ]));
    let patched = store
        .patch(&created.object_ref(), &patch, &PatchParams::default())
        .await
        .or_fail("JSON patch")?;
    ensure!(
        patched.body.get("data") == Some(&json!({"k": "w", "new": "1"})),
        "data {:?}",
        patched.body.get("data")
    );
    Ok(Outcome::Passed)
}

/// A JSON patch removing a path that does not exist is an error.
pub async fn json_patch_removing_missing_path_is_error<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "json_patch_removing_missing_path_is_error").await?;
    let created = cx.create(&cx.config_map("p")).await?;
    let patch = Patch::Json(json!([{"op": "remove", "path": "/data/absent"}]));
    expect_any_err!(
        store
            .patch(&created.object_ref(), &patch, &PatchParams::default())
            .await,
        "JSON patch"
    );
    Ok(Outcome::Passed)
}

/// A JSON patch of a missing object is NotFound.
pub async fn json_patch_of_missing_object_is_not_found<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "json_patch_of_missing_object_is_not_found").await?;
    let patch = Patch::Json(json!([{"op": "add", "path": "/data", "value": {"a": "b"}}]));
    expect_err!(
        store
            .patch(&cx.key(&config_map(), "ghost"), &patch, &PatchParams::default())
            .await,
        StoreError::NotFound { .. },
        "JSON patch"
    );
    Ok(Outcome::Passed)
}
