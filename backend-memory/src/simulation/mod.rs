//! Deterministic simulation testing for operators.
//!
//! A [`Simulation`] runs one or more replicas of an operator through the real runner, cache
//! and driver of core, against the memory backend, under one seed, in virtual time (a paused
//! current-thread tokio runtime), with the rest of the world played by actors:
//!
//! - a **user** ([`world::World::parent`], [`world::World::edit`]) who creates, edits, pauses,
//!   resumes and deletes parents, and hand-edits, deletes and orphans children;
//! - the **workload controllers** ([`workload::WorkloadSimulator`]: StatefulSet and Deployment
//!   status rolling out) and the memory backend's **garbage collector**;
//! - **faults** ([`faults::FaultPlan`]): API errors, timeouts after applied writes, stale reads,
//!   delayed and duplicated watch events, watches ended with 410, call latency (reordering the
//!   reconciles of different keys and replicas), crashes after a write or at a step, with a
//!   restart on a fresh cache; network partitions of one replica (its requests time out), so a
//!   leader loses its Lease and another replica takes over while it still runs.
//!
//! Everything a seed decides comes from one ChaCha stream seeded with it: the user's schedule
//! is drawn first, then the seeds of the store, of the fault layer and of the run's own draws.
//! After every step the [`oracles`] check the built-in safety invariants and the user's; once
//! the faults stop, the world must settle and then stay free of operator writes (liveness).
//!
//! On a failure, [`Simulation::run_seeds`] panics with the violated invariant, the end of the
//! trace, a shrunk schedule and the one-line command that replays it (`SIM_SEED=...`).
//!
//! ```
//! use operator_runtime_memory::simulation::{Simulation, World};
//! # use operator_runtime_core::builder::{DesiredSet, OwnedKind, Ownership};
//! # use operator_runtime_core::reconcile::{Context, DynamicOperator, OperatorError};
//! # use operator_runtime_core::store::KindInfo;
//! # use operator_runtime_core::{Object, TypeRef};
//! # struct Greeter(Ownership);
//! # impl DynamicOperator for Greeter {
//! #     fn parent_type(&self) -> TypeRef { TypeRef::new("example.io/v1", "Greeting") }
//! #     fn ownership(&self) -> &Ownership { &self.0 }
//! #     fn desired(&self, p: &Object, _: &Context<'_>, set: &mut DesiredSet) -> Result<(), OperatorError> {
//! #         let cm = Object::new(&TypeRef::new("v1", "ConfigMap"), p.namespace(), &format!("{}-greeting", p.name()))
//! #             .with("data", serde_json::json!({"message": p.spec().map(|s| s["message"].clone()).unwrap_or_default()}));
//! #         set.add("main", cm)?;
//! #         Ok(())
//! #     }
//! # }
//! let greeting = TypeRef::new("example.io/v1", "Greeting");
//! let world = World::new("default")
//!     .kind(KindInfo { type_ref: greeting.clone(), plural: "greetings".into(), namespaced: true, status_subresource: true })
//!     .parent(Object::new(&greeting, None, "hello").with("spec", serde_json::json!({"message": "hi"})))
//!     .edit("new message", |spec, n| spec["message"] = format!("hi {n}").into());
//! Simulation::new(|_| Greeter(Ownership::new("greeter").owns_kind(OwnedKind::namespaced(TypeRef::new("v1", "ConfigMap")))))
//!     .world(world)
//!     .invariant("one ConfigMap per Greeting", |w| {
//!         let cms = w.of_kind(&TypeRef::new("v1", "ConfigMap")).iter().filter(|c| c.controller_owner().is_some()).count();
//!         if cms <= w.parents().len() { Ok(()) } else { Err(format!("{cms} ConfigMaps")) }
//!     })
//!     .run_seeds(0..3);
//! ```

pub mod faults;
pub mod oracles;
mod parallel;
pub mod replica;
pub mod runner;
pub mod shrink;
pub mod trace;
pub mod user;
pub mod workload;
pub mod world;

use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use operator_runtime_core::reconcile::DynamicOperator;
use operator_runtime_core::{Action, Object, TypeRef};

pub use faults::{FaultClass, FaultPlan};
pub use oracles::Violation;
pub use replica::{OperatorUnderTest, ReconcileCtx, ReplicaEnv};
pub use runner::{RunReport, RunStats, Schedule, SimError};
pub use shrink::Shrunk;
pub use trace::{Trace, TraceEntry};
pub use workload::WorkloadSimulator;
pub use world::{External, ExternalResource, World, WorldState};

