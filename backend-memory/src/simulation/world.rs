//! The world an operator is simulated in: what exists before it starts, the parents a user
//! creates and the edits the user makes, the other actors, the length of a run; and the
//! [`WorldState`] snapshot that invariants are checked against.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use operator_runtime_core::store::KindInfo;
use operator_runtime_core::{Object, TypeRef};
use serde_json::Value;

use super::faults::FaultPlan;
use super::trace::Trace;

/// The function of a [`SpecEdit`].
type EditFn = Arc<dyn Fn(&mut Value, u64) + Send + Sync>;

/// An edit the user actor makes to a parent's spec: a name (for the trace) and a function of
/// the spec and a random number (e.g. the new replica count).
#[derive(Clone)]
pub struct SpecEdit {
    pub(crate) name: String,
    pub(crate) apply: EditFn,
}

impl std::fmt::Debug for SpecEdit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpecEdit")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The world of a simulation (builder).
#[derive(Clone, Debug)]
pub struct World {
    pub(crate) namespace: String,
    pub(crate) kinds: Vec<KindInfo>,
    pub(crate) setup: Vec<Object>,
    pub(crate) parents: Vec<Object>,
    pub(crate) edits: Vec<SpecEdit>,
    pub(crate) workload_rollout: Option<Duration>,
    pub(crate) steps: usize,
    pub(crate) max_gap: Duration,
    pub(crate) replicas: usize,
    pub(crate) faults: FaultPlan,
    pub(crate) settle_within: Duration,
    pub(crate) quiet_window: Duration,
    pub(crate) max_writes_per_reconcile: usize,
    pub(crate) hand_edits: bool,
    pub(crate) orphans: bool,
}

impl World {
    /// A world in `namespace` (created for you), with one replica, the default
    /// [`FaultPlan`], 12 user steps at most 5 s apart, workload controllers off.
    pub fn new(namespace: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            kinds: Vec::new(),
            setup: Vec::new(),
            parents: Vec::new(),
            edits: Vec::new(),
            workload_rollout: None,
            steps: 12,
            max_gap: Duration::from_secs(5),
            replicas: 1,
            faults: FaultPlan::default(),
            settle_within: Duration::from_secs(300),
            quiet_window: Duration::from_secs(150),
            max_writes_per_reconcile: 64,
            hand_edits: true,
            orphans: true,
        }
    }

    /// Registers a kind directly (a custom resource without a CRD object).
    pub fn kind(mut self, info: KindInfo) -> Self {
        self.kinds.push(info);
        self
    }

    /// Creates `object` before the operator starts (a CRD, a config object, ...).
    pub fn object(mut self, object: Object) -> Self {
        self.setup.push(object);
        self
    }

    /// A parent the user actor creates (and may delete and create again). Its namespace is
    /// set to the world's.
    pub fn parent(mut self, mut parent: Object) -> Self {
        parent.metadata.namespace = Some(self.namespace.clone());
        self.parents.push(parent);
        self
    }

    /// An edit the user actor may make to a parent's spec.
    pub fn edit(mut self, name: impl Into<String>, apply: impl Fn(&mut Value, u64) + Send + Sync + 'static) -> Self {
        self.edits.push(SpecEdit {
            name: name.into(),
            apply: Arc::new(apply),
        });
        self
    }

    /// Runs the StatefulSet/Deployment controllers: a changed workload is rolled out
    /// `rollout` later (virtual time).
    pub fn workload_controllers(mut self, rollout: Duration) -> Self {
        self.workload_rollout = Some(rollout);
        self
    }

    /// How many steps the user actor takes, and the longest pause between two of them.
    pub fn steps(mut self, steps: usize, max_gap: Duration) -> Self {
        self.steps = steps;
        self.max_gap = max_gap;
        self
    }

    /// How many operator replicas run (more than one: leader election on a Lease).
    pub fn replicas(mut self, replicas: usize) -> Self {
        self.replicas = replicas.max(1);
        self
    }

    /// The faults a seed may draw.
    pub fn faults(mut self, faults: FaultPlan) -> Self {
        self.faults = faults;
        self
    }

    /// Liveness bounds: once faults stop, the world must settle within `settle_within`, and
    /// then see no operator write for `quiet_window`.
    pub fn liveness(mut self, settle_within: Duration, quiet_window: Duration) -> Self {
        self.settle_within = settle_within;
        self.quiet_window = quiet_window;
        self
    }

    /// The most writes one reconcile may send (a safety invariant).
    pub fn max_writes_per_reconcile(mut self, max: usize) -> Self {
        self.max_writes_per_reconcile = max;
        self
    }

    /// Whether the user actor orphans children (removes their ownerReferences; on by default).
    pub fn orphans(mut self, on: bool) -> Self {
        self.orphans = on;
        self
    }

    /// Whether the user actor edits, deletes and orphans children by hand (on by default).
    pub fn hand_edits(mut self, on: bool) -> Self {
        self.hand_edits = on;
        self
    }
}

