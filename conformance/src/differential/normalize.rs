//! The normalized view of an object: what both servers must agree on.
//!
//! Normalizations (each one removes a value that legitimately differs between two servers):
//! - `metadata.uid`: dropped; ownerReference uids become the owner's symbolic name.
//! - `metadata.resourceVersion`: only whether it changed since this side's previous view of
//!   the object (`rvChanged`); revisions are per server.
//! - `metadata.creationTimestamp`: dropped (wall clock); `deletionTimestamp`: only whether it is
//!   set (`deleting`).
//! - `metadata.name`: the symbolic name (a `generateName` suffix is random; a dry-run's
//!   generated name becomes `<generateName><generated>`); `namespace`:
//!   dropped (both sides use the same name anyway).
//! - `metadata.managedFields`: manager, operation, subresource, apiVersion and the field set
//!   (uids in keyed-entry keys such as `k:{"uid":...}` become symbols); `time` dropped. Entries sorted by manager, operation and subresource.
//! - Empty `labels`, `annotations`, `finalizers` and `ownerReferences` are the same as absent
//!   (the real server omits them when empty; a client cannot tell the two apart through
//!   `ObjectMeta`'s `Option`s in a way that matters).
//! - The object's own uid where the server copies it into labels and the body (a Job's
//!   `controller-uid` labels and selector): `<own uid>`; likewise its own name when
//!   generated from `generateName` (a Job's `job-name` labels): `<own generated name>`.
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
                "fields": e.fields_v1.as_ref().and_then(|f| operator_runtime_core::fields_v1::tree(&f.0)).map(|f| symbolize_keys(&f, symbols)),
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
    let own_uid = m.uid.as_deref().filter(|u| !u.is_empty());
    // A generated name has a random suffix; a Job copies its own into its labels.
    let generated_name = m
        .name
        .as_deref()
        .filter(|n| !n.is_empty() && m.generate_name.as_deref().is_some_and(|g| !g.is_empty()));
    let mut labels = m.labels.clone().filter(|l| !l.is_empty());
    for (own, placeholder) in [(own_uid, OWN_UID), (generated_name, OWN_GENERATED_NAME)] {
        let Some(own) = own else { continue };
        replace_own(&mut body, own, placeholder);
        labels
            .iter_mut()
            .flatten()
            .filter(|(_, v)| *v == own)
            .for_each(|(_, v)| *v = placeholder.to_owned());
    }
    json!({
        "kind": object.kind,
        "name": object_name(object, symbols),
        "generateName": m.generate_name,
        "rvChanged": prev_rv.map(|p| Some(p) != m.resource_version.as_deref()),
        "generation": m.generation,
        "finalizers": m.finalizers.as_ref().filter(|f| !f.is_empty()),
        "deleting": m.deletion_timestamp.is_some(),
        "deletionGracePeriodSeconds": m.deletion_grace_period_seconds,
        "labels": labels,
        "annotations": m.annotations.as_ref().filter(|a| !a.is_empty()),
        "ownerReferences": owners,
        "managedFields": managed,
        "body": body,
    })
}

/// The symbol of the object's name; a name generated by a dry-run create (never remembered)
/// becomes `<generateName><generated>`.
fn object_name(object: &Object, symbols: &Symbols) -> String {
    let name = object.name();
    if !symbols.by_name.contains_key(name)
        && let Some(prefix) = object.metadata.generate_name.as_deref()
        && name.starts_with(prefix)
    {
        return format!("{prefix}<generated>");
    }
    symbols.name(name)
}

/// managedFields keys of keyed list entries carry values (`k:{"uid":"..."}` for
/// ownerReferences): uids become symbols there too.
fn symbolize_keys(fields: &Value, symbols: &Symbols) -> Value {
    match fields {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let mut key = k.clone();
                    if k.starts_with("k:") {
                        for (uid, sym) in &symbols.by_uid {
                            key = key.replace(uid.as_str(), sym);
                        }
                    }
                    (key, symbolize_keys(v, symbols))
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Placeholder of the object's own uid where it appears in labels or the body.
pub const OWN_UID: &str = "<own uid>";

/// Placeholder of the object's own generated name (`generateName` plus a random suffix)
/// where it appears in labels or the body.
pub const OWN_GENERATED_NAME: &str = "<own generated name>";

fn replace_own(v: &mut Value, own: &str, placeholder: &str) {
    match v {
        Value::String(s) if s == own => placeholder.clone_into(s),
        Value::Array(items) => items.iter_mut().for_each(|x| replace_own(x, own, placeholder)),
        Value::Object(map) => map.values_mut().for_each(|x| replace_own(x, own, placeholder)),
        _ => {}
    }
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
    fn uids_in_managed_field_keys_and_dry_run_generated_names_become_symbols() {
        let mut symbols = Symbols::default();
        symbols.by_uid.insert("u-1".into(), "cm-0".into());
        let fields = json!({"f:metadata": {"f:ownerReferences": {"k:{\"uid\":\"u-1\"}": {}}}});
        assert_eq!(
            symbolize_keys(&fields, &symbols),
            json!({"f:metadata": {"f:ownerReferences": {"k:{\"uid\":\"cm-0\"}": {}}}})
        );
        let mut object = Object::new(
            &operator_runtime_core::TypeRef::new("v1", "ConfigMap"),
            Some("ns"),
            "cm-1-x7k2p",
        );
        object.metadata.generate_name = Some("cm-1-".into());
        assert_eq!(object_name(&object, &symbols), "cm-1-<generated>");
        symbols.by_name.insert("cm-1-x7k2p".into(), "cm-1".into());
        assert_eq!(object_name(&object, &symbols), "cm-1");
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
