//! Workload readiness from status alone (pure, no IO): the gate between rollout groups.
//!
//! # Guarantees
//! - A workload is never Ready before its controller has observed the current spec
//!   (`status.observedGeneration >= metadata.generation`).
//! - StatefulSet: with `RollingUpdate`, every replica at or above the partition is updated
//!   (`updatedReplicas >= replicas - partition`) and, without a partition, `currentRevision ==
//!   updateRevision`; with `OnDelete`, pods are replaced by hand, so readiness only needs the
//!   ready replicas and the observed generation.
//! - Deployment: updated, ready and available replicas all reach `spec.replicas`, and a
//!   `Progressing` condition with reason `ProgressDeadlineExceeded` is a failure.
//! - Any other kind is ready as soon as it exists.

use serde_json::Value;

use crate::model::Object;

/// Whether a workload is ready.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Readiness {
    /// Rolled out and serving.
    Ready,
    /// Still rolling out; `reason` says what is missing.
    Progressing {
        /// Human-readable reason.
        reason: String,
    },
    /// The rollout failed and will not finish by itself.
    Failed {
        /// Human-readable reason.
        reason: String,
    },
}

impl Readiness {
    /// True for [`Readiness::Ready`].
    pub fn is_ready(&self) -> bool {
        matches!(self, Self::Ready)
    }
}

/// Readiness of any object: StatefulSets and Deployments by their status, others by existence.
pub fn readiness(object: &Object) -> Readiness {
    match (object.api_version.as_str(), object.kind.as_str()) {
        ("apps/v1", "StatefulSet") => stateful_set(object),
        ("apps/v1", "Deployment") => deployment(object),
        _ => Readiness::Ready,
    }
}

fn int(v: Option<&Value>, path: &[&str]) -> Option<i64> {
    path.iter().try_fold(v?, |v, key| v.get(key)).and_then(Value::as_i64)
}

fn progressing(reason: String) -> Readiness {
    Readiness::Progressing { reason }
}

/// Common gate: the controller observed the current generation.
fn observed(object: &Object) -> Option<Readiness> {
    let generation = object.metadata.generation.unwrap_or(0);
    let observed = int(object.status(), &["observedGeneration"]).unwrap_or(0);
    (observed < generation).then(|| {
        progressing(format!(
            "generation {generation} not observed yet (observed {observed})"
        ))
    })
}

fn stateful_set(object: &Object) -> Readiness {
    if let Some(r) = observed(object) {
        return r;
    }
    let status = object.status();
    let replicas = int(object.spec(), &["replicas"]).unwrap_or(1);
    let ready = int(status, &["readyReplicas"]).unwrap_or(0);
    let updated = int(status, &["updatedReplicas"]).unwrap_or(0);
    let strategy = object
        .spec()
        .and_then(|s| s.pointer("/updateStrategy/type"))
        .and_then(Value::as_str);
    if ready < replicas {
        return progressing(format!("{ready}/{replicas} replicas ready"));
    }
    if strategy == Some("OnDelete") {
        return Readiness::Ready;
    }
    let partition = int(object.spec(), &["updateStrategy", "rollingUpdate", "partition"])
        .unwrap_or(0)
        .clamp(0, replicas);
    let must_update = replicas - partition;
    if updated < must_update {
        return progressing(format!("{updated}/{must_update} replicas updated"));
    }
    if partition == 0 {
        let current = status.and_then(|s| s.get("currentRevision")).and_then(Value::as_str);
        let update = status.and_then(|s| s.get("updateRevision")).and_then(Value::as_str);
        if let (Some(c), Some(u)) = (current, update)
            && c != u
        {
            return progressing(format!("revision {u} rolling out (current {c})"));
        }
    }
    Readiness::Ready
}

