//! `networking.k8s.io/v1` defaults (`k8s.io/kubernetes/pkg/apis/networking/v1`, 1.37.2):
//! NetworkPolicy policy types and port protocols. Ingress has no defaulters.

use serde_json::json;

use super::fields::{Obj, default_nil, each_mut, is_unset, object_mut};

/// `SetObjectDefaults_NetworkPolicy`.
pub(crate) fn network_policy(body: &mut Obj) {
    let Some(spec) = object_mut(body, "spec") else { return };
    if is_unset(spec, "policyTypes") {
        // A policy that names no types is an Ingress policy, and an Egress one if it has rules.
        let types = if is_unset(spec, "egress") {
            json!(["Ingress"])
        } else {
            json!(["Ingress", "Egress"])
        };
        spec.insert("policyTypes".into(), types);
    }
    for direction in ["ingress", "egress"] {
        for rule in each_mut(spec, direction) {
            for port in each_mut(rule, "ports") {
                default_nil(port, "protocol", json!("TCP"));
            }
        }
    }
}
