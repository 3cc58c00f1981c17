//! Moving a kube-rs `Controller` to operator-runtime: the same Greeting operator written both
//! ways, compiled and run by `examples/tests/migration.rs`. The guide is `examples/MIGRATING.md`.

pub mod kube_rs;
pub mod ported;
