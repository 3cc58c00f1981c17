//! The status a new object reads back with before any controller writes one: Go encodes a
//! status struct's fields that have no `omitempty` even when zero, and the Pod create strategy
//! sets the phase and QoS class. Missing fields are filled; fields already there are kept.

use serde_json::{Value, json};

use super::fields::{Obj, each_mut, object_mut};

/// Fills the zero-valued status fields of a built-in kind.
pub(crate) fn zero_status(api_version: &str, kind: &str, body: &mut Obj) {
    let zero = match (api_version, kind) {
        ("apps/v1", "Deployment") | ("batch/v1", "Job" | "CronJob") => json!({}),
        ("apps/v1", "StatefulSet") => json!({"replicas": 0, "availableReplicas": 0}),
        ("apps/v1", "DaemonSet") => json!({
            "currentNumberScheduled": 0,
            "numberMisscheduled": 0,
            "desiredNumberScheduled": 0,
            "numberReady": 0
        }),
        ("policy/v1", "PodDisruptionBudget") => json!({
            "disruptionsAllowed": 0,
            "currentHealthy": 0,
            "desiredHealthy": 0,
            "expectedPods": 0
        }),
        ("networking.k8s.io/v1", "Ingress") => json!({"loadBalancer": {}}),
        ("autoscaling/v2", "HorizontalPodAutoscaler") => json!({"currentMetrics": null, "desiredReplicas": 0}),
        _ => return,
    };
    let Value::Object(zero) = zero else { return };
    let Some(status) = object_mut(body, "status") else {
        return;
    };
    for (key, value) in zero {
        status.entry(key).or_insert(value);
    }
    if (api_version, kind) == ("batch/v1", "Job") {
        // `active`, `succeeded` and `failed` are `omitempty` int32s (`ready` and
        // `terminating` are pointers, kept at 0).
        for key in ["active", "succeeded", "failed"] {
            if status.get(key).and_then(Value::as_i64) == Some(0) {
                status.remove(key);
            }
        }
    }
}

/// A pod condition's times are `metav1.Time` structs, which `omitempty` does not leave out:
/// unset, they encode as `null` (and so are fields of the writer's entry).
pub(crate) fn pod_condition_times(body: &mut Obj) {
    let Some(status) = object_mut(body, "status") else {
        return;
    };
    for condition in each_mut(status, "conditions") {
        for key in ["lastProbeTime", "lastTransitionTime"] {
            condition.entry(key).or_insert(Value::Null);
        }
    }
}

/// The Pod create strategy's status: phase Pending and the QoS class.
pub(crate) fn new_pod_status(body: &mut Obj) {
    let qos = body
        .get_mut("spec")
        .and_then(Value::as_object_mut)
        .map_or("BestEffort", qos_class);
    body.insert("status".into(), json!({"phase": "Pending", "qosClass": qos}));
}

/// The compute resources QoS looks at.
const QOS_RESOURCES: [&str; 2] = ["cpu", "memory"];

/// `qos.GetPodQOS` for container-level resources: BestEffort without any cpu or memory
/// request or limit; Guaranteed when every container limits both and requests exactly its
/// limits (requests were defaulted from limits already; quantities are compared as written);
/// Burstable otherwise. Pod-level resources are not considered.
fn qos_class(spec: &mut Obj) -> &'static str {
    let mut any = false;
    let mut guaranteed = true;
    for list in ["initContainers", "containers"] {
        for container in each_mut(spec, list) {
            let resources = container.get("resources");
            let get = |kind: &str, name: &str| {
                resources
                    .and_then(|r| r.get(kind))
                    .and_then(|m| m.get(name))
                    .and_then(Value::as_str)
                    .filter(|q| !is_zero(q))
            };
            for name in QOS_RESOURCES {
                let (request, limit) = (get("requests", name), get("limits", name));
                any |= request.is_some() || limit.is_some();
                guaranteed &= limit.is_some() && request == limit;
            }
        }
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
}

/// Whether a quantity string is zero (`0`, `0m`, `0.0Gi`, ...).
fn is_zero(quantity: &str) -> bool {
    let number: String = quantity
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '+' || *c == '-')
        .collect();
    number.parse::<f64>().is_ok_and(|n| n == 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qos(containers: Value) -> &'static str {
        let mut body = json!({"spec": {"containers": containers}});
        let body = body.as_object_mut().expect("object");
        new_pod_status(body);
        match body["status"]["qosClass"].as_str() {
            Some("BestEffort") => "BestEffort",
            Some("Guaranteed") => "Guaranteed",
            Some("Burstable") => "Burstable",
            _ => "",
        }
    }

    #[test]
    fn qos_class_follows_requests_and_limits() {
        assert_eq!(qos(json!([{"name": "a"}])), "BestEffort");
        assert_eq!(
            qos(json!([{"name": "a", "resources": {"requests": {"cpu": "0"}}}])),
            "BestEffort"
        );
        let both = json!({"cpu": "1", "memory": "1Gi"});
        assert_eq!(
            qos(json!([{"name": "a", "resources": {"limits": both, "requests": both}}])),
            "Guaranteed"
        );
        assert_eq!(
            qos(json!([{"name": "a", "resources": {"limits": {"cpu": "1"}, "requests": {"cpu": "1"}}}])),
            "Burstable"
        );
    }
}
