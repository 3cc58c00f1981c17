//! Fault injection: [`FaultyStore`] wraps any [`ObjectStore`] and injects the failures a
//! real API server produces, scripted through a [`FaultHandle`] or drawn at seeded-random
//! [`FaultRates`].
//!
//! What can be injected:
//! - a call fails with a chosen [`StoreError`] without reaching the store ([`FaultHandle::fail_next`]);
//! - a write reaches the store and the caller gets [`StoreError::Timeout`]: the outcome is
//!   ambiguous, as after a lost response ([`FaultHandle::timeout_after_next_writes`]);
//! - a call is held back in tokio time ([`FaultHandle::delay_next`]);
//! - a get or list is served from what a reader saw earlier ([`FaultHandle::lag_next_reads`]);
//! - watch events are lost, duplicated or delayed, and a watch ends with 410 Expired.
//!
//! Determinism: random faults come from a ChaCha RNG seeded with a `u64` (never OS
//! randomness), and every decision is taken in call order under one lock. The same seed and
//! the same sequence of calls give the same faults and the same [`FaultRecord`] log. Delays
//! use `tokio::time`, so tests run them instantly with `start_paused = true`.
//!
//! ```
//! # use operator_runtime_memory::faults::{FaultyStore, Operation};
//! # use operator_runtime_core::{StoreError, ObjectStore};
//! # fn wrap<S: ObjectStore>(store: S) {
//! let faulty = FaultyStore::new(store, 42);
//! faulty.handle().fail_next(Operation::Get, 2, StoreError::backend("connection reset"));
//! # }
//! ```

mod handle;
mod log;
mod operation;
mod rates;
mod state;
mod watch;

use std::future::Future;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use operator_runtime_core::store::{
    DeleteOutcome, DeleteParams, KindInfo, ListParams, Patch, PatchParams, StoreResult, WatchParams, WatchStream,
    WriteParams,
};
use operator_runtime_core::{Capabilities, Object, ObjectList, ObjectRef, ObjectStore, StoreError, TypeRef};

pub use handle::FaultHandle;
pub use log::{FaultRecord, FaultSource, InjectedFault};
pub use operation::{OpFilter, Operation};
pub use rates::FaultRates;

use log::InjectedFault as Fault;
use state::{CallPlan, FaultState};

/// An [`ObjectStore`] that injects faults into the calls it forwards to `S`.
#[derive(Debug)]
pub struct FaultyStore<S> {
    inner: S,
    state: Arc<Mutex<FaultState>>,
}

impl<S: ObjectStore> FaultyStore<S> {
    /// Wraps `inner` with no faults active; `seed` seeds the RNG of random faults.
    pub fn new(inner: S, seed: u64) -> Self {
        Self::with_rates(inner, seed, None)
    }

    /// Wraps `inner` with random faults at `rates` from the start.
    pub fn with_rates(inner: S, seed: u64, rates: impl Into<Option<FaultRates>>) -> Self {
        Self {
            inner,
            state: Arc::new(Mutex::new(FaultState::new(seed, rates.into()))),
        }
    }

    /// A handle to script faults and read the log; clones share the same state.
    pub fn handle(&self) -> FaultHandle {
        FaultHandle {
            state: Arc::clone(&self.state),
        }
    }

    /// The wrapped store (calls on it bypass fault injection).
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Unwraps the store.
    pub fn into_inner(self) -> S {
        self.inner
    }

    fn plan(&self, op: Operation, target: &(dyn Fn() -> String + Sync)) -> CallPlan {
        FaultState::lock(&self.state).plan_call(op, target)
    }

    /// Runs one call under `plan`: delay, injected error, then the call, then an injected
    /// timeout for writes.
    async fn run<T>(
        &self,
        op: Operation,
        plan: CallPlan,
        target: &(dyn Fn() -> String + Sync),
        call: impl Future<Output = StoreResult<T>>,
    ) -> StoreResult<T> {
        if let Some(delay) = plan.delay {
            tokio::time::sleep(delay).await;
        }
        if let Some(error) = plan.fail {
            return Err(error);
        }
        let result = call.await;
        match plan.timeout_after_write {
            Some(source) => {
                let applied = result.is_ok();
                FaultState::lock(&self.state).record(
                    plan.step,
                    op,
                    target(),
                    source,
                    Fault::TimeoutAfterWrite { applied },
                );
                Err(StoreError::Timeout {
                    message: format!("injected: the server did not answer in time ({})", target()),
                    source: None,
                })
            }
            None => result,
        }
    }

