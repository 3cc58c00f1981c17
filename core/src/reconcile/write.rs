//! Applying a plan's writes: server-side apply where the backend supports it, otherwise
//! create / replace with the live resourceVersion; Conflict re-reads and retries.

use std::sync::Arc;

use serde_json::Value;

use super::{DynamicOperator, ErrorPolicy, ReconcileError, Reconciler};
use crate::error::StoreError;
use crate::events::{Event, reason};
use crate::model::{Object, ObjectRef};
use crate::plan::{Action, BlockReason, FieldChange, Plan, PlanItem, UpdateReason, Verified};
use crate::store::{ApplySupport, DeleteOutcome, DeleteParams, PatchParams, Preconditions, WriteParams};

/// The resourceVersion of an apply meant to create: no stored object has it (the API server's
/// are decimal revisions, far below `u64::MAX`), and an apply that creates drops it.
const CREATE_ONLY_RESOURCE_VERSION: &str = "18446744073709551615";

/// One failed child write.
#[derive(Clone, Debug)]
pub(super) struct WriteFailure {
    /// The child.
    pub key: ObjectRef,
    /// The backend error.
    pub error: StoreError,
    /// Worth retrying with backoff (throttling, unavailability, timeouts, lasting conflicts).
    pub retryable: bool,
}

/// What applying a plan did.
#[derive(Clone, Debug, Default)]
pub(super) struct WriteOutcome {
    /// Successful writes.
    pub writes: usize,
    /// Failed writes.
    pub failures: Vec<WriteFailure>,
    /// The children this plan's own applies wrote, at the versions the writes returned (see
    /// [`crate::plan::Verified`]).
    pub verified: Verified,
}

impl<O: DynamicOperator> Reconciler<O> {
    /// Writes the plan's items. `parent_written` says this reconcile has just written the
    /// parent (its finalizer, with its resourceVersion as a precondition), which proves it live.
    pub(super) async fn apply_plan(
        &self,
        parent: &Object,
        plan: &Plan,
        parent_written: bool,
    ) -> Result<WriteOutcome, ReconcileError> {
        let mut outcome = WriteOutcome::default();
        let creates = plan
            .items
            .iter()
            .any(|i| matches!(i.action, Action::Create | Action::Recreate { .. }));
        if creates && !parent_written && !self.parent_is_live(parent).await? {
            // The cached parent is already gone: a child created for it would be collected at
            // once, and its deletion would queue the parent again (a loop with no delay).
            return Ok(outcome);
        }
        let mut done = FoldedEvents::default();
        for item in &plan.items {
            match &item.action {
                Action::Blocked { reason } => self.report_blocked(parent, item, reason).await,
                action if action.is_write() => match self.write_unless_rejected(item).await {
                    Ok(written) => {
                        if let (Some(live), Some(desired)) = (written, item.desired.as_deref()) {
                            outcome
                                .verified
                                .record_written(desired, &live, &self.config.field_manager);
                        }
                        outcome.writes += 1;
                        done.push(success_event(parent, item));
                    }
                    Err(error) => {
                        let retryable = self.operator.error_policy(parent, &error) == ErrorPolicy::Retry;
                        if let (false, Some(desired)) = (retryable, &item.desired) {
                            self.rejected
                                .remember(desired, item.live.as_deref(), &error, self.clock.now());
                        }
                        // A failure that waits for a change is reported once: its text is in
                        // the parent's Degraded condition after the first time.
                        let shown = format!("{} {}: {error}", item.key.type_ref.kind, item.key.name);
                        if retryable || !super::surface::degraded_mentions(parent, &shown) {
                            let note = format!("{} {} failed: {error}", item.action.verb(), describe(&item.key));
                            let event = Event::warning(
                                reason::WRITE_FAILED,
                                verb_action(&item.action),
                                note,
                                parent.object_ref(),
                            )
                            .related_to(item.key.clone());
                            self.emit(event).await;
                        }
                        outcome.failures.push(WriteFailure {
                            key: item.key.clone(),
                            error,
                            retryable,
                        });
                    }
                },
                _ => {}
            }
        }
        for event in done.into_events() {
            self.emit(event).await;
        }
        Ok(outcome)
    }

