//! The internal cache: list+watch per kind, reads served from memory.
//!
//! A [`Cache`] works over any [`ObjectStore`]. For each kind it is asked to [`Cache::track`]
//! (optionally limited to a namespace and a label selector) it runs a watch loop as a tokio
//! task that it owns:
//!
//! 1. list (paged) and replace the kind's state with the result, atomically;
//! 2. watch from the list's resourceVersion and apply every Added / Modified / Deleted event;
//! 3. when the stream ends, watch again from the last resourceVersion seen (no relist);
//! 4. on `Err(StoreError::Expired)` (410), relist: the new list replaces the state at once, and
//!    objects that vanished in between are announced as [`ChangeKind::Deleted`]; a list older
//!    than what the cache already reflected (numeric resourceVersions) is rejected and retried,
//!    and a watch event older than the held object is dropped: the cache never goes back in
//!    time;
//! 5. any other error is retried after an exponential delay (core's one [`crate::backoff`], [`CacheConfig::backoff`]) (tokio time, so tests
//!    run on virtual time); an empty stream or a repeated 410 is also delayed, so a misbehaving
//!    backend never makes the loop spin.
//!
//! Reads ([`Cache::get`], [`Cache::list`], [`Cache::owned_by`]) never touch the backend, which
//! is what lets a steady-state reconcile send no request at all. Every change is announced on
//! a broadcast channel ([`Cache::subscribe`]) as a [`CacheEvent`], so a controller can map child
//! events to their parents.
//!
//! Once a kind has synced it stays synced: during a relist the previous state keeps being
//! served until the new list replaces it in one step.
//!
//! The tasks stop when the last clone of the [`Cache`] is dropped, or on [`Cache::shutdown`].

mod backoff;
mod reflector;
mod state;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard};

use tokio::sync::{broadcast, watch};
use tokio::task::AbortHandle;

pub use state::KindState;

use crate::backoff::BackoffConfig;
use crate::error::StoreError;
use crate::model::{Object, ObjectRef, TypeRef};
use crate::selector::{Selector, SelectorError};
use crate::store::ObjectStore;

/// Errors of the cache's own API (the backend's errors are retried, see [`KindStatus`]).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// The kind was never passed to [`Cache::track`].
    #[error("{type_ref} is not tracked by the cache")]
    NotTracked {
        /// The kind.
        type_ref: TypeRef,
    },
    /// The kind's first list has not completed yet: its contents would be incomplete.
    #[error("{type_ref} has not synced yet")]
    NotSynced {
        /// The kind.
        type_ref: TypeRef,
    },
    /// The kind is already tracked with another namespace or selector.
    #[error("{type_ref} is already tracked as [{tracked}], cannot also track it as [{requested}]")]
    ScopeConflict {
        /// The kind.
        type_ref: TypeRef,
        /// The scope it is tracked with.
        tracked: String,
        /// The scope that was asked for.
        requested: String,
    },
    /// A list asked for a namespace the kind is not tracked in.
    #[error("{type_ref} is tracked in namespace {tracked:?} only, not in {requested:?}")]
    OutOfScope {
        /// The kind.
        type_ref: TypeRef,
        /// The namespace it is tracked in.
        tracked: String,
        /// The namespace that was asked for.
        requested: Option<String>,
    },
    /// `track` was called outside a tokio runtime.
    #[error("the cache needs a tokio runtime to run its watch loops")]
    NoRuntime,
    /// The cache was shut down.
    #[error("the cache was shut down")]
    ShutDown,
    /// The tracking selector did not parse.
    #[error(transparent)]
    Selector(#[from] SelectorError),
}

/// What a tracked kind covers: one kind, optionally one namespace and a label selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackSpec {
    type_ref: TypeRef,
    namespace: Option<String>,
    selector: Selector,
}

impl TrackSpec {
    /// Every object of a kind, in all namespaces.
    pub fn new(type_ref: TypeRef) -> Self {
        Self {
            type_ref,
            namespace: None,
            selector: Selector::everything(),
        }
    }

