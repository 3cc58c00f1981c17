//! [`Ctx`]: one behaviour's view of the store: its own namespace, object builders, and
//! shortcuts that turn unexpected errors into failure messages.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::StreamExt;
use operator_runtime_core::store::{DeleteParams, ListParams, WatchParams, WriteParams};
use operator_runtime_core::{Capabilities, Object, ObjectRef, ObjectStore, StoreError, TypeRef};
use serde_json::{Value, json};

use super::check::OrFail;
use super::kinds;
use super::names::namespace_for;
use super::poll::{CONTROLLER_DEADLINE, CRD_DEADLINE, eventually};

/// How long a probe watch is read for an immediate refusal.
const WATCH_SETTLE: std::time::Duration = std::time::Duration::from_millis(50);

tokio::task_local! {
    /// Prefix of namespace names for the current run (set by the harness; `c` by default).
    pub(crate) static NAMESPACE_PREFIX: &'static str;
}

/// The namespace prefix of the current run.
fn namespace_prefix() -> &'static str {
    NAMESPACE_PREFIX.try_with(|p| *p).unwrap_or("c")
}

/// One behaviour's context: the store, its capabilities and the behaviour's own namespace.
pub struct Ctx<'s, S: ObjectStore + ?Sized> {
    /// The store under test.
    pub store: &'s S,
    /// The behaviour's namespace (created, empty and active when [`Ctx::new`] returns).
    pub ns: String,
    /// The backend's capabilities.
    pub caps: Capabilities,
}

impl<'s, S: ObjectStore + ?Sized> Ctx<'s, S> {
    /// Creates the behaviour's namespace through the API (`<prefix>-<behaviour-in-kebab-case>`).
    /// A namespace left over from an earlier run against the same server is deleted and
    /// created again when the backend finishes namespace deletion, so every run starts empty.
    pub async fn new(store: &'s S, behaviour: &str) -> Result<Self, String> {
        let ns = namespace_for(namespace_prefix(), behaviour);
        let cx = Self {
            store,
            ns: ns.clone(),
            caps: store.capabilities(),
        };
        cx.fresh_namespace(&ns).await?;
        Ok(cx)
    }

    /// Creates another namespace `<ns>-<suffix>` for behaviours that span namespaces.
    pub async fn extra_namespace(&self, suffix: &str) -> Result<String, String> {
        let name = format!("{}-{suffix}", self.ns);
        self.fresh_namespace(&name).await?;
        Ok(name)
    }

    async fn fresh_namespace(&self, name: &str) -> Result<(), String> {
        let body = Object::new(&kinds::namespace(), None, name);
        let key = ObjectRef::cluster(kinds::namespace(), name);
        match self.store.create(&body, &WriteParams::default()).await {
            Ok(_) => return Ok(()),
            Err(StoreError::AlreadyExists { .. }) => {}
            Err(e) => return Err(format!("creating namespace {name}: unexpected error {e:?}")),
        }
        if !self.caps.namespace_deletion {
            // Nothing can empty it: reuse it as it is.
            return Ok(());
        }
        match self.store.delete(&key, &DeleteParams::default()).await {
            Ok(_) | Err(StoreError::NotFound { .. }) => {}
            Err(e) => return Err(format!("deleting leftover namespace {name}: unexpected error {e:?}")),
        }
        eventually(
            &format!("leftover namespace {name} to go away"),
            CONTROLLER_DEADLINE,
            || async {
                match self.store.get(&key).await {
                    Err(StoreError::NotFound { .. }) => Ok(()),
                    Ok(_) => Err("still there".to_owned()),
                    Err(e) => Err(format!("{e:?}")),
                }
            },
        )
        .await?;
        self.store
            .create(&body, &WriteParams::default())
            .await
            .or_fail(&format!("re-creating namespace {name}"))?;
        Ok(())
    }

    /// Installs the Widget and Gadget CRDs through the API (AlreadyExists is fine) and waits
    /// until both kinds are served.
    pub async fn install_crds(&self) -> Result<(), String> {
        self.install_crd(&kinds::widget_crd(), &kinds::widget()).await?;
        self.install_crd(&kinds::gadget_crd(), &kinds::gadget()).await
    }

    /// Installs one CRD through the API (AlreadyExists is fine) and waits until `kind` is
    /// served (discovery, list and watch work in this namespace).
    pub async fn install_crd(&self, crd: &Object, kind: &TypeRef) -> Result<(), String> {
        match self.store.create(crd, &WriteParams::default()).await {
            Ok(_) | Err(StoreError::AlreadyExists { .. }) => {}
            Err(e) => return Err(format!("installing CRD {}: unexpected error {e:?}", crd.name())),
        }
        eventually(&format!("{kind} to be served"), CRD_DEADLINE, || async {
            self.store
                .kind_info(kind)
                .await
                .map_err(|e| format!("discovery: {e:?}"))?;
            let list = self
                .store
                .list(kind, &ListParams::in_namespace(&self.ns))
                .await
                .map_err(|e| format!("list: {e:?}"))?;
            self.watch_accepted(kind, list.resource_version).await
        })
        .await
    }

