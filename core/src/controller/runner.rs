//! The runner loop: one task owns the queue, the backoff and the set of running reconciles,
//! so the order of work depends only on the order of inputs (deterministic under paused time).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::watch;
use tokio::task::{Id, JoinError, JoinSet};
use tokio::time::{Instant, sleep_until};
use tracing::Instrument;

use super::reason::ReconcileReason;
use super::source::{Change, ObjectSource};
use super::{Controller, ControllerError};
use crate::action::Action;
use crate::backoff::Backoff;
use crate::metrics::{Metrics, ReconcileResult};
use crate::model::{Object, ObjectRef};
use crate::queue::WorkQueue;

/// What a finished [`Controller::run`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Reconciles that returned `Ok`.
    pub succeeded: u64,
    /// Reconciles that returned `Err` or panicked.
    pub failed: u64,
    /// Reconciles aborted (shutdown deadline passed, or leadership lost).
    pub aborted: u64,
}

/// How one reconcile task ended.
enum Finished {
    Ok(Action),
    Err,
    Panic,
    Aborted,
}

struct Running {
    key: ObjectRef,
    started: Instant,
}

/// One step's input, produced by the `select!` and handled after it (so branches borrow
/// nothing the handler needs).
enum Event {
    Shutdown,
    Joined(Result<(Id, Result<Action, ()>), JoinError>),
    Synced,
    Leadership(Option<bool>),
    Change(Option<Change>),
    TimerDue,
    Resync,
}

struct Runner<Src, Ctx, F> {
    source: Arc<Src>,
    watches: super::mapping::Watches,
    config: super::ControllerConfig,
    metrics: Metrics,
    name: String,
    reconcile: F,
    ctx: Arc<Ctx>,
    queue: WorkQueue<ObjectRef, ReconcileReason>,
    backoff: Backoff<ObjectRef>,
    tasks: JoinSet<Result<Action, ()>>,
    running: HashMap<Id, Running>,
    /// Per parent, the resourceVersion of the state last handed to a reconcile: a change of
    /// the parent at that version or older carries nothing the reconcile has not seen.
    handed: HashMap<ObjectRef, u64>,
    summary: RunSummary,
}

impl<Src: ObjectSource> Controller<Src> {
    /// Runs the controller until `shutdown` completes, then lets running reconciles finish
    /// within the shutdown deadline and returns what it did.
    ///
    /// `reconcile` is called with the parent as currently cached and the shared context, as
    /// in kube-runtime's `Controller::run`. A parent no longer in the cache (deleted) is
    /// skipped.
    ///
    /// # Errors
    /// [`ControllerError::Source`] when the source cannot start watching; nothing ran then.
    pub async fn run<Ctx, F, Fut, E>(
        mut self,
        reconcile: F,
        ctx: Arc<Ctx>,
        shutdown: impl Future<Output = ()>,
    ) -> Result<RunSummary, ControllerError>
    where
        Ctx: Send + Sync + 'static,
        F: Fn(Arc<Object>, Arc<Ctx>) -> Fut + Send + Sync,
        Fut: Future<Output = Result<Action, E>> + Send + 'static,
        E: std::error::Error + Send + 'static,
    {
        let leadership = self.leadership.take();
        let runner = Runner {
            source: self.source,
            backoff: Backoff::new(self.config.backoff(), self.config.seed()),
            watches: self.watches,
            config: self.config,
            metrics: self.metrics,
            name: self.name,
            reconcile,
            ctx,
            queue: WorkQueue::new(),
            tasks: JoinSet::new(),
            running: HashMap::new(),
            handed: HashMap::new(),
            summary: RunSummary::default(),
        };
        // Subscribe before waiting for the sync, so no change after the initial list is lost.
        let changes = runner
            .source
            .changes(&runner.watches.kinds())
            .map_err(|e| ControllerError::Source(Box::new(e)))?;
        let span = tracing::info_span!("controller", controller = %runner.name);
        let Some(elector) = self.election.take() else {
            return Ok(runner.run(changes, leadership, shutdown).instrument(span).await);
        };
        // The elector renews until the runner has drained, then steps down and releases.
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let mut election = AbortOnDrop(tokio::spawn(elector.run(async move {
            let _ = stopped.await;
        })));
        let summary = runner.run(changes, leadership, shutdown).instrument(span).await;
        let _ = stop.send(());
        match (&mut election.0).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "releasing the Lease failed; it will expire"),
            Err(error) => tracing::warn!(%error, "the leader election task failed"),
        }
        Ok(summary)
    }
}

