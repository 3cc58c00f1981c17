//! The normalized view of an object: what both servers must agree on.
//!
//! Normalizations (each one removes a value that legitimately differs between two servers):
//! - `metadata.uid`: dropped; ownerReference uids become the owner's symbolic name.
//! - `metadata.resourceVersion`: only whether it changed since this side's previous view of
//!   the object (`rvChanged`); revisions are per server.
//! - `metadata.creationTimestamp`: dropped (wall clock); `deletionTimestamp`: only whether it is
//!   set (`deleting`).
//! - `metadata.name`: the symbolic name (a `generateName` suffix is random); `namespace`:
//!   dropped (both sides use the same name anyway).
//! - `metadata.managedFields`: manager, operation, subresource, apiVersion and the field set;
//!   `time` dropped. Entries sorted by manager, operation and subresource.
//! - Empty `labels`, `annotations`, `finalizers` and `ownerReferences` are the same as absent
//!   (the real server omits them when empty; a client cannot tell the two apart through
//!   `ObjectMeta`'s `Option`s in a way that matters).
//! - Service `spec.clusterIP`, `spec.clusterIPs[]`, `spec.ports[].nodePort`,
//!   `spec.healthCheckNodePort`: allocated values become `"<allocated>"` (`None` is kept).

use std::collections::HashMap;

use operator_runtime_core::Object;
use serde_json::{Map, Value, json};

/// Name and uid translations of one side: server value -> symbolic name.
#[derive(Debug, Default)]
pub struct Symbols {
    /// Object name -> symbol.
    pub by_name: HashMap<String, String>,
    /// uid -> symbol.
    pub by_uid: HashMap<String, String>,
}

impl Symbols {
    /// The symbol of an object name (the name itself when unknown).
    pub fn name(&self, name: &str) -> String {
        self.by_name.get(name).cloned().unwrap_or_else(|| name.to_owned())
    }
}

/// Placeholder of a value the server allocates.
pub const ALLOCATED: &str = "<allocated>";

/// The normalized view of `object`, whose previous resourceVersion on this side was `prev_rv`.
pub fn view(object: &Object, symbols: &Symbols, prev_rv: Option<&str>) -> Value {
    let m = &object.metadata;
    let owners: Vec<Value> = m
        .owner_references
        .iter()
        .flatten()
        .map(|r| {
            json!({
                "apiVersion": r.api_version,
                "kind": r.kind,
                "name": symbols.name(&r.name),
                "uid": symbols.by_uid.get(&r.uid).cloned().unwrap_or_else(|| "<unknown uid>".to_owned()),
                "controller": r.controller,
                "blockOwnerDeletion": r.block_owner_deletion,
            })
        })
        .collect();
    let mut managed: Vec<Value> = m
        .managed_fields
        .iter()
        .flatten()
        .map(|e| {
            json!({
                "manager": e.manager,
                "operation": e.operation,
                "subresource": e.subresource,
                "apiVersion": e.api_version,
                "fields": e.fields_v1.as_ref().map(|f| f.0.clone()),
            })
        })
        .collect();
    managed.sort_by_key(|e| {
        (
            e["manager"].to_string(),
            e["operation"].to_string(),
            e["subresource"].to_string(),
        )
    });
    let mut body = Value::Object(object.body.clone());
    if object.kind == "Service" {
        normalize_service(&mut body);
    }
    json!({
        "kind": object.kind,
        "name": symbols.name(object.name()),
        "generateName": m.generate_name,
        "rvChanged": prev_rv.map(|p| Some(p) != m.resource_version.as_deref()),
        "generation": m.generation,
        "finalizers": m.finalizers.as_ref().filter(|f| !f.is_empty()),
        "deleting": m.deletion_timestamp.is_some(),
        "deletionGracePeriodSeconds": m.deletion_grace_period_seconds,
        "labels": m.labels.as_ref().filter(|l| !l.is_empty()),
        "annotations": m.annotations.as_ref().filter(|a| !a.is_empty()),
        "ownerReferences": owners,
        "managedFields": managed,
        "body": body,
    })
}

