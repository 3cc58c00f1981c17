//! The internal cache against kube-runtime's reflector `Store`, fed the same 50,000 ConfigMaps
//! (about 1.5 KB of JSON each) in the same process.
//!
//! Run: `cargo run --release -p operator-runtime-core --example bench_cache [-- COUNT]`
//!
//! Printed for each side: watch events applied per second (first an Added for every object,
//! then a Modified for every object) and the heap bytes the store retains per object. Heap
//! bytes come from a counting global allocator (`stats_alloc`): bytes requested and not yet
//! freed, measured after the inputs were dropped, so only what the store keeps is counted.
//! Every figure is the best of three runs, each in a fresh child process.
//!
//! Two data sets: `plain` ConfigMaps (metadata, labels, hash annotation, owner reference, eight
//! config entries), and the same ConfigMaps `served` as an API server returns them, with the
//! managedFields entry of the one manager that applied them.
//!
//! The cache is measured through its real path: a `Cache` whose watch loop (a tokio task)
//! consumes a watch stream of `WatchEvent`s, exactly as from a backend, with one subscriber
//! to its change notifications. `KindState` applies the same events straight to the cache's
//! per-kind state: the cost of the data structure alone. The reflector is measured as kube-rs
//! uses it by default, and (`served` only) with managedFields cleared before each apply, as
//! kube-rs recommends to save memory (`.modify(|o| o.managed_fields_mut().clear())`).

use std::alloc::System;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::ResourceExt;
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
fn config_map(i: usize, generation: u64, served: bool) -> Value {
    let data: serde_json::Map<String, Value> = (0..8)
        .map(|k| {
            let value = format!("key{k}.setting=value-{i}-{generation}-{}", "x".repeat(55));
            (format!("config-{k}.properties"), Value::String(value))
        })
        .collect();
    let owner_uid = format!("{:08x}-aaaa-bbbb-cccc-{:012x}", i / 12, i / 12);
    let mut cm = json!({
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
                "uid": owner_uid,
                "controller": true,
                "blockOwnerDeletion": true,
            }],
        },
        "data": data,
    });
    if served {
        let data_fields: serde_json::Map<String, Value> = (0..8)
            .map(|k| (format!("f:config-{k}.properties"), json!({})))
            .collect();
        cm["metadata"]["managedFields"] = json!([{
            "manager": "operator-runtime",
            "operation": "Apply",
            "apiVersion": "v1",
            "time": "2026-01-01T00:00:00Z",
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:data": data_fields,
                "f:metadata": {
                    "f:annotations": {"f:operator-runtime.io/desired-hash": {}},
                    "f:labels": {
                        "f:app.kubernetes.io/component": {},
                        "f:app.kubernetes.io/instance": {},
                        "f:app.kubernetes.io/managed-by": {},
                    },
                    "f:ownerReferences": {format!("k:{{\"uid\":\"{owner_uid}\"}}"): {}},
                },
            },
        }]);
    }
    cm
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
            schema_validation: operator_runtime_core::store::SchemaValidation::None,
            dry_run: false,
            bookmarks: false,
            eventually_consistent_gc: false,
            workload_controllers: false,
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

