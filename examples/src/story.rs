//! The DataCluster story on the memory backend, through the real controller runner:
//! install, converge, scale, config change, ordered upgrade, manual drift, node type removal,
//! deletion. Each step checks its expected state; the first that is not reached ends the story
//! with an error.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use operator_runtime_core::cache::{Cache, CacheConfig};
use operator_runtime_core::clock::{Clock, Timestamp};
use operator_runtime_core::controller::{Controller, ControllerConfig};
use operator_runtime_core::counting::{CountingStore, RequestCounts};
use operator_runtime_core::events::MemoryRecorder;
use operator_runtime_core::metrics::Metrics;
use operator_runtime_core::reconcile::{ReconcileError, Reconciler, ReconcilerConfig};
use operator_runtime_core::store::{DeleteParams, ListParams, Patch, PatchParams, WriteParams};
use operator_runtime_core::{Action, Object, ObjectRef, ObjectStore, ObjectStoreExt, TypeRef};
use operator_runtime_memory::MemoryStore;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::crd::DataCluster;
use crate::operator::{DataClusterOperator, OPERATOR_NAME, data_cluster_type};
use operator_runtime_memory::workloads::WorkloadSimulator;

/// Namespace of the story.
pub const NAMESPACE: &str = "demo";
/// The DataCluster's name.
pub const CLUSTER: &str = "pinot";

/// A clock that follows tokio's (virtual, when paused) clock from a fixed epoch.
pub struct TokioClock {
    start: Instant,
    epoch: Timestamp,
}

impl TokioClock {
    /// Starts now at `epoch`.
    pub fn new(epoch: Timestamp) -> Self {
        Self {
            start: Instant::now(),
            epoch,
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Timestamp {
        let elapsed = k8s_openapi::jiff::SignedDuration::try_from(self.start.elapsed()).unwrap_or_default();
        self.epoch.checked_add(elapsed).unwrap_or(self.epoch)
    }
}

/// Where the story writes its log.
pub type Log = Arc<dyn Fn(&str) + Send + Sync>;

/// A step that did not reach its expected state.
#[derive(Debug, thiserror::Error)]
#[error("step {step:?} failed: {why}")]
pub struct StoryError {
    /// The step.
    pub step: String,
    /// What was expected and what was seen.
    pub why: String,
}

/// Totals printed at the end.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Steps that reached their expected state.
    pub steps: usize,
    /// Reconciles run.
    pub reconciles: u64,
    /// Requests the operator sent to the backend, by verb and kind.
    pub requests: RequestCounts,
    /// Objects left in the namespace at the end, per kind.
    pub objects: Vec<(String, usize)>,
    /// Virtual time the story took.
    pub virtual_time: Duration,
    /// The runner's and the reconciler's metrics (what `/metrics` would serve).
    pub metrics: Metrics,
}

impl Summary {
    /// Child writes skipped because the live object already matched (hash and fields).
    pub fn writes_skipped(&self) -> u64 {
        owned_kinds().iter().map(|k| self.metrics.writes_skipped(&k.kind)).sum()
    }
}

struct Ctx {
    reconciler: Reconciler<DataClusterOperator>,
    events: MemoryRecorder,
    log: Log,
    start: Instant,
}

fn owned_kinds() -> Vec<TypeRef> {
    [
        "v1/ConfigMap",
        "v1/Service",
        "apps/v1/StatefulSet",
        "apps/v1/Deployment",
    ]
    .iter()
    .map(|s| {
        let (av, kind) = s.rsplit_once('/').unwrap_or(("v1", s));
        TypeRef::new(av, kind)
    })
    .collect()
}

async fn reconcile(parent: Arc<Object>, ctx: Arc<Ctx>) -> Result<Action, ReconcileError> {
    let result = ctx.reconciler.reconcile(&parent.object_ref()).await;
    let events = ctx.events.take();
    let t = ctx.start.elapsed().as_secs();
    if let Ok(report) = &result
        && let Some(plan) = &report.plan
        && (report.child_writes > 0 || !events.is_empty() || report.status_written)
    {
        let mut out = format!("[t={t:>4}s] reconcile {}\n", parent.object_ref());
        for item in plan.items.iter().filter(|i| i.action.verb() != "unchanged") {
            let _ = writeln!(
                out,
                "    plan: {} {} {}",
                item.action.verb(),
                item.key.type_ref.kind,
                item.key.name
            );
            if let operator_runtime_core::plan::Action::Update { changes, .. } = &item.action {
                for c in changes {
                    let _ = writeln!(out, "          {c}");
                }
            }
        }
        for e in &events {
            let _ = writeln!(
                out,
                "    event: {:<7} {:<14} {}",
                e.event.type_.as_str(),
                e.event.reason,
                e.event.note
            );
        }
        let conds: Vec<String> = report
            .conditions
            .iter()
            .map(|(t, s, r, _)| format!("{t}={}({r})", if *s { "True" } else { "False" }))
            .collect();
        let _ = write!(out, "    status: {}", conds.join(" "));
        (ctx.log)(&out);
    } else if !events.is_empty() {
        let mut out = format!("[t={t:>4}s] reconcile {}\n", parent.object_ref());
        for e in &events {
            let _ = writeln!(
                out,
                "    event: {:<7} {:<14} {}",
                e.event.type_.as_str(),
                e.event.reason,
                e.event.note
            );
        }
        (ctx.log)(out.trim_end());
    }
    result.map(|r| r.action.unwrap_or_else(Action::await_change))
}

/// The story's world: the raw store (for "other actors"), the operator's counting store.
struct World {
    raw: MemoryStore,
    counted: Arc<CountingStore<MemoryStore>>,
    log: Log,
    start: Instant,
}

impl World {
    fn key(&self, kind: &TypeRef, name: &str) -> ObjectRef {
        ObjectRef::namespaced(kind.clone(), NAMESPACE, name)
    }

