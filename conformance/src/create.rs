//! Create and get: server-set metadata, names, status on create, errors (A.3 items 1-14, 86).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use operator_runtime_core::clock::Timestamp;
use operator_runtime_core::store::WriteParams;
use operator_runtime_core::{ObjectStore, StoreError};
use serde_json::json;

use crate::outcome::{CaseResult, Outcome};
use crate::support::kinds::{config_map, widget};
use crate::support::{Ctx, OrFail, edit, revision_of, rv_of, with_labels};

/// A.3 #1: create returns the stored object with uid, creationTimestamp, resourceVersion and,
/// for a custom resource, `generation == 1`.
pub async fn create_sets_uid_timestamp_rv_and_generation<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "create_sets_uid_timestamp_rv_and_generation").await?;
    cx.install_crds().await?;
    let created = cx.create(&cx.widget("w", json!({"size": 1}))).await?;
    ensure!(
        created.uid().is_some_and(|u| !u.is_empty()),
        "uid not set: {:?}",
        created.metadata.uid
    );
    ensure!(
        created.metadata.creation_timestamp.is_some(),
        "creationTimestamp not set"
    );
    rv_of(&created)?;
    ensure!(
        created.metadata.generation == Some(1),
        "generation {:?}, expected 1",
        created.metadata.generation
    );
    Ok(Outcome::Passed)
}

/// A.3 #2: two objects created one after the other get different uids and strictly increasing
/// revisions (compared through the decimal-revision assumption of [`crate::support::rv`]).
pub async fn create_assigns_distinct_uids_and_increasing_rvs<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "create_assigns_distinct_uids_and_increasing_rvs").await?;
    let a = cx.create(&cx.config_map("a")).await?;
    let b = cx.create(&cx.config_map("b")).await?;
    ensure!(a.uid() != b.uid(), "both objects got uid {:?}", a.uid());
    let (ra, rb) = (revision_of(&a)?, revision_of(&b)?);
    ensure!(rb > ra, "second create has revision {rb}, not above the first's {ra}");
    Ok(Outcome::Passed)
}

/// A.3 #3: creating an existing name is AlreadyExists and leaves the stored object unchanged.
pub async fn create_existing_name_is_already_exists<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "create_existing_name_is_already_exists").await?;
    let first = cx.create(&cx.config_map("dup")).await?;
    let second = cx.config_map("dup").with("data", json!({"k": "other"}));
    expect_err!(
        store.create(&second, &WriteParams::default()).await,
        StoreError::AlreadyExists { .. },
        "second create"
    );
    let stored = cx.get(&first.object_ref()).await?;
    ensure!(stored == first, "stored object changed: {:?}", stored.body);
    Ok(Outcome::Passed)
}

/// A.3 #4: a create with neither name nor generateName is Invalid.
pub async fn create_without_name_or_generate_name_is_invalid<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "create_without_name_or_generate_name_is_invalid").await?;
    let mut nameless = cx.config_map("x");
    nameless.metadata.name = None;
    expect_err!(
        store.create(&nameless, &WriteParams::default()).await,
        StoreError::Invalid { .. },
        "create without a name"
    );
    Ok(Outcome::Passed)
}

/// A.3 #5: a custom resource name with upper-case letters is not a DNS-1123 subdomain: Invalid.
pub async fn create_with_uppercase_name_is_invalid<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "create_with_uppercase_name_is_invalid").await?;
    cx.install_crds().await?;
    expect_err!(
        store
            .create(&cx.widget("Bad-Name", json!({})), &WriteParams::default())
            .await,
        StoreError::Invalid { .. },
        "create of Widget Bad-Name"
    );
    Ok(Outcome::Passed)
}

/// A.3 #5: a name with `_` is Invalid.
pub async fn create_with_underscore_name_is_invalid<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "create_with_underscore_name_is_invalid").await?;
    expect_err!(
        store.create(&cx.config_map("bad_name"), &WriteParams::default()).await,
        StoreError::Invalid { .. },
        "create of ConfigMap bad_name"
    );
    Ok(Outcome::Passed)
}

