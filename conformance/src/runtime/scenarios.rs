//! Runtime scenarios (issue 3, item 7): the reconcile driver over a store, end to end.

use std::sync::Arc;

use operator_runtime_core::counting::Verb;
use operator_runtime_core::hash::HASH_ANNOTATION;
use operator_runtime_core::store::{DeleteParams, Patch, PatchParams, WriteParams};
use operator_runtime_core::{Object, ObjectStore};
use serde_json::{Value, json};

pub use super::steady_state::{
    normalized_children_are_not_drift_and_edits_are_repaired_once, repeated_warning_is_sent_once_while_nothing_changes,
    secret_values_never_appear_in_events_or_plans, status_defaulted_by_the_schema_is_not_rewritten,
};

use super::fixture::{World, config_map, deployment};
use crate::outcome::{CaseResult, Outcome};
use crate::support::kinds;

pub use super::fixpoint::pure_operator_skips_only_unchanged_reconciles;
pub use super::safety::{
    deleting_parent_with_orphan_propagation_keeps_children, forbidden_kind_is_reported_and_other_kinds_keep_working,
    paused_parent_gets_no_child_writes_until_resumed, permanent_error_is_reported_once_and_not_retried,
    stale_relist_never_writes_from_an_older_spec,
};

fn ensure(cond: bool, why: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(why()) }
}

fn two_nodes() -> Value {
    json!([{"name": "broker", "replicas": 2, "config": {"heap": "1g"}}, {"name": "server", "replicas": 3, "config": {"heap": "4g"}}])
}

/// From nothing: every child is created with our ownership and hash, the finalizer is added,
/// and the status carries Ready=True and observedGeneration.
pub async fn converge_from_empty(store: Arc<dyn ObjectStore>) -> CaseResult {
    let w = World::new(store, "runtime-converge-from-empty").await?;
    let parent = w.create(&w.widget("wc", two_nodes())).await?;
    w.converge("wc").await?;
    for name in ["wc-broker", "wc-server"] {
        for kind in [config_map(), deployment()] {
            let child = w
                .get(&w.key(&kind, name))
                .await?
                .ok_or_else(|| format!("{kind} {name} missing"))?;
            ensure(child.is_controlled_by(parent.uid().unwrap_or("?")), || {
                format!("{name}: no controller ref to the parent")
            })?;
            ensure(child.annotation(HASH_ANNOTATION).is_some(), || {
                format!("{name}: no hash annotation")
            })?;
            ensure(
                child.label("app.kubernetes.io/managed-by") == Some(super::fixture::MANAGER),
                || format!("{name}: no managed-by label"),
            )?;
        }
    }
    let parent = w.get(&w.key(&kinds::widget(), "wc")).await?.ok_or("parent missing")?;
    ensure(parent.has_finalizer("operator-runtime.io/widget-operator"), || {
        "finalizer missing".into()
    })?;
    let status = parent.status().cloned().unwrap_or_default();
    let ready = status["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True");
    ensure(ready, || format!("Ready is not True: {status}"))?;
    ensure(
        status["observedGeneration"] == json!(parent.metadata.generation),
        || format!("observedGeneration wrong: {status}"),
    )?;
    Ok(Outcome::Passed)
}

/// A second reconcile with nothing changed sends no request at all and writes nothing.
pub async fn steady_state_reconcile_sends_no_request(store: Arc<dyn ObjectStore>) -> CaseResult {
    let w = World::new(store, "runtime-steady-state").await?;
    w.create(&w.widget("ws", two_nodes())).await?;
    w.converge("ws").await?;
    w.settle().await?;
    let before = w.counted.snapshot();
    w.take_reasons();
    let report = w.reconcile("ws").await?;
    let sent = w.requests_since(&before);
    ensure(sent.total() == 0, || {
        format!("steady-state reconcile sent requests: {sent}")
    })?;
    ensure(report.child_writes == 0 && !report.status_written, || {
        "steady-state reconcile wrote".into()
    })?;
    ensure(w.take_reasons().is_empty(), || {
        "steady-state reconcile recorded events".into()
    })?;
    Ok(Outcome::Passed)
}

