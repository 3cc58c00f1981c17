//! operator-runtime ObjectStore over kube-rs, plus a test control plane built from Go modules.
