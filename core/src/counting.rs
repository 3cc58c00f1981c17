//! [`CountingStore`]: an [`ObjectStore`] wrapper that counts the requests sent to the backend,
//! per verb and per kind.
//!
//! It is how tests and benchmarks prove that a steady-state reconcile sends no request at all:
//! take a [`CountingStore::snapshot`] (or [`CountingStore::take`]) before and after, and
//! compare. Every call is counted when it is made, whether it then succeeds or fails; a watch
//! counts once when it is opened, not per event.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;

use crate::model::{Object, ObjectList, ObjectRef, TypeRef};
use crate::store::{
    Capabilities, DeleteOutcome, DeleteParams, KindInfo, ListParams, ObjectStore, Patch, PatchParams, StoreResult,
    WatchParams, WatchStream, WriteParams,
};

/// An API verb, as counted by [`CountingStore`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verb {
    /// Discovery ([`ObjectStore::kind_info`]).
    KindInfo,
    /// [`ObjectStore::get`].
    Get,
    /// [`ObjectStore::list`] (one per page).
    List,
    /// [`ObjectStore::watch`] (one per opened stream).
    Watch,
    /// [`ObjectStore::create`].
    Create,
    /// [`ObjectStore::replace`].
    Replace,
    /// [`ObjectStore::replace_status`].
    ReplaceStatus,
    /// [`ObjectStore::patch`].
    Patch,
    /// [`ObjectStore::delete`].
    Delete,
}

impl Verb {
    /// Every verb, in display order.
    pub const ALL: [Verb; 9] = [
        Verb::KindInfo,
        Verb::Get,
        Verb::List,
        Verb::Watch,
        Verb::Create,
        Verb::Replace,
        Verb::ReplaceStatus,
        Verb::Patch,
        Verb::Delete,
    ];

    /// True for verbs that change state: create, replace, replace_status, patch, delete.
    pub fn is_write(self) -> bool {
        matches!(
            self,
            Verb::Create | Verb::Replace | Verb::ReplaceStatus | Verb::Patch | Verb::Delete
        )
    }

    /// True for get and list, the reads a cache is meant to absorb.
    pub fn is_read(self) -> bool {
        matches!(self, Verb::Get | Verb::List)
    }

    /// The API server's lower-case verb name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::KindInfo => "discovery",
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Watch => "watch",
            Verb::Create => "create",
            Verb::Replace => "update",
            Verb::ReplaceStatus => "update-status",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
        }
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A snapshot of request counts, by verb and kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestCounts {
    counts: BTreeMap<(Verb, TypeRef), u64>,
}

impl RequestCounts {
    /// Requests of one verb on one kind.
    pub fn get(&self, verb: Verb, type_ref: &TypeRef) -> u64 {
        self.counts.get(&(verb, type_ref.clone())).copied().unwrap_or(0)
    }

    /// Requests of one verb, all kinds.
    pub fn verb(&self, verb: Verb) -> u64 {
        self.sum(|v, _| v == verb)
    }

    /// Requests on one kind, all verbs.
    pub fn kind(&self, type_ref: &TypeRef) -> u64 {
        self.sum(|_, t| t == type_ref)
    }

    /// Every request.
    pub fn total(&self) -> u64 {
        self.sum(|_, _| true)
    }

    /// Create, replace, replace_status, patch and delete requests.
    pub fn writes(&self) -> u64 {
        self.sum(|v, _| v.is_write())
    }

    /// Get and list requests.
    pub fn reads(&self) -> u64 {
        self.sum(|v, _| v.is_read())
    }

    /// Every non-zero (verb, kind, count), ordered by verb then kind.
    pub fn iter(&self) -> impl Iterator<Item = (Verb, &TypeRef, u64)> {
        self.counts.iter().map(|((v, t), n)| (*v, t, *n))
    }

    /// The counts added since `earlier` (saturating at zero).
    pub fn since(&self, earlier: &RequestCounts) -> RequestCounts {
        let counts = self
            .counts
            .iter()
            .filter_map(|(key, n)| {
                let d = n.saturating_sub(earlier.counts.get(key).copied().unwrap_or(0));
                (d > 0).then(|| (key.clone(), d))
            })
            .collect();
        RequestCounts { counts }
    }

