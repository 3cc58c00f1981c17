//! The conformance suite (operator-runtime-conformance) against the memory backend: one test per
//! behaviour, plus `conformance_report`, which prints the whole table:
//! `cargo test -p operator-runtime-memory --test conformance conformance_report -- --nocapture`.

use operator_runtime_memory::MemoryStore;

async fn make_store() -> MemoryStore {
    MemoryStore::new()
}

operator_runtime_conformance::store_suite!(make_store);
