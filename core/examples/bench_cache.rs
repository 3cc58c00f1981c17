//! The internal cache against kube-runtime's reflector `Store`, fed the same 50,000 ConfigMaps
//! (about 1.5 KB of JSON each) in the same process.
//!
//! Run: `cargo run --release -p operator-runtime-core --example bench_cache [-- COUNT]`
//!
//! Printed for each side: watch events applied per second (first an Added for every object,
//! then a Modified for every object) and the heap bytes the store retains per object. Heap
//! bytes come from a counting global allocator (`stats_alloc`): bytes requested and not yet
//! freed, measured after the inputs were dropped, so only what the store keeps is counted.
//!
//! The cache is measured through its real path: a `Cache` whose watch loop (a tokio task)
//! consumes a watch stream of `WatchEvent`s, exactly as from a backend. A second figure
//! applies the same events straight to the cache's per-kind state (`KindState`), to show the
//! cost of the data structure alone, like the reflector's `Writer::apply_watcher_event`.

use std::alloc::System;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::runtime::reflector::store::Writer;
use kube::runtime::watcher;
use operator_runtime_core::cache::{Cache, CacheConfig, KindState, TrackSpec};
use operator_runtime_core::store::{
    ApplySupport, Capabilities, DeleteOutcome, DeleteParams, KindInfo, ListParams, Patch, PatchParams, StoreResult,
    WatchEvent, WatchParams, WatchStream, WriteParams,
};
use operator_runtime_core::{Object, ObjectList, ObjectRef, ObjectStore, StoreError, TypeRef};
use serde_json::{Value, json};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};
use tokio::sync::Notify;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Heap bytes requested and not yet freed.
fn live_bytes() -> i64 {
    let s = GLOBAL.stats();
    s.bytes_allocated as i64 - s.bytes_deallocated as i64
}

/// A ConfigMap like an operator's child: labels, the hash annotation, a controller owner
/// reference, server-set metadata, and eight config entries; about 1.5 KB as JSON.
fn config_map(i: usize, generation: u64) -> Value {
    let data: serde_json::Map<String, Value> = (0..8)
        .map(|k| {
            let value = format!("key{k}.setting=value-{i}-{generation}-{}", "x".repeat(55));
            (format!("config-{k}.properties"), Value::String(value))
        })
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": format!("cluster-{}-node-{}-config", i / 12, i % 12),
            "namespace": format!("tenant-{}", i % 50),
            "uid": format!("{:08x}-1111-2222-3333-{:012x}", i, i),
            "resourceVersion": format!("{}", generation * 1_000_000 + i as u64),
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "labels": {
                "app.kubernetes.io/managed-by": "operator-runtime",
                "app.kubernetes.io/instance": format!("cluster-{}", i / 12),
                "app.kubernetes.io/component": format!("node-{}", i % 12),
            },
            "annotations": {
                "operator-runtime.io/desired-hash": format!("{:064x}", i as u128 * 7919 + generation as u128),
            },
            "ownerReferences": [{
                "apiVersion": "example.com/v1",
                "kind": "DataCluster",
                "name": format!("cluster-{}", i / 12),
                "uid": format!("{:08x}-aaaa-bbbb-cccc-{:012x}", i / 12, i / 12),
                "controller": true,
                "blockOwnerDeletion": true,
            }],
        },
        "data": data,
    })
}

/// Replays prepared watch events: each watch streams one batch and ends. The cache opens the
/// next watch only after it has applied the last event of the previous stream, so the time a
/// watch is opened marks the end of the previous batch.
struct ReplayStore {
    batches: Mutex<Vec<Vec<WatchEvent>>>,
    opened: Mutex<Vec<Instant>>,
    done: Arc<Notify>,
}

