//! ownerReferences: validation by the API server, propagation finalizers, and garbage
//! collection by owner uid (A.3 items 49-54). Collection happens in a controller on a real
//! cluster, so those behaviours poll with a bounded deadline and need
//! `Capabilities::garbage_collection`.

use std::sync::Arc;

use operator_runtime_core::model::OwnerReference;
use operator_runtime_core::store::{DeleteParams, Propagation, WriteParams};
use operator_runtime_core::{Object, ObjectStore, StoreError};

use crate::outcome::{CaseResult, Outcome};
use crate::support::kinds::HOLD_FINALIZER;
use crate::support::poll::{CONTROLLER_DEADLINE, eventually};
use crate::support::{Ctx, OrFail};

const NO_GC: &str = "backend runs no garbage collector (Capabilities::garbage_collection is false)";
const FOREGROUND: &str = "foregroundDeletion";
const ORPHAN: &str = "orphan";

/// An ownerReference to `owner` (not a controller, blocking owner deletion).
fn reference_to(owner: &Object) -> OwnerReference {
    OwnerReference {
        api_version: owner.api_version.clone(),
        kind: owner.kind.clone(),
        name: owner.name().to_owned(),
        uid: owner.uid().unwrap_or_default().to_owned(),
        controller: None,
        block_owner_deletion: Some(true),
    }
}

/// A ConfigMap owned through the given references.
fn dependent<S: ObjectStore + ?Sized>(cx: &Ctx<'_, S>, name: &str, owners: Vec<OwnerReference>) -> Object {
    let mut o = cx.config_map(name);
    o.metadata.owner_references = Some(owners);
    o
}

/// Owner `owner` and dependent `child` (owned by it) in the behaviour's namespace.
async fn owner_and_child<S: ObjectStore + ?Sized>(cx: &Ctx<'_, S>) -> Result<(Arc<Object>, Arc<Object>), String> {
    let owner = cx.create(&cx.config_map("owner")).await?;
    let child = cx.create(&dependent(cx, "child", vec![reference_to(&owner)])).await?;
    Ok((owner, child))
}

fn propagate(policy: Propagation) -> DeleteParams {
    DeleteParams {
        propagation: Some(policy),
        ..DeleteParams::default()
    }
}

/// A.3 #49: foreground deletion puts the `foregroundDeletion` finalizer on the owner.
pub async fn foreground_delete_adds_foreground_finalizer<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "foreground_delete_adds_foreground_finalizer").await?;
    let (owner, _) = owner_and_child(&cx).await?;
    let outcome = store
        .delete(&owner.object_ref(), &propagate(Propagation::Foreground))
        .await
        .or_fail("foreground delete")?;
    if !cx.caps.garbage_collection {
        cx.release(&owner.object_ref()).await;
    }
    let marked = outcome.object();
    ensure!(
        marked.is_terminating(),
        "owner not terminating after a foreground delete"
    );
    ensure!(
        marked.has_finalizer(FOREGROUND),
        "finalizers {:?}",
        marked.metadata.finalizers
    );
    Ok(Outcome::Passed)
}

/// Foreground deletion removes the dependents, then the owner.
pub async fn foreground_delete_removes_dependents_then_owner<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().garbage_collection, NO_GC);
    let cx = Ctx::new(store, "foreground_delete_removes_dependents_then_owner").await?;
    let (owner, child) = owner_and_child(&cx).await?;
    store
        .delete(&owner.object_ref(), &propagate(Propagation::Foreground))
        .await
        .or_fail("foreground delete")?;
    cx.eventually_gone(&child.object_ref()).await?;
    cx.eventually_gone(&owner.object_ref()).await?;
    Ok(Outcome::Passed)
}

