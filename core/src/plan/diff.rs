//! Value-based drift detection: does the live object still carry every field the desired
//! object sets? The planner uses it for objects without the operator's server-side-apply entry
//! in managedFields (replace mode; otherwise [`super::ownership`] decides), and to name the
//! changed paths of an update whose desired hash changed.
//!
//! Desired is compared as a *subset* of live: only fields the desired object sets are looked
//! at, so fields the server defaults (`imagePullPolicy`, `clusterIP`, `terminationMessagePath`)
//! and fields other managers set (an HPA's `replicas`, someone's annotation) are never drift.
//! Metadata is compared for the desired labels and annotations only (the hash annotation is
//! reported as the update reason, not as a changed path).
//!
//! Server normalisations that would otherwise look like drift forever are accepted:
//! - an empty desired object or list, `null`, `false`, `0` and `""` match a missing live field
//!   (Go's `omitempty` drops them on the way back);
//! - numbers compare by value (`1` = `1.0`);
//! - the quantities of built-in kinds are compared in the canonical form the server stores
//!   (`1000m` = `1`, `1024Mi` = `1Gi`, see [`crate::quantity`]); strings under `requests`,
//!   `limits`, `capacity`, `hard`, `storage` and `sizeLimit` of other kinds compare the same way.
//!
//! Lists of built-in kinds that the server's OpenAPI marks `x-kubernetes-list-type: map` are
//! matched by their list-map keys, from the same table server-side apply uses
//! ([`crate::builtin_schema`]): containers and env by `name`, container ports by
//! `containerPort` (and `protocol` when the desired entry sets it), and so on. Elsewhere
//! (custom resources, unkeyed lists), lists whose desired elements all carry a distinct `name`
//! are matched by name. Either way an element another manager added (an injected sidecar) is
//! not drift. Other lists are compared position by position and must have the same length.

use std::fmt;

use serde_json::{Map, Value};

use crate::builtin_schema::{self, ListType};
use crate::fields_v1;
use crate::hash::HASH_ANNOTATION;
use crate::model::{Object, TypeRef};

/// One step in a field path.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathSegment {
    /// A map key or struct field.
    Field(String),
    /// A list position (lists compared by position).
    Index(usize),
    /// A list element found by its `name` (lists merged by name).
    Named(String),
    /// A list element found by other list-map keys, rendered `key=value,...` (a container
    /// port: `containerPort=8080`).
    Keyed(String),
}

/// A path to a field, displayed as `spec.template.spec.containers[name=app].image`; keys
/// containing `.` or `/` (labels, annotations) are bracketed: `metadata.labels[app.kubernetes.io/name]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldPath(pub Vec<PathSegment>);

impl FieldPath {
    /// A path of plain fields, e.g. `FieldPath::fields(&["spec", "replicas"])`.
    pub fn fields(fields: &[&str]) -> Self {
        Self(fields.iter().map(|f| PathSegment::Field((*f).to_owned())).collect())
    }

    /// True if this path and the plain fields in `other` overlap: one is a prefix of the other
    /// (`data` and `data.password` overlap, `data` and `metadata` do not).
    pub fn overlaps(&self, other: &[String]) -> bool {
        self.0
            .iter()
            .zip(other)
            .all(|(s, o)| matches!(s, PathSegment::Field(f) if f == o))
    }

    /// True if this path starts with the plain fields in `prefix`.
    pub fn starts_with(&self, prefix: &[&str]) -> bool {
        prefix.len() <= self.0.len()
            && prefix
                .iter()
                .zip(&self.0)
                .all(|(p, s)| matches!(s, PathSegment::Field(f) if f == p))
    }

    pub(crate) fn child(&self, segment: PathSegment) -> Self {
        let mut next = self.clone();
        next.0.push(segment);
        next
    }

    fn has_field(&self, names: &[&str]) -> bool {
        self.0
            .iter()
            .any(|s| matches!(s, PathSegment::Field(f) if names.contains(&f.as_str())))
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                PathSegment::Field(name) if name.contains(['.', '/']) || name.is_empty() => write!(f, "[{name}]")?,
                PathSegment::Field(name) if i == 0 => write!(f, "{name}")?,
                PathSegment::Field(name) => write!(f, ".{name}")?,
                PathSegment::Index(index) => write!(f, "[{index}]")?,
                PathSegment::Named(name) => write!(f, "[name={name}]")?,
                PathSegment::Keyed(keys) => write!(f, "[{keys}]")?,
            }
        }
        Ok(())
    }
}

