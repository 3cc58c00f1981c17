//! Operator replicas: how the operator under test is started (through the real runner, cache
//! and driver of core), the store each replica talks to (faults, latency, crash points and the
//! write-time invariants), and the supervisor that crashes and restarts a replica with a fresh
//! cache and fresh memory.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use operator_runtime_core::cache::{Cache, CacheConfig, TrackSpec};
use operator_runtime_core::clock::{Clock, Timestamp};
use operator_runtime_core::controller::{Controller, ControllerConfig};
use operator_runtime_core::events::{Event, EventRecorder};
use operator_runtime_core::lease::LeaseConfig;
use operator_runtime_core::reconcile::{DynamicOperator, Reconciler, ReconcilerConfig, Reused};
use operator_runtime_core::store::{
    DeleteOutcome, DeleteParams, KindInfo, ListParams, Patch, PatchParams, StoreResult, WatchParams, WatchStream,
    WriteParams,
};
use operator_runtime_core::{
    Action, Capabilities, Object, ObjectList, ObjectRef, ObjectStore, ObjectStoreExt, StoreError, TypeRef,
};
use rand::{Rng, RngCore};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::faults::FaultPlan;
use super::oracles::{Oracle, secret_values};
use super::trace::Trace;
use super::world::External;
use crate::MemoryStore;
use crate::faults::FaultyStore;

/// Name of the Lease replicas elect a leader on (in the world's namespace).
pub const LEASE_NAME: &str = "sim-operator";

/// A boxed future of a replica's whole life (it runs until the replica crashes).
pub type ReplicaFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// An operator the simulation can run: its kinds, and how one replica starts.
///
/// [`super::Simulation::new`] implements it for any operator (through [`Reconciler`]);
/// [`super::Simulation::from_reconcile`] for a hand-written reconcile function over
/// [`Controller::run`].
pub trait OperatorUnderTest: Send + Sync + 'static {
    /// The parent kind.
    fn parent_type(&self) -> TypeRef;
    /// The kinds of the children (watched, and listed into the world state).
    fn owned_types(&self) -> Vec<TypeRef>;
    /// The annotation that pauses a parent.
    fn pause_annotation(&self) -> String;
    /// Runs one replica until it is aborted. Everything it builds (cache, runner, memory) is
    /// dropped on a crash.
    fn start(&self, env: ReplicaEnv) -> ReplicaFuture;
}

/// State shared by every actor of one run.
pub(crate) struct RunShared {
    pub(crate) trace: Trace,
    pub(crate) oracle: Oracle,
    pub(crate) rng: Mutex<ChaCha8Rng>,
    pub(crate) faults: FaultPlan,
    /// Faults, latency and crashes act only while this is true.
    pub(crate) active: AtomicBool,
    pub(crate) raw: MemoryStore,
    pub(crate) faulty: Arc<FaultyStore<MemoryStore>>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) parent_type: TypeRef,
    pub(crate) namespace: String,
    pub(crate) pause_annotation: String,
    pub(crate) max_writes: usize,
    pub(crate) replicas: usize,
    pub(crate) external: External,
    pub(crate) seed: u64,
    /// Writes sent by operator replicas.
    pub(crate) writes: AtomicU64,
    /// Reconciles started.
    pub(crate) reconciles: AtomicU64,
    /// Reconciles of a pure operator that reused the desired set, and that were skipped
    /// (`ReconcileReport::reused`).
    pub(crate) reused_desired: AtomicU64,
    pub(crate) skipped: AtomicU64,
    /// Crashes (both kinds).
    pub(crate) crashes: AtomicU64,
    /// One crash switch per replica slot.
    pub(crate) crash_slots: Vec<Arc<Notify>>,
    /// Per replica slot: partitioned from the API server until then.
    pub(crate) partitions: Mutex<Vec<Option<Instant>>>,
    /// Set when the operator loops without letting virtual time advance: every replica call
    /// then waits forever, so the run can end and report it.
    pub(crate) halted: AtomicBool,
}

/// More reconciles or writes than this in one run is a hot loop (a loop that never lets
/// virtual time advance would otherwise never end).
pub(crate) const HOT_LOOP_LIMIT: u64 = 3_000;

impl RunShared {
    /// A uniform draw in `[0, 1)` from the run's stream.
    pub(crate) fn draw(&self) -> f64 {
        self.rng.lock().unwrap_or_else(PoisonError::into_inner).random()
    }

