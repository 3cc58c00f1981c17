//! Oracles: the built-in safety invariants, user invariants, and liveness.
//!
//! Checked at every operator write (by the replica's store, which knows which reconcile is
//! writing), and a violation only if the write took effect (a write refused by its
//! resourceVersion precondition modified nothing; a timeout counts when the stored object
//! changed across the call, since the write may have been applied before the answer was lost):
//! - `foreign-write`: an existing object that is neither the reconciled parent nor controlled
//!   by it is modified or deleted (an object that stopped being controlled by it while the
//!   reconcile ran is a race the trace notes, not a violation);
//! - `paused-write`: a child of a parent that was paused when the reconcile started (and still
//!   is, and is not being deleted: deletion still cleans up) is written;
//! - `writes-per-reconcile`: one reconcile sends more writes than the world allows;
//! - `write-without-lease`: with several replicas, a replica writes while another holds the
//!   Lease;
//! - `stale-spec-write`: a child is written from an older generation of its parent than one
//!   the same replica incarnation already wrote a child from (time travel: a cache that went
//!   back in time). Across a restart the new incarnation starts from its own first list: a
//!   stale read there can hand it an older spec, which no client can tell without a mark on
//!   the children (on a real server the runtime's lists are consistent reads).
//!
//! Checked at every event: `secret-in-event` (an event note contains the value of a Secret).
//!
//! Checked over the [`WorldState`] after every step: `duplicate-children` (two live children
//! of one parent created from the same generateName), `external-leak` (an external resource
//! outlives its parent: the finalizer went before the cleanup), and every user invariant.
//!
//! Liveness (eventually-stable reconciliation): once faults stop and paused parents are
//! resumed, every parent must reach `status.observedGeneration == metadata.generation` (and
//! every deleted parent must be gone) within the settle bound (`not-settled`), and then the
//! operator must send no write for the quiet window (`writes-after-settled`). A run with more
//! than 3,000 reconciles or writes is a `hot-loop` (such a loop may never let virtual time
//! advance, so it is stopped there).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::trace::Trace;
use super::world::WorldState;

/// A user invariant: a named check over the world state.
pub(crate) type Invariant = (String, Arc<dyn Fn(&WorldState) -> Result<(), String> + Send + Sync>);

/// A violated invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The invariant's name (`foreign-write`, `not-settled`, a user invariant's name, ...).
    pub invariant: String,
    /// What was seen.
    pub detail: String,
    /// Virtual time of the violation.
    pub at: Duration,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invariant `{}` violated at t={:.3}s: {}",
            self.invariant,
            self.at.as_secs_f64(),
            self.detail
        )
    }
}

/// Where violations are reported during a run; the first one ends the run.
#[derive(Clone, Debug)]
pub(crate) struct Oracle {
    first: Arc<Mutex<Option<Violation>>>,
    trace: Trace,
}

impl Oracle {
    pub(crate) fn new(trace: Trace) -> Self {
        Self {
            first: Arc::new(Mutex::new(None)),
            trace,
        }
    }

    /// Records a violation (only the first one is kept).
    pub(crate) fn report(&self, invariant: &str, detail: impl Into<String>) {
        let detail = detail.into();
        let mut first = self.first.lock().unwrap_or_else(PoisonError::into_inner);
        if first.is_none() {
            self.trace.push("oracle", format!("VIOLATION {invariant}: {detail}"));
            *first = Some(Violation {
                invariant: invariant.to_owned(),
                detail,
                at: self.trace.elapsed(),
            });
        }
    }

    pub(crate) fn violation(&self) -> Option<Violation> {
        self.first.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// The built-in invariants over the world state, then the user's.
pub(crate) fn check_world(state: &WorldState, invariants: &[Invariant]) -> Result<(), (String, String)> {
    duplicate_children(state).map_err(|d| ("duplicate-children".to_owned(), d))?;
    external_leak(state).map_err(|d| ("external-leak".to_owned(), d))?;
    for (name, check) in invariants {
        check(state).map_err(|d| (name.clone(), d))?;
    }
    Ok(())
}

fn duplicate_children(state: &WorldState) -> Result<(), String> {
    let mut seen: BTreeMap<(String, String, String), Vec<String>> = BTreeMap::new();
    for object in state.objects.values().flatten() {
        let (Some(owner), Some(prefix)) = (object.controller_owner(), object.metadata.generate_name.as_deref()) else {
            continue;
        };
        if object.is_terminating() || prefix.is_empty() {
            continue;
        }
        seen.entry((owner.uid.clone(), object.kind.clone(), prefix.to_owned()))
            .or_default()
            .push(object.name().to_owned());
    }
    match seen.into_iter().find(|(_, names)| names.len() > 1) {
        Some(((owner, kind, prefix), names)) => Err(format!(
            "{} {kind}s generated from `{prefix}` are controlled by {owner}: {}",
            names.len(),
            names.join(", ")
        )),
        None => Ok(()),
    }
}

fn external_leak(state: &WorldState) -> Result<(), String> {
    let live: Vec<&str> = state.parents().iter().filter_map(|p| p.uid()).collect();
    match state
        .external
        .iter()
        .find(|(_, r)| !live.contains(&r.owner_uid.as_str()))
    {
        Some((id, r)) => Err(format!(
            "external resource {id} still exists but its parent {} is gone (finalizer removed before cleanup finished)",
            r.owner_uid
        )),
        None => Ok(()),
    }
}

/// The values of Secrets long enough to be recognizable in text (6+ characters).
pub(crate) fn secret_values(secrets: &[Arc<operator_runtime_core::Object>]) -> Vec<String> {
    let mut values = Vec::new();
    for secret in secrets {
        if let Some(data) = secret.body.get("data").and_then(|d| d.as_object()) {
            for v in data.values() {
                if let Ok(bytes) = serde_json::from_value::<k8s_openapi::ByteString>(v.clone())
                    && let Ok(text) = String::from_utf8(bytes.0)
                {
                    values.push(text);
                }
            }
        }
        if let Some(data) = secret.body.get("stringData").and_then(|d| d.as_object()) {
            values.extend(data.values().filter_map(|v| v.as_str()).map(str::to_owned));
        }
    }
    values.retain(|v| v.len() >= 6);
    values
}
