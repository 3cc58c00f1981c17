//! Delete, finalizers, deletionTimestamp and delete preconditions (A.3 items 36-48).

use operator_runtime_core::store::{DeleteOutcome, DeleteParams, ListParams, Preconditions};
use operator_runtime_core::{Object, ObjectStore, ObjectStoreExt, StoreError};
use serde_json::json;

use crate::outcome::{CaseResult, Outcome};
use crate::support::kinds::{HOLD_FINALIZER, SECOND_FINALIZER, config_map};
use crate::support::{Ctx, OrFail, edit, rv_of, with_finalizers, with_labels};

fn delete() -> DeleteParams {
    DeleteParams::default()
}

/// A.3 #36: delete of a missing object is NotFound.
pub async fn delete_of_missing_object_is_not_found<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "delete_of_missing_object_is_not_found").await?;
    expect_err!(
        store.delete(&cx.key(&config_map(), "ghost"), &delete()).await,
        StoreError::NotFound { .. },
        "delete"
    );
    Ok(Outcome::Passed)
}

/// A.3 #37: delete without finalizers removes the object at once.
pub async fn delete_without_finalizers_removes_object<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "delete_without_finalizers_removes_object").await?;
    let created = cx.create(&cx.config_map("d")).await?;
    let outcome = store.delete(&created.object_ref(), &delete()).await.or_fail("delete")?;
    ensure!(
        matches!(outcome, DeleteOutcome::Deleted(_)),
        "delete outcome {outcome:?}, expected Deleted"
    );
    cx.expect_gone(&created.object_ref()).await?;
    Ok(Outcome::Passed)
}

/// A.3 #38: delete with finalizers sets deletionTimestamp and a zero grace period, moves the
/// resourceVersion, and the object stays readable.
pub async fn delete_with_finalizers_marks_object_terminating<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "delete_with_finalizers_marks_object_terminating").await?;
    let created = cx
        .create(&with_finalizers(cx.config_map("d"), &[HOLD_FINALIZER]))
        .await?;
    let outcome = store.delete(&created.object_ref(), &delete()).await.or_fail("delete")?;
    let DeleteOutcome::Pending(marked) = outcome else {
        return Err(format!("delete outcome {outcome:?}, expected Pending"));
    };
    let stored = cx.get(&created.object_ref()).await?;
    cx.release(&created.object_ref()).await;
    for o in [&marked, &stored] {
        ensure!(o.is_terminating(), "deletionTimestamp not set");
        ensure!(
            o.metadata.deletion_grace_period_seconds == Some(0),
            "deletionGracePeriodSeconds {:?}, expected 0",
            o.metadata.deletion_grace_period_seconds
        );
        ensure!(o.has_finalizer(HOLD_FINALIZER), "finalizer lost");
    }
    ensure!(rv_of(&marked)? != rv_of(&created)?, "resourceVersion did not change");
    ensure!(
        rv_of(&stored)? == rv_of(&marked)?,
        "get and delete response disagree on the resourceVersion"
    );
    Ok(Outcome::Passed)
}

/// A.3 #39: delete with finalizers bumps a custom resource's generation.
pub async fn delete_with_finalizers_bumps_generation<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "delete_with_finalizers_bumps_generation").await?;
    cx.install_crds().await?;
    let created = cx
        .create(&with_finalizers(cx.widget("w", json!({})), &[HOLD_FINALIZER]))
        .await?;
    let outcome = store.delete(&created.object_ref(), &delete()).await.or_fail("delete")?;
    cx.release(&created.object_ref()).await;
    let generation = outcome.object().metadata.generation;
    ensure!(
        generation == Some(2),
        "generation {generation:?} after delete, expected 2"
    );
    Ok(Outcome::Passed)
}

/// A.3 #40: a second delete of a terminating object succeeds and changes nothing.
pub async fn second_delete_of_terminating_object_keeps_rv<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "second_delete_of_terminating_object_keeps_rv").await?;
    let created = cx
        .create(&with_finalizers(cx.config_map("d"), &[HOLD_FINALIZER]))
        .await?;
    let first = store
        .delete(&created.object_ref(), &delete())
        .await
        .or_fail("first delete")?;
    let second = store
        .delete(&created.object_ref(), &delete())
        .await
        .or_fail("second delete");
    cx.release(&created.object_ref()).await;
    let second = second?;
    ensure!(
        rv_of(second.object())? == rv_of(first.object())?,
        "second delete moved the resourceVersion"
    );
    ensure!(
        second.object().metadata.deletion_timestamp == first.object().metadata.deletion_timestamp,
        "second delete moved deletionTimestamp"
    );
    Ok(Outcome::Passed)
}