    /// Every object of a typed kind (k8s-openapi or `#[derive(CustomResource)]`).
    pub fn of<K: kube_core::Resource<DynamicType = ()>>() -> Self {
        Self::new(TypeRef::of::<K>())
    }

    /// Limits tracking to one namespace.
    pub fn in_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// Limits tracking to objects matching a selector (applied by the backend on list and watch).
    pub fn selector(mut self, selector: Selector) -> Self {
        self.selector = selector;
        self
    }

    /// Limits tracking to objects matching a selector in the API server's string syntax.
    pub fn labels(self, selector: &str) -> Result<Self, SelectorError> {
        Ok(self.selector(Selector::parse(selector)?))
    }

    /// The kind.
    pub fn type_ref(&self) -> &TypeRef {
        &self.type_ref
    }

    /// The namespace, None for all namespaces.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// The label selector (possibly empty).
    pub fn label_selector(&self) -> &Selector {
        &self.selector
    }

    fn describe_scope(&self) -> String {
        format!(
            "namespace={} selector={}",
            self.namespace.as_deref().unwrap_or("*"),
            self.selector
        )
    }
}

/// What happened to a cached object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChangeKind {
    /// The object appeared in the cache.
    Added,
    /// The cached object was replaced by a newer version.
    Modified,
    /// The object left the cache (deleted, stopped matching, or vanished across a relist).
    Deleted,
}

/// A change notification: what happened, the object's new state (its last state for Deleted),
/// and the state the cache held before (None for Added).
///
/// The previous state lets a controller notice that a child moved from one owner to another
/// and wake both parents.
#[derive(Clone, Debug, PartialEq)]
pub struct CacheEvent {
    /// Added, Modified or Deleted.
    pub kind: ChangeKind,
    /// The object as it is now (for Deleted: as it was last seen).
    pub object: Arc<Object>,
    /// What the cache held before this change.
    pub previous: Option<Arc<Object>>,
}

impl CacheEvent {
    /// A notification.
    pub fn new(kind: ChangeKind, object: Arc<Object>, previous: Option<Arc<Object>>) -> Self {
        Self { kind, object, previous }
    }

    /// The changed object's reference.
    pub fn object_ref(&self) -> ObjectRef {
        self.object.object_ref()
    }
}

/// Settings of a [`Cache`].
#[derive(Clone, Debug)]
pub struct CacheConfig {
    /// Delays between retries of failed lists and watches (default
    /// [`BackoffConfig::watch_default`]: 500 ms doubling up to 30 s, no jitter).
    pub backoff: BackoffConfig,
    /// Page size of lists; None lists in one request.
    pub page_size: Option<u32>,
    /// Notifications buffered per subscriber; a subscriber that falls further behind gets
    /// `RecvError::Lagged` and should resynchronise from the cache's contents.
    pub event_capacity: usize,
    /// Seed of the cache's hash tables. Listings are sorted, so it never changes a result; an
    /// operator that caches objects named by untrusted users can pass a secret seed (from its
    /// injected seed source) to make crafted hash collisions impractical.
    pub hash_seed: u64,
    /// Drop `metadata.managedFields` from objects the cache is the only holder of (fresh from
    /// a remote backend), except the `Apply` entries of the main resource, which the planner
    /// needs to tell drift from the server's normalizations; the `fieldsV1` of a kept entry
    /// is kept as its JSON text (a string; [`crate::fields_v1::tree`] reads either form, and
    /// the backends send the tree again). managedFields is server
    /// bookkeeping that often outweighs the rest of the object; readers of the cache plan and diff on the object's content, and a
    /// replace (PUT) built from a cached object keeps the server's managedFields because it
    /// omits the field. An object that is shared (an in-process backend hands out its own
    /// `Arc`s) is kept as is: sharing it costs less than a stripped copy.
    pub strip_managed_fields: bool,
}

