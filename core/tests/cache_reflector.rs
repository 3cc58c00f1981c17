//! The cache's watch loop against a scripted store: convergence, resume, relist after 410,
//! backoff, scope, owner index and shutdown. All on virtual time.

mod cache_support;

use std::sync::Arc;
use std::time::Duration;

use cache_support::{ScriptedStore, advance, cm, cm_type, owned, settle, with_labels};
use operator_runtime_core::backoff::BackoffConfig;
use operator_runtime_core::cache::{Cache, CacheConfig, CacheError, CacheEvent, ChangeKind, TrackSpec};
use operator_runtime_core::selector::Selector;
use operator_runtime_core::{ObjectRef, StoreError};
use tokio::sync::broadcast;
use tokio::time::Instant;

fn key(ns: &str, name: &str) -> ObjectRef {
    ObjectRef::namespaced(cm_type(), ns, name)
}

fn config() -> CacheConfig {
    CacheConfig {
        backoff: BackoffConfig::new(Duration::from_secs(1), Duration::from_secs(8), 0.0).unwrap(),
        page_size: Some(2),
        event_capacity: 64,
        ..CacheConfig::default()
    }
}

fn drain(rx: &mut broadcast::Receiver<CacheEvent>) -> Vec<(ChangeKind, String)> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        out.push((e.kind, e.object.name().to_owned()));
    }
    out
}

fn names(objects: &[Arc<operator_runtime_core::Object>]) -> Vec<&str> {
    objects.iter().map(|o| o.name()).collect()
}

#[tokio::test(start_paused = true)]
async fn lists_then_watches_and_converges_to_the_store() {
    let store = ScriptedStore::new();
    for name in ["a", "b", "c"] {
        store.put(cm("ns", name));
    }
    let cache = Cache::new(store.clone(), config());
    let mut rx = cache.subscribe();
    assert!(!cache.has_synced(&cm_type()));
    assert_eq!(
        cache.list(&cm_type(), None, None),
        Err(CacheError::NotTracked { type_ref: cm_type() })
    );
    cache.track(TrackSpec::new(cm_type())).unwrap();
    assert_eq!(
        cache.list(&cm_type(), None, None),
        Err(CacheError::NotSynced { type_ref: cm_type() })
    );
    cache.wait_synced(&cm_type()).await.unwrap();
    assert!(cache.has_synced(&cm_type()) && cache.all_synced());
    // Three objects in pages of two: two list requests, then one watch from the list's RV.
    assert_eq!(store.list_calls().len(), 2);
    settle().await;
    let watches = store.watch_calls();
    assert_eq!(watches.len(), 1);
    assert_eq!(watches[0].resource_version.as_deref(), Some("3"));
    assert_eq!(
        drain(&mut rx),
        [
            (ChangeKind::Added, "a".into()),
            (ChangeKind::Added, "b".into()),
            (ChangeKind::Added, "c".into())
        ]
    );

    let mut changed = cm("ns", "a");
    changed.body.insert("data".into(), serde_json::json!({"k": "v"}));
    store.put(changed);
    store.put(cm("ns", "d"));
    store.delete_object(&key("ns", "b"), false);
    settle().await;
    assert_eq!(
        drain(&mut rx),
        [
            (ChangeKind::Modified, "a".into()),
            (ChangeKind::Added, "d".into()),
            (ChangeKind::Deleted, "b".into())
        ]
    );
    assert_eq!(cache.get(&key("ns", "a")).unwrap().body["data"]["k"], "v");
    assert!(cache.get(&key("ns", "b")).is_none());
    assert_eq!(
        names(&cache.list(&cm_type(), Some("ns"), None).unwrap()),
        ["a", "c", "d"]
    );
    // Every cached object is the store's current version.
    for o in cache.list(&cm_type(), None, None).unwrap() {
        assert_eq!(o.resource_version(), store.get_sync(&o.object_ref()).resource_version());
    }
    assert_eq!(store.list_calls().len(), 2, "no relist while the watch is healthy");
}

