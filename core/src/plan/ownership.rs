//! Drift from server-side-apply ownership: a field the operator declares has drifted when its
//! field manager's `Apply` entry in the live object's managedFields no longer owns it, or when
//! it is missing from the live object.
//!
//! The API server moves a field's ownership to whoever changes its value (every `Update`, and
//! a forced `Apply` by another manager), drops it from every manager's set when someone
//! removes it (structured-merge-diff's `Updater.update`), while its own normalizations (a quantity rewritten in
//! canonical form, a defaulted field, an empty map dropped by `omitempty`) keep the applier's
//! ownership. Asking "do we still own it?" therefore tells a manual edit from a normalization
//! without knowing the schema or the canonical form of any value; no value is compared.
//!
//! The walk follows the desired object and the `fieldsV1` tree side by side: `f:<name>` for
//! fields, `k:{...}` for entries of keyed lists (matched on the key fields the desired entry
//! sets, so a key field the server defaults, such as a port's `protocol`, still matches),
//! `v:<json>` for set lists, and a node without children for anything owned whole (atomic
//! lists and maps).

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::diff::{FieldChange, FieldPath, PathSegment, render};
use crate::fields_v1::{self, FieldsNode, View};
use crate::hash::HASH_ANNOTATION;
use crate::model::Object;

/// The `fieldsV1` tree of `manager`'s `Apply` entry for the main resource, if the live object
/// has one (parsed when a cache keeps it as JSON text, see [`fields_v1::compact`]).
pub fn apply_entry<'a>(live: &'a Object, manager: &str) -> Option<Cow<'a, Value>> {
    apply_fields(live, manager).and_then(fields_v1::tree)
}

/// The `fieldsV1` of `manager`'s `Apply` entry for the main resource as the object holds it
/// (the tree, or its JSON text).
pub fn apply_fields<'a>(live: &'a Object, manager: &str) -> Option<&'a Value> {
    live.metadata
        .managed_fields
        .iter()
        .flatten()
        .find(|e| {
            e.manager.as_deref() == Some(manager) && e.operation.as_deref() == Some("Apply") && e.subresource.is_none()
        })
        .and_then(|e| e.fields_v1.as_ref())
        .map(|f| &f.0)
}

/// [`drift`] against a `fieldsV1` in either form: a tree is walked as it is, a text through a
/// [`View`] (no `serde_json` map per node). None when it is neither a JSON object nor its text.
pub fn drift_from(desired: &Object, live: &Object, fields: &Value) -> Option<Vec<FieldChange>> {
    match fields {
        Value::Object(_) => Some(drift(desired, live, fields)),
        Value::String(text) => View::parse(text).map(|owned| drift(desired, live, &owned)),
        _ => None,
    }
}

/// Every field the desired object sets (labels, annotations but the hash, body but `status`)
/// that `owned` (the manager's `fieldsV1` tree) no longer covers, in path order. A field that
/// is owned but absent from the live object is not drift: the server drops zero values
/// (`omitempty`) and write-only fields (a Secret's `stringData`) while the applier keeps them. `from` is the live value, `to` the desired one.
pub fn drift<N: FieldsNode>(desired: &Object, live: &Object, owned: &N) -> Vec<FieldChange> {
    // One path and one lookup key, grown and shrunk as the walk goes: a field visited costs no
    // allocation unless it is reported (this walk runs for every child on every reconcile).
    let mut walker = Walker {
        path: Vec::new(),
        key: String::new(),
        out: Vec::new(),
    };
    let meta_owned = child(Some(owned), "f:metadata");
    for (field, want, have) in [
        ("labels", &desired.metadata.labels, &live.metadata.labels),
        ("annotations", &desired.metadata.annotations, &live.metadata.annotations),
    ] {
        let node = walker.field_node(meta_owned, field);
        walker.path.push(Step::Field("metadata"));
        walker.path.push(Step::Field(field));
        for (key, value) in want.iter().flatten() {
            if key == HASH_ANNOTATION {
                continue;
            }
            // A label is a scalar: drift when it is not ours, or the tree says it is a map.
            let entry = walker.field_node(node, key);
            if entry.is_none_or(|n| !owns_whole(n)) {
                let current = have.as_ref().and_then(|m| m.get(key)).map(|v| Value::String(v.clone()));
                walker.path.push(Step::Field(key));
                walker.report(current.as_ref(), &Value::String(value.clone()));
                walker.path.pop();
            }
        }
        walker.path.clear();
    }
    for (key, value) in &desired.body {
        if key == "status" {
            continue;
        }
        let node = walker.field_node(Some(owned), key);
        walker.path.push(Step::Field(key));
        walker.walk(value, node, live.body.get(key));
        walker.path.pop();
    }
    let mut out = walker.out;
    out.sort();
    out
}

