//! The open divergences: classes the fuzzer has found between the memory backend and the real
//! API server that are not fixed yet, one per line in `known_open.txt`. Unlike
//! [`crate::differential::ACCEPTED`] (differences the project decided to live with), these are
//! bugs of the memory backend still to fix: the CI run tolerates them so that it stays green
//! while they are being fixed, and fails on any class not listed (a regression or a new find).
//! Fixing one means deleting its line; the CI run prints listed classes it no longer sees.

/// The listed classes, one per line (blank lines and `#` comments ignored).
pub const KNOWN_OPEN: &str = include_str!("known_open.txt");

/// The listed classes.
pub fn known_open() -> Vec<&'static str> {
    KNOWN_OPEN
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// Whether `class` is a listed open divergence.
pub fn is_known_open(class: &str) -> bool {
    known_open().contains(&class)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_classes_are_unique() {
        let classes = known_open();
        let unique: std::collections::BTreeSet<_> = classes.iter().collect();
        assert_eq!(unique.len(), classes.len(), "a class is listed twice");
    }
}
