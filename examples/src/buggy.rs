//! Deliberately buggy operators, each next to a correct twin, to show what the simulation
//! (`operator_runtime_memory::simulation`) catches. All of them manage `Greeting` parents
//! (`spec.message`) in the world of [`greeting_world`].
//!
//! | bug | how it shows | caught by |
//! |---|---|---|
//! | [`Bug::StaleReadDuplicate`] | trusts a list that may be served from an earlier revision, creates a child with `generateName` when it sees none | `duplicate-children` |
//! | [`Bug::HotLoopStatus`] | writes a reconcile counter into status: every status write triggers the next reconcile | `hot-loop` (thousands of writes without virtual time passing) |
//! | [`Bug::EdgeTriggered`] | acts only when it sees a new generation (the event), not on the current state: a deleted or edited child, or a failed write, is never repaired | `not-settled` (child never matches) |
//! | [`Bug::FinalizerBeforeCleanup`] | records "cleanup started" on the parent, and on a retry (after a crash or a lost answer) trusts that mark and removes the finalizer without finishing the external cleanup | `external-leak` |
//! | [`Bug::UpgradeRestartCleanup`] | rolls an upgrade out one node type per reconcile (progress in status), remembers in memory which node types it visited, and at the end deletes the children of node types it did not visit: after a restart mid-upgrade, that is the ones visited before the restart | `node-children-kept` (a node type's ConfigMap is gone after a completed upgrade) |
//! | [`Bug::LeaseIgnored`] | waits to win the leader election once, then acts for good: after a partition the Lease went to the other replica, and both act | `write-without-lease` |
//!
//! The twins: a fixed child name read before creating; a status derived from the children;
//! level-triggered (compare with the current state every time); an idempotent cleanup done
//! every time before the finalizer goes; the children to keep derived from the spec (every
//! node type), not from what this process saw; the runner's leader election, which stops
//! reconciling when the renew deadline passes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use operator_runtime_core::builder::{DesiredSet, GroupSpec, OwnedKind, Ownership};
use operator_runtime_core::lease::{LeaderElector, LeaseConfig};
use operator_runtime_core::reconcile::{Context, DynamicOperator, OperatorError, ReconcilerConfig, SpecError};
use operator_runtime_core::store::{KindInfo, ListParams, WriteParams};
use operator_runtime_core::{Action, Object, ObjectRef, ObjectStore, ObjectStoreExt, StoreError, TypeRef};
use operator_runtime_memory::simulation::replica::{LEASE_NAME, ReplicaFuture};
use operator_runtime_memory::simulation::{
    FaultPlan, OperatorUnderTest, ReconcileCtx, ReplicaEnv, Simulation, World, WorldState,
};
use serde_json::{Map, Value, json};

/// The parent kind of every operator here.
pub fn greeting_type() -> TypeRef {
    TypeRef::new("example.io/v1", "Greeting")
}

fn configmap() -> TypeRef {
    TypeRef::new("v1", "ConfigMap")
}

/// Namespace of the greeting world.
pub const NAMESPACE: &str = "greetings";

/// Two Greetings, an edit of the message, every fault class.
pub fn greeting_world() -> World {
    let parent =
        |name: &str| Object::new(&greeting_type(), Some(NAMESPACE), name).with("spec", json!({"message": "hello"}));
    World::new(NAMESPACE)
        .kind(KindInfo {
            type_ref: greeting_type(),
            plural: "greetings".into(),
            namespaced: true,
            status_subresource: true,
        })
        .parent(parent("alpha"))
        .parent(parent("beta"))
        .edit("new message", |spec, n| {
            spec["message"] = json!(format!("hello {}", n % 5))
        })
        .faults(FaultPlan::default())
}

/// The bugs of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {
    /// Stale read, then a duplicate create.
    StaleReadDuplicate,
    /// A status counter that never settles.
    HotLoopStatus,
    /// Acts on the event instead of the current state.
    EdgeTriggered,
    /// Finalizer removed before the external cleanup finished.
    FinalizerBeforeCleanup,
    /// A restart mid-upgrade deletes the children of node types visited before it.
    UpgradeRestartCleanup,
    /// A leader keeps acting after losing its Lease.
    LeaseIgnored,
}