use oracles::Invariant;
use runner::{SimInner, run_once};

/// A simulation of one operator in one world (builder; see the module docs).
pub struct Simulation {
    sut: Arc<dyn OperatorUnderTest>,
    world: World,
    invariants: Vec<Invariant>,
    settled: Vec<Invariant>,
    shrink_budget: usize,
    replay_env: String,
    threads: Option<usize>,
}

impl Simulation {
    /// Simulates an operator (any [`operator_runtime_core::reconcile::Operator`], or a
    /// [`DynamicOperator`]); `factory` builds a fresh one for every replica start (a crash
    /// loses whatever the operator kept in memory).
    pub fn new<O, F>(factory: F) -> Self
    where
        O: DynamicOperator,
        F: Fn(&ReplicaEnv) -> O + Send + Sync + 'static,
    {
        let probe = factory(&ReplicaEnv::probe());
        let parent = probe.parent_type();
        let owned = probe
            .ownership()
            .owned_kinds()
            .iter()
            .map(|k| k.type_ref.clone())
            .collect();
        let manager = probe.ownership().manager().to_owned();
        Self::with(Arc::new(replica::OperatorSim {
            factory: Arc::new(factory),
            parent,
            owned,
            manager,
            _operator: std::marker::PhantomData,
        }))
    }

    /// Simulates a hand-written reconcile function of `parent` objects owning `owned` kinds,
    /// run by core's [`operator_runtime_core::controller::Controller`].
    pub fn from_reconcile<F, Fut, E>(parent: TypeRef, owned: Vec<TypeRef>, reconcile: F) -> Self
    where
        F: Fn(Arc<Object>, Arc<ReconcileCtx>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Action, E>> + Send + 'static,
        E: std::error::Error + Send + 'static,
    {
        Self::with(Arc::new(replica::ReconcileSim {
            parent,
            owned,
            reconcile: Arc::new(reconcile),
        }))
    }

    /// Simulates any [`OperatorUnderTest`].
    pub fn with(sut: Arc<dyn OperatorUnderTest>) -> Self {
        Self {
            sut,
            world: World::new("default"),
            invariants: Vec::new(),
            settled: Vec::new(),
            shrink_budget: 60,
            replay_env: String::new(),
            threads: None,
        }
    }

    /// The world to run in.
    pub fn world(mut self, world: World) -> Self {
        self.world = world;
        self
    }

    /// A safety invariant over the world state, checked after every step.
    pub fn invariant(
        mut self,
        name: impl Into<String>,
        check: impl Fn(&WorldState) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.invariants.push((name.into(), Arc::new(check)));
        self
    }

    /// A desired-state check: once faults stop, the world is settled only when it holds (on
    /// top of every parent describing its generation).
    pub fn settled(
        mut self,
        name: impl Into<String>,
        check: impl Fn(&WorldState) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.settled.push((name.into(), Arc::new(check)));
        self
    }

    /// How many runs shrinking may spend (default 60).
    pub fn shrink_budget(mut self, runs: usize) -> Self {
        self.shrink_budget = runs;
        self
    }

    /// How many threads run seeds side by side (default: `SIM_THREADS`, else one per core).
    /// Each seed runs alone on its own current-thread runtime, so a seed's run, the failing
    /// seed reported and the counts are the same on any number of threads; only the wall
    /// time changes.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads);
        self
    }

    /// Environment assignments the printed replay command needs besides `SIM_SEED` (for a test
    /// that picks its simulation from the environment: `"SIM_BUG=upgrade SIM_TWIN=1"`).
    pub fn replay_env(mut self, env: impl Into<String>) -> Self {
        self.replay_env = env.into();
        self
    }

    /// The command that replays a seed of this simulation (after the `SIM_SEED=..` prefix).
    fn replay_command(&self) -> String {
        match self.replay_env.trim() {
            "" => replay_command(),
            env => format!("{env} {}", replay_command()),
        }
    }

    fn inner(&self) -> SimInner {
        SimInner {
            sut: Arc::clone(&self.sut),
            world: self.world.clone(),
            invariants: self.invariants.clone(),
            settled: self.settled.clone(),
        }
    }

    /// The schedule of `seed` with the world's faults and every step.
    pub fn schedule(&self, seed: u64) -> Schedule {
        Schedule {
            seed,
            keep: None,
            faults: self.world.faults.clone(),
        }
    }

