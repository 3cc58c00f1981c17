//! Fault injection over the memory backend: every scripted fault, random faults at seeded
//! rates, and determinism (same seed and calls -> byte-identical results and fault log).

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use operator_runtime_core::clock::ManualClock;
use operator_runtime_core::store::{
    DeleteParams, ListParams, Patch, PatchParams, WatchEvent, WatchParams, WatchStream, WriteParams,
};
use operator_runtime_core::{Object, ObjectRef, ObjectStore, StoreError, TypeRef};
use operator_runtime_memory::MemoryStore;
use operator_runtime_memory::faults::{FaultRates, FaultSource, FaultyStore, InjectedFault, OpFilter, Operation};
use serde_json::json;
use tokio::time::Instant;

const NS: &str = "faults";

fn configmap_type() -> TypeRef {
    TypeRef::new("v1", "ConfigMap")
}

fn configmap(name: &str, value: &str) -> Object {
    Object::new(&configmap_type(), Some(NS), name).with("data", json!({ "key": value }))
}

fn key(name: &str) -> ObjectRef {
    ObjectRef::namespaced(configmap_type(), NS, name)
}

fn memory_store(seed: u64) -> MemoryStore {
    MemoryStore::builder()
        .seed(seed)
        .clock(Arc::new(ManualClock::at_epoch()))
        .history_limit(10_000)
        .build()
}

/// A memory store with the test namespace, wrapped for fault injection.
async fn faulty(seed: u64) -> FaultyStore<MemoryStore> {
    let store = memory_store(seed);
    let namespace = Object::new(&TypeRef::new("v1", "Namespace"), None, NS);
    store.create(&namespace, &WriteParams::default()).await.unwrap();
    FaultyStore::new(store, seed)
}

fn unavailable() -> StoreError {
    StoreError::Unavailable {
        message: "scripted".into(),
        retry_after: Some(Duration::from_secs(2)),
        source: None,
    }
}

/// The next event, or None when nothing arrives within a minute of (virtual) time.
async fn next_event(stream: &mut WatchStream) -> Option<Result<WatchEvent, StoreError>> {
    tokio::time::timeout(Duration::from_secs(60), stream.next())
        .await
        .ok()
        .flatten()
}

fn event_name(event: &WatchEvent) -> String {
    match event {
        WatchEvent::Added(o) => format!("Added {}", o.name()),
        WatchEvent::Modified(o) => format!("Modified {}", o.name()),
        WatchEvent::Deleted(o) => format!("Deleted {}", o.name()),
        WatchEvent::Bookmark { resource_version } => format!("Bookmark {resource_version}"),
    }
}

/// Opens a watch on ConfigMaps after everything that exists now.
async fn watch_from_now(store: &FaultyStore<MemoryStore>) -> WatchStream {
    let params = WatchParams {
        namespace: Some(NS.into()),
        resource_version: Some(store.inner().current_revision().to_string()),
        ..WatchParams::default()
    };
    store.watch(&configmap_type(), &params).await.unwrap()
}

#[tokio::test(start_paused = true)]
async fn fail_next_fails_exactly_that_many_calls_of_that_operation() {
    let store = faulty(1).await;
    let handle = store.handle();
    store
        .create(&configmap("a", "1"), &WriteParams::default())
        .await
        .unwrap();
    handle.fail_next(Operation::Get, 2, unavailable());

    // Other operations are not affected.
    store
        .list(&configmap_type(), &ListParams::in_namespace(NS))
        .await
        .unwrap();
    assert_eq!(store.get(&key("a")).await, Err(unavailable()));
    assert_eq!(store.get(&key("a")).await, Err(unavailable()));
    assert_eq!(store.get(&key("a")).await.unwrap().name(), "a");

    let log = handle.log();
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|r| r.operation == Operation::Get
        && r.source == FaultSource::Scripted
        && r.target == "ConfigMap faults/a"
        && r.fault == InjectedFault::Error { error: unavailable() }));
    assert!(handle.scripted_exhausted());
}

