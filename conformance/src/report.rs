//! [`Report`]: the results of a whole run, printable as a table.

use std::fmt;

use crate::outcome::{CaseResult, Outcome, describe};

/// One behaviour's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Area (module) of the behaviour.
    pub area: &'static str,
    /// Behaviour (function) name.
    pub name: &'static str,
    /// What it reported.
    pub result: CaseResult,
}

/// The results of [`crate::run_all`], in registry order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// Backend name from its capabilities.
    pub backend: String,
    /// One entry per behaviour.
    pub entries: Vec<Entry>,
}

impl Report {
    /// Behaviours that passed.
    pub fn passed(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.result == Ok(Outcome::Passed))
    }

    /// Behaviours that did not apply to this backend.
    pub fn not_applicable(&self) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .filter(|e| matches!(e.result, Ok(Outcome::NotApplicable(_))))
    }

    /// Behaviours that failed.
    pub fn failed(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.result.is_err())
    }

    /// True when no behaviour failed.
    pub fn is_success(&self) -> bool {
        self.failed().next().is_none()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name_width = self.entries.iter().map(|e| e.name.len()).max().unwrap_or(9).max(9);
        let area_width = self.entries.iter().map(|e| e.area.len()).max().unwrap_or(4).max(4);
        writeln!(f, "conformance of backend {:?}", self.backend)?;
        writeln!(f, "{:<area_width$}  {:<name_width$}  result", "area", "behaviour")?;
        for entry in &self.entries {
            writeln!(
                f,
                "{:<area_width$}  {:<name_width$}  {}",
                entry.area,
                entry.name,
                describe(&entry.result)
            )?;
        }
        write!(
            f,
            "{} behaviours: {} passed, {} not applicable, {} failed",
            self.entries.len(),
            self.passed().count(),
            self.not_applicable().count(),
            self.failed().count()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_lists_every_behaviour_with_its_result_and_counts() {
        let report = Report {
            backend: "mock".into(),
            entries: vec![
                Entry {
                    area: "create",
                    name: "a_passes",
                    result: Ok(Outcome::Passed),
                },
                Entry {
                    area: "apply",
                    name: "b_skips",
                    result: Ok(Outcome::NotApplicable("no SSA".into())),
                },
                Entry {
                    area: "watch",
                    name: "c_fails",
                    result: Err("boom".into()),
                },
            ],
        };
        let text = report.to_string();
        assert!(text.contains("a_passes   passed"), "{text}");
        assert!(text.contains("b_skips    N/A: no SSA"), "{text}");
        assert!(text.contains("c_fails    FAILED: boom"), "{text}");
        assert!(
            text.ends_with("3 behaviours: 1 passed, 1 not applicable, 1 failed"),
            "{text}"
        );
        assert!(!report.is_success());
    }
}
