//! Shrinking: a failing schedule is reduced to fewer fault classes and fewer user steps that
//! still violate the same invariant (same seed; the steps left keep their draws, since the
//! user's schedule is drawn before the run).

use std::collections::BTreeSet;

use super::faults::FaultClass;
use super::runner::{RunReport, Schedule, SimInner, run_once};

/// A reduced failing schedule.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The reduced schedule.
    pub schedule: Schedule,
    /// Its run (still failing the same way).
    pub report: RunReport,
    /// User steps before and after shrinking.
    pub steps: (usize, usize),
    /// Fault classes before and after shrinking.
    pub fault_classes: (Vec<FaultClass>, Vec<FaultClass>),
    /// Runs spent shrinking.
    pub runs: usize,
}

/// Shrinks `failing` within `budget` runs.
pub(crate) fn shrink(inner: &SimInner, failing: &RunReport, budget: usize) -> Option<Shrunk> {
    let invariant = failing.violation.as_ref()?.invariant.clone();
    let last = failing.stats.last_step?;
    let mut best = failing.clone();
    let mut schedule = failing.schedule.clone();
    let initial: BTreeSet<usize> = match &schedule.keep {
        Some(keep) => keep.iter().copied().filter(|i| *i <= last).collect(),
        None => (0..=last).collect(),
    };
    schedule.keep = Some(initial.clone());
    let mut runs = 0;
    let still_fails = |candidate: &Schedule, runs: &mut usize| -> Option<RunReport> {
        *runs += 1;
        let report = run_once(inner, candidate).ok()?;
        (report.violation.as_ref()?.invariant == invariant).then_some(report)
    };

    // Fewer fault classes.
    let classes_before = schedule.faults.enabled();
    for class in classes_before.clone() {
        if runs >= budget {
            break;
        }
        let mut candidate = schedule.clone();
        candidate.faults.set(class, 0.0);
        if let Some(report) = still_fails(&candidate, &mut runs) {
            schedule = candidate;
            best = report;
        }
    }

    // Fewer steps (ddmin).
    let mut keep: Vec<usize> = initial.iter().copied().collect();
    let mut chunks = 2usize;
    while keep.len() >= 2 && runs < budget {
        let size = keep.len().div_ceil(chunks);
        let mut reduced = false;
        for start in (0..keep.len()).step_by(size) {
            if runs >= budget {
                break;
            }
            let rest: Vec<usize> = keep
                .iter()
                .enumerate()
                .filter(|(i, _)| *i < start || *i >= start + size)
                .map(|(_, s)| *s)
                .collect();
            let mut candidate = schedule.clone();
            candidate.keep = Some(rest.iter().copied().collect());
            if let Some(report) = still_fails(&candidate, &mut runs) {
                keep = rest;
                schedule = candidate;
                best = report;
                chunks = (chunks - 1).max(2);
                reduced = true;
                break;
            }
        }
        if !reduced {
            if chunks >= keep.len() {
                break;
            }
            chunks = (chunks * 2).min(keep.len());
        }
    }
    // A single step left may be unnecessary too.
    if keep.len() == 1 && runs < budget {
        let mut candidate = schedule.clone();
        candidate.keep = Some(BTreeSet::new());
        if let Some(report) = still_fails(&candidate, &mut runs) {
            keep.clear();
            schedule = candidate;
            best = report;
        }
    }
    Some(Shrunk {
        fault_classes: (classes_before, schedule.faults.enabled()),
        steps: (initial.len(), keep.len()),
        schedule,
        report: best,
        runs,
    })
}