#[tokio::test(start_paused = true)]
async fn an_injected_error_leaves_the_store_untouched() {
    let store = faulty(2).await;
    let handle = store.handle();
    let before = store.inner().current_revision();
    handle.fail_next(OpFilter::Writes, 1, StoreError::conflict("scripted conflict"));
    let err = store
        .create(&configmap("a", "1"), &WriteParams::default())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }));
    assert_eq!(store.inner().current_revision(), before);
    assert!(matches!(store.get(&key("a")).await, Err(StoreError::NotFound { .. })));
}

#[tokio::test(start_paused = true)]
async fn any_filter_hits_every_operation_in_turn() {
    let store = faulty(3).await;
    store.handle().fail_next(OpFilter::Any, 3, unavailable());
    assert!(
        store
            .create(&configmap("a", "1"), &WriteParams::default())
            .await
            .is_err()
    );
    assert!(store.list(&configmap_type(), &ListParams::default()).await.is_err());
    assert!(store.watch(&configmap_type(), &WatchParams::default()).await.is_err());
    assert!(
        store
            .create(&configmap("a", "1"), &WriteParams::default())
            .await
            .is_ok()
    );
    let ops: Vec<Operation> = store.handle().log().iter().map(|r| r.operation).collect();
    assert_eq!(ops, [Operation::Create, Operation::List, Operation::Watch]);
}

#[tokio::test(start_paused = true)]
async fn timeout_after_write_applies_the_write_and_hides_the_outcome() {
    let store = faulty(4).await;
    let handle = store.handle();
    let mut watch = watch_from_now(&store).await;
    handle.timeout_after_next_writes(Operation::Create, 1);

    let err = store
        .create(&configmap("a", "1"), &WriteParams::default())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Timeout { .. }), "{err:?}");
    assert!(err.is_retryable());
    // The write happened: it is readable, watchers saw it, and a retry finds it.
    assert_eq!(store.get(&key("a")).await.unwrap().body["data"]["key"], "1");
    let event = next_event(&mut watch).await.unwrap().unwrap();
    assert_eq!(event_name(&event), "Added a");
    assert!(matches!(
        store.create(&configmap("a", "1"), &WriteParams::default()).await,
        Err(StoreError::AlreadyExists { .. })
    ));
    assert_eq!(
        handle.log()[0].fault,
        InjectedFault::TimeoutAfterWrite { applied: true }
    );
}

#[tokio::test(start_paused = true)]
async fn timeout_after_a_failed_write_hides_the_failure_and_says_so_in_the_log() {
    let store = faulty(5).await;
    let handle = store.handle();
    handle.timeout_after_next_writes(OpFilter::Writes, 1);
    let err = store
        .delete(&key("missing"), &DeleteParams::default())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Timeout { .. }));
    assert_eq!(
        handle.log()[0].fault,
        InjectedFault::TimeoutAfterWrite { applied: false }
    );
}

#[tokio::test(start_paused = true)]
async fn timeouts_never_match_reads() {
    let store = faulty(6).await;
    store
        .create(&configmap("a", "1"), &WriteParams::default())
        .await
        .unwrap();
    store.handle().timeout_after_next_writes(OpFilter::Any, 1);
    assert!(store.get(&key("a")).await.is_ok());
    let patch = Patch::Merge(json!({ "data": { "key": "2" } }));
    let err = store
        .patch(&key("a"), &patch, &PatchParams::default())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Timeout { .. }));
    assert_eq!(store.get(&key("a")).await.unwrap().body["data"]["key"], "2");
}