fn allocate(v: &mut Value) {
    if v.as_str().is_some_and(|s| s != "None" && !s.is_empty()) || v.is_number() {
        *v = json!(ALLOCATED);
    }
}

fn normalize_service(body: &mut Value) {
    let Some(spec) = body.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    for key in ["clusterIP", "healthCheckNodePort"] {
        if let Some(v) = spec.get_mut(key) {
            allocate(v);
        }
    }
    if let Some(ips) = spec.get_mut("clusterIPs").and_then(Value::as_array_mut) {
        ips.iter_mut().for_each(allocate);
    }
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for port in ports.iter_mut().filter_map(Value::as_object_mut) {
            if let Some(v) = port.get_mut("nodePort") {
                allocate(v);
            }
        }
    }
}

/// One difference between two JSON values: a path and both values (None when absent).
#[derive(Clone, Debug, PartialEq)]
pub struct Difference {
    /// Dotted path (`body.spec.ports[0].protocol`).
    pub path: String,
    /// The left value.
    pub left: Option<Value>,
    /// The right value.
    pub right: Option<Value>,
}

impl Difference {
    /// The path with list indices removed (`body.spec.ports[].protocol`), for classes.
    pub fn shape(&self) -> String {
        let mut out = String::new();
        let mut in_index = false;
        for c in self.path.chars() {
            match c {
                '[' => {
                    in_index = true;
                    out.push('[');
                }
                ']' => {
                    in_index = false;
                    out.push(']');
                }
                _ if in_index => {}
                _ => out.push(c),
            }
        }
        out
    }
}

/// Every leaf where `left` and `right` differ. Lists of different lengths differ as a whole.
pub fn differences(left: &Value, right: &Value) -> Vec<Difference> {
    let mut out = Vec::new();
    walk(Some(left), Some(right), String::new(), &mut out);
    out
}

fn walk(left: Option<&Value>, right: Option<&Value>, path: String, out: &mut Vec<Difference>) {
    match (left, right) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                walk(a.get(key), b.get(key), child, out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                walk(Some(x), Some(y), format!("{path}[{i}]"), out);
            }
        }
        (a, b) if a == b => {}
        // A null and an absent key say the same thing in a view.
        (None, Some(Value::Null)) | (Some(Value::Null), None) => {}
        (a, b) => out.push(Difference {
            path,
            left: a.cloned(),
            right: b.cloned(),
        }),
    }
}

/// `map` without the keys whose value is null (for compact printing).
pub fn compact(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null() && *v != &json!([]))
                .map(|(k, v)| (k.clone(), compact(v)))
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(compact).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_name_leaf_paths_and_ignore_null_versus_absent() {
        let a = json!({"a": {"b": 1, "c": [1, 2]}, "n": null});
        let b = json!({"a": {"b": 2, "c": [1, 3]}, "x": true});
        let d = differences(&a, &b);
        let paths: Vec<&str> = d.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(paths, ["a.b", "a.c[1]", "x"]);
        assert_eq!(d[1].shape(), "a.c[]");
        assert_eq!(d[2].left, None);
    }

    #[test]
    fn service_allocations_are_normalized_but_headless_is_kept() {
        let mut body = json!({"spec": {"clusterIP": "10.0.0.7", "clusterIPs": ["10.0.0.7"],
            "ports": [{"port": 80, "nodePort": 30001}]}});
        normalize_service(&mut body);
        assert_eq!(body["spec"]["clusterIP"], ALLOCATED);
        assert_eq!(body["spec"]["ports"][0]["nodePort"], ALLOCATED);
        assert_eq!(body["spec"]["ports"][0]["port"], 80);
        let mut headless = json!({"spec": {"clusterIP": "None"}});
        normalize_service(&mut headless);
        assert_eq!(headless["spec"]["clusterIP"], "None");
    }
}
