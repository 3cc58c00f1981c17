//! Running sequences on two stores side by side, settling asynchronous garbage collection,
//! shrinking a divergence to a minimal sequence, and the run's figures.

use std::collections::BTreeMap;
use std::future::Future;
use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use operator_runtime_core::model::OwnerReference;
use operator_runtime_core::store::{DeleteParams, ListParams, WatchParams, WriteParams};
use operator_runtime_core::{Object, ObjectStore, StoreError, TypeRef};

use super::accepted::{Accepted, accepted};
use super::compare::{Divergence, SideNames, Step, compare};
use super::generate::generate;
use super::ops::{Kind, KindSet, Op};
use super::report::{Summary, describe};
use super::shrink::{Replay, simplifications};
use super::side::{Observation, Side};
use super::values::sprocket_crd;

/// How long garbage collection on the slower side may take to reach the other side's state
/// (the default of [`Engine::settle_deadline`]).
pub const SETTLE_DEADLINE: Duration = Duration::from_secs(15);
/// Pause between two settle probes.
const SETTLE_INTERVAL: Duration = Duration::from_millis(40);
/// How long a new CRD may take to be served.
const CRD_DEADLINE: Duration = Duration::from_secs(60);
/// Most sequence runs one shrink may spend.
const SHRINK_BUDGET: usize = 120;

/// Time spent and operations run on each side.
#[derive(Clone, Copy, Debug, Default)]
pub struct Figures {
    /// Sequences run (shrink re-runs included).
    pub sequences: u64,
    /// Operations run on each side.
    pub operations: u64,
    /// Time in the left store's operations.
    pub left: Duration,
    /// Time in the right store's operations.
    pub right: Duration,
    /// Time waiting for garbage collection to settle.
    pub settle: Duration,
    /// Sequences of a survey that showed at least one divergence.
    pub divergent: u64,
}

/// What checking one seed found.
#[derive(Debug)]
pub struct SeedResult {
    /// The seed.
    pub seed: u64,
    /// Operations in its sequence.
    pub operations: usize,
    /// The (shrunk) divergence, if any.
    pub divergence: Option<Shrunk>,
    /// A divergence that a second run of the same sequence did not show (its class): the real
    /// server's asynchronous controllers raced the sequence, the memory backend is
    /// deterministic. Reported, not counted as a failure.
    pub unconfirmed: Option<String>,
}

/// A divergence and the smallest sequence found that still shows it.
#[derive(Debug)]
pub struct Shrunk {
    /// How to rebuild the minimal sequence from the seed.
    pub replay: Replay,
    /// The minimal sequence.
    pub ops: Vec<Op>,
    /// The divergence the minimal sequence shows.
    pub divergence: Divergence,
    /// The accepted-list entry matching its class, if any.
    pub accepted: Option<&'static Accepted>,
}

/// Runs seeds on a fresh left store per sequence (from `make_left`) and a shared right store.
pub struct Engine<R, F> {
    right: R,
    make_left: F,
    names: SideNames,
    /// Namespace names are unique per engine: `df-<seed>-<run>`.
    runs: AtomicU64,
    figures: Mutex<Figures>,
    /// Whether to shrink divergences.
    pub shrink: bool,
    /// Most divergences shrunk in this engine's life (later ones are reported as found), so a
    /// run over many divergent seeds stays bounded in time.
    pub shrink_limit: usize,
    shrunk: std::sync::atomic::AtomicUsize,
    /// How long the sides' garbage-collection states may take to agree after a write.
    pub settle_deadline: Duration,
    /// The kinds sequences are drawn from ([`KindSet::CHECKED`] unless set).
    pub kinds: KindSet,
    /// Whether a divergence that is not accepted is confirmed by a second run of the whole
    /// sequence before it counts (see [`SeedResult::unconfirmed`]).
    pub confirm: bool,
    /// Whether the reference side's garbage collector resolved the probe's owner before the
    /// deadline (true where it runs no collector, or the probe could not be made): a
    /// collector that resolves nothing makes every later comparison after a delete wrong.
    pub gc_resolved: bool,
}