    /// Runs one schedule.
    ///
    /// # Errors
    /// [`SimError`] when the harness itself cannot run (not a violation).
    pub fn run_schedule(&self, schedule: &Schedule) -> Result<RunReport, SimError> {
        run_once(&self.inner(), schedule)
    }

    /// Runs `seed` twice and compares the traces line by line.
    ///
    /// # Errors
    /// The first differing line of the two traces, or the harness error.
    pub fn check_determinism(&self, seed: u64) -> Result<(), String> {
        let schedule = self.schedule(seed);
        let a = self.run_schedule(&schedule).map_err(|e| e.to_string())?;
        let b = self.run_schedule(&schedule).map_err(|e| e.to_string())?;
        if a.trace == b.trace {
            return Ok(());
        }
        let at = a
            .trace
            .iter()
            .zip(&b.trace)
            .position(|(x, y)| x != y)
            .unwrap_or(a.trace.len().min(b.trace.len()));
        let line = |t: &[TraceEntry]| t.get(at).map_or("<end of trace>".to_owned(), ToString::to_string);
        Err(format!(
            "seed {seed} is not deterministic: the traces differ at line {at}:\n  first run:  {}\n  second run: {}",
            line(&a.trace),
            line(&b.trace)
        ))
    }

    /// Runs every seed of `seeds` until one fails, then shrinks it. No environment variable
    /// is read.
    ///
    /// # Errors
    /// The first [`Failure`] (boxed: it carries traces).
    pub fn try_run_seeds(&self, seeds: Range<u64>) -> Result<SeedsSummary, Box<Failure>> {
        let inner = self.inner();
        let started = Instant::now();
        let workers = self.workers(seeds.end.saturating_sub(seeds.start));
        let outcome = parallel::run(&inner, seeds.clone(), workers, |seed| self.schedule(seed));
        let mut summary = outcome.summary;
        summary.threads = workers;
        let Some((seed, result)) = outcome.first_failure else {
            summary.elapsed = started.elapsed();
            return Ok(summary);
        };
        // Every seed below the failing one ran and passed (see `parallel::run`), so the count
        // is the same on any number of threads.
        let seeds_run = seed - seeds.start + 1;
        let (report, violation) = match result {
            parallel::SeedFailure::Violation(report, violation) => (*report, violation),
            parallel::SeedFailure::Harness(error) => {
                let mut failure = Failure::harness(seed, seeds_run, error);
                failure.replay = self.replay_command();
                return Err(Box::new(failure));
            }
        };
        let schedule = self.schedule(seed);
        let deterministic = run_once(&inner, &schedule)
            .map(|again| again.trace == report.trace)
            .ok();
        let shrunk = shrink::shrink(&inner, &report, self.shrink_budget);
        Err(Box::new(Failure {
            seed,
            seeds_run,
            violation,
            report,
            shrunk,
            deterministic,
            replay: self.replay_command(),
        }))
    }

