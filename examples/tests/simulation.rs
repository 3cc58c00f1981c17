//! Deterministic simulation: the DataCluster operator over many seeds, the determinism check,
//! and the bug-catching table (each buggy operator caught, each correct twin passing).
//!
//! By default one run covers 19,000 seeds: 10,000 of the DataCluster world and 1,500 for each
//! of the six correct twins, on one thread per core. `SIM_SEEDS=N` changes the number of
//! DataCluster seeds, `SIM_THREADS=N` the threads,
//! `SIM_TWIN_SEEDS=N` the seeds each twin runs, `SIM_BUG=<part of a name>` the rows of the
//! table; `SIM_SEED=N` replays one seed of the DataCluster test, or with `SIM_BUG=<name>` one
//! seed of that buggy operator (of its correct twin with `SIM_TWIN=1`), as a failure prints.

// A simulation allocates and frees small JSON maps all the time: with mimalloc as the test
// binary's allocator the DataCluster world runs about 30% more seeds per second than with
// glibc's (a choice of the binary, as for any user's simulation test).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use operator_runtime_examples::buggy::Bug;
use operator_runtime_examples::simulation::datacluster_simulation;
use operator_runtime_memory::simulation::SeedsSummary;

fn env_seeds(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

#[test]
fn datacluster_passes_every_seed() {
    let sim = datacluster_simulation().unwrap_or_else(|e| panic!("{e}"));
    let summary = sim.run_seeds(0..env_seeds("SIM_SEEDS", 10_000));
    if std::env::var("SIM_SEED").is_err() {
        // (A replay of one seed with a shrunk schedule may have no fault at all.)
        assert!(summary.reconciles > summary.seeds, "the operator ran: {summary}");
        assert!(
            summary.faults > 0 && summary.crashes > 0,
            "faults were injected: {summary}"
        );
    }
}

#[test]
fn a_seed_replays_bit_for_bit() {
    let sim = datacluster_simulation().unwrap_or_else(|e| panic!("{e}"));
    for seed in [3, 11] {
        sim.check_determinism(seed).unwrap_or_else(|e| panic!("{e}"));
    }
    let a = sim.run_schedule(&sim.schedule(5)).unwrap_or_else(|e| panic!("{e}"));
    let b = sim.run_schedule(&sim.schedule(6)).unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(a.trace, b.trace, "different seeds explore different runs");
}

#[test]
fn seeds_on_several_threads_give_the_sequential_answer() {
    let sim = datacluster_simulation().unwrap_or_else(|e| panic!("{e}")).threads(1);
    let one = sim.try_run_seeds(0..24).unwrap_or_else(|f| panic!("{f}"));
    let sim = datacluster_simulation().unwrap_or_else(|e| panic!("{e}")).threads(3);
    let three = sim.try_run_seeds(0..24).unwrap_or_else(|f| panic!("{f}"));
    assert_eq!((one.threads, three.threads), (1, 3));
    let counts = |s: &SeedsSummary| {
        (
            s.seeds,
            s.steps,
            s.reconciles,
            s.writes,
            s.faults,
            s.crashes,
            s.virtual_time,
        )
    };
    assert_eq!(
        counts(&one),
        counts(&three),
        "sequential: {one}\nthree threads: {three}"
    );

    // The failure reported is the lowest failing seed, whatever the other threads ran.
    let bug = Bug::FinalizerBeforeCleanup;
    let caught = |threads| match bug
        .simulation(true)
        .threads(threads)
        .shrink_budget(0)
        .try_run_seeds(0..1000)
    {
        Ok(summary) => panic!("{} was not caught: {summary}", bug.name()),
        Err(failure) => (failure.seed, failure.seeds_run, failure.violation.invariant.clone()),
    };
    assert_eq!(caught(1), caught(4));
}

#[test]
fn every_buggy_operator_is_caught_and_every_twin_passes() {
    let twin_seeds = env_seeds("SIM_TWIN_SEEDS", 1_500);
    let mut table = vec![format!(
        "{:<36} {:>15} {:<20} {:>18}",
        "bug", "seeds to catch", "invariant", "twin seeds passed"
    )];
    // `SIM_BUG=<part of a name>` runs only the matching rows.
    let only = std::env::var("SIM_BUG").ok();
    let twin_only = std::env::var("SIM_TWIN").is_ok_and(|v| v == "1");
    for bug in Bug::ALL {
        if only.as_deref().is_some_and(|o| !bug.name().contains(o)) {
            continue;
        }
        let buggy = bug.simulation(true).replay_env(format!("SIM_BUG='{}'", bug.name()));
        let correct = bug
            .simulation(false)
            .replay_env(format!("SIM_BUG='{}' SIM_TWIN=1", bug.name()));
        if only.is_some() && std::env::var("SIM_SEED").is_ok() {
            // A replay of one seed as a failure printed it: `run_seeds` reads `SIM_SEED`.
            if twin_only {
                correct.run_seeds(0..1);
            } else {
                let replayed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| buggy.run_seeds(0..1)));
                assert!(replayed.is_err(), "the replayed seed of {} did not fail", bug.name());
            }
            continue;
        }
        let failure = match buggy.try_run_seeds(0..1000) {
            Ok(summary) => panic!("{} was not caught in 1000 seeds ({summary})", bug.name()),
            Err(failure) => failure,
        };
        assert_eq!(
            failure.violation.invariant,
            bug.expected_invariant(),
            "{} was caught by another invariant:\n{failure}",
            bug.name()
        );
        assert_eq!(failure.deterministic, Some(true), "the failing seed replays: {failure}");
        let shrunk = failure
            .shrunk
            .as_ref()
            .map_or(String::new(), |s| format!("shrunk to {} steps", s.steps.1));
        println!("--- {} caught: {}\n{}", bug.name(), shrunk, failure.violation);
        let twin = correct
            .try_run_seeds(0..twin_seeds)
            .unwrap_or_else(|failure| panic!("the twin of {} fails:\n{failure}", bug.name()));
        table.push(format!(
            "{:<36} {:>15} {:<20} {:>18}",
            bug.name(),
            failure.seeds_run,
            failure.violation.invariant,
            format!("{} ({:.0}/s)", twin.seeds, twin.seeds_per_second())
        ));
    }
    println!("{}", table.join("\n"));
    println!(
        "bug table: {} buggy operators caught, {} twin seeds passed",
        table.len() - 1,
        (table.len() - 1) as u64 * twin_seeds
    );
}
