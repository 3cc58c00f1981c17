//! The trace of one simulated run: what every actor did, in virtual time.
//!
//! Two runs of the same seed and schedule produce the same trace, line for line; that is the
//! determinism check ([`super::Simulation::check_determinism`]).

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// One line of a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceEntry {
    /// Virtual time since the run started.
    pub at: Duration,
    /// Who acted: `user`, `workload`, `op-0`, `faults`, `sim`, ...
    pub actor: String,
    /// What happened.
    pub what: String,
}

impl fmt::Display for TraceEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{:>4}.{:03}s] {:<9} {}",
            self.at.as_secs(),
            self.at.subsec_millis(),
            self.actor,
            self.what
        )
    }
}

/// The shared, append-only trace of one run (clones share it).
#[derive(Clone, Debug)]
pub struct Trace {
    entries: Arc<Mutex<Vec<TraceEntry>>>,
    start: Instant,
}

impl Trace {
    /// An empty trace starting now (tokio time).
    pub(crate) fn new() -> Self {
        Self {
            entries: Arc::new(Mutex::new(Vec::new())),
            start: Instant::now(),
        }
    }

    /// Appends one line.
    pub fn push(&self, actor: &str, what: impl Into<String>) {
        let entry = TraceEntry {
            at: self.start.elapsed(),
            actor: actor.to_owned(),
            what: what.into(),
        };
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).push(entry);
    }

    /// Virtual time since the run started.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// A copy of every line so far.
    pub fn entries(&self) -> Vec<TraceEntry> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// Renders the last `limit` lines of a trace (all when it is shorter), one per line.
pub fn render(entries: &[TraceEntry], limit: usize) -> String {
    let skip = entries.len().saturating_sub(limit);
    let mut out = String::new();
    if skip > 0 {
        out.push_str(&format!("  ... {skip} earlier lines (SIM_TRACE=all prints them)\n"));
    }
    for entry in &entries[skip..] {
        out.push_str("  ");
        out.push_str(&entry.to_string());
        out.push('\n');
    }
    out
}
