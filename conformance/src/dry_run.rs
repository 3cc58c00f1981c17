//! `dryRun=All`: validation runs and the would-be object comes back, nothing is persisted, no
//! event is sent (A.3 items 82-83). Not applicable when the backend has no dry-run.

use operator_runtime_core::store::{DeleteParams, ListParams, Patch, PatchParams, WatchParams, WriteParams};
use operator_runtime_core::{ObjectStore, StoreError};
use serde_json::json;

use crate::outcome::{CaseResult, Outcome};
use crate::support::events::describe_all;
use crate::support::kinds::config_map;
use crate::support::{Ctx, Events, OrFail, edit, rv_of};

const NO_DRY_RUN: &str = "backend does not support dry-run (Capabilities::dry_run is false)";

fn dry() -> WriteParams {
    WriteParams {
        dry_run: true,
        field_manager: None,
    }
}

/// A.3 #82: a dry-run create returns the object but persists nothing and sends no event.
pub async fn dry_run_create_persists_nothing<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().dry_run, NO_DRY_RUN);
    let cx = Ctx::new(store, "dry_run_create_persists_nothing").await?;
    let list = store
        .list(&config_map(), &ListParams::in_namespace(&cx.ns))
        .await
        .or_fail("list")?;
    let params = WatchParams {
        namespace: Some(cx.ns.clone()),
        resource_version: Some(list.resource_version),
        ..WatchParams::default()
    };
    let mut events = Events::start(store, &config_map(), &params).await?;
    let returned = store
        .create(&cx.config_map("dry"), &dry())
        .await
        .or_fail("dry-run create")?;
    ensure!(
        returned.name() == "dry",
        "dry-run create returned {:?}",
        returned.name()
    );
    cx.expect_gone(&cx.key(&config_map(), "dry")).await?;
    cx.create(&cx.config_map("marker")).await?;
    let before = events.before("marker").await?;
    ensure!(
        before.is_empty(),
        "dry-run create produced events {}",
        describe_all(&before)
    );
    Ok(Outcome::Passed)
}

/// A.3 #82: a dry-run create of an existing name is still AlreadyExists.
pub async fn dry_run_create_of_existing_name_is_already_exists<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().dry_run, NO_DRY_RUN);
    let cx = Ctx::new(store, "dry_run_create_of_existing_name_is_already_exists").await?;
    cx.create(&cx.config_map("x")).await?;
    expect_err!(
        store.create(&cx.config_map("x"), &dry()).await,
        StoreError::AlreadyExists { .. },
        "dry-run create"
    );
    Ok(Outcome::Passed)
}

/// A.3 #83: a dry-run update returns the would-be object and changes nothing.
pub async fn dry_run_update_changes_nothing<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().dry_run, NO_DRY_RUN);
    let cx = Ctx::new(store, "dry_run_update_changes_nothing").await?;
    let created = cx.create(&cx.config_map("x")).await?;
    let returned = store
        .replace(&edit(&created).with("data", json!({"k": "dry"})), &dry())
        .await
        .or_fail("dry-run update")?;
    ensure!(
        returned.body["data"]["k"] == "dry",
        "dry-run update did not return the would-be object"
    );
    let stored = cx.get(&created.object_ref()).await?;
    ensure!(
        stored == created,
        "dry-run update changed the stored object: {:?}",
        stored.body
    );
    Ok(Outcome::Passed)
}

/// A dry-run update with a stale resourceVersion is still Conflict.
pub async fn dry_run_update_with_stale_rv_conflicts<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().dry_run, NO_DRY_RUN);
    let cx = Ctx::new(store, "dry_run_update_with_stale_rv_conflicts").await?;
    let created = cx.create(&cx.config_map("x")).await?;
    cx.replace(&edit(&created).with("data", json!({"k": "w"}))).await?;
    expect_err!(
        store
            .replace(&edit(&created).with("data", json!({"k": "dry"})), &dry())
            .await,
        StoreError::Conflict { .. },
        "dry-run update with a stale resourceVersion"
    );
    Ok(Outcome::Passed)
}

/// A.3 #83: a dry-run delete keeps the object and its resourceVersion.
pub async fn dry_run_delete_keeps_object<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().dry_run, NO_DRY_RUN);
    let cx = Ctx::new(store, "dry_run_delete_keeps_object").await?;
    let created = cx.create(&cx.config_map("x")).await?;
    let params = DeleteParams {
        dry_run: true,
        ..DeleteParams::default()
    };
    store
        .delete(&created.object_ref(), &params)
        .await
        .or_fail("dry-run delete")?;
    let stored = cx.get(&created.object_ref()).await?;
    ensure!(
        rv_of(&stored)? == rv_of(&created)?,
        "dry-run delete moved the resourceVersion"
    );
    ensure!(!stored.is_terminating(), "dry-run delete set deletionTimestamp");
    Ok(Outcome::Passed)
}

/// A dry-run patch returns the patched object and changes nothing.
pub async fn dry_run_patch_changes_nothing<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    require!(store.capabilities().dry_run, NO_DRY_RUN);
    let cx = Ctx::new(store, "dry_run_patch_changes_nothing").await?;
    let created = cx.create(&cx.config_map("x")).await?;
    let params = PatchParams {
        dry_run: true,
        ..PatchParams::default()
    };
    let returned = store
        .patch(
            &created.object_ref(),
            &Patch::Merge(json!({"data": {"k": "dry"}})),
            &params,
        )
        .await
        .or_fail("dry-run patch")?;
    ensure!(
        returned.body["data"]["k"] == "dry",
        "dry-run patch did not return the patched object"
    );
    let stored = cx.get(&created.object_ref()).await?;
    ensure!(
        stored == created,
        "dry-run patch changed the stored object: {:?}",
        stored.body
    );
    Ok(Outcome::Passed)
}