/// A.3 #5: a name over 253 characters is Invalid.
pub async fn create_with_overlong_name_is_invalid<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "create_with_overlong_name_is_invalid").await?;
    let name = "a".repeat(254);
    expect_err!(
        store.create(&cx.config_map(&name), &WriteParams::default()).await,
        StoreError::Invalid { .. },
        "create with a 254-character name"
    );
    Ok(Outcome::Passed)
}

/// A.3 #6: `generateName: x-` yields `x-` plus 5 characters, and works repeatedly.
pub async fn create_with_generate_name_appends_five_characters<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "create_with_generate_name_appends_five_characters").await?;
    let mut template = cx.config_map("unused");
    template.metadata.name = None;
    template.metadata.generate_name = Some("x-".into());
    let a = cx.create(&template).await?;
    let b = cx.create(&template).await?;
    for made in [&a, &b] {
        let name = made.name();
        ensure!(
            name.starts_with("x-") && name.len() == 7,
            "generated name {name:?} is not x- plus 5 characters"
        );
        cx.get(&made.object_ref()).await?;
    }
    ensure!(
        a.name() != b.name(),
        "two creates generated the same name {:?}",
        a.name()
    );
    Ok(Outcome::Passed)
}

/// A.3 #7: a create with `metadata.resourceVersion` set fails (500 on a real server; only "is an
/// error" is asserted) and stores nothing.
pub async fn create_with_resource_version_is_error<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "create_with_resource_version_is_error").await?;
    let mut body = cx.config_map("with-rv");
    body.metadata.resource_version = Some("1".into());
    expect_any_err!(
        store.create(&body, &WriteParams::default()).await,
        "create with a resourceVersion"
    );
    cx.expect_gone(&body.object_ref()).await?;
    Ok(Outcome::Passed)
}

/// A.3 #8: client-set uid and creationTimestamp are replaced by the server's.
pub async fn create_overwrites_client_uid_and_creation_timestamp<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "create_overwrites_client_uid_and_creation_timestamp").await?;
    let client_uid = "00000000-0000-4000-8000-000000000001";
    let long_ago = Timestamp::from_second(978_307_200).map_err(|e| e.to_string())?;
    let mut body = cx.config_map("c");
    body.metadata.uid = Some(client_uid.into());
    body.metadata.creation_timestamp = Some(Time(long_ago));
    let created = cx.create(&body).await?;
    ensure!(
        created.uid().is_some_and(|u| u != client_uid && !u.is_empty()),
        "uid {:?} kept",
        created.uid()
    );
    ensure!(
        created
            .metadata
            .creation_timestamp
            .as_ref()
            .is_some_and(|t| t.0 != long_ago),
        "creationTimestamp {:?} kept",
        created.metadata.creation_timestamp
    );
    Ok(Outcome::Passed)
}

/// A.3 #8: a client-set deletionTimestamp (and grace period) is wiped on create.
pub async fn create_wipes_client_deletion_timestamp<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "create_wipes_client_deletion_timestamp").await?;
    let then = Timestamp::from_second(1_767_225_600).map_err(|e| e.to_string())?;
    let mut body = cx.config_map("d");
    body.metadata.deletion_timestamp = Some(Time(then));
    body.metadata.deletion_grace_period_seconds = Some(30);
    let created = cx.create(&body).await?;
    let stored = cx.get(&created.object_ref()).await?;
    for o in [&created, &stored] {
        ensure!(
            !o.is_terminating(),
            "deletionTimestamp kept: {:?}",
            o.metadata.deletion_timestamp
        );
        ensure!(
            o.metadata.deletion_grace_period_seconds.is_none(),
            "deletionGracePeriodSeconds kept: {:?}",
            o.metadata.deletion_grace_period_seconds
        );
    }
    Ok(Outcome::Passed)
}

/// A.3 #9: creating a custom resource with the status subresource drops `status`.
pub async fn create_drops_status_with_status_subresource<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "create_drops_status_with_status_subresource").await?;
    cx.install_crds().await?;
    let body = cx
        .widget("w", json!({"size": 1}))
        .with("status", json!({"phase": "Ready"}));
    let created = cx.create(&body).await?;
    let stored = cx.get(&created.object_ref()).await?;
    for o in [&created, &stored] {
        let phase = o.status().and_then(|s| s.get("phase"));
        ensure!(phase.is_none(), "status.phase {phase:?} survived the create");
    }
    Ok(Outcome::Passed)
}

