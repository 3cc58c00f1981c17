//! # operator-runtime-memory
//!
//! An in-memory Kubernetes API server with the real server's semantics, for testing operators
//! without a cluster. [`MemoryStore`] implements [`ObjectStore`] and reproduces section A of
//! the project's API-server reference: one global revision counter (a no-op write keeps the
//! resourceVersion and emits no event), uids and second-precision timestamps from a seeded RNG
//! and an injected [`Clock`], generation and status-subresource rules per kind, the API
//! server's errors (AlreadyExists, Conflict, NotFound, Invalid, BadRequest, Forbidden, 410,
//! 413, 500 for create with a resourceVersion), namespaces with NamespaceLifecycle,
//! generateName, finalizers and graceful deletion, delete preconditions, a garbage collector
//! (background, foreground, orphan) and namespace controller, label and field selectors,
//! paginated lists served at one revision, watches with bounded history, selector-aware
//! events and bookmarks, merge and JSON patches, a subset of server-side apply (see
//! [`apply`] module), dry-run, and CRDs registered from CustomResourceDefinition
//! objects, whose structural schema is enforced on custom resources like the API server does:
//! unknown fields pruned, defaults applied, types, bounds, lengths, `enum` and `required`
//! checked (an `Invalid` error with one cause per field). CEL rules, `pattern` and `format`
//! are not evaluated (`Capabilities::schema_validation` is `Structural`).
//!
//! ```
//! # tokio_test_block(async {
//! use operator_runtime_core::{Object, ObjectStore, TypeRef};
//! use operator_runtime_core::store::WriteParams;
//! use operator_runtime_memory::MemoryStore;
//!
//! let store = MemoryStore::new();
//! let cm = Object::new(&TypeRef::new("v1", "ConfigMap"), Some("default"), "settings")
//!     .with("data", serde_json::json!({"a": "1"}));
//! let created = store.create(&cm, &WriteParams::default()).await.unwrap();
//! assert_eq!(created.resource_version(), Some("2"));
//! # });
//! # fn tokio_test_block(f: impl std::future::Future<Output = ()>) {
//! #     tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(f)
//! # }
//! ```

pub mod apply;
mod crd;
mod create;
mod defaults;
mod delete;
mod errors;
pub mod faults;
mod fieldmanager;
mod fieldpath;
mod gc;
#[cfg(feature = "http")]
pub mod http;
mod kinds;
mod meta;
mod patch;
mod read;
mod registry;
mod selectors;
pub mod simulation;
mod size;
mod state;
mod strategy;
mod update;
mod validation;
mod watch;
pub mod workloads;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use operator_runtime_core::clock::{Clock, ManualClock};
use operator_runtime_core::store::{
    ApplySupport, Capabilities, DeleteOutcome, DeleteParams, KindInfo, ListParams, Patch, PatchParams,
    SchemaValidation, StoreResult, WatchParams, WatchStream, WriteParams,
};
use operator_runtime_core::{Object, ObjectList, ObjectRef, ObjectStore, TypeRef};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::kinds::KindRegistry;
use crate::state::State;
use crate::watch::WatchHub;

/// Default number of changes kept for watches that resume from a revision.
pub const DEFAULT_HISTORY_LIMIT: usize = 10_000;

/// The in-memory API server. Cheap to clone: clones share one server.
#[derive(Clone)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("revision", &self.current_revision())
            .finish_non_exhaustive()
    }
}

/// Builds a [`MemoryStore`] with a chosen seed, clock, history size and garbage collection.
pub struct MemoryStoreBuilder {
    seed: u64,
    clock: Option<Arc<dyn Clock>>,
    history_limit: usize,
    history_bytes: Option<usize>,
    garbage_collection: bool,
}

impl MemoryStoreBuilder {
    /// Seed of the RNG behind uids and generated names.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The clock for creation and deletion timestamps.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// How many changes are kept for watches that start from a revision; older start
    /// revisions (and older continue tokens) get 410 Expired.
    pub fn history_limit(mut self, limit: usize) -> Self {
        self.history_limit = limit;
        self
    }

    /// Also bounds the kept changes by their approximate size in memory (the new state of each
    /// change; at least the last change is kept): a window of large objects holds fewer
    /// changes. Past it, like past [`MemoryStoreBuilder::history_limit`], a watch from an
    /// evicted revision gets 410 Expired. Off by default (the bound is by count only).
    pub fn history_bytes(mut self, bytes: usize) -> Self {
        self.history_bytes = Some(bytes);
        self
    }

    /// Whether the garbage collector and namespace controller run after every write.
    pub fn garbage_collection(mut self, on: bool) -> Self {
        self.garbage_collection = on;
        self
    }