/// Someone edits a field the operator sets: the next reconcile puts it back (DriftRepaired).
pub async fn manual_edit_of_owned_field_is_repaired(store: Arc<dyn ObjectStore>) -> CaseResult {
    let w = World::new(store, "runtime-drift-repaired").await?;
    w.create(&w.widget("wd", two_nodes())).await?;
    w.converge("wd").await?;
    let key = w.key(&config_map(), "wd-broker");
    let patch = Patch::Merge(json!({"data": {"heap": "64m"}}));
    w.raw
        .patch(&key, &patch, &PatchParams::default())
        .await
        .map_err(|e| e.to_string())?;
    w.take_reasons();
    w.reconcile("wd").await?;
    let cm = w.get(&key).await?.ok_or("configmap gone")?;
    ensure(cm.body["data"]["heap"] == "1g", || {
        format!("drift not repaired: {}", cm.body["data"])
    })?;
    let reasons = w.take_reasons();
    ensure(reasons.iter().any(|r| r == "DriftRepaired"), || {
        format!("no DriftRepaired event: {reasons:?}")
    })?;
    Ok(Outcome::Passed)
}

/// Fields another manager set (an annotation; replicas of an HPA-managed Deployment whose
/// replicas the operator does not set) survive reconciles.
pub async fn field_of_another_manager_is_preserved(store: Arc<dyn ObjectStore>) -> CaseResult {
    let w = World::new(store, "runtime-other-manager").await?;
    w.create(&w.widget("wo", json!([{"name": "minion", "config": {"a": "b"}}])))
        .await?;
    w.converge("wo").await?;
    let key = w.key(&deployment(), "wo-minion");
    let patch = Patch::Merge(json!({"metadata": {"annotations": {"other.io/note": "keep"}}, "spec": {"replicas": 7}}));
    let params = PatchParams {
        field_manager: Some("hpa".into()),
        ..PatchParams::default()
    };
    w.raw.patch(&key, &patch, &params).await.map_err(|e| e.to_string())?;
    w.converge("wo").await?;
    let d = w.get(&key).await?.ok_or("deployment gone")?;
    ensure(d.annotation("other.io/note") == Some("keep"), || {
        "annotation of another manager removed".into()
    })?;
    ensure(d.body["spec"]["replicas"] == 7, || {
        format!("replicas of another manager changed: {}", d.body["spec"]["replicas"])
    })?;
    Ok(Outcome::Passed)
}

/// A deleted child is created again.
pub async fn deleted_child_is_recreated(store: Arc<dyn ObjectStore>) -> CaseResult {
    let w = World::new(store, "runtime-child-recreated").await?;
    w.create(&w.widget("wr", two_nodes())).await?;
    w.converge("wr").await?;
    let key = w.key(&config_map(), "wr-server");
    let old = w.get(&key).await?.ok_or("configmap missing")?;
    w.raw
        .delete(&key, &DeleteParams::default())
        .await
        .map_err(|e| e.to_string())?;
    w.converge("wr").await?;
    let new = w.get(&key).await?.ok_or("configmap not recreated")?;
    ensure(new.uid() != old.uid(), || "same uid after recreate".into())?;
    Ok(Outcome::Passed)
}

/// Removing a node type from the spec deletes exactly its children.
pub async fn removing_node_type_deletes_exactly_its_children(store: Arc<dyn ObjectStore>) -> CaseResult {
    let w = World::new(store, "runtime-node-type-removed").await?;
    w.create(&w.widget("wn", two_nodes())).await?;
    w.converge("wn").await?;
    let pkey = w.key(&kinds::widget(), "wn");
    let mut parent = (*w.get(&pkey).await?.ok_or("parent missing")?).clone();
    parent
        .body
        .insert("spec".into(), json!({"nodes": [two_nodes()[1].clone()]}));
    w.raw
        .replace(&parent, &WriteParams::default())
        .await
        .map_err(|e| e.to_string())?;
    w.converge("wn").await?;
    for kind in [config_map(), deployment()] {
        ensure(
            w.get(&w.key(&kind, "wn-broker"))
                .await?
                .is_none_or(|o| o.is_terminating()),
            || format!("{kind} wn-broker not deleted"),
        )?;
        ensure(w.get(&w.key(&kind, "wn-server")).await?.is_some(), || {
            format!("{kind} wn-server was deleted")
        })?;
    }
    Ok(Outcome::Passed)
}

