//! Which store operations a fault applies to.

use serde::Serialize;

/// One verb of the [`operator_runtime_core::ObjectStore`] contract that faults can target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// `get`.
    Get,
    /// `list`.
    List,
    /// `create`.
    Create,
    /// `replace`.
    Replace,
    /// `replace_status`.
    ReplaceStatus,
    /// `patch`.
    Patch,
    /// `delete`.
    Delete,
    /// `watch` (the call that opens the stream; events are faulted separately).
    Watch,
}

impl Operation {
    /// True for the operations that change stored state.
    pub fn is_write(self) -> bool {
        matches!(
            self,
            Self::Create | Self::Replace | Self::ReplaceStatus | Self::Patch | Self::Delete
        )
    }
}

/// A set of operations a scripted fault matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpFilter {
    /// Every operation.
    Any,
    /// Every write (create, replace, replace_status, patch, delete).
    Writes,
    /// Every read (get, list, watch).
    Reads,
    /// Exactly one operation.
    Only(Operation),
}

impl OpFilter {
    /// Whether `op` is in the set.
    pub fn matches(self, op: Operation) -> bool {
        match self {
            Self::Any => true,
            Self::Writes => op.is_write(),
            Self::Reads => !op.is_write(),
            Self::Only(only) => only == op,
        }
    }
}

impl From<Operation> for OpFilter {
    fn from(op: Operation) -> Self {
        Self::Only(op)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_select_the_right_operations() {
        assert!(OpFilter::Any.matches(Operation::Watch));
        assert!(OpFilter::Writes.matches(Operation::ReplaceStatus));
        assert!(!OpFilter::Writes.matches(Operation::List));
        assert!(OpFilter::Reads.matches(Operation::Get));
        assert!(!OpFilter::Reads.matches(Operation::Delete));
        assert!(OpFilter::from(Operation::Patch).matches(Operation::Patch));
        assert!(!OpFilter::from(Operation::Patch).matches(Operation::Replace));
    }
}
