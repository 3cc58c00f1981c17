//! Throughput of the memory backend on ConfigMap-sized objects, with one watcher attached.
//!
//! Run with `cargo run --release -p operator-runtime-memory --example bench_memory`
//! (optionally `-- <objects> <rounds>`, default 50,000 objects, 3 rounds; each round uses a
//! fresh store and the best round of each figure is kept, which filters out noise from other
//! processes on a shared machine).
//!
//! On one core (a current-thread runtime) it creates, replaces and gets N ConfigMaps of about
//! 1.5 KB of data while a watcher task drains every event, then does the same work as a
//! baseline that only serializes the objects into a `BTreeMap<String, Vec<u8>>` (create and
//! replace: `serde_json::to_vec` + insert; get: a map lookup). It prints operations per
//! second, the ratio to the baseline, and the reference figures of kube-fake-client 0.3.0.
//! With `BENCH_FIELD_MANAGER=<name>` every write names that field manager (the create records
//! an `Update` entry, so each replace goes through the managedFields bookkeeping, as a
//! controller's writes do on a real server).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use operator_runtime_core::clock::ManualClock;
use operator_runtime_core::store::{WatchParams, WriteParams};
use operator_runtime_core::{Object, ObjectRef, ObjectStore, TypeRef};
use operator_runtime_memory::MemoryStore;
use serde_json::{Map, Value};

const NAMESPACE: &str = "bench";
/// Writes between two yields, so the watcher task drains while the writer runs.
const YIELD_EVERY: usize = 256;

/// Reference figures (ops/s) and targets from issue 2.
const FAKE_CLIENT: [(&str, f64); 3] = [("create", 22_000.0), ("replace", 15_000.0), ("get", 46_000.0)];
const TARGET_WRITES: f64 = 100_000.0;
const TARGET_GETS: f64 = 1_000_000.0;

fn configmap_type() -> TypeRef {
    TypeRef::new("v1", "ConfigMap")
}

/// A ConfigMap with 10 entries of 120 bytes: about 1.5 KB of data, like a small app config.
fn configmap(index: usize, revision: u32) -> Object {
    let data: Map<String, Value> = (0..10)
        .map(|k| {
            let value = format!("{k:02}-{revision:04}-{index:08}-").repeat(8);
            (
                format!("setting-{k:02}.properties"),
                Value::String(value[..120].to_owned()),
            )
        })
        .collect();
    let mut object = Object::new(&configmap_type(), Some(NAMESPACE), &format!("config-{index:06}"));
    object.metadata.labels = Some([("app".to_owned(), "bench".to_owned())].into());
    object.with("data", Value::Object(data))
}

struct Phase {
    name: &'static str,
    ops: usize,
    store: Duration,
    baseline: Duration,
}

impl Phase {
    fn store_rate(&self) -> f64 {
        self.ops as f64 / self.store.as_secs_f64()
    }
    fn baseline_rate(&self) -> f64 {
        self.ops as f64 / self.baseline.as_secs_f64()
    }
}

