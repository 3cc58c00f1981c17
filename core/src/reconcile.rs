//! The reconcile driver: one parent key in, every child write, event and status write done,
//! an [`Action`] out.
//!
//! An operator author implements [`Operator`] ("spec -> desired children", optionally
//! "children -> status" and cleanup); [`Reconciler::reconcile`] does the rest.
//!
//! # Expected flow
//! 1. Read the parent from the internal [`Cache`] (no request). A pure operator
//!    ([`DynamicOperator::is_pure`]) whose inputs did not change since the parent's last
//!    reconcile reuses that reconcile, or its desired set ([`Reused`]; see
//!    [`Reconciler::reconcile`]).
//! 2. Terminating parent: run [`Operator::cleanup`], delete the children it controls, remove
//!    the finalizer (optimistic concurrency), done.
//! 3. Ensure the finalizer, before the first child is created (never on a terminating object).
//! 4. [`Operator::desired`] builds the [`DesiredSet`]; an error is an invalid spec: a Warning
//!    event, a Degraded condition, no child written, no retry until the spec changes.
//! 5. Observed children come from the cache (the owner index), then [`plan_with`] decides.
//! 6. Unless the parent is paused ([`ReconcilerConfig::pause_annotation`]), the writes are
//!    applied in plan order: server-side apply with the operator's field manager where the
//!    backend supports it, otherwise replace with the live resourceVersion; a Conflict re-reads
//!    and retries up to [`ReconcilerConfig::conflict_retries`] times.
//! 7. One event per write and per failure; no event when nothing changed: a warning identical
//!    to one of the parent's previous reconcile is not sent again (its condition still shows
//!    it), and recorders fold repeats into one series.
//! 8. Status (conditions Ready / Progressing / Degraded, observedGeneration, per-group
//!    readiness, plus [`Operator::status`] fields) is written only when it changed, compared
//!    after the pruning and defaulting the server applies ([`Operator::parent_schema`]).
//!
//! # Guarantees
//! - A steady-state reconcile (nothing changed) sends no request to the backend: every read is
//!   served by the cache, the plan is all Unchanged, the status is equal.
//! - Only objects controlled by this parent's uid and carrying its ownership labels are deleted.
//! - Fields set by other managers are preserved (apply sends only the operator's fields; the
//!   replace path overlays the desired fields on the live object).
//! - Errors never cause a hot loop: permanent ones (Invalid, Forbidden, BadRequest, ...) are
//!   reported and wait for a change; retryable ones are returned so the runner backs off.
//!
//! # Errors
//! [`ReconcileError::Retryable`] carries the backend error that should be retried with backoff.

mod conditions;
mod context;
mod dependencies;
mod error;
mod finalizer;
mod fixpoint;
mod operator;
mod own_writes;
mod pause;
mod policy;
mod rejected;
mod surface;
mod unservable;
mod warnings;
mod write;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use foldhash::fast::FixedState;
use serde_json::{Map, Value};

use crate::action::Action;
use crate::builder::DesiredSet;
use crate::builder::Scope;
use crate::cache::{Cache, TrackSpec};
use crate::clock::Clock;
use crate::controller::Controller;
use crate::error::StoreError;
use crate::events::{Event, EventRecorder, reason};
use crate::metrics::Metrics;
use crate::model::{Identity, Object, ObjectRef, TypeRef};
use crate::plan::{Action as PlanAction, Plan, PlanInputs, PlanPolicy, plan_verified, plan_with};
use crate::store::{ObjectStore, WriteParams};

pub use conditions::GroupStatus;
pub use context::{Children, Context, ContextError};
pub use dependencies::Dependencies;
pub use error::OperatorError;
pub use fixpoint::Reused;
pub use operator::{DynamicOperator, Operator, Parent, StatusFields};
pub use policy::ErrorPolicy;
pub use rejected::REJECTED_WRITE_TTL;

/// An invalid spec: which field and why. Reported as a Warning event and a Degraded condition.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SpecError {
    /// The offending field path (`spec.nodes[1].name`).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl SpecError {
    /// A spec error for `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Settings of a [`Reconciler`].
#[derive(Clone, Debug)]
pub struct ReconcilerConfig {
    /// Field manager for server-side apply and managedFields.
    pub field_manager: String,
    /// The finalizer the runtime adds to parents.
    pub finalizer: String,
    /// An annotation that, when `"true"`, stops every write to children (status is still written).
    pub pause_annotation: String,
    /// How often a write that hits a Conflict is re-read and retried.
    pub conflict_retries: u32,
    /// Recreate policy and adoption.
    pub plan_policy: PlanPolicy,
    /// Requeue delay while a rollout is progressing (child watch events usually come first).
    pub progress_requeue: Duration,
}

