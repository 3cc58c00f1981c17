//! The reconcile driver through every `StoreError` at every write step, with a mockall store
//! taking the driver's writes (reads come from a cache over a memory store holding the world).
//!
//! For each step and error the test checks the returned action or error, the events and the
//! conditions: retryable errors go back to the runner (backoff), permanent ones become a
//! Warning event and a Degraded condition and wait for a change (no hot loop).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use operator_runtime_conformance::runtime::fixture::{MANAGER, WidgetOperator, config_map};
use operator_runtime_conformance::support::kinds;
use operator_runtime_core::cache::{Cache, CacheConfig};
use operator_runtime_core::clock::ManualClock;
use operator_runtime_core::events::MemoryRecorder;
use operator_runtime_core::reconcile::{ErrorPolicy, ReconcileError, ReconcileReport, Reconciler, ReconcilerConfig};
use operator_runtime_core::store::{
    ApplySupport, DeleteOutcome, DeleteParams, KindInfo, ListParams, Patch, PatchParams, Propagation, StoreResult,
    WatchParams, WatchStream, WriteParams,
};
use operator_runtime_core::{Action, Capabilities, Object, ObjectList, ObjectRef, ObjectStore, StoreError, TypeRef};
use operator_runtime_memory::MemoryStore;
use serde_json::json;

