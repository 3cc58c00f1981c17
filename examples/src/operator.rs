//! The DataCluster operator: spec -> per node type a ConfigMap, a headless Service and a
//! StatefulSet or Deployment whose pod template carries the ConfigMap's hash; node types roll
//! out in `spec.rolloutOrder`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, StatefulSet, StatefulSetSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, PersistentVolumeClaim, PersistentVolumeClaimSpec,
    PodSpec, PodTemplateSpec, Service, ServicePort, ServiceSpec, Volume, VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use operator_runtime_core::builder::{COMPONENT_LABEL, DesiredSet, INSTANCE_LABEL, OwnedKind, Ownership, config_hash};
use operator_runtime_core::reconcile::{Operator, SpecError};
use operator_runtime_core::{Object, TypeRef};
use serde_json::{Map, Value, json};

use crate::crd::{DataClusterSpec, NodeSpec, NodeStatus, WorkloadKind};

/// The operator's name: field manager, managed-by label, finalizer suffix.
pub const OPERATOR_NAME: &str = "datacluster-operator";
/// Pod template annotation carrying the ConfigMap hash.
pub const CONFIG_HASH_ANNOTATION: &str = "datainfra.io/config-hash";
/// Longest derived child name: StatefulSet pods append `-<ordinal>` and a 10-character
/// controller-revision hash label must fit in 63 characters.
pub const MAX_CHILD_NAME: usize = 52;

/// The DataCluster operator.
pub struct DataClusterOperator {
    ownership: Ownership,
    /// The served version's `openAPIV3Schema`, so the status is compared as the server stores it.
    schema: Option<Value>,
}

impl Default for DataClusterOperator {
    fn default() -> Self {
        let ownership = Ownership::new(OPERATOR_NAME)
            .owns(OwnedKind::of::<ConfigMap>())
            .owns(OwnedKind::of::<Service>())
            .owns(OwnedKind::of::<StatefulSet>())
            .owns(OwnedKind::of::<Deployment>());
        let crd = <crate::crd::DataCluster as kube::CustomResourceExt>::crd();
        let schema = crd
            .spec
            .versions
            .first()
            .and_then(|v| v.schema.as_ref())
            .and_then(|s| s.open_api_v3_schema.as_ref())
            .and_then(|s| serde_json::to_value(s).ok());
        Self { ownership, schema }
    }
}

/// The DataCluster kind.
pub fn data_cluster_type() -> TypeRef {
    TypeRef::new("datainfra.io/v1alpha1", "DataCluster")
}

/// Parses and validates a DataCluster's spec.
pub fn validate(parent: &Object) -> Result<DataClusterSpec, SpecError> {
    let raw = parent.spec().cloned().unwrap_or(Value::Null);
    let spec: DataClusterSpec = serde_json::from_value(raw).map_err(|e| SpecError::new("spec", e.to_string()))?;
    if spec.image.is_empty() {
        return Err(SpecError::new("spec.image", "must not be empty"));
    }
    let mut seen = BTreeSet::new();
    for (i, node) in spec.nodes.iter().enumerate() {
        if !seen.insert(node.name.as_str()) {
            return Err(SpecError::new(
                format!("spec.nodes[{i}].name"),
                format!("duplicate node name {:?}", node.name),
            ));
        }
        if node.replicas < 0 {
            return Err(SpecError::new(
                format!("spec.nodes[{i}].replicas"),
                format!("must be >= 0, got {}", node.replicas),
            ));
        }
        let child = format!("{}-{}-config", parent.name(), node.name);
        if child.len() > MAX_CHILD_NAME + "-config".len()
            || format!("{}-{}", parent.name(), node.name).len() > MAX_CHILD_NAME
        {
            return Err(SpecError::new(
                format!("spec.nodes[{i}].name"),
                format!(
                    "derived name {}-{} is longer than {MAX_CHILD_NAME} characters",
                    parent.name(),
                    node.name
                ),
            ));
        }
    }
    for (i, name) in spec.rollout_order.iter().enumerate() {
        if !seen.contains(name.as_str()) {
            return Err(SpecError::new(
                format!("spec.rolloutOrder[{i}]"),
                format!("unknown node {name:?}"),
            ));
        }
    }
    Ok(spec)
}

/// Node types in rollout order: `spec.rolloutOrder` first, then the others in spec order.
fn rollout_order(spec: &DataClusterSpec) -> Vec<&NodeSpec> {
    let mut ordered: Vec<&NodeSpec> = spec
        .rollout_order
        .iter()
        .filter_map(|n| spec.nodes.iter().find(|x| &x.name == n))
        .collect();
    ordered.extend(spec.nodes.iter().filter(|n| !spec.rollout_order.contains(&n.name)));
    ordered
}

fn meta(name: &str, labels: &BTreeMap<String, String>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        labels: Some(labels.clone()),
        ..ObjectMeta::default()
    }
}

fn to_object<T: serde::Serialize>(typed: &T) -> Result<Object, SpecError> {
    Object::from_typed(typed).map_err(|e| SpecError::new("spec", e.to_string()))
}

impl Operator for DataClusterOperator {
    fn parent_type(&self) -> TypeRef {
        data_cluster_type()
    }

    fn ownership(&self) -> &Ownership {
        &self.ownership
    }

    fn parent_schema(&self) -> Option<&Value> {
        self.schema.as_ref()
    }

