//! [`KubeStore`]: the [`ObjectStore`] contract over a real API server through kube-rs.

use std::sync::Arc;

use async_trait::async_trait;
use either::Either;
use kube::Client;
use kube::api::{
    Api, DeleteParams as KubeDeleteParams, DynamicObject, ListParams as KubeListParams, Patch as KubePatch,
    PatchParams as KubePatchParams, PostParams, Preconditions as KubePreconditions, PropagationPolicy,
    VersionMatch as KubeVersionMatch,
};
use operator_runtime_core::store::{
    ApplySupport, Capabilities, DeleteOutcome, DeleteParams, KindInfo, ListParams, Patch, PatchParams, Propagation,
    StoreResult, VersionMatch, WatchParams, WatchStream, WriteParams,
};
use operator_runtime_core::{Object, ObjectList, ObjectRef, ObjectStore, StoreError, TypeRef};

use crate::convert::{from_dynamic, to_dynamic};
use crate::discovery::{DiscoveryCache, Resolved};
use crate::error::from_kube;
use crate::watch;

/// An [`ObjectStore`] backed by a Kubernetes API server.
///
/// Works for any kind the server serves, built-in or custom: each kind is resolved once
/// through discovery (cached per group-version) and addressed as `Api<DynamicObject>`.
/// Errors are the API server's, mapped to [`StoreError`] by status code and reason.
///
/// A delete that completes at once returns [`DeleteOutcome::Deleted`] with an object that
/// carries only the identity (type, namespace, name, uid): the API server answers such deletes
/// with a `Status`, not the object, and the store does not spend a GET to recover it.
///
/// Cheap to clone: clones share the client and the discovery cache.
#[derive(Clone)]
pub struct KubeStore {
    client: Client,
    discovery: Arc<DiscoveryCache>,
    capabilities: Capabilities,
}

impl std::fmt::Debug for KubeStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeStore")
            .field("capabilities", &self.capabilities)
            .finish_non_exhaustive()
    }
}

impl KubeStore {
    /// Sends `patch` to the object (or its status subresource, as `params` says).
    async fn send_patch<P: serde::Serialize + std::fmt::Debug>(
        &self,
        key: &ObjectRef,
        patch: &KubePatch<P>,
        params: &PatchParams,
    ) -> StoreResult<Arc<Object>> {
        let api = self.api_for(&key.type_ref, key.namespace.as_deref()).await?;
        let kube_params = KubePatchParams {
            dry_run: params.dry_run,
            force: params.force,
            field_manager: params.field_manager.clone(),
            ..KubePatchParams::default()
        };
        let patched = if params.status {
            api.patch_status(&key.name, &kube_params, patch).await
        } else {
            api.patch(&key.name, &kube_params, patch).await
        }
        .map_err(from_kube)?;
        from_dynamic(patched, &key.type_ref)
    }

    /// A store over `client`, assuming a full cluster: kube-controller-manager runs the
    /// garbage collector, the namespace controller and the workload controllers. Use
    /// [`KubeStore::with_capabilities`] for a server without them.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            discovery: Arc::new(DiscoveryCache::default()),
            capabilities: Capabilities {
                name: "kube".to_owned(),
                server_side_apply: ApplySupport::Full,
                garbage_collection: true,
                namespace_deletion: true,
                schema_validation: operator_runtime_core::store::SchemaValidation::Full,
                dry_run: true,
                bookmarks: true,
                eventually_consistent_gc: true,
                workload_controllers: true,
            },
        }
    }

    /// Overrides what the store reports in [`ObjectStore::capabilities`].
    pub fn with_capabilities(mut self, capabilities: Capabilities) -> Self {
        self.capabilities = capabilities;
        self
    }

    /// The underlying client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Forgets cached discovery, e.g. after CRDs were replaced with a different scope.
    pub fn clear_discovery_cache(&self) {
        self.discovery.clear();
    }

    async fn resolve(&self, type_ref: &TypeRef) -> StoreResult<Arc<Resolved>> {
        self.discovery.resolve(&self.client, type_ref).await
    }

    /// The API for one object: namespaced kinds need a namespace, cluster-scoped kinds ignore it.
    async fn api_for(&self, type_ref: &TypeRef, namespace: Option<&str>) -> StoreResult<Api<DynamicObject>> {
        let resolved = self.resolve(type_ref).await?;
        let resource = &resolved.resource;
        match (resolved.info.namespaced, namespace) {
            (true, Some(ns)) if !ns.is_empty() => Ok(Api::namespaced_with(self.client.clone(), ns, resource)),
            (true, _) => Err(StoreError::bad_request(format!(
                "{type_ref} is namespaced: a namespace is required"
            ))),
            (false, _) => Ok(Api::all_with(self.client.clone(), resource)),
        }
    }

    /// The API for a collection: all namespaces when `namespace` is None.
    async fn collection_api(
        &self,
        type_ref: &TypeRef,
        namespace: Option<&str>,
    ) -> StoreResult<(Api<DynamicObject>, Arc<Resolved>)> {
        let resolved = self.resolve(type_ref).await?;
        let api = match namespace {
            Some(ns) if resolved.info.namespaced => Api::namespaced_with(self.client.clone(), ns, &resolved.resource),
            _ => Api::all_with(self.client.clone(), &resolved.resource),
        };
        Ok((api, resolved))
    }
}

