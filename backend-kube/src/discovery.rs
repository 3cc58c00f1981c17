//! Discovery with a cache: which resource serves a kind, its scope and subresources.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use kube::Client;
use kube::api::ApiResource;
use operator_runtime_core::StoreError;
use operator_runtime_core::TypeRef;
use operator_runtime_core::store::KindInfo;

use crate::error::from_kube;

/// A served kind: how to address it and what it supports.
#[derive(Clone, Debug)]
pub(crate) struct Resolved {
    pub(crate) resource: ApiResource,
    pub(crate) info: KindInfo,
}

/// Caches discovery per group-version. Only successes are cached: a kind that is not served
/// yet (a CRD being installed) is looked up again next time.
#[derive(Debug, Default)]
pub(crate) struct DiscoveryCache {
    kinds: Mutex<HashMap<TypeRef, Arc<Resolved>>>,
}

impl DiscoveryCache {
    /// Resolves a kind, asking the server about its group-version on a cache miss.
    pub(crate) async fn resolve(&self, client: &Client, type_ref: &TypeRef) -> Result<Arc<Resolved>, StoreError> {
        if let Some(hit) = self.lock().get(type_ref) {
            return Ok(hit.clone());
        }
        let group = type_ref.group();
        let version = type_ref.version();
        let list = if group.is_empty() {
            client.list_core_api_resources(version).await
        } else {
            client.list_api_group_resources(&type_ref.api_version).await
        }
        .map_err(|e| match from_kube(e) {
            StoreError::NotFound { .. } => StoreError::not_found(format!("{} is not served", type_ref.api_version)),
            other => other,
        })?;

        let mut found = None;
        let mut kinds = self.lock();
        for r in list.resources.iter().filter(|r| !r.name.contains('/')) {
            let t = TypeRef::new(type_ref.api_version.clone(), r.kind.clone());
            let status_name = format!("{}/status", r.name);
            let resolved = Arc::new(Resolved {
                resource: ApiResource {
                    group: group.to_owned(),
                    version: version.to_owned(),
                    api_version: type_ref.api_version.clone(),
                    kind: r.kind.clone(),
                    plural: r.name.clone(),
                },
                info: KindInfo {
                    type_ref: t.clone(),
                    plural: r.name.clone(),
                    namespaced: r.namespaced,
                    status_subresource: list.resources.iter().any(|s| s.name == status_name),
                },
            });
            if &t == type_ref {
                found = Some(resolved.clone());
            }
            kinds.insert(t, resolved);
        }
        found.ok_or_else(|| StoreError::not_found(format!("kind {type_ref} is not served")))
    }

    /// Forgets everything (after CRDs changed).
    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TypeRef, Arc<Resolved>>> {
        self.kinds.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
