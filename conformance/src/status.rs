//! The status subresource and generation rules around status (A.3 items 26-31).

use operator_runtime_core::store::WriteParams;
use operator_runtime_core::{ObjectStore, StoreError};
use serde_json::json;

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