/// A.3 #41: adding a new finalizer to a terminating object is Invalid.
pub async fn adding_finalizer_to_terminating_object_is_invalid<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "adding_finalizer_to_terminating_object_is_invalid").await?;
    let created = cx
        .create(&with_finalizers(cx.config_map("d"), &[HOLD_FINALIZER]))
        .await?;
    let marked = store.delete(&created.object_ref(), &delete()).await.or_fail("delete")?;
    let body = with_finalizers(edit(marked.object()), &[HOLD_FINALIZER, SECOND_FINALIZER]);
    let result = store.replace(&body, &Default::default()).await;
    cx.release(&created.object_ref()).await;
    expect_err!(
        result,
        StoreError::Invalid { .. },
        "adding a finalizer while terminating"
    );
    Ok(Outcome::Passed)
}

/// A.3 #41, through `/status`: a built-in kind's status write keeps the body's metadata, and
/// adding a finalizer to a terminating object that way is Invalid too.
pub async fn adding_finalizer_to_terminating_object_by_status_is_invalid<S: ObjectStore + ?Sized>(
    store: &S,
) -> CaseResult {
    let cx = Ctx::new(store, "adding_finalizer_to_terminating_object_by_status_is_invalid").await?;
    let service = Object::from_value(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "s", "namespace": cx.ns, "finalizers": [HOLD_FINALIZER]},
        "spec": {"ports": [{"port": 80}], "selector": {"app": "a"}}
    }))
    .map_err(|e| format!("service body: {e}"))?;
    let created = cx.create(&service).await?;
    let marked = store.delete(&created.object_ref(), &delete()).await.or_fail("delete")?;
    let body = with_finalizers(edit(marked.object()), &[HOLD_FINALIZER, SECOND_FINALIZER]);
    let result = store.replace_status(&body, &Default::default()).await;
    let stored = cx.get(&created.object_ref()).await;
    cx.release(&created.object_ref()).await;
    expect_err!(
        result,
        StoreError::Invalid { .. },
        "adding a finalizer by a status write while terminating"
    );
    let stored = stored?;
    ensure!(
        !stored.has_finalizer(SECOND_FINALIZER),
        "the finalizer was stored: {:?}",
        stored.metadata.finalizers
    );
    Ok(Outcome::Passed)
}

/// A.3 #42: removing one of several finalizers from a terminating object keeps it.
pub async fn removing_one_of_several_finalizers_keeps_object<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "removing_one_of_several_finalizers_keeps_object").await?;
    let created = cx
        .create(&with_finalizers(
            cx.config_map("d"),
            &[HOLD_FINALIZER, SECOND_FINALIZER],
        ))
        .await?;
    let marked = store.delete(&created.object_ref(), &delete()).await.or_fail("delete")?;
    let updated = store
        .replace(
            &with_finalizers(edit(marked.object()), &[HOLD_FINALIZER]),
            &Default::default(),
        )
        .await
        .or_fail("removing one finalizer");
    let stored = cx.get(&created.object_ref()).await;
    cx.release(&created.object_ref()).await;
    let (updated, stored) = (updated?, stored?);
    ensure!(!updated.has_finalizer(SECOND_FINALIZER), "finalizer not removed");
    ensure!(
        stored.is_terminating() && stored.has_finalizer(HOLD_FINALIZER),
        "object not terminating with one finalizer"
    );
    Ok(Outcome::Passed)
}

/// A.3 #43: removing the last finalizer from a terminating object deletes it.
pub async fn removing_last_finalizer_deletes_object<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "removing_last_finalizer_deletes_object").await?;
    let created = cx
        .create(&with_finalizers(cx.config_map("d"), &[HOLD_FINALIZER]))
        .await?;
    let marked = store.delete(&created.object_ref(), &delete()).await.or_fail("delete")?;
    let mut body = edit(marked.object());
    body.metadata.finalizers = None;
    store
        .replace(&body, &Default::default())
        .await
        .or_fail("removing the last finalizer")?;
    cx.expect_gone(&created.object_ref()).await?;
    Ok(Outcome::Passed)
}

/// A.3 #44: an update cannot clear deletionTimestamp; it is preserved.
pub async fn update_cannot_clear_deletion_timestamp<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "update_cannot_clear_deletion_timestamp").await?;
    let created = cx
        .create(&with_finalizers(cx.config_map("d"), &[HOLD_FINALIZER]))
        .await?;
    let marked = store.delete(&created.object_ref(), &delete()).await.or_fail("delete")?;
    let mut body = with_labels(edit(marked.object()), &[("touched", "yes")]);
    body.metadata.deletion_timestamp = None;
    body.metadata.deletion_grace_period_seconds = None;
    let updated = store.replace(&body, &Default::default()).await.or_fail("update");
    cx.release(&created.object_ref()).await;
    let updated = updated?;
    ensure!(
        updated.metadata.deletion_timestamp == marked.object().metadata.deletion_timestamp,
        "deletionTimestamp became {:?}",
        updated.metadata.deletion_timestamp
    );
    ensure!(
        updated.label("touched") == Some("yes"),
        "the rest of the update was not written"
    );
    Ok(Outcome::Passed)
}