/// An object with our ownership labels but no controller reference to this parent is never
/// deleted (the Go library deleted by labels alone).
pub async fn object_with_our_labels_but_other_owner_is_kept(store: Arc<dyn ObjectStore>) -> CaseResult {
    let w = World::new(store, "runtime-foreign-object-kept").await?;
    w.create(&w.widget("wf", two_nodes())).await?;
    w.converge("wf").await?;
    let labels = json!({"app.kubernetes.io/managed-by": super::fixture::MANAGER, "app.kubernetes.io/instance": "wf"});
    let mut foreign = Object::new(&config_map(), Some(&w.ns), "wf-impostor").with("data", json!({}));
    foreign.metadata.labels = serde_json::from_value(labels).ok();
    w.create(&foreign).await?;
    w.converge("wf").await?;
    ensure(w.get(&foreign.object_ref()).await?.is_some(), || {
        "object with our labels but no owner was deleted".into()
    })?;
    Ok(Outcome::Passed)
}

/// Deleting the parent runs cleanup (children deleted), removes the finalizer, and the parent
/// is gone.
pub async fn deleting_parent_cleans_up_then_parent_is_gone(store: Arc<dyn ObjectStore>) -> CaseResult {
    let w = World::new(store, "runtime-parent-deleted").await?;
    w.create(&w.widget("wx", two_nodes())).await?;
    w.converge("wx").await?;
    let pkey = w.key(&kinds::widget(), "wx");
    w.raw
        .delete(&pkey, &DeleteParams::default())
        .await
        .map_err(|e| e.to_string())?;
    let terminating = w
        .get(&pkey)
        .await?
        .ok_or("parent vanished before cleanup: the finalizer did not hold it")?;
    ensure(terminating.is_terminating(), || "parent not terminating".into())?;
    w.reconcile("wx").await?;
    ensure(w.get(&pkey).await?.is_none(), || {
        "parent still exists after cleanup".into()
    })?;
    for kind in [config_map(), deployment()] {
        for name in ["wx-broker", "wx-server"] {
            ensure(
                w.get(&w.key(&kind, name)).await?.is_none_or(|o| o.is_terminating()),
                || format!("{kind} {name} left behind"),
            )?;
        }
    }
    Ok(Outcome::Passed)
}

/// A spec change writes exactly the changed child plus one status write.
pub async fn spec_change_writes_changed_children_and_one_status(store: Arc<dyn ObjectStore>) -> CaseResult {
    let w = World::new(store, "runtime-spec-change").await?;
    w.create(&w.widget("wp", two_nodes())).await?;
    w.converge("wp").await?;
    let pkey = w.key(&kinds::widget(), "wp");
    let mut parent = (*w.get(&pkey).await?.ok_or("parent missing")?).clone();
    let mut nodes = two_nodes();
    nodes[1]["replicas"] = json!(5);
    parent.body.insert("spec".into(), json!({"nodes": nodes}));
    w.raw
        .replace(&parent, &WriteParams::default())
        .await
        .map_err(|e| e.to_string())?;
    w.settle().await?;
    let before = w.counted.snapshot();
    let report = w.reconcile("wp").await?;
    let sent = w.requests_since(&before);
    let child_writes = sent.writes() - sent.verb(Verb::ReplaceStatus);
    ensure(child_writes == 1, || {
        format!("expected 1 child write, got {child_writes}: {sent}")
    })?;
    ensure(sent.verb(Verb::ReplaceStatus) == 1, || {
        format!("expected 1 status write: {sent}")
    })?;
    ensure(sent.reads() == 0, || format!("reads hit the backend: {sent}"))?;
    let changed = report
        .plan
        .as_ref()
        .and_then(|p| p.writes().next())
        .map(|i| i.key.name.clone());
    ensure(changed.as_deref() == Some("wp-server"), || {
        format!("wrong child written: {changed:?}")
    })?;
    Ok(Outcome::Passed)
}