    pub(crate) fn draw_u64(&self) -> u64 {
        self.rng.lock().unwrap_or_else(PoisonError::into_inner).next_u64()
    }

    /// Counts one reconcile or write in `counter`; past [`HOT_LOOP_LIMIT`], reports `hot-loop`
    /// and halts the replicas. Returns whether the caller may go on.
    pub(crate) fn count(&self, counter: &AtomicU64, what: &str) -> bool {
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        if n > HOT_LOOP_LIMIT {
            self.oracle.report(
                "hot-loop",
                format!(
                    "more than {HOT_LOOP_LIMIT} {what} in {:?} of virtual time: the operator never stops",
                    self.trace.elapsed()
                ),
            );
            self.halted.store(true, Ordering::SeqCst);
        }
        !self.halted.load(Ordering::SeqCst)
    }

    /// Partitions replica `slot` until `heal` (None: heals it now).
    pub(crate) fn partition(&self, slot: usize, heal: Option<Instant>) {
        let mut partitions = self.partitions.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = partitions.get_mut(slot) {
            *entry = heal;
        }
    }

    /// Until when replica `slot` is partitioned (None: it is not).
    fn partitioned_until(&self, slot: usize) -> Option<Instant> {
        let partitions = self.partitions.lock().unwrap_or_else(PoisonError::into_inner);
        partitions
            .get(slot)
            .copied()
            .flatten()
            .filter(|heal| *heal > Instant::now())
    }

    pub(crate) fn is_active(&self) -> bool {
        self.active.load(Ordering::SeqCst)
    }

    /// True with probability `p` while faults are active (draws either way, so the stream
    /// does not depend on the phase).
    pub(crate) fn fires(&self, p: f64) -> bool {
        let u = self.draw();
        self.is_active() && u < p
    }
}

/// A clock that follows tokio's (virtual) clock from a fixed epoch (2026-01-01).
#[derive(Debug)]
pub(crate) struct SimClock {
    start: Instant,
    epoch: Timestamp,
}

impl SimClock {
    pub(crate) fn new() -> Self {
        Self {
            start: Instant::now(),
            epoch: Timestamp::from_second(1_767_225_600).unwrap_or(Timestamp::UNIX_EPOCH),
        }
    }
}

impl Clock for SimClock {
    fn now(&self) -> Timestamp {
        let elapsed = k8s_openapi::jiff::SignedDuration::try_from(self.start.elapsed()).unwrap_or_default();
        self.epoch.checked_add(elapsed).unwrap_or(self.epoch)
    }
}

/// A replica's wall clock: the run's clock off by a fixed amount (the clock-skew fault).
struct SkewedClock {
    inner: Arc<dyn Clock>,
    offset: k8s_openapi::jiff::SignedDuration,
}

impl Clock for SkewedClock {
    fn now(&self) -> Timestamp {
        let now = self.inner.now();
        now.checked_add(self.offset).unwrap_or(now)
    }
}

tokio::task_local! {
    static RECONCILE: ReconcileScope;
}

/// What the store knows about the reconcile that is writing.
struct ReconcileScope {
    parent: ObjectRef,
    uid: String,
    paused_at_start: bool,
    writes: AtomicUsize,
    /// The store's revision when the reconcile started.
    revision_at_start: u64,
    /// The generation of the parent the reconcile was handed.
    generation: i64,
}

/// What one replica incarnation gets: its store, clock, event recorder, the external system,
/// and helpers to wire the runner (see [`OperatorUnderTest::start`]).
#[derive(Clone)]
pub struct ReplicaEnv {
    shared: Arc<RunShared>,
    name: String,
    store: Arc<SimStore>,
    clock: Arc<dyn Clock>,
}

impl ReplicaEnv {
    pub(crate) fn new(shared: Arc<RunShared>, index: usize, name: String, slot: Arc<Notify>) -> Self {
        let store = Arc::new(SimStore {
            shared: Arc::clone(&shared),
            index,
            name: name.clone(),
            crashed: AtomicBool::new(false),
            slot,
            acted_on: Mutex::new(HashMap::new()),
        });
        let clock = match shared.fires(shared.faults.clock_skew) {
            true => {
                let max = i64::try_from(shared.faults.max_clock_skew.as_millis())
                    .unwrap_or(i64::MAX)
                    .max(1);
                let span = u64::try_from(2 * max + 1).unwrap_or(u64::MAX);
                let millis = i64::try_from(shared.draw_u64() % span).unwrap_or(0) - max;
                shared.trace.push(&name, format!("clock skewed by {millis} ms"));
                Arc::new(SkewedClock {
                    inner: Arc::clone(&shared.clock),
                    offset: k8s_openapi::jiff::SignedDuration::from_millis(millis),
                }) as Arc<dyn Clock>
            }
            false => Arc::clone(&shared.clock),
        };
        Self {
            shared,
            name,
            store,
            clock,
        }
    }

