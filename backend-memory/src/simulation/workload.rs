//! The workload actor: plays the StatefulSet and Deployment controllers on the memory
//! backend, so readiness gates and ordered rollouts are exercised without a cluster.
//!
//! Every `tick` it lists StatefulSets and Deployments; a workload whose status does not
//! describe its current generation gets a fully rolled-out status once it has waited
//! `rollout_time` (virtual time under a paused tokio runtime).

use std::collections::BTreeMap;
use std::time::Duration;

use operator_runtime_core::store::{ListParams, WriteParams};
use operator_runtime_core::{Object, ObjectStore, ObjectStoreExt, TypeRef};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::trace::Trace;

/// Plays the workload controllers of one store.
pub struct WorkloadSimulator<S> {
    store: S,
    tick: Duration,
    rollout_time: Duration,
    pending: BTreeMap<(String, i64), Instant>,
    /// The resourceVersion of each workload (by uid) last seen fully rolled out.
    done: BTreeMap<String, String>,
    /// The rolled-out status of each workload (by uid) at a resourceVersion: a workload
    /// waiting for its rollout is looked at every tick, and the status hashes the template.
    statuses: BTreeMap<String, (String, Value)>,
    trace: Option<Trace>,
}

impl<S: ObjectStore> WorkloadSimulator<S> {
    /// A simulator that rolls a workload out `rollout_time` after it changed.
    pub fn new(store: S, rollout_time: Duration) -> Self {
        Self {
            store,
            tick: Duration::from_secs(1),
            rollout_time,
            pending: BTreeMap::new(),
            done: BTreeMap::new(),
            statuses: BTreeMap::new(),
            trace: None,
        }
    }

    /// Records each status write in `trace`.
    pub(crate) fn traced(mut self, trace: Trace) -> Self {
        self.trace = Some(trace);
        self
    }

    /// Runs until the task is dropped or aborted.
    pub async fn run(mut self) {
        loop {
            self.step().await;
            tokio::time::sleep(self.tick).await;
        }
    }

    /// One pass over every workload.
    pub async fn step(&mut self) {
        for kind in [
            TypeRef::new("apps/v1", "StatefulSet"),
            TypeRef::new("apps/v1", "Deployment"),
        ] {
            let Ok(list) = self.store.list_all(&kind, &ListParams::default()).await else {
                continue;
            };
            for w in list.items {
                let uid = w.uid().unwrap_or_default().to_owned();
                let rv = w.resource_version().unwrap_or_default();
                if w.is_terminating() || self.done.get(&uid).is_some_and(|done| done == rv) {
                    continue;
                }
                let generation = w.metadata.generation.unwrap_or(0);
                if self.statuses.get(&uid).is_none_or(|(at, _)| at != rv) {
                    self.statuses
                        .insert(uid.clone(), (rv.to_owned(), rolled_out_status(&w)));
                }
                let Some((_, status)) = self.statuses.get(&uid) else {
                    continue;
                };
                if w.status() == Some(status) {
                    self.statuses.remove(&uid);
                    self.done.insert(uid, rv.to_owned());
                    continue;
                }
                let key = (w.uid().unwrap_or_default().to_owned(), generation);
                let since = *self.pending.entry(key.clone()).or_insert_with(Instant::now);
                if since.elapsed() < self.rollout_time {
                    continue;
                }
                let mut updated = (*w).clone();
                updated.body.insert("status".into(), status.clone());
                // A concurrent change (Conflict) is picked up on the next tick.
                if self
                    .store
                    .replace_status(&updated, &WriteParams::default())
                    .await
                    .is_ok()
                {
                    if let Some(trace) = &self.trace {
                        trace.push(
                            "workload",
                            format!("{} {} rolled out (generation {generation})", w.kind, w.name()),
                        );
                    }
                    self.pending.remove(&key);
                }
            }
        }
    }
}

/// The status of a fully rolled-out workload at its current generation.
pub fn rolled_out_status(w: &Object) -> Value {
    let replicas = w
        .spec()
        .and_then(|s| s.get("replicas"))
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let generation = w.metadata.generation.unwrap_or(0);
    let revision = format!("{}-{}", w.name(), short_hash(w.spec().and_then(|s| s.get("template"))));
    let mut status = json!({"observedGeneration": generation, "replicas": replicas, "readyReplicas": replicas,
        "updatedReplicas": replicas, "availableReplicas": replicas});
    if w.kind == "StatefulSet" {
        status["currentReplicas"] = json!(replicas);
        status["currentRevision"] = json!(revision);
        status["updateRevision"] = json!(revision);
    }
    status
}

fn short_hash(template: Option<&Value>) -> String {
    let full =
        operator_runtime_core::hash::canonical_hash(&template.cloned().unwrap_or(Value::Null)).unwrap_or_default();
    full.chars().take(10).collect()
}
