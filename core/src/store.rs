//! The [`ObjectStore`] contract: the only way core talks to an API server.
//!
//! The trait is deliberately small and primitive, one method per API-server verb, with the
//! API server's semantics (see `docs/apiserver-semantics.md` in the repository). Conveniences live in
//! [`ObjectStoreExt`]. What a backend can and cannot do is described by [`Capabilities`], never
//! by `cfg`.
//!
//! # Guarantees every backend gives
//! - resourceVersions are opaque strings; a no-op write returns the stored object unchanged
//!   (same resourceVersion) and emits no watch event.
//! - Errors are [`StoreError`] variants matching the API server's status reasons.
//! - Objects are returned as `Arc<Object>` snapshots: cheap to share, copy on modify.
//! - A managedFields entry's `fieldsV1` may come as a JSON object or as its JSON text (a
//!   string): the memory backend stores the text, as the API server stores `FieldsV1.Raw`,
//!   and the cache keeps its own `Apply` entry that way. Read it with
//!   [`fields_v1::tree`](crate::fields_v1::tree); every backend accepts either form on writes.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;
use serde_json::Value;

use crate::error::StoreError;
use crate::model::{Object, ObjectList, ObjectRef, TypeRef};

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// Options for [`ObjectStore::list`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListParams {
    /// Namespace to list in; None lists across all namespaces (or a cluster-scoped kind).
    pub namespace: Option<String>,
    /// Label selector (`a=b,c!=d,e in (x,y),!f`).
    pub label_selector: Option<String>,
    /// Field selector (`metadata.name=x`, `metadata.namespace!=y`).
    pub field_selector: Option<String>,
    /// Page size.
    pub limit: Option<u32>,
    /// Continue token from the previous page.
    pub continue_token: Option<String>,
    /// `resourceVersion`: None lists the most recent state; `"0"` any state the server has
    /// (its cache); another value a state not older than it, or exactly it with
    /// [`VersionMatch::Exact`]. A value newer than the server's state is a
    /// [`StoreError::Timeout`]; an exact one the server no longer has is
    /// [`StoreError::Expired`].
    pub resource_version: Option<String>,
    /// `resourceVersionMatch` (only with [`ListParams::resource_version`]).
    pub version_match: Option<VersionMatch>,
}

/// How a list's [`ListParams::resource_version`] is matched (`resourceVersionMatch`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionMatch {
    /// A state at least as new as the resourceVersion.
    NotOlderThan,
    /// Exactly the state at the resourceVersion.
    Exact,
}

impl ListParams {
    /// Lists at `resource_version` (see [`ListParams::resource_version`]).
    pub fn at(mut self, resource_version: impl Into<String>) -> Self {
        self.resource_version = Some(resource_version.into());
        self
    }
    /// Sets how the resourceVersion is matched.
    pub fn matching(mut self, version_match: VersionMatch) -> Self {
        self.version_match = Some(version_match);
        self
    }
    /// List in one namespace.
    pub fn in_namespace(namespace: impl Into<String>) -> Self {
        Self {
            namespace: Some(namespace.into()),
            ..Self::default()
        }
    }
    /// Adds a label selector.
    pub fn labels(mut self, selector: impl Into<String>) -> Self {
        self.label_selector = Some(selector.into());
        self
    }
    /// Adds a field selector.
    pub fn fields(mut self, selector: impl Into<String>) -> Self {
        self.field_selector = Some(selector.into());
        self
    }
    /// Sets the page size.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }
}

/// Options for [`ObjectStore::watch`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WatchParams {
    /// Namespace to watch; None watches all namespaces.
    pub namespace: Option<String>,
    /// Label selector.
    pub label_selector: Option<String>,
    /// Field selector.
    pub field_selector: Option<String>,
    /// Start after this resourceVersion (no synthetic events). None: synthetic Added for every
    /// existing object, then changes.
    pub resource_version: Option<String>,
    /// Ask for Bookmark events (never guaranteed).
    pub bookmarks: bool,
    /// Server-side timeout after which the stream ends (resume from the last resourceVersion).
    pub timeout: Option<Duration>,
}

/// Options for create, replace and replace_status.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteParams {
    /// Validate and return the would-be object without persisting it (`dryRun=All`).
    pub dry_run: bool,
    /// Field manager recorded in managedFields.
    pub field_manager: Option<String>,
}