/// One field whose live value differs from the desired one.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldChange {
    /// Where the field is.
    pub path: FieldPath,
    /// The live value, rendered compactly (None when the field is missing on the live object).
    pub from: Option<String>,
    /// The desired value, rendered compactly ([`UNSET`] when the desired object no longer sets
    /// the field).
    pub to: String,
}

impl FieldChange {
    /// True when the values were withheld ([`REDACTED`]): the path is sensitive.
    pub fn is_redacted(&self) -> bool {
        self.to == REDACTED || self.from.as_deref() == Some(REDACTED)
    }

    /// The same change with both values replaced by [`REDACTED`] (a missing live value stays
    /// missing: that the field was added is not secret).
    pub fn redacted(self) -> Self {
        Self {
            from: self.from.map(|_| REDACTED.to_owned()),
            to: REDACTED.to_owned(),
            path: self.path,
        }
    }
}

impl fmt::Display for FieldChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_redacted() {
            return write!(f, "{}: <redacted, changed>", self.path);
        }
        write!(
            f,
            "{}: {} -> {}",
            self.path,
            self.from.as_deref().unwrap_or("<unset>"),
            self.to
        )
    }
}

/// How a missing value is shown in a [`FieldChange`].
pub const UNSET: &str = "<unset>";

/// The value shown for a sensitive path (a Secret's `data` and `stringData`, paths marked with
/// [`PlanPolicy::sensitive`](super::PlanPolicy::sensitive)); such a change displays as
/// `data.password: <redacted, changed>`.
pub const REDACTED: &str = "<redacted>";

/// Fields `manager` applied before (its `Apply` entry in the live object's managedFields) that
/// the desired object no longer sets, with their live values: server-side apply removes them
/// on the next apply. `metadata` other than labels and annotations, the hash annotation and
/// `status` are left out; keyed list entries (`k:`/`v:`) count as their list.
pub fn dropped_fields(desired: &Object, live: &Object, manager: &str) -> Vec<FieldChange> {
    let Some(entry) = live.metadata.managed_fields.iter().flatten().find(|e| {
        e.manager.as_deref() == Some(manager) && e.operation.as_deref() == Some("Apply") && e.subresource.is_none()
    }) else {
        return Vec::new();
    };
    let Some(fields) = entry.fields_v1.as_ref() else {
        return Vec::new();
    };
    let Some(tree) = fields_v1::tree(&fields.0) else {
        return Vec::new();
    };
    let owned = fields_v1::leaf_paths(&tree);
    let (Some(want), Some(have)) = (Reportable::of(desired), Reportable::of(live)) else {
        return Vec::new();
    };
    let mut out: Vec<FieldChange> = Vec::new();
    for path in owned.into_iter().filter(|p| reportable(p)) {
        // Report the outermost part that is gone (a whole container, a whole map), once.
        let Some(len) = (1..=path.len()).find(|&n| want.lookup(&path[..n]).is_none()) else {
            continue;
        };
        let gone = &path[..len];
        let Some(value) = have.lookup(gone) else {
            continue;
        };
        let change = FieldChange {
            path: FieldPath(gone.iter().map(|s| segment(s)).collect()),
            from: Some(render(value)),
            to: UNSET.to_owned(),
        };
        if !out.contains(&change) {
            out.push(change);
        }
    }
    out.sort();
    out
}

/// Whether an owned path can be reported: not `status`, not server metadata, not the hash.
fn reportable(path: &[String]) -> bool {
    match path {
        [first, ..] if first == "status" || first == "apiVersion" || first == "kind" => false,
        [first, second, rest @ ..] if first == "metadata" => {
            (second == "labels" || second == "annotations") && rest.first().is_none_or(|k| k != HASH_ANNOTATION)
        }
        [first] if first == "metadata" => false,
        _ => true,
    }
}

/// A path segment from a `fieldsV1` step: `k:{"name":"x"}` becomes `[name=x]`.
fn segment(step: &str) -> PathSegment {
    let named = step
        .strip_prefix("k:")
        .and_then(|k| serde_json::from_str::<Map<String, Value>>(k).ok())
        .filter(|k| k.len() == 1)
        .and_then(|k| k.get("name").and_then(Value::as_str).map(str::to_owned));
    match named {
        Some(name) => PathSegment::Named(name),
        None => PathSegment::Field(step.to_owned()),
    }
}