/// The hash seed of [`CacheConfig::default`].
pub const DEFAULT_HASH_SEED: u64 = 0x6f70_2d72_756e_7469;

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            backoff: BackoffConfig::watch_default(),
            page_size: Some(500),
            event_capacity: 4096,
            hash_seed: DEFAULT_HASH_SEED,
            strip_managed_fields: true,
        }
    }
}

/// The health of one tracked kind.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KindStatus {
    /// The first list has completed.
    pub synced: bool,
    /// Successful lists after the first (one per relist).
    pub relists: u64,
    /// Watch streams opened.
    pub watches: u64,
    /// The last backend error, cleared by the next successful list or watch event.
    pub last_error: Option<StoreError>,
    /// Lists rejected because they were older than what the cache already held.
    pub stale_lists_rejected: u64,
    /// The request that failed with `last_error`.
    pub failed_verb: Option<Verb>,
}

/// The cache's own requests, to say which one failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verb {
    /// The (re)list.
    List,
    /// The watch.
    Watch,
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::List => "list",
            Self::Watch => "watch",
        })
    }
}

/// A tracked kind the backend refuses to serve (Forbidden, or NotFound: the kind is not
/// installed): which request failed and how. The cache keeps retrying it.
#[derive(Clone, Debug, PartialEq)]
pub struct Unservable {
    /// The kind.
    pub type_ref: TypeRef,
    /// The request that failed.
    pub verb: Verb,
    /// The backend's answer.
    pub error: StoreError,
}

impl fmt::Display for Unservable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot {} {}: {}", self.verb, self.type_ref, self.error)
    }
}

/// One tracked kind: its scope, state, sync flag and health. Shared by the cache handle and
/// the kind's watch loop.
struct KindEntry {
    spec: TrackSpec,
    state: RwLock<KindState>,
    synced: watch::Sender<bool>,
    /// The last list or watch failed with Forbidden or NotFound, and nothing succeeded since.
    unservable: watch::Sender<bool>,
    status: Mutex<KindStatus>,
}