    async fn write(
        &self,
        op: Operation,
        target: &(dyn Fn() -> String + Sync),
        call: impl Future<Output = StoreResult<Arc<Object>>>,
    ) -> StoreResult<Arc<Object>> {
        let plan = self.plan(op, target);
        self.run(op, plan, target, call).await
    }
}

fn object_target(object: &Object) -> String {
    let name = match (object.name(), object.metadata.generate_name.as_deref()) {
        ("", Some(prefix)) => format!("{prefix}*"),
        (name, _) => name.to_owned(),
    };
    match object.namespace() {
        Some(ns) => format!("{} {ns}/{name}", object.kind),
        None => format!("{} {name}", object.kind),
    }
}

fn kind_target(type_ref: &TypeRef, namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) => format!("{type_ref} in {ns}"),
        None => type_ref.to_string(),
    }
}

#[async_trait]
impl<S: ObjectStore> ObjectStore for FaultyStore<S> {
    fn capabilities(&self) -> Capabilities {
        let mut caps = self.inner.capabilities();
        caps.name = format!("{} (faulty)", caps.name);
        caps
    }

    async fn kind_info(&self, type_ref: &TypeRef) -> StoreResult<KindInfo> {
        // Discovery is not one of the faulted verbs: it is cached by every real client.
        self.inner.kind_info(type_ref).await
    }

    async fn get(&self, key: &ObjectRef) -> StoreResult<Arc<Object>> {
        let target = || key.to_string();
        let mut plan = self.plan(Operation::Get, &target);
        if let Some(source) = plan.stale.take() {
            let seen = FaultState::lock(&self.state).stale_object(key);
            if let Some(object) = seen {
                FaultState::lock(&self.state).record(plan.step, Operation::Get, target(), source, Fault::StaleRead);
                return Ok(object);
            }
        }
        let result = self.run(Operation::Get, plan, &target, self.inner.get(key)).await;
        if let Ok(object) = &result {
            FaultState::lock(&self.state).remember_object(object);
        }
        result
    }

    async fn list(&self, type_ref: &TypeRef, params: &ListParams) -> StoreResult<ObjectList> {
        let target = || kind_target(type_ref, params.namespace.as_deref());
        let mut plan = self.plan(Operation::List, &target);
        if let Some(source) = plan.stale.take() {
            let seen = FaultState::lock(&self.state).stale_list(type_ref, params);
            if let Some(list) = seen {
                FaultState::lock(&self.state).record(plan.step, Operation::List, target(), source, Fault::StaleRead);
                return Ok(list);
            }
        }
        let result = self
            .run(Operation::List, plan, &target, self.inner.list(type_ref, params))
            .await;
        if let Ok(list) = &result {
            FaultState::lock(&self.state).remember_list(type_ref, params, list);
        }
        result
    }

    async fn create(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        let target = || object_target(object);
        self.write(Operation::Create, &target, self.inner.create(object, params))
            .await
    }

    async fn replace(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        let target = || object_target(object);
        self.write(Operation::Replace, &target, self.inner.replace(object, params))
            .await
    }

    async fn replace_status(&self, object: &Object, params: &WriteParams) -> StoreResult<Arc<Object>> {
        let target = || object_target(object);
        self.write(
            Operation::ReplaceStatus,
            &target,
            self.inner.replace_status(object, params),
        )
        .await
    }

    async fn patch(&self, key: &ObjectRef, patch: &Patch, params: &PatchParams) -> StoreResult<Arc<Object>> {
        let target = || key.to_string();
        self.write(Operation::Patch, &target, self.inner.patch(key, patch, params))
            .await
    }

    async fn delete(&self, key: &ObjectRef, params: &DeleteParams) -> StoreResult<DeleteOutcome> {
        let target = || key.to_string();
        let plan = self.plan(Operation::Delete, &target);
        self.run(Operation::Delete, plan, &target, self.inner.delete(key, params))
            .await
    }

    async fn watch(&self, type_ref: &TypeRef, params: &WatchParams) -> StoreResult<WatchStream> {
        let target = || kind_target(type_ref, params.namespace.as_deref());
        let plan = self.plan(Operation::Watch, &target);
        let stream = self
            .run(Operation::Watch, plan, &target, self.inner.watch(type_ref, params))
            .await?;
        let id = FaultState::lock(&self.state).next_watch_id();
        Ok(watch::faulty_watch(
            stream,
            Arc::clone(&self.state),
            format!("watch#{id} {}", target()),
        ))
    }
}
