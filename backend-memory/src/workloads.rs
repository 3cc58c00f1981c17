//! A workload simulator: plays the StatefulSet and Deployment controllers (and their pods) on
//! the memory backend, so readiness gates and ordered rollouts are exercised without a cluster.
//!
//! The memory backend runs no workload controllers
//! ([`Capabilities::workload_controllers`](operator_runtime_core::store::Capabilities) is
//! false); this simulator stands in for them. It keeps its pods to itself (no Pod objects are
//! written) and writes only workload status, with the rules of the kube-controller-manager
//! 1.37 controllers that an operator can observe:
//!
//! - **StatefulSet** (`OrderedReady`): pods are created one ordinal at a time, each once the
//!   previous ones are Ready; scaled down from the highest ordinal; a `RollingUpdate` replaces
//!   pods from the highest ordinal down to `partition`, one at a time, each once all pods are
//!   Ready; an `OnDelete` set never replaces a pod (new ordinals get the update revision).
//!   `currentRevision` moves to `updateRevision` only when every pod is updated and Ready.
//!   `Parallel` creates and deletes all at once. `availableReplicas` honours `minReadySeconds`.
//! - **Deployment**: a `RollingUpdate` surges new pods up to `maxSurge` (25% by default,
//!   rounded up) and removes old pods while at least `replicas - maxUnavailable` (25%, rounded
//!   down) are available; `Recreate` removes every old pod before creating new ones.
//!   `updatedReplicas` counts pods of the current template; `Available` and `Progressing`
//!   conditions are written as the controller does once the rollout completes.
//!
//! Revisions are `<name>-<10 hex digits of the template's hash>`, so going back to an earlier
//! template goes back to its revision, as the real controllers' ControllerRevisions do. A pod
//! becomes Ready `pod_ready_time` after it is created. Time is tokio's (virtual under a paused
//! runtime). The differential test `backend-kube/tests/workload_differential.rs` runs the same
//! rollout sequence here and on a real cluster and compares what the runtime reads.

use std::collections::BTreeMap;
use std::time::Duration;

use operator_runtime_core::store::{ListParams, WriteParams};
use operator_runtime_core::{Object, ObjectStore, ObjectStoreExt, TypeRef};
use serde_json::{Map, Value, json};
use tokio::time::Instant;

/// Plays the workload controllers of one store.
pub struct WorkloadSimulator<S> {
    store: S,
    tick: Duration,
    pod_ready_time: Duration,
    workloads: BTreeMap<String, Workload>,
}

/// A simulated pod: its template revision and when it was created.
#[derive(Debug, Clone)]
struct Pod {
    revision: String,
    created: Instant,
}

#[derive(Debug, Default)]
struct Workload {
    /// StatefulSet: pods by ordinal. Deployment: pods of every revision, oldest first.
    pods: Vec<Pod>,
    /// StatefulSet only.
    current_revision: Option<String>,
}

impl<S: ObjectStore> WorkloadSimulator<S> {
    /// A simulator whose pods become Ready `pod_ready_time` after creation, acting every second.
    pub fn new(store: S, pod_ready_time: Duration) -> Self {
        Self {
            store,
            tick: Duration::from_secs(1),
            pod_ready_time,
            workloads: BTreeMap::new(),
        }
    }

    /// Acts every `tick` instead of every second.
    pub fn with_tick(mut self, tick: Duration) -> Self {
        self.tick = tick;
        self
    }

    /// Runs until the task is dropped or aborted.
    pub async fn run(mut self) {
        loop {
            self.step().await;
            tokio::time::sleep(self.tick).await;
        }
    }

