//! `autoscaling/v2` defaults (`k8s.io/kubernetes/pkg/apis/autoscaling/v2/defaults.go`, 1.37.2):
//! minReplicas, the 80% CPU metric, and the scaling rules of a behavior that is present.

use serde_json::{Value, json};

use super::fields::{Obj, default_nil, is_unset, object_mut, present_mut};

/// `autoscaling.DefaultCPUUtilization`.
const DEFAULT_CPU_UTILIZATION: i64 = 80;

/// `SetDefaults_HorizontalPodAutoscaler`.
pub(crate) fn horizontal_pod_autoscaler(body: &mut Obj) {
    let Some(spec) = object_mut(body, "spec") else { return };
    default_nil(spec, "minReplicas", json!(1));
    if is_unset(spec, "metrics") {
        spec.insert(
            "metrics".into(),
            json!([{
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": DEFAULT_CPU_UTILIZATION}
                }
            }]),
        );
    }
    if let Some(behavior) = present_mut(spec, "behavior") {
        let up = json!({
            "stabilizationWindowSeconds": 0,
            "selectPolicy": "Max",
            "policies": [
                {"type": "Pods", "value": 4, "periodSeconds": 15},
                {"type": "Percent", "value": 100, "periodSeconds": 15}
            ]
        });
        let down = json!({
            "selectPolicy": "Max",
            "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]
        });
        fill_rules(behavior, "scaleUp", up);
        fill_rules(behavior, "scaleDown", down);
    }
}

/// `copyHPAScalingRules`: the defaults, overwritten by each field the user set (non-null).
fn fill_rules(behavior: &mut Obj, key: &str, defaults: Value) {
    let mut rules = defaults;
    if let (Some(target), Some(given)) = (rules.as_object_mut(), behavior.get(key).and_then(Value::as_object)) {
        for field in ["selectPolicy", "stabilizationWindowSeconds", "policies", "tolerance"] {
            if let Some(value) = given.get(field).filter(|v| !v.is_null()) {
                target.insert(field.into(), value.clone());
            }
        }
    }
    behavior.insert(key.into(), rules);
}