    /// An environment over a throwaway store, to ask a factory for its operator's kinds.
    pub(crate) fn probe() -> Self {
        let trace = Trace::new();
        let raw = MemoryStore::new();
        let shared = Arc::new(RunShared {
            oracle: Oracle::new(trace.clone()),
            rng: Mutex::new(rand::SeedableRng::seed_from_u64(0)),
            faults: FaultPlan::none(),
            active: AtomicBool::new(false),
            faulty: Arc::new(FaultyStore::new(raw.clone(), 0)),
            raw,
            clock: Arc::new(SimClock::new()),
            parent_type: TypeRef::new("v1", "ConfigMap"),
            namespace: "default".into(),
            pause_annotation: String::new(),
            max_writes: 0,
            replicas: 1,
            external: External::new(trace.clone()),
            seed: 0,
            writes: AtomicU64::new(0),
            reconciles: AtomicU64::new(0),
            reused_desired: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            crashes: AtomicU64::new(0),
            crash_slots: Vec::new(),
            partitions: Mutex::new(Vec::new()),
            halted: AtomicBool::new(false),
            trace,
        });
        Self::new(shared, 0, "probe".into(), Arc::new(Notify::new()))
    }

    /// The replica's name (`op-0`, `op-1`, ...), also its leader-election identity.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The store this replica talks to (faults, latency, crash points, invariant checks).
    pub fn store(&self) -> Arc<dyn ObjectStore> {
        Arc::clone(&self.store) as Arc<dyn ObjectStore>
    }

    /// This replica's wall clock: the virtual clock, skewed under the clock-skew fault.
    pub fn clock(&self) -> Arc<dyn Clock> {
        Arc::clone(&self.clock)
    }

    /// An event recorder that traces events and checks them for secret values.
    pub fn events(&self) -> Arc<dyn EventRecorder> {
        Arc::new(SimRecorder {
            shared: Arc::clone(&self.shared),
            name: self.name.clone(),
        })
    }

    /// The external system (survives crashes).
    pub fn external(&self) -> &External {
        &self.shared.external
    }

    /// The world's namespace.
    pub fn namespace(&self) -> &str {
        &self.shared.namespace
    }

    /// The runner settings of the simulation: resync every 2 minutes, backoff jitter from
    /// the seed.
    pub fn controller_config(&self) -> ControllerConfig {
        let config = ControllerConfig::default().with_seed(self.shared.seed);
        config
            .clone()
            .with_resync(Some(Duration::from_secs(120)))
            .unwrap_or(config)
    }

    /// The parts of a hand-written operator on this replica: a cache tracking `parent` and
    /// `owned` in every namespace, a controller of `parent` owning `owned` with
    /// [`Self::controller_config`] (not gated by leader election yet: see [`Self::gate`]),
    /// and the [`ReconcileCtx`] its reconcile function gets.
    ///
    /// # Errors
    /// A kind the cache cannot track, as a message.
    pub fn reconcile_parts(
        &self,
        parent: &TypeRef,
        owned: &[TypeRef],
    ) -> Result<(Controller<Cache>, Arc<ReconcileCtx>), String> {
        let cache = Cache::new(self.store(), CacheConfig::default());
        for kind in std::iter::once(parent).chain(owned) {
            cache
                .track(TrackSpec::new(kind.clone()))
                .map_err(|error| format!("cannot track {kind}: {error}"))?;
        }
        let mut controller =
            Controller::new(Arc::new(cache.clone()), parent.clone()).with_config(self.controller_config());
        for kind in owned {
            controller = controller.owns(kind.clone());
        }
        let ctx = Arc::new(ReconcileCtx {
            store: self.store(),
            cache,
            external: self.external().clone(),
            memory: Mutex::new(BTreeMap::new()),
            replica: self.name.clone(),
        });
        Ok((controller, ctx))
    }