#[async_trait]
impl ObjectStore for ReplayStore {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            name: "replay".into(),
            server_side_apply: ApplySupport::None,
            garbage_collection: false,
            namespace_deletion: false,
            schema_validation: false,
            dry_run: false,
            bookmarks: false,
            eventually_consistent_gc: false,
        }
    }
    async fn kind_info(&self, _: &TypeRef) -> StoreResult<KindInfo> {
        Err(StoreError::MethodNotAllowed {
            message: "replay".into(),
        })
    }
    async fn get(&self, _: &ObjectRef) -> StoreResult<Arc<Object>> {
        Err(StoreError::MethodNotAllowed {
            message: "replay".into(),
        })
    }
    async fn list(&self, _: &TypeRef, _: &ListParams) -> StoreResult<ObjectList> {
        Ok(ObjectList {
            items: Vec::new(),
            resource_version: "0".into(),
            continue_token: None,
        })
    }
    async fn create(&self, _: &Object, _: &WriteParams) -> StoreResult<Arc<Object>> {
        Err(StoreError::MethodNotAllowed {
            message: "replay".into(),
        })
    }
    async fn replace(&self, _: &Object, _: &WriteParams) -> StoreResult<Arc<Object>> {
        Err(StoreError::MethodNotAllowed {
            message: "replay".into(),
        })
    }
    async fn replace_status(&self, _: &Object, _: &WriteParams) -> StoreResult<Arc<Object>> {
        Err(StoreError::MethodNotAllowed {
            message: "replay".into(),
        })
    }
    async fn patch(&self, _: &ObjectRef, _: &Patch, _: &PatchParams) -> StoreResult<Arc<Object>> {
        Err(StoreError::MethodNotAllowed {
            message: "replay".into(),
        })
    }
    async fn delete(&self, _: &ObjectRef, _: &DeleteParams) -> StoreResult<DeleteOutcome> {
        Err(StoreError::MethodNotAllowed {
            message: "replay".into(),
        })
    }
    async fn watch(&self, _: &TypeRef, _: &WatchParams) -> StoreResult<WatchStream> {
        if let Ok(mut opened) = self.opened.lock() {
            opened.push(Instant::now());
        }
        let batch = self.batches.lock().map(|mut b| b.pop()).ok().flatten();
        match batch {
            Some(events) => Ok(futures::stream::iter(events.into_iter().map(Ok)).boxed()),
            None => {
                self.done.notify_one();
                Ok(futures::stream::pending().boxed())
            }
        }
    }
}

struct Figures {
    added_per_sec: f64,
    modified_per_sec: f64,
    bytes_per_object: f64,
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

fn bench_reflector(count: usize) -> Figures {
    let base = live_bytes();
    let mut writer: Writer<ConfigMap> = Writer::default();
    let reader = writer.as_reader();
    let mut timings = Vec::new();
    let mut retained = 0;
    for generation in 0..2u64 {
        let events: Vec<watcher::Event<ConfigMap>> = (0..count)
            .map(|i| watcher::Event::Apply(serde_json::from_value(config_map(i, generation)).expect("valid ConfigMap")))
            .collect();
        let start = Instant::now();
        for event in &events {
            writer.apply_watcher_event(event);
        }
        timings.push(start.elapsed());
        drop(events);
        retained = live_bytes() - base;
    }
    assert_eq!(reader.len(), count);
    Figures {
        added_per_sec: rate(count, timings[0]),
        modified_per_sec: rate(count, timings[1]),
        bytes_per_object: retained as f64 / count as f64,
    }
}

fn watch_events(count: usize, generation: u64) -> Vec<WatchEvent> {
    (0..count)
        .map(|i| {
            let object = Arc::new(Object::from_value(config_map(i, generation)).expect("valid object"));
            if generation == 0 {
                WatchEvent::Added(object)
            } else {
                WatchEvent::Modified(object)
            }
        })
        .collect()
}

fn bench_cache(count: usize) -> Figures {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let base = live_bytes();
        let done = Arc::new(Notify::new());
        let store = Arc::new(ReplayStore {
            // Batches are popped from the end: generation 0 (Added) first.
            batches: Mutex::new(vec![watch_events(count, 1), watch_events(count, 0)]),
            opened: Mutex::new(Vec::new()),
            done: done.clone(),
        });
        let cache = Cache::new(store.clone(), CacheConfig::default());
        // A subscriber, as a controller has: every change is also broadcast to it.
        let changes = cache.subscribe();
        let cm = TypeRef::new("v1", "ConfigMap");
        let start = Instant::now();
        cache.track(TrackSpec::new(cm.clone())).expect("inside a runtime");
        done.notified().await;
        let opened = store.opened.lock().map(|o| o.clone()).unwrap_or_default();
        assert_eq!(cache.len(&cm), count);
        assert_eq!(cache.owned_by("00000000-aaaa-bbbb-cccc-000000000000").len(), 12);
        // The subscriber has consumed everything; the inputs were consumed by the cache.
        drop(changes);
        let retained = live_bytes() - base;
        cache.shutdown();
        Figures {
            added_per_sec: rate(count, opened[1] - start),
            modified_per_sec: rate(count, opened[2] - opened[1]),
            bytes_per_object: retained as f64 / count as f64,
        }
    })
}

