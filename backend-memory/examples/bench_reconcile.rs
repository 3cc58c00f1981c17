//! Reconcile benchmark on the memory backend (issue 3, item 8). Printed, not asserted.
//!
//! 1,000 parents, each with 4 node types and 3 children per node type (ConfigMap, headless
//! Service, StatefulSet): 12 children per parent.
//! - converge from empty: time, backend requests and writes; ratio to a baseline that creates
//!   the same child objects straight into a fresh store in the same process;
//! - a full resync of all parents with no change: requests and writes (target: 0 and 0);
//! - one spec change per parent (one node type's replicas): writes per parent.
//!
//! `cargo run --release -p operator-runtime-memory --example bench_reconcile [parents]`

use std::sync::Arc;
use std::time::Instant;

use operator_runtime_conformance::support::kinds;
use operator_runtime_core::builder::{DesiredSet, OwnedKind, Ownership};
use operator_runtime_core::cache::{Cache, CacheConfig};
use operator_runtime_core::clock::ManualClock;
use operator_runtime_core::counting::{CountingStore, RequestCounts, Verb};
use operator_runtime_core::events::MemoryRecorder;
use operator_runtime_core::reconcile::{Operator, Reconciler, ReconcilerConfig, SpecError};
use operator_runtime_core::store::{ListParams, WriteParams};
use operator_runtime_core::{Object, ObjectRef, ObjectStore, ObjectStoreExt, TypeRef};
use operator_runtime_memory::MemoryStore;
use serde_json::{Value, json};

const NS: &str = "bench";
const NODE_TYPES: [&str; 4] = ["controller", "broker", "server", "minion"];

struct ClusterOperator {
    ownership: Ownership,
}

fn kinds_owned() -> [TypeRef; 3] {
    [
        TypeRef::new("v1", "ConfigMap"),
        TypeRef::new("v1", "Service"),
        TypeRef::new("apps/v1", "StatefulSet"),
    ]
}

impl Operator for ClusterOperator {
    fn parent_type(&self) -> TypeRef {
        kinds::widget()
    }
    fn ownership(&self) -> &Ownership {
        &self.ownership
    }
    fn desired(&self, parent: &Object, set: &mut DesiredSet) -> Result<(), SpecError> {
        let replicas = parent
            .spec()
            .and_then(|s| s.get("replicas"))
            .cloned()
            .unwrap_or(json!({}));
        for node in NODE_TYPES {
            set.declare_group(node)
                .map_err(|e| SpecError::new("spec", e.to_string()))?;
        }
        for node in NODE_TYPES {
            let name = format!("{}-{node}", parent.name());
            let ns = parent.namespace();
            let config: serde_json::Map<String, Value> = (0..20)
                .map(|i| {
                    (
                        format!("{node}.setting.{i}"),
                        json!(format!("value-{i}-{}", "x".repeat(40))),
                    )
                })
                .collect();
            let cm = Object::new(&kinds_owned()[0], ns, &name).with("data", Value::Object(config));
            let hash = operator_runtime_core::builder::config_hash(&cm);
            let labels = json!({"app": name});
            let svc = Object::new(&kinds_owned()[1], ns, &name).with(
                "spec",
                json!({"clusterIP": "None", "selector": labels, "ports": [{"name": "http", "port": 8080}]}),
            );
            let sts = Object::new(&kinds_owned()[2], ns, &name).with(
                "spec",
                json!({"replicas": replicas.get(node).cloned().unwrap_or(json!(3)), "serviceName": name,
                    "selector": {"matchLabels": labels},
                    "template": {"metadata": {"labels": labels, "annotations": {"config-hash": hash}},
                        "spec": {"containers": [{"name": node, "image": "apache/pinot:1.2.0", "ports": [{"containerPort": 8080}]}]}}}),
            );
            for child in [cm, svc, sts] {
                set.add(node, child)
                    .map_err(|e| SpecError::new("spec", e.to_string()))?;
            }
        }
        Ok(())
    }
}

struct World {
    counted: Arc<CountingStore<MemoryStore>>,
    cache: Cache,
    reconciler: Reconciler<ClusterOperator>,
}

async fn setup(store: &MemoryStore) -> World {
    let p = WriteParams::default();
    store.create(&Object::new(&kinds::namespace(), None, NS), &p).await.ok();
    store.create(&kinds::widget_crd(), &p).await.ok();
    let counted = Arc::new(CountingStore::new(store.clone()));
    let cache = Cache::new(Arc::clone(&counted), CacheConfig::default());
    let mut ownership = Ownership::new("bench-operator");
    for k in kinds_owned() {
        ownership = ownership.owns(OwnedKind::namespaced(k));
    }
    let reconciler = Reconciler::new(
        counted.clone(),
        cache.clone(),
        Arc::new(MemoryRecorder::new()),
        Arc::new(ManualClock::at_epoch()),
        Arc::new(ClusterOperator { ownership }),
        ReconcilerConfig::new("bench-operator"),
    );
    reconciler.track().expect("track");
    cache.wait_all_synced().await.expect("sync");
    World {
        counted,
        cache,
        reconciler,
    }
}