    /// The worker threads for `seeds` seeds: [`Simulation::threads`], else `SIM_THREADS`, else
    /// one per available core; never more than the seeds.
    fn workers(&self, seeds: u64) -> usize {
        let wanted = self
            .threads
            .or_else(|| std::env::var("SIM_THREADS").ok()?.trim().parse().ok())
            .filter(|n| *n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
        wanted.min(usize::try_from(seeds).unwrap_or(usize::MAX)).max(1)
    }

    /// Runs every seed of `seeds` and panics with a [`Failure`] report on the first violation.
    /// Prints the seeds at the start and the rate at the end.
    ///
    /// With `SIM_SEED=N` in the environment, runs only that seed (with `SIM_KEEP` and
    /// `SIM_FAULTS`, the shrunk schedule a failure printed) and prints its whole trace.
    ///
    /// # Panics
    /// On a violation, or when the harness cannot run.
    pub fn run_seeds(&self, seeds: Range<u64>) -> SeedsSummary {
        if let Some(schedule) = self.schedule_from_env() {
            return self.replay(&schedule);
        }
        println!(
            "simulation: seeds {}..{} (replay one with SIM_SEED=<seed>)",
            seeds.start, seeds.end
        );
        match self.try_run_seeds(seeds) {
            Ok(summary) => {
                println!("simulation: {summary}");
                summary
            }
            Err(failure) => panic!("{failure}"),
        }
    }

    fn replay(&self, schedule: &Schedule) -> SeedsSummary {
        println!(
            "simulation: replaying seed {} ({})",
            schedule.seed,
            describe_schedule(schedule)
        );
        let report = match self.run_schedule(schedule) {
            Ok(report) => report,
            Err(error) => panic!("simulation harness failed: {error}"),
        };
        for entry in &report.trace {
            println!("  {entry}");
        }
        if let Some(violation) = &report.violation {
            panic!("seed {} fails: {violation}", schedule.seed);
        }
        println!("seed {} passes", schedule.seed);
        let mut summary = SeedsSummary {
            seeds: 1,
            threads: 1,
            ..SeedsSummary::default()
        };
        summary.add(&report.stats);
        summary
    }

    fn schedule_from_env(&self) -> Option<Schedule> {
        let seed = std::env::var("SIM_SEED").ok()?.trim().parse().ok()?;
        let mut schedule = self.schedule(seed);
        if let Ok(keep) = std::env::var("SIM_KEEP") {
            schedule.keep = Some(parse_keep(&keep));
        }
        if let Ok(faults) = std::env::var("SIM_FAULTS") {
            let classes: Vec<FaultClass> = faults.split(',').filter_map(FaultClass::from_name).collect();
            schedule.faults = schedule.faults.only(&classes);
        }
        Some(schedule)
    }
}

fn parse_keep(text: &str) -> BTreeSet<usize> {
    text.split(',').filter_map(|s| s.trim().parse().ok()).collect()
}

fn describe_schedule(schedule: &Schedule) -> String {
    let keep = match &schedule.keep {
        Some(keep) => format!(
            "steps {}",
            keep.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
        ),
        None => "all steps".to_owned(),
    };
    let faults: Vec<&str> = schedule.faults.enabled().iter().map(|c| c.name()).collect();
    format!(
        "{keep}; faults: {}",
        if faults.is_empty() {
            "none".into()
        } else {
            faults.join(",")
        }
    )
}

/// The command that reruns the current test: package and test binary from the environment
/// and the executable's name, test name from the thread's.
fn replay_command() -> String {
    let package = std::env::var("CARGO_PKG_NAME").unwrap_or_else(|_| "<package>".into());
    let binary = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .map(|stem| stem.rsplit_once('-').map_or(stem.clone(), |(name, _)| name.to_owned()));
    let test = std::thread::current()
        .name()
        .filter(|n| *n != "main")
        .map(str::to_owned);
    let target = match binary {
        Some(binary) if binary != package.replace('-', "_") => format!(" --test {binary}"),
        _ => String::new(),
    };
    match test {
        Some(test) => format!("cargo test -p {package}{target} -- {test} --exact --nocapture"),
        None => format!("cargo test -p {package}{target} -- --nocapture"),
    }
}

/// What a passing seed range did.
#[derive(Clone, Debug, Default)]
pub struct SeedsSummary {
    /// Seeds run.
    pub seeds: u64,
    /// Reconciles over all seeds.
    pub reconciles: u64,
    /// Of those, reconciles that reused their parent's desired set (a pure operator's).
    pub reused_desired: u64,
    /// Of those, reconciles skipped as unchanged (a pure operator's).
    pub skipped: u64,
    /// Operator writes over all seeds.
    pub writes: u64,
    /// Store faults injected over all seeds.
    pub faults: u64,
    /// Operator crashes over all seeds.
    pub crashes: u64,
    /// User steps over all seeds.
    pub steps: u64,
    /// Virtual time over all seeds.
    pub virtual_time: Duration,
    /// Wall-clock time.
    pub elapsed: Duration,
    /// Threads that ran seeds side by side.
    pub threads: usize,
}

impl SeedsSummary {
    fn absorb(&mut self, other: &SeedsSummary) {
        self.seeds += other.seeds;
        self.reconciles += other.reconciles;
        self.reused_desired += other.reused_desired;
        self.skipped += other.skipped;
        self.writes += other.writes;
        self.faults += other.faults;
        self.crashes += other.crashes;
        self.steps += other.steps;
        self.virtual_time += other.virtual_time;
    }

    fn add(&mut self, stats: &RunStats) {
        self.reconciles += stats.reconciles;
        self.reused_desired += stats.reused_desired;
        self.skipped += stats.skipped;
        self.writes += stats.writes;
        self.faults += stats.faults as u64;
        self.crashes += stats.crashes;
        self.steps += stats.steps as u64;
        self.virtual_time += stats.virtual_time;
    }