#[tokio::test(start_paused = true)]
async fn a_closed_stream_resumes_from_the_last_resource_version_without_relisting() {
    let store = ScriptedStore::new();
    store.put(cm("ns", "a"));
    let cache = Cache::new(store.clone(), config());
    cache.track(TrackSpec::new(cm_type())).unwrap();
    cache.wait_synced(&cm_type()).await.unwrap();
    settle().await;
    store.put(cm("ns", "b"));
    store.bookmark();
    settle().await;
    let rv_after_bookmark = store.revision();
    store.close_watches();
    settle().await;
    let watches = store.watch_calls();
    assert_eq!(watches.len(), 2, "the closed stream was reopened at once");
    assert_eq!(watches[1].resource_version, Some(rv_after_bookmark));
    assert!(watches.iter().all(|w| w.bookmarks));
    assert_eq!(store.list_calls().len(), 1, "resuming does not relist");
    store.put(cm("ns", "c"));
    settle().await;
    assert!(cache.get(&key("ns", "c")).is_some());
    assert_eq!(cache.status(&cm_type()).unwrap().relists, 0);
}

#[tokio::test(start_paused = true)]
async fn a_410_relists_replaces_the_state_and_announces_what_vanished() {
    let store = ScriptedStore::new();
    store.put(owned(cm("ns", "keep"), "p1"));
    store.put(owned(cm("ns", "gone"), "p1"));
    store.put(cm("ns", "edited"));
    let cache = Cache::new(store.clone(), config());
    cache.track(TrackSpec::new(cm_type())).unwrap();
    cache.wait_synced(&cm_type()).await.unwrap();
    settle().await;
    let mut rx = cache.subscribe();

    // Changes the cache misses (lost watch events), then the watch expires.
    store.delete_object(&key("ns", "gone"), true);
    let mut edited = cm("ns", "edited");
    edited.body.insert("data".into(), serde_json::json!({"x": "1"}));
    store.put_silently(edited);
    store.put_silently(cm("ns", "new"));
    assert!(cache.get(&key("ns", "gone")).is_some(), "the cache cannot know yet");
    store.expire_watches();
    settle().await;

    let fresh_lists = store.list_calls().iter().filter(|l| l.continue_token.is_none()).count();
    assert_eq!(fresh_lists, 2, "exactly one relist");
    let status = cache.status(&cm_type()).unwrap();
    assert_eq!(status.relists, 1);
    assert!(status.synced);
    assert_eq!(
        names(&cache.list(&cm_type(), None, None).unwrap()),
        ["edited", "keep", "new"]
    );
    assert_eq!(cache.get(&key("ns", "edited")).unwrap().body["data"]["x"], "1");
    assert_eq!(names(&cache.owned_by("p1")), ["keep"]);
    assert_eq!(
        drain(&mut rx),
        [
            (ChangeKind::Modified, "edited".into()),
            (ChangeKind::Added, "new".into()),
            (ChangeKind::Deleted, "gone".into())
        ]
    );
    // The new watch starts from the relist's resourceVersion.
    let watches = store.watch_calls();
    assert_eq!(watches.last().unwrap().resource_version, Some(store.revision()));
}

#[tokio::test(start_paused = true)]
async fn a_410_on_opening_the_watch_also_relists() {
    let store = ScriptedStore::new();
    store.put(cm("ns", "a"));
    let cache = Cache::new(store.clone(), config());
    store.fail_next_watches([StoreError::expired("too old")]);
    cache.track(TrackSpec::new(cm_type())).unwrap();
    settle().await;
    assert_eq!(store.list_calls().len(), 2);
    assert_eq!(store.live_watches(), 1);
    assert_eq!(cache.status(&cm_type()).unwrap().relists, 1);
}

