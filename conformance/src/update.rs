//! Replace (PUT): optimistic concurrency, uid checks, no-op writes, generation rules and
//! server-owned metadata (A.3 items 15-25).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use operator_runtime_core::clock::Timestamp;
use operator_runtime_core::store::WriteParams;
use operator_runtime_core::{ObjectStore, StoreError};
use serde_json::json;

use crate::outcome::{CaseResult, Outcome};
use crate::support::kinds::widget;
use crate::support::{Ctx, edit, rv_of, with_labels};

/// A.3 #15: an update carrying the current resourceVersion succeeds with a new one.
pub async fn update_with_current_rv_succeeds_with_new_rv<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "update_with_current_rv_succeeds_with_new_rv").await?;
    let created = cx.create(&cx.config_map("u")).await?;
    let updated = cx.replace(&edit(&created).with("data", json!({"k": "w"}))).await?;
    ensure!(rv_of(&updated)? != rv_of(&created)?, "resourceVersion did not change");
    ensure!(
        updated.body["data"]["k"] == "w",
        "data not written: {:?}",
        updated.body.get("data")
    );
    Ok(Outcome::Passed)
}

/// A.3 #16: an update with a stale resourceVersion is Conflict and changes nothing.
pub async fn update_with_stale_rv_conflicts<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "update_with_stale_rv_conflicts").await?;
    let created = cx.create(&cx.config_map("u")).await?;
    let current = cx.replace(&edit(&created).with("data", json!({"k": "first"}))).await?;
    let stale = edit(&created).with("data", json!({"k": "second"}));
    expect_err!(
        store.replace(&stale, &WriteParams::default()).await,
        StoreError::Conflict { .. },
        "update with the stale resourceVersion"
    );
    let stored = cx.get(&created.object_ref()).await?;
    ensure!(
        stored == current,
        "stored object changed by the rejected update: {:?}",
        stored.body
    );
    Ok(Outcome::Passed)
}

/// A.3 #17: custom resources do not allow unconditional updates: no resourceVersion is Invalid.
pub async fn update_custom_resource_without_rv_is_invalid<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "update_custom_resource_without_rv_is_invalid").await?;
    cx.install_crds().await?;
    let created = cx.create(&cx.widget("w", json!({"size": 1}))).await?;
    let mut body = edit(&created).with("spec", json!({"size": 2}));
    body.metadata.resource_version = None;
    expect_err!(
        store.replace(&body, &WriteParams::default()).await,
        StoreError::Invalid { .. },
        "update without a resourceVersion"
    );
    Ok(Outcome::Passed)
}

/// A.3 #18: a ConfigMap update without a resourceVersion is unconditional and succeeds.
pub async fn update_config_map_without_rv_succeeds<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "update_config_map_without_rv_succeeds").await?;
    let created = cx.create(&cx.config_map("u")).await?;
    let mut body = edit(&created).with("data", json!({"k": "w"}));
    body.metadata.resource_version = None;
    let updated = cx.replace(&body).await?;
    ensure!(updated.body["data"]["k"] == "w", "data not written");
    ensure!(rv_of(&updated)? != rv_of(&created)?, "resourceVersion did not change");
    Ok(Outcome::Passed)
}

/// A.3 #19: an update whose uid differs from the stored one is Conflict.
pub async fn update_with_mismatched_uid_conflicts<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "update_with_mismatched_uid_conflicts").await?;
    let created = cx.create(&cx.config_map("u")).await?;
    let mut body = edit(&created).with("data", json!({"k": "w"}));
    body.metadata.uid = Some("00000000-0000-4000-8000-000000000002".into());
    expect_err!(
        store.replace(&body, &WriteParams::default()).await,
        StoreError::Conflict { .. },
        "update with another uid"
    );
    Ok(Outcome::Passed)
}

/// An update with an empty uid is filled from the stored object (the uid never changes).
pub async fn update_with_empty_uid_keeps_stored_uid<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "update_with_empty_uid_keeps_stored_uid").await?;
    let created = cx.create(&cx.config_map("u")).await?;
    let mut body = edit(&created).with("data", json!({"k": "w"}));
    body.metadata.uid = None;
    let updated = cx.replace(&body).await?;
    ensure!(
        updated.uid() == created.uid(),
        "uid changed from {:?} to {:?}",
        created.uid(),
        updated.uid()
    );
    Ok(Outcome::Passed)
}