fn deployment(object: &Object) -> Readiness {
    if let Some(r) = observed(object) {
        return r;
    }
    let status = object.status();
    let deadline_exceeded = status
        .and_then(|s| s.get("conditions"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| {
            c.get("type") == Some(&"Progressing".into()) && c.get("reason") == Some(&"ProgressDeadlineExceeded".into())
        });
    if deadline_exceeded {
        return Readiness::Failed {
            reason: "progress deadline exceeded".into(),
        };
    }
    let replicas = int(object.spec(), &["replicas"]).unwrap_or(1);
    for (field, label) in [
        ("updatedReplicas", "updated"),
        ("readyReplicas", "ready"),
        ("availableReplicas", "available"),
    ] {
        let n = int(status, &[field]).unwrap_or(0);
        if n < replicas {
            return progressing(format!("{n}/{replicas} replicas {label}"));
        }
    }
    let total = int(status, &["replicas"]).unwrap_or(0);
    if total > replicas {
        return progressing(format!("{} old replicas pending termination", total - replicas));
    }
    Readiness::Ready
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn workload(kind: &str, generation: i64, spec: Value, status: Value) -> Object {
        let mut o = Object::from_value(json!({"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "w"},
            "spec": spec, "status": status}))
        .unwrap();
        o.metadata.generation = Some(generation);
        o
    }

    #[test]
    fn statefulset_waits_for_observed_generation() {
        let o = workload(
            "StatefulSet",
            2,
            json!({"replicas": 1}),
            json!({"observedGeneration": 1, "readyReplicas": 1, "updatedReplicas": 1}),
        );
        assert!(matches!(readiness(&o), Readiness::Progressing { .. }));
    }

    #[test]
    fn statefulset_rolling_update_needs_all_updated_and_same_revision() {
        let spec = json!({"replicas": 3});
        let not_ready = workload(
            "StatefulSet",
            1,
            spec.clone(),
            json!({"observedGeneration": 1, "readyReplicas": 2, "updatedReplicas": 3}),
        );
        assert_eq!(
            readiness(&not_ready),
            Readiness::Progressing {
                reason: "2/3 replicas ready".into()
            }
        );
        let rolling = workload(
            "StatefulSet",
            1,
            spec.clone(),
            json!({"observedGeneration": 1, "readyReplicas": 3, "updatedReplicas": 3, "currentRevision": "a", "updateRevision": "b"}),
        );
        assert!(matches!(readiness(&rolling), Readiness::Progressing { .. }));
        let done = workload(
            "StatefulSet",
            1,
            spec,
            json!({"observedGeneration": 1, "readyReplicas": 3, "updatedReplicas": 3, "currentRevision": "b", "updateRevision": "b"}),
        );
        assert!(readiness(&done).is_ready());
    }

    #[test]
    fn statefulset_partition_only_requires_replicas_above_it() {
        let spec =
            json!({"replicas": 4, "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 3}}});
        let o = workload(
            "StatefulSet",
            1,
            spec,
            json!({"observedGeneration": 1, "readyReplicas": 4, "updatedReplicas": 1, "currentRevision": "a", "updateRevision": "b"}),
        );
        assert!(readiness(&o).is_ready());
    }

    #[test]
    fn statefulset_on_delete_ignores_updated_replicas() {
        let spec = json!({"replicas": 2, "updateStrategy": {"type": "OnDelete"}});
        let o = workload(
            "StatefulSet",
            1,
            spec,
            json!({"observedGeneration": 1, "readyReplicas": 2, "updatedReplicas": 0}),
        );
        assert!(readiness(&o).is_ready());
    }

    #[test]
    fn deployment_needs_updated_ready_available() {
        let spec = json!({"replicas": 2});
        let o = workload(
            "Deployment",
            1,
            spec.clone(),
            json!({"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 1}),
        );
        assert_eq!(
            readiness(&o),
            Readiness::Progressing {
                reason: "1/2 replicas available".into()
            }
        );
        let o = workload(
            "Deployment",
            1,
            spec,
            json!({"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2}),
        );
        assert!(readiness(&o).is_ready());
    }

    #[test]
    fn deployment_progress_deadline_is_a_failure() {
        let o = workload(
            "Deployment",
            1,
            json!({"replicas": 1}),
            json!({"observedGeneration": 1,
            "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]}),
        );
        assert!(matches!(readiness(&o), Readiness::Failed { .. }));
    }

    #[test]
    fn other_kinds_are_ready_when_they_exist() {
        let o =
            Object::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})).unwrap();
        assert!(readiness(&o).is_ready());
    }
}