impl<L, R, F, Fut> Engine<R, F>
where
    L: ObjectStore,
    R: ObjectStore,
    F: Fn() -> Fut,
    Fut: Future<Output = L>,
{
    /// An engine over `right` (the reference, shared) and left stores from `make_left`.
    /// Installs the `Sprocket` CRD on `right` and waits until it is served.
    ///
    /// # Errors
    /// The CRD cannot be installed or is not served in time.
    pub async fn new(right: R, make_left: F) -> Result<Self, String> {
        install_crd(&right).await?;
        let gc_resolved = !right.capabilities().garbage_collection || wait_for_gc_to_resolve_crd(&right).await;
        let left_name = make_left().await.capabilities().name;
        let names = SideNames {
            left: left_name,
            right: right.capabilities().name,
        };
        Ok(Self {
            right,
            make_left,
            names,
            runs: AtomicU64::new(0),
            figures: Mutex::new(Figures::default()),
            shrink: true,
            shrink_limit: usize::MAX,
            shrunk: std::sync::atomic::AtomicUsize::new(0),
            settle_deadline: SETTLE_DEADLINE,
            kinds: KindSet::CHECKED,
            confirm: true,
            gc_resolved,
        })
    }

    /// The two sides' names.
    pub fn names(&self) -> &SideNames {
        &self.names
    }

    /// The figures so far.
    pub fn figures(&self) -> Figures {
        *self.figures.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn add(&self, f: impl FnOnce(&mut Figures)) {
        f(&mut self.figures.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    }

    /// Generates the sequence of `seed`, runs it, and shrinks a divergence.
    ///
    /// # Errors
    /// A harness failure (a namespace or the CRD could not be set up), not a divergence.
    pub async fn check_seed(&self, seed: u64) -> Result<SeedResult, String> {
        eprintln!("differential: seed={seed}");
        let ops = generate(seed, self.kinds);
        let operations = ops.len();
        let Some(found) = self.run(seed, &ops).await? else {
            return Ok(SeedResult {
                seed,
                operations,
                divergence: None,
                unconfirmed: None,
            });
        };
        if self.confirm
            && accepted(&found.class).is_none()
            && self
                .same_class(&Replay::new(seed, self.kinds, ops.len()), &found.class)
                .await?
                .is_none()
        {
            return Ok(SeedResult {
                seed,
                operations,
                divergence: None,
                unconfirmed: Some(found.class),
            });
        }
        let replay = Replay::new(seed, self.kinds, ops.len());
        let shrink = self.shrink && self.shrunk.fetch_add(1, Ordering::Relaxed) < self.shrink_limit;
        let (replay, ops, divergence) = if shrink {
            self.shrink(replay, found).await?
        } else {
            // Without shrinking, still leave out what follows the diverging operation: it
            // cannot have influenced it (no re-run needed).
            let mut replay = replay;
            if let Step::Op(i) | Step::Settled(i) = found.step {
                replay.keep.truncate(i + 1);
            }
            let ops = replay.ops();
            (replay, ops, found)
        };
        let accepted = accepted(&divergence.class);
        Ok(SeedResult {
            seed,
            operations,
            unconfirmed: None,
            divergence: Some(Shrunk {
                replay,
                ops,
                divergence,
                accepted,
            }),
        })
    }

    /// Checks every seed of `seeds`, `jobs` at a time, printing each divergence as it is found
    /// (see [`describe`]); returns the totals.
    pub async fn check_range(&self, seeds: Range<u64>, jobs: usize) -> Summary {
        let mut summary = Summary::default();
        let mut results = futures::stream::iter(seeds)
            .map(|seed| async move { (seed, self.check_seed(seed).await) })
            .buffer_unordered(jobs.max(1));
        while let Some((seed, result)) = results.next().await {
            if let Ok(r) = &result {
                eprint!("{}", describe(r, &self.names));
            }
            summary.add(&result, seed);
        }
        summary
    }

    /// Runs a replayed (kept/simplified) sequence once, without shrinking.
    ///
    /// # Errors
    /// A harness failure.
    pub async fn replay(&self, replay: &Replay) -> Result<(Vec<Op>, Option<Divergence>), String> {
        let ops = replay.ops();
        let found = self.run(replay.seed, &ops).await?;
        Ok((ops, found))
    }

    /// Runs `ops` once on both sides in fresh namespaces; the first divergence, if any.
    ///
    /// # Errors
    /// A harness failure.
    pub async fn run(&self, seed: u64, ops: &[Op]) -> Result<Option<Divergence>, String> {
        Ok(self.run_collect(seed, ops, false).await?.into_iter().next())
    }

    /// Runs every seed of `seeds` to its end, collecting every divergence instead of stopping
    /// at the first (later ones may follow from earlier ones, since the sides' states differ
    /// from then on); returns, per class, how many seeds showed it and the first one found.
    pub async fn survey(&self, seeds: Range<u64>, jobs: usize) -> BTreeMap<String, (usize, u64, Divergence)> {
        let mut classes: BTreeMap<String, (usize, u64, Divergence)> = BTreeMap::new();
        let mut results = futures::stream::iter(seeds)
            .map(|seed| async move { (seed, self.run_collect(seed, &generate(seed, self.kinds), true).await) })
            .buffered(jobs.max(1));
        while let Some((seed, result)) = results.next().await {
            let Ok(found) = result else { continue };
            if !found.is_empty() {
                self.add(|f| f.divergent += 1);
            }
            let mut seen = std::collections::BTreeSet::new();
            for d in found {
                if seen.insert(d.class.clone()) {
                    let entry = classes.entry(d.class.clone()).or_insert((0, seed, d));
                    entry.0 += 1;
                }
            }
        }
        classes
    }

    async fn run_collect(&self, seed: u64, ops: &[Op], keep_going: bool) -> Result<Vec<Divergence>, String> {
        let left_store = (self.make_left)().await;
        install_crd(&left_store).await?;
        let run = self.runs.fetch_add(1, Ordering::Relaxed);
        let (mut left, mut right, _ns) = self.namespaces(&left_store, seed, run).await?;
        self.add(|f| f.sequences += 1);
        let found = self.run_sides(&mut left, &mut right, ops, keep_going).await;
        // Service IPs come from one small range per server: release them, or later sequences
        // fail to allocate. Namespaces themselves are left in place: deleting them would make
        // the namespace controller work through every resource type while the next sequences run.
        left.release_services().await;
        right.release_services().await;
        Ok(found)
    }

    async fn run_sides(
        &self,
        left: &mut Side<'_, L>,
        right: &mut Side<'_, R>,
        ops: &[Op],
        keep_going: bool,
    ) -> Vec<Divergence> {
        let kinds: Vec<Kind> = Kind::ALL
            .into_iter()
            .filter(|k| ops.iter().any(|o| o.kind() == *k))
            .collect();
        let mut found = Vec::new();
        let mut watch_ops = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            let t0 = Instant::now();
            let l = left.run(op).await;
            let t1 = Instant::now();
            let r = right.run(op).await;
            let t2 = Instant::now();
            self.add(|f| {
                f.operations += 1;
                f.left += t1 - t0;
                f.right += t2 - t1;
            });
            if let Some(d) = compare(Step::Op(i), op, &l, &r, &self.names) {
                found.push(d);
                if !keep_going {
                    return found;
                }
            }
            if let Op::Watch { .. } = op {
                watch_ops.push(op.clone());
            }
            if needs_settling(op, &l) || needs_settling(op, &r) {
                let t = Instant::now();
                let settled = self.settle(left, right, &kinds).await;
                self.add(|f| f.settle += t.elapsed());
                if let Some((lo, ro)) = settled
                    && let Some(d) = compare(Step::Settled(i), op, &lo, &ro, &self.names)
                {
                    found.push(d);
                    if !keep_going {
                        return found;
                    }
                }
            }
        }
        // Watches started on one side only (the start itself diverged) are not compared.
        let watches = left.watch_count().min(right.watch_count()).min(watch_ops.len());
        for (w, op) in watch_ops.iter().enumerate().take(watches) {
            let l = left.finish_watch(w).await;
            let r = right.finish_watch(w).await;
            if let Some(d) = compare(Step::Watch(w), op, &l, &r, &self.names) {
                found.push(d);
                if !keep_going {
                    return found;
                }
            }
        }
        found
    }

    async fn namespaces<'a>(
        &'a self,
        left: &'a L,
        seed: u64,
        run: u64,
    ) -> Result<(Side<'a, L>, Side<'a, R>, String), String> {
        // A name taken by an earlier process on a long-lived server: try the next one.
        for attempt in 0..20u64 {
            let ns = if attempt == 0 {
                format!("df-{seed}-{run}")
            } else {
                format!("df-{seed}-{run}-{attempt}")
            };
            let right = match Side::new(&self.right, &ns).await {
                Ok(side) => side,
                Err(StoreError::AlreadyExists { .. }) => continue,
                Err(e) => return Err(format!("creating namespace {ns} on {}: {e}", self.names.right)),
            };
            // Its own name on the left, so that both sides may be the same server (a self-check
            // of the fuzzer: a real server against itself must show no divergence).
            let left_ns = format!("{ns}-l");
            let left = Side::new(left, &left_ns)
                .await
                .map_err(|e| format!("creating namespace {left_ns} on {}: {e}", self.names.left))?;
            return Ok((left, right, ns));
        }
        Err(format!("no free namespace name for seed {seed}"))
    }

    /// Waits until both sides' garbage-collection state agrees (the real garbage collector
    /// works asynchronously); returns the last two states when it does not within the deadline.
    async fn settle(
        &self,
        left: &Side<'_, L>,
        right: &Side<'_, R>,
        kinds: &[Kind],
    ) -> Option<(Observation, Observation)> {
        let deadline = Instant::now() + self.settle_deadline;
        loop {
            let l = left.gc_state(kinds).await;
            let r = right.gc_state(kinds).await;
            let state = |s: Result<_, StoreError>| match s {
                Ok(map) => Observation {
                    outcome: serde_json::json!({"State": map}),
                    message: None,
                },
                Err(e) => Observation {
                    outcome: serde_json::json!({"Err": super::side::variant(&e)}),
                    message: Some(e.to_string()),
                },
            };
            let (l, r) = (state(l), state(r));
            if l == r {
                return None;
            }
            if Instant::now() >= deadline {
                return Some((l, r));
            }
            tokio::time::sleep(SETTLE_INTERVAL).await;
        }
    }

    /// Shrinks: drops operations, then simplifies the remaining ones, keeping each change
    /// while a re-run (fresh namespaces) still shows a divergence of the same class.
    async fn shrink(&self, mut replay: Replay, found: Divergence) -> Result<(Replay, Vec<Op>, Divergence), String> {
        let class = found.class.clone();
        let mut best = found;
        let mut budget = SHRINK_BUDGET;
        // Operations after the diverging one cannot matter (watch divergences need them all).
        if let Step::Op(i) | Step::Settled(i) = best.step {
            replay.keep.truncate(i + 1);
        }
        let mut pos = replay.keep.len();
        while pos > 0 && budget > 0 {
            pos -= 1;
            let mut candidate = replay.clone();
            candidate.keep.remove(pos);
            budget -= 1;
            if let Some(d) = self.same_class(&candidate, &class).await? {
                replay = candidate;
                best = d;
            }
        }
        for pos in 0..replay.keep.len() {
            let index = replay.keep[pos];
            'simplify: loop {
                let op = replay.op_at(index);
                for (choice, _) in simplifications(&op).iter().enumerate() {
                    if budget == 0 {
                        break 'simplify;
                    }
                    budget -= 1;
                    let mut candidate = replay.clone();
                    candidate.simplify.push((index, choice));
                    if let Some(d) = self.same_class(&candidate, &class).await? {
                        replay = candidate;
                        best = d;
                        continue 'simplify;
                    }
                }
                break;
            }
        }
        let ops = replay.ops();
        Ok((replay, ops, best))
    }

    async fn same_class(&self, replay: &Replay, class: &str) -> Result<Option<Divergence>, String> {
        let found = self.run(replay.seed, &replay.ops()).await?;
        Ok(found.filter(|d| d.class == class))
    }
}

