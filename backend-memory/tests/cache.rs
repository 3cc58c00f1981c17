//! operator-runtime-core's internal cache over the in-memory API server: it converges to the
//! store, relists after an injected 410, sends no read once synced, and keeps its owner index
//! right across owner changes, deletes and garbage collection.
//!
//! (These tests live here rather than in core so that core has no dev-dependency cycle.)

use std::sync::Arc;
use std::time::Duration;

use operator_runtime_core::cache::{Cache, CacheConfig, CacheEvent, ChangeKind, TrackSpec};
use operator_runtime_core::counting::{CountingStore, Verb};
use operator_runtime_core::store::{DeleteParams, ListParams, WriteParams};
use operator_runtime_core::{Object, ObjectRef, ObjectStore, ObjectStoreExt, TypeRef};
use operator_runtime_memory::MemoryStore;
use operator_runtime_memory::faults::{FaultRates, FaultyStore};
use tokio::sync::broadcast;

fn cm_type() -> TypeRef {
    TypeRef::new("v1", "ConfigMap")
}

fn secret_type() -> TypeRef {
    TypeRef::new("v1", "Secret")
}

fn cm(name: &str, value: &str) -> Object {
    Object::new(&cm_type(), Some("default"), name).with("data", serde_json::json!({ "v": value }))
}

fn key(name: &str) -> ObjectRef {
    ObjectRef::namespaced(cm_type(), "default", name)
}

/// Lets the cache's tasks run until idle (current-thread runtime, paused time).
async fn settle() {
    for _ in 0..200 {
        tokio::task::yield_now().await;
    }
}

async fn create(store: &impl ObjectStore, o: Object) -> Arc<Object> {
    store.create(&o, &WriteParams::default()).await.unwrap()
}

async fn update(store: &impl ObjectStore, name: &str, value: &str) -> Arc<Object> {
    let mut live = (*store.get(&key(name)).await.unwrap()).clone();
    live.body.insert("data".into(), serde_json::json!({ "v": value }));
    store.replace(&live, &WriteParams::default()).await.unwrap()
}

async fn delete(store: &impl ObjectStore, name: &str) {
    store.delete(&key(name), &DeleteParams::default()).await.unwrap();
}

/// The cache holds exactly the store's objects, at the store's resourceVersions.
async fn assert_mirrors(cache: &Cache, store: &impl ObjectStore, type_ref: &TypeRef) {
    let live = store.list_all(type_ref, &ListParams::default()).await.unwrap();
    let summary = |items: &[Arc<Object>]| -> Vec<(String, Option<String>)> {
        items
            .iter()
            .map(|o| (o.name().to_owned(), o.resource_version().map(str::to_owned)))
            .collect()
    };
    assert_eq!(
        summary(&cache.list(type_ref, None, None).unwrap()),
        summary(&live.items)
    );
}

fn drain(rx: &mut broadcast::Receiver<CacheEvent>) -> Vec<(ChangeKind, String)> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        out.push((e.kind, e.object.name().to_owned()));
    }
    out
}

#[tokio::test(start_paused = true)]
async fn list_and_watch_converge_to_the_memory_store() {
    let store = MemoryStore::new();
    for i in 0..7 {
        create(&store, cm(&format!("cm-{i}"), "0")).await;
    }
    let config = CacheConfig {
        page_size: Some(3),
        ..CacheConfig::default()
    };
    let cache = Cache::new(store.clone(), config);
    cache.track(TrackSpec::new(cm_type())).unwrap();
    cache.track(TrackSpec::new(secret_type())).unwrap();
    cache.wait_all_synced().await.unwrap();
    assert_mirrors(&cache, &store, &cm_type()).await;
    assert_mirrors(&cache, &store, &secret_type()).await;

    let mut rx = cache.subscribe();
    update(&store, "cm-1", "1").await;
    delete(&store, "cm-2").await;
    create(&store, cm("cm-new", "0")).await;
    create(&store, Object::new(&secret_type(), Some("default"), "s")).await;
    settle().await;
    assert_mirrors(&cache, &store, &cm_type()).await;
    assert_mirrors(&cache, &store, &secret_type()).await;
    let mut events = drain(&mut rx);
    events.sort();
    assert_eq!(
        events,
        [
            (ChangeKind::Added, "cm-new".into()),
            (ChangeKind::Added, "s".into()),
            (ChangeKind::Modified, "cm-1".into()),
            (ChangeKind::Deleted, "cm-2".into()),
        ]
    );
    assert_eq!(cache.get(&key("cm-1")).unwrap().body["data"]["v"], "1");
    // The memory store hands out its own Arcs: the cache shares them instead of copying.
    let stored = store.get(&key("cm-1")).await.unwrap();
    assert!(Arc::ptr_eq(&stored, &cache.get(&key("cm-1")).unwrap()));
}

