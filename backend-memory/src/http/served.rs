//! What the server serves, built once per change of the kinds rather than per request.
//!
//! Why: every request needs the [`Catalog`] (routing, discovery), and building it clones each
//! CRD's schema and printer columns; an OpenAPI v3 document converts every schema of a
//! group-version. Both change only when a kind is registered or a CRD is written, so they are
//! kept until the store's kinds or CRDs change (a cheap fingerprint checked per request).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError};

use operator_runtime_core::store::ListParams;
use serde_json::Value;

use super::discovery::Catalog;
use super::openapi;
use crate::MemoryStore;
use crate::kinds::crd_type;

/// The catalog and the documents derived from it, for one fingerprint of the kinds.
#[derive(Debug)]
pub(crate) struct Served {
    /// Every kind served.
    pub catalog: Catalog,
    /// OpenAPI v3 documents by group-version (`None`: not served), built on first request.
    openapi_v3: Mutex<HashMap<String, Option<Arc<Value>>>>,
}

impl Served {
    /// The OpenAPI v3 document of `api_version`.
    pub(crate) fn openapi_v3(&self, api_version: &str) -> Option<Arc<Value>> {
        let mut documents = self.openapi_v3.lock().unwrap_or_else(PoisonError::into_inner);
        documents
            .entry(api_version.to_owned())
            .or_insert_with(|| openapi::v3(&self.catalog, api_version).map(Arc::new))
            .clone()
    }
}

/// The [`Served`] of the store's current kinds.
#[derive(Debug, Default)]
pub(crate) struct ServedCache {
    held: Mutex<Option<(u64, Arc<Served>)>>,
}

impl ServedCache {
    /// What is served now: the held value while the kinds and CRDs are unchanged.
    pub(crate) fn get(&self, memory: &MemoryStore) -> Arc<Served> {
        let key = fingerprint(memory);
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((k, served)) = held.as_ref()
            && *k == key
        {
            return Arc::clone(served);
        }
        let served = Arc::new(Served {
            catalog: Catalog::read(memory),
            openapi_v3: Mutex::new(HashMap::new()),
        });
        *held = Some((key, Arc::clone(&served)));
        served
    }
}

/// A hash of what the catalog is built from: every registered kind and every CRD's
/// resourceVersion.
fn fingerprint(memory: &MemoryStore) -> u64 {
    let state = memory.lock();
    let mut hasher = DefaultHasher::new();
    for spec in state.kinds.all() {
        spec.info.type_ref.hash(&mut hasher);
        spec.info.plural.hash(&mut hasher);
        spec.info.namespaced.hash(&mut hasher);
        spec.info.status_subresource.hash(&mut hasher);
        spec.from_crd.hash(&mut hasher);
    }
    if let Ok(crds) = crate::read::list(&state, &crd_type(), &ListParams::default()) {
        for crd in &crds.items {
            crd.name().hash(&mut hasher);
            crd.resource_version().hash(&mut hasher);
        }
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use operator_runtime_core::TypeRef;
    use operator_runtime_core::store::KindInfo;

    #[test]
    fn the_catalog_is_rebuilt_only_when_the_kinds_change() {
        let memory = MemoryStore::new();
        let cache = ServedCache::default();
        let first = cache.get(&memory);
        assert!(
            Arc::ptr_eq(&first, &cache.get(&memory)),
            "unchanged kinds: the same catalog"
        );
        assert!(first.openapi_v3("v1").is_some());
        memory.register_kind(KindInfo {
            type_ref: TypeRef::new("example.com/v1", "Widget"),
            plural: "widgets".into(),
            namespaced: true,
            status_subresource: false,
        });
        let second = cache.get(&memory);
        assert!(!Arc::ptr_eq(&first, &second), "a new kind: a new catalog");
        assert!(second.catalog.by_plural("example.com/v1", "widgets").is_some());
    }
}