fn post_params(params: &WriteParams) -> PostParams {
    PostParams {
        dry_run: params.dry_run,
        field_manager: params.field_manager.clone(),
    }
}

fn required_name(object: &Object) -> StoreResult<&str> {
    match object.metadata.name.as_deref() {
        Some(name) if !name.is_empty() => Ok(name),
        _ => Err(StoreError::invalid("metadata.name", "name is required")),
    }
}

#[async_trait]
impl ObjectStore for KubeStore {
    fn capabilities(&self) -> Capabilities {
        self.capabilities.clone()
    }

    async fn kind_info(&self, type_ref: &TypeRef) -> StoreResult<KindInfo> {
        Ok(self.resolve(type_ref).await?.info.clone())
    }

    async fn get(&self, key: &ObjectRef) -> StoreResult<Arc<Object>> {
        let api = self.api_for(&key.type_ref, key.namespace.as_deref()).await?;
        let object = api.get(&key.name).await.map_err(from_kube)?;
        from_dynamic(object, &key.type_ref)
    }

    async fn list(&self, type_ref: &TypeRef, params: &ListParams) -> StoreResult<ObjectList> {
        let (api, _) = self.collection_api(type_ref, params.namespace.as_deref()).await?;
        let kube_params = KubeListParams {
            label_selector: params.label_selector.clone(),
            field_selector: params.field_selector.clone(),
            limit: params.limit,
            continue_token: params.continue_token.clone(),
            resource_version: params.resource_version.clone(),
            version_match: params.version_match.map(|m| match m {
                VersionMatch::NotOlderThan => KubeVersionMatch::NotOlderThan,
                VersionMatch::Exact => KubeVersionMatch::Exact,
            }),
            ..KubeListParams::default()
        };
        let list = api.list(&kube_params).await.map_err(from_kube)?;
        let items = list
            .items
            .into_iter()
            .map(|o| from_dynamic(o, type_ref))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(ObjectList {
            items,
            resource_version: list.metadata.resource_version.unwrap_or_default(),
            continue_token: list.metadata.continue_.filter(|c| !c.is_empty()),
        })
    }

    async fn create(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        let type_ref = object.type_ref();
        let api = self.api_for(&type_ref, object.namespace()).await?;
        let created = api
            .create(&post_params(params), &to_dynamic(object)?)
            .await
            .map_err(from_kube)?;
        from_dynamic(created, &type_ref)
    }

    async fn replace(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        let type_ref = object.type_ref();
        let api = self.api_for(&type_ref, object.namespace()).await?;
        let replaced = api
            .replace(required_name(object)?, &post_params(params), &to_dynamic(object)?)
            .await
            .map_err(from_kube)?;
        from_dynamic(replaced, &type_ref)
    }

    async fn replace_status(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        let type_ref = object.type_ref();
        let api = self.api_for(&type_ref, object.namespace()).await?;
        let replaced = api
            .replace_status(required_name(object)?, &post_params(params), &to_dynamic(object)?)
            .await
            .map_err(from_kube)?;
        from_dynamic(replaced, &type_ref)
    }

    async fn patch(&self, key: &ObjectRef, patch: &Patch, params: &PatchParams) -> StoreResult<Arc<Object>> {
        let kube_patch = match patch {
            Patch::Merge(v) => KubePatch::Merge(v.clone()),
            Patch::Apply(v) => KubePatch::Apply(v.clone()),
            Patch::Json(v) => KubePatch::Json(
                serde_json::from_value::<json_patch::Patch>(v.clone())
                    .map_err(|e| StoreError::bad_request(format!("invalid JSON patch: {e}")))?,
            ),
        };
        self.send_patch(key, &kube_patch, params).await
    }

    async fn apply_object(
        &self,
        object: &Object,
        resource_version: Option<&str>,
        params: &PatchParams,
    ) -> StoreResult<Arc<Object>> {
        // Serialized from the object straight into the request, where the provided method
        // builds its JSON tree and `patch` copies that again.
        match ApplyBody::of(object, resource_version) {
            Some(body) => {
                self.send_patch(&object.object_ref(), &KubePatch::Apply(body), params)
                    .await
            }
            None => {
                let patch = Patch::apply_of(object, resource_version)?;
                self.patch(&object.object_ref(), &patch, params).await
            }
        }
    }

