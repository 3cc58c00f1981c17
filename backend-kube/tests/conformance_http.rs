//! The store conformance suite a third time: `KubeStore` (kube-rs) → HTTP → the memory API
//! server (`operator_runtime_memory::http`) → `MemoryStore`. The capabilities reported are the
//! memory backend's, so every behaviour runs exactly as on memory directly, only over the wire.
//! Report:
//! `cargo test -p operator-runtime-kube --test conformance_http conformance_report -- --nocapture`.

use std::sync::Arc;

use async_trait::async_trait;
use operator_runtime_core::store::{
    Capabilities, DeleteOutcome, DeleteParams, KindInfo, ListParams, Patch, PatchParams, StoreResult, WatchParams,
    WatchStream, WriteParams,
};
use operator_runtime_core::{Object, ObjectList, ObjectRef, ObjectStore, TypeRef};
use operator_runtime_kube::KubeStore;
use operator_runtime_memory::MemoryStore;
use operator_runtime_memory::http::ServerHandle;

/// A `KubeStore` talking to a memory API server it keeps alive.
struct OverHttp {
    kube: KubeStore,
    _server: Arc<ServerHandle>,
}

async fn make_store() -> OverHttp {
    let memory = MemoryStore::new();
    let mut capabilities = memory.capabilities();
    capabilities.name = "kube→http→memory".to_owned();
    let server = match operator_runtime_memory::http::start(memory).await {
        Ok(server) => server,
        Err(e) => panic!("cannot start the memory API server: {e}"),
    };
    // The same client settings as the real-server run (testenv's): statuses the server sends
    // (a 504, a 429) are seen, not retried.
    let uri: http::Uri = server
        .url()
        .parse()
        .unwrap_or_else(|e| panic!("the memory API server's URL: {e}"));
    let mut config = kube::Config::new(uri);
    config.default_namespace = "default".to_owned();
    config.default_retry = false;
    let client = kube::Client::try_from(config).unwrap_or_else(|e| panic!("kube client: {e}"));
    OverHttp {
        kube: KubeStore::new(client).with_capabilities(capabilities),
        _server: Arc::new(server),
    }
}

#[async_trait]
impl ObjectStore for OverHttp {
    fn capabilities(&self) -> Capabilities {
        self.kube.capabilities()
    }
    async fn kind_info(&self, type_ref: &TypeRef) -> StoreResult<KindInfo> {
        self.kube.kind_info(type_ref).await
    }
    async fn get(&self, key: &ObjectRef) -> StoreResult<Arc<Object>> {
        self.kube.get(key).await
    }
    async fn list(&self, type_ref: &TypeRef, params: &ListParams) -> StoreResult<ObjectList> {
        self.kube.list(type_ref, params).await
    }
    async fn create(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        self.kube.create(object, params).await
    }
    async fn replace(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        self.kube.replace(object, params).await
    }
    async fn replace_status(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        self.kube.replace_status(object, params).await
    }
    async fn patch(&self, key: &ObjectRef, patch: &Patch, params: &PatchParams) -> StoreResult<Arc<Object>> {
        self.kube.patch(key, patch, params).await
    }
    async fn delete(&self, key: &ObjectRef, params: &DeleteParams) -> StoreResult<DeleteOutcome> {
        self.kube.delete(key, params).await
    }
    async fn watch(&self, type_ref: &TypeRef, params: &WatchParams) -> StoreResult<WatchStream> {
        self.kube.watch(type_ref, params).await
    }
}

operator_runtime_conformance::store_suite!(make_store);