async fn run(n: usize) -> Result<Vec<Phase>, Box<dyn std::error::Error>> {
    // Called directly (not through `Arc<dyn ObjectStore>`) so each call boxes one future, as
    // a user holding a `MemoryStore` would.
    let store = MemoryStore::builder()
        .seed(1)
        .clock(Arc::new(ManualClock::at_epoch()))
        .build();
    let params = WriteParams {
        field_manager: std::env::var("BENCH_FIELD_MANAGER").ok(),
        ..WriteParams::default()
    };
    store
        .create(&Object::new(&TypeRef::new("v1", "Namespace"), None, NAMESPACE), &params)
        .await?;

    // The watcher: a task that drains every ConfigMap event as the writer yields.
    let watch_params = WatchParams {
        resource_version: Some(store.current_revision().to_string()),
        ..WatchParams::default()
    };
    let mut events = store.watch(&configmap_type(), &watch_params).await?;
    let seen = Arc::new(AtomicU64::new(0));
    let seen_by_task = Arc::clone(&seen);
    let drainer = tokio::spawn(async move {
        while let Some(event) = events.next().await {
            black_box(event.ok());
            seen_by_task.fetch_add(1, Ordering::Relaxed);
        }
    });

    let creates: Vec<Object> = (0..n).map(|i| configmap(i, 0)).collect();

    let start = Instant::now();
    let mut created = Vec::with_capacity(n);
    for (i, object) in creates.iter().enumerate() {
        created.push(store.create(object, &params).await?);
        if i % YIELD_EVERY == 0 {
            tokio::task::yield_now().await;
        }
    }
    let create_time = start.elapsed();

    // Replace bodies: the stored object with one value changed, built outside the timing.
    let replaces: Vec<Object> = created
        .iter()
        .enumerate()
        .map(|(i, stored)| {
            let mut next = (**stored).clone();
            next.body.insert("data".into(), configmap(i, 1).body["data"].clone());
            next
        })
        .collect();
    drop(created);

    let start = Instant::now();
    for (i, object) in replaces.iter().enumerate() {
        black_box(store.replace(object, &params).await?);
        if i % YIELD_EVERY == 0 {
            tokio::task::yield_now().await;
        }
    }
    let replace_time = start.elapsed();

    let keys: Vec<ObjectRef> = replaces.iter().map(Object::object_ref).collect();
    let start = Instant::now();
    for key in &keys {
        black_box(store.get(key).await?);
    }
    let get_time = start.elapsed();

    // Let the watcher catch up, then check it saw every write.
    for _ in 0..1_000 {
        if seen.load(Ordering::Relaxed) >= 2 * n as u64 {
            break;
        }
        tokio::task::yield_now().await;
    }
    let events_seen = seen.load(Ordering::Relaxed);
    drainer.abort();
    println!("watcher received {events_seen} events for {} writes", 2 * n);

    // Baseline: the same objects serialized into a BTreeMap.
    let mut map: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let key_of = |o: &Object| format!("{}/{}", NAMESPACE, o.name());
    let start = Instant::now();
    for object in &creates {
        map.insert(key_of(object), serde_json::to_vec(object)?);
    }
    let baseline_create = start.elapsed();
    let start = Instant::now();
    for object in &replaces {
        map.insert(key_of(object), serde_json::to_vec(object)?);
    }
    let baseline_replace = start.elapsed();
    let string_keys: Vec<String> = replaces.iter().map(key_of).collect();
    let start = Instant::now();
    for key in &string_keys {
        black_box(map.get(key));
    }
    let baseline_get = start.elapsed();

    Ok(vec![
        Phase {
            name: "create",
            ops: n,
            store: create_time,
            baseline: baseline_create,
        },
        Phase {
            name: "replace",
            ops: n,
            store: replace_time,
            baseline: baseline_replace,
        },
        Phase {
            name: "get",
            ops: n,
            store: get_time,
            baseline: baseline_get,
        },
    ])
}

/// Keeps the faster of two measurements of the same phase.
fn best(a: Phase, b: Phase) -> Phase {
    Phase {
        name: a.name,
        ops: a.ops,
        store: a.store.min(b.store),
        baseline: a.baseline.min(b.baseline),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(Ok(50_000), |a| a.parse())?;
    let rounds: usize = args.next().map_or(Ok(3), |a| a.parse())?;
    let bytes = serde_json::to_vec(&configmap(0, 0))?.len();
    println!(
        "memory backend: {n} ConfigMaps of {bytes} bytes (JSON), one watcher, current-thread runtime, best of {rounds} rounds"
    );
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut phases = runtime.block_on(run(n))?;
    for _ in 1..rounds {
        let next = runtime.block_on(run(n))?;
        phases = phases.into_iter().zip(next).map(|(a, b)| best(a, b)).collect();
    }

    println!(
        "{:<8} {:>14} {:>16} {:>10} {:>16} {:>10}",
        "op", "store ops/s", "baseline ops/s", "ratio", "fake-client/s", "vs fake"
    );
    for (phase, (_, fake)) in phases.iter().zip(FAKE_CLIENT) {
        println!(
            "{:<8} {:>14.0} {:>16.0} {:>9.2}x {:>16.0} {:>9.1}x",
            phase.name,
            phase.store_rate(),
            phase.baseline_rate(),
            phase.store_rate() / phase.baseline_rate(),
            fake,
            phase.store_rate() / fake,
        );
    }
    for phase in &phases {
        let target = if phase.name == "get" {
            TARGET_GETS
        } else {
            TARGET_WRITES
        };
        let verdict = if phase.store_rate() >= target {
            "meets"
        } else {
            "MISSES"
        };
        println!("{:<8} {verdict} the target of {target:.0} ops/s", phase.name);
    }
    Ok(())
}