fn bench_kind_state(count: usize) -> Figures {
    let base = live_bytes();
    let state = std::sync::RwLock::new(KindState::new());
    let mut timings = Vec::new();
    let mut retained = 0;
    for generation in 0..2u64 {
        let events = watch_events(count, generation);
        let start = Instant::now();
        for event in events {
            let _ = state.write().map(|mut s| s.apply(event));
        }
        timings.push(start.elapsed());
        retained = live_bytes() - base;
    }
    Figures {
        added_per_sec: rate(count, timings[0]),
        modified_per_sec: rate(count, timings[1]),
        bytes_per_object: retained as f64 / count as f64,
    }
}

/// Heap bytes of the objects alone, held as `Arc`s: what any store must keep at least.
fn object_bytes(count: usize) -> (f64, f64) {
    let base = live_bytes();
    let typed: Vec<Arc<ConfigMap>> = (0..count)
        .map(|i| Arc::new(serde_json::from_value(config_map(i, 0)).expect("valid ConfigMap")))
        .collect();
    let typed_bytes = (live_bytes() - base) as f64 / count as f64;
    drop(typed);
    let base = live_bytes();
    let dynamic: Vec<Arc<Object>> = (0..count)
        .map(|i| Arc::new(Object::from_value(config_map(i, 0)).expect("valid object")))
        .collect();
    let dynamic_bytes = (live_bytes() - base) as f64 / count as f64;
    drop(dynamic);
    (typed_bytes, dynamic_bytes)
}

fn print(name: &str, f: &Figures) {
    println!(
        "{name:<42} {:>10.0} {:>11.0} {:>10.0}",
        f.added_per_sec, f.modified_per_sec, f.bytes_per_object
    );
}

/// Runs one side in this process and prints its figures on one line.
fn run_side(side: &str, count: usize) {
    let figures = match side {
        "reflector" => bench_reflector(count),
        "cache" => bench_cache(count),
        "state" => bench_kind_state(count),
        "objects" => {
            let (typed, dynamic) = object_bytes(count);
            println!("{typed} {dynamic}");
            return;
        }
        other => {
            eprintln!("unknown side {other:?}");
            std::process::exit(2);
        }
    };
    println!(
        "{} {} {}",
        figures.added_per_sec, figures.modified_per_sec, figures.bytes_per_object
    );
}

/// Runs one side in a fresh child process (so that no side inherits the heap another one
/// fragmented) and parses its figures.
fn in_child(side: &str, count: usize) -> Vec<f64> {
    let exe = std::env::current_exe().expect("own path");
    let out = std::process::Command::new(exe)
        .args([count.to_string(), "--side".into(), side.into()])
        .output()
        .expect("child ran");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let count: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(50_000);
    if let Some(side) = args.iter().position(|a| a == "--side").and_then(|i| args.get(i + 1)) {
        run_side(side, count);
        return;
    }
    let sample = serde_json::to_vec(&config_map(count / 2, 0)).map_or(0, |v| v.len());
    println!("{count} ConfigMaps, {sample} bytes of JSON each; each figure: best of 3 fresh processes");
    if cfg!(debug_assertions) {
        println!("(debug build: run with --release for meaningful figures)");
    }
    println!("{:<42} {:>10} {:>11} {:>10}", "", "added/s", "modified/s", "bytes/obj");
    let best = |side: &str| {
        let runs: Vec<Vec<f64>> = (0..3).map(|_| in_child(side, count)).filter(|r| r.len() == 3).collect();
        Figures {
            added_per_sec: runs.iter().map(|r| r[0]).fold(0.0, f64::max),
            modified_per_sec: runs.iter().map(|r| r[1]).fold(0.0, f64::max),
            bytes_per_object: runs.first().map_or(f64::NAN, |r| r[2]),
        }
    };
    let reflector = best("reflector");
    print("kube-runtime reflector Store", &reflector);
    let cache = best("cache");
    print("operator-runtime Cache (watch loop task)", &cache);
    let state = best("state");
    print("operator-runtime KindState (apply only)", &state);
    let objects = in_child("objects", count);
    let (typed, dynamic) = (
        objects.first().copied().unwrap_or(f64::NAN),
        objects.get(1).copied().unwrap_or(f64::NAN),
    );
    println!(
        "objects alone: Arc<ConfigMap> {typed:.0} B, Arc<Object> {dynamic:.0} B; \
         store overhead per object: reflector {:.0} B, cache {:.0} B",
        reflector.bytes_per_object - typed,
        cache.bytes_per_object - dynamic
    );
    println!(
        "cache/reflector: added {:.2}x, modified {:.2}x as fast; {:.2}x the bytes per object",
        cache.added_per_sec / reflector.added_per_sec,
        cache.modified_per_sec / reflector.modified_per_sec,
        cache.bytes_per_object / reflector.bytes_per_object
    );
}