/// Garbage collection may act after a persisted delete, or a write leaving an object with
/// owners or terminating.
fn needs_settling(op: &Op, seen: &Observation) -> bool {
    if !op.writes() || !seen.is_ok() {
        return false;
    }
    if let Op::Delete { .. } = op {
        return true;
    }
    let Some(view) = seen.outcome.get("Ok") else {
        return false;
    };
    view["deleting"] == serde_json::json!(true) || view["ownerReferences"].as_array().is_some_and(|o| !o.is_empty())
}

/// Namespace of the garbage-collector probe objects.
const GC_PROBE_NAMESPACE: &str = "differential-gc-probe";
/// How long the garbage collector may take to learn a new CRD.
const GC_PROBE_DEADLINE: Duration = Duration::from_secs(120);
/// A fresh probe object every so often: a probe the collector could not resolve is retried
/// with a growing backoff, a new one right away.
const GC_PROBE_EVERY: Duration = Duration::from_secs(3);

/// Waits until the store's garbage collector resolves owner references to `Sprocket`: a real
/// kube-controller-manager learns a new CRD only at its next discovery resync (up to 30 s),
/// and until then neither deletes dependents of a missing Sprocket nor watches Sprockets, so
/// the first sequences would diverge for a reason that is not the memory backend's. A probe
/// ConfigMap owned by a Sprocket that does not exist is deleted once it does. Prints a warning
/// and returns false when that takes longer than the deadline; true otherwise (also when the
/// probe cannot be made, which it says).
pub async fn wait_for_gc_to_resolve_crd<S: ObjectStore + ?Sized>(store: &S) -> bool {
    let start = Instant::now();
    let namespace = Object::new(&TypeRef::new("v1", "Namespace"), None, GC_PROBE_NAMESPACE);
    match store.create(&namespace, &WriteParams::default()).await {
        Ok(_) | Err(StoreError::AlreadyExists { .. }) => {}
        Err(e) => {
            eprintln!("differential: garbage-collector probe skipped (namespace: {e})");
            return true;
        }
    }
    let sprocket = Kind::Sprocket.type_ref();
    let mut probes: Vec<Object> = Vec::new();
    let mut last_probe: Option<Instant> = None;
    loop {
        if last_probe.is_none_or(|t| t.elapsed() >= GC_PROBE_EVERY) {
            let mut probe = Object::new(
                &TypeRef::new("v1", "ConfigMap"),
                Some(GC_PROBE_NAMESPACE),
                &format!("gc-probe-{}", probes.len()),
            );
            probe.metadata.owner_references = Some(vec![OwnerReference {
                api_version: sprocket.api_version.clone(),
                kind: sprocket.kind.clone(),
                name: "gc-probe-owner".to_owned(),
                uid: "6c7e1a4e-0000-4000-8000-00000000a11c".to_owned(),
                ..OwnerReference::default()
            }]);
            match store.create(&probe, &WriteParams::default()).await {
                Ok(created) => probes.push(Object::clone(&created)),
                Err(StoreError::AlreadyExists { .. }) => probes.push(probe),
                Err(e) => {
                    eprintln!("differential: garbage-collector probe skipped (create: {e})");
                    return true;
                }
            }
            last_probe = Some(Instant::now());
        }
        for probe in &probes {
            if let Err(StoreError::NotFound { .. }) = store.get(&probe.object_ref()).await {
                for other in &probes {
                    let _ = store.delete(&other.object_ref(), &DeleteParams::default()).await;
                }
                eprintln!(
                    "differential: the garbage collector resolves Sprocket owners after {:.1} s",
                    start.elapsed().as_secs_f64()
                );
                return true;
            }
        }
        if start.elapsed() >= GC_PROBE_DEADLINE {
            eprintln!(
                "differential: WARNING the garbage collector did not resolve Sprocket owners within {} s",
                GC_PROBE_DEADLINE.as_secs()
            );
            return false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Installs the Sprocket CRD (AlreadyExists is fine) and waits until lists and watches of it
/// are served (a real server refuses watches of a new kind for a moment).
///
/// # Errors
/// The CRD cannot be created or is not served within the deadline.
pub async fn install_crd<S: ObjectStore + ?Sized>(store: &S) -> Result<(), String> {
    match store.create(&sprocket_crd(), &WriteParams::default()).await {
        Ok(_) | Err(StoreError::AlreadyExists { .. }) => {}
        Err(e) => return Err(format!("installing the Sprocket CRD: {e}")),
    }
    let kind = Kind::Sprocket.type_ref();
    let deadline = Instant::now() + CRD_DEADLINE;
    loop {
        let probe = async {
            store.kind_info(&kind).await.map_err(|e| e.to_string())?;
            let list = store
                .list(&kind, &ListParams::default().limit(1))
                .await
                .map_err(|e| e.to_string())?;
            let params = WatchParams {
                resource_version: Some(list.resource_version),
                ..WatchParams::default()
            };
            let mut stream = store.watch(&kind, &params).await.map_err(|e| e.to_string())?;
            match tokio::time::timeout(Duration::from_millis(50), stream.next()).await {
                Ok(Some(Err(e))) => Err(e.to_string()),
                _ => Ok(()),
            }
        };
        match probe.await {
            Ok(()) => return Ok(()),
            Err(e) if Instant::now() >= deadline => return Err(format!("Sprocket CRD not served: {e}")),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}