#[tokio::test(start_paused = true)]
async fn an_injected_410_relists_and_repairs_lost_events() {
    let memory = MemoryStore::new();
    for name in ["keep", "edit", "gone"] {
        create(&memory, cm(name, "0")).await;
    }
    let faulty = FaultyStore::new(memory.clone(), 7);
    let faults = faulty.handle();
    let cache = Cache::new(faulty, CacheConfig::default());
    cache.track(TrackSpec::new(cm_type())).unwrap();
    cache.wait_synced(&cm_type()).await.unwrap();
    settle().await;
    let mut rx = cache.subscribe();

    // Three changes whose events are lost: the cache is now stale.
    faults.drop_next_watch_events(3);
    update(&memory, "edit", "1").await;
    delete(&memory, "gone").await;
    create(&memory, cm("new", "0")).await;
    settle().await;
    assert!(cache.get(&key("gone")).is_some(), "the lost delete is not seen yet");
    assert!(cache.get(&key("new")).is_none());

    // The next event is replaced by a 410: the cache relists and is right again.
    faults.expire_next_watches(1);
    create(&memory, cm("after", "0")).await;
    settle().await;
    assert_mirrors(&cache, &memory, &cm_type()).await;
    assert_eq!(cache.status(&cm_type()).unwrap().relists, 1);
    let mut events = drain(&mut rx);
    events.sort();
    assert_eq!(
        events,
        [
            (ChangeKind::Added, "after".into()),
            (ChangeKind::Added, "new".into()),
            (ChangeKind::Modified, "edit".into()),
            (ChangeKind::Deleted, "gone".into()),
        ]
    );
    assert_eq!(faults.injected(), 4);

    // And it keeps following the store afterwards.
    update(&memory, "keep", "2").await;
    settle().await;
    assert_mirrors(&cache, &memory, &cm_type()).await;
}