    /// Adds leader election on the Lease [`LEASE_NAME`] when the world runs several replicas.
    pub fn gate<S: operator_runtime_core::controller::ObjectSource>(&self, controller: Controller<S>) -> Controller<S> {
        if self.shared.replicas < 2 {
            return controller;
        }
        match LeaseConfig::new(self.shared.namespace.clone(), LEASE_NAME, self.name.clone()) {
            Ok(config) => controller.leader_election(self.store(), self.clock(), config),
            Err(error) => {
                self.shared.oracle.report("harness", format!("lease config: {error}"));
                controller
            }
        }
    }

    /// Wraps one reconcile of `parent`: traces it and lets the store attribute its writes.
    pub fn observe<F, E>(
        &self,
        parent: &Object,
        reconcile: F,
    ) -> impl Future<Output = Result<Action, E>> + Send + use<F, E>
    where
        F: Future<Output = Result<Action, E>> + Send,
        E: std::fmt::Display,
    {
        let scope = ReconcileScope {
            parent: parent.object_ref(),
            uid: parent.uid().unwrap_or_default().to_owned(),
            paused_at_start: parent.annotation(&self.shared.pause_annotation) == Some("true"),
            writes: AtomicUsize::new(0),
            revision_at_start: self.shared.raw.current_revision(),
            generation: parent.metadata.generation.unwrap_or(0),
        };
        let shared = Arc::clone(&self.shared);
        let name = self.name.clone();
        let what = format!(
            "reconcile {} (generation {}, rv {})",
            parent.object_ref(),
            parent.metadata.generation.unwrap_or(0),
            parent.resource_version().unwrap_or("-")
        );
        RECONCILE.scope(scope, async move {
            if !shared.count(&shared.reconciles, "reconciles") {
                std::future::pending::<()>().await;
            }
            shared.trace.push(&name, what);
            let result = reconcile.await;
            match &result {
                Ok(action) => match action.requeue_after {
                    Some(after) => shared.trace.push(&name, format!("  done, requeue after {after:?}")),
                    None => shared.trace.push(&name, "  done"),
                },
                Err(error) => shared.trace.push(&name, format!("  failed: {error}")),
            }
            result
        })
    }
}

/// The store of one replica incarnation, over the run's [`FaultyStore`].
struct SimStore {
    shared: Arc<RunShared>,
    /// The replica slot.
    index: usize,
    name: String,
    crashed: AtomicBool,
    slot: Arc<Notify>,
    /// Per parent uid: the newest parent generation a child write of this incarnation that
    /// took effect came from (`stale-spec-write`).
    acted_on: Mutex<HashMap<String, i64>>,
}

fn exempt(kind: &str) -> bool {
    matches!(kind, "Lease" | "Event")
}

impl SimStore {
    /// Before every call: a crashed incarnation never proceeds; latency reorders calls; a
    /// partitioned replica's request never reaches the server and times out on the client
    /// (after at most 5 s, or when the partition heals).
    async fn before(&self) -> StoreResult<()> {
        if self.crashed.load(Ordering::SeqCst) || self.shared.halted.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        let plan = &self.shared.faults;
        if self.shared.fires(plan.crash_before_call) {
            self.shared
                .trace
                .push(&self.name, "CRASH at an await point, before its next call");
            self.crash();
            std::future::pending::<()>().await;
        }
        if self.shared.fires(plan.latency) {
            let millis = u64::try_from(plan.max_latency.as_millis()).unwrap_or(u64::MAX).max(1);
            tokio::time::sleep(Duration::from_millis(self.shared.draw_u64() % millis)).await;
            if self.crashed.load(Ordering::SeqCst) {
                std::future::pending::<()>().await;
            }
        }
        if let Some(heal) = self.shared.partitioned_until(self.index) {
            let wait = heal
                .saturating_duration_since(Instant::now())
                .min(Duration::from_secs(5));
            tokio::time::sleep(wait).await;
            if self.crashed.load(Ordering::SeqCst) {
                std::future::pending::<()>().await;
            }
            return Err(StoreError::timeout("injected: partitioned from the API server"));
        }
        Ok(())
    }

