//! The `DataCluster` custom resource: a data application (think Apache Pinot) made of node
//! types, each a StatefulSet or Deployment with its own config and headless Service.

use std::collections::BTreeMap;

use kube::CustomResource;
use operator_runtime_core::status::RuntimeStatus;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Desired state of a DataCluster.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "datainfra.io",
    version = "v1alpha1",
    kind = "DataCluster",
    namespaced,
    status = "DataClusterStatus",
    shortname = "dc",
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct DataClusterSpec {
    /// Container image of every node type.
    pub image: String,
    /// The node types.
    pub nodes: Vec<NodeSpec>,
    /// Order in which node types roll out on upgrade (node names); the rest follow in spec order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rollout_order: Vec<String>,
    /// Stop writing children (status is still computed).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub paused: bool,
}

/// One node type.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeSpec {
    /// Node type name (`controller`, `broker`, ...), part of every child's name.
    pub name: String,
    /// Workload kind.
    #[serde(default)]
    pub kind: WorkloadKind,
    /// Number of pods.
    pub replicas: i32,
    /// Configuration rendered into the node type's ConfigMap.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub config: BTreeMap<String, String>,
    /// Container ports (also exposed by the headless Service).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<i32>,
    /// Persistent volume size (StatefulSet only), e.g. `10Gi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
}

/// Workload kind of a node type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum WorkloadKind {
    /// Stable identities and volumes.
    #[default]
    StatefulSet,
    /// Stateless.
    Deployment,
}

/// Observed state: the runtime's fields (conditions, observedGeneration, groups) and the
/// operator's own.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataClusterStatus {
    /// Written by the runtime.
    #[serde(flatten)]
    pub runtime: RuntimeStatus,
    /// Per node type: replicas, ready and updated replicas.
    #[serde(default)]
    pub nodes: BTreeMap<String, NodeStatus>,
}

/// Replica counts of one node type.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatus {
    /// Desired replicas.
    pub replicas: i64,
    /// Ready replicas.
    pub ready_replicas: i64,
    /// Replicas at the current revision.
    pub updated_replicas: i64,
}

/// The CRD as YAML (what `datacluster crd` prints).
pub fn crd_yaml() -> Result<String, serde_saphyr::SerializeError> {
    use kube::CustomResourceExt;
    serde_saphyr::to_string(&DataCluster::crd())
}

/// The least-privilege ClusterRole the operator's cluster mode needs (`datacluster rbac`):
/// derived from the operator's parent and owned kinds, plus Events and the leader-election
/// Lease.
pub fn rbac_yaml() -> Result<String, serde_saphyr::SerializeError> {
    serde_saphyr::to_string(&rbac_cluster_role())
}

/// The ClusterRole of [`rbac_yaml`], as JSON.
pub fn rbac_cluster_role() -> serde_json::Value {
    let operator = crate::operator::DataClusterOperator::default();
    let rules = operator_runtime_core::rbac::rules_for(&operator, true);
    operator_runtime_core::rbac::cluster_role(crate::operator::OPERATOR_NAME, &rules)
}
