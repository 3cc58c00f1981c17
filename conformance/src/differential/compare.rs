//! Comparing two observations: a [`Divergence`] with a class that names what differs in a way
//! that does not depend on the seed (operation, kind, outcome shapes or the first differing
//! field path with list indices dropped), so that divergences can be grouped, accepted and
//! shrunk while keeping "the same" divergence.

use std::fmt;

use serde_json::Value;

use super::normalize::{Difference, compact, differences};
use super::ops::Op;
use super::side::Observation;

/// Where in a run the two sides disagreed.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Operation `n` (0-based) of the sequence as run.
    Op(usize),
    /// The settled state after operation `n` (garbage collection).
    Settled(usize),
    /// The events of watch `n`, compared at the end of the sequence.
    Watch(usize),
}

/// Two sides disagreeing.
#[derive(Clone, Debug, PartialEq)]
pub struct Divergence {
    /// Where.
    pub step: Step,
    /// The operation (for watches: the Watch operation that started it).
    pub op: Op,
    /// The class (`create Secret: outcome Ok vs Err(Invalid)`).
    pub class: String,
    /// The left side's answer.
    pub left: Value,
    /// The right side's answer.
    pub right: Value,
    /// Error messages, when an answer is an error.
    pub messages: (Option<String>, Option<String>),
    /// The differing paths.
    pub differences: Vec<Difference>,
}

/// Names of the two sides, for printing and classes.
#[derive(Clone, Debug)]
pub struct SideNames {
    /// Left (the store under test).
    pub left: String,
    /// Right (the reference).
    pub right: String,
}

/// Compares two observations of `op`; None when they agree.
pub fn compare(step: Step, op: &Op, left: &Observation, right: &Observation, names: &SideNames) -> Option<Divergence> {
    let diffs = differences(&left.outcome, &right.outcome);
    if diffs.is_empty() {
        return None;
    }
    let prefix = match step {
        Step::Op(_) => format!("{} {}", op.verb(), op.kind()),
        Step::Settled(_) => format!("{} {}: after garbage collection", op.verb(), op.kind()),
        Step::Watch(_) => format!("watch {}: events", op.kind()),
    };
    let class = if left.label() != right.label() {
        format!("{prefix}: outcome {} vs {}", left.label(), right.label())
    } else {
        let first = &diffs[0];
        let how = match (&first.left, &first.right) {
            (None | Some(Value::Null), _) => format!("missing on {}", names.left),
            (_, None | Some(Value::Null)) => format!("missing on {}", names.right),
            _ => "differs".to_owned(),
        };
        format!("{prefix}: {} {how}", class_path(first))
    };
    Some(Divergence {
        step,
        op: op.clone(),
        class,
        left: left.outcome.clone(),
        right: right.outcome.clone(),
        messages: (left.message.clone(), right.message.clone()),
        differences: diffs,
    })
}

/// The path of a difference as used in a class: list indices dropped, and for watch events and
/// lists only the container (the names in them come from the seed).
fn class_path(d: &Difference) -> String {
    let shape = d.shape();
    if shape.starts_with("Events") || shape.starts_with("Names") {
        return shape.split(['.', '[']).next().unwrap_or_default().to_owned();
    }
    shape
}

fn brief(v: &Option<Value>) -> String {
    match v {
        None => "<absent>".to_owned(),
        Some(v) => {
            let s = v.to_string();
            if s.chars().count() > 160 {
                format!("{}...", s.chars().take(160).collect::<String>())
            } else {
                s
            }
        }
    }
}

impl Divergence {
    /// Prints the divergence with the two sides' names.
    pub fn display<'a>(&'a self, names: &'a SideNames) -> impl fmt::Display + 'a {
        DisplayDivergence { d: self, names }
    }
}

struct DisplayDivergence<'a> {
    d: &'a Divergence,
    names: &'a SideNames,
}

impl fmt::Display for DisplayDivergence<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.d;
        writeln!(f, "divergence: {}", d.class)?;
        writeln!(f, "  at: {:?}: {}", d.step, d.op)?;
        writeln!(f, "  {}: {}", self.names.left, compact(&d.left))?;
        if let Some(m) = &d.messages.0 {
            writeln!(f, "  {} error: {m}", self.names.left)?;
        }
        writeln!(f, "  {}: {}", self.names.right, compact(&d.right))?;
        if let Some(m) = &d.messages.1 {
            writeln!(f, "  {} error: {m}", self.names.right)?;
        }
        for diff in d.differences.iter().take(12) {
            writeln!(
                f,
                "  - {}: {}={} {}={}",
                diff.path,
                self.names.left,
                brief(&diff.left),
                self.names.right,
                brief(&diff.right)
            )?;
        }
        if d.differences.len() > 12 {
            writeln!(f, "  ... {} more differences", d.differences.len() - 12)?;
        }
        Ok(())
    }
}