    /// The write-time invariants, checked against the real (raw) store before the write. What
    /// they find goes to `found`: it is a violation only if the write then takes effect (a
    /// write refused by its resourceVersion precondition modified nothing).
    async fn check_write(&self, verb: &str, target: &ObjectRef, found: &mut Vec<(&'static str, String)>) {
        if exempt(&target.type_ref.kind) {
            return;
        }
        let shared = &self.shared;
        if shared.replicas > 1 {
            let lease = ObjectRef::namespaced(
                TypeRef::new("coordination.k8s.io/v1", "Lease"),
                shared.namespace.clone(),
                LEASE_NAME,
            );
            let holder = match shared.raw.get_opt(&lease).await {
                Ok(Some(l)) => l.body["spec"]["holderIdentity"].as_str().map(str::to_owned),
                _ => None,
            };
            if holder.as_deref() != Some(self.name.as_str()) {
                found.push((
                    "write-without-lease",
                    format!(
                        "{} sent {verb} {target} while the Lease is held by {holder:?}",
                        self.name
                    ),
                ));
            }
        }
        if verb == "create" {
            // An existing object makes the server refuse the create: nothing is modified.
            return;
        }
        let current = shared.raw.get_opt(target).await.ok().flatten();
        let scope = RECONCILE.try_with(|s| {
            let n = s.writes.fetch_add(1, Ordering::SeqCst) + 1;
            (
                s.parent.clone(),
                s.uid.clone(),
                s.paused_at_start,
                n,
                s.revision_at_start,
            )
        });
        match scope {
            Ok((parent, uid, paused_at_start, n, revision_at_start)) => {
                if *target == parent {
                    return;
                }
                let generation = RECONCILE.try_with(|s| s.generation).unwrap_or_default();
                let newest = self
                    .acted_on
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get(&uid)
                    .copied();
                if let Some(newest) = newest.filter(|n| generation < *n) {
                    found.push((
                        "stale-spec-write",
                        format!(
                            "{} sent {verb} {target} from generation {generation} of {parent}, after a write from generation {newest}",
                            self.name
                        ),
                    ));
                }
                if n > shared.max_writes {
                    shared.oracle.report(
                        "writes-per-reconcile",
                        format!(
                            "the reconcile of {parent} sent {n} writes (at most {})",
                            shared.max_writes
                        ),
                    );
                }
                let live_parent = shared.raw.get_opt(&parent).await.ok().flatten();
                let live_uid = live_parent
                    .as_ref()
                    .and_then(|p| p.uid())
                    .unwrap_or_default()
                    .to_owned();
                // An object that stopped being ours while the reconcile ran is a race no
                // client can avoid without preconditions; only one that was already foreign
                // when the reconcile started is a violation.
                let changed_during = current
                    .as_ref()
                    .and_then(|o| o.resource_version())
                    .and_then(|rv| rv.parse::<u64>().ok())
                    .is_some_and(|rv| rv > revision_at_start);
                if let Some(object) = &current
                    && !object.is_controlled_by(&uid)
                    && !object.is_controlled_by(&live_uid)
                    && changed_during
                {
                    shared.trace.push(
                        &self.name,
                        format!("  (race: {target} stopped being controlled by {parent} during this reconcile)"),
                    );
                } else if let Some(object) = &current
                    && !object.is_controlled_by(&uid)
                    && !object.is_controlled_by(&live_uid)
                {
                    let owner = object
                        .controller_owner()
                        .map(|o| format!("{} {} ({})", o.kind, o.name, o.uid))
                        .unwrap_or_else(|| "nobody (no controller ownerReference)".into());
                    found.push((
                        "foreign-write",
                        format!("{} sent {verb} {target} in the reconcile of {parent} ({uid}), but it is controlled by {owner}", self.name),
                    ));
                }
                // Deleting a paused parent still cleans up: pause stops changes, not deletion.
                let still_paused = live_parent
                    .as_ref()
                    .is_some_and(|p| p.annotation(&shared.pause_annotation) == Some("true") && !p.is_terminating());
                if paused_at_start && still_paused {
                    found.push((
                        "paused-write",
                        format!(
                            "{} sent {verb} {target} although its parent {parent} is paused",
                            self.name
                        ),
                    ));
                }
            }
            Err(_) => {
                if target.type_ref == shared.parent_type {
                    return;
                }
                if let Some(object) = &current
                    && object
                        .controller_owner()
                        .is_none_or(|o| o.kind != shared.parent_type.kind)
                {
                    found.push((
                        "foreign-write",
                        format!(
                            "{} sent {verb} {target} outside any reconcile; it is not controlled by a {}",
                            self.name, shared.parent_type.kind
                        ),
                    ));
                }
            }
        }
    }

    async fn write<T>(
        &self,
        verb: &str,
        target: ObjectRef,
        call: impl Future<Output = StoreResult<T>>,
        describe: impl Fn(&T) -> String,
    ) -> StoreResult<T> {
        self.before().await?;
        let mut found = Vec::new();
        self.check_write(verb, &target, &mut found).await;
        // Lease renewals and events are not the operator's work on the world: they neither
        // keep the world from settling nor count towards a hot loop.
        if !exempt(&target.type_ref.kind) && !self.shared.count(&self.shared.writes, "writes") {
            std::future::pending::<()>().await;
        }
        let faults_before = self.shared.faulty.handle().injected();
        let stored_before = self.stored_version(&target).await;
        let result = call.await;
        self.trace_faults(faults_before);
        // A timeout may come after the write was applied (then the stored object changed);
        // any other error modified nothing.
        let applied = match &result {
            Ok(_) => true,
            Err(StoreError::Timeout { .. }) => self.stored_version(&target).await != stored_before,
            Err(_) => false,
        };
        if applied && !exempt(&target.type_ref.kind) {
            let _ = RECONCILE.try_with(|s| {
                if s.parent != target {
                    let mut acted_on = self.acted_on.lock().unwrap_or_else(PoisonError::into_inner);
                    let newest = acted_on.entry(s.uid.clone()).or_default();
                    *newest = (*newest).max(s.generation);
                }
            });
        }
        for (invariant, detail) in found {
            if applied {
                self.shared.oracle.report(invariant, detail);
            } else {
                self.shared
                    .trace
                    .push(&self.name, format!("  (not applied, so not {invariant}: {detail})"));
            }
        }
        let outcome = match &result {
            Ok(value) => describe(value),
            Err(error) => format!("error {}: {error}", error.code()),
        };
        self.shared
            .trace
            .push(&self.name, format!("  {verb} {target} -> {outcome}"));
        if result.is_ok() && self.shared.fires(self.shared.faults.crash_after_write) {
            self.shared.trace.push(&self.name, "CRASH right after that write");
            self.crash();
            std::future::pending::<()>().await;
        }
        result
    }

    /// Puts the faults injected by the call into the trace.
    fn trace_faults(&self, before: usize) {
        let handle = self.shared.faulty.handle();
        if handle.injected() == before {
            return;
        }
        let log = handle.log_since(before);
        for record in &log {
            self.shared.trace.push(
                "faults",
                format!("{:?} on {:?} {}", record.fault, record.operation, record.target),
            );
        }
    }

    /// The uid and resourceVersion of what the server stores under `target` (None: nothing):
    /// whether a write that timed out took effect is whether this changed across it.
    async fn stored_version(&self, target: &ObjectRef) -> Option<(Option<String>, Option<String>)> {
        let object = self.shared.raw.get_opt(target).await.ok().flatten()?;
        Some((
            object.uid().map(str::to_owned),
            object.resource_version().map(str::to_owned),
        ))
    }

    async fn read<T>(&self, call: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
        self.before().await?;
        let faults_before = self.shared.faulty.handle().injected();
        let result = call.await;
        self.trace_faults(faults_before);
        result
    }

    fn crash(&self) {
        self.crashed.store(true, Ordering::SeqCst);
        self.shared.crashes.fetch_add(1, Ordering::SeqCst);
        self.slot.notify_one();
    }
}

fn rv_of(object: &Arc<Object>) -> String {
    format!("ok (rv {})", object.resource_version().unwrap_or("-"))
}

fn key_of(object: &Object) -> ObjectRef {
    object.object_ref()
}

#[async_trait]
impl ObjectStore for SimStore {
    fn capabilities(&self) -> Capabilities {
        self.shared.faulty.capabilities()
    }

