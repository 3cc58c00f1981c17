//! The DataCluster operator: spec -> per node type a ConfigMap, a headless Service and a
//! StatefulSet or Deployment whose pod template carries the ConfigMap's hash; node types roll
//! out in `spec.rolloutOrder`.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, StatefulSet, StatefulSetSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, PersistentVolumeClaim, PersistentVolumeClaimSpec,
    PodSpec, PodTemplateSpec, Service, ServicePort, ServiceSpec, Volume, VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use operator_runtime_core::builder::{
    COMPONENT_LABEL, DesiredSet, GroupSpec, INSTANCE_LABEL, IntoObject, Ownership, config_hash,
};
use operator_runtime_core::reconcile::{Children, Context, Operator, OperatorError, SpecError, StatusFields};
use operator_runtime_core::schema::crd_schema_of;
use operator_runtime_core::{Object, TypeRef};
use serde_json::Value;

use crate::crd::{DataCluster, DataClusterSpec, NodeSpec, NodeStatus, WorkloadKind};

/// The operator's name: field manager, managed-by label, finalizer suffix.
pub const OPERATOR_NAME: &str = "datacluster-operator";
/// Pod template annotation carrying the ConfigMap hash.
pub const CONFIG_HASH_ANNOTATION: &str = "datainfra.io/config-hash";
/// Longest derived child name: StatefulSet pods append `-<ordinal>` and a 10-character
/// controller-revision hash label must fit in 63 characters.
pub const MAX_CHILD_NAME: usize = 52;

/// The DataCluster operator. Cloning is cheap next to [`Default`], which derives the CRD
/// schema (the simulation starts a replica thousands of times).
#[derive(Clone)]
pub struct DataClusterOperator {
    ownership: Ownership,
    /// The served version's `openAPIV3Schema`, so the status is compared as the server stores it.
    schema: Option<Value>,
}

impl Default for DataClusterOperator {
    fn default() -> Self {
        let ownership = Ownership::new(OPERATOR_NAME)
            .owns::<ConfigMap>()
            .owns::<Service>()
            .owns::<StatefulSet>()
            .owns::<Deployment>();
        Self {
            ownership,
            schema: crd_schema_of::<DataCluster>(),
        }
    }
}

/// The DataCluster kind, from the Rust type.
pub fn data_cluster_type() -> TypeRef {
    TypeRef::of::<DataCluster>()
}

/// Validates a DataCluster's spec: what the CRD schema cannot say (unique node names, known
/// rollout order entries, derived names short enough).
pub fn validate(cluster: &DataCluster) -> Result<&DataClusterSpec, SpecError> {
    let spec = &cluster.spec;
    let name = cluster.metadata.name.as_deref().unwrap_or_default();
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
        if format!("{name}-{}", node.name).len() > MAX_CHILD_NAME {
            return Err(SpecError::new(
                format!("spec.nodes[{i}].name"),
                format!(
                    "derived name {name}-{} is longer than {MAX_CHILD_NAME} characters",
                    node.name
                ),
            ));
        }
    }
    for (i, node) in spec.rollout_order.iter().enumerate() {
        if !seen.contains(node.as_str()) {
            return Err(SpecError::new(
                format!("spec.rolloutOrder[{i}]"),
                format!("unknown node {node:?}"),
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

impl Operator for DataClusterOperator {
    type Parent = DataCluster;

    fn ownership(&self) -> &Ownership {
        &self.ownership
    }

    fn parent_schema(&self) -> Option<&Value> {
        self.schema.as_ref()
    }

    fn is_paused(&self, cluster: &DataCluster) -> bool {
        cluster.spec.paused
    }

    /// `desired` reads the spec and the name, `status` the spec and the children.
    fn is_pure(&self) -> bool {
        true
    }

    fn desired(&self, cluster: &DataCluster, _: &Context<'_>, set: &mut DesiredSet) -> Result<(), OperatorError> {
        let spec = validate(cluster)?;
        let name = cluster.metadata.name.as_deref().unwrap_or_default();
        let nodes = rollout_order(spec);
        // Node types gate each other; their children carry their own component label.
        for node in &nodes {
            set.declare(GroupSpec::ordered(&node.name))?;
        }
        for node in nodes {
            for child in node_children(name, &spec.image, node)? {
                set.add(&node.name, child)?;
            }
        }
        Ok(())
    }

    fn status(
        &self,
        cluster: &DataCluster,
        children: &Children<'_>,
        status: &mut StatusFields,
    ) -> Result<(), OperatorError> {
        let name = cluster.metadata.name.as_deref().unwrap_or_default();
        let mut nodes = BTreeMap::new();
        for node in &cluster.spec.nodes {
            let workload = format!("{name}-{}", node.name);
            let (ready, updated) = match node.kind {
                WorkloadKind::StatefulSet => children
                    .get::<StatefulSet>(&workload)
                    .and_then(|w| w.status)
                    .map(|s| (s.ready_replicas, s.updated_replicas)),
                WorkloadKind::Deployment => children
                    .get::<Deployment>(&workload)
                    .and_then(|w| w.status)
                    .map(|s| (s.ready_replicas, s.updated_replicas)),
            }
            .unwrap_or_default();
            nodes.insert(
                node.name.clone(),
                NodeStatus {
                    replicas: i64::from(node.replicas),
                    ready_replicas: i64::from(ready.unwrap_or(0)),
                    updated_replicas: i64::from(updated.unwrap_or(0)),
                },
            );
        }
        status.set("nodes", nodes)
    }
}

/// The three children of one node type.
fn node_children(cluster: &str, image: &str, node: &NodeSpec) -> Result<Vec<Object>, OperatorError> {
    let name = format!("{cluster}-{}", node.name);
    let labels: BTreeMap<String, String> = [
        (INSTANCE_LABEL.to_owned(), cluster.to_owned()),
        (COMPONENT_LABEL.to_owned(), node.name.clone()),
    ]
    .into();
    let config_name = format!("{name}-config");
    let properties: String = node.config.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    let config = ConfigMap {
        metadata: meta(&config_name, &labels),
        data: Some([("node.properties".to_owned(), properties)].into()),
        ..ConfigMap::default()
    }
    .into_object()?;
    let ports: Vec<i32> = if node.ports.is_empty() {
        vec![8080]
    } else {
        node.ports.clone()
    };
    let service = (Service {
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
    })
    .into_object()?;
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
        WorkloadKind::StatefulSet => (StatefulSet {
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
        })
        .into_object()?,
        WorkloadKind::Deployment => (Deployment {
            metadata: meta(&name, &labels),
            spec: DeploymentSpec {
                replicas: Some(node.replicas),
                selector,
                template,
                ..DeploymentSpec::default()
            },
            ..Deployment::default()
        })
        .into_object()?,
    };
    Ok(vec![config, service, workload])
}
