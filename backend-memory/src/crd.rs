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
use crate::strategy::crd_shape;

/// Registers the CRD's kinds and records the conditions the establishing controller sets.
pub(crate) fn established(state: &mut State, crd: &Object) {
    let Some(s) = crd_shape(crd) else { return };
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