/// The value at `path`, a `null` counting as missing.
fn lookup<'a>(root: &'a Map<String, Value>, path: &[String]) -> Option<&'a Value> {
    fields_v1::value_at(root, path).filter(|v| !v.is_null())
}

/// The parts of an object a [`reportable`] path can reach, as in [`Object::to_value`]: the
/// body as it is, and of the metadata only the labels and annotations (the rest of the
/// metadata, serialized, would be thrown away).
struct Reportable<'a> {
    body: &'a Map<String, Value>,
    /// `{"metadata": {"labels": .., "annotations": ..}}`.
    metadata: Map<String, Value>,
}

impl<'a> Reportable<'a> {
    /// None when the body has a field `metadata` (it would shadow the real one).
    fn of(object: &'a Object) -> Option<Self> {
        if object.body.contains_key("metadata") {
            return None;
        }
        let strings = |m: &std::collections::BTreeMap<String, String>| {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
        };
        let mut meta = Map::new();
        if let Some(labels) = &object.metadata.labels {
            meta.insert("labels".into(), strings(labels));
        }
        if let Some(annotations) = &object.metadata.annotations {
            meta.insert("annotations".into(), strings(annotations));
        }
        let mut metadata = Map::new();
        metadata.insert("metadata".into(), Value::Object(meta));
        Some(Self {
            body: &object.body,
            metadata,
        })
    }

    fn lookup(&self, path: &[String]) -> Option<&Value> {
        match path.first().map(String::as_str) {
            Some("metadata") => lookup(&self.metadata, path),
            _ => lookup(self.body, path),
        }
    }
}

/// Longest rendered value in a change; longer ones are cut with an ellipsis.
const MAX_RENDERED: usize = 80;

/// Renders a value for humans: strings without quotes, everything else as compact JSON.
pub fn render(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() <= MAX_RENDERED {
        return text;
    }
    let cut: String = text.chars().take(MAX_RENDERED - 1).collect();
    format!("{cut}…")
}

/// Every field the desired object sets (labels, annotations but the hash, body but status)
/// whose live value differs, in path order.
pub fn drift(desired: &Object, live: &Object) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let meta = FieldPath::fields(&["metadata"]);
    for (field, want, have) in [
        ("labels", &desired.metadata.labels, &live.metadata.labels),
        ("annotations", &desired.metadata.annotations, &live.metadata.annotations),
    ] {
        for (key, value) in want.iter().flatten() {
            if key == HASH_ANNOTATION {
                continue;
            }
            let current = have.as_ref().and_then(|m| m.get(key));
            if current != Some(value) {
                out.push(FieldChange {
                    path: meta
                        .child(PathSegment::Field(field.to_owned()))
                        .child(PathSegment::Field(key.clone())),
                    from: current.cloned(),
                    to: value.clone(),
                });
            }
        }
    }
    // Quantities of built-in kinds compared in the form the server stores them (`1000m` -> `1`).
    let desired_body = super::quantity::server_form(desired);
    for (key, value) in desired_body.iter() {
        if key == "status" {
            continue;
        }
        let path = FieldPath(vec![PathSegment::Field(key.clone())]);
        compare(value, live.body.get(key), &path, &desired.type_ref(), &mut out);
    }
    out.sort();
    out
}

fn compare(desired: &Value, live: Option<&Value>, path: &FieldPath, kind: &TypeRef, out: &mut Vec<FieldChange>) {
    let live = live.filter(|v| !v.is_null());
    match desired {
        Value::Null => {}
        Value::Object(want) => match live {
            Some(Value::Object(have)) => compare_maps(want, Some(have), path, kind, out),
            None => compare_maps(want, None, path, kind, out),
            Some(other) => push(path, Some(other), desired, out),
        },
        Value::Array(want) if want.is_empty() => {}
        Value::Array(want) => match live {
            Some(Value::Array(have)) => compare_lists(want, have, path, kind, out),
            other => push(path, other, desired, out),
        },
        scalar => match live {
            None if is_zero(scalar) => {}
            Some(have) if scalar_eq(scalar, have, path) => {}
            other => push(path, other, desired, out),
        },
    }
}

fn compare_maps(
    want: &Map<String, Value>,
    have: Option<&Map<String, Value>>,
    path: &FieldPath,
    kind: &TypeRef,
    out: &mut Vec<FieldChange>,
) {
    for (key, value) in want {
        let child = path.child(PathSegment::Field(key.clone()));
        compare(value, have.and_then(|h| h.get(key)), &child, kind, out);
    }
}