/// `StoreEventRecorder` writes an events.k8s.io/v1 Event the server accepts (generated name,
/// regarding and related references, reason, note), and a repeat of the same event becomes a
/// series on that one object instead of a second Event.
pub async fn store_event_recorder_writes_events_and_folds_repeats(store: Arc<dyn ObjectStore>) -> CaseResult {
    use operator_runtime_core::clock::ManualClock;
    use operator_runtime_core::events::{Event, EventRecorder, StoreEventRecorder, reason};
    use operator_runtime_core::store::ListParams;
    use operator_runtime_core::{ObjectStoreExt, TypeRef};

    let w = World::new(Arc::clone(&store), "runtime-store-event-recorder").await?;
    let parent = w.create(&w.widget("we", two_nodes())).await?;
    let child = w.key(&config_map(), "we-broker");
    let recorder = StoreEventRecorder::new(
        Arc::clone(&store),
        Arc::new(ManualClock::at_epoch()),
        "test.operator-runtime.io/recorder",
        "test-1",
    );
    let event = Event::normal(
        reason::CREATED,
        "Create",
        "created ConfigMap we-broker",
        parent.object_ref(),
    )
    .related_to(child);
    recorder
        .record(event.clone())
        .await
        .map_err(|e| format!("first record: {e}"))?;
    recorder.record(event).await.map_err(|e| format!("repeat: {e}"))?;
    let events = store
        .list_all(
            &TypeRef::new("events.k8s.io/v1", "Event"),
            &ListParams::in_namespace(&w.ns),
        )
        .await
        .map_err(|e| format!("list events: {e}"))?;
    ensure(events.items.len() == 1, || {
        format!("expected one Event, got {}", events.items.len())
    })?;
    let e = &events.items[0];
    for (path, got, want) in [
        ("reason", &e.body["reason"], json!("Created")),
        ("note", &e.body["note"], json!("created ConfigMap we-broker")),
        ("type", &e.body["type"], json!("Normal")),
        ("regarding.name", &e.body["regarding"]["name"], json!("we")),
        ("related.name", &e.body["related"]["name"], json!("we-broker")),
        ("series.count", &e.body["series"]["count"], json!(2)),
    ] {
        ensure(*got == want, || format!("{path}: {got} (want {want})"))?;
    }
    Ok(Outcome::Passed)
}

/// Leader election's Lease steps on the store: acquire by create, a second candidate sees the
/// holder, renew, takeover of an expired Lease, release and re-acquire; the stored Lease is one
/// the server accepts (`holderIdentity`, `leaseDurationSeconds`, MicroTime `renewTime`).
pub async fn lease_lock_acquires_renews_takes_over_and_releases(store: Arc<dyn ObjectStore>) -> CaseResult {
    use std::time::Duration;

    use operator_runtime_core::clock::ManualClock;
    use operator_runtime_core::lease::{LeaseConfig, LeaseLock, LockOutcome};

    let cx = crate::support::Ctx::new(store.as_ref(), "runtime-lease-lock").await?;
    let clock = Arc::new(ManualClock::at_epoch());
    let lock = |identity: &str| -> Result<LeaseLock<Arc<dyn ObjectStore>>, String> {
        let config = LeaseConfig::new(cx.ns.clone(), "operator", identity).map_err(|e| e.to_string())?;
        Ok(LeaseLock::new(Arc::clone(&store), clock.clone(), config))
    };
    let (a, b) = (lock("a")?, lock("b")?);
    let step = |what: &'static str| move |e: operator_runtime_core::lease::LeaseError| format!("{what}: {e}");
    let held =
        |o: &LockOutcome, acquired: bool| matches!(o, LockOutcome::Held { acquired: got, .. } if *got == acquired);
    let by_other = |o: &LockOutcome, who: &str| matches!(o, LockOutcome::HeldByOther { holder, .. } if holder == who);

    let o = a.try_acquire_or_renew().await.map_err(step("a acquires"))?;
    ensure(held(&o, true), || format!("a acquires: {o:?}"))?;
    let lease = store.get(&a.lease_ref()).await.map_err(|e| format!("get lease: {e}"))?;
    let spec = lease.spec().cloned().unwrap_or_default();
    ensure(
        spec["holderIdentity"] == "a" && spec["leaseDurationSeconds"] == 15,
        || format!("lease spec {spec}"),
    )?;
    ensure(spec["renewTime"].is_string(), || format!("renewTime missing: {spec}"))?;
    let o = b.try_acquire_or_renew().await.map_err(step("b tries"))?;
    ensure(by_other(&o, "a"), || format!("b while a holds: {o:?}"))?;
    clock.advance(Duration::from_secs(5));
    let o = a.try_acquire_or_renew().await.map_err(step("a renews"))?;
    ensure(held(&o, false), || format!("a renews: {o:?}"))?;
    clock.advance(Duration::from_secs(16));
    let o = b.try_acquire_or_renew().await.map_err(step("b takes over"))?;
    ensure(held(&o, true), || format!("b takes over the expired lease: {o:?}"))?;
    let o = a.try_acquire_or_renew().await.map_err(step("a after takeover"))?;
    ensure(by_other(&o, "b"), || format!("a after the takeover: {o:?}"))?;
    let released = b.release().await.map_err(step("b releases"))?;
    ensure(released, || "b did not release".to_owned())?;
    let o = a.try_acquire_or_renew().await.map_err(step("a re-acquires"))?;
    ensure(held(&o, true), || format!("a after the release: {o:?}"))?;
    Ok(Outcome::Passed)
}