/// Waits until the cache holds every object the store holds (by resourceVersion).
async fn settle(store: &MemoryStore, world: &World) {
    loop {
        let mut done = true;
        for kind in world.reconciler.watched_types() {
            let live = store
                .list_all(&kind, &ListParams::in_namespace(NS))
                .await
                .expect("list");
            let cached = world.cache.list(&kind, Some(NS), None).expect("cache list");
            if live.items.len() != cached.len()
                || live
                    .items
                    .iter()
                    .zip(&cached)
                    .any(|(a, b)| a.resource_version() != b.resource_version())
            {
                done = false;
            }
        }
        if done {
            return;
        }
        tokio::task::yield_now().await;
    }
}

/// Plays the StatefulSet controller: every StatefulSet reports ready at its generation.
async fn mark_ready(store: &MemoryStore) {
    let list = store
        .list_all(&kinds_owned()[2], &ListParams::in_namespace(NS))
        .await
        .expect("list");
    for s in list.items {
        let r = s
            .spec()
            .and_then(|x| x.get("replicas"))
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let status = json!({"observedGeneration": s.metadata.generation.unwrap_or(0), "replicas": r, "readyReplicas": r,
            "updatedReplicas": r, "availableReplicas": r, "currentRevision": "r1", "updateRevision": "r1"});
        if s.status() != Some(&status) {
            let mut u = (*s).clone();
            u.body.insert("status".into(), status);
            store.replace_status(&u, &WriteParams::default()).await.expect("status");
        }
    }
}

fn parent_key(i: usize) -> ObjectRef {
    ObjectRef::namespaced(kinds::widget(), NS, format!("dc-{i:04}"))
}

async fn reconcile_all(world: &World, parents: usize) -> usize {
    let mut writes = 0;
    for i in 0..parents {
        let report = world.reconciler.reconcile(&parent_key(i)).await.expect("reconcile");
        writes += report.child_writes + usize::from(report.status_written) + usize::from(report.finalizer_written);
    }
    writes
}

fn print_counts(label: &str, c: &RequestCounts) {
    println!(
        "{label:<34} requests {:>7}  writes {:>7}  (apply {:>6}, replace {:>5}, status {:>5}, reads {:>4})",
        c.total(),
        c.writes(),
        c.verb(Verb::Patch),
        c.verb(Verb::Replace),
        c.verb(Verb::ReplaceStatus),
        c.reads()
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let parents: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    println!(
        "bench_reconcile: {parents} parents x {} node types x 3 children",
        NODE_TYPES.len()
    );

    // Baseline: the same children written straight into a fresh store.
    let base_store = MemoryStore::new();
    let base = setup(&base_store).await;
    let mut children = Vec::new();
    for i in 0..parents {
        let w = Object::new(&kinds::widget(), Some(NS), &format!("dc-{i:04}")).with("spec", json!({}));
        let parent = base_store.create(&w, &WriteParams::default()).await.expect("parent");
        let mut set = DesiredSet::new(&parent, base.reconciler.operator().ownership()).expect("set");
        base.reconciler.operator().desired(&parent, &mut set).expect("desired");
        children.extend(set.children().map(|c| Arc::clone(&c.object)));
    }
    let t = Instant::now();
    for c in &children {
        base_store.create(c, &WriteParams::default()).await.expect("create");
    }
    let baseline = t.elapsed();
    println!(
        "baseline: {} creates straight into the store in {:.3}s",
        children.len(),
        baseline.as_secs_f64()
    );

    let store = MemoryStore::new();
    let world = setup(&store).await;
    for i in 0..parents {
        let w = Object::new(&kinds::widget(), Some(NS), &format!("dc-{i:04}")).with("spec", json!({}));
        store.create(&w, &WriteParams::default()).await.expect("parent");
    }
    settle(&store, &world).await;
    let before = world.counted.snapshot();
    let mut converge = std::time::Duration::ZERO;
    let mut rounds = 0;
    loop {
        rounds += 1;
        // Only the reconciles are timed; the simulated StatefulSet controller and the wait for
        // the cache are not the runtime's work.
        let t = Instant::now();
        let writes = reconcile_all(&world, parents).await;
        converge += t.elapsed();
        mark_ready(&store).await;
        settle(&store, &world).await;
        if writes == 0 || rounds > 10 {
            break;
        }
    }
    let c = world.counted.snapshot().since(&before);
    println!(
        "converge: {:.3}s in {rounds} rounds (incl. the last, write-free round); ratio to baseline {:.2}x",
        converge.as_secs_f64(),
        converge.as_secs_f64() / baseline.as_secs_f64()
    );
    print_counts("converge", &c);

    let before = world.counted.snapshot();
    let t = Instant::now();
    let writes = reconcile_all(&world, parents).await;
    let resync = t.elapsed();
    let c = world.counted.snapshot().since(&before);
    println!(
        "resync of {parents} unchanged parents: {:.3}s, {writes} writes",
        resync.as_secs_f64()
    );
    print_counts("resync (target 0 / 0)", &c);

    for i in 0..parents {
        let mut p = (*store.get(&parent_key(i)).await.expect("parent")).clone();
        p.body.insert("spec".into(), json!({"replicas": {"broker": 5}}));
        store.replace(&p, &WriteParams::default()).await.expect("spec change");
    }
    settle(&store, &world).await;
    let before = world.counted.snapshot();
    reconcile_all(&world, parents).await;
    let c = world.counted.snapshot().since(&before);
    println!(
        "one spec change per parent: {:.2} child writes + {:.2} status writes per parent",
        (c.writes() - c.verb(Verb::ReplaceStatus)) as f64 / parents as f64,
        c.verb(Verb::ReplaceStatus) as f64 / parents as f64
    );
    print_counts("spec change", &c);
}