#[tokio::test(start_paused = true)]
async fn seeded_random_faults_never_leave_the_cache_wrong_after_a_relist() {
    for seed in 0..8u64 {
        let memory = MemoryStore::builder().seed(seed).build();
        let faulty = FaultyStore::with_rates(
            memory.clone(),
            seed,
            FaultRates {
                error: 0.2,
                watch_drop: 0.1,
                watch_duplicate: 0.1,
                watch_delay: 0.1,
                watch_expire: 0.05,
                ..FaultRates::default()
            },
        );
        let faults = faulty.handle();
        let cache = Cache::new(faulty, CacheConfig::default());
        cache.track(TrackSpec::new(cm_type())).unwrap();
        for step in 0..60u64 {
            let name = format!("cm-{}", (step * 7 + seed) % 9);
            match memory.get_opt(&key(&name)).await.unwrap() {
                None => drop(create(&memory, cm(&name, "0")).await),
                Some(_) if step % 3 == 0 => delete(&memory, &name).await,
                Some(_) => drop(update(&memory, &name, &step.to_string()).await),
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        // Faults off; one forced 410 makes the cache relist what lost events hid from it.
        faults.clear();
        tokio::time::sleep(Duration::from_secs(60)).await;
        faults.expire_next_watches(1);
        create(&memory, cm("final", "0")).await;
        tokio::time::sleep(Duration::from_secs(60)).await;
        settle().await;
        assert!(faults.injected() > 0, "seed {seed}: faults were injected");
        assert_mirrors(&cache, &memory, &cm_type()).await;
    }
}

#[tokio::test(start_paused = true)]
async fn no_read_reaches_the_backend_once_synced() {
    let memory = MemoryStore::new();
    let parent = create(&memory, cm("parent", "0")).await;
    for i in 0..12 {
        let mut child = cm(&format!("child-{i}"), "0");
        child.metadata.owner_references = Some(vec![parent.controller_owner_ref().unwrap()]);
        create(&memory, child).await;
    }
    let counting = Arc::new(CountingStore::new(memory.clone()));
    let cache = Cache::new(counting.clone(), CacheConfig::default());
    cache.track(TrackSpec::new(cm_type())).unwrap();
    cache.track(TrackSpec::new(secret_type())).unwrap();
    cache.wait_all_synced().await.unwrap();
    settle().await;
    let synced = counting.snapshot();
    assert_eq!(synced.reads(), 2, "one list per kind");
    assert_eq!(synced.verb(Verb::Watch), 2, "one watch per kind");
    assert_eq!(synced.writes(), 0);

    let uid = parent.uid().unwrap();
    for round in 0..50 {
        assert_eq!(cache.owned_by(uid).len(), 12);
        assert!(cache.get(&key("parent")).is_some());
        assert_eq!(cache.list(&cm_type(), Some("default"), None).unwrap().len(), 13);
        assert!(cache.list(&secret_type(), Some("default"), None).unwrap().is_empty());
        if round % 10 == 0 {
            // Writes by someone else arrive through the open watch, not through new requests.
            update(&memory, "child-3", &round.to_string()).await;
            settle().await;
        }
    }
    tokio::time::sleep(Duration::from_secs(600)).await;
    let since = counting.snapshot().since(&synced);
    assert_eq!(since.total(), 0, "requests after sync:\n{since}");
    assert_eq!(cache.get(&key("child-3")).unwrap().body["data"]["v"], "40");
}

#[tokio::test(start_paused = true)]
async fn the_owner_index_follows_owner_changes_deletes_and_garbage_collection() {
    let store = MemoryStore::new();
    let a = create(&store, cm("parent-a", "0")).await;
    let b = create(&store, cm("parent-b", "0")).await;
    let (ua, ub) = (a.uid().unwrap().to_owned(), b.uid().unwrap().to_owned());
    for (name, owner) in [("x", &a), ("y", &a), ("z", &b)] {
        let mut child = cm(name, "0");
        child.metadata.owner_references = Some(vec![owner.controller_owner_ref().unwrap()]);
        create(&store, child).await;
    }
    let cache = Cache::new(store.clone(), CacheConfig::default());
    cache.track(TrackSpec::new(cm_type())).unwrap();
    cache.wait_synced(&cm_type()).await.unwrap();
    let names = |uid: &str| -> Vec<String> { cache.owned_by(uid).iter().map(|o| o.name().to_owned()).collect() };
    assert_eq!(names(&ua), ["x", "y"]);
    assert_eq!(names(&ub), ["z"]);

    // x moves from a to b.
    let mut x = (*store.get(&key("x")).await.unwrap()).clone();
    x.metadata.owner_references = Some(vec![b.controller_owner_ref().unwrap()]);
    store.replace(&x, &WriteParams::default()).await.unwrap();
    settle().await;
    assert_eq!(names(&ua), ["y"]);
    assert_eq!(names(&ub), ["x", "z"]);

    // y loses its controller reference (not owned by anyone any more).
    let mut y = (*store.get(&key("y")).await.unwrap()).clone();
    y.metadata.owner_references = None;
    store.replace(&y, &WriteParams::default()).await.unwrap();
    settle().await;
    assert!(names(&ua).is_empty());

    // z is deleted directly.
    delete(&store, "z").await;
    settle().await;
    assert_eq!(names(&ub), ["x"]);

    // Deleting parent b lets the garbage collector delete x.
    delete(&store, "parent-b").await;
    store.run_controllers();
    settle().await;
    assert!(store.get_opt(&key("x")).await.unwrap().is_none(), "the GC collected x");
    assert!(names(&ub).is_empty());
    assert_mirrors(&cache, &store, &cm_type()).await;
}
