//! The workload simulator now lives in the memory backend
//! (`operator_runtime_memory::simulation::workload`), where the simulation harness uses it
//! too; re-exported here so existing paths keep working.

pub use operator_runtime_memory::simulation::workload::{WorkloadSimulator, rolled_out_status};