    async fn get(&self, kind: &TypeRef, name: &str) -> Option<Arc<Object>> {
        self.raw.get_opt(&self.key(kind, name)).await.ok().flatten()
    }

    /// Polls `check` once per virtual second until it returns Ok or `deadline` passes.
    async fn expect<F, Fut>(&self, step: &str, deadline: Duration, mut check: F) -> Result<(), StoryError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<(), String>>,
    {
        let until = Instant::now() + deadline;
        loop {
            match check().await {
                Ok(()) => {
                    (self.log)(&format!("[t={:>4}s] ✔ {step}\n", self.start.elapsed().as_secs()));
                    return Ok(());
                }
                Err(why) if Instant::now() >= until => {
                    return Err(StoryError {
                        step: step.to_owned(),
                        why,
                    });
                }
                Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
            }
        }
    }

    async fn cluster(&self) -> Option<Arc<Object>> {
        self.get(&data_cluster_type(), CLUSTER).await
    }

    async fn edit_spec(&self, step: &str, edit: impl Fn(&mut Value)) -> Result<(), StoryError> {
        let fail = |why: String| StoryError {
            step: step.to_owned(),
            why,
        };
        let current = self.cluster().await.ok_or_else(|| fail("DataCluster missing".into()))?;
        let mut updated = (*current).clone();
        if let Some(spec) = updated.body.get_mut("spec") {
            edit(spec);
        }
        self.raw
            .replace(&updated, &WriteParams::default())
            .await
            .map_err(|e| fail(e.to_string()))?;
        Ok(())
    }