fn bench_reflector(count: usize, served: bool, strip: bool) -> Figures {
    let base = live_bytes();
    let mut writer: Writer<ConfigMap> = Writer::default();
    let reader = writer.as_reader();
    let mut timings = Vec::new();
    let mut retained = 0;
    for generation in 0..2u64 {
        let mut events: Vec<watcher::Event<ConfigMap>> = (0..count)
            .map(|i| {
                let cm: ConfigMap = serde_json::from_value(config_map(i, generation, served)).expect("valid ConfigMap");
                watcher::Event::Apply(cm)
            })
            .collect();
        let start = Instant::now();
        for event in events.iter_mut() {
            if strip && let watcher::Event::Apply(cm) = event {
                cm.managed_fields_mut().clear();
            }
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

fn watch_events(count: usize, generation: u64, served: bool) -> Vec<WatchEvent> {
    (0..count)
        .map(|i| {
            let object = Arc::new(Object::from_value(config_map(i, generation, served)).expect("valid object"));
            if generation == 0 {
                WatchEvent::Added(object)
            } else {
                WatchEvent::Modified(object)
            }
        })
        .collect()
}

fn bench_cache(count: usize, served: bool) -> Figures {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let base = live_bytes();
        let done = Arc::new(Notify::new());
        let store = Arc::new(ReplayStore {
            // Batches are popped from the end: generation 0 (Added) first.
            batches: Mutex::new(vec![watch_events(count, 1, served), watch_events(count, 0, served)]),
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

fn bench_kind_state(count: usize, served: bool) -> Figures {
    let base = live_bytes();
    let state = std::sync::RwLock::new(KindState::new());
    let mut timings = Vec::new();
    let mut retained = 0;
    for generation in 0..2u64 {
        let events = watch_events(count, generation, served);
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
fn object_bytes(count: usize, served: bool) -> (f64, f64) {
    let base = live_bytes();
    let typed: Vec<Arc<ConfigMap>> = (0..count)
        .map(|i| Arc::new(serde_json::from_value(config_map(i, 0, served)).expect("valid ConfigMap")))
        .collect();
    let typed_bytes = (live_bytes() - base) as f64 / count as f64;
    drop(typed);
    let base = live_bytes();
    let dynamic: Vec<Arc<Object>> = (0..count)
        .map(|i| Arc::new(Object::from_value(config_map(i, 0, served)).expect("valid object")))
        .collect();
    let dynamic_bytes = (live_bytes() - base) as f64 / count as f64;
    drop(dynamic);
    (typed_bytes, dynamic_bytes)
}

fn print(name: &str, f: &Figures) {
    println!(
        "  {name:<44} {:>10.0} {:>11.0} {:>10.0}",
        f.added_per_sec, f.modified_per_sec, f.bytes_per_object
    );
}

/// Runs one side in this process and prints its figures on one line.
fn run_side(side: &str, count: usize, served: bool) {
    let figures = match side {
        "reflector" => bench_reflector(count, served, false),
        "reflector-strip" => bench_reflector(count, served, true),
        "cache" => bench_cache(count, served),
        "state" => bench_kind_state(count, served),
        "objects" => {
            let (typed, dynamic) = object_bytes(count, served);
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
/// fragmented) and parses the numbers it prints.
fn in_child(side: &str, count: usize, data: &str) -> Vec<f64> {
    let exe = std::env::current_exe().expect("own path");
    let out = std::process::Command::new(exe)
        .args([
            count.to_string(),
            "--side".into(),
            side.into(),
            "--data".into(),
            data.into(),
        ])
        .output()
        .expect("child ran");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect()
}

fn best_of_three(side: &str, count: usize, data: &str) -> Figures {
    let runs: Vec<Vec<f64>> = (0..3)
        .map(|_| in_child(side, count, data))
        .filter(|r| r.len() == 3)
        .collect();
    Figures {
        added_per_sec: runs.iter().map(|r| r[0]).fold(0.0, f64::max),
        modified_per_sec: runs.iter().map(|r| r[1]).fold(0.0, f64::max),
        bytes_per_object: runs.first().map_or(f64::NAN, |r| r[2]),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let count: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(50_000);
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1));
    if let Some(side) = flag("--side") {
        run_side(side, count, flag("--data").is_some_and(|d| d == "served"));
        return;
    }
    println!("{count} ConfigMaps; best of 3 fresh processes per figure");
    if cfg!(debug_assertions) {
        println!("(debug build: run with --release for meaningful figures)");
    }
    for data in ["plain", "served"] {
        let served = data == "served";
        let sample = serde_json::to_vec(&config_map(count / 2, 0, served)).map_or(0, |v| v.len());
        let what = if served {
            "with managedFields"
        } else {
            "no managedFields"
        };
        println!("\n{data}: {sample} bytes of JSON each ({what})");
        println!(
            "  {:<44} {:>10} {:>11} {:>10}",
            "", "added/s", "modified/s", "bytes/obj"
        );
        let reflector = best_of_three("reflector", count, data);
        print("kube-runtime reflector Store", &reflector);
        if served {
            print(
                "kube-runtime reflector Store, managedFields cleared",
                &best_of_three("reflector-strip", count, data),
            );
        }
        let cache = best_of_three("cache", count, data);
        print("operator-runtime Cache (watch loop task)", &cache);
        print(
            "operator-runtime KindState (apply only)",
            &best_of_three("state", count, data),
        );
        let objects = in_child("objects", count, data);
        let typed = objects.first().copied().unwrap_or(f64::NAN);
        let dynamic = objects.get(1).copied().unwrap_or(f64::NAN);
        println!("  objects alone: Arc<ConfigMap> {typed:.0} B, Arc<Object> {dynamic:.0} B");
        println!(
            "  cache/reflector: added {:.2}x, modified {:.2}x as fast; {:.2}x the bytes per object",
            cache.added_per_sec / reflector.added_per_sec,
            cache.modified_per_sec / reflector.modified_per_sec,
            cache.bytes_per_object / reflector.bytes_per_object
        );
    }
}
