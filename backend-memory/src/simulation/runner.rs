//! One run: a seed (and, when replaying a shrunk schedule, the steps and fault classes kept)
//! in, a trace and at most one violation out. Everything runs on a current-thread tokio
//! runtime with paused (virtual) time, so a run is a function of its schedule.

use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use operator_runtime_core::clock::Clock;
use operator_runtime_core::store::{ListParams, WriteParams};
use operator_runtime_core::{Object, ObjectStore, ObjectStoreExt, StoreError, TypeRef};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::faults::FaultPlan;
use super::oracles::{Invariant, Oracle, Violation, check_world};
use super::replica::{OperatorUnderTest, RunShared, SimClock, supervise};
use super::trace::{Trace, TraceEntry};
use super::user::{self, User, UserAction};
use super::workload::WorkloadSimulator;
use super::world::{External, World, WorldState};
use crate::MemoryStore;
use crate::faults::FaultyStore;

/// Why a run could not be carried out (not a violation: the harness itself failed).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The tokio runtime could not be built.
    #[error("cannot build the simulation runtime: {0}")]
    Runtime(#[from] std::io::Error),
    /// An object of the world's setup was refused by the store.
    #[error("the world's setup object {object} was refused: {error}")]
    Setup {
        /// The object.
        object: String,
        /// The store's answer.
        #[source]
        error: StoreError,
    },
}

/// What decides a run: the seed, and optionally which user steps run and which faults are on
/// (a shrunk schedule; by default every step and the world's fault plan).
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    /// The seed.
    pub seed: u64,
    /// Indices of the user steps taken (None: all).
    pub keep: Option<BTreeSet<usize>>,
    /// The fault probabilities.
    pub faults: FaultPlan,
}

impl Schedule {
    fn keeps(&self, step: usize) -> bool {
        self.keep.as_ref().is_none_or(|k| k.contains(&step))
    }
}

/// Counters of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    /// User steps taken.
    pub steps: usize,
    /// Index of the last user step taken (for shrinking).
    pub last_step: Option<usize>,
    /// Reconciles started.
    pub reconciles: u64,
    /// Reconciles that reused their parent's desired set (a pure operator's).
    pub reused_desired: u64,
    /// Reconciles skipped as unchanged (a pure operator's).
    pub skipped: u64,
    /// Writes sent by the operator.
    pub writes: u64,
    /// Store faults injected.
    pub faults: usize,
    /// Operator crashes.
    pub crashes: u64,
    /// Virtual time of the run.
    pub virtual_time: Duration,
}

/// The outcome of one run.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// The schedule that was run.
    pub schedule: Schedule,
    /// Every line of the trace.
    pub trace: Vec<TraceEntry>,
    /// The first violated invariant, if any.
    pub violation: Option<Violation>,
    /// Counters.
    pub stats: RunStats,
}

/// Everything a run needs from the simulation.
pub(crate) struct SimInner {
    pub(crate) sut: Arc<dyn OperatorUnderTest>,
    pub(crate) world: World,
    pub(crate) invariants: Vec<Invariant>,
    pub(crate) settled: Vec<Invariant>,
}

/// Runs one schedule on a fresh paused current-thread runtime.
pub(crate) fn run_once(inner: &SimInner, schedule: &Schedule) -> Result<RunReport, SimError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()?;
    runtime.block_on(run_async(inner, schedule))
}

fn kinds_of(inner: &SimInner) -> Vec<TypeRef> {
    let mut kinds = vec![inner.sut.parent_type()];
    kinds.extend(inner.sut.owned_types());
    kinds.push(TypeRef::new("v1", "Secret"));
    kinds.push(TypeRef::new("v1", "ConfigMap"));
    let mut seen = HashSet::new();
    kinds.retain(|k| seen.insert(k.clone()));
    kinds
}

async fn snapshot(shared: &RunShared, kinds: &[TypeRef]) -> WorldState {
    let mut state = WorldState {
        parent_type: shared.parent_type.clone(),
        objects: Default::default(),
        external: shared.external.resources(),
    };
    for kind in kinds {
        let items = shared
            .raw
            .list_all(kind, &ListParams::default())
            .await
            .map(|l| l.items)
            .unwrap_or_default();
        state.objects.insert(kind.clone(), items);
    }
    state
}

async fn check_now(inner: &SimInner, shared: &RunShared, kinds: &[TypeRef]) -> WorldState {
    let state = snapshot(shared, kinds).await;
    if let Err((name, detail)) = check_world(&state, &inner.invariants) {
        shared.oracle.report(&name, detail);
    }
    state
}

