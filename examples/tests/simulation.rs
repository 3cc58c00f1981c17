//! Deterministic simulation of the DataCluster operator.

use operator_runtime_examples::simulation::datacluster_simulation;

fn seeds(default: u64) -> u64 {
    std::env::var("SIM_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

#[test]
fn datacluster_passes_every_seed() {
    let sim = datacluster_simulation().unwrap_or_else(|e| panic!("{e}"));
    let summary = sim.run_seeds(0..seeds(20));
    assert!(summary.reconciles > 0);
}
