//! The four patch content types, and strategic merge patch for the built-in kinds.
//!
//! Strategic merge merges lists the way the API server's Go struct tags say: lists whose
//! OpenAPI `x-kubernetes-list-type` is `map` (containers, ports, env, volumes, volumeMounts,
//! ownerReferences, ...) merge item by item on their first key; `set` lists (finalizers) take
//! the union; every other list is replaced. The directives `$patch: delete` (on a list item),
//! `$patch: replace` (on a map), `$retainKeys`, `$deleteFromPrimitiveList/<list>` and
//! `$setElementOrder/<list>` (reordering; ignored) are understood. The list types come from
//! `operator_runtime_core::builtin_schema`, generated from a real API server's OpenAPI.

use operator_runtime_core::builtin_schema::{self, ListType};
use operator_runtime_core::{StatusCause, StoreError, TypeRef};
use serde_json::{Map, Value};

/// A patch request's content type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PatchKind {
    /// `application/merge-patch+json`.
    Merge,
    /// `application/json-patch+json`.
    Json,
    /// `application/strategic-merge-patch+json`.
    Strategic,
    /// `application/apply-patch+yaml` (server-side apply).
    Apply,
}

const ACCEPTED: &str = "application/json-patch+json, application/merge-patch+json, \
                        application/apply-patch+yaml, application/strategic-merge-patch+json";

/// The patch kind of a `Content-Type` header; 415 for anything else.
pub(crate) fn kind_of(content_type: Option<&str>) -> Result<PatchKind, StoreError> {
    let essence = content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase());
    match essence.as_deref() {
        Some("application/merge-patch+json") => Ok(PatchKind::Merge),
        Some("application/json-patch+json") => Ok(PatchKind::Json),
        Some("application/strategic-merge-patch+json") => Ok(PatchKind::Strategic),
        Some("application/apply-patch+yaml" | "application/apply-patch+json") => Ok(PatchKind::Apply),
        other => Err(StoreError::UnsupportedMediaType {
            message: format!(
                "the body of the request was in an unknown format ({}) - accepted media types include: {ACCEPTED}",
                other.unwrap_or("")
            ),
        }),
    }
}

/// 415 for a strategic merge patch of a custom resource, as the API server answers.
pub(crate) fn strategic_unsupported() -> StoreError {
    StoreError::UnsupportedMediaType {
        message: format!(
            "the body of the request was in an unknown format - accepted media types include: \
             application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml ({ACCEPTED})"
        ),
    }
}

/// Decodes a patch body: YAML (JSON is YAML) for apply, JSON otherwise.
pub(crate) fn decode(kind: PatchKind, body: &[u8]) -> Result<Value, StoreError> {
    match kind {
        PatchKind::Apply => serde_saphyr::from_slice::<Value>(body)
            .map_err(|e| StoreError::bad_request(format!("error decoding YAML: {e}"))),
        _ => serde_json::from_slice::<Value>(body)
            .map_err(|e| StoreError::bad_request(format!("error decoding patch: {e}"))),
    }
}