    /// Writes `item`, unless the same write was rejected permanently and nothing changed
    /// since (see [`super::rejected`]): then the rejection is returned again without a request.
    /// Returns what a server-side apply wrote (None for other writes).
    async fn write_unless_rejected(&self, item: &PlanItem) -> Result<Option<Arc<Object>>, StoreError> {
        if let Some(desired) = item.desired.as_deref()
            && let Some(error) = self.rejected.repeat_of(desired, item.live.as_deref(), self.clock.now())
        {
            return Err(error);
        }
        let result = self.write_item(item).await;
        if result.is_ok() {
            self.rejected.forget(&item.key);
        }
        result
    }

    /// Whether `parent` (as cached) still exists on the server, same uid.
    async fn parent_is_live(&self, parent: &Object) -> Result<bool, ReconcileError> {
        match self.store.get(&parent.object_ref()).await {
            Ok(live) => Ok(live.uid() == parent.uid()),
            Err(StoreError::NotFound { .. }) => Ok(false),
            Err(e) => Err(ReconcileError::Retryable(e)),
        }
    }

    async fn write_item(&self, item: &PlanItem) -> Result<Option<Arc<Object>>, StoreError> {
        match (&item.action, item.desired.as_deref(), item.live.as_ref()) {
            (Action::Create, Some(desired), _) => self.upsert(desired, None).await,
            (Action::Update { .. }, Some(desired), live) => self.upsert(desired, live).await,
            (Action::Recreate { .. }, Some(desired), Some(live)) => match self.delete_child(live).await? {
                Some(DeleteOutcome::Pending(_)) => Ok(None),
                _ => self.upsert(desired, None).await,
            },
            (Action::Delete, _, Some(live)) => self.delete_child(live).await.map(|_| None),
            _ => Ok(None),
        }
    }

