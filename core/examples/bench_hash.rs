//! Benchmark of canonical hashing on a typical ~3 KB StatefulSet.
//!
//! `cargo run --release -p operator-runtime-core --example bench_hash`
//!
//! Prints nanoseconds per object for the fast paths (`desired_hash` on the dynamic `Object`,
//! `canonical_hash` on the typed k8s-openapi object), the naive paths through
//! `serde_json::Value`, and the floor (`serde_json::to_vec` of the typed object + SHA-256, which
//! neither sorts keys nor drops anything), each with its ratio to the floor measured in the same
//! process.

use std::hint::black_box;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::StatefulSet;
use operator_runtime_core::Object;
use operator_runtime_core::hash::{canonical_hash, desired_hash, intent_view};
use sha2::{Digest, Sha256};

const ROUNDS: usize = 7;
const ITERS_PER_ROUND: u32 = 20_000;

/// Best-of-rounds nanoseconds per call (the minimum is the least disturbed by other processes on
/// a shared machine).
fn measure(mut f: impl FnMut() -> String) -> f64 {
    for _ in 0..ITERS_PER_ROUND / 10 {
        black_box(f());
    }
    let mut best = Duration::MAX;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for _ in 0..ITERS_PER_ROUND {
            black_box(f());
        }
        best = best.min(start.elapsed());
    }
    best.as_nanos() as f64 / f64::from(ITERS_PER_ROUND)
}

fn floor(sts: &StatefulSet) -> String {
    let bytes = serde_json::to_vec(sts).unwrap_or_default();
    hex::encode(Sha256::digest(bytes))
}

fn naive_canonical(sts: &StatefulSet) -> String {
    let value = serde_json::to_value(sts).unwrap_or_default();
    hex::encode(Sha256::digest(serde_json::to_vec(&value).unwrap_or_default()))
}

fn naive_desired(object: &Object) -> String {
    hex::encode(Sha256::digest(
        serde_json::to_vec(&intent_view(object)).unwrap_or_default(),
    ))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sts: StatefulSet = serde_json::from_str(include_str!("../tests/fixtures/statefulset.json"))?;
    let object = Object::from_typed(&sts)?;
    let size = serde_json::to_vec(&sts)?.len();

    // The fast paths must agree with the naive ones before their speed means anything.
    if canonical_hash(&sts)? != naive_canonical(&sts) || desired_hash(&object)? != naive_desired(&object) {
        return Err("fast and naive hashes disagree".into());
    }

    let floor_ns = measure(|| floor(black_box(&sts)));
    let rows = [
        ("floor: serde_json::to_vec(&typed) + SHA-256", floor_ns),
        (
            "desired_hash(&Object)",
            measure(|| desired_hash(black_box(&object)).unwrap_or_default()),
        ),
        (
            "canonical_hash(&typed)",
            measure(|| canonical_hash(black_box(&sts)).unwrap_or_default()),
        ),
        (
            "naive desired: intent_view -> Value -> to_vec + SHA-256",
            measure(|| naive_desired(black_box(&object))),
        ),
        (
            "naive canonical: to_value(&typed) -> to_vec + SHA-256",
            measure(|| naive_canonical(black_box(&sts))),
        ),
    ];

    println!("canonical hash of a {size}-byte StatefulSet (best of {ROUNDS} x {ITERS_PER_ROUND})");
    for (name, ns) in rows {
        println!("{name:<58} {ns:>9.0} ns/object  {:>5.2}x floor", ns / floor_ns);
    }
    Ok(())
}