impl Bug {
    /// Every bug, in table order.
    pub const ALL: [Bug; 6] = [
        Self::StaleReadDuplicate,
        Self::HotLoopStatus,
        Self::EdgeTriggered,
        Self::FinalizerBeforeCleanup,
        Self::UpgradeRestartCleanup,
        Self::LeaseIgnored,
    ];

    /// A short name.
    pub fn name(self) -> &'static str {
        match self {
            Self::StaleReadDuplicate => "stale-read duplicate create",
            Self::HotLoopStatus => "status counter hot loop",
            Self::EdgeTriggered => "edge-triggered reconciler",
            Self::FinalizerBeforeCleanup => "finalizer before external cleanup",
            Self::UpgradeRestartCleanup => "mid-upgrade restart cleanup",
            Self::LeaseIgnored => "leader acting without its lease",
        }
    }

    /// The invariant that should catch it.
    pub fn expected_invariant(self) -> &'static str {
        match self {
            Self::StaleReadDuplicate => "duplicate-children",
            Self::HotLoopStatus => "hot-loop",
            Self::EdgeTriggered => "not-settled",
            Self::FinalizerBeforeCleanup => "external-leak",
            Self::UpgradeRestartCleanup => NODE_CHILDREN_KEPT,
            Self::LeaseIgnored => "write-without-lease",
        }
    }

    /// The simulation of the buggy operator (`buggy = true`) or of its correct twin.
    pub fn simulation(self, buggy: bool) -> Simulation {
        let world = match self {
            // Hand edits are off: this operator repairs its children only during an upgrade.
            Self::UpgradeRestartCleanup => greeting_world().hand_edits(false),
            Self::LeaseIgnored => greeting_world().replicas(2).faults(FaultPlan {
                partition: 0.15,
                ..FaultPlan::default()
            }),
            _ => greeting_world(),
        };
        let sim = match self {
            Self::StaleReadDuplicate => {
                Simulation::from_reconcile(greeting_type(), vec![configmap()], move |p, c| run_child(p, c, buggy))
            }
            Self::HotLoopStatus => Simulation::new(move |_| Greeter::new(buggy)),
            Self::EdgeTriggered => {
                Simulation::from_reconcile(greeting_type(), vec![configmap()], move |p, c| edge(p, c, buggy))
            }
            Self::FinalizerBeforeCleanup => {
                Simulation::from_reconcile(greeting_type(), vec![configmap()], move |p, c| {
                    with_external(p, c, buggy)
                })
            }
            Self::UpgradeRestartCleanup => {
                Simulation::from_reconcile(greeting_type(), vec![configmap()], move |p, c| upgrade(p, c, buggy))
            }
            Self::LeaseIgnored => Simulation::with(Arc::new(LeaseHolder { buggy })),
        };
        let sim = sim.world(world);
        match self {
            Self::StaleReadDuplicate => {
                sim.settled("every greeting has its ConfigMap", |w| greetings_written(w, "-run"))
            }
            Self::HotLoopStatus | Self::EdgeTriggered | Self::LeaseIgnored => sim
                .settled("every greeting has its ConfigMap", |w| {
                    greetings_written(w, "-greeting")
                }),
            Self::FinalizerBeforeCleanup => sim,
            Self::UpgradeRestartCleanup => sim.invariant(NODE_CHILDREN_KEPT, node_children_kept).settled(
                "every node type has its ConfigMap",
                |w| {
                    for node in NODE_TYPES {
                        greetings_written(w, &format!("-{node}"))?;
                    }
                    Ok(())
                },
            ),
        }
    }
}

/// Errors of the hand-written reconcilers.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileFailed {
    /// The store failed (retried with backoff).
    #[error(transparent)]
    Store(#[from] StoreError),
}

type Result<T> = std::result::Result<T, ReconcileFailed>;

fn pause_annotation() -> String {
    ReconcilerConfig::new("greeter").pause_annotation
}

fn is_paused(parent: &Object) -> bool {
    parent.annotation(&pause_annotation()) == Some("true")
}