/// One resource of an external system the operator manages (a database, a bucket), owned by
/// the parent with `owner_uid`.
#[derive(Clone, Debug, PartialEq)]
pub struct ExternalResource {
    /// uid of the parent it belongs to.
    pub owner_uid: String,
    /// Whatever the operator stores.
    pub value: Value,
}

/// A model of the systems outside the cluster an operator talks to. It survives operator
/// crashes (it is not in the operator's memory). A resource left behind by a parent that no
/// longer exists is a violation (`external-leak`): the finalizer went before the cleanup.
#[derive(Clone, Debug)]
pub struct External {
    resources: Arc<Mutex<BTreeMap<String, ExternalResource>>>,
    trace: Trace,
}

impl External {
    pub(crate) fn new(trace: Trace) -> Self {
        Self {
            resources: Arc::new(Mutex::new(BTreeMap::new())),
            trace,
        }
    }

    /// Creates or replaces resource `id` for the parent with `owner_uid`.
    pub fn put(&self, id: &str, owner_uid: &str, value: Value) {
        self.trace.push("external", format!("put {id} (owner {owner_uid})"));
        let resource = ExternalResource {
            owner_uid: owner_uid.to_owned(),
            value,
        };
        self.lock().insert(id.to_owned(), resource);
    }

    /// Deletes resource `id`; true if it existed.
    pub fn remove(&self, id: &str) -> bool {
        let existed = self.lock().remove(id).is_some();
        if existed {
            self.trace.push("external", format!("delete {id}"));
        }
        existed
    }

    /// Resource `id`.
    pub fn get(&self, id: &str) -> Option<ExternalResource> {
        self.lock().get(id).cloned()
    }

    /// Every resource, by id.
    pub fn resources(&self) -> BTreeMap<String, ExternalResource> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, ExternalResource>> {
        self.resources.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What the world holds at one point of a run: every object of the kinds the simulation
/// knows (the parent kind, the owned kinds, Secrets, and the kinds of setup objects), and the
/// external system. User invariants are functions of it.
#[derive(Clone, Debug)]
pub struct WorldState {
    /// The parent kind.
    pub parent_type: TypeRef,
    /// Every object, grouped by kind.
    pub objects: BTreeMap<TypeRef, Vec<Arc<Object>>>,
    /// The external system's resources, by id.
    pub external: BTreeMap<String, ExternalResource>,
}

impl WorldState {
    /// Every parent.
    pub fn parents(&self) -> &[Arc<Object>] {
        self.of_kind(&self.parent_type)
    }

    /// Every object of `kind`.
    pub fn of_kind(&self, kind: &TypeRef) -> &[Arc<Object>] {
        self.objects.get(kind).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Every object controlled by the owner with `uid`, of any kind.
    pub fn children_of(&self, uid: &str) -> Vec<Arc<Object>> {
        self.objects
            .values()
            .flatten()
            .filter(|o| o.is_controlled_by(uid))
            .cloned()
            .collect()
    }

    /// The object of `kind` named `name`.
    pub fn get(&self, kind: &TypeRef, name: &str) -> Option<&Arc<Object>> {
        self.of_kind(kind).iter().find(|o| o.name() == name)
    }
}