    /// Seeds per wall-clock second.
    pub fn seeds_per_second(&self) -> f64 {
        self.seeds as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl fmt::Display for SeedsSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} seeds passed in {:.2}s ({:.1} seeds/s on {} thread{}): {} user steps, {} reconciles ({} reused the desired set, {} skipped), {} operator writes, {} faults, {} crashes, {:.0} s virtual",
            self.seeds,
            self.elapsed.as_secs_f64(),
            self.seeds_per_second(),
            self.threads,
            if self.threads == 1 { "" } else { "s" },
            self.steps,
            self.reconciles,
            self.reused_desired,
            self.skipped,
            self.writes,
            self.faults,
            self.crashes,
            self.virtual_time.as_secs_f64()
        )
    }
}

/// A failing seed: the violation, the trace, the shrunk schedule and how to replay it.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The failing seed.
    pub seed: u64,
    /// Seeds run until it (it included).
    pub seeds_run: u64,
    /// The violated invariant.
    pub violation: Violation,
    /// The failing run.
    pub report: RunReport,
    /// The shrunk schedule, if shrinking succeeded.
    pub shrunk: Option<Shrunk>,
    /// Whether a second run of the seed gave the same trace (None: it could not run).
    pub deterministic: Option<bool>,
    /// The command that reruns the test (prefix it with the `SIM_*` variables shown).
    pub replay: String,
}

impl Failure {
    fn harness(seed: u64, seeds_run: u64, error: SimError) -> Self {
        let violation = Violation {
            invariant: "harness".into(),
            detail: error.to_string(),
            at: Duration::ZERO,
        };
        Self {
            seed,
            seeds_run,
            report: RunReport {
                schedule: Schedule {
                    seed,
                    keep: None,
                    faults: FaultPlan::none(),
                },
                trace: Vec::new(),
                violation: Some(violation.clone()),
                stats: RunStats::default(),
            },
            violation,
            shrunk: None,
            deterministic: None,
            replay: replay_command(),
        }
    }

    /// The environment prefix that replays the shrunk schedule (or the whole seed).
    pub fn replay_env(&self) -> String {
        match &self.shrunk {
            Some(s) => {
                let keep: Vec<String> = s.schedule.keep.iter().flatten().map(ToString::to_string).collect();
                let faults: Vec<&str> = s.schedule.faults.enabled().iter().map(|c| c.name()).collect();
                format!(
                    "SIM_SEED={} SIM_KEEP={} SIM_FAULTS={}",
                    self.seed,
                    if keep.is_empty() {
                        "none".to_owned()
                    } else {
                        keep.join(",")
                    },
                    if faults.is_empty() {
                        "none".to_owned()
                    } else {
                        faults.join(",")
                    }
                )
            }
            None => format!("SIM_SEED={}", self.seed),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let all = std::env::var("SIM_TRACE").is_ok_and(|v| v == "all");
        let limit = if all { usize::MAX } else { 60 };
        writeln!(
            f,
            "simulation failed on seed {} (after {} seeds)",
            self.seed, self.seeds_run
        )?;
        writeln!(f, "{}", self.violation)?;
        match self.deterministic {
            Some(true) => writeln!(f, "determinism: a second run of the seed gave the same trace")?,
            Some(false) => writeln!(
                f,
                "determinism: WARNING, a second run of the seed gave a different trace"
            )?,
            None => {}
        }
        writeln!(f, "trace ({} lines):", self.report.trace.len())?;
        f.write_str(&trace::render(&self.report.trace, limit))?;
        if let Some(s) = &self.shrunk {
            let names = |c: &[FaultClass]| c.iter().map(|c| c.name()).collect::<Vec<_>>().join(",");
            writeln!(
                f,
                "shrunk in {} runs: user steps {} -> {}, fault classes [{}] -> [{}]; its trace ({} lines):",
                s.runs,
                s.steps.0,
                s.steps.1,
                names(&s.fault_classes.0),
                names(&s.fault_classes.1),
                s.report.trace.len()
            )?;
            f.write_str(&trace::render(&s.report.trace, limit))?;
        }
        writeln!(f, "replay the whole seed:   SIM_SEED={} {}", self.seed, self.replay)?;
        if self.shrunk.is_some() {
            writeln!(f, "replay the shrunk run:   {} {}", self.replay_env(), self.replay)?;
        }
        Ok(())
    }
}