fn message(parent: &Object) -> String {
    parent
        .spec()
        .and_then(|s| s.get("message"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn child_of(parent: &Object, name: &str) -> Object {
    let mut child =
        Object::new(&configmap(), parent.namespace(), name).with("data", json!({"message": message(parent)}));
    child.metadata.owner_references = parent.controller_owner_ref().map(|r| vec![r]);
    child
        .metadata
        .labels
        .get_or_insert_with(Default::default)
        .insert("greeting".into(), parent.name().to_owned());
    child
}

/// Writes `status.observedGeneration` (plus `extra`) when it differs, from a fresh read.
async fn write_observed(ctx: &ReconcileCtx, parent: &Object, extra: Map<String, Value>) -> Result<()> {
    let live = ctx.store.get(&parent.object_ref()).await?;
    let mut status = extra;
    status.insert(
        "observedGeneration".into(),
        json!(live.metadata.generation.unwrap_or(0)),
    );
    let status = Value::Object(status);
    if live.status() == Some(&status) {
        return Ok(());
    }
    let mut updated = (*live).clone();
    updated.body.insert("status".into(), status);
    ctx.store.replace_status(&updated, &WriteParams::default()).await?;
    Ok(())
}

/// Makes the child `name` say the parent's message (create or update), unless paused or the
/// name is taken by an object this parent does not control.
async fn ensure_child(ctx: &ReconcileCtx, parent: &Object, name: &str) -> Result<()> {
    if is_paused(parent) {
        return Ok(());
    }
    let key = ObjectRef::namespaced(configmap(), parent.namespace().unwrap_or_default(), name);
    let desired = child_of(parent, name);
    match ctx.store.get_opt(&key).await? {
        None => match ctx.store.create(&desired, &WriteParams::default()).await {
            Ok(_) | Err(StoreError::AlreadyExists { .. }) => {}
            Err(error) => return Err(error.into()),
        },
        Some(live) if live.is_controlled_by(parent.uid().unwrap_or_default()) => {
            if live.body.get("data") != desired.body.get("data") {
                let mut updated = (*live).clone();
                updated.body.insert("data".into(), desired.body["data"].clone());
                ctx.store.replace(&updated, &WriteParams::default()).await?;
            }
        }
        Some(_) => {} // someone else's object: leave it alone
    }
    Ok(())
}

/// A fresh read of the parent: a cached parent may already be deleted (or replaced by a new
/// one of the same name), and a child created for it would be collected at once, whose
/// deletion queues the parent again: a loop that never lets time pass.
async fn still_current(ctx: &ReconcileCtx, parent: &Object) -> Result<bool> {
    match ctx.store.get_opt(&parent.object_ref()).await? {
        Some(live) => Ok(live.uid() == parent.uid()),
        None => Ok(false),
    }
}

/// Stale-read duplicate create (buggy) or a fixed name read first (twin).
async fn run_child(parent: Arc<Object>, ctx: Arc<ReconcileCtx>, buggy: bool) -> Result<Action> {
    if parent.is_terminating() || !still_current(&ctx, &parent).await? {
        return Ok(Action::await_change());
    }
    if buggy {
        if !is_paused(&parent) {
            let ns = parent.namespace().unwrap_or_default();
            let params = ListParams::in_namespace(ns).labels(format!("greeting={}", parent.name()));
            let listed = ctx.store.list(&configmap(), &params).await?;
            let uid = parent.uid().unwrap_or_default();
            let desired = child_of(&parent, "");
            match listed.items.iter().find(|o| o.is_controlled_by(uid)) {
                None => {
                    let mut child = desired;
                    child.metadata.name = None;
                    child.metadata.generate_name = Some(format!("{}-run-", parent.name()));
                    ctx.store.create(&child, &WriteParams::default()).await?;
                }
                Some(live) if live.body.get("data") != desired.body.get("data") => {
                    let mut updated = (**live).clone();
                    updated.body.insert("data".into(), desired.body["data"].clone());
                    ctx.store.replace(&updated, &WriteParams::default()).await?;
                }
                Some(_) => {}
            }
        }
    } else {
        ensure_child(&ctx, &parent, &format!("{}-run", parent.name())).await?;
    }
    write_observed(&ctx, &parent, Map::new()).await?;
    Ok(Action::await_change())
}

/// Edge-triggered (buggy: acts only on a generation it has not seen) or level-triggered.
async fn edge(parent: Arc<Object>, ctx: Arc<ReconcileCtx>, buggy: bool) -> Result<Action> {
    if parent.is_terminating() || !still_current(&ctx, &parent).await? {
        return Ok(Action::await_change());
    }
    let name = format!("{}-greeting", parent.name());
    if buggy {
        let key = parent.uid().unwrap_or_default().to_owned();
        let generation = json!(parent.metadata.generation.unwrap_or(0));
        let changed = {
            let mut memory = ctx.memory.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            memory.insert(key, generation.clone()) != Some(generation)
        };
        if changed {
            ensure_child(&ctx, &parent, &name).await?;
        }
    } else {
        ensure_child(&ctx, &parent, &name).await?;
    }
    write_observed(&ctx, &parent, Map::new()).await?;
    Ok(Action::await_change())
}

/// The desired state: every live Greeting's ConfigMap `<name><suffix>` exists and says its
/// message (or its name is taken by an object the Greeting does not control). A ConfigMap with
/// a generated name counts too.
fn greetings_written(world: &WorldState, suffix: &str) -> std::result::Result<(), String> {
    for parent in world.parents() {
        if parent.is_terminating() {
            continue;
        }
        let name = format!("{}{suffix}", parent.name());
        let uid = parent.uid().unwrap_or_default();
        let generated = world
            .of_kind(&configmap())
            .iter()
            .find(|c| c.is_controlled_by(uid) && c.metadata.generate_name.is_some());
        let Some(child) = world.get(&configmap(), &name).or(generated) else {
            return Err(format!("ConfigMap {name} is missing"));
        };
        if child.is_controlled_by(parent.uid().unwrap_or_default())
            && child.body["data"]["message"] != json!(message(parent))
        {
            return Err(format!(
                "ConfigMap {name} says {} but the spec says {:?}",
                child.body["data"]["message"],
                message(parent)
            ));
        }
    }
    Ok(())
}

const FINALIZER: &str = "example.io/external-db";
const CLEANUP_STARTED: &str = "example.io/cleanup-started";

/// An operator with an external resource per Greeting (a database), deleted on cleanup.
async fn with_external(parent: Arc<Object>, ctx: Arc<ReconcileCtx>, buggy: bool) -> Result<Action> {
    let uid = parent.uid().unwrap_or_default().to_owned();
    if parent.is_terminating() {
        if !parent.has_finalizer(FINALIZER) {
            return Ok(Action::await_change());
        }
        let mut live = (*ctx.store.get(&parent.object_ref()).await?).clone();
        if buggy && parent.annotation(CLEANUP_STARTED) == Some("true") {
            // BUG: "cleanup started" is taken for "cleanup finished".
        } else {
            if buggy {
                live.metadata
                    .annotations
                    .get_or_insert_with(Default::default)
                    .insert(CLEANUP_STARTED.into(), "true".into());
                live = (*ctx.store.replace(&live, &WriteParams::default()).await?).clone();
            }
            ctx.external.remove(&uid);
        }
        if let Some(finalizers) = live.metadata.finalizers.as_mut() {
            finalizers.retain(|f| f != FINALIZER);
        }
        ctx.store.replace(&live, &WriteParams::default()).await?;
        return Ok(Action::await_change());
    }
    if !parent.has_finalizer(FINALIZER) {
        let mut live = (*ctx.store.get(&parent.object_ref()).await?).clone();
        if !live.has_finalizer(FINALIZER) && !live.is_terminating() {
            live.metadata
                .finalizers
                .get_or_insert_with(Vec::new)
                .push(FINALIZER.into());
            ctx.store.replace(&live, &WriteParams::default()).await?;
        }
        return Ok(Action::await_change());
    }
    if ctx.external.get(&uid).is_none() {
        // The cached parent may be stale (already deleted): a write with its resourceVersion
        // proves it is current before anything is created outside the cluster.
        let mut confirm = (*parent).clone();
        confirm.body.insert(
            "status".into(),
            json!({"observedGeneration": parent.metadata.generation.unwrap_or(0), "external": "creating"}),
        );
        ctx.store.replace_status(&confirm, &WriteParams::default()).await?;
        ctx.external.put(&uid, &uid, json!({"message": message(&parent)}));
    }
    write_observed(&ctx, &parent, Map::new()).await?;
    Ok(Action::await_change())
}

/// The Greeting operator on the runtime's driver: one ConfigMap per Greeting; the buggy one
/// counts its reconciles in status.
pub struct Greeter {
    ownership: Ownership,
    buggy: bool,
    reconciles: AtomicU64,
}

impl Greeter {
    /// A Greeter; `buggy` puts a reconcile counter into status.
    pub fn new(buggy: bool) -> Self {
        Self {
            ownership: Ownership::new("greeter").owns_kind(OwnedKind::namespaced(configmap())),
            buggy,
            reconciles: AtomicU64::new(0),
        }
    }
}

impl DynamicOperator for Greeter {
    fn parent_type(&self) -> TypeRef {
        greeting_type()
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
        let config = Object::new(&configmap(), parent.namespace(), &format!("{}-greeting", parent.name()))
            .with("data", json!({ "message": message(parent) }));
        set.declare(GroupSpec::ordered("main").component_label("main"))
            .map_err(|e| SpecError::new("metadata.name", e.to_string()))?;
        set.add("main", config)
            .map_err(|e| SpecError::new("metadata.name", e.to_string()))?;
        Ok(())
    }

    fn status(
        &self,
        parent: &Object,
        children: &[Arc<Object>],
    ) -> std::result::Result<Map<String, Value>, OperatorError> {
        let mut status = Map::new();
        if self.buggy {
            let n = self.reconciles.fetch_add(1, Ordering::SeqCst) + 1;
            status.insert("reconciles".into(), json!(n));
        } else {
            status.insert("message".into(), json!(message(parent)));
            status.insert("children".into(), json!(children.len()));
        }
        Ok(status)
    }
}

/// The node types the upgrade operator rolls out, in order.
const NODE_TYPES: [&str; 3] = ["broker", "server", "minion"];

/// The invariant that catches [`Bug::UpgradeRestartCleanup`].
const NODE_CHILDREN_KEPT: &str = "node-children-kept";

/// Once an upgrade of a Greeting completed (`status.observedGeneration` set), the ConfigMap of
/// every node type exists (hand edits are off in this world: only the operator deletes them).
fn node_children_kept(world: &WorldState) -> std::result::Result<(), String> {
    for parent in world.parents() {
        if parent.is_terminating() || parent.status().and_then(|s| s.get("observedGeneration")).is_none() {
            continue;
        }
        for node in NODE_TYPES {
            let name = format!("{}-{node}", parent.name());
            if world.get(&configmap(), &name).is_none() {
                return Err(format!(
                    "ConfigMap {name} is gone although an upgrade of {} completed",
                    parent.name()
                ));
            }
        }
    }
    Ok(())
}

/// Replaces the status of the live parent.
async fn replace_status(ctx: &ReconcileCtx, live: &Object, status: Value) -> Result<()> {
    let mut updated = live.clone();
    updated.body.insert("status".into(), status);
    ctx.store.replace_status(&updated, &WriteParams::default()).await?;
    Ok(())
}

/// A rolling upgrade: a new generation starts a pass over [`NODE_TYPES`], one node type per
/// reconcile (the progress, `status.next`, survives restarts); at the end of a pass the
/// children of node types that are not kept are deleted and `observedGeneration` is set. The
/// buggy one keeps what this process visited (its memory, lost on a restart).
async fn upgrade(parent: Arc<Object>, ctx: Arc<ReconcileCtx>, buggy: bool) -> Result<Action> {
    if parent.is_terminating() || is_paused(&parent) {
        return Ok(Action::await_change());
    }
    // The progress is read from the live parent: a stale one would repeat or skip a step.
    let live = match ctx.store.get_opt(&parent.object_ref()).await? {
        Some(live) if live.uid() == parent.uid() && !live.is_terminating() && !is_paused(&live) => live,
        _ => return Ok(Action::await_change()),
    };
    let uid = live.uid().unwrap_or_default().to_owned();
    let generation = json!(live.metadata.generation.unwrap_or(0));
    let status = live.status().cloned().unwrap_or_else(|| json!({}));
    if status.get("observedGeneration") == Some(&generation) {
        return Ok(Action::await_change());
    }
    let step = Action::requeue(std::time::Duration::from_secs(2));
    if status.get("rollingGeneration") != Some(&generation) {
        ctx.memory
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(uid, json!([]));
        let mut next = status.clone();
        next["rollingGeneration"] = generation;
        next["next"] = json!(0);
        replace_status(&ctx, &live, next).await?;
        return Ok(step);
    }
    let index = status.get("next").and_then(Value::as_u64).unwrap_or(0) as usize;
    if let Some(node) = NODE_TYPES.get(index) {
        let name = format!("{}-{node}", live.name());
        ensure_child(&ctx, &live, &name).await?;
        // A read may be served from an earlier revision: it can show a child of an earlier
        // parent of this name, none, or ours as an earlier generation left it (with the data
        // this one wants, so nothing was written). The step counts once the child is seen
        // controlled by us with this generation's data, and a replace at the resourceVersion
        // read proves the read was current: a stale one conflicts, and the step is retried.
        let key = ObjectRef::namespaced(configmap(), live.namespace().unwrap_or_default(), &name);
        let wanted = child_of(&live, &name);
        let Some(child) = ctx.store.get_opt(&key).await? else {
            return Ok(step);
        };
        if !child.is_controlled_by(&uid) || child.body.get("data") != wanted.body.get("data") {
            return Ok(step);
        }
        ctx.store.replace(&child, &WriteParams::default()).await?;
        if let Some(Value::Array(visited)) = ctx
            .memory
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get_mut(&uid)
        {
            visited.push(json!(name));
        }
        let mut next = status.clone();
        next["next"] = json!(index + 1);
        replace_status(&ctx, &live, next).await?;
        return Ok(step);
    }
    let keep: Vec<String> = if buggy {
        // BUG: what this process visited stands for "every node type of the spec".
        let memory = ctx.memory.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        memory
            .get(&uid)
            .and_then(Value::as_array)
            .map(|v| v.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default()
    } else {
        NODE_TYPES
            .iter()
            .map(|node| format!("{}-{node}", live.name()))
            .collect()
    };
    let params =
        ListParams::in_namespace(live.namespace().unwrap_or_default()).labels(format!("greeting={}", live.name()));
    for child in ctx.store.list(&configmap(), &params).await?.items {
        if child.is_controlled_by(&uid) && !keep.iter().any(|k| k == child.name()) {
            let params = operator_runtime_core::store::DeleteParams {
                preconditions: Some(operator_runtime_core::store::Preconditions {
                    uid: child.uid().map(str::to_owned),
                    resource_version: child.resource_version().map(str::to_owned),
                }),
                ..Default::default()
            };
            match ctx.store.delete(&child.object_ref(), &params).await {
                Ok(_) | Err(StoreError::NotFound { .. }) => {}
                Err(error) => return Err(error.into()),
            }
        }
    }
    let mut done = status;
    done["observedGeneration"] = generation;
    replace_status(&ctx, &live, done).await?;
    Ok(Action::await_change())
}

/// The level-triggered Greeting operator under leader election among two replicas. The buggy
/// one runs its own elector and, once it has won, gates its runner on a value that stays
/// `true`: it never hears that it lost the Lease.
struct LeaseHolder {
    buggy: bool,
}

impl OperatorUnderTest for LeaseHolder {
    fn parent_type(&self) -> TypeRef {
        greeting_type()
    }

    fn owned_types(&self) -> Vec<TypeRef> {
        vec![configmap()]
    }

    fn pause_annotation(&self) -> String {
        pause_annotation()
    }

    fn start(&self, env: ReplicaEnv) -> ReplicaFuture {
        let buggy = self.buggy;
        Box::pin(async move {
            let Ok((controller, ctx)) = env.reconcile_parts(&greeting_type(), &[configmap()]) else {
                return;
            };
            let observe = env.clone();
            let reconcile = move |object: Arc<Object>, ctx: Arc<ReconcileCtx>| {
                let future = edge(Arc::clone(&object), ctx, false);
                observe.observe(&object, future)
            };
            if !buggy {
                let _ = env
                    .gate(controller)
                    .run(reconcile, ctx, std::future::pending::<()>())
                    .await;
                return;
            }
            let Ok(config) = LeaseConfig::new(env.namespace().to_owned(), LEASE_NAME, env.name().to_owned()) else {
                return;
            };
            let elector = LeaderElector::new(env.store(), env.clock(), config);
            let mut leading = elector.subscribe();
            let (keep, believed) = tokio::sync::watch::channel(true);
            let act = async move {
                let _keep = keep;
                // BUG: leadership is checked once; losing the Lease later goes unheard.
                if leading.wait_for(|l| *l).await.is_ok() {
                    let _ = controller
                        .leader_gate(believed)
                        .run(reconcile, ctx, std::future::pending::<()>())
                        .await;
                }
            };
            let _ = tokio::join!(elector.run(std::future::pending::<()>()), act);
        })
    }
}