/// The path in [`builtin_schema`]'s form: dotted fields, `[*]` for a list element.
fn schema_path(path: &FieldPath) -> String {
    let mut out = String::new();
    for segment in &path.0 {
        match segment {
            PathSegment::Field(name) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
            PathSegment::Index(_) | PathSegment::Named(_) | PathSegment::Keyed(_) => out.push_str("[*]"),
        }
    }
    out
}

/// The list-map keys of the list at `path`, when the kind's schema says it is a keyed list.
fn map_keys(kind: &TypeRef, path: &FieldPath) -> Option<&'static [&'static str]> {
    builtin_schema::list_type(kind, &schema_path(path))
        .filter(|e| e.list_type == ListType::Map && !e.keys.is_empty())
        .map(|e| e.keys)
}

/// Compares a keyed list entry by entry: each desired entry is matched with the live entry
/// whose key fields equal the ones the desired entry sets (a key field it leaves to the
/// server's default, such as a port's `protocol`, matches any value). False, with nothing
/// compared, when some desired entry sets no key field at all.
fn compare_keyed(
    want: &[Value],
    have: &[Value],
    keys: &'static [&'static str],
    path: &FieldPath,
    kind: &TypeRef,
    out: &mut Vec<FieldChange>,
) -> bool {
    let set_keys = |item: &Value| -> Vec<(&'static str, Value)> {
        keys.iter()
            .filter_map(|&k| item.get(k).filter(|v| !v.is_null()).map(|v| (k, v.clone())))
            .collect()
    };
    let entries: Vec<Vec<(&'static str, Value)>> = want.iter().map(set_keys).collect();
    if entries.iter().any(Vec::is_empty) {
        return false;
    }
    for (value, key) in want.iter().zip(&entries) {
        let current = have.iter().find(|h| {
            key.iter()
                .all(|(k, v)| h.get(*k).is_some_and(|hv| scalar_eq(v, hv, path)))
        });
        let segment = match key.as_slice() {
            [("name", Value::String(name))] => PathSegment::Named(name.clone()),
            _ => PathSegment::Keyed(
                key.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
                    .collect::<Vec<_>>()
                    .join(","),
            ),
        };
        let child = path.child(segment);
        match current {
            Some(current) => compare(value, Some(current), &child, kind, out),
            None => push(&child, None, value, out),
        }
    }
    true
}

fn compare_lists(want: &[Value], have: &[Value], path: &FieldPath, kind: &TypeRef, out: &mut Vec<FieldChange>) {
    if let Some(keys) = map_keys(kind, path)
        && compare_keyed(want, have, keys, path, kind, out)
    {
        return;
    }
    if let Some(names) = distinct_names(want) {
        for (name, value) in names.into_iter().zip(want) {
            let current = have
                .iter()
                .find(|v| v.get("name").and_then(Value::as_str) == Some(name));
            let child = path.child(PathSegment::Named(name.to_owned()));
            match current {
                Some(current) => compare(value, Some(current), &child, kind, out),
                None => push(&child, None, value, out),
            }
        }
        return;
    }
    if want.len() != have.len() {
        push(
            path,
            Some(&Value::Array(have.to_vec())),
            &Value::Array(want.to_vec()),
            out,
        );
        return;
    }
    for (index, (w, h)) in want.iter().zip(have).enumerate() {
        compare(w, Some(h), &path.child(PathSegment::Index(index)), kind, out);
    }
}

/// The `name` of every element, when every element is an object with a distinct string name.
fn distinct_names(list: &[Value]) -> Option<Vec<&str>> {
    let names: Vec<&str> = list
        .iter()
        .map(|v| v.get("name").and_then(Value::as_str))
        .collect::<Option<_>>()?;
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    (sorted.len() == names.len()).then_some(names)
}

fn push(path: &FieldPath, live: Option<&Value>, desired: &Value, out: &mut Vec<FieldChange>) {
    out.push(FieldChange {
        path: path.clone(),
        from: live.map(render),
        to: render(desired),
    });
}

fn is_zero(value: &Value) -> bool {
    match value {
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

fn scalar_eq(desired: &Value, live: &Value, path: &FieldPath) -> bool {
    match (desired, live) {
        (Value::Number(a), Value::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => a.as_f64() == b.as_f64(),
        },
        (Value::String(a), Value::String(b)) if a != b => {
            path.has_field(&["requests", "limits", "capacity", "hard", "storage", "sizeLimit"])
                && super::quantity::same_quantity(a, b)
        }
        _ => desired == live,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Object {
        Object::from_value(v).unwrap()
    }

    fn paths(changes: &[FieldChange]) -> Vec<String> {
        changes.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn server_defaults_are_not_drift() {
        let desired = obj(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "app", "image": "a:1",
                "resources": {"requests": {"cpu": "1000m"}}}], "hostNetwork": false}}}}),
        );
        let live = obj(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "uid": "x", "labels": {"other": "x"}},
            "spec": {"replicas": 2, "revisionHistoryLimit": 10, "template": {"spec": {
                "containers": [{"name": "sidecar", "image": "s"},
                    {"name": "app", "image": "a:1", "imagePullPolicy": "IfNotPresent",
                     "resources": {"requests": {"cpu": "1"}}}],
                "restartPolicy": "Always"}}},
            "status": {"replicas": 2}}));
        assert_eq!(drift(&desired, &live), vec![]);
    }

    #[test]
    fn a_field_we_set_is_drift_with_readable_values() {
        let desired = obj(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "labels": {"app.kubernetes.io/name": "x"}},
            "spec": {"replicas": 5, "template": {"spec": {"containers": [{"name": "app", "image": "a:2"}]}}}}));
        let live = obj(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "app", "image": "a:1"}]}}}}),
        );
        assert_eq!(
            paths(&drift(&desired, &live)),
            [
                "metadata.labels[app.kubernetes.io/name]: <unset> -> x",
                "spec.replicas: 3 -> 5",
                "spec.template.spec.containers[name=app].image: a:1 -> a:2",
            ]
        );
    }

    #[test]
    fn positional_lists_and_type_changes() {
        let desired = obj(json!({"apiVersion": "v1", "kind": "X", "metadata": {"name": "x"},
            "spec": {"args": ["a", "b"], "ports": [{"port": 80}], "mode": {"a": 1}}}));
        let live = obj(json!({"apiVersion": "v1", "kind": "X", "metadata": {"name": "x"},
            "spec": {"args": ["a"], "ports": [{"port": 81, "protocol": "TCP"}], "mode": "flat"}}));
        assert_eq!(
            paths(&drift(&desired, &live)),
            [
                "spec.args: [\"a\"] -> [\"a\",\"b\"]",
                "spec.mode: flat -> {\"a\":1}",
                "spec.ports[0].port: 81 -> 80",
            ]
        );
    }

    #[test]
    fn keyed_lists_use_the_schema_keys() {
        // Container ports are keyed by containerPort (and protocol, which the server defaults):
        // a port another manager added is not drift, a changed field of ours is, named by key.
        let desired = obj(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "a",
                "ports": [{"containerPort": 8080, "name": "http"}, {"containerPort": 9090}]}]}}}}),
        );
        let live = obj(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "a",
                "ports": [{"containerPort": 7070, "protocol": "TCP"},
                          {"containerPort": 9090, "protocol": "TCP"},
                          {"containerPort": 8080, "protocol": "TCP", "name": "web"}]}]}}}}),
        );
        assert_eq!(
            paths(&drift(&desired, &live)),
            ["spec.template.spec.containers[name=app].ports[containerPort=8080].name: web -> http"]
        );
        // The same list on a kind without a schema falls back to matching by position.
        let unknown = |o: &Object| {
            let mut v = o.to_value().unwrap();
            v["apiVersion"] = json!("example.io/v1");
            obj(v)
        };
        let changes = drift(&unknown(&desired), &unknown(&live));
        let changed: Vec<String> = changes.iter().map(|c| c.path.to_string()).collect();
        assert_eq!(changed, ["spec.template.spec.containers[name=app].ports"]);
    }

    #[test]
    fn hash_annotation_is_not_a_path_and_long_values_are_cut() {
        let desired = obj(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "annotations": {HASH_ANNOTATION: "new"}}, "data": {"k": "v".repeat(200)}}));
        let live = obj(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "annotations": {HASH_ANNOTATION: "old"}}, "data": {"k": "v"}}));
        let changes = drift(&desired, &live);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].to.chars().count(), MAX_RENDERED);
        assert!(changes[0].to.ends_with('…'));
    }
}