    async fn kind_info(&self, type_ref: &TypeRef) -> StoreResult<KindInfo> {
        self.shared.faulty.kind_info(type_ref).await
    }

    async fn get(&self, key: &ObjectRef) -> StoreResult<Arc<Object>> {
        self.read(self.shared.faulty.get(key)).await
    }

    async fn list(&self, type_ref: &TypeRef, params: &ListParams) -> StoreResult<ObjectList> {
        self.read(self.shared.faulty.list(type_ref, params)).await
    }

    async fn create(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        let mut target = key_of(object);
        if object.name().is_empty()
            && let Some(prefix) = &object.metadata.generate_name
        {
            target.name = format!("{prefix}*");
        }
        self.write("create", target, self.shared.faulty.create(object, params), |o| {
            format!("created {} (rv {})", o.name(), o.resource_version().unwrap_or("-"))
        })
        .await
    }

    async fn replace(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        self.write(
            "replace",
            key_of(object),
            self.shared.faulty.replace(object, params),
            rv_of,
        )
        .await
    }

    async fn replace_status(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        self.write(
            "replace_status",
            key_of(object),
            self.shared.faulty.replace_status(object, params),
            rv_of,
        )
        .await
    }

    async fn patch(&self, key: &ObjectRef, patch: &Patch, params: &PatchParams) -> StoreResult<Arc<Object>> {
        let verb = match patch {
            Patch::Apply(_) => "apply",
            _ => "patch",
        };
        self.write(verb, key.clone(), self.shared.faulty.patch(key, patch, params), rv_of)
            .await
    }