#[tokio::test(start_paused = true)]
async fn delayed_calls_wait_in_virtual_time() {
    let store = faulty(7).await;
    store.handle().delay_next(Operation::Create, 1, Duration::from_secs(30));
    let start = Instant::now();
    store
        .create(&configmap("a", "1"), &WriteParams::default())
        .await
        .unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(30));
    let start = Instant::now();
    store
        .create(&configmap("b", "1"), &WriteParams::default())
        .await
        .unwrap();
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn lagging_reads_serve_what_a_reader_saw_before() {
    let store = faulty(8).await;
    let handle = store.handle();
    store
        .create(&configmap("a", "1"), &WriteParams::default())
        .await
        .unwrap();
    let first = store.get(&key("a")).await.unwrap();
    let first_list = store
        .list(&configmap_type(), &ListParams::in_namespace(NS))
        .await
        .unwrap();
    let mut changed = (*first).clone();
    changed.body.insert("data".into(), json!({ "key": "2" }));
    store.replace(&changed, &WriteParams::default()).await.unwrap();

    handle.lag_next_reads(OpFilter::Reads, 2);
    assert_eq!(store.get(&key("a")).await.unwrap(), first);
    assert_eq!(
        store
            .list(&configmap_type(), &ListParams::in_namespace(NS))
            .await
            .unwrap(),
        first_list
    );
    // Lag over: fresh again.
    assert_eq!(store.get(&key("a")).await.unwrap().body["data"]["key"], "2");
    assert!(handle.log().iter().all(|r| r.fault == InjectedFault::StaleRead));
    assert_eq!(handle.injected(), 2);
}

