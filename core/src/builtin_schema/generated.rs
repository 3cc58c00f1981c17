//! Placeholder until the generator runs.

use super::{KindSchema, ListType, ListTypeEntry};

/// Every built-in kind with a Quantity field or a typed list, by apiVersion then kind.
pub(super) static KINDS: &[KindSchema] = &[];