/// A patch body.
#[derive(Clone, Debug, PartialEq)]
pub enum Patch {
    /// RFC 7386 JSON merge patch. A `metadata.resourceVersion` in it is a precondition.
    Merge(Value),
    /// RFC 6902 JSON patch (an array of operations).
    Json(Value),
    /// Server-side apply of a (partial) object; requires a field manager.
    Apply(Value),
}

impl Patch {
    /// The [`Patch::Apply`] of `object`'s JSON, with `resource_version` (when given) as its
    /// `metadata.resourceVersion`: what [`ObjectStore::apply_object`] sends by default.
    ///
    /// # Errors
    /// [`StoreError::BadRequest`] when the object does not serialize.
    pub fn apply_of(object: &Object, resource_version: Option<&str>) -> StoreResult<Patch> {
        let mut body = object.to_value().map_err(|e| StoreError::bad_request(e.to_string()))?;
        if let Some(rv) = resource_version
            && let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut)
        {
            meta.insert("resourceVersion".into(), Value::String(rv.to_owned()));
        }
        Ok(Patch::Apply(body))
    }
}

/// Options for [`ObjectStore::patch`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatchParams {
    /// Field manager (required for [`Patch::Apply`]).
    pub field_manager: Option<String>,
    /// Server-side apply: take ownership of conflicting fields.
    pub force: bool,
    /// Do not persist.
    pub dry_run: bool,
    /// Patch the status subresource (`PATCH .../status`, kube-rs's `Api::patch_status`)
    /// instead of the object: only `status` is written (with the metadata the kind's status
    /// strategy keeps), and a server-side apply's entry in `managedFields` carries
    /// `subresource: status`, so its fields are owned apart from the main resource's. A
    /// kind without the status subresource answers NotFound.
    pub status: bool,
}

impl PatchParams {
    /// Apply params for a field manager, without `force`.
    pub fn apply(field_manager: impl Into<String>) -> Self {
        Self {
            field_manager: Some(field_manager.into()),
            ..Self::default()
        }
    }
    /// Sets `force`.
    pub fn force(mut self) -> Self {
        self.force = true;
        self
    }
    /// Targets the status subresource (see [`PatchParams::status`]).
    pub fn status(mut self) -> Self {
        self.status = true;
        self
    }
}

/// Deletion propagation policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Propagation {
    /// Owner goes now; the garbage collector deletes dependents later.
    Background,
    /// Owner gets the `foregroundDeletion` finalizer; dependents go first.
    Foreground,
    /// Owner gets the `orphan` finalizer; dependents lose their ownerReference.
    Orphan,
}

/// Delete preconditions: the delete fails with Conflict unless they hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Preconditions {
    /// Required uid.
    pub uid: Option<String>,
    /// Required resourceVersion.
    pub resource_version: Option<String>,
}

/// Options for [`ObjectStore::delete`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeleteParams {
    /// Preconditions.
    pub preconditions: Option<Preconditions>,
    /// Propagation policy; None is the kind's default (background; orphan for a batch/v1 Job,
    /// kept by the server for backward compatibility).
    pub propagation: Option<Propagation>,
    /// Do not persist.
    pub dry_run: bool,
}

/// What a delete did.
#[derive(Clone, Debug, PartialEq)]
pub enum DeleteOutcome {
    /// The object is gone; this was its last state.
    Deleted(Arc<Object>),
    /// The object has finalizers: deletionTimestamp is set and it is still readable.
    Pending(Arc<Object>),
}

impl DeleteOutcome {
    /// The object carried by either outcome.
    pub fn object(&self) -> &Arc<Object> {
        match self {
            Self::Deleted(o) | Self::Pending(o) => o,
        }
    }
}

/// One watch event.
#[derive(Clone, Debug, PartialEq)]
pub enum WatchEvent {
    /// The object was created, or started matching the selector, or is a synthetic initial event.
    Added(Arc<Object>),
    /// The object changed.
    Modified(Arc<Object>),
    /// The object was deleted (last state, deletion resourceVersion) or stopped matching.
    Deleted(Arc<Object>),
    /// Progress marker: everything up to this resourceVersion has been sent.
    Bookmark {
        /// The revision reached.
        resource_version: String,
    },
}

impl WatchEvent {
    /// The resourceVersion this event carries.
    pub fn resource_version(&self) -> Option<&str> {
        match self {
            Self::Added(o) | Self::Modified(o) | Self::Deleted(o) => o.resource_version(),
            Self::Bookmark { resource_version } => Some(resource_version),
        }
    }
}

