//! The runtime scenarios' fixture: a small test operator over the suite's `Widget` custom
//! resource, the driver wired to a [`CountingStore`] and a [`Cache`], and helpers that wait
//! for the cache and for the workload controllers (or play them where none run).

use std::sync::Arc;
use std::time::Duration;

use operator_runtime_core::builder::{DesiredSet, GroupSpec, OwnedKind, Ownership};
use operator_runtime_core::cache::{Cache, CacheConfig};
use operator_runtime_core::clock::ManualClock;
use operator_runtime_core::counting::{CountingStore, RequestCounts};
use operator_runtime_core::events::MemoryRecorder;
use operator_runtime_core::reconcile::{
    Context, DynamicOperator, OperatorError, ReconcileReport, Reconciler, ReconcilerConfig, SpecError,
};
use operator_runtime_core::store::{ListParams, WriteParams};
use operator_runtime_core::{Object, ObjectRef, ObjectStore, ObjectStoreExt, TypeRef};
use serde_json::{Value, json};

use crate::support::ctx::Ctx;
use crate::support::kinds;
use crate::support::poll::{CONTROLLER_DEADLINE, eventually};

/// The test operator's manager name.
pub const MANAGER: &str = "widget-operator";

/// `v1 ConfigMap`.
pub fn config_map() -> TypeRef {
    TypeRef::new("v1", "ConfigMap")
}

/// `apps/v1 Deployment`.
pub fn deployment() -> TypeRef {
    TypeRef::new("apps/v1", "Deployment")
}

/// Widget spec -> per node a ConfigMap (the node's config) and a Deployment whose pod template
/// carries the ConfigMap's hash; node types roll out in spec order.
pub struct WidgetOperator {
    ownership: Ownership,
}

impl Default for WidgetOperator {
    fn default() -> Self {
        let ownership = Ownership::new(MANAGER)
            .owns_kind(OwnedKind::namespaced(config_map()))
            .owns_kind(OwnedKind::namespaced(deployment()));
        Self { ownership }
    }
}

impl DynamicOperator for WidgetOperator {
    fn parent_type(&self) -> TypeRef {
        kinds::widget()
    }

    fn ownership(&self) -> &Ownership {
        &self.ownership
    }

    fn desired(
        &self,
        parent: &Object,
        _ctx: &Context<'_>,
        set: &mut DesiredSet,
    ) -> std::result::Result<(), OperatorError> {
        let nodes = parent
            .spec()
            .and_then(|s| s.get("nodes"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (i, node) in nodes.iter().enumerate() {
            let name = node
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| SpecError::new(format!("spec.nodes[{i}].name"), "required"))?;
            set.declare(GroupSpec::ordered(name).component_label(name))
                .map_err(|e| SpecError::new(format!("spec.nodes[{i}].name"), e.to_string()))?;
        }
        for node in &nodes {
            let name = node.get("name").and_then(Value::as_str).unwrap_or_default();
            let child = format!("{}-{name}", parent.name());
            let cm = Object::new(&config_map(), parent.namespace(), &child)
                .with("data", node.get("config").cloned().unwrap_or(json!({})));
            let config_hash = operator_runtime_core::builder::config_hash(&cm);
            let mut spec = json!({
                "selector": {"matchLabels": {"widget": child}},
                "template": {
                    "metadata": {"labels": {"widget": child}, "annotations": {"widget.io/config-hash": config_hash}},
                    "spec": {"containers": [{"name": "main", "image": "registry.local/widget:1"}]}
                }
            });
            if let Some(replicas) = node.get("replicas") {
                spec["replicas"] = replicas.clone();
            }
            let deploy = Object::new(&deployment(), parent.namespace(), &child).with("spec", spec);
            let field = format!("spec.nodes[{name}]");
            set.add(name, cm)
                .map_err(|e| SpecError::new(field.clone(), e.to_string()))?;
            set.add(name, deploy)
                .map_err(|e| SpecError::new(field, e.to_string()))?;
        }
        Ok(())
    }
}

/// One scenario's world: namespace, counting store, cache, recorder and driver, for the
/// [`WidgetOperator`] or (with [`World::with_operator`]) any operator of the Widget kind.
pub struct World<O: DynamicOperator = WidgetOperator> {
    /// The uncounted store (the test's own reads and the "other actors'" writes).
    pub raw: Arc<dyn ObjectStore>,
    /// The store the runtime uses, counting its requests.
    pub counted: Arc<CountingStore<Arc<dyn ObjectStore>>>,
    /// The runtime's cache.
    pub cache: Cache,
    /// Events recorded by the runtime.
    pub events: MemoryRecorder,
    /// The driver.
    pub reconciler: Reconciler<O>,
    /// The scenario's namespace.
    pub ns: String,
}

impl World {
    /// [`World::with_operator`] for the [`WidgetOperator`].
    pub async fn new(store: Arc<dyn ObjectStore>, scenario: &str) -> Result<Self, String> {
        Self::with_operator(store, scenario, WidgetOperator::default(), MANAGER).await
    }
}

impl<O: DynamicOperator> World<O> {
    /// Creates the namespace, installs the CRDs, starts the cache for `operator` (field manager
    /// `manager`) and waits until it synced.
    pub async fn with_operator(
        store: Arc<dyn ObjectStore>,
        scenario: &str,
        operator: O,
        manager: &str,
    ) -> Result<Self, String> {
        let ns = {
            let cx = Ctx::new(&*store, scenario).await?;
            cx.install_crds().await?;
            cx.ns.clone()
        };
        let counted = Arc::new(CountingStore::new(Arc::clone(&store)));
        let cache = Cache::new(Arc::clone(&counted), CacheConfig::default());
        let events = MemoryRecorder::new();
        let reconciler = Reconciler::new(
            counted.clone(),
            cache.clone(),
            Arc::new(events.clone()),
            Arc::new(ManualClock::at_epoch()),
            Arc::new(operator),
            ReconcilerConfig::new(manager),
        );
        reconciler.track().map_err(|e| format!("tracking kinds: {e}"))?;
        tokio::time::timeout(CONTROLLER_DEADLINE, cache.wait_all_synced())
            .await
            .map_err(|_| "cache did not sync".to_owned())?
            .map_err(|e| format!("cache: {e}"))?;
        Ok(Self {
            raw: store,
            counted,
            cache,
            events,
            reconciler,
            ns,
        })
    }

