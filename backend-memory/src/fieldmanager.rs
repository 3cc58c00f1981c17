//! The field manager: `metadata.managedFields` bookkeeping, pure over [`Object`] (no store
//! state). [`record_update`] records the `Update` entry of a non-apply write; [`apply`] merges
//! a server-side apply configuration into the stored object, with ownership, conflicts,
//! force and removal of dropped fields (the subset documented in [`crate::apply`]).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{FieldsV1, ManagedFieldsEntry, Time};
use operator_runtime_core::store::{KindInfo, StoreResult};
use operator_runtime_core::{Object, StatusCause, StoreError};
use serde_json::{Map, Value};

use crate::fieldpath::{FieldSet, Path, decode, encode, leaves, lookup, overlaps, remove, set};

const APPLY: &str = "Apply";
const METADATA_OWNED: [&str; 4] = ["labels", "annotations", "finalizers", "ownerReferences"];

/// The fields an applied configuration sets.
fn applied_fields(body: &Map<String, Value>, skip_status: bool, schema: Option<&Value>) -> FieldSet {
    let mut out = FieldSet::new();
    let mut prefix = Path::new();
    for (k, v) in body {
        match k.as_str() {
            "apiVersion" | "kind" => {}
            "status" if skip_status => {}
            "metadata" => {
                for owned in METADATA_OWNED {
                    if let Some(v) = v.get(owned) {
                        prefix.extend(["metadata".to_owned(), owned.to_owned()]);
                        leaves(v, schema, &mut prefix, &mut out);
                        prefix.clear();
                    }
                }
            }
            _ => {
                prefix.push(k.clone());
                leaves(v, schema, &mut prefix, &mut out);
                prefix.clear();
            }
        }
    }
    out
}

fn entry_fields(entry: &ManagedFieldsEntry) -> FieldSet {
    entry.fields_v1.as_ref().map(|f| decode(&f.0)).unwrap_or_default()
}

fn is_empty_map(value: &Value) -> bool {
    value.as_object().is_some_and(Map::is_empty)
}

fn dotted(path: &[String]) -> String {
    path.iter().map(|s| format!(".{s}")).collect()
}

const UPDATE: &str = "Update";

/// Records a non-apply write (create, update, patch, status update) by `manager` in
/// `new.metadata.managedFields`, as the API server's field manager does for `operation: Update`:
/// the fields this write changed (set, or changed in value) become the manager's, and every
/// other manager loses them; fields it removed are nobody's. A write that changes nothing
/// leaves managedFields alone. `subresource` is `Some("status")` for status writes.
pub(crate) fn record_update(
    info: &KindInfo,
    schema: Option<&Value>,
    old: Option<&Object>,
    new: &mut Object,
    manager: &str,
    subresource: Option<&str>,
    now: Time,
) {
    // A write that changes no owned field (the common no-op) needs no serialization at all.
    if let Some(old) = old {
        let (a, b) = (&old.metadata, &new.metadata);
        if old.body == new.body
            && a.labels == b.labels
            && a.annotations == b.annotations
            && a.finalizers == b.finalizers
            && a.owner_references == b.owner_references
        {
            return;
        }
    }
    let (Ok(Value::Object(new_map)), old_map) = (new.to_value(), old.map(Object::to_value)) else {
        return;
    };
    let old_map = match old_map {
        Some(Ok(Value::Object(m))) => m,
        _ => Map::new(),
    };
    let scope = |map: &Map<String, Value>| -> FieldSet {
        let all = applied_fields(map, false, schema);
        let status = subresource == Some("status");
        all.into_iter()
            .filter(|p| !info.status_subresource || status == (p.first().map(String::as_str) == Some("status")))
            .collect()
    };
    let (before, after) = (scope(&old_map), scope(&new_map));
    let set_now: FieldSet = after
        .iter()
        .filter(|p| lookup(&new_map, p) != lookup(&old_map, p))
        .cloned()
        .collect();
    let removed: FieldSet = before.difference(&after).cloned().collect();
    if set_now.is_empty() && removed.is_empty() {
        return;
    }
    let touched = |p: &Path| set_now.iter().chain(&removed).any(|c| overlaps(c, p));
    let mut mine = FieldSet::new();
    let mut managed = Vec::new();
    for e in new.metadata.managed_fields.take().into_iter().flatten() {
        let ours = e.manager.as_deref() == Some(manager)
            && e.operation.as_deref() == Some(UPDATE)
            && e.subresource.as_deref() == subresource;
        let owned = entry_fields(&e);
        if ours {
            mine.extend(owned.into_iter().filter(|p| !removed.iter().any(|r| overlaps(r, p))));
            continue;
        }
        let kept: FieldSet = owned.iter().filter(|p| !touched(p)).cloned().collect();
        if kept.is_empty() {
            continue;
        }
        let mut e = e;
        if kept != owned {
            e.fields_v1 = Some(FieldsV1(encode(&kept)));
        }
        managed.push(e);
    }
    mine.extend(set_now);
    if !mine.is_empty() {
        managed.push(ManagedFieldsEntry {
            api_version: Some(info.type_ref.api_version.clone()),
            fields_type: Some("FieldsV1".into()),
            fields_v1: Some(FieldsV1(encode(&mine))),
            manager: Some(manager.to_owned()),
            operation: Some(UPDATE.into()),
            subresource: subresource.map(str::to_owned),
            time: Some(now),
        });
    }
    new.metadata.managed_fields = (!managed.is_empty()).then_some(managed);
}

