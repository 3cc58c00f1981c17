//! Store wrappers that make a backend misbehave the way a real cluster can, the same way on
//! every backend: [`DenyKind`] refuses to list and watch one kind (RBAC without `list`), and
//! [`StaleRelists`] cuts the watches of one kind with 410 Gone and answers the relists with
//! an older snapshot (a lagging API server replica, or a list served from behind).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use futures::StreamExt;
use operator_runtime_core::store::{
    DeleteOutcome, DeleteParams, KindInfo, ListParams, Patch, PatchParams, StoreResult, WatchParams, WatchStream,
    WriteParams,
};
use operator_runtime_core::{Capabilities, Object, ObjectList, ObjectRef, ObjectStore, StoreError, TypeRef};
use tokio::sync::watch;

/// Forwards every call to the wrapped store, except that lists and watches of one kind fail
/// with Forbidden while [`DenyKind::deny`] is on (as the API server answers a client whose
/// role lacks `list`/`watch` on that resource).
pub struct DenyKind {
    inner: Arc<dyn ObjectStore>,
    kind: TypeRef,
    denied: AtomicBool,
}

impl DenyKind {
    /// Wraps `inner`, denying `kind` from the start.
    pub fn new(inner: Arc<dyn ObjectStore>, kind: TypeRef) -> Self {
        Self {
            inner,
            kind,
            denied: AtomicBool::new(true),
        }
    }

    /// Turns the denial on or off (the "RBAC fix").
    pub fn deny(&self, on: bool) {
        self.denied.store(on, Ordering::SeqCst);
    }

    fn check(&self, type_ref: &TypeRef, verb: &str) -> StoreResult<()> {
        if self.denied.load(Ordering::SeqCst) && *type_ref == self.kind {
            return Err(StoreError::forbidden(format!(
                "{} is forbidden: User \"widget-operator\" cannot {verb} resource \"{}\"",
                self.kind.kind, self.kind.kind
            )));
        }
        Ok(())
    }
}

/// Forwards every call; for one kind, keeps a snapshot list ([`StaleRelists::take_snapshot`]),
/// and once [`StaleRelists::go_stale`] was called, ends that kind's open watches with 410 Gone
/// and answers the next `count` lists with the (by then older) snapshot.
pub struct StaleRelists {
    inner: Arc<dyn ObjectStore>,
    kind: TypeRef,
    snapshot: Mutex<Option<ObjectList>>,
    stale_lists_left: AtomicUsize,
    stale_lists_served: AtomicUsize,
    expire: watch::Sender<u64>,
}

impl StaleRelists {
    /// Wraps `inner` for `kind`.
    pub fn new(inner: Arc<dyn ObjectStore>, kind: TypeRef) -> Self {
        Self {
            inner,
            kind,
            snapshot: Mutex::new(None),
            stale_lists_left: AtomicUsize::new(0),
            stale_lists_served: AtomicUsize::new(0),
            expire: watch::Sender::new(0),
        }
    }

    /// Ends the kind's watches with 410 and serves the next `count` lists from the snapshot.
    pub fn go_stale(&self, count: usize) {
        self.stale_lists_left.store(count, Ordering::SeqCst);
        self.expire.send_modify(|n| *n += 1);
    }

    /// How many stale lists were served.
    pub fn stale_lists_served(&self) -> usize {
        self.stale_lists_served.load(Ordering::SeqCst)
    }

    /// Lists the kind (all namespaces) now and keeps the answer as the snapshot.
    pub async fn take_snapshot(&self) -> Result<(), String> {
        let list = self
            .inner
            .list(&self.kind, &ListParams::default())
            .await
            .map_err(|e| format!("snapshot of {}: {e}", self.kind))?;
        *self.snapshot.lock().unwrap_or_else(PoisonError::into_inner) = Some(list);
        Ok(())
    }
}

#[async_trait]
impl ObjectStore for DenyKind {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn kind_info(&self, type_ref: &TypeRef) -> StoreResult<KindInfo> {
        self.inner.kind_info(type_ref).await
    }
    async fn get(&self, key: &ObjectRef) -> StoreResult<Arc<Object>> {
        self.inner.get(key).await
    }
    async fn create(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        self.inner.create(object, params).await
    }
    async fn replace(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        self.inner.replace(object, params).await
    }
    async fn replace_status(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        self.inner.replace_status(object, params).await
    }
    async fn patch(&self, key: &ObjectRef, patch: &Patch, params: &PatchParams) -> StoreResult<Arc<Object>> {
        self.inner.patch(key, patch, params).await
    }
    async fn delete(&self, key: &ObjectRef, params: &DeleteParams) -> StoreResult<DeleteOutcome> {
        self.inner.delete(key, params).await
    }

    async fn list(&self, type_ref: &TypeRef, params: &ListParams) -> StoreResult<ObjectList> {
        self.check(type_ref, "list")?;
        self.inner.list(type_ref, params).await
    }

    async fn watch(&self, type_ref: &TypeRef, params: &WatchParams) -> StoreResult<WatchStream> {
        self.check(type_ref, "watch")?;
        self.inner.watch(type_ref, params).await
    }
}

#[async_trait]
impl ObjectStore for StaleRelists {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn kind_info(&self, type_ref: &TypeRef) -> StoreResult<KindInfo> {
        self.inner.kind_info(type_ref).await
    }
    async fn get(&self, key: &ObjectRef) -> StoreResult<Arc<Object>> {
        self.inner.get(key).await
    }
    async fn create(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        self.inner.create(object, params).await
    }
    async fn replace(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        self.inner.replace(object, params).await
    }
    async fn replace_status(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        self.inner.replace_status(object, params).await
    }
    async fn patch(&self, key: &ObjectRef, patch: &Patch, params: &PatchParams) -> StoreResult<Arc<Object>> {
        self.inner.patch(key, patch, params).await
    }
    async fn delete(&self, key: &ObjectRef, params: &DeleteParams) -> StoreResult<DeleteOutcome> {
        self.inner.delete(key, params).await
    }

    async fn list(&self, type_ref: &TypeRef, params: &ListParams) -> StoreResult<ObjectList> {
        if *type_ref == self.kind && params.continue_token.is_none() {
            let stale = self
                .stale_lists_left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            let snapshot = self.snapshot.lock().unwrap_or_else(PoisonError::into_inner).clone();
            if stale && let Some(old) = snapshot {
                self.stale_lists_served.fetch_add(1, Ordering::SeqCst);
                return Ok(old);
            }
        }
        self.inner.list(type_ref, params).await
    }

    async fn watch(&self, type_ref: &TypeRef, params: &WatchParams) -> StoreResult<WatchStream> {
        let stream = self.inner.watch(type_ref, params).await?;
        if *type_ref != self.kind {
            return Ok(stream);
        }
        // Ends with 410 at the next go_stale after this watch opened.
        let mut expire = self.expire.subscribe();
        expire.mark_unchanged();
        let cut = futures::stream::unfold((stream, expire, false), |(mut stream, mut expire, done)| async move {
            if done {
                return None;
            }
            tokio::select! {
                item = stream.next() => item.map(|i| (i, (stream, expire, false))),
                changed = expire.changed() => match changed {
                    Ok(()) => Some((Err(StoreError::expired("injected: too old resource version")), (stream, expire, true))),
                    Err(_) => None,
                },
            }
        });
        Ok(cut.boxed())
    }
}