/// A dependent added to an owner that is waiting for its dependents (foreground deletion held
/// up by blocking dependents) is not collected while the owner waits: the collector looks at a
/// new dependent only when one of its owners is missing, and at a waiting owner's blocking
/// dependents only when one of them goes. It goes once the owner does.
pub async fn dependent_added_to_waiting_owner_is_collected_only_after_it<S: ObjectStore + ?Sized>(
    store: &S,
) -> CaseResult {
    require!(store.capabilities().garbage_collection, NO_GC);
    let cx = Ctx::new(store, "dependent_added_to_waiting_owner_is_collected_only_after_it").await?;
    let owner = cx.create(&cx.config_map("owner")).await?;
    let mut blockers = Vec::new();
    for name in ["blocker-1", "blocker-2"] {
        let mut blocker = dependent(&cx, name, vec![reference_to(&owner)]);
        blocker.metadata.finalizers = Some(vec![HOLD_FINALIZER.to_owned()]);
        blockers.push(cx.create(&blocker).await?);
    }
    store
        .delete(&owner.object_ref(), &propagate(Propagation::Foreground))
        .await
        .or_fail("foreground delete")?;
    // The collector deletes the blocking dependents, whose finalizer keeps them (and the owner).
    for blocker in &blockers {
        eventually("a blocking dependent terminating", CONTROLLER_DEADLINE, || async {
            let b = cx.get(&blocker.object_ref()).await?;
            if b.is_terminating() {
                Ok(())
            } else {
                Err("not terminating yet".to_owned())
            }
        })
        .await?;
    }
    let mut late_ref = reference_to(&owner);
    late_ref.block_owner_deletion = Some(false);
    let late = cx.create(&dependent(&cx, "late", vec![late_ref])).await?;
    // One blocker goes: the owner is looked at again, and still waits for the other.
    cx.release(&blockers[1].object_ref()).await;
    cx.eventually_gone(&blockers[1].object_ref()).await?;
    if cx.caps.eventually_consistent_gc {
        // Time for a collector that would look at the late dependent to do so.
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    }
    let survived = cx.get(&late.object_ref()).await;
    cx.release(&blockers[0].object_ref()).await;
    let survived = survived?;
    ensure!(
        !survived.is_terminating(),
        "the late dependent was collected while its owner waited"
    );
    cx.eventually_gone(&blockers[0].object_ref()).await?;
    cx.eventually_gone(&owner.object_ref()).await?;
    cx.eventually_gone(&late.object_ref()).await?;
    Ok(Outcome::Passed)
}

/// A.3 #50: orphan deletion puts the `orphan` finalizer on the owner.
pub async fn orphan_delete_adds_orphan_finalizer<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "orphan_delete_adds_orphan_finalizer").await?;
    let (owner, _) = owner_and_child(&cx).await?;
    let outcome = store
        .delete(&owner.object_ref(), &propagate(Propagation::Orphan))
        .await
        .or_fail("orphan delete")?;
    if !cx.caps.garbage_collection {
        cx.release(&owner.object_ref()).await;
    }
    let marked = outcome.object();
    ensure!(marked.is_terminating(), "owner not terminating after an orphan delete");
    ensure!(
        marked.has_finalizer(ORPHAN),
        "finalizers {:?}",
        marked.metadata.finalizers
    );
    Ok(Outcome::Passed)
}

/// Orphan deletion removes the owner and keeps the dependent, without the ownerReference.
pub async fn orphan_delete_keeps_dependents_without_owner_reference<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().garbage_collection, NO_GC);
    let cx = Ctx::new(store, "orphan_delete_keeps_dependents_without_owner_reference").await?;
    let (owner, child) = owner_and_child(&cx).await?;
    store
        .delete(&owner.object_ref(), &propagate(Propagation::Orphan))
        .await
        .or_fail("orphan delete")?;
    cx.eventually_gone(&owner.object_ref()).await?;
    let orphan = cx.get(&child.object_ref()).await?;
    let refs = orphan.metadata.owner_references.clone().unwrap_or_default();
    ensure!(
        refs.iter().all(|r| Some(r.uid.as_str()) != owner.uid()),
        "dependent still references the owner"
    );
    Ok(Outcome::Passed)
}

/// A.3 #51: background deletion removes the owner at once; the collector deletes dependents.
pub async fn background_delete_collects_dependents<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().garbage_collection, NO_GC);
    let cx = Ctx::new(store, "background_delete_collects_dependents").await?;
    let (owner, child) = owner_and_child(&cx).await?;
    store
        .delete(&owner.object_ref(), &propagate(Propagation::Background))
        .await
        .or_fail("background delete")?;
    cx.expect_gone(&owner.object_ref()).await?;
    cx.eventually_gone(&child.object_ref()).await?;
    Ok(Outcome::Passed)
}

/// The default propagation of a ConfigMap owner is background: dependents are collected.
pub async fn default_delete_collects_dependents<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().garbage_collection, NO_GC);
    let cx = Ctx::new(store, "default_delete_collects_dependents").await?;
    let (owner, child) = owner_and_child(&cx).await?;
    store
        .delete(&owner.object_ref(), &DeleteParams::default())
        .await
        .or_fail("delete")?;
    cx.eventually_gone(&child.object_ref()).await?;
    Ok(Outcome::Passed)
}