    /// Builds the store, with the `default` namespace created.
    pub fn build(self) -> MemoryStore {
        let clock = self.clock.unwrap_or_else(|| Arc::new(ManualClock::at_epoch()));
        let state = State {
            revision: 0,
            rng: ChaCha8Rng::seed_from_u64(self.seed),
            clock: Arc::clone(&clock),
            kinds: KindRegistry::with_builtins(),
            tables: Vec::new(),
            hub: WatchHub::new(self.history_limit, self.history_bytes),
            uids: HashMap::default(),
            dependents: HashMap::new(),
            gc_enabled: self.garbage_collection,
            gc_owners: BTreeSet::new(),
            gc_dependents: BTreeSet::new(),
            gc_waiting_started: BTreeSet::new(),
            stored_differs: HashSet::default(),
        };
        let store = MemoryStore {
            state: Arc::new(Mutex::new(state)),
            clock,
        };
        {
            let mut state = store.lock();
            let ns = Object::new(&kinds::namespace_type(), None, "default");
            // Creating `default` in a fresh store cannot fail; ignore the impossible error.
            let _ = create::create(&mut state, &ns, &WriteParams::default());
        }
        store
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// A store with seed 0, a [`ManualClock`] at the epoch, garbage collection on, and the
    /// `default` namespace.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder.
    pub fn builder() -> MemoryStoreBuilder {
        MemoryStoreBuilder {
            seed: 0,
            clock: None,
            history_limit: DEFAULT_HISTORY_LIMIT,
            history_bytes: None,
            garbage_collection: true,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `op` under the lock, then the controllers when garbage collection is on.
    fn write<T>(&self, op: impl FnOnce(&mut State) -> StoreResult<T>) -> StoreResult<T> {
        let mut state = self.lock();
        let result = op(&mut state);
        if state.gc_enabled {
            if !state.gc_owners.is_empty() || !state.gc_dependents.is_empty() {
                gc::run(&mut state, false);
            }
        } else {
            // Manual runs look at everything anyway.
            state.gc_owners.clear();
            state.gc_dependents.clear();
            state.gc_waiting_started.clear();
        }
        result
    }

    /// The store's clock.
    pub fn clock(&self) -> Arc<dyn Clock> {
        Arc::clone(&self.clock)
    }

    /// The revision of the last write (the resourceVersion a list would report now).
    pub fn current_revision(&self) -> u64 {
        self.lock().revision
    }

    /// Switches the built-in garbage collector and namespace controller on or off.
    pub fn set_garbage_collection(&self, on: bool) {
        self.lock().gc_enabled = on;
    }

    /// Runs the garbage collector and the namespace controller until nothing changes.
    pub fn run_controllers(&self) {
        gc::run(&mut self.lock(), true);
    }

    /// Serves an additional kind (generation on, conditional updates, like a custom resource).
    pub fn register_kind(&self, info: KindInfo) {
        let mut state = self.lock();
        let revision = state.revision;
        state.kinds.insert_custom(info, None, revision, None);
    }

    /// Compacts the watch history down to its last `keep` changes (at least one), as etcd's
    /// compaction does: a watch or continue token from an older revision then gets 410
    /// Expired. Frees the old object versions only the history held.
    pub fn trim_history(&self, keep: usize) {
        self.lock().hub.compact(keep);
    }

    /// Number of open watches (diagnostics).
    pub fn watcher_count(&self) -> usize {
        self.lock().hub.watcher_count()
    }
}

#[async_trait]
impl ObjectStore for MemoryStore {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            name: "memory".into(),
            server_side_apply: ApplySupport::Subset,
            garbage_collection: true,
            namespace_deletion: true,
            schema_validation: SchemaValidation::Structural,
            dry_run: true,
            bookmarks: true,
            eventually_consistent_gc: false,
            // `workloads::WorkloadSimulator` (and the runtime fixture) play the workload controllers.
            workload_controllers: false,
        }
    }

    async fn kind_info(&self, type_ref: &TypeRef) -> StoreResult<KindInfo> {
        let state = self.lock();
        let spec = state
            .kinds
            .get(type_ref)
            .ok_or_else(|| errors::unknown_kind(type_ref))?;
        Ok(KindInfo {
            type_ref: type_ref.clone(),
            ..spec.info.clone()
        })
    }

    async fn get(&self, key: &ObjectRef) -> StoreResult<Arc<Object>> {
        read::get(&self.lock(), key)
    }

    async fn list(&self, type_ref: &TypeRef, params: &ListParams) -> StoreResult<ObjectList> {
        read::list(&self.lock(), type_ref, params)
    }

    async fn create(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        self.write(|s| create::create(s, object, params))
    }

    async fn replace(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        self.write(|s| update::replace(s, object, params))
    }

    async fn replace_status(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        self.write(|s| update::replace_status(s, object, params))
    }

    async fn patch(&self, key: &ObjectRef, patch: &Patch, params: &PatchParams) -> StoreResult<Arc<Object>> {
        self.write(|s| match patch {
            Patch::Apply(body) => apply::apply(s, key, apply::Configuration::Json(body), params),
            _ => patch::patch(s, key, patch, params),
        })
    }

    async fn apply_object(
        &self,
        object: &Object,
        resource_version: Option<&str>,
        params: &PatchParams,
    ) -> StoreResult<Arc<Object>> {
        let key = object.object_ref();
        let config = apply::Configuration::Object(object, resource_version);
        self.write(|s| apply::apply(s, &key, config, params))
    }

    async fn delete(&self, key: &ObjectRef, params: &DeleteParams) -> StoreResult<DeleteOutcome> {
        self.write(|s| delete::delete(s, key, params))
    }

    async fn watch(&self, type_ref: &TypeRef, params: &WatchParams) -> StoreResult<WatchStream> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        watch::start(&mut self.lock(), type_ref, params, tx)?;
        Ok(watch::into_stream(
            rx,
            params.timeout,
            params.bookmarks,
            Arc::downgrade(&self.state),
        ))
    }
}