/// A.3 #20: an update of a missing custom resource is NotFound (no create on update).
pub async fn update_of_missing_custom_resource_is_not_found<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "update_of_missing_custom_resource_is_not_found").await?;
    cx.install_crds().await?;
    let mut body = cx.widget("ghost", json!({"size": 1}));
    body.metadata.resource_version = Some("1".into());
    expect_err!(
        store.replace(&body, &WriteParams::default()).await,
        StoreError::NotFound { .. },
        "update of a missing Widget"
    );
    cx.expect_gone(&cx.key(&widget(), "ghost")).await?;
    Ok(Outcome::Passed)
}

/// A.3 #21: an update whose body equals the stored object succeeds with the same resourceVersion.
pub async fn update_with_identical_body_keeps_rv<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "update_with_identical_body_keeps_rv").await?;
    cx.install_crds().await?;
    let created = cx.create(&cx.widget("w", json!({"size": 1}))).await?;
    let again = cx.replace(&edit(&created)).await?;
    ensure!(
        rv_of(&again)? == rv_of(&created)?,
        "no-op update moved the resourceVersion"
    );
    ensure!(
        again.metadata.generation == Some(1),
        "no-op update changed generation to {:?}",
        again.metadata.generation
    );
    Ok(Outcome::Passed)
}

/// A.3 #22: a label-only change bumps the resourceVersion but not the generation.
pub async fn update_of_labels_keeps_generation_and_bumps_rv<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "update_of_labels_keeps_generation_and_bumps_rv").await?;
    cx.install_crds().await?;
    let created = cx.create(&cx.widget("w", json!({"size": 1}))).await?;
    let updated = cx.replace(&with_labels(edit(&created), &[("tier", "gold")])).await?;
    ensure!(updated.label("tier") == Some("gold"), "label not written");
    ensure!(rv_of(&updated)? != rv_of(&created)?, "resourceVersion did not change");
    ensure!(
        updated.metadata.generation == Some(1),
        "generation {:?}, expected 1",
        updated.metadata.generation
    );
    Ok(Outcome::Passed)
}

/// A.3 #22: an annotation-only change keeps the generation.
pub async fn update_of_annotations_keeps_generation<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "update_of_annotations_keeps_generation").await?;
    cx.install_crds().await?;
    let created = cx.create(&cx.widget("w", json!({"size": 1}))).await?;
    let mut body = edit(&created);
    body.metadata.annotations = Some([("note".to_owned(), "hello".to_owned())].into());
    let updated = cx.replace(&body).await?;
    ensure!(updated.annotation("note") == Some("hello"), "annotation not written");
    ensure!(
        updated.metadata.generation == Some(1),
        "generation {:?}, expected 1",
        updated.metadata.generation
    );
    Ok(Outcome::Passed)
}

/// A.3 #23: a spec change bumps generation by exactly one.
pub async fn update_of_spec_bumps_generation_by_one<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "update_of_spec_bumps_generation_by_one").await?;
    cx.install_crds().await?;
    let created = cx.create(&cx.widget("w", json!({"size": 1}))).await?;
    let second = cx.replace(&edit(&created).with("spec", json!({"size": 2}))).await?;
    ensure!(
        second.metadata.generation == Some(2),
        "generation {:?}, expected 2",
        second.metadata.generation
    );
    let third = cx.replace(&edit(&second).with("spec", json!({"size": 3}))).await?;
    ensure!(
        third.metadata.generation == Some(3),
        "generation {:?}, expected 3",
        third.metadata.generation
    );
    Ok(Outcome::Passed)
}

/// A.3 #24: a client cannot set `metadata.generation`.
pub async fn update_cannot_set_generation<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "update_cannot_set_generation").await?;
    cx.install_crds().await?;
    let created = cx.create(&cx.widget("w", json!({"size": 1}))).await?;
    let mut body = with_labels(edit(&created), &[("touched", "yes")]);
    body.metadata.generation = Some(42);
    let updated = cx.replace(&body).await?;
    ensure!(
        updated.metadata.generation == Some(1),
        "generation {:?}, expected 1",
        updated.metadata.generation
    );
    Ok(Outcome::Passed)
}

/// A.3 #25: a changed creationTimestamp in an update is silently ignored.
pub async fn update_ignores_creation_timestamp_change<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "update_ignores_creation_timestamp_change").await?;
    let created = cx.create(&cx.config_map("u")).await?;
    let long_ago = Timestamp::from_second(978_307_200).map_err(|e| e.to_string())?;
    let mut body = edit(&created).with("data", json!({"k": "w"}));
    body.metadata.creation_timestamp = Some(Time(long_ago));
    let updated = cx.replace(&body).await?;
    ensure!(
        updated.metadata.creation_timestamp == created.metadata.creation_timestamp,
        "creationTimestamp changed to {:?}",
        updated.metadata.creation_timestamp
    );
    Ok(Outcome::Passed)
}
