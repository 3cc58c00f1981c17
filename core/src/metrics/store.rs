//! An [`ObjectStore`] wrapper that counts every backend request by verb and kind.

use std::sync::Arc;

use async_trait::async_trait;

use super::Metrics;
use crate::counting::Verb;
use crate::model::{Object, ObjectList, ObjectRef, TypeRef};
use crate::store::{
    Capabilities, DeleteOutcome, DeleteParams, KindInfo, ListParams, ObjectStore, Patch, PatchParams, StoreResult,
    WatchParams, WatchStream, WriteParams,
};

/// Wraps a store and counts each request in `operator_runtime_store_requests_total`, labelled
/// with the same verb names as [`CountingStore`](crate::counting::CountingStore) ([`Verb::as_str`]).
/// Requests are counted when made, whatever their outcome.
///
/// Unlike `CountingStore`, whose counts tests snapshot and reset, these counters only grow, as
/// Prometheus expects.
#[derive(Clone, Debug)]
pub struct InstrumentedStore<S> {
    inner: S,
    metrics: Metrics,
}

impl<S> InstrumentedStore<S> {
    /// Wraps `inner`, counting into `metrics`.
    pub fn new(inner: S, metrics: Metrics) -> Self {
        Self { inner, metrics }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn count(&self, verb: Verb, kind: &str) {
        self.metrics.record_store_request(verb.as_str(), kind);
    }
}

#[async_trait]
impl<S: ObjectStore> ObjectStore for InstrumentedStore<S> {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn kind_info(&self, type_ref: &TypeRef) -> StoreResult<KindInfo> {
        self.count(Verb::KindInfo, &type_ref.kind);
        self.inner.kind_info(type_ref).await
    }
    async fn get(&self, key: &ObjectRef) -> StoreResult<Arc<Object>> {
        self.count(Verb::Get, &key.type_ref.kind);
        self.inner.get(key).await
    }
    async fn list(&self, type_ref: &TypeRef, params: &ListParams) -> StoreResult<ObjectList> {
        self.count(Verb::List, &type_ref.kind);
        self.inner.list(type_ref, params).await
    }
    async fn create(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        self.count(Verb::Create, &object.kind);
        self.inner.create(object, params).await
    }
    async fn replace(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        self.count(Verb::Replace, &object.kind);
        self.inner.replace(object, params).await
    }
    async fn replace_status(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        self.count(Verb::ReplaceStatus, &object.kind);
        self.inner.replace_status(object, params).await
    }
    async fn patch(&self, key: &ObjectRef, patch: &Patch, params: &PatchParams) -> StoreResult<Arc<Object>> {
        self.count(Verb::Patch, &key.type_ref.kind);
        self.inner.patch(key, patch, params).await
    }
    async fn apply_object(
        &self,
        object: &Object,
        resource_version: Option<&str>,
        params: &PatchParams,
    ) -> StoreResult<Arc<Object>> {
        // One apply request, as the provided method's patch would be.
        self.count(Verb::Patch, &object.kind);
        self.inner.apply_object(object, resource_version, params).await
    }
    async fn delete(&self, key: &ObjectRef, params: &DeleteParams) -> StoreResult<DeleteOutcome> {
        self.count(Verb::Delete, &key.type_ref.kind);
        self.inner.delete(key, params).await
    }
    async fn watch(&self, type_ref: &TypeRef, params: &WatchParams) -> StoreResult<WatchStream> {
        self.count(Verb::Watch, &type_ref.kind);
        self.inner.watch(type_ref, params).await
    }
}