/// Without a status subresource, `status` is an ordinary field and is stored on create.
pub async fn create_keeps_status_without_status_subresource<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "create_keeps_status_without_status_subresource").await?;
    cx.install_crds().await?;
    let body = cx
        .gadget("g", json!({"size": 1}))
        .with("status", json!({"phase": "Ready"}));
    let created = cx.create(&body).await?;
    let stored = cx.get(&created.object_ref()).await?;
    ensure!(
        stored.status() == Some(&json!({"phase": "Ready"})),
        "status {:?}, expected {{phase: Ready}}",
        stored.status()
    );
    Ok(Outcome::Passed)
}

/// A.3 #86: creationTimestamp has whole-second precision and reads back identically.
pub async fn creation_timestamp_has_second_precision<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "creation_timestamp_has_second_precision").await?;
    let created = cx.create(&cx.config_map("t")).await?;
    let stored = cx.get(&created.object_ref()).await?;
    let Some(Time(ts)) = created.metadata.creation_timestamp else {
        return Err("creationTimestamp not set".into());
    };
    ensure!(
        ts.subsec_nanosecond() == 0,
        "creationTimestamp {ts} has a sub-second part"
    );
    ensure!(
        stored.metadata.creation_timestamp == created.metadata.creation_timestamp,
        "read back {:?}, created {:?}",
        stored.metadata.creation_timestamp,
        created.metadata.creation_timestamp
    );
    Ok(Outcome::Passed)
}

/// A.3 #13: get of a missing object is NotFound.
pub async fn get_of_missing_object_is_not_found<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "get_of_missing_object_is_not_found").await?;
    expect_err!(
        store.get(&cx.key(&config_map(), "missing")).await,
        StoreError::NotFound { .. },
        "get"
    );
    Ok(Outcome::Passed)
}

/// A.3 #14: get returns exactly the last written state, resourceVersion included.
pub async fn get_returns_last_written_state<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "get_returns_last_written_state").await?;
    cx.install_crds().await?;
    let created = cx.create(&cx.widget("w", json!({"size": 1}))).await?;
    let mut next = edit(&created);
    next.body.insert("spec".into(), json!({"size": 2}));
    let updated = cx.replace(&next).await?;
    let stored = cx.get(&updated.object_ref()).await?;
    ensure!(
        stored == updated,
        "get returned {stored:?}, last write returned {updated:?}"
    );
    Ok(Outcome::Passed)
}

/// Labels are validated on create: a value with a space is Invalid.
pub async fn create_with_invalid_label_value_is_invalid<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "create_with_invalid_label_value_is_invalid").await?;
    let body = with_labels(cx.config_map("l"), &[("app", "not valid!")]);
    expect_err!(
        store.create(&body, &WriteParams::default()).await,
        StoreError::Invalid { .. },
        "create"
    );
    Ok(Outcome::Passed)
}

/// Label keys are validated on create: a key starting with `-` is Invalid.
pub async fn create_with_invalid_label_key_is_invalid<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "create_with_invalid_label_key_is_invalid").await?;
    let body = with_labels(cx.config_map("l"), &[("-bad", "x")]);
    expect_err!(
        store.create(&body, &WriteParams::default()).await,
        StoreError::Invalid { .. },
        "create"
    );
    Ok(Outcome::Passed)
}

/// Create of a custom resource in `widget()` kind returns the same object a get returns.
pub async fn create_response_matches_get<S: ObjectStore + ?Sized>(store: &S) -> CaseResult {
    let cx = Ctx::new(store, "create_response_matches_get").await?;
    cx.install_crds().await?;
    let created = cx.create(&cx.widget("w", json!({"size": 1}))).await?;
    let stored = store.get(&cx.key(&widget(), "w")).await.or_fail("get")?;
    ensure!(
        stored == created,
        "get returned {stored:?}, create returned {created:?}"
    );
    Ok(Outcome::Passed)
}
