//! # operator-runtime-kube
//!
//! The [`operator_runtime_core::ObjectStore`] contract over a real API server through kube-rs,
//! and (feature `testenv`, on by default) a test control plane: etcd, kube-apiserver and
//! kube-controller-manager built from Go modules and started locally.

#[cfg(feature = "testenv")]
pub mod testenv;