impl ReconcilerConfig {
    /// Defaults for an operator called `name`: field manager `name`, finalizer
    /// `operator-runtime.io/<name>`, pause annotation `operator-runtime.io/paused`.
    pub fn new(name: &str) -> Self {
        Self {
            field_manager: name.to_owned(),
            finalizer: format!("operator-runtime.io/{name}"),
            pause_annotation: "operator-runtime.io/paused".to_owned(),
            conflict_retries: 3,
            plan_policy: PlanPolicy::new(),
            progress_requeue: Duration::from_secs(30),
        }
    }
}

/// A reconcile failed in a way worth retrying with backoff.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ReconcileError {
    /// The backend failed with a retryable error (or conflicts outlasted the retries).
    #[error("retryable backend error: {0}")]
    Retryable(#[source] StoreError),
    /// The operator's cleanup failed.
    #[error("cleanup failed: {0}")]
    Cleanup(String),
    /// The cache has not synced the parent or an owned kind yet.
    #[error("cache not synced for {0}")]
    NotSynced(TypeRef),
}

/// What one reconcile did (for logs, tests and the example's story).
#[derive(Clone, Debug, Default)]
pub struct ReconcileReport {
    /// The plan, when one was computed.
    pub plan: Option<Plan>,
    /// Writes sent to children (creates, updates, deletes).
    pub child_writes: usize,
    /// Whether the status was written.
    pub status_written: bool,
    /// Whether the finalizer was added or removed.
    pub finalizer_written: bool,
    /// The conditions computed, as (type, status, reason, message).
    pub conditions: Vec<(String, bool, String, String)>,
    /// What the controller should do next.
    pub action: Option<Action>,
    /// What was reused from the parent's last reconcile instead of computed (a pure
    /// operator's, see [`DynamicOperator::is_pure`]).
    pub reused: Reused,
}

/// What [`Reconciler::write_status`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StatusWrite {
    /// The status was already as computed (or the schema keeps none).
    Equal,
    /// The status was written.
    Written,
    /// The status differs but was not written: the parent changed or is gone, or the write
    /// failed.
    NotWritten,
}

/// The driver for one operator.
pub struct Reconciler<O: DynamicOperator> {
    store: Arc<dyn ObjectStore>,
    cache: Cache,
    recorder: Arc<dyn EventRecorder>,
    clock: Arc<dyn Clock>,
    operator: Arc<O>,
    config: ReconcilerConfig,
    metrics: Option<Metrics>,
    warned: warnings::WarningMemory,
    rejected: rejected::RejectedWrites,
    /// The resourceVersion of the last write of each parent in the running reconcile.
    own_writes: std::sync::Mutex<std::collections::HashMap<ObjectRef, String>>,
    dependencies: Arc<Dependencies>,
    /// Per parent, the children its last plan found without drift (`plan::Verified`).
    verified: std::sync::Mutex<std::collections::HashMap<ObjectRef, crate::plan::Verified>>,
    /// Per parent of a pure operator, what its last reconcile read and built.
    kept: fixpoint::KeptInputs,
}

impl<O: DynamicOperator> Reconciler<O> {
    /// A reconciler writing through `store`, reading through `cache`.
    pub fn new(
        store: Arc<dyn ObjectStore>,
        cache: Cache,
        recorder: Arc<dyn EventRecorder>,
        clock: Arc<dyn Clock>,
        operator: Arc<O>,
        config: ReconcilerConfig,
    ) -> Self {
        Self {
            store,
            cache,
            recorder,
            clock,
            operator,
            config,
            metrics: None,
            warned: warnings::WarningMemory::default(),
            rejected: rejected::RejectedWrites::default(),
            own_writes: std::sync::Mutex::default(),
            dependencies: Arc::default(),
            verified: std::sync::Mutex::default(),
            kept: fixpoint::KeptInputs::default(),
        }
    }

    /// Which parents read which objects through their [`Context`]: map a change of a kind of
    /// [`crate::builder::Ownership::reads`] to [`Dependencies::parents_of`] to reconcile them.
    pub fn dependencies(&self) -> &Arc<Dependencies> {
        &self.dependencies
    }