#[tokio::test(start_paused = true)]
async fn dropped_and_duplicated_watch_events() {
    let store = faulty(9).await;
    let handle = store.handle();
    let mut watch = watch_from_now(&store).await;
    handle.drop_next_watch_events(1).duplicate_next_watch_events(1);
    for name in ["a", "b", "c"] {
        store
            .create(&configmap(name, "1"), &WriteParams::default())
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    while let Some(event) = next_event(&mut watch).await {
        seen.push(event_name(&event.unwrap()));
    }
    assert_eq!(seen, ["Added b", "Added b", "Added c"]);
    let faults: Vec<_> = handle.log().into_iter().map(|r| r.fault).collect();
    assert!(matches!(faults[0], InjectedFault::WatchDropped { .. }));
    assert!(matches!(faults[1], InjectedFault::WatchDuplicated { .. }));
    assert_eq!(faults.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn delayed_watch_events_arrive_late_and_in_order() {
    let store = faulty(10).await;
    let mut watch = watch_from_now(&store).await;
    store.handle().delay_next_watch_events(1, Duration::from_secs(5));
    store
        .create(&configmap("a", "1"), &WriteParams::default())
        .await
        .unwrap();
    store
        .create(&configmap("b", "1"), &WriteParams::default())
        .await
        .unwrap();
    let start = Instant::now();
    assert_eq!(event_name(&next_event(&mut watch).await.unwrap().unwrap()), "Added a");
    assert_eq!(start.elapsed(), Duration::from_secs(5));
    assert_eq!(event_name(&next_event(&mut watch).await.unwrap().unwrap()), "Added b");
    assert_eq!(start.elapsed(), Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn an_expired_watch_ends_with_410_and_a_relist_recovers() {
    let store = faulty(11).await;
    let mut watch = watch_from_now(&store).await;
    store.handle().expire_next_watches(1);
    store
        .create(&configmap("a", "1"), &WriteParams::default())
        .await
        .unwrap();
    let err = next_event(&mut watch).await.unwrap().unwrap_err();
    assert!(matches!(err, StoreError::Expired { .. }), "{err:?}");
    assert!(watch.next().await.is_none(), "the stream ends after 410");

    // What a reflector does: relist, then watch from the list's resourceVersion.
    let list = store
        .list(&configmap_type(), &ListParams::in_namespace(NS))
        .await
        .unwrap();
    assert_eq!(list.items.len(), 1);
    let params = WatchParams {
        namespace: Some(NS.into()),
        resource_version: Some(list.resource_version.clone()),
        ..WatchParams::default()
    };
    let mut watch = store.watch(&configmap_type(), &params).await.unwrap();
    store
        .create(&configmap("b", "1"), &WriteParams::default())
        .await
        .unwrap();
    assert_eq!(event_name(&next_event(&mut watch).await.unwrap().unwrap()), "Added b");
}

#[tokio::test(start_paused = true)]
async fn clear_stops_every_fault_and_keeps_the_log() {
    let store = faulty(12).await;
    let handle = store.handle();
    handle.fail_next(Operation::Create, 5, unavailable());
    handle.set_rates(Some(FaultRates::uniform(1.0)));
    assert!(
        store
            .create(&configmap("a", "1"), &WriteParams::default())
            .await
            .is_err()
    );
    handle.clear();
    assert!(handle.scripted_exhausted());
    store
        .create(&configmap("a", "1"), &WriteParams::default())
        .await
        .unwrap();
    assert_eq!(handle.take_log().len(), 1);
    assert!(handle.log().is_empty());
}

#[tokio::test(start_paused = true)]
async fn random_errors_come_from_the_configured_list() {
    let store = faulty(13).await;
    let rates = FaultRates {
        error: 1.0,
        errors: vec![StoreError::forbidden("random")],
        ..FaultRates::default()
    };
    store.handle().set_rates(Some(rates));
    for _ in 0..5 {
        assert_eq!(store.get(&key("a")).await, Err(StoreError::forbidden("random")));
    }
    assert!(store.handle().log().iter().all(|r| r.source == FaultSource::Random));
}

#[tokio::test(start_paused = true)]
async fn wraps_any_store_even_a_shared_one() {
    let shared = Arc::new(memory_store(14));
    let namespace = Object::new(&TypeRef::new("v1", "Namespace"), None, NS);
    shared.create(&namespace, &WriteParams::default()).await.unwrap();
    let store = FaultyStore::new(Arc::clone(&shared), 14);
    store.handle().fail_next(Operation::Create, 1, unavailable());
    assert!(
        store
            .create(&configmap("a", "1"), &WriteParams::default())
            .await
            .is_err()
    );
    store
        .create(&configmap("a", "1"), &WriteParams::default())
        .await
        .unwrap();
    // The unwrapped store sees the write; calls on it bypass injection.
    assert!(shared.get(&key("a")).await.is_ok());
    assert!(store.capabilities().name.ends_with("(faulty)"));
}

fn workload_rates() -> FaultRates {
    FaultRates {
        error: 0.15,
        timeout_after_write: 0.1,
        stale_read: 0.1,
        watch_drop: 0.1,
        watch_duplicate: 0.1,
        watch_delay: 0.1,
        max_watch_delay: Duration::from_secs(3),
        watch_expire: 0.05,
        ..FaultRates::default()
    }
}

fn unshare(object: Arc<Object>) -> Object {
    Arc::unwrap_or_clone(object)
}

fn describe<T: serde::Serialize>(result: Result<T, StoreError>) -> String {
    match result {
        Ok(value) => serde_json::to_string(&value).unwrap(),
        Err(error) => format!("error {} {error}", error.code()),
    }
}

/// One step of the fixed workload, described as text.
async fn workload_step(store: &FaultyStore<MemoryStore>, step: u32) -> String {
    let name = format!("cm-{}", step % 7);
    match step % 6 {
        0 => describe(
            store
                .create(&configmap(&name, &step.to_string()), &WriteParams::default())
                .await
                .map(unshare),
        ),
        1 => {
            let patch = Patch::Merge(json!({ "data": { "step": step.to_string() } }));
            describe(
                store
                    .patch(&key(&name), &patch, &PatchParams::default())
                    .await
                    .map(unshare),
            )
        }
        2 => describe(store.get(&key(&name)).await.map(unshare)),
        3 => match store.get(&key(&name)).await {
            Ok(current) => {
                let mut next = (*current).clone();
                next.body.insert("data".into(), json!({ "replaced": step.to_string() }));
                describe(store.replace(&next, &WriteParams::default()).await.map(unshare))
            }
            Err(error) => describe::<()>(Err(error)),
        },
        4 => describe(
            store
                .list(&configmap_type(), &ListParams::in_namespace(NS))
                .await
                .map(|list| {
                    (
                        list.resource_version,
                        list.items.into_iter().map(unshare).collect::<Vec<_>>(),
                    )
                }),
        ),
        _ => describe(
            store
                .delete(&key(&name), &DeleteParams::default())
                .await
                .map(|o| unshare(o.object().clone())),
        ),
    }
}

/// A fixed workload under random faults drawn from `fault_seed`; returns everything the
/// caller observed (results, then the watch replayed through faulty events) and the fault
/// log, as text.
async fn run_workload(fault_seed: u64) -> (String, String) {
    let plain = faulty(21).await.into_inner();
    let start_rv = plain.current_revision().to_string();
    let store = FaultyStore::with_rates(plain, fault_seed, workload_rates());
    let mut transcript = Vec::new();
    for step in 0..120 {
        transcript.push(workload_step(&store, step).await);
    }

    // Replay every change through the faulty watch, resuming from the last seen
    // resourceVersion after each 410 as a reflector would.
    let mut last_rv = start_rv;
    let mut watches_opened = 0;
    'replay: while watches_opened < 50 {
        watches_opened += 1;
        let params = WatchParams {
            namespace: Some(NS.into()),
            resource_version: Some(last_rv.clone()),
            ..WatchParams::default()
        };
        let mut watch = match store.watch(&configmap_type(), &params).await {
            Ok(watch) => watch,
            Err(error) => {
                transcript.push(format!("watch refused: {error}"));
                continue;
            }
        };
        loop {
            match next_event(&mut watch).await {
                Some(Ok(event)) => {
                    last_rv = event.resource_version().unwrap_or_default().to_owned();
                    transcript.push(format!("event {} @{last_rv}", event_name(&event)));
                }
                Some(Err(error)) => {
                    transcript.push(format!("watch ended: {error}"));
                    continue 'replay;
                }
                None => break 'replay,
            }
        }
    }
    let log = serde_json::to_string(&store.handle().log()).unwrap();
    (transcript.join("\n"), log)
}

#[tokio::test(start_paused = true)]
async fn same_seed_same_calls_give_byte_identical_results_and_fault_log() {
    let (transcript_a, log_a) = run_workload(99).await;
    let (transcript_b, log_b) = run_workload(99).await;
    assert_eq!(transcript_a, transcript_b);
    assert_eq!(log_a, log_b);

    // The faults really happened, of every kind.
    for kind in [
        "\"error\"",
        "\"timeout_after_write\"",
        "\"stale_read\"",
        "\"watch_dropped\"",
        "\"watch_duplicated\"",
        "\"watch_delayed\"",
        "\"watch_expired\"",
    ] {
        assert!(log_a.contains(kind), "no {kind} fault in {log_a}");
    }

    let (transcript_c, log_c) = run_workload(100).await;
    assert_ne!(log_a, log_c, "a different fault seed gives different faults");
    assert_ne!(transcript_a, transcript_c);
}

/// Which calls fail, for a given fault seed and rates, over a fixed sequence of gets.
async fn failing_calls(rates: FaultRates) -> Vec<u64> {
    let store = FaultyStore::with_rates(faulty(30).await.into_inner(), 5, rates);
    for i in 0..200 {
        let _ = store.get(&key(&format!("cm-{i}"))).await;
    }
    store.handle().log().iter().map(|r| r.step).collect()
}

#[tokio::test(start_paused = true)]
async fn raising_one_rate_does_not_move_the_others_faults() {
    let errors_only = FaultRates {
        error: 0.2,
        ..FaultRates::default()
    };
    let with_more = FaultRates {
        timeout_after_write: 0.9,
        watch_drop: 0.9,
        ..errors_only.clone()
    };
    let a = failing_calls(errors_only).await;
    assert!(
        (20..=60).contains(&a.len()),
        "about 20% of 200 calls fail, got {}",
        a.len()
    );
    // Gets cannot time out after a write and see no watch events: the same calls fail.
    assert_eq!(a, failing_calls(with_more).await);
}

#[tokio::test]
async fn with_no_fault_active_the_wrapper_is_invisible_to_the_conformance_suite() {
    let bare = operator_runtime_conformance::run_all(|| async { MemoryStore::new() }).await;
    let wrapped = operator_runtime_conformance::run_all(|| async { FaultyStore::new(MemoryStore::new(), 1) }).await;
    assert!(
        bare.entries.len() >= 10,
        "the suite ran: {} behaviours",
        bare.entries.len()
    );
    let outcome = |report: &operator_runtime_conformance::Report| {
        report
            .entries
            .iter()
            .map(|e| (e.name, e.result.is_ok()))
            .collect::<Vec<_>>()
    };
    // Same behaviours pass and fail, whatever the memory backend's own state of conformance.
    assert_eq!(outcome(&bare), outcome(&wrapped));
}
