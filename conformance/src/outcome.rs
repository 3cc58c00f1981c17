//! What one behaviour reports: passed, not applicable (with the reason), or failed (with why).

use std::fmt;

/// The result of a behaviour that did not fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every assertion held.
    Passed,
    /// The backend's [`operator_runtime_core::Capabilities`] say it does not implement what the
    /// behaviour checks; the reason says which capability is missing.
    NotApplicable(String),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Passed => f.write_str("passed"),
            Self::NotApplicable(reason) => write!(f, "N/A: {reason}"),
        }
    }
}

/// What a behaviour returns: `Err` carries a human-readable description of the first
/// assertion that did not hold.
pub type CaseResult = Result<Outcome, String>;

/// Renders a result the way the report table shows it.
pub fn describe(result: &CaseResult) -> String {
    match result {
        Ok(outcome) => outcome.to_string(),
        Err(why) => format!("FAILED: {why}"),
    }
}
