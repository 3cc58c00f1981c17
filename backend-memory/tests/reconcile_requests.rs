//! What a converge and a spec change cost in requests, on the benchmark's workload (parents
//! with 12 children): the events of one reconcile's child writes fold into one per parent and
//! reason, so they add at most a tenth to the converge's requests; and the parent's status
//! write never conflicts on the resourceVersion the reconcile read, even when the parent is
//! edited while it runs. And what the driver remembers as verified: the children its own
//! applies wrote, so the next reconcile does not walk them.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use operator_runtime_conformance::bench::{BenchWorld, ClusterOperator, MANAGER};
use operator_runtime_core::clock::ManualClock;
use operator_runtime_core::counting::CountingStore;
use operator_runtime_core::events::StoreEventRecorder;
use operator_runtime_core::reconcile::{Reconciler, ReconcilerConfig};
use operator_runtime_core::store::{
    Capabilities, DeleteOutcome, DeleteParams, KindInfo, ListParams, Patch, PatchParams, StoreResult, WatchParams,
    WatchStream, WriteParams,
};
use operator_runtime_core::{Object, ObjectList, ObjectRef, ObjectStore, ObjectStoreExt, StoreError, TypeRef};
use operator_runtime_memory::MemoryStore;
use serde_json::json;

const PARENTS: usize = 12;

fn reconciler(
    world: &BenchWorld,
    store: Arc<dyn ObjectStore>,
    events: Arc<dyn ObjectStore>,
) -> Reconciler<ClusterOperator> {
    let clock = Arc::new(ManualClock::at_epoch());
    let recorder = StoreEventRecorder::new(events, clock.clone(), "bench-operator", "test-0");
    Reconciler::new(
        store,
        world.cache.clone(),
        Arc::new(recorder),
        clock,
        Arc::new(ClusterOperator::new(MANAGER)),
        ReconcilerConfig::new(MANAGER),
    )
}

/// Reconciles every parent in rounds until a round writes nothing, playing the workload
/// controller in between; returns the reconcile errors seen.
async fn converge(world: &BenchWorld, reconciler: &Reconciler<ClusterOperator>) -> Vec<String> {
    let mut errors = Vec::new();
    for _ in 0..10 {
        let mut writes = 0;
        for i in 0..PARENTS {
            match reconciler.reconcile(&world.parent_key(i)).await {
                Ok(r) => {
                    writes += r.child_writes + usize::from(r.status_written) + usize::from(r.finalizer_written);
                }
                Err(e) => errors.push(e.to_string()),
            }
        }
        world.mark_workloads_ready().await.expect("workloads ready");
        world.settle().await.expect("cache settles");
        if writes == 0 {
            return errors;
        }
    }
    errors.push("no convergence in 10 rounds".into());
    errors
}