    /// One pass over every workload: at most one rollout action each, then its status.
    /// Returns how many statuses it wrote.
    pub async fn step(&mut self) -> usize {
        let mut written = 0;
        let mut seen = Vec::new();
        for kind in [
            TypeRef::new("apps/v1", "StatefulSet"),
            TypeRef::new("apps/v1", "Deployment"),
        ] {
            let Ok(list) = self.store.list_all(&kind, &ListParams::default()).await else {
                continue;
            };
            for w in list.items {
                let Some(uid) = w.uid().map(str::to_owned) else {
                    continue;
                };
                seen.push(uid.clone());
                if w.is_terminating() {
                    continue;
                }
                let now = Instant::now();
                let state = self.workloads.entry(uid).or_default();
                let spec = WorkloadSpec::of(&w);
                let status = if w.kind == "StatefulSet" {
                    state.step_stateful_set(&spec, now, self.pod_ready_time);
                    state.stateful_set_status(&spec, now, self.pod_ready_time)
                } else {
                    state.step_deployment(&spec, now, self.pod_ready_time);
                    state.deployment_status(&spec, now, self.pod_ready_time)
                };
                if w.status() == Some(&status) {
                    continue;
                }
                let mut updated = (*w).clone();
                updated.body.insert("status".into(), status);
                // A concurrent change (Conflict) is picked up on the next tick.
                if self
                    .store
                    .replace_status(&updated, &WriteParams::default())
                    .await
                    .is_ok()
                {
                    written += 1;
                }
            }
        }
        self.workloads.retain(|uid, _| seen.contains(uid));
        written
    }
}

/// What the simulator reads of a workload's spec.
struct WorkloadSpec {
    generation: i64,
    replicas: usize,
    revision: String,
    /// StatefulSet: `OnDelete`; Deployment: `Recreate`.
    alternate_strategy: bool,
    partition: usize,
    parallel: bool,
    min_ready: Duration,
    max_surge: usize,
    max_unavailable: usize,
}

impl WorkloadSpec {
    fn of(w: &Object) -> Self {
        let spec = w.spec().cloned().unwrap_or(Value::Null);
        let int = |path: &[&str]| path.iter().try_fold(&spec, |v, k| v.get(*k)).and_then(Value::as_i64);
        let str_at = |path: &[&str]| {
            path.iter()
                .try_fold(&spec, |v, k| v.get(*k))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let replicas = int(&["replicas"]).unwrap_or(1).max(0) as usize;
        let strategy_key = if w.kind == "StatefulSet" {
            "updateStrategy"
        } else {
            "strategy"
        };
        let strategy = str_at(&[strategy_key, "type"]).unwrap_or_default();
        let percent = |key: &str, default: &str, round_up: bool| {
            let raw = spec
                .get("strategy")
                .and_then(|s| s.get("rollingUpdate"))
                .and_then(|r| r.get(key))
                .cloned()
                .unwrap_or_else(|| json!(default));
            scaled_value(&raw, replicas, round_up)
        };
        let (mut max_surge, mut max_unavailable) = (
            percent("maxSurge", "25%", true),
            percent("maxUnavailable", "25%", false),
        );
        if max_surge == 0 && max_unavailable == 0 {
            // The deployment controller's rule: both zero would never progress.
            max_unavailable = 1;
        }
        if strategy == "Recreate" {
            max_surge = 0;
        }
        WorkloadSpec {
            generation: w.metadata.generation.unwrap_or(0),
            replicas,
            revision: format!("{}-{}", w.name(), short_hash(spec.get("template"))),
            alternate_strategy: strategy == "OnDelete" || strategy == "Recreate",
            partition: int(&["updateStrategy", "rollingUpdate", "partition"])
                .unwrap_or(0)
                .max(0) as usize,
            parallel: str_at(&["podManagementPolicy"]).as_deref() == Some("Parallel"),
            min_ready: Duration::from_secs(int(&["minReadySeconds"]).unwrap_or(0).max(0) as u64),
            max_surge,
            max_unavailable,
        }
    }
}

/// `maxSurge`/`maxUnavailable`: an integer, or a percentage of `replicas`.
fn scaled_value(raw: &Value, replicas: usize, round_up: bool) -> usize {
    match raw {
        Value::Number(n) => n.as_u64().unwrap_or(0) as usize,
        Value::String(s) => {
            let percent: usize = s.trim_end_matches('%').parse().unwrap_or(0);
            let scaled = percent * replicas;
            if round_up { scaled.div_ceil(100) } else { scaled / 100 }
        }
        _ => 0,
    }
}

impl Pod {
    fn ready(&self, now: Instant, ready_time: Duration) -> bool {
        now.duration_since(self.created) >= ready_time
    }