/// Why the world is not settled yet (None: settled).
fn unsettled(inner: &SimInner, state: &WorldState) -> Option<String> {
    for parent in state.parents() {
        let key = parent.object_ref();
        if parent.is_terminating() {
            return Some(format!(
                "{key} is still terminating (finalizers {:?})",
                parent.metadata.finalizers
            ));
        }
        let observed = parent.status().and_then(|s| s.get("observedGeneration")).cloned();
        if observed != Some(json!(parent.metadata.generation.unwrap_or(0))) {
            return Some(format!(
                "{key} has status.observedGeneration {observed:?}, generation {:?}",
                parent.metadata.generation
            ));
        }
    }
    for (name, check) in &inner.settled {
        if let Err(why) = check(state) {
            return Some(format!("{name}: {why}"));
        }
    }
    None
}

async fn run_async(inner: &SimInner, schedule: &Schedule) -> Result<RunReport, SimError> {
    let world = &inner.world;
    let mut rng = ChaCha8Rng::seed_from_u64(schedule.seed);
    let steps = user::plan(&mut rng, world);
    let (store_seed, fault_seed, run_seed) = (rng.next_u64(), rng.next_u64(), rng.next_u64());
    let trace = Trace::new();
    let clock: Arc<dyn Clock> = Arc::new(SimClock::new());
    let raw = MemoryStore::builder()
        .seed(store_seed)
        .clock(Arc::clone(&clock))
        .build();
    for kind in &world.kinds {
        raw.register_kind(kind.clone());
    }
    let setup_error = |object: &Object, error: StoreError| SimError::Setup {
        object: object.object_ref().to_string(),
        error,
    };
    if world.namespace != "default" {
        let ns = Object::new(&TypeRef::new("v1", "Namespace"), None, &world.namespace);
        raw.create(&ns, &WriteParams::default())
            .await
            .map_err(|e| setup_error(&ns, e))?;
    }
    for object in &world.setup {
        raw.create(object, &WriteParams::default())
            .await
            .map_err(|e| setup_error(object, e))?;
    }
    let faulty = Arc::new(FaultyStore::new(raw.clone(), fault_seed));
    let shared = Arc::new(RunShared {
        trace: trace.clone(),
        oracle: Oracle::new(trace.clone()),
        rng: Mutex::new(ChaCha8Rng::seed_from_u64(run_seed)),
        faults: schedule.faults.clone(),
        active: AtomicBool::new(true),
        raw: raw.clone(),
        faulty: Arc::clone(&faulty),
        clock,
        parent_type: inner.sut.parent_type(),
        namespace: world.namespace.clone(),
        pause_annotation: inner.sut.pause_annotation(),
        max_writes: world.max_writes_per_reconcile,
        replicas: world.replicas,
        external: External::new(trace.clone()),
        seed: schedule.seed,
        writes: AtomicU64::new(0),
        reconciles: AtomicU64::new(0),
        reused_desired: AtomicU64::new(0),
        skipped: AtomicU64::new(0),
        crashes: AtomicU64::new(0),
        crash_slots: (0..world.replicas).map(|_| Arc::new(Notify::new())).collect(),
        partitions: Mutex::new(vec![None; world.replicas]),
        halted: AtomicBool::new(false),
    });
    let enabled: Vec<&str> = schedule.faults.enabled().iter().map(|c| c.name()).collect();
    trace.push(
        "sim",
        format!(
            "seed {}: {} user steps, {} replica(s), faults: {}",
            schedule.seed,
            schedule.keep.as_ref().map_or(steps.len(), BTreeSet::len),
            world.replicas,
            if enabled.is_empty() {
                "none".to_owned()
            } else {
                enabled.join(", ")
            }
        ),
    );
    faulty.handle().set_rates(Some(schedule.faults.store_rates()));
    let mut tasks = JoinSet::new();
    for index in 0..world.replicas {
        tasks.spawn(supervise(Arc::clone(&shared), Arc::clone(&inner.sut), index));
    }
    if let Some(rollout) = world.workload_rollout {
        tasks.spawn(WorkloadSimulator::new(raw.clone(), rollout).traced(trace.clone()).run());
    }
    let kinds = kinds_of(inner);
    let owned = inner.sut.owned_types();
    let user = User {
        shared: &shared,
        world,
        owned: &owned,
    };
    let mut stats = RunStats::default();

    // Phase 1: the user acts while faults are on.
    for (index, step) in steps.iter().enumerate() {
        if shared.oracle.violation().is_some() {
            break;
        }
        tokio::time::sleep(step.gap).await;
        let fault_off = match step.action {
            UserAction::Crash { .. } => schedule.faults.crash <= 0.0,
            UserAction::Partition { .. } => schedule.faults.partition <= 0.0,
            _ => false,
        };
        if !schedule.keeps(index) || fault_off {
            continue;
        }
        let what = user.perform(&step.action).await;
        trace.push("user", format!("#{index} {what}"));
        stats.steps += 1;
        stats.last_step = Some(index);
        check_now(inner, &shared, &kinds).await;
    }

    // Phase 2: faults stop, paused parents are resumed; the world must settle, then stay quiet.
    if shared.oracle.violation().is_none() {
        shared.active.store(false, Ordering::SeqCst);
        faulty.handle().clear();
        for replica in 0..world.replicas {
            shared.partition(replica, None);
        }
        trace.push("sim", "faults stop; paused parents are resumed");
        for parent in 0..world.parents.len() {
            let what = user.perform(&UserAction::Resume { parent }).await;
            if !what.contains("not paused") && !what.contains("absent") {
                trace.push("user", what);
            }
        }
        settle(inner, &shared, &kinds).await;
    }
    if shared.oracle.violation().is_none() {
        let before = shared.writes.load(Ordering::SeqCst);
        let end = Instant::now() + world.quiet_window;
        while Instant::now() < end && shared.oracle.violation().is_none() {
            tokio::time::sleep(Duration::from_secs(10).min(world.quiet_window)).await;
            check_now(inner, &shared, &kinds).await;
            let writes = shared.writes.load(Ordering::SeqCst) - before;
            if writes > 0 {
                shared.oracle.report(
                    "writes-after-settled",
                    format!("the world had settled, then the operator sent {writes} write(s) (see the trace): it never becomes stable"),
                );
            }
        }
        if shared.oracle.violation().is_none() {
            trace.push("sim", format!("quiet for {:?}: no write", world.quiet_window));
        }
    }
    tasks.abort_all();
    stats.reconciles = shared.reconciles.load(Ordering::SeqCst);
    stats.reused_desired = shared.reused_desired.load(Ordering::SeqCst);
    stats.skipped = shared.skipped.load(Ordering::SeqCst);
    stats.writes = shared.writes.load(Ordering::SeqCst);
    stats.faults = faulty.handle().injected();
    stats.crashes = shared.crashes.load(Ordering::SeqCst);
    stats.virtual_time = trace.elapsed();
    Ok(RunReport {
        schedule: schedule.clone(),
        trace: trace.entries(),
        violation: shared.oracle.violation(),
        stats,
    })
}