    async fn delete(&self, key: &ObjectRef, params: &DeleteParams) -> StoreResult<DeleteOutcome> {
        self.write(
            "delete",
            key.clone(),
            self.shared.faulty.delete(key, params),
            |o| match o {
                DeleteOutcome::Deleted(_) => "deleted".to_owned(),
                DeleteOutcome::Pending(_) => "deletion pending (finalizers)".to_owned(),
            },
        )
        .await
    }

    async fn watch(&self, type_ref: &TypeRef, params: &WatchParams) -> StoreResult<WatchStream> {
        self.read(self.shared.faulty.watch(type_ref, params)).await
    }
}

/// Traces events and checks them for secret values.
struct SimRecorder {
    shared: Arc<RunShared>,
    name: String,
}

#[async_trait]
impl EventRecorder for SimRecorder {
    async fn record(&self, event: Event) -> Result<(), StoreError> {
        self.shared.trace.push(
            &self.name,
            format!("  event {} {}: {}", event.type_.as_str(), event.reason, event.note),
        );
        let secrets = self
            .shared
            .raw
            .list_all(&TypeRef::new("v1", "Secret"), &ListParams::default())
            .await
            .map(|l| l.items)
            .unwrap_or_default();
        if let Some(value) = secret_values(&secrets)
            .into_iter()
            .find(|v| event.note.contains(v.as_str()))
        {
            let shown: String = value.chars().take(3).collect();
            self.shared.oracle.report(
                "secret-in-event",
                format!(
                    "event {} about {} shows a Secret value ({shown}...)",
                    event.reason, event.regarding
                ),
            );
        }
        Ok(())
    }
}

/// Runs replica slot `index`: starts an incarnation, waits for a crash, aborts it (cache,
/// runner, reconciles and memory go), waits a moment and starts a fresh one.
pub(crate) async fn supervise(shared: Arc<RunShared>, sut: Arc<dyn OperatorUnderTest>, index: usize) {
    let name = format!("op-{index}");
    let slot = Arc::clone(&shared.crash_slots[index]);
    let mut incarnation = 0u64;
    loop {
        incarnation += 1;
        shared
            .trace
            .push(&name, format!("start (incarnation {incarnation}, fresh cache)"));
        let env = ReplicaEnv::new(Arc::clone(&shared), index, name.clone(), Arc::clone(&slot));
        let store = Arc::clone(&env.store);
        let task = tokio::spawn(sut.start(env));
        slot.notified().await;
        store.crashed.store(true, Ordering::SeqCst);
        task.abort();
        let _ = task.await;
        shared.trace.push(&name, "crashed; restarting in 1-5 s");
        let delay = 1_000 + shared.draw_u64() % 4_000;
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
}

/// An operator (typed or dynamic) run through [`Reconciler`] and [`Controller`].
pub(crate) struct OperatorSim<O, F> {
    pub(crate) factory: Arc<F>,
    pub(crate) parent: TypeRef,
    pub(crate) owned: Vec<TypeRef>,
    pub(crate) manager: String,
    pub(crate) _operator: std::marker::PhantomData<fn() -> O>,
}

struct OperatorCtx<O: DynamicOperator> {
    reconciler: Reconciler<O>,
    env: ReplicaEnv,
}

impl<O, F> OperatorUnderTest for OperatorSim<O, F>
where
    O: DynamicOperator,
    F: Fn(&ReplicaEnv) -> O + Send + Sync + 'static,
{
    fn parent_type(&self) -> TypeRef {
        self.parent.clone()
    }

    fn owned_types(&self) -> Vec<TypeRef> {
        self.owned.clone()
    }

    fn pause_annotation(&self) -> String {
        ReconcilerConfig::new(&self.manager).pause_annotation
    }

    fn start(&self, env: ReplicaEnv) -> ReplicaFuture {
        let operator = Arc::new((self.factory)(&env));
        let manager = self.manager.clone();
        Box::pin(async move {
            let cache = Cache::new(env.store(), CacheConfig::default());
            let reconciler = Reconciler::new(
                env.store(),
                cache.clone(),
                env.events(),
                env.clock(),
                operator,
                ReconcilerConfig::new(&manager),
            );
            if let Err(error) = reconciler.track() {
                env.shared
                    .oracle
                    .report("harness", format!("cannot track kinds: {error}"));
                return;
            }
            let controller = env.gate(reconciler.controller().with_config(env.controller_config()));
            let ctx = Arc::new(OperatorCtx {
                reconciler,
                env: env.clone(),
            });
            let run = controller.run(
                |parent: Arc<Object>, ctx: Arc<OperatorCtx<O>>| {
                    let key = parent.object_ref();
                    let env = ctx.env.clone();
                    env.observe(&parent, async move {
                        ctx.reconciler.reconcile(&key).await.map(|r| {
                            let counter = match r.reused {
                                Reused::Nothing => None,
                                Reused::Desired => Some(&ctx.env.shared.reused_desired),
                                Reused::Everything => Some(&ctx.env.shared.skipped),
                            };
                            if let Some(counter) = counter {
                                counter.fetch_add(1, Ordering::SeqCst);
                            }
                            r.action.unwrap_or_else(Action::await_change)
                        })
                    })
                },
                ctx,
                std::future::pending::<()>(),
            );
            if let Err(error) = run.await {
                env.shared
                    .oracle
                    .report("harness", format!("the runner did not start: {error}"));
            }
        })
    }
}

/// What a hand-written reconcile function gets (fresh for every replica incarnation).
pub struct ReconcileCtx {
    /// The replica's store.
    pub store: Arc<dyn ObjectStore>,
    /// The replica's cache (parent and owned kinds tracked, all namespaces).
    pub cache: Cache,
    /// The external system (survives crashes).
    pub external: External,
    /// The process's memory: lost on a crash.
    pub memory: Mutex<BTreeMap<String, Value>>,
    /// The replica's name.
    pub replica: String,
}

/// A reconcile function run through [`Controller::run`].
pub(crate) struct ReconcileSim<F> {
    pub(crate) parent: TypeRef,
    pub(crate) owned: Vec<TypeRef>,
    pub(crate) reconcile: Arc<F>,
}

impl<F, Fut, E> OperatorUnderTest for ReconcileSim<F>
where
    F: Fn(Arc<Object>, Arc<ReconcileCtx>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Action, E>> + Send + 'static,
    E: std::error::Error + Send + 'static,
{
    fn parent_type(&self) -> TypeRef {
        self.parent.clone()
    }

    fn owned_types(&self) -> Vec<TypeRef> {
        self.owned.clone()
    }

    fn pause_annotation(&self) -> String {
        ReconcilerConfig::new("sim").pause_annotation
    }

    fn start(&self, env: ReplicaEnv) -> ReplicaFuture {
        let parent = self.parent.clone();
        let owned = self.owned.clone();
        let reconcile = Arc::clone(&self.reconcile);
        Box::pin(async move {
            let (controller, ctx) = match env.reconcile_parts(&parent, &owned) {
                Ok(parts) => parts,
                Err(error) => {
                    env.shared.oracle.report("harness", error);
                    return;
                }
            };
            let controller = env.gate(controller);
            let observe_env = env.clone();
            let run = controller.run(
                move |object: Arc<Object>, ctx: Arc<ReconcileCtx>| {
                    let future = reconcile(Arc::clone(&object), ctx);
                    observe_env.observe(&object, future)
                },
                ctx,
                std::future::pending::<()>(),
            );
            if let Err(error) = run.await {
                env.shared
                    .oracle
                    .report("harness", format!("the runner did not start: {error}"));
            }
        })
    }
}