/// Applies a merge, JSON or strategic patch to `doc` locally (for subresources and strategic
/// merge, which the store does not take directly).
pub(crate) fn apply_locally(
    kind: PatchKind,
    type_ref: &TypeRef,
    doc: &mut Value,
    patch: &Value,
) -> Result<(), StoreError> {
    match kind {
        PatchKind::Merge => {
            if !patch.is_object() {
                return Err(StoreError::bad_request("a merge patch must be a JSON object"));
            }
            json_patch::merge(doc, patch);
            Ok(())
        }
        PatchKind::Json => {
            let ops: json_patch::Patch = serde_json::from_value(patch.clone())
                .map_err(|e| StoreError::bad_request(format!("invalid JSON patch: {e}")))?;
            let ops = crate::patch::null_tests_of_absent_members_pass(doc, ops);
            json_patch::patch(doc, &ops).map_err(|e| StoreError::Invalid {
                message: format!("the server rejected our request due to an error in our request: {e}"),
                causes: vec![StatusCause::new("FieldValueInvalid", "patch", e.to_string())],
            })
        }
        PatchKind::Strategic => {
            let Value::Object(p) = patch else {
                return Err(StoreError::bad_request("a strategic merge patch must be a JSON object"));
            };
            let merged = match doc {
                Value::Object(original) => merge_map(type_ref, "", original.clone(), p),
                _ => Some(p.clone()),
            };
            *doc = Value::Object(merged.unwrap_or_default());
            Ok(())
        }
        PatchKind::Apply => Err(StoreError::bad_request("apply is not a merge or JSON patch")),
    }
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// Merges `patch` into `original` at `path`; None when the map itself is deleted.
fn merge_map(
    type_ref: &TypeRef,
    path: &str,
    mut original: Map<String, Value>,
    patch: &Map<String, Value>,
) -> Option<Map<String, Value>> {
    match patch.get("$patch").and_then(Value::as_str) {
        Some("delete") => return None,
        Some("replace") => {
            let mut replaced = patch.clone();
            replaced.remove("$patch");
            return Some(strip_directives(replaced));
        }
        _ => {}
    }
    for (key, value) in patch {
        if key == "$patch" || key.starts_with("$setElementOrder/") || key == "$retainKeys" {
            continue;
        }
        if let Some(list) = key.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(items)), Value::Array(remove)) = (original.get_mut(list), value) {
                items.retain(|i| !remove.contains(i));
            }
            continue;
        }
        let field_path = child(path, key);
        match value {
            Value::Null => {
                original.remove(key);
            }
            Value::Object(p) => {
                let merged = match original.remove(key) {
                    Some(Value::Object(o)) => merge_map(type_ref, &field_path, o, p),
                    _ => merge_map(type_ref, &field_path, Map::new(), p),
                };
                if let Some(m) = merged {
                    original.insert(key.clone(), Value::Object(m));
                }
            }
            Value::Array(p) => {
                let merged = match original.remove(key) {
                    Some(Value::Array(o)) => merge_list(type_ref, &field_path, o, p),
                    _ => merge_list(type_ref, &field_path, Vec::new(), p),
                };
                original.insert(key.clone(), Value::Array(merged));
            }
            scalar => {
                original.insert(key.clone(), scalar.clone());
            }
        }
    }
    if let Some(Value::Array(retain)) = patch.get("$retainKeys") {
        original.retain(|k, _| retain.iter().any(|r| r.as_str() == Some(k)));
    }
    Some(original)
}

fn merge_list(type_ref: &TypeRef, path: &str, mut original: Vec<Value>, patch: &[Value]) -> Vec<Value> {
    let entry = builtin_schema::list_type(type_ref, path);
    let item_path = format!("{path}[*]");
    match entry.map(|e| (e.list_type, e.keys)) {
        Some((ListType::Map, keys)) if !keys.is_empty() => {
            let key = keys[0];
            for item in patch {
                let Value::Object(p) = item else { continue };
                let id = p.get(key);
                let position = id.and_then(|id| original.iter().position(|o| o.get(key) == Some(id)));
                match (position, p.get("$patch").and_then(Value::as_str)) {
                    (Some(i), Some("delete")) => {
                        original.remove(i);
                    }
                    (None, Some("delete")) => {}
                    (Some(i), _) => {
                        let existing = match original.get(i) {
                            Some(Value::Object(o)) => o.clone(),
                            _ => Map::new(),
                        };
                        match merge_map(type_ref, &item_path, existing, p) {
                            Some(m) => original[i] = Value::Object(m),
                            None => {
                                original.remove(i);
                            }
                        }
                    }
                    (None, _) => original.push(Value::Object(strip_directives(p.clone()))),
                }
            }
            original
        }
        Some((ListType::Set, _)) => {
            for item in patch {
                if !original.contains(item) {
                    original.push(item.clone());
                }
            }
            original
        }
        _ => patch.iter().cloned().map(strip_value).collect(),
    }
}

fn strip_value(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(strip_directives(m)),
        other => other,
    }
}

fn strip_directives(mut m: Map<String, Value>) -> Map<String, Value> {
    m.retain(|k, _| !k.starts_with('$'));
    for v in m.values_mut() {
        let taken = std::mem::take(v);
        *v = match taken {
            Value::Object(inner) => Value::Object(strip_directives(inner)),
            Value::Array(items) => Value::Array(items.into_iter().map(strip_value).collect()),
            other => other,
        };
    }
    m
}