    /// Records, in `metrics`, every child write skipped because the live object already matched
    /// (`operator_runtime_writes_skipped_total` by kind). Share the runner's [`Metrics`] so one
    /// `/metrics` endpoint shows both.
    #[must_use]
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Tracks the parent kind, every owned kind and every read kind in the cache (idempotent).
    pub fn track(&self) -> Result<(), crate::cache::CacheError> {
        for type_ref in self.watched_types() {
            if !self.cache.is_tracked(&type_ref) {
                self.cache.track(TrackSpec::new(type_ref))?;
            }
        }
        Ok(())
    }

    /// The parent kind followed by every owned kind, then every read kind not also owned.
    pub fn watched_types(&self) -> Vec<TypeRef> {
        let ownership = self.operator.ownership();
        let mut types = vec![self.operator.parent_type()];
        types.extend(ownership.owned_kinds().iter().map(|k| k.type_ref.clone()));
        for read in ownership.read_kinds() {
            if !types.contains(&read.type_ref) {
                types.push(read.type_ref.clone());
            }
        }
        types
    }

    /// A [`Controller`] wired for this reconciler: it watches the parent kind, the owned kinds
    /// (mapped to their parent through the controller ownerReference) and the read kinds
    /// (mapped through [`Reconciler::dependencies`]). Run it with [`Reconciler::run_one`].
    pub fn controller(&self) -> Controller<Cache> {
        let ownership = self.operator.ownership();
        let mut controller = Controller::new(Arc::new(self.cache.clone()), self.operator.parent_type());
        if self.operator.parent_scope() == Scope::Cluster {
            controller = controller.cluster_scoped_parent();
        }
        for owned in ownership.owned_kinds() {
            controller = controller.owns(owned.type_ref.clone());
        }
        for read in ownership
            .read_kinds()
            .iter()
            .filter(|k| ownership.owned_kind(&k.type_ref).is_none())
        {
            let dependencies = Arc::clone(&self.dependencies);
            controller = controller.watches(read.type_ref.clone(), move |object| {
                dependencies.parents_of(&object.object_ref())
            });
        }
        controller
    }

    /// The reconcile function [`Controller::run`] takes, for a shared reconciler:
    /// `controller.run(Reconciler::run_one, Arc::new(reconciler), shutdown)`.
    ///
    /// # Errors
    /// [`ReconcileError`] when the runner should retry with backoff.
    pub async fn run_one(parent: Arc<Object>, this: Arc<Self>) -> Result<Action, ReconcileError> {
        let report = this.reconcile(&parent.object_ref()).await?;
        Ok(report.action.unwrap_or_else(Action::await_change))
    }

    /// The cache this reconciler reads from.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// The operator.
    pub fn operator(&self) -> &Arc<O> {
        &self.operator
    }

    /// What the driver remembers of `parent`'s children as verified without drift: its last
    /// plan's set and the children that plan's applies wrote (see [`crate::plan::Verified`]).
    /// For diagnostics and tests; None before the parent's first plan.
    pub fn verified(&self, parent: &ObjectRef) -> Option<crate::plan::Verified> {
        self.verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(parent)
            .cloned()
    }

    /// The settings.
    pub fn config(&self) -> &ReconcilerConfig {
        &self.config
    }

    /// Reconciles the parent `key`: see the [module docs](self).
    ///
    /// A pure operator's ([`DynamicOperator::is_pure`]) reconcile reuses what did not change
    /// since the parent's last one ([`ReconcileReport::reused`]):
    /// - when the parent's resourceVersion (after the runtime's own writes of it) and the
    ///   resourceVersion of every object `desired` looked up through the [`Context`] are as
    ///   the last reconcile left them, `desired` would build the same set: its kept skeleton
    ///   is planned instead, provided every child is verified unchanged;
    /// - when, besides, the last reconcile converged and the children the cache lists as the
    ///   parent's are the same at the same resourceVersions, the reconcile is skipped.
    ///
    /// # Errors
    /// [`ReconcileError`] when the runner should retry with backoff.
    pub async fn reconcile(&self, key: &ObjectRef) -> Result<ReconcileReport, ReconcileError> {
        let mut kept = None;
        let result = self.reconcile_once(key, &mut kept).await;
        let written = self.take_own_write(key);
        if let (Ok(_), Some(kept)) = (&result, kept) {
            self.kept.keep(key, kept, written.as_deref());
        }
        if let (Ok(report), Some(metrics)) = (&result, &self.metrics)
            && report.reused != Reused::Nothing
        {
            metrics.record_reconcile_reused(report.reused.as_str());
        }
        self.await_own_write(key, written.as_deref()).await;
        result
    }