impl<Src, Ctx, F, Fut, E> Runner<Src, Ctx, F>
where
    Src: ObjectSource,
    Ctx: Send + Sync + 'static,
    F: Fn(Arc<Object>, Arc<Ctx>) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Action, E>> + Send + 'static,
    E: std::error::Error + Send + 'static,
{
    async fn run(
        mut self,
        changes: BoxStream<'static, Change>,
        mut leadership: Option<watch::Receiver<bool>>,
        shutdown: impl Future<Output = ()>,
    ) -> RunSummary {
        let source = Arc::clone(&self.source);
        let mut changes = Some(changes);
        let synced = source.wait_synced();
        tokio::pin!(synced, shutdown);
        let mut is_synced = false;
        let mut leading = leadership.as_mut().is_none_or(|rx| *rx.borrow_and_update());
        let mut next_resync: Option<Instant> = None;
        loop {
            if is_synced && leading {
                self.start_ready_work();
            }
            self.metrics.set_queue_depth(&self.name, self.queue.waiting_len());
            let next_due = self.queue.next_due();
            let event = tokio::select! {
                biased;
                () = &mut shutdown => Event::Shutdown,
                Some(joined) = self.tasks.join_next_with_id() => Event::Joined(joined),
                // Changes before the sync flag: the initial list's notifications are queued
                // (and de-duplicated) before the first reconciles start.
                change = next_change(&mut changes) => Event::Change(change),
                () = &mut synced, if !is_synced => Event::Synced,
                value = leadership_change(&mut leadership) => Event::Leadership(value),
                () = sleep_until_or_never(next_due) => Event::TimerDue,
                () = sleep_until_or_never(next_resync) => Event::Resync,
            };
            match event {
                Event::Shutdown => break,
                Event::Joined(joined) => self.on_joined(joined, true),
                Event::Synced => {
                    is_synced = true;
                    tracing::info!("cache synced");
                    if leading {
                        self.enqueue_all(&ReconcileReason::Initial);
                    }
                    next_resync = self.config.resync_period().map(|p| Instant::now() + p);
                }
                Event::Leadership(value) => {
                    let now_leading = value.unwrap_or(false);
                    if value.is_none() {
                        // The elector is gone: nobody will ever tell us we lead again.
                        leadership = None;
                    }
                    if now_leading != leading {
                        leading = now_leading;
                        self.on_leadership(leading, is_synced);
                    }
                }
                Event::Change(Some(Change::Lagged)) => {
                    if is_synced && leading {
                        self.enqueue_all(&ReconcileReason::Resync);
                    }
                }
                Event::Change(Some(change)) => {
                    if let Change::Deleted(object) = &change {
                        self.handed.remove(&object.object_ref());
                    }
                    let stale = self.already_handed(&change);
                    for (key, reason) in self.watches.keys_for(&change) {
                        if stale.as_ref() != Some(&key) {
                            self.queue.add(key, reason);
                        }
                    }
                }
                Event::Change(None) => {
                    tracing::warn!("change stream ended; relying on requeues and resync");
                    changes = None;
                }
                Event::TimerDue => self.queue.promote_due(Instant::now()),
                Event::Resync => {
                    if leading {
                        self.enqueue_all(&ReconcileReason::Resync);
                    }
                    next_resync = self.config.resync_period().map(|p| Instant::now() + p);
                }
            }
        }
        self.drain().await
    }

    /// Starts waiting keys while below the concurrency limit.
    fn start_ready_work(&mut self) {
        self.queue.promote_due(Instant::now());
        while self.tasks.len() < self.config.concurrency() {
            let Some((key, reason)) = self.queue.pop() else { break };
            match self.source.get(&key) {
                Some(object) => self.spawn(key, reason, object),
                None => {
                    tracing::debug!(object = %key, "parent no longer cached; skipped");
                    self.queue.finish(&key);
                    self.backoff.reset(&key);
                }
            }
        }
    }

    /// The parent whose own change this is, when a reconcile was already handed that state or
    /// a newer one. Such a change (the watch's Added for a parent the initial list already
    /// queued, or the event of a reconcile's own finalizer or status write, arriving after the
    /// next reconcile already started from the cache that holds it) would only cause a
    /// reconcile of a state already reconciled. Only the parent's own key is skipped; a changed
    /// owner or child still queues its parents. Non-numeric resourceVersions are never compared.
    fn already_handed(&self, change: &Change) -> Option<ObjectRef> {
        let Change::Applied { object, .. } = change else {
            return None;
        };
        if object.type_ref() != *self.watches.parent() {
            return None;
        }
        let key = object.object_ref();
        let version = object.resource_version()?.parse::<u64>().ok()?;
        (self.handed.get(&key).is_some_and(|handed| version <= *handed)).then_some(key)
    }

    fn spawn(&mut self, key: ObjectRef, reason: ReconcileReason, object: Arc<Object>) {
        if let Some(version) = object.resource_version().and_then(|rv| rv.parse::<u64>().ok()) {
            self.handed.insert(key.clone(), version);
        }
        let span = tracing::info_span!(
            "reconcile",
            object = %key,
            reason = %reason,
            result = tracing::field::Empty,
        );
        let future = (self.reconcile)(object, Arc::clone(&self.ctx));
        let record = span.clone();
        let handle = self.tasks.spawn(
            async move {
                match future.await {
                    Ok(action) => {
                        record.record("result", "success");
                        tracing::debug!(requeue_after = ?action.requeue_after, "reconciled");
                        Ok(action)
                    }
                    Err(error) => {
                        record.record("result", "error");
                        tracing::warn!(%error, "reconcile failed");
                        Err(())
                    }
                }
            }
            .instrument(span),
        );
        self.running.insert(
            handle.id(),
            Running {
                key,
                started: Instant::now(),
            },
        );
    }

    /// Books a finished task; with `requeue`, schedules its next run (requeue-after or backoff).
    fn on_joined(&mut self, joined: Result<(Id, Result<Action, ()>), JoinError>, requeue: bool) {
        let (id, finished) = match joined {
            Ok((id, Ok(action))) => (id, Finished::Ok(action)),
            Ok((id, Err(()))) => (id, Finished::Err),
            Err(error) if error.is_cancelled() => (error.id(), Finished::Aborted),
            Err(error) => (error.id(), Finished::Panic),
        };
        let Some(Running { key, started }) = self.running.remove(&id) else {
            return;
        };
        self.queue.finish(&key);
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(started);
        match finished {
            Finished::Ok(action) => {
                self.summary.succeeded += 1;
                self.metrics
                    .record_reconcile(&self.name, ReconcileResult::Success, elapsed);
                self.backoff.reset(&key);
                if let (true, Some(after)) = (requeue, action.requeue_after) {
                    self.queue.add_at(key, ReconcileReason::RequeueAfter, now + after);
                }
            }
            Finished::Err | Finished::Panic => {
                self.summary.failed += 1;
                let result = if matches!(finished, Finished::Panic) {
                    tracing::error!(object = %key, "reconcile panicked");
                    ReconcileResult::Panic
                } else {
                    ReconcileResult::Error
                };
                self.metrics.record_reconcile(&self.name, result, elapsed);
                if requeue {
                    let delay = self.backoff.next_delay(&key);
                    tracing::debug!(object = %key, ?delay, "retrying after backoff");
                    self.queue.add_at(key, ReconcileReason::ErrorBackoff, now + delay);
                }
            }
            Finished::Aborted => self.summary.aborted += 1,
        }
    }

    fn on_leadership(&mut self, leading: bool, is_synced: bool) {
        if leading {
            tracing::info!("leadership gained");
            if is_synced {
                self.enqueue_all(&ReconcileReason::Initial);
            }
        } else {
            // Stop writing now: abort what runs (it stops at its next await) and drop the
            // queue; the next term starts with every parent queued.
            tracing::warn!(
                running = self.tasks.len(),
                "leadership lost; aborting running reconciles"
            );
            self.tasks.abort_all();
            self.queue.clear_pending();
        }
    }

    /// Queues every cached parent, in key order.
    fn enqueue_all(&mut self, reason: &ReconcileReason) {
        let mut keys: Vec<ObjectRef> = self
            .source
            .list(self.watches.parent())
            .iter()
            .map(|o| o.object_ref())
            .collect();
        keys.sort();
        for key in keys {
            self.queue.add(key, reason.clone());
        }
    }

    /// Shutdown: start nothing new, wait for running reconciles up to the deadline, abort the rest.
    async fn drain(mut self) -> RunSummary {
        self.queue.clear_pending();
        let deadline = Instant::now() + self.config.shutdown_deadline();
        if !self.tasks.is_empty() {
            tracing::info!(
                running = self.tasks.len(),
                "shutting down; waiting for running reconciles"
            );
        }
        loop {
            let joined = tokio::select! {
                biased;
                joined = self.tasks.join_next_with_id() => joined,
                () = sleep_until(deadline) => {
                    tracing::warn!(running = self.tasks.len(), "shutdown deadline passed; aborting");
                    self.tasks.abort_all();
                    self.tasks.join_next_with_id().await
                }
            };
            match joined {
                Some(joined) => self.on_joined(joined, false),
                None => break,
            }
        }
        self.metrics.set_queue_depth(&self.name, 0);
        tracing::info!(summary = ?self.summary, "controller stopped");
        self.summary
    }
}

async fn next_change(changes: &mut Option<BoxStream<'static, Change>>) -> Option<Change> {
    match changes {
        Some(stream) => stream.next().await,
        None => std::future::pending().await,
    }
}

/// The next leadership value; None when the sender is gone. Never completes without a receiver.
async fn leadership_change(rx: &mut Option<watch::Receiver<bool>>) -> Option<bool> {
    match rx {
        Some(rx) => match rx.changed().await {
            Ok(()) => Some(*rx.borrow_and_update()),
            Err(_) => None,
        },
        None => std::future::pending().await,
    }
}

async fn sleep_until_or_never(at: Option<Instant>) {
    match at {
        Some(at) => sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Aborts the task when dropped: a controller whose `run` future is dropped (its task
/// aborted, the process going down) must not leave its elector renewing the Lease, or no
/// other replica could ever take over.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