    /// A real server refuses watches of a new kind (429 "storage is (re)initializing") until its
    /// watch cache is filled, even after discovery and lists work; so a kind counts as served
    /// only once a watch starts without an immediate error.
    async fn watch_accepted(&self, kind: &TypeRef, resource_version: String) -> Result<(), String> {
        let params = WatchParams {
            namespace: Some(self.ns.clone()),
            resource_version: Some(resource_version),
            ..WatchParams::default()
        };
        let mut stream = self
            .store
            .watch(kind, &params)
            .await
            .map_err(|e| format!("watch: {e:?}"))?;
        match tokio::time::timeout(WATCH_SETTLE, stream.next()).await {
            Ok(Some(Err(e))) => Err(format!("watch item: {e:?}")),
            _ => Ok(()),
        }
    }

    /// A reference to a namespaced object of `kind` in this behaviour's namespace.
    pub fn key(&self, kind: &TypeRef, name: &str) -> ObjectRef {
        ObjectRef::namespaced(kind.clone(), &self.ns, name)
    }

    /// A ConfigMap in this namespace with `data: {k: v}`.
    pub fn config_map(&self, name: &str) -> Object {
        Object::new(&kinds::config_map(), Some(&self.ns), name).with("data", json!({"k": "v"}))
    }

    /// A Widget (status subresource) in this namespace with the given spec.
    pub fn widget(&self, name: &str, spec: Value) -> Object {
        Object::new(&kinds::widget(), Some(&self.ns), name).with("spec", spec)
    }

    /// A Gadget (no status subresource) in this namespace with the given spec.
    pub fn gadget(&self, name: &str, spec: Value) -> Object {
        Object::new(&kinds::gadget(), Some(&self.ns), name).with("spec", spec)
    }

    /// Creates an object; any error fails the behaviour.
    pub async fn create(&self, object: &Object) -> Result<Arc<Object>, String> {
        self.store
            .create(object, &WriteParams::default())
            .await
            .or_fail(&format!("create {}", object.object_ref()))
    }

    /// Replaces an object; any error fails the behaviour.
    pub async fn replace(&self, object: &Object) -> Result<Arc<Object>, String> {
        self.store
            .replace(object, &WriteParams::default())
            .await
            .or_fail(&format!("replace {}", object.object_ref()))
    }

    /// Reads an object; any error fails the behaviour.
    pub async fn get(&self, key: &ObjectRef) -> Result<Arc<Object>, String> {
        self.store.get(key).await.or_fail(&format!("get {key}"))
    }

    /// Asserts that the object does not exist (Get returns NotFound).
    pub async fn expect_gone(&self, key: &ObjectRef) -> Result<(), String> {
        match self.store.get(key).await {
            Err(StoreError::NotFound { .. }) => Ok(()),
            Ok(o) => Err(format!(
                "{key} still exists (deletionTimestamp {:?})",
                o.metadata.deletion_timestamp
            )),
            Err(e) => Err(format!("get {key}: expected NotFound, got {e:?}")),
        }
    }

    /// Removes every finalizer from the object, so a later run against the same server can
    /// delete this namespace. Best effort: errors are ignored (the object may be gone).
    pub async fn release(&self, key: &ObjectRef) {
        for _ in 0..3 {
            let Ok(current) = self.store.get(key).await else { return };
            if current.metadata.finalizers.as_ref().is_none_or(Vec::is_empty) {
                return;
            }
            let mut body = edit(&current);
            body.metadata.finalizers = None;
            match self.store.replace(&body, &WriteParams::default()).await {
                Err(StoreError::Conflict { .. }) => continue,
                _ => return,
            }
        }
    }

    /// Polls until the object is gone (for work done by asynchronous controllers).
    pub async fn eventually_gone(&self, key: &ObjectRef) -> Result<(), String> {
        eventually(&format!("{key} to be deleted"), CONTROLLER_DEADLINE, || {
            self.expect_gone(key)
        })
        .await
    }
}

/// The object with labels set (builder style).
pub fn with_labels(mut object: Object, labels: &[(&str, &str)]) -> Object {
    let map = object.metadata.labels.get_or_insert_with(BTreeMap::new);
    for (k, v) in labels {
        map.insert((*k).to_owned(), (*v).to_owned());
    }
    object
}

/// The object with finalizers set (builder style).
pub fn with_finalizers(mut object: Object, finalizers: &[&str]) -> Object {
    object.metadata.finalizers = Some(finalizers.iter().map(|f| (*f).to_owned()).collect());
    object
}

/// A mutable copy of a stored object.
pub fn edit(object: &Arc<Object>) -> Object {
    (**object).clone()
}