/// Server-side apply of `applied` (already checked to name the target) by `manager` over the
/// stored `old` (None: the apply creates the object). Returns the object to write, with this
/// manager's `Apply` entry and the other managers' entries updated; conflicts are a 409 whose
/// causes name each field (none with `force`, which takes the fields over).
pub(crate) fn apply(
    info: &KindInfo,
    schema: Option<&Value>,
    old: Option<&Object>,
    applied: Object,
    manager: &str,
    force: bool,
    now: Time,
) -> StoreResult<Object> {
    let applied_map = match applied.to_value() {
        Ok(Value::Object(m)) => m,
        _ => return Err(StoreError::bad_request("an apply configuration must be an object")),
    };
    let fields = applied_fields(&applied_map, info.status_subresource, schema);
    let entry = |fields: &FieldSet| ManagedFieldsEntry {
        api_version: Some(info.type_ref.api_version.clone()),
        fields_type: Some("FieldsV1".into()),
        fields_v1: Some(FieldsV1(encode(fields))),
        manager: Some(manager.to_owned()),
        operation: Some(APPLY.into()),
        subresource: None,
        time: Some(now.clone()),
    };

    let Some(old) = old else {
        let mut new = applied;
        new.metadata.managed_fields = Some(vec![entry(&fields)]);
        return Ok(new);
    };

    let current = match old.to_value() {
        Ok(Value::Object(m)) => m,
        _ => return Err(StoreError::backend("stored object does not serialize")),
    };
    let mut others: Vec<(ManagedFieldsEntry, FieldSet)> = Vec::new();
    let mut previous = FieldSet::new();
    let mut own_entry = None;
    for e in old.metadata.managed_fields.iter().flatten() {
        if e.manager.as_deref() == Some(manager) && e.operation.as_deref() == Some(APPLY) {
            previous = entry_fields(e);
            own_entry = Some(e.clone());
        } else {
            others.push((e.clone(), entry_fields(e)));
        }
    }

    // Conflicts: another manager owns an overlapping field and the values differ.
    let mut causes = Vec::new();
    for path in &fields {
        let value = lookup(&applied_map, path);
        // An empty map merges into what is there: it changes no value.
        if value == lookup(&current, path) || value.is_some_and(is_empty_map) {
            continue;
        }
        for (e, owned) in others.iter_mut() {
            let clashing: Vec<Path> = owned.iter().filter(|p| overlaps(p, path)).cloned().collect();
            if clashing.is_empty() {
                continue;
            }
            if force {
                for p in clashing {
                    owned.remove(&p);
                }
            } else {
                let who = e.manager.clone().unwrap_or_default();
                causes.push(StatusCause::new(
                    "FieldManagerConflict",
                    dotted(path),
                    format!("conflict with \"{who}\": {}", dotted(path)),
                ));
            }
        }
    }
    if !causes.is_empty() {
        let list: Vec<&str> = causes.iter().map(|c| c.message.as_str()).collect();
        return Err(StoreError::Conflict {
            message: format!("Apply failed with {} conflict(s): {}", causes.len(), list.join(", ")),
            causes,
        });
    }

    // Merge: drop what this manager no longer applies (unless someone else owns it), then set
    // every applied leaf.
    let mut merged = current.clone();
    for path in previous.difference(&fields) {
        let owned_elsewhere = others.iter().any(|(_, owned)| owned.iter().any(|p| overlaps(p, path)));
        if !owned_elsewhere {
            remove(&mut merged, path);
        }
    }
    for path in &fields {
        if let Some(v) = lookup(&applied_map, path) {
            set(&mut merged, path, v.clone());
        }
    }
    let mut new = Object::from_value(Value::Object(merged))
        .map_err(|e| StoreError::bad_request(format!("applied object is invalid: {e}")))?;
    let own = match own_entry {
        Some(e) if previous == fields => e,
        _ => entry(&fields),
    };
    let mut managed = vec![own];
    for (mut e, owned) in others {
        if owned.is_empty() {
            continue;
        }
        if entry_fields(&e) != owned {
            e.fields_v1 = Some(FieldsV1(encode(&owned)));
        }
        managed.push(e);
    }
    // Keep the stored order of entries when nothing about ownership changed.
    if let Some(stored) = old.metadata.managed_fields.as_ref()
        && stored.len() == managed.len()
        && stored.iter().all(|e| managed.contains(e))
    {
        managed.clone_from(stored);
    }
    new.metadata.managed_fields = Some(managed);
    new.metadata.resource_version = applied.metadata.resource_version.clone();
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_v1_round_trips_in_f_format() {
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "labels": {"x": "1"}}, "data": {"k": "v", "l": []}});
        let fields = applied_fields(body.as_object().unwrap(), false, None);
        let encoded = encode(&fields);
        assert_eq!(
            encoded,
            json!({"f:metadata": {"f:labels": {"f:x": {}}}, "f:data": {"f:k": {}, "f:l": {}}})
        );
        assert_eq!(decode(&encoded), fields);
    }
}