/// A.3 #52: a dependent whose ownerReference names a live object but another uid (the owner
/// was re-created) is collected; matching is by uid.
pub async fn dependent_of_owner_with_other_uid_is_collected<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().garbage_collection, NO_GC);
    let cx = Ctx::new(store, "dependent_of_owner_with_other_uid_is_collected").await?;
    let owner = cx.create(&cx.config_map("owner")).await?;
    let mut stale = reference_to(&owner);
    stale.uid = "00000000-0000-4000-8000-000000000004".into();
    let child = cx.create(&dependent(&cx, "child", vec![stale])).await?;
    cx.eventually_gone(&child.object_ref()).await?;
    cx.get(&owner.object_ref()).await?;
    Ok(Outcome::Passed)
}

/// A dependent with one live owner survives the deletion of its other owner; the collector
/// removes the dangling reference (`attemptToDeleteItem`: solid owners left, dangling ones
/// patched away).
pub async fn dependent_with_live_owner_survives_and_loses_dangling_reference<S: ObjectStore + ?Sized>(
    store: &S,
) -> CaseResult {
    require!(store.capabilities().garbage_collection, NO_GC);
    let cx = Ctx::new(store, "dependent_with_live_owner_survives_and_loses_dangling_reference").await?;
    let keeper = cx.create(&cx.config_map("keeper")).await?;
    let leaver = cx.create(&cx.config_map("leaver")).await?;
    let child = cx
        .create(&dependent(
            &cx,
            "child",
            vec![reference_to(&keeper), reference_to(&leaver)],
        ))
        .await?;
    store
        .delete(&leaver.object_ref(), &propagate(Propagation::Background))
        .await
        .or_fail("delete one owner")?;
    let keeper_uid = keeper.uid().unwrap_or_default().to_owned();
    eventually(
        "the dangling ownerReference to be removed",
        CONTROLLER_DEADLINE,
        || async {
            let current = cx.get(&child.object_ref()).await?;
            let uids: Vec<String> = current
                .metadata
                .owner_references
                .iter()
                .flatten()
                .map(|r| r.uid.clone())
                .collect();
            if uids == [keeper_uid.clone()] {
                Ok(())
            } else {
                Err(format!("ownerReference uids {uids:?}"))
            }
        },
    )
    .await?;
    Ok(Outcome::Passed)
}

/// Creates a dependent with one broken ownerReference and expects Invalid.
async fn broken_reference_is_invalid<S: ObjectStore + ?Sized>(
    store: &S,
    behaviour: &str,
    breaks: fn(&mut OwnerReference),
) -> CaseResult {
    let cx = Ctx::new(store, behaviour).await?;
    let owner = cx.create(&cx.config_map("owner")).await?;
    let mut reference = reference_to(&owner);
    breaks(&mut reference);
    expect_err!(
        store
            .create(&dependent(&cx, "child", vec![reference]), &WriteParams::default())
            .await,
        StoreError::Invalid { .. },
        "create with a broken ownerReference"
    );
    Ok(Outcome::Passed)
}

/// A.3 #53: an ownerReference with an empty uid is Invalid.
pub async fn owner_reference_without_uid_is_invalid<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    broken_reference_is_invalid(store, "owner_reference_without_uid_is_invalid", |r| r.uid.clear()).await
}

/// A.3 #53: an ownerReference with an empty name is Invalid.
pub async fn owner_reference_without_name_is_invalid<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    broken_reference_is_invalid(store, "owner_reference_without_name_is_invalid", |r| r.name.clear()).await
}

/// A.3 #53: an ownerReference with an empty kind is Invalid.
pub async fn owner_reference_without_kind_is_invalid<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    broken_reference_is_invalid(store, "owner_reference_without_kind_is_invalid", |r| r.kind.clear()).await
}

/// A.3 #53: an ownerReference with an empty apiVersion is Invalid.
pub async fn owner_reference_without_api_version_is_invalid<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    broken_reference_is_invalid(store, "owner_reference_without_api_version_is_invalid", |r| {
        r.api_version.clear()
    })
    .await
}

/// A.3 #54: two ownerReferences with `controller: true` are Invalid.
pub async fn two_controller_owner_references_are_invalid<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "two_controller_owner_references_are_invalid").await?;
    let first = cx.create(&cx.config_map("first")).await?;
    let second = cx.create(&cx.config_map("second")).await?;
    let refs = [&first, &second]
        .iter()
        .map(|o| OwnerReference {
            controller: Some(true),
            ..reference_to(o)
        })
        .collect();
    expect_err!(
        store
            .create(&dependent(&cx, "child", refs), &WriteParams::default())
            .await,
        StoreError::Invalid { .. },
        "create with two controller references"
    );
    Ok(Outcome::Passed)
}