    async fn delete(&self, key: &ObjectRef, params: &DeleteParams) -> StoreResult<DeleteOutcome> {
        let api = self.api_for(&key.type_ref, key.namespace.as_deref()).await?;
        let kube_params = KubeDeleteParams {
            dry_run: params.dry_run,
            propagation_policy: params.propagation.map(|p| match p {
                Propagation::Background => PropagationPolicy::Background,
                Propagation::Foreground => PropagationPolicy::Foreground,
                Propagation::Orphan => PropagationPolicy::Orphan,
            }),
            preconditions: params.preconditions.as_ref().map(|p| KubePreconditions {
                uid: p.uid.clone(),
                resource_version: p.resource_version.clone(),
            }),
            ..KubeDeleteParams::default()
        };
        match api.delete(&key.name, &kube_params).await.map_err(from_kube)? {
            // The server answers with the object when it still exists (finalizers pending,
            // dry-run); a kind whose strategy returns deleted objects would also land here.
            Either::Left(object) => {
                let object = from_dynamic(object, &key.type_ref)?;
                let pending =
                    object.is_terminating() && object.metadata.finalizers.as_ref().is_some_and(|f| !f.is_empty());
                Ok(if pending {
                    DeleteOutcome::Pending(object)
                } else {
                    DeleteOutcome::Deleted(object)
                })
            }
            // A completed delete is answered with a Status (built-in kinds and custom
            // resources alike on 1.37): the object is gone and only its identity is known.
            Either::Right(status) => {
                let mut object = Object::new(&key.type_ref, key.namespace.as_deref(), &key.name);
                object.metadata.uid = status.details.map(|d| d.uid).filter(|u| !u.is_empty());
                Ok(DeleteOutcome::Deleted(Arc::new(object)))
            }
        }
    }

    async fn watch(&self, type_ref: &TypeRef, params: &WatchParams) -> StoreResult<WatchStream> {
        let (api, _) = self.collection_api(type_ref, params.namespace.as_deref()).await?;
        watch::open(api, type_ref.clone(), params).await
    }
}

/// The apply body of an object, borrowed from it, with `resource_version` in place of its own:
/// the object's JSON, in another key order.
#[derive(Debug, serde::Serialize)]
struct ApplyBody<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    kind: &'a str,
    metadata: std::borrow::Cow<'a, k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>,
    #[serde(flatten)]
    body: &'a serde_json::Map<String, serde_json::Value>,
}

impl<'a> ApplyBody<'a> {
    /// None when the body holds its own `apiVersion`, `kind` or `metadata`: the object's JSON
    /// then takes those from the body, which only building it says how.
    fn of(object: &'a Object, resource_version: Option<&str>) -> Option<Self> {
        if ["apiVersion", "kind", "metadata"]
            .iter()
            .any(|k| object.body.contains_key(*k))
        {
            return None;
        }
        let metadata = match resource_version {
            Some(rv) => {
                let mut meta = object.metadata.clone();
                meta.resource_version = Some(rv.to_owned());
                std::borrow::Cow::Owned(meta)
            }
            None => std::borrow::Cow::Borrowed(&object.metadata),
        };
        Some(Self {
            api_version: &object.api_version,
            kind: &object.kind,
            metadata,
            body: &object.body,
        })
    }
}

#[cfg(test)]
mod tests {
    use operator_runtime_core::store::Patch;
    use operator_runtime_core::{Object, TypeRef};
    use serde_json::json;

    use super::ApplyBody;

    fn statefulset() -> Object {
        let mut o = Object::new(&TypeRef::new("apps/v1", "StatefulSet"), Some("ns"), "s");
        o.metadata.labels = Some([("app".to_owned(), "s".to_owned())].into());
        o.metadata.resource_version = Some("7".to_owned());
        o.body.insert("spec".into(), json!({"replicas": 2, "serviceName": "s"}));
        o
    }

    /// The borrowed body serializes to the JSON the provided method sends, with or without a
    /// resourceVersion standing for the object's own.
    #[test]
    fn apply_body_is_the_json_of_the_provided_apply() {
        let object = statefulset();
        for rv in [Some("42"), None] {
            let body = ApplyBody::of(&object, rv).expect("a body without apiVersion, kind or metadata");
            let sent = serde_json::to_value(&body).expect("serializes");
            let Ok(Patch::Apply(expected)) = Patch::apply_of(&object, rv) else {
                panic!("apply_of gives an apply");
            };
            assert_eq!(sent, expected, "resourceVersion {rv:?}");
        }
    }

    /// A body that holds its own `metadata` (or `apiVersion`, `kind`) is left to the JSON
    /// path, which decides which of the two wins.
    #[test]
    fn apply_body_leaves_a_body_with_its_own_metadata_to_the_json() {
        for key in ["apiVersion", "kind", "metadata"] {
            let mut object = statefulset();
            object.body.insert(key.into(), json!({}));
            assert!(ApplyBody::of(&object, None).is_none(), "{key}");
        }
    }
}
