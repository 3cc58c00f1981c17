//! CustomResourceDefinitions and custom resources: the CRD strategy (conditional updates
//! only, the fields the server relies on validated) and the strategy of a custom resource
//! served from a CRD version (pruning, defaults and structural validation against its
//! `openAPIV3Schema`, see [`operator_runtime_core::schema`]).

use std::sync::Arc;

use operator_runtime_core::{Object, TypeRef};
use serde_json::Value;

use super::{KindHooks, Strategy, base};
use crate::validation::Causes;
use operator_runtime_core::schema;

/// The parts of a CRD the server needs.
pub(crate) struct CrdShape<'a> {
    /// `spec.group`.
    pub group: &'a str,
    /// `spec.names.kind`.
    pub kind: &'a str,
    /// `spec.names.plural`.
    pub plural: &'a str,
    /// `spec.scope` is not `Cluster`.
    pub namespaced: bool,
    /// (version, status subresource, openAPIV3Schema) for every served version.
    pub versions: Vec<(&'a str, bool, Option<&'a Value>)>,
}

/// Reads the shape of a CRD object, None when a required part is missing.
pub(crate) fn crd_shape(crd: &Object) -> Option<CrdShape<'_>> {
    let spec = crd.body.get("spec")?;
    let names = spec.get("names")?;
    let versions = spec
        .get("versions")?
        .as_array()?
        .iter()
        .filter(|v| v.get("served").and_then(Value::as_bool).unwrap_or(false))
        .filter_map(|v| {
            let name = v.get("name")?.as_str()?;
            let status = v.get("subresources").and_then(|s| s.get("status")).is_some();
            let schema = v.get("schema").and_then(|s| s.get("openAPIV3Schema"));
            Some((name, status, schema))
        })
        .collect();
    Some(CrdShape {
        group: spec.get("group")?.as_str()?,
        kind: names.get("kind")?.as_str()?,
        plural: names.get("plural")?.as_str()?,
        namespaced: spec.get("scope").and_then(Value::as_str) != Some("Cluster"),
        versions,
    })
}

/// The CRD hooks: validation of the fields the registry relies on.
#[derive(Debug)]
struct CrdHooks;

impl KindHooks for CrdHooks {
    fn validate(&self, crd: &Object, causes: &mut Causes) {
        let Some(s) = crd_shape(crd) else {
            causes.required("spec", "group, names.kind, names.plural and versions are required");
            return;
        };
        if s.group.is_empty() || !s.group.contains('.') {
            causes.invalid("spec.group", s.group, "should be a domain with at least one dot");
        }
        let expected = format!("{}.{}", s.plural, s.group);
        if crd.name() != expected && !crd.name().is_empty() {
            causes.invalid(
                "metadata.name",
                crd.name(),
                &format!("must be spec.names.plural+\".\"+spec.group ({expected})"),
            );
        }
        if s.versions.is_empty() {
            causes.invalid("spec.versions", "", "must have at least one served version");
        }
    }
}

/// The CustomResourceDefinition strategy: the CRD strategy rejects unconditional updates.
pub(crate) fn crd_strategy() -> Strategy {
    let mut strategy = base(true, true).hooks(CrdHooks);
    strategy.unconditional_update = false;
    // The CRD status strategy resets metadata too (it only takes `status`).
    strategy.status_keeps_metadata = false;
    strategy
}

/// A custom resource's hooks: its version's schema, if any.
#[derive(Debug)]
struct CustomResourceHooks {
    schema: Option<Arc<Value>>,
}

impl KindHooks for CustomResourceHooks {
    fn schema(&self) -> Option<&Value> {
        self.schema.as_deref()
    }
    fn default(&self, _type_ref: &TypeRef, object: &mut Object) {
        if let Some(schema) = &self.schema {
            schema::prune_and_default(schema, &mut object.body);
        }
    }
    fn validate(&self, object: &Object, causes: &mut Causes) {
        if let Some(schema) = &self.schema {
            for violation in schema::validate(schema, &object.body) {
                causes.push(&violation.reason, &violation.field, violation.message);
            }
        }
    }
    fn validate_status_update(&self, new: &Object, _old: &Object, causes: &mut Causes) {
        self.validate(new, causes);
    }
}

/// The strategy of a custom resource (generation on, conditional updates only).
pub(crate) fn custom_resource(status_subresource: bool, schema: Option<Arc<Value>>) -> Strategy {
    let mut strategy = base(status_subresource, true).hooks(CustomResourceHooks { schema });
    strategy.unconditional_update = false;
    strategy.status_keeps_metadata = false;
    strategy
}