/// A stream of watch events. An `Err(StoreError::Expired)` item means the start revision is
/// too old: relist and watch again from the list's resourceVersion. The stream ends when the
/// server closes it; resume from the last seen resourceVersion.
pub type WatchStream = BoxStream<'static, StoreResult<WatchEvent>>;

/// What a backend knows about a kind (discovery).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KindInfo {
    /// The kind.
    pub type_ref: TypeRef,
    /// Lower-case plural resource name (`configmaps`).
    pub plural: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// Whether `/status` is a separate subresource.
    pub status_subresource: bool,
}

/// How much of server-side apply a backend implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApplySupport {
    /// Not at all: apply returns an error.
    None,
    /// The documented subset (see the backend's docs): per-manager field ownership at leaf
    /// paths, atomic lists, conflicts, force, removal of dropped fields.
    Subset,
    /// The real structured-merge-diff.
    Full,
}

/// How a backend checks custom resources against their CRD's OpenAPI v3 schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchemaValidation {
    /// Custom resources are stored as sent.
    None,
    /// The structural schema: unknown fields pruned, defaults applied, types, bounds, lengths,
    /// `enum` and `required` checked. No CEL rules (`x-kubernetes-validations`).
    Structural,
    /// Structural plus CEL rules: the real API server.
    Full,
}

/// What a backend supports; conformance cases consult it instead of `cfg`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// Human-readable backend name (for test output).
    pub name: String,
    /// Server-side apply support.
    pub server_side_apply: ApplySupport,
    /// A garbage collector runs (ownerReference cascading).
    pub garbage_collection: bool,
    /// A namespace controller finishes namespace deletion.
    pub namespace_deletion: bool,
    /// CRD OpenAPI validation, pruning and defaulting.
    pub schema_validation: SchemaValidation,
    /// Dry-run writes.
    pub dry_run: bool,
    /// Bookmark events may be sent.
    pub bookmarks: bool,
    /// Changes become visible asynchronously (a real cluster): tests poll instead of asserting at once.
    pub eventually_consistent_gc: bool,
    /// Workload controllers run: Deployment and StatefulSet status (observedGeneration,
    /// updated and ready replicas, revisions) is reported by the server's controllers, so tests
    /// wait for it instead of writing it themselves.
    pub workload_controllers: bool,
}