    fn available(&self, now: Instant, ready_time: Duration, min_ready: Duration) -> bool {
        now.duration_since(self.created) >= ready_time + min_ready
    }
}

impl Workload {
    fn all_ready(&self, now: Instant, ready_time: Duration) -> bool {
        self.pods.iter().all(|p| p.ready(now, ready_time))
    }

    fn step_stateful_set(&mut self, spec: &WorkloadSpec, now: Instant, ready_time: Duration) {
        let current = self
            .current_revision
            .get_or_insert_with(|| spec.revision.clone())
            .clone();
        let new_pod = |ordinal: usize| Pod {
            // Below the partition, a rolling update recreates pods at the current revision.
            revision: if !spec.alternate_strategy && ordinal < spec.partition {
                current.clone()
            } else {
                spec.revision.clone()
            },
            created: now,
        };
        if spec.parallel {
            while self.pods.len() < spec.replicas {
                self.pods.push(new_pod(self.pods.len()));
            }
            self.pods.truncate(spec.replicas);
        } else if !self.all_ready(now, ready_time) {
            // OrderedReady: nothing happens while a pod is not Ready.
            return;
        } else if self.pods.len() < spec.replicas {
            self.pods.push(new_pod(self.pods.len()));
            return;
        } else if self.pods.len() > spec.replicas {
            self.pods.pop();
            return;
        }
        // A rolling update replaces one pod at a time, from the highest ordinal down to the
        // partition, once every pod is Ready.
        if spec.alternate_strategy || !self.all_ready(now, ready_time) {
            return;
        }
        if let Some(ordinal) = (spec.partition..self.pods.len())
            .rev()
            .find(|&i| self.pods[i].revision != spec.revision)
        {
            self.pods[ordinal] = Pod {
                revision: spec.revision.clone(),
                created: now,
            };
        }
    }

    /// Pods in all, Ready, available (Ready for `minReadySeconds`) and at the update revision.
    fn counts(&self, spec: &WorkloadSpec, now: Instant, ready_time: Duration) -> (usize, usize, usize, usize) {
        let count = |f: &dyn Fn(&Pod) -> bool| self.pods.iter().filter(|p| f(p)).count();
        (
            self.pods.len(),
            count(&|p| p.ready(now, ready_time)),
            count(&|p| p.available(now, ready_time, spec.min_ready)),
            count(&|p| p.revision == spec.revision),
        )
    }

    fn stateful_set_status(&mut self, spec: &WorkloadSpec, now: Instant, ready_time: Duration) -> Value {
        let (pods, ready, available, updated) = self.counts(spec, now, ready_time);
        if !spec.alternate_strategy && updated == pods && ready == pods {
            self.current_revision = Some(spec.revision.clone());
        }
        let current_revision = self.current_revision.clone().unwrap_or_else(|| spec.revision.clone());
        let current = self.pods.iter().filter(|p| p.revision == current_revision).count();
        let mut status = Map::new();
        status.insert("observedGeneration".into(), json!(spec.generation));
        status.insert("replicas".into(), json!(pods));
        // The real status omits zero counts (omitempty), except replicas and availableReplicas.
        for (key, n) in [
            ("readyReplicas", ready),
            ("currentReplicas", current),
            ("updatedReplicas", updated),
        ] {
            if n > 0 {
                status.insert(key.into(), json!(n));
            }
        }
        status.insert("availableReplicas".into(), json!(available));
        status.insert("currentRevision".into(), json!(current_revision));
        status.insert("updateRevision".into(), json!(spec.revision));
        status.insert("collisionCount".into(), json!(0));
        Value::Object(status)
    }

