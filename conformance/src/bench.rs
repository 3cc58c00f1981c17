//! The reconcile benchmark workload, shared by every backend's benchmark so their figures
//! compare: parents of the Widget kind, each with 4 node types and 3 children per node type
//! (ConfigMap, headless Service, StatefulSet), 12 children per parent.
//!
//! Expected flow: [`BenchWorld::bench`] (a runtime-scenario [`World`] with the
//! [`ClusterOperator`]: namespace, CRDs, counted store, cache synced), then
//! [`BenchWorld::create_parents`], then [`BenchWorld::converge_all`]: rounds of
//! [`BenchWorld::reconcile_all`], with the workload controller played and the cache settled in
//! between. Only the reconciles are the runtime's work; a benchmark times those and reads the
//! request counts of the counted store.
//!
//! Errors: this is benchmark code; a failing call returns `Err(String)` naming the step.

use std::sync::Arc;
use std::time::Duration;

use operator_runtime_core::builder::{DesiredSet, GroupSpec, OwnedKind, Ownership, config_hash};
use operator_runtime_core::clock::Timestamp;
use operator_runtime_core::counting::{RequestCounts, Verb};
use operator_runtime_core::reconcile::{Context, DynamicOperator, OperatorError, SpecError};
use operator_runtime_core::store::WriteParams;
use operator_runtime_core::{Object, ObjectRef, ObjectStore, TypeRef};
use serde_json::{Value, json};

use crate::runtime::fixture::World;
use crate::support::kinds;

/// The benchmark operator's field manager.
pub const MANAGER: &str = "bench-operator";

/// The node types of every parent, in rollout order.
pub const NODE_TYPES: [&str; 4] = ["controller", "broker", "server", "minion"];

/// The kinds each parent owns.
pub fn owned_kinds() -> [TypeRef; 3] {
    [
        TypeRef::new("v1", "ConfigMap"),
        TypeRef::new("v1", "Service"),
        TypeRef::new("apps/v1", "StatefulSet"),
    ]
}

/// The benchmark's operator: per node type a ConfigMap of 20 settings, a headless Service and
/// a StatefulSet whose pod template carries the ConfigMap's hash; `spec.nodeReplicas.<node>`
/// overrides the default of 3 replicas.
pub struct ClusterOperator {
    ownership: Ownership,
}

impl ClusterOperator {
    /// The operator with field manager `manager`.
    pub fn new(manager: &str) -> Self {
        let mut ownership = Ownership::new(manager);
        for kind in owned_kinds() {
            ownership = ownership.owns_kind(OwnedKind::namespaced(kind));
        }
        Self { ownership }
    }
}

impl DynamicOperator for ClusterOperator {
    fn parent_type(&self) -> TypeRef {
        kinds::widget()
    }

    fn ownership(&self) -> &Ownership {
        &self.ownership
    }

    /// `desired` reads the parent's spec and name only, and `status` is the default.
    fn is_pure(&self) -> bool {
        true
    }

    fn desired(
        &self,
        parent: &Object,
        _ctx: &Context<'_>,
        set: &mut DesiredSet,
    ) -> std::result::Result<(), OperatorError> {
        let replicas = parent
            .spec()
            .and_then(|s| s.get("nodeReplicas"))
            .cloned()
            .unwrap_or(json!({}));
        for node in NODE_TYPES {
            set.declare(GroupSpec::ordered(node).component_label(node))
                .map_err(|e| SpecError::new("spec", e.to_string()))?;
        }
        let [cm_kind, svc_kind, sts_kind] = owned_kinds();
        for node in NODE_TYPES {
            let name = format!("{}-{node}", parent.name());
            let ns = parent.namespace();
            let config: serde_json::Map<String, Value> = (0..20)
                .map(|i| {
                    (
                        format!("{node}.setting.{i}"),
                        json!(format!("value-{i}-{}", "x".repeat(40))),
                    )
                })
                .collect();
            let cm = Object::new(&cm_kind, ns, &name).with("data", Value::Object(config));
            let hash = config_hash(&cm);
            let labels = json!({"app": name});
            let svc = Object::new(&svc_kind, ns, &name).with(
                "spec",
                json!({"clusterIP": "None", "selector": labels, "ports": [{"name": "http", "port": 8080}]}),
            );
            let sts = Object::new(&sts_kind, ns, &name).with(
                "spec",
                json!({"replicas": replicas.get(node).cloned().unwrap_or(json!(3)), "serviceName": name,
                    "selector": {"matchLabels": labels},
                    "template": {"metadata": {"labels": labels, "annotations": {"config-hash": hash}},
                        "spec": {"containers": [{"name": node, "image": "apache/pinot:1.2.0", "ports": [{"containerPort": 8080}]}]}}}),
            );
            for child in [cm, svc, sts] {
                set.add(node, child)
                    .map_err(|e| SpecError::new("spec", e.to_string()))?;
            }
        }
        Ok(())
    }
}

/// What one benchmark phase cost.
#[derive(Clone, Debug, Default)]
pub struct Phase {
    /// Time spent in reconciles.
    pub elapsed: Duration,
    /// CPU time this thread spent in reconciles (Linux `/proc/thread-self/schedstat`; zero
    /// elsewhere): on a loaded machine, a steadier figure than the wall-clock `elapsed`.
    pub cpu: Duration,
    /// Reconcile rounds over every parent.
    pub rounds: usize,
    /// Time and writes of each round, in order.
    pub per_round: Vec<(Duration, usize)>,
    /// Writes the reconciles reported.
    pub writes: usize,
    /// Backend requests of the runtime (reconciler and cache).
    pub requests: RequestCounts,
}