    fn sum(&self, pred: impl Fn(Verb, &TypeRef) -> bool) -> u64 {
        self.counts
            .iter()
            .filter(|((v, t), _)| pred(*v, t))
            .map(|(_, n)| n)
            .sum()
    }
}

impl fmt::Display for RequestCounts {
    /// One `verb kind=count` per line, then a total line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (verb, type_ref, n) in self.iter() {
            writeln!(f, "{verb} {type_ref}: {n}")?;
        }
        write!(f, "total {} (writes {})", self.total(), self.writes())
    }
}

/// Wraps an [`ObjectStore`] and counts every request by verb and kind.
///
/// Share it as `Arc<CountingStore<S>>` (which is itself an `ObjectStore`) to keep a handle for
/// reading the counts while a cache or controller owns another clone.
pub struct CountingStore<S> {
    inner: S,
    counts: Arc<Mutex<RequestCounts>>,
}

impl<S: ObjectStore> CountingStore<S> {
    /// Wraps `inner` with all counts at zero.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            counts: Arc::default(),
        }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The counts so far.
    pub fn snapshot(&self) -> RequestCounts {
        self.lock().clone()
    }

    /// Sets every count back to zero.
    pub fn reset(&self) {
        *self.lock() = RequestCounts::default();
    }

    /// The counts so far, and resets them, atomically.
    pub fn take(&self) -> RequestCounts {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RequestCounts> {
        // The counts stay meaningful even if a panicking thread held the lock.
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn count(&self, verb: Verb, type_ref: &TypeRef) {
        let mut counts = self.lock();
        if let Some(n) = counts.counts.get_mut(&(verb, type_ref.clone())) {
            *n += 1;
        } else {
            counts.counts.insert((verb, type_ref.clone()), 1);
        }
    }
}

impl<S> fmt::Debug for CountingStore<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CountingStore").finish_non_exhaustive()
    }
}

#[async_trait]
impl<S: ObjectStore> ObjectStore for CountingStore<S> {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn kind_info(&self, type_ref: &TypeRef) -> StoreResult<KindInfo> {
        self.count(Verb::KindInfo, type_ref);
        self.inner.kind_info(type_ref).await
    }
    async fn get(&self, key: &ObjectRef) -> StoreResult<Arc<Object>> {
        self.count(Verb::Get, &key.type_ref);
        self.inner.get(key).await
    }
    async fn list(&self, type_ref: &TypeRef, params: &ListParams) -> StoreResult<ObjectList> {
        self.count(Verb::List, type_ref);
        self.inner.list(type_ref, params).await
    }
    async fn create(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        self.count(Verb::Create, &object.type_ref());
        self.inner.create(object, params).await
    }
    async fn replace(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        self.count(Verb::Replace, &object.type_ref());
        self.inner.replace(object, params).await
    }
    async fn replace_status(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        self.count(Verb::ReplaceStatus, &object.type_ref());
        self.inner.replace_status(object, params).await
    }
    async fn patch(&self, key: &ObjectRef, patch: &Patch, params: &PatchParams) -> StoreResult<Arc<Object>> {
        self.count(Verb::Patch, &key.type_ref);
        self.inner.patch(key, patch, params).await
    }
    async fn apply_object(
        &self,
        object: &Object,
        resource_version: Option<&str>,
        params: &PatchParams,
    ) -> StoreResult<Arc<Object>> {
        // One apply request, as the provided method's patch would be.
        self.count(Verb::Patch, &object.type_ref());
        self.inner.apply_object(object, resource_version, params).await
    }
    async fn delete(&self, key: &ObjectRef, params: &DeleteParams) -> StoreResult<DeleteOutcome> {
        self.count(Verb::Delete, &key.type_ref);
        self.inner.delete(key, params).await
    }
    async fn watch(&self, type_ref: &TypeRef, params: &WatchParams) -> StoreResult<WatchStream> {
        self.count(Verb::Watch, type_ref);
        self.inner.watch(type_ref, params).await
    }
}