/// The child node `key` of a `fieldsV1` node.
fn child<'a, N: FieldsNode>(node: Option<&'a N>, key: &str) -> Option<&'a N> {
    node?.child(key)
}

/// True when the node owns its value whole: no children but the `.` marker.
fn owns_whole<N: FieldsNode>(node: &N) -> bool {
    node.children().all(|(k, _)| k == ".")
}

/// One step of the path being walked, borrowed from the desired object; it becomes a
/// [`PathSegment`] only when a change is reported.
#[derive(Clone, Copy)]
enum Step<'a> {
    Field(&'a str),
    Index(usize),
    Named(&'a str),
}

/// The state of one [`drift`] walk: the path of the value being visited, a buffer for
/// `fieldsV1` keys, and the changes found.
struct Walker<'a> {
    path: Vec<Step<'a>>,
    key: String,
    out: Vec<FieldChange>,
}

impl<'a> Walker<'a> {
    /// The `f:<field>` child of a `fieldsV1` node.
    fn field_node<'n, N: FieldsNode>(&mut self, node: Option<&'n N>, field: &str) -> Option<&'n N> {
        self.key.clear();
        self.key.push_str("f:");
        self.key.push_str(field);
        child(node, &self.key)
    }

    fn walk<N: FieldsNode>(&mut self, desired: &'a Value, node: Option<&N>, live: Option<&Value>) {
        // Nothing to own: an empty granular list has no path in `fieldsV1` (structured-merge-diff
        // records a list through its entries; only atomic lists and empty maps are leaves).
        if desired.is_null() || desired.as_array().is_some_and(Vec::is_empty) {
            return;
        }
        let live = live.filter(|v| !v.is_null());
        let Some(node) = node else {
            // Not ours any more: name the leaves of a map (`emptyDir.sizeLimit`, not `emptyDir`).
            match desired {
                Value::Object(want) if !want.is_empty() => {
                    for (key, value) in want {
                        let have = live.and_then(|l| l.get(key));
                        self.path.push(Step::Field(key));
                        self.walk::<N>(value, None, have);
                        self.path.pop();
                    }
                }
                _ => self.report(live, desired),
            }
            return;
        };
        if owns_whole(node) {
            return;
        }
        match desired {
            Value::Object(want) => {
                for (key, value) in want {
                    let have = live.and_then(|l| l.get(key));
                    let entry = self.field_node(Some(node), key);
                    self.path.push(Step::Field(key));
                    self.walk(value, entry, have);
                    self.path.pop();
                }
            }
            Value::Array(want) => self.walk_list(want, node, live.and_then(Value::as_array)),
            // A scalar under a node with children: the tree does not describe this value.
            scalar => self.report(live, scalar),
        }
    }

    fn walk_list<N: FieldsNode>(&mut self, want: &'a [Value], node: &N, have: Option<&Vec<Value>>) {
        if !node.is_map() {
            return;
        }
        for (index, item) in want.iter().enumerate() {
            let segment = match item.get("name").and_then(Value::as_str) {
                Some(name) => Step::Named(name),
                None => Step::Index(index),
            };
            if node.child(&format!("v:{item}")).is_some() {
                continue;
            }
            let positional = node.child(&format!("i:{index}"));
            let keyed = node
                .children()
                .filter(|(k, _)| k.starts_with("k:"))
                .find(|(k, _)| key_matches(item, k))
                .map(|(_, v)| v);
            let live_item = match (keyed, have) {
                (Some(_), Some(items)) => items.iter().find(|h| same_entry(item, h, node)),
                (None, Some(items)) => items.get(index),
                _ => None,
            };
            self.path.push(segment);
            match keyed.or(positional) {
                Some(entry) => self.walk(item, Some(entry), live_item),
                // Not ours any more (changed or removed by someone else): report the entry once,
                // not each of its fields.
                None => self.report(live_item, item),
            }
            self.path.pop();
        }
    }

    fn report(&mut self, live: Option<&Value>, desired: &Value) {
        let path = self
            .path
            .iter()
            .map(|step| match *step {
                Step::Field(name) => PathSegment::Field(name.to_owned()),
                Step::Index(index) => PathSegment::Index(index),
                Step::Named(name) => PathSegment::Named(name.to_owned()),
            })
            .collect();
        self.out.push(FieldChange {
            path: FieldPath(path),
            from: live.map(render),
            to: render(desired),
        });
    }
}

/// True when every key field of the `k:{...}` step that the desired entry sets has the same
/// value, and it sets at least one (the server may default the others, e.g. `protocol`).
fn key_matches(item: &Value, step: &str) -> bool {
    let Some(key) = step
        .strip_prefix("k:")
        .and_then(|k| serde_json::from_str::<Map<String, Value>>(k).ok())
    else {
        return false;
    };
    let mut matched = 0;
    for (field, value) in &key {
        match item.get(field) {
            Some(v) if same_key_value(v, value) => matched += 1,
            Some(_) => return false,
            None => {}
        }
    }
    matched > 0
}

