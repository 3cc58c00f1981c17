//! The runtime scenarios (reconcile driver end to end) on the memory backend.

async fn make_store() -> operator_runtime_memory::MemoryStore {
    operator_runtime_memory::MemoryStore::new()
}

operator_runtime_conformance::runtime_suite!(make_store);