/// Waits until every parent describes its generation, every deleted parent is gone, the user's
/// settle checks hold and the operator has sent no write for 60 s; reports `not-settled` after
/// the world's bound. (60 s, not 30: an operator that requeues every 30 s to look at what it
/// does not watch, such as a child the user orphaned, may rightly write once more then.)
async fn settle(inner: &SimInner, shared: &RunShared, kinds: &[TypeRef]) {
    let quiet_needed = Duration::from_secs(60);
    let deadline = Instant::now() + inner.world.settle_within;
    let mut last_writes = shared.writes.load(Ordering::SeqCst);
    let mut quiet_since = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let state = check_now(inner, shared, kinds).await;
        if shared.oracle.violation().is_some() {
            return;
        }
        let writes = shared.writes.load(Ordering::SeqCst);
        if writes != last_writes {
            last_writes = writes;
            quiet_since = Instant::now();
        }
        let why = unsettled(inner, &state).or_else(|| {
            (quiet_since.elapsed() < quiet_needed).then(|| {
                format!(
                    "the operator is still writing ({} writes since the faults stopped, the last {:?} ago)",
                    writes,
                    quiet_since.elapsed()
                )
            })
        });
        match why {
            None => {
                shared.trace.push("sim", "settled");
                return;
            }
            Some(why) if Instant::now() >= deadline => {
                shared.oracle.report(
                    "not-settled",
                    format!(
                        "faults stopped {:?} ago and the world has not settled: {why}",
                        inner.world.settle_within
                    ),
                );
                return;
            }
            Some(_) => {}
        }
    }
}