/// A.3 #45: a delete whose resourceVersion precondition is stale is Conflict.
pub async fn delete_with_stale_rv_precondition_conflicts<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "delete_with_stale_rv_precondition_conflicts").await?;
    let created = cx.create(&cx.config_map("d")).await?;
    cx.replace(&edit(&created).with("data", json!({"k": "w"}))).await?;
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            resource_version: Some(rv_of(&created)?),
            uid: None,
        }),
        ..DeleteParams::default()
    };
    expect_err!(
        store.delete(&created.object_ref(), &params).await,
        StoreError::Conflict { .. },
        "delete with a stale resourceVersion precondition"
    );
    cx.get(&created.object_ref()).await?;
    Ok(Outcome::Passed)
}

/// A.3 #46: a delete whose uid precondition does not match is Conflict.
pub async fn delete_with_mismatched_uid_precondition_conflicts<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "delete_with_mismatched_uid_precondition_conflicts").await?;
    let created = cx.create(&cx.config_map("d")).await?;
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            uid: Some("00000000-0000-4000-8000-000000000003".into()),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    expect_err!(
        store.delete(&created.object_ref(), &params).await,
        StoreError::Conflict { .. },
        "delete with another uid as precondition"
    );
    cx.get(&created.object_ref()).await?;
    Ok(Outcome::Passed)
}

/// A delete whose preconditions hold deletes the object.
pub async fn delete_with_matching_preconditions_succeeds<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "delete_with_matching_preconditions_succeeds").await?;
    let created = cx.create(&cx.config_map("d")).await?;
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            uid: created.uid().map(str::to_owned),
            resource_version: Some(rv_of(&created)?),
        }),
        ..DeleteParams::default()
    };
    store.delete(&created.object_ref(), &params).await.or_fail("delete")?;
    cx.expect_gone(&created.object_ref()).await?;
    Ok(Outcome::Passed)
}

/// A.3 #47: deleting and re-creating a name yields a different uid.
pub async fn recreate_after_delete_gets_new_uid<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "recreate_after_delete_gets_new_uid").await?;
    let first = cx.create(&cx.config_map("d")).await?;
    store.delete(&first.object_ref(), &delete()).await.or_fail("delete")?;
    let second = cx.create(&cx.config_map("d")).await?;
    ensure!(
        first.uid() != second.uid(),
        "re-created object kept uid {:?}",
        first.uid()
    );
    Ok(Outcome::Passed)
}

/// A.3 #48: delete-collection with a label selector deletes only the matching objects.
pub async fn delete_collection_deletes_only_matching_objects<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "delete_collection_deletes_only_matching_objects").await?;
    for (name, group) in [("a", "x"), ("b", "x"), ("c", "y")] {
        cx.create(&with_labels(cx.config_map(name), &[("group", group)]))
            .await?;
    }
    store
        .delete_collection(
            &config_map(),
            &ListParams::in_namespace(&cx.ns).labels("group=x"),
            &delete(),
        )
        .await
        .or_fail("delete collection")?;
    cx.expect_gone(&cx.key(&config_map(), "a")).await?;
    cx.expect_gone(&cx.key(&config_map(), "b")).await?;
    cx.get(&cx.key(&config_map(), "c")).await?;
    Ok(Outcome::Passed)
}

/// A.3 #48: finalizer rules apply per object in a delete-collection.
pub async fn delete_collection_leaves_finalized_objects_terminating<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "delete_collection_leaves_finalized_objects_terminating").await?;
    cx.create(&with_labels(cx.config_map("plain"), &[("group", "x")]))
        .await?;
    let held = cx
        .create(&with_finalizers(
            with_labels(cx.config_map("held"), &[("group", "x")]),
            &[HOLD_FINALIZER],
        ))
        .await?;
    store
        .delete_collection(
            &config_map(),
            &ListParams::in_namespace(&cx.ns).labels("group=x"),
            &delete(),
        )
        .await
        .or_fail("delete collection")?;
    let stored = cx.get(&held.object_ref()).await;
    cx.release(&held.object_ref()).await;
    cx.expect_gone(&cx.key(&config_map(), "plain")).await?;
    ensure!(stored?.is_terminating(), "finalized object is not terminating");
    Ok(Outcome::Passed)
}

/// A terminating object is still listed, with its deletionTimestamp.
pub async fn terminating_object_is_listed_with_deletion_timestamp<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "terminating_object_is_listed_with_deletion_timestamp").await?;
    let created = cx
        .create(&with_finalizers(cx.config_map("d"), &[HOLD_FINALIZER]))
        .await?;
    store.delete(&created.object_ref(), &delete()).await.or_fail("delete")?;
    let list = store
        .list(&config_map(), &ListParams::in_namespace(&cx.ns))
        .await
        .or_fail("list");
    cx.release(&created.object_ref()).await;
    let list = list?;
    let listed = list.items.iter().find(|o| o.name() == "d");
    ensure!(
        listed.is_some_and(|o| o.is_terminating()),
        "terminating object not listed as terminating"
    );
    Ok(Outcome::Passed)
}
