//! # operator-runtime-kube
//!
//! The [`operator_runtime_core::ObjectStore`] contract over a real API server through kube-rs
//! ([`KubeStore`]), an events.k8s.io/v1 recorder ([`KubeEventRecorder`]), the front door that
//! runs an operator ([`Runtime`], with `/healthz`, `/readyz` and `/metrics`), and (feature
//! `testenv`, on by default) a test control plane: etcd, kube-apiserver and
//! kube-controller-manager built from Go modules and started locally.

mod convert;
mod discovery;
mod error;
mod events;
pub mod runtime;
mod store;
mod watch;

#[cfg(feature = "testenv")]
pub mod testenv;

pub use events::KubeEventRecorder;
pub use runtime::{Runtime, RuntimeError, SystemClock};
pub use store::KubeStore;