    /// Creates or updates `desired`. With server-side apply the operator's fields are applied
    /// (force: the operator owns what it declares); otherwise create, or overlay the desired
    /// fields on the live object and replace with its resourceVersion.
    ///
    /// Every write of an object the plan saw carries that object's resourceVersion as a
    /// precondition (an apply too: the server then answers 409 if it changed). The plan may
    /// come from a stale cache (after a restart whose first list lagged): a child the user
    /// orphaned since must not be written blindly. On a Conflict the child is read again, and
    /// the write is retried only while its controller is still the one the plan saw.
    /// Returns the object a server-side apply wrote (None for a create or replace: only an
    /// apply leaves the manager owning exactly what it declared).
    async fn upsert(&self, desired: &Object, live: Option<&Arc<Object>>) -> Result<Option<Arc<Object>>, StoreError> {
        let ssa = self.store.capabilities().server_side_apply != ApplySupport::None;
        let params = WriteParams {
            dry_run: false,
            field_manager: Some(self.config.field_manager.clone()),
        };
        let planned = live.map_or_else(|| controller_uid(desired), |l| controller_uid(l));
        let mut live: Option<Arc<Object>> = live.cloned();
        for _ in 0..=self.config.conflict_retries {
            let result = match &live {
                _ if ssa => {
                    // An apply creates or modifies. A child the plan thinks absent is applied
                    // with a resourceVersion no object has: the server drops it when the apply
                    // creates, and answers 409 when the child exists after all, which reads it
                    // (one that another controller, or none, holds is not taken over).
                    let rv = live
                        .as_deref()
                        .and_then(Object::resource_version)
                        .unwrap_or(CREATE_ONLY_RESOURCE_VERSION);
                    let params = PatchParams {
                        field_manager: params.field_manager.clone(),
                        force: true,
                        ..PatchParams::default()
                    };
                    self.store.apply_object(desired, Some(rv), &params).await
                }
                None => match self.store.create(desired, &params).await {
                    Err(StoreError::AlreadyExists { .. }) => Err(StoreError::conflict("created concurrently")),
                    other => other,
                },
                Some(current) => self.store.replace(&overlay(current, desired)?, &params).await,
            };
            match result {
                Ok(written) => return Ok(ssa.then_some(written)),
                Err(StoreError::Conflict { .. }) => {
                    live = self
                        .reread(live.as_deref().unwrap_or(desired), planned.as_deref())
                        .await?;
                }
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::conflict(format!(
            "{}: still conflicting after {} retries",
            desired.object_ref(),
            self.config.conflict_retries
        )))
    }

    /// Reads `child` again after a Conflict. A child whose controller is no longer `planned`
    /// (orphaned, adopted by someone else) is a Conflict: the next reconcile plans again.
    async fn reread(&self, child: &Object, planned: Option<&str>) -> Result<Option<Arc<Object>>, StoreError> {
        let current = self
            .store
            .get(&child.object_ref())
            .await
            .map(Some)
            .or_else(not_found_none)?;
        match &current {
            Some(now) if controller_uid(now).as_deref() != planned => Err(StoreError::conflict(format!(
                "{}: its controller changed since it was planned; planning again",
                child.object_ref()
            ))),
            _ => Ok(current),
        }
    }

    /// Deletes a child the plan saw, with its uid and resourceVersion as preconditions (a
    /// stale plan must not delete a child that changed hands); a Conflict reads it again.
    async fn delete_child(&self, live: &Arc<Object>) -> Result<Option<DeleteOutcome>, StoreError> {
        let planned = controller_uid(live);
        let mut current = Arc::clone(live);
        for _ in 0..=self.config.conflict_retries {
            let params = DeleteParams {
                preconditions: Some(Preconditions {
                    uid: current.uid().map(str::to_owned),
                    resource_version: current.resource_version().map(str::to_owned),
                }),
                ..DeleteParams::default()
            };
            match self.store.delete(&current.object_ref(), &params).await {
                Ok(outcome) => return Ok(Some(outcome)),
                Err(StoreError::NotFound { .. }) => return Ok(None),
                Err(StoreError::Conflict { .. }) => match self.reread(&current, planned.as_deref()).await? {
                    Some(now) if now.uid() == live.uid() => current = now,
                    _ => return Ok(None),
                },
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::conflict(format!(
            "{}: still conflicting after {} retries",
            live.object_ref(),
            self.config.conflict_retries
        )))
    }

    async fn report_blocked(&self, parent: &Object, item: &PlanItem, why: &BlockReason) {
        let (reason, note) = match why {
            BlockReason::ImmutableChange { changes } => (
                reason::IMMUTABLE_FIELD_CHANGED,
                format!(
                    "{}: immutable fields changed and recreate is not allowed: {}",
                    describe(&item.key),
                    join(changes)
                ),
            ),
            BlockReason::OwnedByOther { owner } => (
                reason::OWNED_BY_OTHER,
                format!(
                    "{} is controlled by {} {}; not touching it",
                    describe(&item.key),
                    owner.kind,
                    owner.name
                ),
            ),
            BlockReason::NotOwned => (
                reason::OWNED_BY_OTHER,
                format!("{} exists without a controller; adoption is off", describe(&item.key)),
            ),
            BlockReason::KindNotListed => (
                reason::LIST_FORBIDDEN,
                format!("{}: its kind cannot be listed", describe(&item.key)),
            ),
        };
        self.emit(Event::warning(reason, "Reconcile", note, parent.object_ref()).related_to(item.key.clone()))
            .await;
    }
}

/// The uid of the object's controller owner.
fn controller_uid(object: &Object) -> Option<String> {
    object.controller_owner().map(|o| o.uid.clone())
}

fn not_found_none(e: StoreError) -> Result<Option<Arc<Object>>, StoreError> {
    match e {
        StoreError::NotFound { .. } => Ok(None),
        e => Err(e),
    }
}

/// The live object with every field of `desired` written over it (maps merged key by key,
/// anything else replaced), so fields other actors set survive a replace.
fn overlay(live: &Object, desired: &Object) -> Result<Object, StoreError> {
    let mut merged = live.clone();
    let meta = &desired.metadata;
    for (src, dst) in [
        (&meta.labels, &mut merged.metadata.labels),
        (&meta.annotations, &mut merged.metadata.annotations),
    ] {
        if let Some(src) = src {
            dst.get_or_insert_with(Default::default)
                .extend(src.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }
    if meta.owner_references.is_some() {
        merged.metadata.owner_references = meta.owner_references.clone();
    }
    for (k, v) in &desired.body {
        match merged.body.get_mut(k) {
            Some(existing) => merge_value(existing, v),
            None => {
                merged.body.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(merged)
}

fn merge_value(target: &mut Value, src: &Value) {
    match (target, src) {
        (Value::Object(t), Value::Object(s)) => {
            for (k, v) in s {
                match t.get_mut(k) {
                    Some(existing) => merge_value(existing, v),
                    None => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (t, s) => *t = s.clone(),
    }
}

fn success_event(parent: &Object, item: &PlanItem) -> Event {
    let what = describe(&item.key);
    let (reason, note) = match &item.action {
        Action::Create => (reason::CREATED, format!("{what} created")),
        Action::Update {
            reason: UpdateReason::Drift,
            changes,
        } => (
            reason::DRIFT_REPAIRED,
            format!("{what}: repaired manual change: {}", join(changes)),
        ),
        Action::Update {
            reason: UpdateReason::Adopt,
            ..
        } => (reason::UPDATED, format!("{what} adopted")),
        Action::Update { changes, .. } if changes.is_empty() => (reason::UPDATED, format!("{what} updated")),
        Action::Update { changes, .. } => (reason::UPDATED, format!("{what}: {}", join(changes))),
        Action::Recreate { immutable, .. } => (reason::RECREATED, format!("{what} recreated: {}", join(immutable))),
        _ => (reason::DELETED, format!("{what} deleted (no longer desired)")),
    };
    Event::normal(reason, verb_action(&item.action), note, parent.object_ref()).related_to(item.key.clone())
}

/// The successful child writes of one reconcile, folded into one event per reason: a reason
/// with one child keeps that child's event (with `related`); with several, one event names every
/// child in its note (the per-child notes joined with "; ", in plan order) and has no `related`.
/// So a converge sends at most one event per parent and reason, not one per child write.
#[derive(Default)]
struct FoldedEvents {
    by_reason: Vec<Vec<Event>>,
}

impl FoldedEvents {
    fn push(&mut self, event: Event) {
        match self.by_reason.iter_mut().find(|g| g[0].reason == event.reason) {
            Some(group) => group.push(event),
            None => self.by_reason.push(vec![event]),
        }
    }

    fn into_events(self) -> impl Iterator<Item = Event> {
        self.by_reason.into_iter().filter_map(|mut group| {
            if group.len() == 1 {
                return group.pop();
            }
            let note = format!(
                "{} children: {}",
                group.len(),
                group.iter().map(|e| e.note.as_str()).collect::<Vec<_>>().join("; ")
            );
            let first = group.swap_remove(0);
            Some(Event {
                note,
                related: None,
                ..first
            })
        })
    }
}

fn verb_action(action: &Action) -> &'static str {
    match action {
        Action::Create => "Create",
        Action::Update { .. } => "Update",
        Action::Recreate { .. } => "Recreate",
        Action::Delete => "Delete",
        _ => "Reconcile",
    }
}

fn describe(key: &ObjectRef) -> String {
    format!("{} {}", key.type_ref.kind, key.name)
}

fn join(changes: &[FieldChange]) -> String {
    changes.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}