    async fn reconcile_once(
        &self,
        key: &ObjectRef,
        kept: &mut Option<fixpoint::Kept>,
    ) -> Result<ReconcileReport, ReconcileError> {
        let parent_type = self.operator.parent_type();
        if !self.cache.has_synced(&parent_type) {
            return Err(ReconcileError::NotSynced(parent_type));
        }
        let Some(parent) = self.cache.get(key) else {
            self.warned.forget(key);
            self.dependencies.forget(key);
            self.kept.forget(key);
            self.take_verified(key);
            return Ok(ReconcileReport {
                action: Some(Action::await_change()),
                ..Default::default()
            });
        };
        let reuse = if self.operator.is_pure() && !parent.is_terminating() {
            self.reusable(&parent)
        } else {
            fixpoint::Reuse::Nothing
        };
        let reuse = match reuse {
            fixpoint::Reuse::Everything(report) => return Ok(*report),
            fixpoint::Reuse::Desired(skeleton, lookups) => Some((skeleton, lookups)),
            fixpoint::Reuse::Nothing => None,
        };
        let mut report = ReconcileReport::default();
        self.warned.begin(&parent.object_ref());
        if parent.is_terminating() {
            self.kept.forget(key);
            if let Err(e) = self.finalize(&parent, &mut report).await {
                self.wait_if_permanent(&parent, "finalizer removal", e).await?;
            }
            report.action = Some(Action::await_change());
            return Ok(report);
        }
        let parent = match self.ensure_finalizer(Arc::clone(&parent), &mut report).await {
            Ok(p) => p,
            Err(e) => {
                self.wait_if_permanent(&parent, "finalizer", e).await?;
                report.action = Some(Action::await_change());
                return Ok(report);
            }
        };

        // A kept skeleton first (a pure operator whose `desired` inputs are unchanged): planned
        // only if every child is verified unchanged, else `desired` runs after all.
        let reused = reuse.and_then(|(skeleton, lookups)| {
            let set = DesiredSet::from_skeleton(&parent, self.operator.ownership(), &skeleton).ok()?;
            Some((set, lookups, skeleton))
        });
        let verified = self.take_verified(key);
        let mut planned = None;
        if let Some((set, lookups, skeleton)) = reused {
            let (observed, assessment, mut inputs) = self.observe(&parent, &set).await;
            inputs.verified = verified.clone();
            if let Some(plan) = plan_verified(&set, &observed, &self.config.plan_policy, &inputs) {
                report.reused = Reused::Desired;
                let reads = context::Reads {
                    lookups,
                    ..context::Reads::default()
                };
                planned = Some((set, Some(skeleton), reads, observed, assessment, plan));
            }
        }
        let (desired, skeleton, reads, observed, assessment, plan) = match planned {
            Some(planned) => planned,
            None => {
                let (desired, reads) = match self.build_desired(&parent) {
                    Ok(built) => built,
                    Err(e) => return self.invalid_spec(&parent, e, report).await,
                };
                let (observed, assessment, mut inputs) = self.observe(&parent, &desired).await;
                inputs.verified = verified;
                let plan = plan_with(&desired, &observed, &self.config.plan_policy, &inputs);
                (desired, None, reads, observed, assessment, plan)
            }
        };
        self.verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key.clone(), plan.verified.clone());
        if !plan.is_converged() {
            // The plan's text names changed paths; sensitive values are already redacted.
            tracing::debug!(parent = %key, %plan, "planned");
        }
        let paused = self.is_paused(&parent);
        let outcome = if paused {
            write::WriteOutcome::default()
        } else {
            self.apply_plan(&parent, &plan, report.finalizer_written).await?
        };
        report.child_writes = outcome.writes;
        if !outcome.verified.is_empty() {
            self.verified
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .entry(key.clone())
                .or_default()
                .extend(&outcome.verified);
        }
        if let Some(metrics) = self.metrics.as_ref().filter(|_| !paused) {
            for item in plan.items.iter().filter(|i| i.action == PlanAction::Unchanged) {
                metrics.record_write_skipped(&item.key.type_ref.kind);
            }
        }
        let unservable = self.unservable_owned();
        for kind in plan
            .skipped_kinds
            .iter()
            .filter(|k| !unservable.iter().any(|u| &u.type_ref == *k))
        {
            let note = format!("cannot list {kind}: orphans of this kind are not cleaned up");
            self.emit(Event::warning(
                reason::LIST_FORBIDDEN,
                "Reconcile",
                note,
                parent.object_ref(),
            ))
            .await;
        }

