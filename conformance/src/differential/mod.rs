//! A differential fuzzer: seeded random sequences of store operations run on two
//! [`ObjectStore`](operator_runtime_core::ObjectStore)s side by side (the memory backend and a
//! real API server), comparing every answer.
//!
//! - [`generate()`]: one `u64` seed gives a sequence of 10 to 30 operations (ChaCha8) over
//!   ConfigMap, Secret, Service, Deployment, StatefulSet and the `Sprocket` custom resource
//!   (a structural schema, see [`values::sprocket_crd`]): creates (some with `generateName`,
//!   owner references, bad names), gets, paginated lists with selectors, replaces with current,
//!   stale and no resourceVersion, status replaces, merge and JSON patches, server-side apply by
//!   two managers with and without force, deletes with preconditions and each propagation
//!   policy, finalizers added and removed, dry-run variants, and watches from a revision.
//!   Values come from pools of realistic and edge-case values ([`values`]).
//! - [`Engine`]: each sequence runs in a fresh namespace on a fresh left store and on the
//!   shared right store. Symbolic parts (current or stale resourceVersion, owner uids, names
//!   chosen by `generateName`) are resolved by each side ([`side`]). Every answer is
//!   normalized ([`normalize`] lists each normalization) and compared; after writes that can
//!   start garbage collection, both sides' states are polled until they agree (the real
//!   collector is asynchronous). Watches are compared at the end: a marker object is written,
//!   events up to it are collected, per object in order.
//! - A divergence has a class ([`compare`]): operation, kind and either both outcome shapes or
//!   the first differing field path. It is shrunk ([`shrink`]) by dropping operations and then
//!   simplifying values while a re-run in fresh namespaces shows the same class; the result
//!   replays from the seed with `--keep` / `--simplify` arguments.
//! - [`accepted::ACCEPTED`] lists the divergence classes accepted on purpose, with reasons;
//!   any other divergence is a failure.

pub mod accepted;
pub mod compare;
pub mod engine;
pub mod generate;
pub mod known_open;
pub mod normalize;
pub mod ops;
pub mod report;
pub mod shrink;
pub mod side;
pub mod values;

pub use accepted::{ACCEPTED, Accepted};
pub use compare::{Divergence, SideNames, Step};
pub use engine::{Engine, Figures, SeedResult, Shrunk};
pub use generate::generate;
pub use known_open::{is_known_open, known_open};
pub use ops::{Kind, KindSet, Op};
pub use report::{COMMAND, Summary, describe};
pub use shrink::Replay;