/// An RFC 7386 merge patch that turns `from` into `to` (lists are replaced whole).
pub(crate) fn merge_diff(from: &Value, to: &Value) -> Value {
    match (from, to) {
        (Value::Object(a), Value::Object(b)) => {
            let mut out = Map::new();
            for (k, va) in a {
                match b.get(k) {
                    None => {
                        out.insert(k.clone(), Value::Null);
                    }
                    Some(vb) if vb != va => {
                        let d = if va.is_object() && vb.is_object() {
                            merge_diff(va, vb)
                        } else {
                            vb.clone()
                        };
                        out.insert(k.clone(), d);
                    }
                    Some(_) => {}
                }
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    out.insert(k.clone(), vb.clone());
                }
            }
            Value::Object(out)
        }
        _ => to.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> TypeRef {
        TypeRef::new("apps/v1", "Deployment")
    }

    #[test]
    fn content_types_map_to_patch_kinds_and_others_are_415() {
        assert_eq!(
            kind_of(Some("application/merge-patch+json")).ok(),
            Some(PatchKind::Merge)
        );
        assert_eq!(
            kind_of(Some("application/apply-patch+yaml; charset=utf-8")).ok(),
            Some(PatchKind::Apply)
        );
        assert_eq!(kind_of(Some("text/plain")).map_err(|e| e.code()), Err(415));
        assert_eq!(kind_of(None).map_err(|e| e.code()), Err(415));
    }

    #[test]
    fn strategic_merge_merges_containers_ports_env_by_key() {
        let mut doc = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": "a:1", "env": [{"name": "A", "value": "1"}],
             "ports": [{"containerPort": 80, "protocol": "TCP"}]},
            {"name": "side", "image": "s:1"}
        ], "volumes": [{"name": "v1", "emptyDir": {}}], "tolerations": [{"key": "x"}]}}}});
        let patch = json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "app"}, {"name": "side"}],
            "containers": [
                {"name": "app", "image": "a:2", "env": [{"name": "B", "value": "2"}],
                 "ports": [{"containerPort": 8080}]},
                {"name": "side", "$patch": "delete"}
            ],
            "volumes": [{"name": "v2", "emptyDir": {}}],
            "tolerations": [{"key": "y"}]}}}});
        apply_locally(PatchKind::Strategic, &deployment(), &mut doc, &patch).expect("patch applies");
        let spec = &doc["spec"]["template"]["spec"];
        let containers = spec["containers"].as_array().expect("containers");
        assert_eq!(containers.len(), 1);
        assert_eq!(containers[0]["image"], "a:2");
        assert_eq!(containers[0]["env"].as_array().map(Vec::len), Some(2));
        assert_eq!(containers[0]["ports"].as_array().map(Vec::len), Some(2));
        assert_eq!(spec["volumes"].as_array().map(Vec::len), Some(2));
        // Not a merge list: replaced.
        assert_eq!(spec["tolerations"], json!([{"key": "y"}]));
        assert!(spec.get("$setElementOrder/containers").is_none());
    }

    #[test]
    fn strategic_merge_null_deletes_and_finalizers_union() {
        let t = TypeRef::new("v1", "ConfigMap");
        let mut doc = json!({"metadata": {"finalizers": ["a"], "labels": {"x": "1", "y": "2"}}});
        let patch = json!({"metadata": {"finalizers": ["b"], "labels": {"x": null}}});
        apply_locally(PatchKind::Strategic, &t, &mut doc, &patch).expect("patch applies");
        assert_eq!(doc["metadata"]["labels"], json!({"y": "2"}));
        assert_eq!(doc["metadata"]["finalizers"], json!(["a", "b"]));
    }

    #[test]
    fn merge_diff_round_trips() {
        let a = json!({"a": 1, "b": {"c": 2, "d": 3}, "l": [1, 2]});
        let b = json!({"b": {"c": 2, "d": 4}, "l": [1], "e": true});
        let mut patched = a.clone();
        json_patch::merge(&mut patched, &merge_diff(&a, &b));
        assert_eq!(patched, b);
    }
}