    fn step_deployment(&mut self, spec: &WorkloadSpec, now: Instant, ready_time: Duration) {
        let is_new = |p: &Pod| p.revision == spec.revision;
        let new = self.pods.iter().filter(|p| is_new(p)).count();
        let old = self.pods.len() - new;
        if new > spec.replicas {
            // Scale down: drop new pods beyond the desired count.
            let mut extra = new - spec.replicas;
            self.pods.retain(|p| {
                !(is_new(p) && extra > 0 && {
                    extra -= 1;
                    true
                })
            });
            return;
        }
        if spec.alternate_strategy && old > 0 {
            // Recreate: every old pod goes before any new one is created.
            self.pods.retain(|p| is_new(p));
            return;
        }
        let room = (spec.replicas + spec.max_surge).saturating_sub(self.pods.len());
        for _ in 0..room.min(spec.replicas - new) {
            self.pods.push(Pod {
                revision: spec.revision.clone(),
                created: now,
            });
        }
        // Old pods go while enough pods stay available; unready old pods go first.
        let min_available = spec.replicas.saturating_sub(spec.max_unavailable);
        let available = self.pods.iter().filter(|p| p.ready(now, ready_time)).count();
        let mut removable = available.saturating_sub(min_available);
        let unready_old: Vec<usize> = (0..self.pods.len())
            .filter(|&i| !is_new(&self.pods[i]) && !self.pods[i].ready(now, ready_time))
            .collect();
        let mut remove = vec![false; self.pods.len()];
        for i in unready_old {
            remove[i] = true;
        }
        for (i, p) in self.pods.iter().enumerate() {
            if removable == 0 {
                break;
            }
            if !is_new(p) && !remove[i] {
                remove[i] = true;
                removable -= 1;
            }
        }
        let mut index = 0;
        self.pods.retain(|_| {
            let keep = !remove[index];
            index += 1;
            keep
        });
    }

    fn deployment_status(&mut self, spec: &WorkloadSpec, now: Instant, ready_time: Duration) -> Value {
        let (pods, ready, available, updated) = self.counts(spec, now, ready_time);
        let mut status = Map::new();
        status.insert("observedGeneration".into(), json!(spec.generation));
        for (key, n) in [
            ("replicas", pods),
            ("updatedReplicas", updated),
            ("readyReplicas", ready),
            ("availableReplicas", available),
            ("unavailableReplicas", spec.replicas.saturating_sub(available)),
        ] {
            if n > 0 {
                status.insert(key.into(), json!(n));
            }
        }
        let min_available = spec.replicas.saturating_sub(spec.max_unavailable);
        let complete = updated == spec.replicas && pods == spec.replicas && available == spec.replicas;
        status.insert(
            "conditions".into(),
            json!([
                condition(
                    "Available",
                    available >= min_available,
                    if available >= min_available {
                        (
                            "MinimumReplicasAvailable",
                            "Deployment has minimum availability.".to_owned(),
                        )
                    } else {
                        (
                            "MinimumReplicasUnavailable",
                            "Deployment does not have minimum availability.".to_owned(),
                        )
                    }
                ),
                condition(
                    "Progressing",
                    true,
                    if complete {
                        (
                            "NewReplicaSetAvailable",
                            format!("ReplicaSet \"{}\" has successfully progressed.", spec.revision),
                        )
                    } else {
                        (
                            "ReplicaSetUpdated",
                            format!("ReplicaSet \"{}\" is progressing.", spec.revision),
                        )
                    }
                ),
            ]),
        );
        Value::Object(status)
    }
}

fn condition(kind: &str, status: bool, (reason, message): (&str, String)) -> Value {
    json!({"type": kind, "status": if status { "True" } else { "False" }, "reason": reason, "message": message})
}

fn short_hash(template: Option<&Value>) -> String {
    let full =
        operator_runtime_core::hash::canonical_hash(&template.cloned().unwrap_or(Value::Null)).unwrap_or_default();
    full.chars().take(10).collect()
}