    fn is_paused(&self, parent: &Object) -> bool {
        parent
            .spec()
            .and_then(|s| s.get("paused"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    fn desired(&self, parent: &Object, set: &mut DesiredSet) -> Result<(), SpecError> {
        let spec = validate(parent)?;
        let nodes = rollout_order(&spec);
        for node in &nodes {
            set.declare_group(&node.name)
                .map_err(|e| SpecError::new("spec.nodes", e.to_string()))?;
        }
        for node in nodes {
            for child in node_children(parent.name(), &spec.image, node)? {
                set.add(&node.name, child)
                    .map_err(|e| SpecError::new(format!("spec.nodes[{}]", node.name), e.to_string()))?;
            }
        }
        Ok(())
    }

    fn status(&self, parent: &Object, children: &[Arc<Object>]) -> Map<String, Value> {
        let mut nodes = BTreeMap::new();
        let Ok(spec) = validate(parent) else { return Map::new() };
        for node in &spec.nodes {
            let name = format!("{}-{}", parent.name(), node.name);
            let workload = children
                .iter()
                .find(|c| c.name() == name && (c.kind == "StatefulSet" || c.kind == "Deployment"));
            let status = workload.and_then(|w| w.status());
            let count = |f: &str| status.and_then(|s| s.get(f)).and_then(Value::as_i64).unwrap_or(0);
            nodes.insert(
                node.name.clone(),
                NodeStatus {
                    replicas: i64::from(node.replicas),
                    ready_replicas: count("readyReplicas"),
                    updated_replicas: count("updatedReplicas"),
                },
            );
        }
        let mut out = Map::new();
        out.insert("nodes".into(), json!(nodes));
        out
    }
}

/// The three children of one node type.
fn node_children(cluster: &str, image: &str, node: &NodeSpec) -> Result<Vec<Object>, SpecError> {
    let name = format!("{cluster}-{}", node.name);
    let labels: BTreeMap<String, String> = [
        (INSTANCE_LABEL.to_owned(), cluster.to_owned()),
        (COMPONENT_LABEL.to_owned(), node.name.clone()),
    ]
    .into();
    let config_name = format!("{name}-config");
    let properties: String = node.config.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    let config = to_object(&ConfigMap {
        metadata: meta(&config_name, &labels),
        data: Some([("node.properties".to_owned(), properties)].into()),
        ..ConfigMap::default()
    })?;
    let ports: Vec<i32> = if node.ports.is_empty() {
        vec![8080]
    } else {
        node.ports.clone()
    };
    let service = to_object(&Service {
        metadata: meta(&name, &labels),
        spec: Some(ServiceSpec {
            cluster_ip: Some("None".into()),
            selector: Some(labels.clone()),
            ports: Some(
                ports
                    .iter()
                    .map(|p| ServicePort {
                        name: Some(format!("p{p}")),
                        port: *p,
                        ..ServicePort::default()
                    })
                    .collect(),
            ),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    })?;
    let mut template = PodTemplateSpec {
        metadata: Some(meta(&name, &labels)),
        spec: Some(PodSpec {
            containers: vec![Container {
                name: node.name.clone(),
                image: Some(image.to_owned()),
                ports: Some(
                    ports
                        .iter()
                        .map(|p| ContainerPort {
                            container_port: *p,
                            ..ContainerPort::default()
                        })
                        .collect(),
                ),
                volume_mounts: Some(vec![VolumeMount {
                    name: "config".into(),
                    mount_path: "/etc/datacluster".into(),
                    ..VolumeMount::default()
                }]),
                ..Container::default()
            }],
            volumes: Some(vec![Volume {
                name: "config".into(),
                config_map: Some(ConfigMapVolumeSource {
                    name: config_name.clone(),
                    ..ConfigMapVolumeSource::default()
                }),
                ..Volume::default()
            }]),
            ..PodSpec::default()
        }),
    };
    if let Some(m) = template.metadata.as_mut() {
        m.annotations = Some([(CONFIG_HASH_ANNOTATION.to_owned(), config_hash(&config))].into());
    }
    let selector = LabelSelector {
        match_labels: Some(labels.clone()),
        ..LabelSelector::default()
    };
    let workload = match node.kind {
        WorkloadKind::StatefulSet => to_object(&StatefulSet {
            metadata: meta(&name, &labels),
            spec: StatefulSetSpec {
                replicas: Some(node.replicas),
                service_name: Some(name.clone()),
                selector,
                template,
                volume_claim_templates: node.storage.as_ref().map(|size| {
                    vec![PersistentVolumeClaim {
                        metadata: ObjectMeta {
                            name: Some("data".into()),
                            ..ObjectMeta::default()
                        },
                        spec: Some(PersistentVolumeClaimSpec {
                            access_modes: Some(vec!["ReadWriteOnce".into()]),
                            resources: Some(VolumeResourceRequirements {
                                requests: Some([("storage".to_owned(), Quantity(size.clone()))].into()),
                                ..VolumeResourceRequirements::default()
                            }),
                            ..PersistentVolumeClaimSpec::default()
                        }),
                        ..PersistentVolumeClaim::default()
                    }]
                }),
                ..StatefulSetSpec::default()
            },
            ..StatefulSet::default()
        })?,
        WorkloadKind::Deployment => to_object(&Deployment {
            metadata: meta(&name, &labels),
            spec: DeploymentSpec {
                replicas: Some(node.replicas),
                selector,
                template,
                ..DeploymentSpec::default()
            },
            ..Deployment::default()
        })?,
    };
    Ok(vec![config, service, workload])
}