#[tokio::test(start_paused = true)]
async fn list_errors_are_retried_with_growing_delays() {
    let store = ScriptedStore::new();
    store.put(cm("ns", "a"));
    store.fail_next_lists([
        StoreError::Unavailable {
            message: "down".into(),
            retry_after: None,
            source: None,
        },
        StoreError::forbidden("rbac"),
        StoreError::TooManyRequests {
            message: "slow down".into(),
            retry_after: Some(Duration::from_secs(5)),
        },
    ]);
    let start = Instant::now();
    let cache = Cache::new(store.clone(), config());
    cache.track(TrackSpec::new(cm_type())).unwrap();
    settle().await;
    assert!(!cache.has_synced(&cm_type()));
    assert!(matches!(
        cache.status(&cm_type()).unwrap().last_error,
        Some(StoreError::Unavailable { .. })
    ));
    advance(Duration::from_millis(999)).await;
    assert_eq!(store.list_calls().len(), 1, "no retry before the first delay (1 s)");
    advance(Duration::from_millis(1)).await;
    assert_eq!(store.list_calls().len(), 2);
    assert!(matches!(
        cache.status(&cm_type()).unwrap().last_error,
        Some(StoreError::Forbidden { .. })
    ));
    cache.wait_synced(&cm_type()).await.unwrap();
    // Delays: 1 s, then 2 s, then the server's retry-after of 5 s (longer than the 4 s backoff).
    assert_eq!(start.elapsed(), Duration::from_secs(8));
    assert_eq!(store.list_calls().len(), 4);
    assert_eq!(cache.status(&cm_type()).unwrap().last_error, None);
}

#[tokio::test(start_paused = true)]
async fn watch_errors_back_off_and_resume_without_relisting() {
    let store = ScriptedStore::new();
    store.put(cm("ns", "a"));
    let cache = Cache::new(store.clone(), config());
    cache.track(TrackSpec::new(cm_type())).unwrap();
    cache.wait_synced(&cm_type()).await.unwrap();
    settle().await;
    store.put(cm("ns", "b"));
    settle().await;
    let rv = store.revision();
    store.fail_next_watches([StoreError::Unavailable {
        message: "down".into(),
        retry_after: None,
        source: None,
    }]);
    store.fail_watches(StoreError::Internal { message: "boom".into() });
    settle().await;
    assert_eq!(store.watch_calls().len(), 1, "waiting out the backoff");
    advance(Duration::from_secs(1)).await;
    assert_eq!(store.watch_calls().len(), 2, "first retry after 1 s fails");
    advance(Duration::from_secs(2)).await;
    let watches = store.watch_calls();
    assert_eq!(watches.len(), 3, "second retry after 2 s succeeds");
    assert!(watches[1..].iter().all(|w| w.resource_version == Some(rv.clone())));
    assert_eq!(store.list_calls().len(), 1);
    store.put(cm("ns", "c"));
    settle().await;
    assert!(cache.get(&key("ns", "c")).is_some());
}

#[tokio::test(start_paused = true)]
async fn a_backend_that_always_expires_or_closes_does_not_make_the_loop_spin() {
    for mode in ["expire", "close"] {
        let store = ScriptedStore::new();
        store.put(cm("ns", "a"));
        match mode {
            "expire" => store.set_always_expire(true),
            _ => store.set_always_close(true),
        }
        let cache = Cache::new(store.clone(), config());
        cache.track(TrackSpec::new(cm_type())).unwrap();
        advance(Duration::from_secs(60)).await;
        // Backoff 1, 2, 4, 8, 8, ... s: about ten attempts in a minute, not thousands.
        let requests = store.list_calls().len() + store.watch_calls().len();
        assert!((5..=30).contains(&requests), "{mode}: {requests} requests in 60 s");
        assert!(cache.has_synced(&cm_type()), "{mode}: the list still synced the kind");
    }
}