impl KindEntry {
    fn new(spec: TrackSpec, hash_seed: u64) -> Self {
        Self {
            spec,
            state: RwLock::new(KindState::with_hash_seed(hash_seed)),
            synced: watch::Sender::new(false),
            unservable: watch::Sender::new(false),
            status: Mutex::new(KindStatus::default()),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, KindState> {
        // State is only mutated through KindState's methods, which keep it consistent even if
        // a panic interrupted a writer elsewhere; keep serving it.
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn status(&self) -> std::sync::MutexGuard<'_, KindStatus> {
        self.status.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Shared between the handle clones; stops the watch loops when the last clone goes.
struct Inner {
    store: Arc<dyn ObjectStore>,
    config: CacheConfig,
    kinds: RwLock<BTreeMap<TypeRef, Arc<KindEntry>>>,
    tasks: Mutex<Vec<AbortHandle>>,
    events: broadcast::Sender<CacheEvent>,
    shut_down: std::sync::atomic::AtomicBool,
}

impl Inner {
    fn stop(&self) {
        self.shut_down.store(true, std::sync::atomic::Ordering::SeqCst);
        for task in self.tasks.lock().unwrap_or_else(PoisonError::into_inner).drain(..) {
            task.abort();
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The internal cache over an [`ObjectStore`]. Cheap to clone; clones share state and tasks.
#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kinds: Vec<String> = self.kinds().keys().map(ToString::to_string).collect();
        f.debug_struct("Cache").field("kinds", &kinds).finish_non_exhaustive()
    }
}

impl Cache {
    /// A cache over `store` that tracks nothing yet.
    pub fn new(store: impl ObjectStore, config: CacheConfig) -> Self {
        let (events, _) = broadcast::channel(config.event_capacity.max(1));
        Self {
            inner: Arc::new(Inner {
                store: Arc::new(store),
                config,
                kinds: RwLock::new(BTreeMap::new()),
                tasks: Mutex::new(Vec::new()),
                events,
                shut_down: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }

    /// Starts tracking a kind: spawns its list+watch loop on the current tokio runtime.
    ///
    /// Tracking the same spec again is a no-op; tracking an already tracked kind with another
    /// namespace or selector is a [`CacheError::ScopeConflict`] (one scope per kind keeps
    /// `get` and the owner index unambiguous).
    pub fn track(&self, spec: TrackSpec) -> Result<(), CacheError> {
        if self.inner.shut_down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(CacheError::ShutDown);
        }
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| CacheError::NoRuntime)?;
        let mut kinds = self.inner.kinds.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(existing) = kinds.get(&spec.type_ref) {
            if existing.spec == spec {
                return Ok(());
            }
            return Err(CacheError::ScopeConflict {
                type_ref: spec.type_ref.clone(),
                tracked: existing.spec.describe_scope(),
                requested: spec.describe_scope(),
            });
        }
        let entry = Arc::new(KindEntry::new(spec.clone(), self.inner.config.hash_seed));
        kinds.insert(spec.type_ref.clone(), entry.clone());
        let task = runtime.spawn(reflector::run(
            self.inner.store.clone(),
            entry,
            self.inner.events.clone(),
            self.inner.config.clone(),
        ));
        self.inner
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(task.abort_handle());
        Ok(())
    }

    /// Stops every watch loop. The contents stay readable but no longer change; `track` fails.
    pub fn shutdown(&self) {
        self.inner.stop();
    }

    /// Whether the kind is tracked.
    pub fn is_tracked(&self, type_ref: &TypeRef) -> bool {
        self.kinds().contains_key(type_ref)
    }

    /// The specs of every tracked kind, ordered by kind.
    pub fn tracked(&self) -> Vec<TrackSpec> {
        self.kinds().values().map(|e| e.spec.clone()).collect()
    }

    /// Whether the kind's first list has completed (false if it is not tracked).
    pub fn has_synced(&self, type_ref: &TypeRef) -> bool {
        self.entry(type_ref).is_ok_and(|e| *e.synced.borrow())
    }

    /// Whether every tracked kind has synced.
    pub fn all_synced(&self) -> bool {
        self.kinds().values().all(|e| *e.synced.borrow())
    }

    /// Waits until the kind has synced. A kind that cannot be listed (Forbidden, say) never
    /// syncs: bound the wait with `tokio::time::timeout` and look at [`Cache::status`].
    pub async fn wait_synced(&self, type_ref: &TypeRef) -> Result<(), CacheError> {
        let mut rx = self.entry(type_ref)?.synced.subscribe();
        rx.wait_for(|synced| *synced).await.map_err(|_| CacheError::ShutDown)?;
        Ok(())
    }

    /// Waits until every kind tracked at the time of the call has synced.
    pub async fn wait_all_synced(&self) -> Result<(), CacheError> {
        let receivers: Vec<_> = self.kinds().values().map(|e| e.synced.subscribe()).collect();
        for mut rx in receivers {
            rx.wait_for(|synced| *synced).await.map_err(|_| CacheError::ShutDown)?;
        }
        Ok(())
    }

    /// Waits until every kind tracked at the time of the call has either synced or been
    /// refused by the backend ([`Cache::unservable`]): what a runner waits for before it
    /// starts, so the kinds that can be served keep working while one is forbidden or missing.
    pub async fn wait_all_settled(&self) -> Result<(), CacheError> {
        let entries: Vec<_> = self.kinds().values().cloned().collect();
        for entry in entries {
            let mut synced = entry.synced.subscribe();
            let mut unservable = entry.unservable.subscribe();
            loop {
                if *synced.borrow_and_update() || *unservable.borrow_and_update() {
                    break;
                }
                tokio::select! {
                    // Deterministic under a paused runtime (both branches only wake the loop).
                    biased;
                    changed = synced.changed() => changed.map_err(|_| CacheError::ShutDown)?,
                    changed = unservable.changed() => changed.map_err(|_| CacheError::ShutDown)?,
                }
            }
        }
        Ok(())
    }

    /// The tracked kinds whose last list or watch was refused (Forbidden, NotFound), ordered
    /// by kind. A kind leaves the list once a list or watch succeeds again.
    pub fn unservable(&self) -> Vec<Unservable> {
        self.kinds()
            .values()
            .filter(|e| *e.unservable.borrow())
            .filter_map(|e| {
                let status = e.status();
                Some(Unservable {
                    type_ref: e.spec.type_ref.clone(),
                    verb: status.failed_verb?,
                    error: status.last_error.clone()?,
                })
            })
            .collect()
    }

    /// The health of a tracked kind.
    pub fn status(&self, type_ref: &TypeRef) -> Option<KindStatus> {
        let entry = self.entry(type_ref).ok()?;
        let mut status = entry.status().clone();
        status.synced = *entry.synced.borrow();
        Some(status)
    }

    /// The cached object, if the kind is tracked and the object is in the cache.
    pub fn get(&self, key: &ObjectRef) -> Option<Arc<Object>> {
        let entry = self.entry(&key.type_ref).ok()?;
        let state = entry.read();
        state.get(key.namespace.as_deref(), &key.name).cloned()
    }

    /// The cached objects of a kind, in one namespace or all (None), that match `selector`,
    /// in (namespace, name) order.
    ///
    /// # Errors
    /// [`CacheError::NotTracked`], [`CacheError::NotSynced`] (the answer would be incomplete),
    /// and [`CacheError::OutOfScope`] for a namespace the kind is not tracked in.
    pub fn list(
        &self,
        type_ref: &TypeRef,
        namespace: Option<&str>,
        selector: Option<&Selector>,
    ) -> Result<Vec<Arc<Object>>, CacheError> {
        let entry = self.entry(type_ref)?;
        if !*entry.synced.borrow() {
            return Err(CacheError::NotSynced {
                type_ref: type_ref.clone(),
            });
        }
        if let Some(tracked) = &entry.spec.namespace
            && namespace != Some(tracked.as_str())
        {
            return Err(CacheError::OutOfScope {
                type_ref: type_ref.clone(),
                tracked: tracked.clone(),
                requested: namespace.map(str::to_owned),
            });
        }
        let state = entry.read();
        let items = state.list(namespace).into_iter();
        Ok(match selector.filter(|s| !s.matches_everything()) {
            Some(s) => items
                .filter(|o| s.matches_labels(o.metadata.labels.as_ref()))
                .cloned()
                .collect(),
            None => items.cloned().collect(),
        })
    }

    /// Every cached object, of every tracked kind, whose controller ownerReference has this
    /// uid; ordered by kind, then namespace and name. Served from an index.
    pub fn owned_by(&self, owner_uid: &str) -> Vec<Arc<Object>> {
        let kinds = self.kinds();
        let mut out = Vec::new();
        for entry in kinds.values() {
            out.extend(entry.read().owned_by(owner_uid).into_iter().cloned());
        }
        out
    }

    /// The cached objects of one kind controlled by this owner uid.
    pub fn owned_by_kind(&self, type_ref: &TypeRef, owner_uid: &str) -> Result<Vec<Arc<Object>>, CacheError> {
        let entry = self.entry(type_ref)?;
        let state = entry.read();
        Ok(state.owned_by(owner_uid).into_iter().cloned().collect())
    }

    /// Number of cached objects of a kind (0 when not tracked).
    pub fn len(&self, type_ref: &TypeRef) -> usize {
        self.entry(type_ref).map_or(0, |e| e.read().len())
    }

    /// A receiver of every change from now on. Notifications are sent after the cache holds
    /// the change, so reading the cache on receipt sees it (or something newer).
    pub fn subscribe(&self) -> broadcast::Receiver<CacheEvent> {
        self.inner.events.subscribe()
    }

    fn kinds(&self) -> RwLockReadGuard<'_, BTreeMap<TypeRef, Arc<KindEntry>>> {
        self.inner.kinds.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn entry(&self, type_ref: &TypeRef) -> Result<Arc<KindEntry>, CacheError> {
        self.kinds()
            .get(type_ref)
            .cloned()
            .ok_or_else(|| CacheError::NotTracked {
                type_ref: type_ref.clone(),
            })
    }
}
