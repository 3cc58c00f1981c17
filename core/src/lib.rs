//! # operator-runtime-core
//!
//! The pure core of operator-runtime: the object model, the [`store::ObjectStore`] contract
//! every backend implements, canonical hashing, and (as they land) builders, the planner, the
//! internal cache and the reconcile driver.
//!
//! Core performs no IO of its own and never reads the wall clock or OS randomness: time comes in
//! through [`clock::Clock`], and every request to the API server goes through an
//! [`store::ObjectStore`] implementation supplied by a backend crate.

pub mod action;
pub mod backoff;
pub mod builder;
pub mod builtin_schema;
pub mod cache;
pub mod clock;
pub mod controller;
pub mod counting;
pub mod error;
pub mod events;
pub mod fields_v1;
pub mod hash;
pub mod lease;
pub mod metrics;
pub mod model;
pub mod plan;
pub mod quantity;
pub mod queue;
pub mod rbac;
pub mod reconcile;
pub mod rollout;
pub mod schema;
pub mod selector;
pub mod status;
pub mod store;
pub mod validation;

pub use action::Action;
pub use error::{ErrorSource, StatusCause, StoreError};
pub use model::{Object, ObjectList, ObjectRef, TypeRef};
pub use store::{Capabilities, ObjectStore, ObjectStoreExt};