#[tokio::test]
async fn events_add_at_most_a_tenth_to_the_converge_requests() {
    let store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
    let world = BenchWorld::bench(Arc::clone(&store), "events-count")
        .await
        .expect("world");
    let event_requests = Arc::new(CountingStore::new(Arc::clone(&store)));
    let reconciler = reconciler(&world, world.counted.clone(), event_requests.clone());
    world.create_parents(PARENTS).await.expect("parents");
    world.settle().await.expect("settle");

    let before = world.counted.snapshot();
    let errors = converge(&world, &reconciler).await;
    assert!(errors.is_empty(), "reconcile errors: {errors:?}");
    let converge_requests = world.counted.snapshot().since(&before).total();
    let event_writes = event_requests.snapshot().total();
    // 12 children, a finalizer and status writes per parent: 15 requests each at least.
    assert!(converge_requests >= 15 * PARENTS as u64, "{converge_requests}");
    assert!(event_writes > 0, "no event was written");
    assert!(
        event_writes * 10 <= converge_requests,
        "events cost {event_writes} requests for a converge of {converge_requests}"
    );

    // The folded events name the children they are about.
    let events = store
        .list_all(
            &TypeRef::new("events.k8s.io/v1", "Event"),
            &ListParams::in_namespace(&world.ns),
        )
        .await
        .expect("events");
    let created: Vec<String> = events
        .items
        .iter()
        .filter(|e| e.body["reason"] == "Created")
        .map(|e| e.body["note"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(!created.is_empty(), "no Created event");
    for note in &created {
        assert!(note.contains(" children: "), "not folded: {note}");
        assert!(note.contains("StatefulSet dc-"), "children not named: {note}");
    }
}

#[tokio::test]
async fn a_converge_reads_nothing_and_creates_each_child_with_one_apply() {
    use operator_runtime_core::counting::Verb;
    let store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
    let world = BenchWorld::bench(Arc::clone(&store), "create-reads")
        .await
        .expect("world");
    let reconciler = reconciler(&world, world.counted.clone(), Arc::clone(&store));
    world.create_parents(PARENTS).await.expect("parents");
    world.settle().await.expect("settle");

    let before = world.counted.snapshot();
    let errors = converge(&world, &reconciler).await;
    assert!(errors.is_empty(), "reconcile errors: {errors:?}");
    let spent = world.counted.snapshot().since(&before);
    // The reconcile that creates the children has just written the parent's finalizer with its
    // resourceVersion (so the parent is live), and each child goes out as an apply that can
    // only create: nothing is read first.
    assert_eq!(spent.verb(Verb::Get), 0, "{spent:?}");
    assert_eq!(spent.verb(Verb::Patch), 12 * PARENTS as u64, "{spent:?}");
}

/// A store that edits a parent's spec (through `raw`) the first time the runtime writes one of
/// that parent's children, and waits until the cache saw the edit: a user's change arriving
/// while a reconcile runs. It counts the status writes answered with a Conflict.
struct EditDuringReconcile {
    inner: Arc<dyn ObjectStore>,
    raw: Arc<dyn ObjectStore>,
    cache: operator_runtime_core::cache::Cache,
    armed: Mutex<HashSet<ObjectRef>>,
    status_conflicts: AtomicU64,
}

impl EditDuringReconcile {
    async fn maybe_edit(&self, child: &ObjectRef) {
        let parent = {
            let mut armed = self.armed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let hit = armed
                .iter()
                .find(|p| child.name.starts_with(&format!("{}-", p.name)))
                .cloned();
            hit.inspect(|p| {
                armed.remove(p);
            })
        };
        let Some(parent) = parent else { return };
        let current = self.raw.get(&parent).await.expect("parent");
        let mut edited = (*current).clone();
        edited.body["spec"]["nodeReplicas"]["server"] = json!(7);
        let written = self.raw.replace(&edited, &WriteParams::default()).await.expect("edit");
        let rv = written.resource_version().map(str::to_owned);
        for _ in 0..10_000 {
            if self
                .cache
                .get(&parent)
                .and_then(|p| p.resource_version().map(str::to_owned))
                == rv
            {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("the cache never saw the edit of {parent}");
    }
}

#[async_trait]
impl ObjectStore for EditDuringReconcile {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn kind_info(&self, type_ref: &TypeRef) -> StoreResult<KindInfo> {
        self.inner.kind_info(type_ref).await
    }
    async fn get(&self, key: &ObjectRef) -> StoreResult<Arc<Object>> {
        self.inner.get(key).await
    }
    async fn list(&self, type_ref: &TypeRef, params: &ListParams) -> StoreResult<ObjectList> {
        self.inner.list(type_ref, params).await
    }
    async fn create(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        self.maybe_edit(&object.object_ref()).await;
        self.inner.create(object, params).await
    }
    async fn replace(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        self.inner.replace(object, params).await
    }
    async fn replace_status(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        let result = self.inner.replace_status(object, params).await;
        if matches!(result, Err(StoreError::Conflict { .. })) {
            self.status_conflicts.fetch_add(1, Ordering::Relaxed);
        }
        result
    }
    async fn patch(&self, key: &ObjectRef, patch: &Patch, params: &PatchParams) -> StoreResult<Arc<Object>> {
        self.maybe_edit(key).await;
        self.inner.patch(key, patch, params).await
    }
    async fn delete(&self, key: &ObjectRef, params: &DeleteParams) -> StoreResult<DeleteOutcome> {
        self.inner.delete(key, params).await
    }
    async fn watch(&self, type_ref: &TypeRef, params: &WatchParams) -> StoreResult<WatchStream> {
        self.inner.watch(type_ref, params).await
    }
}

#[tokio::test]
async fn a_spec_change_during_a_reconcile_causes_no_status_conflict() {
    let store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
    let world = BenchWorld::bench(Arc::clone(&store), "status-conflicts")
        .await
        .expect("world");
    let editing = Arc::new(EditDuringReconcile {
        inner: world.counted.clone(),
        raw: Arc::clone(&store),
        cache: world.cache.clone(),
        armed: Mutex::default(),
        status_conflicts: AtomicU64::new(0),
    });
    let reconciler = reconciler(&world, editing.clone(), Arc::clone(&store));
    world.create_parents(PARENTS).await.expect("parents");
    world.settle().await.expect("settle");
    let errors = converge(&world, &reconciler).await;
    assert!(errors.is_empty(), "reconcile errors: {errors:?}");

    // A spec change per parent; while each parent's reconcile writes its changed child,
    // the parent is edited again.
    world.change_every_spec(PARENTS).await.expect("spec change");
    world.settle().await.expect("settle");
    editing
        .armed
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .extend((0..PARENTS).map(|i| world.parent_key(i)));
    let errors = converge(&world, &reconciler).await;
    assert!(errors.is_empty(), "reconcile errors: {errors:?}");
    assert!(
        editing
            .armed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_empty(),
        "some parent was not edited during its reconcile"
    );
    assert_eq!(editing.status_conflicts.load(Ordering::Relaxed), 0, "status conflicts");

    // Every parent ends with the status of its latest spec.
    for i in 0..PARENTS {
        let parent = world.get(&world.parent_key(i)).await.expect("get").expect("parent");
        assert_eq!(parent.body["spec"]["nodeReplicas"]["server"], json!(7));
        assert_eq!(
            parent.status().and_then(|s| s.get("observedGeneration")),
            Some(&json!(parent.metadata.generation.unwrap_or(0))),
            "{}: {:?}",
            parent.name(),
            parent.status()
        );
    }
}

/// For each desired child: what `remembered` holds for the stored child's version, and the
/// stored child's entry fingerprint.
async fn remembered_as(
    store: &Arc<dyn ObjectStore>,
    remembered: &operator_runtime_core::plan::Verified,
    desired: &[Arc<Object>],
) -> Vec<(ObjectRef, Option<Option<u128>>, Option<u128>)> {
    use operator_runtime_core::plan::Verified;
    let mut found = Vec::new();
    for child in desired {
        let live = store.get(&child.object_ref()).await.expect("child");
        let version = Verified::fingerprint(child, &live, MANAGER).expect("pinned");
        found.push((
            child.object_ref(),
            remembered.entry_of(version),
            Verified::entry_fingerprint(child, &live, MANAGER),
        ));
    }
    found
}

/// A child the reconcile's own apply wrote is remembered at the version the write returned, so
/// the next reconcile does not walk it; a status update by the workload controller (a new
/// version, the same `Apply` entry) is then recognised by the entry.
#[tokio::test]
async fn written_children_are_remembered_at_the_versions_their_applies_returned() {
    let store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
    let world = BenchWorld::bench(Arc::clone(&store), "verified-writes")
        .await
        .expect("world");
    let reconciler = reconciler(&world, world.counted.clone(), Arc::clone(&store));
    let parents = world.create_parents(1).await.expect("parents");
    world.settle().await.expect("settle");
    let key = world.parent_key(0);
    let report = reconciler.reconcile(&key).await.expect("reconcile");
    assert_eq!(report.child_writes, 12);

    // The parent as the operator saw it (with its finalizer) gives the desired children.
    let parent = store.get(&key).await.expect("parent");
    let desired = world.desired_children(&[parent]).expect("desired");
    assert_eq!(desired.len(), 12);
    let remembered = reconciler.verified(&key).expect("a set for the parent");
    for (child, entry, expected) in remembered_as(&store, &remembered, &desired).await {
        assert!(expected.is_some(), "{child}: the memory store keeps the entry as text");
        assert_eq!(entry, Some(expected), "{child} is not remembered as written");
    }
    drop(parents);

    // The workload controller writes the StatefulSets' status: new versions, same entries.
    world.mark_workloads_ready().await.expect("workloads ready");
    world.settle().await.expect("settle");
    let report = reconciler.reconcile(&key).await.expect("reconcile");
    assert_eq!(report.child_writes, 0);
    let remembered = reconciler.verified(&key).expect("a set for the parent");
    for (child, entry, expected) in remembered_as(&store, &remembered, &desired).await {
        assert_eq!(entry, Some(expected), "{child} at its new version");
    }
}