/// A runtime-scenario world reconciling the benchmark's workload.
pub type BenchWorld = World<ClusterOperator>;

impl World<ClusterOperator> {
    /// The world of benchmark `name`: its own namespace (as [`crate::support::Ctx::new`]), the
    /// CRDs, the cache synced.
    pub async fn bench(store: Arc<dyn ObjectStore>, name: &str) -> Result<Self, String> {
        World::with_operator(store, name, ClusterOperator::new(MANAGER), MANAGER).await
    }

    /// The key of parent `i`.
    pub fn parent_key(&self, i: usize) -> ObjectRef {
        ObjectRef::namespaced(kinds::widget(), &self.ns, format!("dc-{i:04}"))
    }

    /// Creates parents `0..parents` with an empty spec, straight into the store.
    pub async fn create_parents(&self, parents: usize) -> Result<Vec<Arc<Object>>, String> {
        let mut created = Vec::with_capacity(parents);
        for i in 0..parents {
            let key = self.parent_key(i);
            created.push(self.create(&self.widget_with_spec(&key.name, json!({}))).await?);
        }
        Ok(created)
    }

    fn widget_with_spec(&self, name: &str, spec: Value) -> Object {
        Object::new(&kinds::widget(), Some(&self.ns), name).with("spec", spec)
    }

    /// The children the operator wants for `parents`, as the reconciler would write them.
    pub fn desired_children(&self, parents: &[Arc<Object>]) -> Result<Vec<Arc<Object>>, String> {
        let operator = self.reconciler.operator();
        let mut children = Vec::new();
        for parent in parents {
            let mut set = DesiredSet::new(parent, operator.ownership()).map_err(|e| e.to_string())?;
            let context = Context::new(self.reconciler.cache(), parent, Timestamp::UNIX_EPOCH);
            operator
                .desired(parent, &context, &mut set)
                .map_err(|e| e.to_string())?;
            children.extend(set.children().map(|c| Arc::clone(&c.object)));
        }
        Ok(children)
    }

    /// Reconciles parents `0..parents` once each, in order; returns the writes they made.
    pub async fn reconcile_all(&self, parents: usize) -> Result<usize, String> {
        let mut writes = 0;
        for i in 0..parents {
            let report = self
                .reconciler
                .reconcile(&self.parent_key(i))
                .await
                .map_err(|e| format!("reconcile dc-{i:04}: {e}"))?;
            writes += report.child_writes + usize::from(report.status_written) + usize::from(report.finalizer_written);
        }
        Ok(writes)
    }

    /// Reconciles every parent in rounds until a round writes nothing (at most 10 rounds),
    /// playing the StatefulSet controller and settling the cache between rounds. The phase's
    /// time is the reconciles' alone (not the simulated controller, not the settling); its
    /// rounds include the last, write-free one.
    pub async fn converge_all(&self, parents: usize) -> Result<Phase, String> {
        let before = self.counted.snapshot();
        let mut phase = Phase::default();
        loop {
            phase.rounds += 1;
            let (t, cpu) = (std::time::Instant::now(), thread_cpu());
            let writes = self.reconcile_all(parents).await?;
            phase.elapsed += t.elapsed();
            phase.per_round.push((t.elapsed(), writes));
            phase.cpu += thread_cpu().saturating_sub(cpu);
            phase.writes += writes;
            self.mark_workloads_ready().await?;
            self.settle().await?;
            if writes == 0 || phase.rounds > 10 {
                phase.requests = self.counted.snapshot().since(&before);
                return Ok(phase);
            }
        }
    }

    /// One reconcile of every parent (a resync), measured.
    pub async fn resync_all(&self, parents: usize) -> Result<Phase, String> {
        let before = self.counted.snapshot();
        let (t, cpu) = (std::time::Instant::now(), thread_cpu());
        let writes = self.reconcile_all(parents).await?;
        let elapsed = t.elapsed();
        Ok(Phase {
            elapsed,
            cpu: thread_cpu().saturating_sub(cpu),
            rounds: 1,
            per_round: vec![(elapsed, writes)],
            writes,
            requests: self.counted.snapshot().since(&before),
        })
    }

    /// Sets `spec.nodeReplicas.broker = 5` on every parent, straight into the store.
    pub async fn change_every_spec(&self, parents: usize) -> Result<(), String> {
        for i in 0..parents {
            let key = self.parent_key(i);
            let current = self.get(&key).await?.ok_or_else(|| format!("{key} is gone"))?;
            let mut p = (*current).clone();
            p.body.insert("spec".into(), json!({"nodeReplicas": {"broker": 5}}));
            self.raw
                .replace(&p, &WriteParams::default())
                .await
                .map_err(|e| format!("spec change {key}: {e}"))?;
        }
        Ok(())
    }
}

/// CPU time the calling thread has run (`/proc/thread-self/schedstat`, nanoseconds on the
/// CPU); zero where that file does not exist. Benchmarks on a current-thread runtime read it
/// around a phase to get its CPU time.
pub fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map(Duration::from_nanos)
        .unwrap_or_default()
}

/// Prints one line of request counts.
pub fn print_counts(label: &str, c: &RequestCounts) {
    println!(
        "{label:<34} requests {:>7}  writes {:>7}  (apply {:>6}, replace {:>5}, status {:>5}, reads {:>4}, watches {:>3})",
        c.total(),
        c.writes(),
        c.verb(Verb::Patch),
        c.verb(Verb::Replace),
        c.verb(Verb::ReplaceStatus),
        c.reads(),
        c.verb(Verb::Watch),
    );
}
