//! Reconcile benchmark on the memory backend (issue 3). Printed, not asserted.
//!
//! The workload of `operator_runtime_conformance::bench`: parents with 4 node types x 3
//! children (ConfigMap, headless Service, StatefulSet), 12 children per parent.
//! - converge from empty: time, backend requests and writes; ratio to a baseline that creates
//!   the same child objects straight into a fresh store in the same process;
//! - a full resync of all parents with no change: requests and writes (target: 0 and 0);
//! - one spec change per parent (one node type's replicas): writes per parent.
//!
//! `cargo run --release -p operator-runtime-memory --example bench_reconcile [parents [history]]`
//! (`history`: the store's watch window in changes, default `DEFAULT_HISTORY_LIMIT`)

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use operator_runtime_conformance::bench::{BenchWorld, NODE_TYPES, print_counts};
use operator_runtime_core::ObjectStore;
use operator_runtime_core::counting::Verb;
use operator_runtime_core::store::WriteParams;
use operator_runtime_memory::MemoryStore;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_reconcile: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let parents: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    println!(
        "bench_reconcile: {parents} parents x {} node types x 3 children",
        NODE_TYPES.len()
    );

    // Baseline: the same children written straight into a fresh store (dropped afterwards, so
    // the peak memory printed at the end is the runtime's world).
    let baseline = {
        let base_store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
        let base = BenchWorld::bench(Arc::clone(&base_store), "bench_reconcile_baseline").await?;
        let created = base.create_parents(parents).await?;
        let children = base.desired_children(&created)?;
        let t = Instant::now();
        for c in &children {
            base_store
                .create(c, &WriteParams::default())
                .await
                .map_err(|e| format!("baseline create: {e}"))?;
        }
        let baseline = t.elapsed();
        println!(
            "baseline: {} creates straight into the store in {:.3}s",
            children.len(),
            baseline.as_secs_f64()
        );
        baseline
    };

    // The watch window of the runtime's store: changes kept for watches that resume.
    let history = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(operator_runtime_memory::DEFAULT_HISTORY_LIMIT);
    let store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::builder().history_limit(history).build());
    let world = BenchWorld::bench(store, "bench_reconcile").await?;
    world.create_parents(parents).await?;
    world.settle().await?;
    // Only the reconciles are timed; the simulated StatefulSet controller and the wait for the
    // cache are not the runtime's work.
    let converge = world.converge_all(parents).await?;
    println!(
        "converge: {:.3}s in {} rounds (incl. the last, write-free round); ratio to baseline {:.2}x",
        converge.elapsed.as_secs_f64(),
        converge.rounds,
        converge.elapsed.as_secs_f64() / baseline.as_secs_f64()
    );
    print_counts("converge", &converge.requests);

    let resync = world.resync_all(parents).await?;
    println!(
        "resync of {parents} unchanged parents: {:.3}s, {} writes",
        resync.elapsed.as_secs_f64(),
        resync.writes
    );
    print_counts("resync (target 0 / 0)", &resync.requests);

    world.change_every_spec(parents).await?;
    world.settle().await?;
    let c = world.resync_all(parents).await?.requests;
    println!(
        "one spec change per parent: {:.2} child writes + {:.2} status writes per parent",
        (c.writes() - c.verb(Verb::ReplaceStatus)) as f64 / parents as f64,
        c.verb(Verb::ReplaceStatus) as f64 / parents as f64
    );
    print_counts("spec change", &c);
    if let Some(peak) = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("VmHWM:")).map(|v| v.trim().to_owned()))
    {
        println!("peak resident memory (VmHWM): {peak}");
    }
    Ok(())
}