    async fn ready(&self) -> Result<(), String> {
        let dc = self.cluster().await.ok_or("DataCluster missing")?;
        let status = dc.status().cloned().unwrap_or_default();
        let ready = status["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Ready" && c["status"] == "True");
        let observed = status["observedGeneration"] == json!(dc.metadata.generation);
        if ready && observed {
            Ok(())
        } else {
            Err(format!(
                "not Ready at generation {:?}: {status}",
                dc.metadata.generation
            ))
        }
    }
}

fn sts() -> TypeRef {
    TypeRef::new("apps/v1", "StatefulSet")
}
fn deploy() -> TypeRef {
    TypeRef::new("apps/v1", "Deployment")
}
fn cm() -> TypeRef {
    TypeRef::new("v1", "ConfigMap")
}
fn svc() -> TypeRef {
    TypeRef::new("v1", "Service")
}

/// The DataCluster the story installs.
pub fn sample_cluster() -> Result<Object, serde_json::Error> {
    let value = json!({
        "apiVersion": "datainfra.io/v1alpha1", "kind": "DataCluster",
        "metadata": {"name": CLUSTER, "namespace": NAMESPACE},
        "spec": {
            "image": "apache/pinot:1.2.0",
            "rolloutOrder": ["controller", "broker", "server"],
            "nodes": [
                {"name": "controller", "kind": "StatefulSet", "replicas": 1, "ports": [9000], "storage": "1Gi",
                 "config": {"controller.port": "9000"}},
                {"name": "broker", "kind": "Deployment", "replicas": 2, "ports": [8099], "config": {"pinot.broker.timeoutMs": "10000"}},
                {"name": "server", "kind": "StatefulSet", "replicas": 3, "ports": [8098], "storage": "10Gi",
                 "config": {"pinot.server.instance.dataDir": "/var/pinot/data"}},
                {"name": "minion", "kind": "Deployment", "replicas": 1, "config": {}}
            ]
        }
    });
    Object::from_value(value).map_err(|e| serde_json::Error::io(std::io::Error::other(e.to_string())))
}

/// Runs the whole story; call it inside a paused tokio runtime (`start_paused`).
pub async fn run_story(log: Log) -> Result<Summary, StoryError> {
    let setup = |why: String| StoryError {
        step: "setup".into(),
        why,
    };
    let start = Instant::now();
    let clock: Arc<dyn Clock> = Arc::new(TokioClock::new(
        Timestamp::from_second(1_767_225_600).map_err(|e| setup(e.to_string()))?,
    ));
    let raw = MemoryStore::builder().clock(Arc::clone(&clock)).build();
    let crd = Object::from_typed(&<DataCluster as kube::CustomResourceExt>::crd()).map_err(|e| setup(e.to_string()))?;
    let p = WriteParams::default();
    raw.create(&crd, &p).await.map_err(|e| setup(e.to_string()))?;
    raw.create(&Object::new(&TypeRef::new("v1", "Namespace"), None, NAMESPACE), &p)
        .await
        .map_err(|e| setup(e.to_string()))?;

    let counted = Arc::new(CountingStore::new(raw.clone()));
    let cache = Cache::new(Arc::clone(&counted), CacheConfig::default());
    let events = MemoryRecorder::new();
    let metrics = Metrics::new();
    let reconciler = Reconciler::new(
        counted.clone(),
        cache.clone(),
        Arc::new(events.clone()),
        clock,
        Arc::new(DataClusterOperator::default()),
        ReconcilerConfig::new(OPERATOR_NAME),
    )
    .with_metrics(metrics.clone());
    reconciler.track().map_err(|e| setup(e.to_string()))?;
    let mut controller = Controller::new(Arc::new(cache.clone()), data_cluster_type())
        .with_config(ControllerConfig::default().with_seed(7))
        .with_metrics(metrics.clone());
    for kind in owned_kinds() {
        controller = controller.owns(kind);
    }
    let ctx = Arc::new(Ctx {
        reconciler,
        events,
        log: Arc::clone(&log),
        start,
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let runner = tokio::spawn(controller.run(reconcile, ctx, async {
        let _ = stopped.await;
    }));
    let simulator = tokio::spawn(WorkloadSimulator::new(raw.clone(), Duration::from_secs(3)).run());

    let world = World {
        raw,
        counted,
        log: Arc::clone(&log),
        start,
    };
    let result = story_steps(&world).await;
    let _ = stop.send(());
    simulator.abort();
    let summary = runner
        .await
        .map_err(|e| setup(e.to_string()))?
        .map_err(|e| setup(e.to_string()))?;
    let steps = result?;
    let mut objects = Vec::new();
    for kind in [data_cluster_type(), cm(), svc(), sts(), deploy()] {
        let n = world
            .raw
            .list_all(&kind, &ListParams::in_namespace(NAMESPACE))
            .await
            .map(|l| l.items.len())
            .unwrap_or(0);
        objects.push((kind.kind.clone(), n));
    }
    Ok(Summary {
        steps,
        reconciles: summary.succeeded + summary.failed,
        requests: world.counted.snapshot(),
        objects,
        virtual_time: start.elapsed(),
        metrics,
    })
}

async fn story_steps(w: &World) -> Result<usize, StoryError> {
    let minute = Duration::from_secs(60);
    let mut steps = 0;
    let step = |name: &str| (w.log)(&format!("\n=== {name}"));

    step("1. install a DataCluster with 4 node types (controller, broker, server, minion)");
    let dc = sample_cluster().map_err(|e| StoryError {
        step: "install".into(),
        why: e.to_string(),
    })?;
    w.raw
        .create(&dc, &WriteParams::default())
        .await
        .map_err(|e| StoryError {
            step: "install".into(),
            why: e.to_string(),
        })?;
    w.expect(
        "all 12 children exist and the DataCluster is Ready",
        3 * minute,
        || async {
            for node in ["controller", "broker", "server", "minion"] {
                let name = format!("{CLUSTER}-{node}");
                w.get(&cm(), &format!("{name}-config"))
                    .await
                    .ok_or(format!("ConfigMap {name}-config missing"))?;
                w.get(&svc(), &name).await.ok_or(format!("Service {name} missing"))?;
            }
            w.ready().await
        },
    )
    .await?;
    steps += 1;

    step("2. scale the server node type from 3 to 5 replicas");
    w.edit_spec("scale", |s| s["nodes"][2]["replicas"] = json!(5)).await?;
    w.expect(
        "StatefulSet pinot-server has 5 replicas and the cluster is Ready",
        3 * minute,
        || async {
            let s = w.get(&sts(), "pinot-server").await.ok_or("StatefulSet missing")?;
            if s.body["spec"]["replicas"] != 5 {
                return Err(format!("replicas {}", s.body["spec"]["replicas"]));
            }
            w.ready().await
        },
    )
    .await?;
    steps += 1;

    step("3. change the broker's config: its ConfigMap changes and its pods roll (new config hash)");
    let before = hash_of(w, &deploy(), "pinot-broker").await;
    let server_before = hash_of(w, &sts(), "pinot-server").await;
    w.edit_spec("config", |s| {
        s["nodes"][1]["config"]["pinot.broker.timeoutMs"] = json!("30000")
    })
    .await?;
    w.expect(
        "broker pod template has a new config hash, server untouched, Ready",
        3 * minute,
        || async {
            let now = hash_of(w, &deploy(), "pinot-broker").await;
            if now == before {
                return Err("broker config hash unchanged".into());
            }
            if hash_of(w, &sts(), "pinot-server").await != server_before {
                return Err("server was rolled too".into());
            }
            w.ready().await
        },
    )
    .await?;
    steps += 1;

    step("4. upgrade the image: node types roll one after another in rolloutOrder");
    let order: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    w.edit_spec("upgrade", |s| s["image"] = json!("apache/pinot:1.3.0"))
        .await?;
    w.expect(
        "every workload runs 1.3.0, in the order controller, broker, server, minion",
        5 * minute,
        || {
            let order = Arc::clone(&order);
            async move {
                for (kind, node) in [
                    (sts(), "controller"),
                    (deploy(), "broker"),
                    (sts(), "server"),
                    (deploy(), "minion"),
                ] {
                    let o = w
                        .get(&kind, &format!("{CLUSTER}-{node}"))
                        .await
                        .ok_or("workload missing")?;
                    let image = o.body["spec"]["template"]["spec"]["containers"][0]["image"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    let mut seen = order.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    if image.ends_with("1.3.0") && !seen.contains(&node.to_owned()) {
                        seen.push(node.to_owned());
                    }
                }
                let seen = order.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
                if seen.len() < 4 {
                    return Err(format!("upgraded so far: {seen:?}"));
                }
                if seen != ["controller", "broker", "server", "minion"] {
                    return Err(format!("wrong rollout order {seen:?}"));
                }
                w.ready().await
            }
        },
    )
    .await?;
    steps += 1;

    step("5. someone edits StatefulSet pinot-server by hand (replicas 5 -> 1): the operator repairs it");
    let patch = Patch::Merge(json!({"spec": {"replicas": 1}}));
    let params = PatchParams {
        field_manager: Some("kubectl-edit".into()),
        ..PatchParams::default()
    };
    w.raw
        .patch(&w.key(&sts(), "pinot-server"), &patch, &params)
        .await
        .map_err(|e| StoryError {
            step: "drift".into(),
            why: e.to_string(),
        })?;
    w.expect("pinot-server is back to 5 replicas", minute, || async {
        let s = w.get(&sts(), "pinot-server").await.ok_or("StatefulSet missing")?;
        if s.body["spec"]["replicas"] == 5 {
            Ok(())
        } else {
            Err(format!("replicas {}", s.body["spec"]["replicas"]))
        }
    })
    .await?;
    steps += 1;

    step("6. remove the minion node type: exactly its ConfigMap, Service and Deployment are deleted");
    w.edit_spec("remove node", |s| {
        if let Some(nodes) = s["nodes"].as_array_mut() {
            nodes.retain(|n| n["name"] != "minion");
        }
    })
    .await?;
    w.expect("minion children gone, the others kept, Ready", 2 * minute, || async {
        if w.get(&deploy(), "pinot-minion").await.is_some()
            || w.get(&svc(), "pinot-minion").await.is_some()
            || w.get(&cm(), "pinot-minion-config").await.is_some()
        {
            return Err("minion children still exist".into());
        }
        w.get(&sts(), "pinot-server").await.ok_or("server deleted too")?;
        w.ready().await
    })
    .await?;
    steps += 1;

    step("7. delete the DataCluster: cleanup runs, the finalizer is removed, everything is gone");
    w.raw
        .delete(&w.key(&data_cluster_type(), CLUSTER), &DeleteParams::default())
        .await
        .map_err(|e| StoryError {
            step: "delete".into(),
            why: e.to_string(),
        })?;
    w.expect("DataCluster and all its children are gone", 2 * minute, || async {
        if w.cluster().await.is_some() {
            return Err("DataCluster still exists".into());
        }
        for kind in [cm(), svc(), sts(), deploy()] {
            let left = w
                .raw
                .list_all(&kind, &ListParams::in_namespace(NAMESPACE))
                .await
                .map_err(|e| e.to_string())?;
            if !left.items.is_empty() {
                return Err(format!("{} {} left", left.items.len(), kind.kind));
            }
        }
        Ok(())
    })
    .await?;
    steps += 1;
    Ok(steps)
}

async fn hash_of(w: &World, kind: &TypeRef, name: &str) -> Option<String> {
    let o = w.get(kind, name).await?;
    o.body["spec"]["template"]["metadata"]["annotations"][crate::operator::CONFIG_HASH_ANNOTATION]
        .as_str()
        .map(str::to_owned)
}

/// Renders the summary table.
pub fn render_summary(s: &Summary) -> String {
    let mut out = String::from("\n=== summary\n");
    let _ = writeln!(out, "  steps passed        {}", s.steps);
    let _ = writeln!(out, "  reconciles          {}", s.reconciles);
    let _ = writeln!(
        out,
        "  backend requests    {} (reads {}, writes {})",
        s.requests.total(),
        s.requests.reads(),
        s.requests.writes()
    );
    let _ = writeln!(
        out,
        "  writes skipped      {} (child already matched its desired hash and fields)",
        s.writes_skipped()
    );
    let _ = writeln!(
        out,
        "  reconciles reused   {} the desired set, {} everything (a pure operator's)",
        s.metrics.reconciles_reused("desired"),
        s.metrics.reconciles_reused("everything")
    );
    let _ = writeln!(out, "  virtual time        {}s", s.virtual_time.as_secs());
    let objects: Vec<String> = s.objects.iter().map(|(k, n)| format!("{k}={n}")).collect();
    let _ = writeln!(out, "  objects left        {}", objects.join(" "));
    let _ = writeln!(out, "  requests by verb/kind:");
    for (verb, kind, n) in s.requests.iter() {
        let _ = writeln!(out, "    {verb:<14} {:<40} {n}", kind.to_string());
    }
    out
}