/// Key values compare as JSON, numbers by value (`80` = `80.0`).
fn same_key_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// The live entry of a keyed list that the desired entry denotes: the one whose `k:` step in
/// `children` matches both.
fn same_entry<N: FieldsNode>(want: &Value, have: &Value, node: &N) -> bool {
    node.children()
        .map(|(k, _)| k)
        .filter(|k| k.starts_with("k:"))
        .any(|k| key_matches(want, k) && fields_v1::is_entry(have, k))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Object {
        Object::from_value(v).unwrap()
    }

    /// Drift against the tree, checked to be the same read through a view of its text.
    fn both(desired: &Object, live: &Object, owned: &Value) -> Vec<FieldChange> {
        let from_tree = drift(desired, live, owned);
        let text = Value::String(owned.to_string());
        assert_eq!(
            drift_from(desired, live, &text).as_ref(),
            Some(&from_tree),
            "the view reads as the tree"
        );
        assert_eq!(drift_from(desired, live, owned).as_ref(), Some(&from_tree));
        from_tree
    }

    fn paths(changes: &[FieldChange]) -> Vec<String> {
        changes.iter().map(ToString::to_string).collect()
    }

    fn desired() -> Object {
        obj(json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "s", "labels": {"app": "x"}, "annotations": {HASH_ANNOTATION: "h"}},
            "spec": {"replicas": 3, "template": {"spec": {
                "hostNetwork": false,
                "containers": [{"name": "app", "image": "a:1", "args": ["x"],
                    "ports": [{"containerPort": 80, "name": "http"}],
                    "resources": {"requests": {"cpu": "1000m"}}}],
                "volumes": [{"name": "scratch", "emptyDir": {"sizeLimit": "1024Mi"}}]}}}}))
    }

    fn owned() -> Value {
        json!({"f:metadata": {"f:labels": {"f:app": {}}, "f:annotations": {"f:operator-runtime.io/desired-hash": {}}},
            "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:hostNetwork": {},
                "f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:name": {}, "f:image": {}, "f:args": {},
                    "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}, "f:name": {}}},
                    "f:resources": {"f:requests": {"f:cpu": {}}}}},
                "f:volumes": {"k:{\"name\":\"scratch\"}": {".": {}, "f:name": {}, "f:emptyDir": {"f:sizeLimit": {}}}}}}}})
    }

    fn live(replicas: i64) -> Object {
        obj(json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "s", "labels": {"app": "x"}},
            "spec": {"replicas": replicas, "podManagementPolicy": "OrderedReady", "template": {"spec": {
                "containers": [{"name": "app", "image": "a:1", "args": ["x"],
                    "ports": [{"containerPort": 80, "name": "http", "protocol": "TCP"}],
                    "resources": {"requests": {"cpu": "1"}}}],
                "volumes": [{"name": "scratch", "emptyDir": {"sizeLimit": "1Gi"}}]}}}}))
    }

    #[test]
    fn normalized_and_defaulted_fields_we_own_are_not_drift() {
        assert_eq!(paths(&both(&desired(), &live(3), &owned())), Vec::<String>::new());
    }

    #[test]
    fn a_field_another_manager_took_is_drift_with_its_values() {
        let mut owned = owned();
        if let Some(spec) = owned["f:spec"].as_object_mut() {
            spec.remove("f:replicas");
        }
        assert_eq!(paths(&both(&desired(), &live(5), &owned)), ["spec.replicas: 5 -> 3"]);
    }

    #[test]
    fn a_field_or_entry_someone_removed_is_drift() {
        let mut live = live(3);
        live.body["spec"]["template"]["spec"]["volumes"] = json!([]);
        live.metadata.labels = None;
        let mut owned = owned();
        owned["f:metadata"] = json!({});
        owned["f:spec"]["f:template"]["f:spec"]["f:volumes"] = json!({"k:{\"name\":\"other\"}": {}});
        assert_eq!(
            paths(&both(&desired(), &live, &owned)),
            [
                "metadata.labels.app: <unset> -> x",
                "spec.template.spec.volumes[name=scratch]: <unset> -> {\"emptyDir\":{\"sizeLimit\":\"1024Mi\"},\"name\":\"scratch\"}",
            ]
        );
    }

    #[test]
    fn owned_fields_the_server_dropped_are_not_drift() {
        let mut live = live(3);
        live.body["spec"]["template"]["spec"]["volumes"] = json!([{"name": "scratch", "emptyDir": {}}]);
        assert_eq!(both(&desired(), &live, &owned()), vec![]);
    }

    #[test]
    fn an_atomic_list_is_owned_whole() {
        let mut owned = owned();
        owned["f:spec"]["f:template"]["f:spec"]["f:volumes"] = json!({});
        assert_eq!(both(&desired(), &live(3), &owned), vec![]);
    }
}
