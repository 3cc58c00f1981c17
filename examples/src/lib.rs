//! Example operators built on operator-runtime.
//!
//! - [`crd`]: the `DataCluster` custom resource (a Pinot-like data application).
//! - [`operator`]: its operator (`Operator` implementation: spec -> children -> status).
//! - [`serve`]: the opt-in `/metrics`, `/healthz` and `/readyz` endpoint.
//! - the workload controllers on the memory backend are played by `operator_runtime_memory::workloads`.
//! - [`story`]: the whole life of a DataCluster, run by `cargo run -p operator-runtime-examples
//!   --bin datacluster`.

pub mod buggy;
pub mod cluster;
pub mod crd;
pub mod operator;
pub mod serve;
pub mod simulation;
pub mod story;

/// The README's code blocks, compiled and run as doctests.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
