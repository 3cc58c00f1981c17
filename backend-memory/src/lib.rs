//! In-memory Kubernetes API server with real semantics, fault injection and a simulation harness, for operator-runtime.
pub mod faults;
