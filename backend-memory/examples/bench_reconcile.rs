//! Reconcile benchmark on the memory backend (issue 3). Printed, not asserted.
//!
//! The workload of `operator_runtime_conformance::bench`: parents with 4 node types x 3
//! children (ConfigMap, headless Service, StatefulSet), 12 children per parent.
//! - converge from empty: time, backend requests and writes; ratio to a baseline that creates
//!   the same child objects straight into a fresh store in the same process (run twice, the
//!   second compared: the first pays the page faults of fresh memory);
//! - a full resync of all parents with no change: requests and writes (target: 0 and 0);
//! - one spec change per parent (one node type's replicas): writes per parent.
//!
//! `cargo run --release -p operator-runtime-memory --example bench_reconcile [parents [history]]`
//! (`history`: the store's watch window in changes, default `DEFAULT_HISTORY_LIMIT`)

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use operator_runtime_conformance::bench::{BenchWorld, NODE_TYPES, owned_kinds, print_counts, thread_cpu};
use operator_runtime_core::counting::Verb;
use operator_runtime_core::store::{ListParams, WriteParams};
use operator_runtime_core::{ObjectStore, ObjectStoreExt};
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
    // the peak memory printed at the end is the runtime's world). Run twice, the second run
    // compared: the first is the first to touch the process's memory, and its page faults made
    // it about 1.5x as slow at 1,000 parents, which flattered the ratio.
    let mut runs = Vec::new();
    for run in ["first touch of fresh memory", "compared"] {
        let base_store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
        let base = BenchWorld::bench(Arc::clone(&base_store), "bench_reconcile_baseline").await?;
        let created = base.create_parents(parents).await?;
        let children = base.desired_children(&created)?;
        let (t, cpu) = (Instant::now(), thread_cpu());
        for c in &children {
            base_store
                .create(c, &WriteParams::default())
                .await
                .map_err(|e| format!("baseline create: {e}"))?;
        }
        let baseline = t.elapsed();
        let cpu = thread_cpu().saturating_sub(cpu);
        println!(
            "baseline: {} creates straight into the store in {:.3}s ({:.3}s CPU; {run})",
            children.len(),
            baseline.as_secs_f64(),
            cpu.as_secs_f64()
        );
        runs.push(baseline);
    }
    let baseline = runs[runs.len() - 1];

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
    println!(
        "converge CPU time: {:.3}s (this thread; the wall time above includes waiting for a CPU)",
        converge.cpu.as_secs_f64()
    );
    print_counts("converge", &converge.requests);

    memory_breakdown(&world).await?;

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
    if let Some(peak) = proc_status("VmHWM:") {
        println!("peak resident memory (VmHWM): {peak}");
    }
    Ok(())
}

/// A field of `/proc/self/status` (e.g. `VmRSS:`), as printed there.
fn proc_status(field: &str) -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .map(|v| v.trim().to_owned())
}

/// What the converged world holds: the children's JSON size (and the managedFields part of it)
/// next to the process's resident memory, so the memory per child can be set against the data.
async fn memory_breakdown(world: &BenchWorld) -> Result<(), String> {
    let (mut count, mut json, mut managed) = (0usize, 0usize, 0usize);
    for kind in owned_kinds() {
        let list = world
            .raw
            .list_all(&kind, &ListParams::in_namespace(&world.ns))
            .await
            .map_err(|e| format!("list {kind}: {e}"))?;
        for object in &list.items {
            count += 1;
            json += serde_json::to_vec(&**object).map_err(|e| e.to_string())?.len();
            managed += serde_json::to_vec(&object.metadata.managed_fields)
                .map_err(|e| e.to_string())?
                .len();
        }
    }
    let per = |bytes: usize| bytes as f64 / count.max(1) as f64;
    println!(
        "converged store: {count} children, {:.0} bytes of JSON per child ({:.0} of them managedFields); resident now {}",
        per(json),
        per(managed),
        proc_status("VmRSS:").unwrap_or_default()
    );
    Ok(())
}