    /// A Widget with the given nodes.
    pub fn widget(&self, name: &str, nodes: Value) -> Object {
        Object::new(&kinds::widget(), Some(&self.ns), name).with("spec", json!({"nodes": nodes}))
    }

    /// A reference in the scenario's namespace.
    pub fn key(&self, kind: &TypeRef, name: &str) -> ObjectRef {
        ObjectRef::namespaced(kind.clone(), &self.ns, name)
    }

    /// Creates an object through the raw store.
    pub async fn create(&self, object: &Object) -> Result<Arc<Object>, String> {
        self.raw
            .create(object, &WriteParams::default())
            .await
            .map_err(|e| format!("create {}: {e}", object.object_ref()))
    }

    /// Reads an object through the raw store (None when missing).
    pub async fn get(&self, key: &ObjectRef) -> Result<Option<Arc<Object>>, String> {
        self.raw.get_opt(key).await.map_err(|e| format!("get {key}: {e}"))
    }

    /// Waits until the cache holds exactly what the store holds for the watched kinds in the
    /// scenario's namespace (same names, same resourceVersions).
    ///
    /// The deadline ([`CONTROLLER_DEADLINE`]) runs from the last probe that saw the cache make
    /// progress (fewer objects differing), not from the start: a cache that is still applying
    /// a large backlog (a benchmark's 150,000 queued events on a loaded machine) is not stuck.
    pub async fn settle(&self) -> Result<(), String> {
        let mut best = usize::MAX;
        let mut since = tokio::time::Instant::now();
        loop {
            let (differing, why) = self.cache_lag().await?;
            if differing == 0 {
                return Ok(());
            }
            if differing < best {
                best = differing;
                since = tokio::time::Instant::now();
            } else if since.elapsed() >= CONTROLLER_DEADLINE {
                return Err(format!(
                    "cache to catch up with the store: no progress within {CONTROLLER_DEADLINE:?} \
                     ({differing} objects differ; {why})"
                ));
            }
            tokio::time::sleep(SETTLE_INTERVAL).await;
        }
    }

    /// How many objects of watched kinds differ between the store and the cache (by name and
    /// resourceVersion), and the first difference.
    async fn cache_lag(&self) -> Result<(usize, String), String> {
        let mut differing = 0;
        let mut first = String::new();
        for kind in self.reconciler.watched_types() {
            let live = self
                .raw
                .list_all(&kind, &ListParams::in_namespace(&self.ns))
                .await
                .map_err(|e| e.to_string())?;
            let cached = self
                .cache
                .list(&kind, Some(&self.ns), None)
                .map_err(|e| e.to_string())?;
            let version = |o: &Object| (o.name().to_owned(), o.resource_version().map(str::to_owned));
            let live: std::collections::BTreeMap<_, _> = live.items.iter().map(|o| version(o)).collect();
            let cached: std::collections::BTreeMap<_, _> = cached.iter().map(|o| version(o)).collect();
            for (name, rv) in &live {
                if cached.get(name) != Some(rv) {
                    differing += 1;
                    if first.is_empty() {
                        first = format!("{kind} {name}: store {rv:?}, cache {:?}", cached.get(name));
                    }
                }
            }
            for name in cached.keys().filter(|n| !live.contains_key(*n)) {
                differing += 1;
                if first.is_empty() {
                    first = format!("{kind} {name}: cached but not in the store");
                }
            }
        }
        Ok((differing, first))
    }

