//! The benchmark workload as the two baseline operators see it: the Widget parent as a typed
//! kube-rs custom resource (the CRD itself is the conformance suite's, installed by the
//! coordinator), and the 12 children per parent built exactly as the runtime's bench operator
//! (`operator_runtime_conformance::bench::ClusterOperator`) builds them: per node type a
//! ConfigMap of 20 settings, a headless Service and a StatefulSet whose pod template carries
//! the ConfigMap's hash; `spec.nodeReplicas.<node>` overrides 3 replicas.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::{CustomResource, Resource, ResourceExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The node types of every parent, as in the bench operator.
pub const NODE_TYPES: [&str; 4] = ["controller", "broker", "server", "minion"];

/// The bench parent (the conformance suite's Widget CRD; `spec` keeps unknown fields).
#[derive(CustomResource, Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "conformance.operator-runtime.io",
    version = "v1",
    kind = "Widget",
    namespaced,
    status = "WidgetStatus"
)]
#[serde(rename_all = "camelCase")]
pub struct WidgetSpec {
    /// Replicas per node type (default 3).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_replicas: BTreeMap<String, i64>,
}

/// What the operators report: the generation they acted on and a Ready condition.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WidgetStatus {
    /// The parent's generation the status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions (the runtime writes more fields and conditions; these two are common).
    #[serde(default)]
    pub conditions: Vec<Condition>,
}

/// A status condition (the fields the benchmark reads and the baselines write).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Condition {
    /// `Ready`.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True` or `False`.
    pub status: String,
    /// Why.
    #[serde(default)]
    pub reason: String,
}

impl Widget {
    /// Replicas of `node`'s StatefulSet.
    pub fn replicas(&self, node: &str) -> i64 {
        self.spec.node_replicas.get(node).copied().unwrap_or(3)
    }

    /// Whether the status says Ready for the current generation.
    pub fn is_ready(&self) -> bool {
        self.status.as_ref().is_some_and(|s| {
            s.observed_generation == self.metadata.generation
                && s.conditions.iter().any(|c| c.type_ == "Ready" && c.status == "True")
        })
    }
}

/// The kinds of the children.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildKind {
    /// `v1 ConfigMap`.
    ConfigMap,
    /// `v1 Service`.
    Service,
    /// `apps/v1 StatefulSet`.
    StatefulSet,
}

/// One desired child: its kind, name and full body (apiVersion, kind, metadata with the
/// controller ownerReference, data or spec).
#[derive(Clone, Debug)]
pub struct Child {
    /// The node type it belongs to.
    pub node: &'static str,
    /// Kind.
    pub kind: ChildKind,
    /// Name.
    pub name: String,
    /// Body.
    pub body: Value,
}

/// The 12 children of `parent`.
pub fn children(parent: &Widget) -> Vec<Child> {
    let name = parent.name_any();
    let ns = parent.namespace().unwrap_or_default();
    let owner: Option<OwnerReference> = parent.controller_owner_ref(&());
    let mut out = Vec::with_capacity(12);
    for node in NODE_TYPES {
        let child = format!("{name}-{node}");
        let meta = json!({"name": child, "namespace": ns, "ownerReferences": owner.iter().collect::<Vec<_>>()});
        let data: serde_json::Map<String, Value> = (0..20)
            .map(|i| {
                (
                    format!("{node}.setting.{i}"),
                    json!(format!("value-{i}-{}", "x".repeat(40))),
                )
            })
            .collect();
        let hash = hex_sha256(&Value::Object(data.clone()));
        let labels = json!({"app": child});
        out.push(Child {
            node,
            kind: ChildKind::ConfigMap,
            name: child.clone(),
            body: json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}),
        });
        out.push(Child {
            node,
            kind: ChildKind::Service,
            name: child.clone(),
            body: json!({"apiVersion": "v1", "kind": "Service", "metadata": meta,
                "spec": {"clusterIP": "None", "selector": labels, "ports": [{"name": "http", "port": 8080}]}}),
        });
        out.push(Child {
            node,
            kind: ChildKind::StatefulSet,
            name: child.clone(),
            body: json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta,
                "spec": {"replicas": parent.replicas(node), "serviceName": child,
                    "selector": {"matchLabels": labels},
                    "template": {"metadata": {"labels": labels, "annotations": {"config-hash": hash}},
                        "spec": {"containers": [{"name": node, "image": "apache/pinot:1.2.0", "ports": [{"containerPort": 8080}]}]}}}}),
        });
    }
    out
}

/// Hex SHA-256 of a value's JSON.
pub fn hex_sha256(value: &Value) -> String {
    let digest = Sha256::digest(value.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a StatefulSet reports every replica ready at its current generation.
pub fn sts_ready(sts: &StatefulSet, replicas: i64) -> bool {
    let Some(status) = sts.status.as_ref() else {
        return false;
    };
    sts.spec.replicas.map(i64::from) == Some(replicas)
        && status.observed_generation == sts.metadata.generation
        && status.ready_replicas.map(i64::from) == Some(replicas)
        && status.updated_replicas.map(i64::from) == Some(replicas)
}

/// The status a baseline operator writes.
pub fn status_value(parent: &Widget, ready: bool) -> Value {
    json!({
        "apiVersion": Widget::api_version(&()),
        "kind": Widget::kind(&()),
        "status": {
            "observedGeneration": parent.metadata.generation,
            "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" },
                "reason": if ready { "Ready" } else { "Progressing" }}]
        }
    })
}
