//! Reconcile benchmark on the real API server. Printed, not asserted.
//!
//! Starts a working test cluster (etcd, kube-apiserver, the workload controllers, scheduler and
//! fake nodes, built by `backend-kube/controlplane/build.sh`), then runs the workload of
//! `operator_runtime_conformance::bench` through `KubeStore`: 100 parents x 12 children.
//! - cache start: the lists and watches the internal cache opens;
//! - converge from empty: backend requests and writes, time;
//! - a resync of every parent with no change (target: 0 requests, 0 writes beyond the watches);
//! - baseline in the same process: a client loop that server-side applies the same children,
//!   once to converge and once more as its "resync" (it has no change detection).
//!
//! `cargo run --release -p operator-runtime-kube --example bench_kube [parents]`

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use operator_runtime_conformance::bench::{BenchWorld, NODE_TYPES, print_counts};
use operator_runtime_core::counting::{CountingStore, Verb};
use operator_runtime_core::store::{Patch, PatchParams};
use operator_runtime_core::{Object, ObjectStore};
use operator_runtime_kube::KubeStore;
use operator_runtime_kube::testenv::{TestEnv, TestEnvOptions};

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_kube: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let parents: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100);
    println!(
        "bench_kube: {parents} parents x {} node types x 3 children through KubeStore on the test control plane",
        NODE_TYPES.len()
    );
    let t = Instant::now();
    // A working cluster: the real Deployment/StatefulSet controllers and fake-node pods decide
    // when a node type is ready (no stand-in writes workload status).
    let env = TestEnv::start_with(&TestEnvOptions::cluster())
        .await
        .map_err(|e| format!("test control plane: {e}"))?;
    println!("control plane started in {:.1}s", t.elapsed().as_secs_f64());
    let client = env.client().map_err(|e| format!("client: {e}"))?;
    let store: Arc<dyn ObjectStore> = Arc::new(KubeStore::new(client));

    let before = std::time::Instant::now();
    let world = BenchWorld::bench(Arc::clone(&store), "bench_kube").await?;
    println!("cache started and synced in {:.2}s", before.elapsed().as_secs_f64());

    let created = world.create_parents(parents).await?;
    world.settle().await?;
    // Counted once the cache has caught up: a kind reports synced after its list, and its
    // watch opens right after.
    print_counts("cache start (lists + watches)", &world.counted.snapshot());
    // Between rounds `converge_all` waits for the real workload controllers and pods.
    let converge = world.converge_all(parents).await?;
    println!(
        "converge: {:.2}s of reconciles in {} rounds (incl. the last, write-free round)",
        converge.elapsed.as_secs_f64(),
        converge.rounds
    );
    print_counts("converge", &converge.requests);

    let resync = world.resync_all(parents).await?;
    println!(
        "resync of {parents} unchanged parents: {:.3}s, {} writes",
        resync.elapsed.as_secs_f64(),
        resync.writes
    );
    print_counts("resync (target 0 / 0)", &resync.requests);

    // Baseline: apply every desired child with a plain client loop, twice.
    let children = world.desired_children(&created)?;
    let counted = CountingStore::new(Arc::clone(&store));
    let params = PatchParams::apply("bench-baseline").force();
    let apply_all = |children: &[Arc<Object>]| {
        let counted = &counted;
        let params = &params;
        let children = children.to_vec();
        async move {
            for child in &children {
                let body = child
                    .to_value()
                    .map_err(|e| format!("serialize {}: {e}", child.name()))?;
                counted
                    .patch(&child.object_ref(), &Patch::Apply(body), params)
                    .await
                    .map_err(|e| format!("baseline apply {}: {e}", child.name()))?;
            }
            Ok::<(), String>(())
        }
    };
    let t = Instant::now();
    apply_all(&children).await?;
    let base_converge = t.elapsed();
    let base_converge_counts = counted.snapshot();
    let t = Instant::now();
    apply_all(&children).await?;
    let base_resync = t.elapsed();
    let base_resync_counts = counted.snapshot().since(&base_converge_counts);
    println!(
        "baseline apply loop: converge {} requests in {:.2}s; resync {} requests in {:.2}s",
        base_converge_counts.total(),
        base_converge.as_secs_f64(),
        base_resync_counts.total(),
        base_resync.as_secs_f64()
    );
    print_counts("baseline converge", &base_converge_counts);
    print_counts("baseline resync", &base_resync_counts);

    let ratio = |a: u64, b: u64| if b == 0 { f64::NAN } else { a as f64 / b as f64 };
    println!(
        "ratio of requests, runtime / baseline: converge {:.2}, resync {:.2}",
        ratio(converge.requests.total(), base_converge_counts.total()),
        ratio(resync.requests.total(), base_resync_counts.total())
    );
    println!(
        "ratio of time, runtime reconciles / baseline apply loop: converge {:.2}x, resync {:.3}x",
        converge.elapsed.as_secs_f64() / base_converge.as_secs_f64(),
        resync.elapsed.as_secs_f64() / base_resync.as_secs_f64()
    );
    println!(
        "converge writes per parent: {:.2} ({} child applies, {} finalizer replaces, {} status writes)",
        converge.requests.writes() as f64 / parents as f64,
        converge.requests.verb(Verb::Patch),
        converge.requests.verb(Verb::Replace),
        converge.requests.verb(Verb::ReplaceStatus)
    );
    Ok(())
}
