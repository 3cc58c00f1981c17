//! Printing results: one block per divergent seed (the minimal sequence, both answers, the
//! replay command) and a summary with the figures.

use std::fmt::Write as _;
use std::time::Duration;

use super::compare::SideNames;
use super::engine::{Figures, SeedResult};

/// The command that runs the fuzzer (replay arguments are appended).
pub const COMMAND: &str = "cargo run -p operator-runtime-kube --features differential --bin differential --";

/// The block printed for a seed with a divergence (empty when it had none).
pub fn describe(result: &SeedResult, names: &SideNames) -> String {
    let Some(shrunk) = &result.divergence else {
        return String::new();
    };
    let mut out = String::new();
    let verdict = match shrunk.accepted {
        Some(a) => format!("accepted ({})", a.reason),
        None => "NOT ACCEPTED".to_owned(),
    };
    let _ = writeln!(
        out,
        "differential: seed={} diverges, {verdict}: {}",
        result.seed, shrunk.divergence.class
    );
    let _ = writeln!(
        out,
        "  minimal sequence ({} of {} operations):",
        shrunk.ops.len(),
        result.operations
    );
    for (index, op) in shrunk.replay.keep.iter().zip(&shrunk.ops) {
        let _ = writeln!(out, "    [{index}] {op}");
    }
    for line in shrunk.divergence.display(names).to_string().lines() {
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(out, "  replay: {COMMAND} {}", shrunk.replay.args());
    out
}

/// Totals of a run.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Seeds checked.
    pub seeds: u64,
    /// Seeds with a divergence that is not accepted.
    pub failed: Vec<u64>,
    /// The class of each failed seed's (shrunk) divergence.
    pub failed_classes: Vec<(u64, String)>,
    /// Seeds with an accepted divergence.
    pub accepted: Vec<u64>,
    /// Seeds whose run could not be set up (harness errors).
    pub errors: Vec<(u64, String)>,
    /// Seeds whose divergence a second run did not show, with its class.
    pub unconfirmed: Vec<(u64, String)>,
}

impl Summary {
    /// Adds one seed's result.
    pub fn add(&mut self, result: &Result<SeedResult, String>, seed: u64) {
        self.seeds += 1;
        match result {
            Err(e) => self.errors.push((seed, e.clone())),
            Ok(r) => match &r.divergence {
                None if r.unconfirmed.is_some() => {
                    self.unconfirmed.push((seed, r.unconfirmed.clone().unwrap_or_default()));
                }
                Some(s) if s.accepted.is_some() => self.accepted.push(seed),
                Some(s) => {
                    self.failed.push(seed);
                    self.failed_classes.push((seed, s.divergence.class.clone()));
                }
                None => {}
            },
        }
    }

    /// True when no seed failed or errored.
    pub fn is_success(&self) -> bool {
        self.failed.is_empty() && self.errors.is_empty()
    }

    /// The summary lines, with figures and the elapsed wall time.
    pub fn render(&self, figures: &Figures, names: &SideNames, elapsed: Duration) -> String {
        let per_sec = |n: u64, d: Duration| {
            if d.is_zero() { 0.0 } else { n as f64 / d.as_secs_f64() }
        };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "differential: {} seeds in {:.1} s ({:.1} seeds/s): {} clean, {} accepted, {} failed {:?}, {} not confirmed, {} errors",
            self.seeds,
            elapsed.as_secs_f64(),
            per_sec(self.seeds, elapsed),
            self.seeds as usize - self.failed.len() - self.accepted.len() - self.errors.len() - self.unconfirmed.len(),
            self.accepted.len(),
            self.failed.len(),
            self.failed,
            self.unconfirmed.len(),
            self.errors.len(),
        );
        let _ = writeln!(
            out,
            "differential: {} sequence runs (shrinking included), {} operations per side; \
             {}: {:.2} s ({:.0} ops/s), {}: {:.2} s ({:.0} ops/s), waiting for garbage collection: {:.2} s",
            figures.sequences,
            figures.operations,
            names.left,
            figures.left.as_secs_f64(),
            per_sec(figures.operations, figures.left),
            names.right,
            figures.right.as_secs_f64(),
            per_sec(figures.operations, figures.right),
            figures.settle.as_secs_f64(),
        );
        for (seed, class) in &self.unconfirmed {
            let _ = writeln!(
                out,
                "differential: seed={seed}: not confirmed by a second run (the real server raced it): {class}"
            );
        }
        for (seed, e) in &self.errors {
            let _ = writeln!(out, "differential: seed={seed}: harness error: {e}");
        }
        out
    }
}
