//! Building blocks for behaviours: a per-behaviour context with its own namespace, the test
//! kinds, assertion helpers, resourceVersion parsing, watch readers and bounded polling.
//! Public so that a backend can write extra behaviours in the same style.

#[macro_use]
pub mod check;
pub mod ctx;
pub mod events;
pub mod kinds;
pub mod names;
pub mod poll;
pub mod rv;

pub use check::OrFail;
pub use ctx::{Ctx, edit, with_finalizers, with_labels};
pub use events::{Events, describe_all, kinds_for, name_of};
pub use rv::{revision, revision_of, rv_of};