    /// One reconcile of `name` after the cache caught up.
    pub async fn reconcile(&self, name: &str) -> Result<ReconcileReport, String> {
        self.settle().await?;
        self.reconciler
            .reconcile(&self.key(&kinds::widget(), name))
            .await
            .map_err(|e| format!("reconcile {name}: {e}"))
    }

    /// Reconciles until a reconcile writes nothing (at most `rounds`), marking workloads ready
    /// in between like a workload controller would.
    pub async fn converge(&self, name: &str) -> Result<(), String> {
        for _ in 0..8 {
            let report = self.reconcile(name).await?;
            self.mark_workloads_ready().await?;
            if report.child_writes == 0 && !report.status_written && !report.finalizer_written {
                return Ok(());
            }
        }
        Err(format!("{name} did not converge within 8 reconciles"))
    }

    /// Brings every workload of a watched kind in the namespace to "all replicas updated, ready
    /// and available at its generation". Where the backend runs workload controllers (a real
    /// cluster: [`Capabilities::workload_controllers`]) this waits for them and their pods;
    /// elsewhere it plays them, writing that status itself.
    ///
    /// [`Capabilities::workload_controllers`]: operator_runtime_core::store::Capabilities::workload_controllers
    pub async fn mark_workloads_ready(&self) -> Result<(), String> {
        self.settle().await?;
        if self.raw.capabilities().workload_controllers {
            eventually(
                "workload controllers to report every workload ready",
                CONTROLLER_DEADLINE,
                || async {
                    for w in self.workloads().await? {
                        if !rolled_out(&w) {
                            return Err(format!("{} {}: status {:?}", w.kind, w.name(), w.status()));
                        }
                    }
                    Ok(())
                },
            )
            .await?;
            return self.settle().await;
        }
        for (i, w) in self.workloads().await?.into_iter().enumerate() {
            // A real controller writes at the API server's pace while the operator's cache
            // consumes the watch on its own thread; on a current-thread runtime the cache
            // runs only when this loop yields, and until then holds every replaced version.
            if i % 64 == 63 {
                tokio::task::yield_now().await;
            }
            let replicas = desired_replicas(&w);
            let mut status = json!({"observedGeneration": w.metadata.generation.unwrap_or(0), "replicas": replicas,
                "updatedReplicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas});
            if w.kind == "StatefulSet" {
                status["currentRevision"] = json!("r1");
                status["updateRevision"] = json!("r1");
            }
            if w.status() == Some(&status) {
                continue;
            }
            let mut updated = (*w).clone();
            updated.body.insert("status".into(), status);
            self.raw
                .replace_status(&updated, &WriteParams::default())
                .await
                .map_err(|e| format!("status of {} {}: {e}", w.kind, w.name()))?;
        }
        Ok(())
    }

    /// The Deployments and StatefulSets of watched kinds in the scenario's namespace.
    async fn workloads(&self) -> Result<Vec<Arc<Object>>, String> {
        let mut all = Vec::new();
        let kinds = self
            .reconciler
            .watched_types()
            .into_iter()
            .filter(|k| k.api_version == "apps/v1" && (k.kind == "Deployment" || k.kind == "StatefulSet"));
        for kind in kinds {
            let list = self
                .raw
                .list_all(&kind, &ListParams::in_namespace(&self.ns))
                .await
                .map_err(|e| e.to_string())?;
            all.extend(list.items);
        }
        Ok(all)
    }

    /// Requests the runtime sent since `before`.
    pub fn requests_since(&self, before: &RequestCounts) -> RequestCounts {
        self.counted.snapshot().since(before)
    }

    /// Event reasons recorded so far, then cleared.
    pub fn take_reasons(&self) -> Vec<String> {
        self.events.take().into_iter().map(|e| e.event.reason).collect()
    }
}

/// Pause between two probes of [`World::settle`].
const SETTLE_INTERVAL: Duration = Duration::from_millis(100);

/// How long scenario polls may take.
pub const SCENARIO_DEADLINE: Duration = CONTROLLER_DEADLINE;

fn desired_replicas(w: &Object) -> i64 {
    w.spec()
        .and_then(|s| s.get("replicas"))
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

/// What the runtime's readiness needs from a real workload controller: the current generation
/// observed, every replica updated and ready, no old replicas (Deployment) or revisions
/// (StatefulSet) left.
fn rolled_out(w: &Object) -> bool {
    let replicas = json!(desired_replicas(w));
    let Some(status) = w.status() else { return false };
    let observed = status.get("observedGeneration") == Some(&json!(w.metadata.generation.unwrap_or(0)));
    let counts = status.get("updatedReplicas").unwrap_or(&json!(0)) == &replicas
        && status.get("readyReplicas").unwrap_or(&json!(0)) == &replicas
        && status.get("replicas").unwrap_or(&json!(0)) == &replicas;
    let revisions = w.kind != "StatefulSet" || status.get("currentRevision") == status.get("updateRevision");
    observed && counts && revisions
}