        let children = self.cache.owned_by(parent.uid().unwrap_or_default());
        let mut computed = conditions::compute(&plan, assessment, &outcome, paused);
        self.note_pause(&parent, paused, &plan, &mut computed.conditions).await;
        self.note_unservable(&parent, &unservable, &mut computed.conditions)
            .await;
        report.conditions = computed.summary();
        let extra = match self.operator.status(&parent, &children) {
            Ok(extra) => extra,
            Err(e) => {
                let note = format!("status fields not computed: {e}");
                self.emit(Event::warning(
                    reason::STATUS_FAILED,
                    "Reconcile",
                    note,
                    parent.object_ref(),
                ))
                .await;
                Map::new()
            }
        };
        let status = self
            .write_status(&parent, computed.to_status(&parent, extra, self.clock.now()))
            .await?;
        report.status_written = status == StatusWrite::Written;
        if self.operator.is_pure() && !reads.clock && !reads.unsynced {
            let converged = plan.is_converged()
                && outcome.failures.is_empty()
                && computed.all_ready
                && unservable.is_empty()
                && plan.skipped_kinds.is_empty()
                && !paused
                && status != StatusWrite::NotWritten;
            *kept = Some(fixpoint::Kept {
                parent_version: parent.resource_version().unwrap_or_default().to_owned(),
                lookups: reads.lookups,
                skeleton: skeleton.unwrap_or_else(|| desired.skeleton()),
                converged: converged.then(|| fixpoint::Converged {
                    children: fixpoint::versions(&observed),
                    conditions: report.conditions.clone(),
                }),
            });
        }
        report.action = Some(if !unservable.is_empty() {
            // Look again when the kind may be served (RBAC fixed, CRD installed).
            Action::requeue(self.config.progress_requeue)
        } else if plan.is_converged() && outcome.failures.is_empty() && computed.all_ready {
            Action::await_change()
        } else if !outcome.failures.is_empty() && outcome.failures.iter().all(|f| !f.retryable) {
            // Permanent failures wait for a change of the spec or the children.
            Action::await_change()
        } else {
            Action::requeue(self.config.progress_requeue)
        });
        report.plan = Some(plan);
        if let Some(err) = outcome.failures.iter().find(|f| f.retryable) {
            return Err(ReconcileError::Retryable(err.error.clone()));
        }
        Ok(report)
    }

    /// The operator's desired set for `parent` and what it read; the lookups are recorded as
    /// the parent's dependencies either way. An error is an invalid spec.
    fn build_desired(&self, parent: &Object) -> Result<(DesiredSet, context::Reads), OperatorError> {
        let mut desired = DesiredSet::new(parent, self.operator.ownership())
            .map_err(|e| OperatorError::from(SpecError::new("metadata", e.to_string())))?;
        let context = Context::new(&self.cache, parent, self.clock.now());
        let built = self.operator.desired(parent, &context, &mut desired);
        let reads = context.into_reads();
        self.dependencies.record(
            &parent.object_ref(),
            reads.lookups.iter().map(|(k, _)| k.clone()).collect(),
        );
        built.map(|()| (desired, reads))
    }

    /// Collects the observed children and the per-reconcile planner inputs from the cache.
    /// Takes (and so forgets) what the parent's last plan verified.
    fn take_verified(&self, key: &ObjectRef) -> crate::plan::Verified {
        self.verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(key)
            .unwrap_or_default()
    }

    async fn observe(
        &self,
        parent: &Object,
        desired: &DesiredSet,
    ) -> (Vec<Arc<Object>>, conditions::Assessment, PlanInputs) {
        let uid = parent.uid().unwrap_or_default();
        let mut observed = self.cache.owned_by(uid);
        // Desired children the cache does not list as owned (not yet adopted, or owned by
        // someone else) are looked up by name.
        let owned: HashSet<Identity<'_>, FixedState> = observed.iter().map(|o| Identity::of(o)).collect();
        let unowned: Vec<Arc<Object>> = desired
            .children()
            .filter(|child| !owned.contains(&Identity::of(&child.object)))
            .filter_map(|child| self.cache.get(&child.object.object_ref()))
            .collect();
        drop(owned);
        observed.extend(unowned);
        let assessment = conditions::assess(desired, &observed);
        let mut inputs =
            PlanInputs::with_readiness(assessment.group_readiness()).field_manager(self.config.field_manager.clone());
        for owned in self.operator.ownership().owned_kinds() {
            if !self.cache.has_synced(&owned.type_ref) {
                let forbidden = self
                    .cache
                    .status(&owned.type_ref)
                    .and_then(|s| s.last_error)
                    .is_some_and(|e| matches!(e, StoreError::Forbidden { .. } | StoreError::NotFound { .. }));
                if forbidden || !self.cache.is_tracked(&owned.type_ref) {
                    inputs = inputs.unlisted(owned.type_ref.clone());
                }
            }
        }
        (observed, assessment, inputs)
    }

    async fn invalid_spec(
        &self,
        parent: &Object,
        error: OperatorError,
        mut report: ReconcileReport,
    ) -> Result<ReconcileReport, ReconcileError> {
        let note = format!("invalid spec: {error}");
        self.emit(Event::warning(
            reason::INVALID_SPEC,
            "Reconcile",
            note,
            parent.object_ref(),
        ))
        .await;
        let computed = conditions::invalid_spec(&error);
        report.conditions = computed.summary();
        let status = computed.to_status(parent, Map::new(), self.clock.now());
        report.status_written = self.write_status(parent, status).await? == StatusWrite::Written;
        report.action = Some(Action::await_change());
        Ok(report)
    }

    /// Writes `status` unless it equals the parent's current status once normalized by the
    /// parent's schema ([`DynamicOperator::parent_schema`]).
    async fn write_status(&self, parent: &Object, status: Value) -> Result<StatusWrite, ReconcileError> {
        let status = match self.operator.parent_schema() {
            Some(schema) => {
                let mut body = Map::new();
                body.insert("status".into(), status);
                crate::schema::prune_and_default(schema, &mut body);
                // A schema without `status` drops it: the server would store nothing.
                let Some(status) = body.remove("status") else {
                    return Ok(StatusWrite::Equal);
                };
                status
            }
            None => status,
        };
        if parent.status() == Some(&status) {
            return Ok(StatusWrite::Equal);
        }
        if self.cache_has_newer(parent) {
            // The parent changed during this reconcile (a spec edit, another writer): a status
            // write carrying the resourceVersion this reconcile read would be a 409. The newer
            // version's watch event has queued the parent again, and that reconcile writes the
            // status of the new spec.
            return Ok(StatusWrite::NotWritten);
        }
        let mut updated = parent.clone();
        updated.body.insert("status".into(), status);
        match self.store.replace_status(&updated, &WriteParams::default()).await {
            Ok(written) => {
                self.note_own_write(&written);
                Ok(StatusWrite::Written)
            }
            Err(StoreError::NotFound { .. }) => Ok(StatusWrite::NotWritten),
            Err(e) => {
                self.wait_if_permanent(parent, "status", ReconcileError::Retryable(e))
                    .await?;
                Ok(StatusWrite::NotWritten)
            }
        }
    }

    /// Whether the cache holds a newer version of `parent` than the one this reconcile used
    /// (numeric resourceVersions; an opaque one is never called newer).
    fn cache_has_newer(&self, parent: &Object) -> bool {
        let numeric = |o: &Object| o.resource_version().and_then(|rv| rv.parse::<u64>().ok());
        match (self.cache.get(&parent.object_ref()), numeric(parent)) {
            (Some(cached), Some(used)) => numeric(&cached).is_some_and(|rv| rv > used),
            _ => false,
        }
    }

    /// A failed write of the parent itself (finalizer, status): returned for backoff when the
    /// operator's [`DynamicOperator::error_policy`] says Retry; otherwise reported with one Warning
    /// event and swallowed, so the reconcile ends waiting for a change.
    async fn wait_if_permanent(
        &self,
        parent: &Object,
        what: &str,
        error: ReconcileError,
    ) -> Result<(), ReconcileError> {
        let ReconcileError::Retryable(store_error) = &error else {
            return Err(error);
        };
        if self.operator.error_policy(parent, store_error) == ErrorPolicy::Retry {
            return Err(error);
        }
        let note = format!("{what} write failed: {store_error}; not retried until something changes");
        self.emit(Event::warning(
            reason::WRITE_FAILED,
            "Reconcile",
            note,
            parent.object_ref(),
        ))
        .await;
        Ok(())
    }

    async fn emit(&self, event: Event) {
        if !self.warned.should_send(&event) {
            return;
        }
        if let Err(e) = self.recorder.record(event).await {
            tracing::warn!(error = %e, "failed to record event");
        }
    }
}
