//! Example operators built on operator-runtime.
//!
//! - [`crd`]: the `DataCluster` custom resource (a Pinot-like data application).
//! - [`operator`]: its operator (`Operator` implementation: spec -> children -> status).
//! - the workload controllers on the memory backend are played by `operator_runtime_memory::workloads`.
//! - [`webapp`]: the smallest useful operator (one parent kind, a ConfigMap/Secret-driven
//!   restart), with its production `main` in `src/bin/webapp.rs`.
//! - [`story`]: the whole life of a DataCluster, run by `cargo run -p operator-runtime-examples
//!   --bin datacluster`.

pub mod buggy;
pub mod cluster;
pub mod crd;
pub mod migration;
pub mod operator;
pub mod simulation;
pub mod story;
pub mod webapp;

/// The README's code blocks, compiled and run as doctests.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
