//! CustomResourceDefinitions: a CRD object created through the API registers its kind (every
//! served version, scope and status subresource from the CRD), its status gets the
//! `NamesAccepted` and `Established` conditions the in-server controllers set, and deleting
//! it removes every custom resource of the kind and stops serving it.

use std::sync::Arc;

use operator_runtime_core::store::KindInfo;
use operator_runtime_core::{Object, TypeRef};
use serde_json::{Value, json};

use crate::kinds::CRD_SLOT;
use crate::meta::now_seconds;
use crate::state::State;
use crate::validation::Causes;

/// The parts of a CRD the registry needs.
struct CrdShape<'a> {
    group: &'a str,
    kind: &'a str,
    plural: &'a str,
    namespaced: bool,
    /// (version, status subresource, openAPIV3Schema) for every served version.
    versions: Vec<(&'a str, bool, Option<&'a Value>)>,
}

fn shape(crd: &Object) -> Option<CrdShape<'_>> {
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

/// Validation of the fields the registry relies on.
pub(crate) fn validate(crd: &Object, causes: &mut Causes) {
    let Some(s) = shape(crd) else {
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

/// Registers the CRD's kinds and records the conditions the establishing controller sets.
pub(crate) fn established(state: &mut State, crd: &Object) {
    let Some(s) = shape(crd) else { return };
    let revision = state.revision;
    let mut served = Vec::with_capacity(s.versions.len());
    for (version, status, schema) in &s.versions {
        let type_ref = TypeRef::new(format!("{}/{version}", s.group), s.kind);
        served.push(type_ref.clone());
        state.kinds.insert_custom(
            KindInfo {
                type_ref,
                plural: s.plural.to_owned(),
                namespaced: s.namespaced,
                status_subresource: *status,
            },
            Some(crd.name().to_owned()),
            revision,
            schema.map(|s| Arc::new(s.clone())),
        );
    }
    state.kinds.retain_crd_versions(crd.name(), &served);
    let now = serde_json::to_value(now_seconds(state.clock.as_ref())).unwrap_or(Value::Null);
    let condition = |t: &str, reason: &str, message: &str| json!({"type": t, "status": "True", "lastTransitionTime": now, "reason": reason, "message": message});
    let names = crd
        .body
        .get("spec")
        .and_then(|s| s.get("names"))
        .cloned()
        .unwrap_or(Value::Null);
    let status = json!({
        "conditions": [
            condition("NamesAccepted", "NoConflicts", "no conflicts found"),
            condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
        ],
        "acceptedNames": names,
        "storedVersions": s.versions.iter().map(|(v, _, _)| *v).collect::<Vec<_>>(),
    });
    if crd.body.get("status") == Some(&status) {
        return;
    }
    let mut updated = crd.clone();
    updated.body.insert("status".into(), status);
    state.commit_put(CRD_SLOT, updated);
}

/// Stops serving the CRD's kinds and removes every custom resource of them.
pub(crate) fn removed(state: &mut State, crd: &Object) {
    for slot in state.kinds.remove_crd(crd.name()) {
        let keys: Vec<(String, String)> = state
            .table(slot)
            .map(|t| {
                t.iter()
                    .flat_map(|(ns, names)| names.keys().map(move |n| (ns.clone(), n.clone())))
                    .collect()
            })
            .unwrap_or_default();
        for (ns, name) in keys {
            state.commit_remove(slot, &ns, &name);
        }
    }
}