#[tokio::test(start_paused = true)]
async fn namespace_and_selector_scope_list_and_watch() {
    let store = ScriptedStore::new();
    store.put(with_labels(cm("ns", "web"), &[("app", "web"), ("tier", "front")]));
    store.put(with_labels(cm("ns", "db"), &[("app", "db")]));
    store.put(with_labels(cm("other", "web"), &[("app", "web")]));
    let cache = Cache::new(store.clone(), config());
    let spec = TrackSpec::new(cm_type())
        .in_namespace("ns")
        .labels("app in (web,db)")
        .unwrap();
    cache.track(spec.clone()).unwrap();
    cache.track(spec.clone()).unwrap();
    assert!(matches!(
        cache.track(TrackSpec::new(cm_type())),
        Err(CacheError::ScopeConflict { .. })
    ));
    cache.wait_synced(&cm_type()).await.unwrap();
    settle().await;
    let list = &store.list_calls()[0];
    assert_eq!(list.namespace.as_deref(), Some("ns"));
    assert_eq!(list.label_selector.as_deref(), Some("app in (db,web)"));
    let watch = &store.watch_calls()[0];
    assert_eq!(watch.namespace.as_deref(), Some("ns"));
    assert_eq!(watch.label_selector.as_deref(), Some("app in (db,web)"));

    assert_eq!(names(&cache.list(&cm_type(), Some("ns"), None).unwrap()), ["db", "web"]);
    let front = Selector::parse("tier=front").unwrap();
    assert_eq!(
        names(&cache.list(&cm_type(), Some("ns"), Some(&front)).unwrap()),
        ["web"]
    );
    assert!(matches!(
        cache.list(&cm_type(), Some("other"), None),
        Err(CacheError::OutOfScope { .. })
    ));
    assert!(matches!(
        cache.list(&cm_type(), None, None),
        Err(CacheError::OutOfScope { .. })
    ));

    // An object that stops matching leaves the cache; one that starts matching enters it.
    store.put(with_labels(cm("ns", "web"), &[("app", "legacy")]));
    store.put(with_labels(cm("ns", "cache"), &[("app", "db")]));
    settle().await;
    assert!(cache.get(&key("ns", "web")).is_none());
    assert_eq!(
        names(&cache.list(&cm_type(), Some("ns"), None).unwrap()),
        ["cache", "db"]
    );
    assert!(matches!(
        TrackSpec::new(cm_type()).labels("app in ()"),
        Err(operator_runtime_core::selector::SelectorError::EmptySet { .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn owned_by_follows_owner_changes_deletes_and_relists() {
    let store = ScriptedStore::new();
    store.put(owned(cm("ns", "a"), "p1"));
    store.put(owned(cm("ns", "b"), "p1"));
    store.put(owned(cm("ns", "c"), "p2"));
    store.put(cm("ns", "free"));
    let cache = Cache::new(store.clone(), config());
    cache.track(TrackSpec::new(cm_type())).unwrap();
    cache.wait_synced(&cm_type()).await.unwrap();
    settle().await;
    assert_eq!(names(&cache.owned_by("p1")), ["a", "b"]);
    assert_eq!(names(&cache.owned_by("p2")), ["c"]);

    let mut rx = cache.subscribe();
    store.put(owned(cm("ns", "a"), "p2"));
    settle().await;
    assert_eq!(names(&cache.owned_by("p1")), ["b"]);
    assert_eq!(names(&cache.owned_by("p2")), ["a", "c"]);
    let moved = rx.try_recv().unwrap();
    assert_eq!(moved.kind, ChangeKind::Modified);
    assert!(moved.object.is_controlled_by("p2"));
    assert!(
        moved.previous.unwrap().is_controlled_by("p1"),
        "the old owner can be woken too"
    );

    store.delete_object(&key("ns", "b"), false);
    store.put(cm("ns", "c"));
    settle().await;
    assert!(cache.owned_by("p1").is_empty());
    assert_eq!(names(&cache.owned_by("p2")), ["a"]);
    let deleted = drain(&mut rx);
    assert_eq!(deleted[0], (ChangeKind::Deleted, "b".into()));

    // Lost events are repaired by the relist, index included.
    store.put_silently(owned(cm("ns", "free"), "p1"));
    store.delete_object(&key("ns", "a"), true);
    store.expire_watches();
    settle().await;
    assert_eq!(names(&cache.owned_by("p1")), ["free"]);
    assert!(cache.owned_by("p2").is_empty());
    assert_eq!(names(&cache.owned_by_kind(&cm_type(), "p1").unwrap()), ["free"]);
}

#[tokio::test(start_paused = true)]
async fn dropping_or_shutting_down_the_cache_stops_its_watch_loops() {
    let store = ScriptedStore::new();
    let cache = Cache::new(store.clone(), config());
    cache.track(TrackSpec::new(cm_type())).unwrap();
    cache.wait_synced(&cm_type()).await.unwrap();
    settle().await;
    assert_eq!(store.live_watches(), 1);
    let clone = cache.clone();
    drop(cache);
    settle().await;
    assert_eq!(store.live_watches(), 1, "a clone keeps the loops running");
    drop(clone);
    settle().await;
    assert_eq!(store.live_watches(), 0);

    let cache = Cache::new(store.clone(), config());
    cache.track(TrackSpec::new(cm_type())).unwrap();
    cache.wait_synced(&cm_type()).await.unwrap();
    settle().await;
    assert_eq!(store.live_watches(), 1);
    cache.shutdown();
    settle().await;
    assert_eq!(store.live_watches(), 0);
    assert_eq!(cache.track(TrackSpec::new(cm_type())), Err(CacheError::ShutDown));
    assert!(cache.has_synced(&cm_type()), "contents stay readable");
}

#[test]
fn tracking_outside_a_runtime_is_a_typed_error() {
    let cache = Cache::new(ScriptedStore::new(), CacheConfig::default());
    assert_eq!(cache.track(TrackSpec::new(cm_type())), Err(CacheError::NoRuntime));
}

#[tokio::test(start_paused = true)]
async fn waiting_on_an_untracked_kind_is_an_error() {
    let cache = Cache::new(ScriptedStore::new(), config());
    assert_eq!(
        cache.wait_synced(&cm_type()).await,
        Err(CacheError::NotTracked { type_ref: cm_type() })
    );
    cache.wait_all_synced().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_kept_apply_entry_holds_its_field_set_as_json_text() {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{FieldsV1, ManagedFieldsEntry};
    use operator_runtime_core::fields_v1;
    let tree = serde_json::json!({"f:data": {".": {}, "f:k": {}}});
    let entry = |operation: &str| ManagedFieldsEntry {
        manager: Some("op".into()),
        operation: Some(operation.into()),
        fields_type: Some("FieldsV1".into()),
        fields_v1: Some(FieldsV1(tree.clone())),
        ..Default::default()
    };
    let mut object = cm("ns", "c");
    object.metadata.managed_fields = Some(vec![entry("Update"), entry("Apply")]);
    let store = ScriptedStore::new();
    store.set_fresh_copies(true);
    store.put(object);
    let cache = Cache::new(store.clone(), config());
    cache.track(TrackSpec::new(cm_type())).unwrap();
    cache.wait_synced(&cm_type()).await.unwrap();
    let cached = cache.get(&key("ns", "c")).unwrap();
    let kept = cached.metadata.managed_fields.as_deref().unwrap_or_default();
    assert_eq!(kept.len(), 1, "the Update entry goes");
    assert_eq!(kept[0].operation.as_deref(), Some("Apply"));
    let fields = &kept[0].fields_v1.as_ref().unwrap().0;
    assert!(fields.is_string(), "kept as text: {fields}");
    assert_eq!(fields_v1::tree(fields).as_deref(), Some(&tree));
    // Sent back, the tree is restored.
    let mut meta = cached.metadata.clone();
    fields_v1::expand_managed_fields(&mut meta);
    assert_eq!(meta.managed_fields.unwrap()[0].fields_v1.as_ref().unwrap().0, tree);
}

#[tokio::test(start_paused = true)]
async fn managed_fields_are_dropped_only_from_objects_the_cache_alone_holds() {
    use operator_runtime_core::model::ObjectMeta;
    let with_managed_fields = |name: &str| {
        let mut o = cm("ns", name);
        o.metadata = ObjectMeta {
            managed_fields: Some(vec![Default::default()]),
            ..o.metadata
        };
        o
    };
    for (fresh, strip, expect_stripped) in [(true, true, true), (false, true, false), (true, false, false)] {
        let store = ScriptedStore::new();
        store.set_fresh_copies(fresh);
        store.put(with_managed_fields("listed"));
        let cache = Cache::new(
            store.clone(),
            CacheConfig {
                strip_managed_fields: strip,
                ..config()
            },
        );
        cache.track(TrackSpec::new(cm_type())).unwrap();
        cache.wait_synced(&cm_type()).await.unwrap();
        settle().await;
        store.put(with_managed_fields("watched"));
        settle().await;
        for name in ["listed", "watched"] {
            let cached = cache.get(&key("ns", name)).unwrap();
            let stripped = cached.metadata.managed_fields.is_none();
            assert_eq!(stripped, expect_stripped, "fresh={fresh} strip={strip} {name}");
            let shared = Arc::ptr_eq(&cached, &store.get_sync(&key("ns", name)));
            assert_eq!(shared, !fresh, "fresh={fresh} {name}: never copied to strip");
        }
    }
}
