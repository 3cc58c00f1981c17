//! CountingStore counts per verb and kind; a synced cache serves reads without any request.

mod cache_support;

use std::sync::Arc;
use std::time::Duration;

use cache_support::{ScriptedStore, advance, cm, cm_type, owned, settle};
use operator_runtime_core::cache::{Cache, CacheConfig, TrackSpec};
use operator_runtime_core::counting::{CountingStore, RequestCounts, Verb};
use operator_runtime_core::store::{DeleteParams, ListParams, Patch, PatchParams, WatchParams, WriteParams};
use operator_runtime_core::{ObjectRef, ObjectStore, TypeRef};

#[tokio::test]
async fn counts_every_verb_per_kind_including_failures() {
    let store = CountingStore::new(ScriptedStore::new());
    let secret = TypeRef::new("v1", "Secret");
    let a = ObjectRef::namespaced(cm_type(), "ns", "a");
    let _ = store.get(&a).await; // NotFound still counts: the request was sent.
    let _ = store.list(&cm_type(), &ListParams::default()).await;
    let _ = store.list(&secret, &ListParams::default()).await;
    let _ = store.watch(&cm_type(), &WatchParams::default()).await;
    let _ = store.kind_info(&cm_type()).await;
    let _ = store.create(&cm("ns", "a"), &WriteParams::default()).await;
    let _ = store.replace(&cm("ns", "a"), &WriteParams::default()).await;
    let _ = store.replace_status(&cm("ns", "a"), &WriteParams::default()).await;
    let merge = Patch::Merge(serde_json::json!({}));
    let _ = store.patch(&a, &merge, &PatchParams::default()).await;
    let _ = store.delete(&a, &DeleteParams::default()).await;

    let counts = store.snapshot();
    assert_eq!(counts.total(), 10);
    assert_eq!(counts.writes(), 5);
    assert_eq!(counts.reads(), 3);
    assert_eq!(counts.verb(Verb::List), 2);
    assert_eq!(counts.get(Verb::List, &secret), 1);
    assert_eq!(counts.kind(&cm_type()), 9);
    for verb in Verb::ALL {
        assert!(counts.verb(verb) >= 1, "{verb} counted");
    }
    assert!(counts.to_string().ends_with("total 10 (writes 5)"));

    let taken = store.take();
    assert_eq!(taken, counts);
    assert_eq!(store.snapshot(), RequestCounts::default());
    let _ = store.get(&a).await;
    assert_eq!(store.snapshot().since(&RequestCounts::default()).total(), 1);
    store.reset();
    assert_eq!(store.snapshot().total(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_synced_cache_answers_reads_without_backend_requests() {
    let scripted = ScriptedStore::new();
    for i in 0..5 {
        scripted.put(owned(cm("ns", &format!("c{i}")), "parent"));
    }
    let store = Arc::new(CountingStore::new(scripted.clone()));
    let cache = Cache::new(store.clone(), CacheConfig::default());
    cache.track(TrackSpec::new(cm_type())).unwrap();
    cache.wait_synced(&cm_type()).await.unwrap();
    settle().await;
    let after_sync = store.snapshot();
    assert_eq!(after_sync.verb(Verb::List), 1);
    assert_eq!(after_sync.verb(Verb::Watch), 1);

    // A reconcile's worth of reads, many times over, plus watch traffic.
    for round in 0..100 {
        assert_eq!(cache.owned_by("parent").len(), 5);
        assert_eq!(cache.list(&cm_type(), Some("ns"), None).unwrap().len(), 5);
        assert!(cache.get(&ObjectRef::namespaced(cm_type(), "ns", "c3")).is_some());
        if round % 10 == 0 {
            scripted.put(owned(cm("ns", "c0"), "parent"));
            scripted.bookmark();
        }
    }
    advance(Duration::from_secs(3600)).await;
    let since = store.snapshot().since(&after_sync);
    assert_eq!(since.total(), 0, "requests after sync:\n{since}");
}