mockall::mock! {
    pub Store {}
    #[async_trait]
    impl ObjectStore for Store {
        fn capabilities(&self) -> Capabilities;
        async fn kind_info(&self, type_ref: &TypeRef) -> StoreResult<KindInfo>;
        async fn get(&self, key: &ObjectRef) -> StoreResult<Arc<Object>>;
        async fn list(&self, type_ref: &TypeRef, params: &ListParams) -> StoreResult<ObjectList>;
        async fn create(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>>;
        async fn replace(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>>;
        async fn replace_status(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>>;
        async fn patch(&self, key: &ObjectRef, patch: &Patch, params: &PatchParams) -> StoreResult<Arc<Object>>;
        async fn delete(&self, key: &ObjectRef, params: &DeleteParams) -> StoreResult<DeleteOutcome>;
        async fn watch(&self, type_ref: &TypeRef, params: &WatchParams) -> StoreResult<WatchStream>;
    }
}

const NS: &str = "errs";

fn all_errors() -> Vec<StoreError> {
    vec![
        StoreError::not_found("x"),
        StoreError::already_exists("x"),
        StoreError::conflict("x"),
        StoreError::invalid("spec.x", "bad"),
        StoreError::bad_request("x"),
        StoreError::forbidden("x"),
        StoreError::MethodNotAllowed { message: "x".into() },
        StoreError::expired("x"),
        StoreError::TooLarge { message: "x".into() },
        StoreError::UnsupportedMediaType { message: "x".into() },
        StoreError::TooManyRequests {
            message: "x".into(),
            retry_after: Some(Duration::from_secs(2)),
        },
        StoreError::Unavailable {
            message: "x".into(),
            retry_after: None,
            source: None,
        },
        StoreError::timeout("x"),
        StoreError::Internal { message: "x".into() },
        StoreError::backend("x"),
    ]
}

fn caps(ssa: ApplySupport) -> Capabilities {
    Capabilities {
        name: "mock".into(),
        server_side_apply: ssa,
        garbage_collection: true,
        namespace_deletion: true,
        schema_validation: operator_runtime_core::store::SchemaValidation::None,
        dry_run: true,
        bookmarks: false,
        eventually_consistent_gc: false,
        workload_controllers: false,
    }
}

/// The world the cache sees: a Widget (optionally with our finalizer already, optionally
/// terminating) with one node, and optionally its children and an orphan.
async fn world(with_finalizer: bool, with_children: bool, orphan: bool) -> (MemoryStore, Cache, Arc<Object>) {
    let mem = MemoryStore::new();
    let p = WriteParams::default();
    mem.create(&Object::new(&kinds::namespace(), None, NS), &p)
        .await
        .unwrap();
    mem.create(&kinds::widget_crd(), &p).await.unwrap();
    let mut w = Object::new(&kinds::widget(), Some(NS), "w")
        .with("spec", json!({"nodes": [{"name": "a", "config": {"k": "v"}}]}));
    if with_finalizer {
        w.metadata.finalizers = Some(vec![format!("operator-runtime.io/{MANAGER}")]);
    }
    let parent = mem.create(&w, &p).await.unwrap();
    let owner = parent.controller_owner_ref().unwrap();
    let labels = json!({"app.kubernetes.io/managed-by": MANAGER, "app.kubernetes.io/instance": "w"});
    let mut names = Vec::new();
    if with_children {
        names.push("w-a");
    }
    if orphan {
        names.push("w-gone");
    }
    for name in names {
        let mut cm = Object::new(&config_map(), Some(NS), name).with("data", json!({"k": "v"}));
        cm.metadata.owner_references = Some(vec![owner.clone()]);
        cm.metadata.labels = serde_json::from_value(labels.clone()).ok();
        mem.create(&cm, &p).await.unwrap();
    }
    let cache = Cache::new(mem.clone(), CacheConfig::default());
    (mem, cache, parent)
}

struct Run {
    result: Result<ReconcileReport, ReconcileError>,
    events: MemoryRecorder,
}

async fn run(mock: MockStore, cache: Cache) -> Run {
    let events = MemoryRecorder::new();
    let reconciler = Reconciler::new(
        Arc::new(mock),
        cache.clone(),
        Arc::new(events.clone()),
        Arc::new(ManualClock::at_epoch()),
        Arc::new(WidgetOperator::default()),
        ReconcilerConfig::new(MANAGER),
    );
    reconciler.track().unwrap();
    cache.wait_all_synced().await.unwrap();
    let result = reconciler
        .reconcile(&ObjectRef::namespaced(kinds::widget(), NS, "w"))
        .await;
    Run { result, events }
}

fn echo(o: &Object) -> StoreResult<Arc<Object>> {
    Ok(Arc::new(o.clone()))
}

fn degraded(report: &ReconcileReport) -> bool {
    report.conditions.iter().any(|(t, s, _, _)| t == "Degraded" && *s)
}

/// A `get` answer: the parent for its key (the driver checks that a cached parent still exists
/// before it creates children for it), NotFound for anything else.
fn parent_or_not_found(
    parent: &Arc<Object>,
) -> impl Fn(&ObjectRef) -> Result<Arc<Object>, StoreError> + Send + 'static {
    let parent = Arc::clone(parent);
    move |k| {
        if *k == parent.object_ref() {
            Ok(Arc::clone(&parent))
        } else {
            Err(StoreError::not_found(k.to_string()))
        }
    }
}

fn is_retryable_for_driver(e: &StoreError) -> bool {
    e.is_retryable() || matches!(e, StoreError::Conflict { .. })
}

#[tokio::test]
async fn child_write_errors_are_classified() {
    for ssa in [ApplySupport::Subset, ApplySupport::None] {
        for error in all_errors() {
            let (_mem, cache, parent) = world(true, false, false).await;
            let mut mock = MockStore::new();
            mock.expect_capabilities().return_const(caps(ssa));
            let e1 = error.clone();
            // The first child write fails (apply with SSA; create without); the second succeeds.
            let calls = Arc::new(Mutex::new(0));
            let c1 = Arc::clone(&calls);
            mock.expect_patch().returning(move |_, p, _| {
                let mut n = c1.lock().unwrap();
                *n += 1;
                match p {
                    Patch::Apply(v) if *n == 1 => {
                        let _ = v;
                        Err(e1.clone())
                    }
                    Patch::Apply(v) => echo(&Object::from_value(v.clone()).unwrap()),
                    _ => panic!("unexpected patch"),
                }
            });
            let e2 = error.clone();
            let c2 = Arc::clone(&calls);
            mock.expect_create().returning(move |o, _| {
                let mut n = c2.lock().unwrap();
                *n += 1;
                if *n == 1 { Err(e2.clone()) } else { echo(o) }
            });
            // Conflicts make the non-SSA path re-read.
            mock.expect_get().returning(parent_or_not_found(&parent));
            mock.expect_replace_status().times(1).returning(|o, _| echo(o));
            let run = run(mock, cache).await;
            let warnings: Vec<_> = run
                .events
                .events()
                .into_iter()
                .filter(|e| e.event.reason == "WriteFailed")
                .collect();
            let retried = matches!(error, StoreError::Conflict { .. })
                || (ssa == ApplySupport::None && matches!(error, StoreError::AlreadyExists { .. }));
            if retried {
                // Re-read and retried; the retry succeeded.
                assert!(
                    warnings.is_empty(),
                    "{ssa:?} {error:?}: retried write succeeded, no warning"
                );
                assert!(run.result.is_ok(), "{ssa:?} {error:?}: {:?}", run.result);
                // Two children; the first needed one retry.
                assert_eq!(*calls.lock().unwrap(), 3, "{ssa:?} {error:?}: exactly one retry");
                continue;
            }
            assert_eq!(warnings.len(), 1, "{ssa:?} {error:?}: one WriteFailed event");
            assert!(
                warnings[0].event.note.contains("failed"),
                "note names the failure: {}",
                warnings[0].event.note
            );
            if is_retryable_for_driver(&error) {
                assert!(
                    matches!(run.result, Err(ReconcileError::Retryable(_))),
                    "{ssa:?} {error:?}: retryable -> Err, got {:?}",
                    run.result
                );
            } else {
                let report = run
                    .result
                    .unwrap_or_else(|e| panic!("{ssa:?} {error:?}: permanent -> Ok, got {e}"));
                assert_eq!(
                    report.action,
                    Some(Action::await_change()),
                    "{error:?}: permanent errors wait for a change"
                );
                assert!(degraded(&report), "{error:?}: Degraded condition set");
            }
        }
    }
}

#[tokio::test]
async fn lasting_conflicts_are_retried_a_bounded_number_of_times() {
    for ssa in [ApplySupport::Subset, ApplySupport::None] {
        let (_mem, cache, parent) = world(true, false, false).await;
        let mut mock = MockStore::new();
        mock.expect_capabilities().return_const(caps(ssa));
        let attempts = Arc::new(Mutex::new(0));
        let (a1, a2) = (Arc::clone(&attempts), Arc::clone(&attempts));
        mock.expect_patch().returning(move |_, _, _| {
            *a1.lock().unwrap() += 1;
            Err(StoreError::conflict("x"))
        });
        mock.expect_create().returning(move |_, _| {
            *a2.lock().unwrap() += 1;
            Err(StoreError::conflict("x"))
        });
        mock.expect_get().returning(parent_or_not_found(&parent));
        mock.expect_replace_status().times(1).returning(|o, _| echo(o));
        let run = run(mock, cache).await;
        let retries = ReconcilerConfig::new(MANAGER).conflict_retries;
        // Two children (ConfigMap and Deployment), each tried 1 + retries times.
        assert_eq!(*attempts.lock().unwrap(), 2 * (1 + retries), "{ssa:?}");
        assert!(
            matches!(run.result, Err(ReconcileError::Retryable(StoreError::Conflict { .. }))),
            "{ssa:?}: {:?}",
            run.result
        );
        assert_eq!(run.events.reasons().iter().filter(|r| *r == "WriteFailed").count(), 2);
    }
}

#[tokio::test]
async fn status_write_errors_are_returned_for_backoff() {
    for error in all_errors() {
        let (_mem, cache, parent) = world(true, true, false).await;
        let mut mock = MockStore::new();
        mock.expect_capabilities().return_const(caps(ApplySupport::Subset));
        mock.expect_get().returning(parent_or_not_found(&parent));
        // The child is already there but lacks the hash annotation: one apply.
        mock.expect_patch().returning(|_, p, _| match p {
            Patch::Apply(v) => echo(&Object::from_value(v.clone()).unwrap()),
            _ => panic!("unexpected patch"),
        });
        let e = error.clone();
        mock.expect_replace_status()
            .times(1)
            .returning(move |_, _| Err(e.clone()));
        let run = run(mock, cache).await;
        match error {
            // The parent vanished meanwhile: nothing to retry.
            StoreError::NotFound { .. } => assert!(run.result.is_ok(), "NotFound on status -> Ok"),
            _ if ErrorPolicy::default_for(&error) == ErrorPolicy::Retry => assert!(
                matches!(&run.result, Err(ReconcileError::Retryable(got)) if *got == error),
                "{error:?}: retryable status write errors go back to the runner, got {:?}",
                run.result
            ),
            // Permanent: one Warning event, and the reconcile waits for a change.
            _ => {
                assert!(run.result.is_ok(), "{error:?}: permanent -> Ok, got {:?}", run.result);
                assert_eq!(
                    run.events.reasons().iter().filter(|r| *r == "WriteFailed").count(),
                    1,
                    "{error:?}: one WriteFailed event"
                );
            }
        }
    }
}

#[tokio::test]
async fn finalizer_errors_stop_before_any_child_write() {
    for error in all_errors() {
        let (_mem, cache, _) = world(false, false, false).await;
        let mut mock = MockStore::new();
        mock.expect_capabilities().return_const(caps(ApplySupport::Subset));
        let e = error.clone();
        mock.expect_replace().times(1).returning(move |_, _| Err(e.clone()));
        mock.expect_patch().never();
        mock.expect_create().never();
        mock.expect_replace_status().never();
        let run = run(mock, cache).await;
        if ErrorPolicy::default_for(&error) == ErrorPolicy::Retry {
            assert!(
                matches!(&run.result, Err(ReconcileError::Retryable(got)) if *got == error),
                "{error:?}: finalizer write error -> Err, got {:?}",
                run.result
            );
        } else {
            let report = run
                .result
                .unwrap_or_else(|e| panic!("{error:?}: permanent finalizer error -> Ok, got {e}"));
            assert_eq!(report.action, Some(Action::await_change()), "{error:?}");
            assert!(run.events.reasons().contains(&"WriteFailed".to_owned()), "{error:?}");
        }
    }
}

#[tokio::test]
async fn orphan_delete_errors_are_classified() {
    for error in all_errors() {
        let (_mem, cache, parent) = world(true, true, true).await;
        let mut mock = MockStore::new();
        mock.expect_capabilities().return_const(caps(ApplySupport::Subset));
        mock.expect_get().returning(parent_or_not_found(&parent));
        mock.expect_patch().returning(|_, p, _| match p {
            Patch::Apply(v) => echo(&Object::from_value(v.clone()).unwrap()),
            _ => panic!("unexpected patch"),
        });
        let e = error.clone();
        mock.expect_delete().times(1).returning(move |_, _| Err(e.clone()));
        mock.expect_replace_status().times(1).returning(|o, _| echo(o));
        let run = run(mock, cache).await;
        match &error {
            // Already gone: success. A Conflict re-reads the child, which this store reports
            // gone: success too.
            StoreError::NotFound { .. } | StoreError::Conflict { .. } => assert!(run.result.is_ok(), "{error:?}"),
            e if is_retryable_for_driver(e) => {
                assert!(matches!(run.result, Err(ReconcileError::Retryable(_))), "{error:?}")
            }
            _ => {
                let report = run
                    .result
                    .unwrap_or_else(|e| panic!("{error:?}: permanent -> Ok, got {e}"));
                assert!(degraded(&report), "{error:?}: Degraded");
                assert!(run.events.reasons().contains(&"WriteFailed".to_owned()));
            }
        }
    }
}

#[tokio::test]
async fn cleanup_errors_keep_the_finalizer() {
    for error in all_errors() {
        let (mem, cache, parent) = world(true, true, false).await;
        mem.delete(&parent.object_ref(), &DeleteParams::default())
            .await
            .unwrap();
        let mut mock = MockStore::new();
        mock.expect_capabilities().return_const(caps(ApplySupport::Subset));
        let e = error.clone();
        mock.expect_delete().times(1).returning(move |_, _| Err(e.clone()));
        // Only a child already gone counts as deleted. A Conflict (the child changed since the
        // cache saw it: orphaned by the garbage collector, or recreated) is retried after a
        // re-read, never skipped.
        let finalizer_removals = usize::from(matches!(error, StoreError::NotFound { .. }));
        mock.expect_replace()
            .times(finalizer_removals)
            .returning(|o, _| echo(o));
        let run = run(mock, cache).await;
        if finalizer_removals == 1 {
            assert!(run.result.is_ok(), "{error:?}: child already gone -> finalizer removed");
        } else if ErrorPolicy::default_for(&error) == ErrorPolicy::Retry {
            assert!(
                run.result.is_err(),
                "{error:?}: the finalizer stays until cleanup succeeded, retried with backoff"
            );
        } else {
            // Permanent: the finalizer stays (no replace), reported, waiting for a change.
            assert!(run.result.is_ok(), "{error:?}: permanent -> Ok, got {:?}", run.result);
            assert!(run.events.reasons().contains(&"WriteFailed".to_owned()), "{error:?}");
        }
    }
}

/// `kubectl delete --cascade=orphan`: the parent carries the `orphan` finalizer and its
/// children still name it (the garbage collector has not run yet): the driver removes its own
/// finalizer and deletes no child.
#[tokio::test]
async fn orphan_propagation_removes_the_finalizer_without_deleting_children() {
    let (mem, cache, parent) = world(true, true, false).await;
    mem.set_garbage_collection(false);
    let params = DeleteParams {
        propagation: Some(Propagation::Orphan),
        ..DeleteParams::default()
    };
    mem.delete(&parent.object_ref(), &params).await.unwrap();
    let terminating = mem.get(&parent.object_ref()).await.unwrap();
    assert!(
        terminating.has_finalizer("orphan"),
        "{:?}",
        terminating.metadata.finalizers
    );
    let mut mock = MockStore::new();
    mock.expect_capabilities().return_const(caps(ApplySupport::Subset));
    mock.expect_delete().never();
    let kept = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&kept);
    mock.expect_replace().times(1).returning(move |o, _| {
        seen.lock()
            .unwrap()
            .extend(o.metadata.finalizers.clone().unwrap_or_default());
        echo(o)
    });
    let run = run(mock, cache).await;
    assert!(run.result.is_ok(), "{:?}", run.result);
    assert_eq!(*kept.lock().unwrap(), ["orphan"], "only our finalizer is removed");
    assert_eq!(run.events.reasons(), ["CleanedUp"]);
}