/// The storage contract every backend implements (memory, kube).
///
/// # Errors
/// Every method returns [`StoreError`] variants named after the API server's reasons; an
/// unknown kind is `NotFound`.
#[async_trait]
pub trait ObjectStore: Send + Sync + 'static {
    /// What this backend supports.
    fn capabilities(&self) -> Capabilities;

    /// Discovery: whether the kind is served, namespaced, and has a status subresource.
    async fn kind_info(&self, type_ref: &TypeRef) -> StoreResult<KindInfo>;

    /// Reads one object (a quorum read).
    async fn get(&self, key: &ObjectRef) -> StoreResult<Arc<Object>>;

    /// Lists objects of a kind.
    async fn list(&self, type_ref: &TypeRef, params: &ListParams) -> StoreResult<ObjectList>;

    /// Creates an object. `metadata.name` or `metadata.generateName` must be set; a
    /// resourceVersion must not be.
    async fn create(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>>;

    /// Replaces an object (PUT). A `metadata.resourceVersion` is a precondition.
    async fn replace(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>>;

    /// Replaces the status subresource: only `status` of the body is written.
    async fn replace_status(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>>;

    /// Patches an object (merge, JSON patch, or server-side apply).
    async fn patch(&self, key: &ObjectRef, patch: &Patch, params: &PatchParams) -> StoreResult<Arc<Object>>;

    /// Server-side apply of a whole object: the request and the answer of [`Patch::Apply`] of
    /// its JSON. `resource_version`, when given, stands for the object's
    /// `metadata.resourceVersion` (a precondition: Conflict unless the stored object is at it,
    /// dropped when the apply creates).
    ///
    /// Provided: builds that JSON and calls [`ObjectStore::patch`]. A backend that holds
    /// objects in process overrides it to apply the object as it is (the memory backend, where
    /// the JSON round trip was a twentieth of the runtime's converge); a wrapper that only
    /// forwards calls forwards this one as well, and one that acts on patches (fault
    /// injection) keeps the default, so every apply still reaches its `patch`.
    async fn apply_object(
        &self,
        object: &Object,
        resource_version: Option<&str>,
        params: &PatchParams,
    ) -> StoreResult<Arc<Object>> {
        let patch = Patch::apply_of(object, resource_version)?;
        self.patch(&object.object_ref(), &patch, params).await
    }

    /// Deletes an object.
    async fn delete(&self, key: &ObjectRef, params: &DeleteParams) -> StoreResult<DeleteOutcome>;

    /// Watches a kind.
    async fn watch(&self, type_ref: &TypeRef, params: &WatchParams) -> StoreResult<WatchStream>;
}

#[async_trait]
impl<S: ObjectStore + ?Sized> ObjectStore for Arc<S> {
    fn capabilities(&self) -> Capabilities {
        (**self).capabilities()
    }
    async fn kind_info(&self, type_ref: &TypeRef) -> StoreResult<KindInfo> {
        (**self).kind_info(type_ref).await
    }
    async fn get(&self, key: &ObjectRef) -> StoreResult<Arc<Object>> {
        (**self).get(key).await
    }
    async fn list(&self, type_ref: &TypeRef, params: &ListParams) -> StoreResult<ObjectList> {
        (**self).list(type_ref, params).await
    }
    async fn create(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        (**self).create(object, params).await
    }
    async fn replace(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        (**self).replace(object, params).await
    }
    async fn replace_status(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        (**self).replace_status(object, params).await
    }
    async fn patch(&self, key: &ObjectRef, patch: &Patch, params: &PatchParams) -> StoreResult<Arc<Object>> {
        (**self).patch(key, patch, params).await
    }
    async fn apply_object(
        &self,
        object: &Object,
        resource_version: Option<&str>,
        params: &PatchParams,
    ) -> StoreResult<Arc<Object>> {
        (**self).apply_object(object, resource_version, params).await
    }
    async fn delete(&self, key: &ObjectRef, params: &DeleteParams) -> StoreResult<DeleteOutcome> {
        (**self).delete(key, params).await
    }
    async fn watch(&self, type_ref: &TypeRef, params: &WatchParams) -> StoreResult<WatchStream> {
        (**self).watch(type_ref, params).await
    }
}

/// Conveniences over any [`ObjectStore`].
#[async_trait]
pub trait ObjectStoreExt: ObjectStore {
    /// Get, mapping NotFound to None.
    async fn get_opt(&self, key: &ObjectRef) -> StoreResult<Option<Arc<Object>>> {
        match self.get(key).await {
            Ok(o) => Ok(Some(o)),
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Lists every page and returns all items and the first page's resourceVersion.
    async fn list_all(&self, type_ref: &TypeRef, params: &ListParams) -> StoreResult<ObjectList> {
        let mut page = self.list(type_ref, params).await?;
        let mut items = std::mem::take(&mut page.items);
        let resource_version = page.resource_version.clone();
        while let Some(token) = page.continue_token.take() {
            // The token carries the first page's revision; the server refuses a
            // resourceVersion next to it.
            let next = ListParams {
                continue_token: Some(token),
                resource_version: None,
                version_match: None,
                ..params.clone()
            };
            page = self.list(type_ref, &next).await?;
            items.append(&mut page.items);
        }
        Ok(ObjectList {
            items,
            resource_version,
            continue_token: None,
        })
    }

    /// Deletes every object that the list params select (DeleteCollection); finalizer rules
    /// apply per object. Returns the outcomes.
    async fn delete_collection(
        &self,
        type_ref: &TypeRef,
        list: &ListParams,
        params: &DeleteParams,
    ) -> StoreResult<Vec<DeleteOutcome>> {
        let all = self.list_all(type_ref, list).await?;
        let mut out = Vec::with_capacity(all.items.len());
        for obj in all.items {
            match self.delete(&obj.object_ref(), params).await {
                Ok(o) => out.push(o),
                Err(StoreError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Server-side apply of `object` as `field_manager` (force when `force`).
    async fn apply(&self, object: &Object, field_manager: &str, force: bool) -> StoreResult<Arc<Object>> {
        let params = PatchParams {
            field_manager: Some(field_manager.to_owned()),
            force,
            ..PatchParams::default()
        };
        self.apply_object(object, None, &params).await
    }

    /// Server-side apply of `object` to the status subresource as `field_manager` (force when
    /// `force`): only its `status` is written, owned by an entry with `subresource: status`.
    async fn apply_status(&self, object: &Object, field_manager: &str, force: bool) -> StoreResult<Arc<Object>> {
        let params = PatchParams {
            field_manager: Some(field_manager.to_owned()),
            force,
            status: true,
            ..PatchParams::default()
        };
        self.apply_object(object, None, &params).await
    }
}

impl<S: ObjectStore + ?Sized> ObjectStoreExt for S {}
