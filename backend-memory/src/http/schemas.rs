//! Schemas for the OpenAPI v3 documents, so `kubectl explain` can describe fields.
//!
//! Built-in kinds take theirs from k8s-openapi's `JsonSchema` implementations (the same
//! descriptions the real server publishes, generated from the same Go types); custom kinds take
//! the `openAPIV3Schema` of their CustomResourceDefinition version. Each kind's root schema
//! carries `x-kubernetes-group-version-kind`, which is how kubectl finds it.

use k8s_openapi::api::{apps, autoscaling, batch, coordination, core, events, networking, policy, rbac};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::schemars::JsonSchema;
use k8s_openapi::schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use super::discovery::KindEntry;

/// Adds the schema of `kind` and every schema it refers to into `components`. Returns false
/// when no schema is known for the kind.
pub(crate) fn add_schema(kind: &KindEntry, components: &mut Map<String, Value>) -> bool {
    let gvk = json!([{
        "group": kind.type_ref.group(),
        "version": kind.type_ref.version(),
        "kind": kind.type_ref.kind,
    }]);
    if let Some(schema) = &kind.schema {
        let mut schema = schema.clone();
        if let Some(root) = schema.as_object_mut() {
            root.insert("x-kubernetes-group-version-kind".into(), gvk);
        }
        let name = format!("{}.{}", reverse_domain(kind.type_ref.group()), kind.type_ref.kind);
        components.insert(format!("{name}.{}", kind.type_ref.version()), schema);
        return true;
    }
    let Some((name, definitions)) = builtin(&kind.type_ref.api_version, &kind.type_ref.kind) else {
        return false;
    };
    for (def_name, mut schema) in definitions {
        if def_name == name
            && let Some(root) = schema.as_object_mut()
        {
            root.insert("x-kubernetes-group-version-kind".into(), gvk.clone());
        }
        components.entry(def_name).or_insert(schema);
    }
    true
}

/// `example.io` -> `io.example`, the way the real server names custom resource definitions.
fn reverse_domain(group: &str) -> String {
    group.split('.').rev().collect::<Vec<_>>().join(".")
}

/// The definitions of `T` and everything it refers to, with refs into `#/components/schemas`.
fn definitions_of<T: JsonSchema>() -> (String, Map<String, Value>) {
    let mut generator = SchemaSettings::openapi3().into_generator();
    let root = generator.subschema_for::<T>();
    let name = T::schema_name().into_owned();
    let mut definitions = generator.take_definitions(true);
    // A type schemars inlines has no definition of its own: keep its schema under its name.
    if !definitions.contains_key(&name) {
        definitions.insert(name.clone(), root.to_value());
    }
    (name, definitions)
}

/// The k8s-openapi type of a built-in kind.
fn builtin(api_version: &str, kind: &str) -> Option<(String, Map<String, Value>)> {
    Some(match (api_version, kind) {
        ("v1", "Namespace") => definitions_of::<core::v1::Namespace>(),
        ("v1", "ConfigMap") => definitions_of::<core::v1::ConfigMap>(),
        ("v1", "Secret") => definitions_of::<core::v1::Secret>(),
        ("v1", "Service") => definitions_of::<core::v1::Service>(),
        ("v1", "ServiceAccount") => definitions_of::<core::v1::ServiceAccount>(),
        ("v1", "Endpoints") => definitions_of::<core::v1::Endpoints>(),
        ("v1", "LimitRange") => definitions_of::<core::v1::LimitRange>(),
        ("v1", "PersistentVolumeClaim") => definitions_of::<core::v1::PersistentVolumeClaim>(),
        ("v1", "Pod") => definitions_of::<core::v1::Pod>(),
        ("v1", "Event") => definitions_of::<core::v1::Event>(),
        ("v1", "Node") => definitions_of::<core::v1::Node>(),
        ("v1", "ResourceQuota") => definitions_of::<core::v1::ResourceQuota>(),
        ("v1", "ReplicationController") => definitions_of::<core::v1::ReplicationController>(),
        ("v1", "PersistentVolume") => definitions_of::<core::v1::PersistentVolume>(),
        ("events.k8s.io/v1", "Event") => definitions_of::<events::v1::Event>(),
        ("coordination.k8s.io/v1", "Lease") => definitions_of::<coordination::v1::Lease>(),
        ("networking.k8s.io/v1", "NetworkPolicy") => definitions_of::<networking::v1::NetworkPolicy>(),
        ("networking.k8s.io/v1", "Ingress") => definitions_of::<networking::v1::Ingress>(),
        ("policy/v1", "PodDisruptionBudget") => definitions_of::<policy::v1::PodDisruptionBudget>(),
        ("autoscaling/v2", "HorizontalPodAutoscaler") => definitions_of::<autoscaling::v2::HorizontalPodAutoscaler>(),
        ("batch/v1", "Job") => definitions_of::<batch::v1::Job>(),
        ("batch/v1", "CronJob") => definitions_of::<batch::v1::CronJob>(),
        ("apps/v1", "Deployment") => definitions_of::<apps::v1::Deployment>(),
        ("apps/v1", "StatefulSet") => definitions_of::<apps::v1::StatefulSet>(),
        ("apps/v1", "DaemonSet") => definitions_of::<apps::v1::DaemonSet>(),
        ("apps/v1", "ReplicaSet") => definitions_of::<apps::v1::ReplicaSet>(),
        ("rbac.authorization.k8s.io/v1", "Role") => definitions_of::<rbac::v1::Role>(),
        ("rbac.authorization.k8s.io/v1", "RoleBinding") => definitions_of::<rbac::v1::RoleBinding>(),
        ("rbac.authorization.k8s.io/v1", "ClusterRole") => definitions_of::<rbac::v1::ClusterRole>(),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => definitions_of::<rbac::v1::ClusterRoleBinding>(),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition") => definitions_of::<CustomResourceDefinition>(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;
    use crate::http::discovery::Catalog;

    #[test]
    fn every_built_in_kind_has_a_schema_kubectl_can_find() {
        let catalog = Catalog::read(&MemoryStore::new());
        for kind in &catalog.kinds {
            let mut components = Map::new();
            assert!(add_schema(kind, &mut components), "no schema for {}", kind.type_ref);
            let roots: Vec<_> = components
                .values()
                .filter(|s| s.get("x-kubernetes-group-version-kind").is_some())
                .collect();
            assert_eq!(roots.len(), 1, "{}: one root schema", kind.type_ref);
            assert!(roots[0]["properties"].get("metadata").is_some(), "{}", kind.type_ref);
        }
    }

    #[test]
    fn refs_point_into_the_components() {
        let (name, definitions) = definitions_of::<apps::v1::Deployment>();
        assert_eq!(name, "io.k8s.api.apps.v1.Deployment");
        let text = Value::Object(definitions.clone()).to_string();
        for reference in text.split("\"$ref\":\"").skip(1) {
            let target = reference.split('"').next().unwrap_or_default();
            let local = target
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("{target}"));
            assert!(definitions.contains_key(local), "dangling {target}");
        }
        let spec = &definitions["io.k8s.api.apps.v1.DeploymentSpec"];
        assert!(
            spec["properties"]["replicas"]["description"]
                .as_str()
                .is_some_and(|d| d.contains("desired pods"))
        );
    }
}
