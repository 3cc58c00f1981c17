//! Field paths of the server-side apply subset: leaf paths through maps and through the
//! entries of keyed lists, their `fieldsV1` encoding, and reading, writing and removing a path
//! in an object.
//!
//! A path segment is a map key; inside a keyed list (`listType=map`), the entry's key in the
//! `fieldsV1` form `k:{"name":"app"}`; inside a set (`listType=set`), the item in the form
//! `v:"value"`. Which lists are keyed or sets comes from [`list_type`]: the lists of the
//! built-in kinds that the API server merges by `name` (containers, init and ephemeral
//! containers, volumes, env), `mountPath` (volumeMounts), `type` (status conditions),
//! (`containerPort`, `protocol`) for container ports and (`port`, `protocol`) for Service
//! ports (`protocol` defaults to `TCP` in the key), and `metadata.finalizers` as a set.
//! Every other list is atomic: one leaf, owned and replaced whole.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// A leaf path from the object root.
pub(crate) type Path = Vec<String>;
/// A set of owned leaf paths.
pub(crate) type FieldSet = BTreeSet<Path>;

/// One key field of a keyed list, with the value the server defaults it to.
type KeyField = (&'static str, Option<&'static str>);

/// How the list at a path merges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ListType<'s> {
    /// `listType=map`: entries are merged by these key fields.
    Map(&'static [KeyField]),
    /// `x-kubernetes-list-type: map` of a CRD schema, keyed by its `x-kubernetes-list-map-keys`.
    SchemaMap(Vec<&'s str>),
    /// `listType=set`: each scalar item is owned on its own.
    Set,
}

const BY_NAME: &[KeyField] = &[("name", None)];
const BY_MOUNT_PATH: &[KeyField] = &[("mountPath", None)];
const BY_TYPE: &[KeyField] = &[("type", None)];
const BY_CONTAINER_PORT: &[KeyField] = &[("containerPort", None), ("protocol", Some("TCP"))];
const BY_SERVICE_PORT: &[KeyField] = &[("port", None), ("protocol", Some("TCP"))];

/// The merge type of the list at `path`, None for an atomic list. With a CRD `schema` (a
/// custom resource), lists outside `metadata` merge as the schema's `x-kubernetes-list-type`
/// says (atomic when it says nothing); without one, as the built-in kinds' lists do.
pub(crate) fn list_type<'s>(path: &[String], schema: Option<&'s Value>) -> Option<ListType<'s>> {
    if let Some(schema) = schema
        && path.first().is_some_and(|f| f != "metadata")
    {
        return schema_list_type(schema, path);
    }
    let (last, parent) = path.split_last()?;
    match last.as_str() {
        "containers" | "initContainers" | "ephemeralContainers" | "volumes" | "env" => Some(ListType::Map(BY_NAME)),
        "volumeMounts" => Some(ListType::Map(BY_MOUNT_PATH)),
        "conditions" => Some(ListType::Map(BY_TYPE)),
        // A container's ports: the list sits in a keyed container entry.
        "ports" if parent.last().is_some_and(|p| p.starts_with("k:")) => Some(ListType::Map(BY_CONTAINER_PORT)),
        "ports" if parent == ["spec"] => Some(ListType::Map(BY_SERVICE_PORT)),
        "finalizers" if parent == ["metadata"] => Some(ListType::Set),
        _ => None,
    }
}

/// The list type a CRD schema declares for the list at `path`.
fn schema_list_type<'s>(schema: &'s Value, path: &[String]) -> Option<ListType<'s>> {
    let mut node = schema;
    for segment in path {
        node = if segment.starts_with("k:") || segment.starts_with("v:") {
            node.get("items")?
        } else {
            match node.get("properties").and_then(|p| p.get(segment.as_str())) {
                Some(child) => child,
                None => node.get("additionalProperties").filter(|a| a.is_object())?,
            }
        };
    }
    match node.get("x-kubernetes-list-type").and_then(Value::as_str)? {
        "map" => {
            let keys: Vec<&str> = node
                .get("x-kubernetes-list-map-keys")?
                .as_array()?
                .iter()
                .filter_map(Value::as_str)
                .collect();
            (!keys.is_empty()).then_some(ListType::SchemaMap(keys))
        }
        "set" => Some(ListType::Set),
        _ => None,
    }
}

/// The `k:{...}` segment of a keyed-list entry (defaulted key fields filled in), or None when
/// it lacks a key field without default.
fn entry_segment<'a>(item: &Value, keys: impl IntoIterator<Item = (&'a str, Option<&'a str>)>) -> Option<String> {
    let mut key = Map::new();
    for (k, default) in keys {
        let value = match (item.get(k), default) {
            (Some(v), _) => v.clone(),
            (None, Some(d)) => Value::from(d),
            (None, None) => return None,
        };
        key.insert(k.to_owned(), value);
    }
    Some(format!("k:{}", Value::Object(key)))
}

/// The `v:...` segment of a set item.
fn set_segment(item: &Value) -> Option<String> {
    (!item.is_object() && !item.is_array()).then(|| format!("v:{item}"))
}

/// Key fields whose absence means a default value (so an entry without `protocol` is the
/// entry whose key says `"protocol":"TCP"`).
fn key_default(field: &str) -> Option<&'static str> {
    (field == "protocol").then_some("TCP")
}

/// True when `item` (a list entry) is the entry a `k:{...}` or `v:...` step names.
fn is_entry(item: &Value, step: &str) -> bool {
    if let Some(value) = step.strip_prefix("v:") {
        return serde_json::from_str::<Value>(value).is_ok_and(|v| &v == item);
    }
    step.strip_prefix("k:")
        .and_then(|k| serde_json::from_str::<Map<String, Value>>(k).ok())
        .is_some_and(|key| {
            key.iter().all(|(k, v)| match item.get(k) {
                Some(actual) => actual == v,
                None => key_default(k).is_some_and(|d| v.as_str() == Some(d)),
            })
        })
}

/// The value at `path` in an object's JSON, following `k:` and `v:` steps into lists.
pub(crate) fn lookup<'a>(root: &'a Map<String, Value>, path: &[String]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    rest.iter().try_fold(root.get(first)?, |v, step| match v {
        Value::Array(items) => items.iter().find(|item| is_entry(item, step)),
        other => other.as_object()?.get(step),
    })
}

/// Adds the leaf paths of `value` (below `prefix`) to `out`; `schema` is a custom resource's
/// CRD schema (its list types), None for built-in kinds.
pub(crate) fn leaves(value: &Value, schema: Option<&Value>, prefix: &mut Path, out: &mut FieldSet) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                prefix.push(k.clone());
                leaves(v, schema, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let segments: Option<Vec<String>> = match list_type(prefix, schema) {
                Some(ListType::Map(keys)) => items
                    .iter()
                    .map(|item| entry_segment(item, keys.iter().copied()))
                    .collect(),
                Some(ListType::SchemaMap(keys)) => items
                    .iter()
                    .map(|item| entry_segment(item, keys.iter().map(|k| (*k, None))))
                    .collect(),
                Some(ListType::Set) => items.iter().map(set_segment).collect(),
                None => None,
            };
            match segments {
                Some(segments) => {
                    for (segment, item) in segments.into_iter().zip(items) {
                        prefix.push(segment);
                        leaves(item, schema, prefix, out);
                        prefix.pop();
                    }
                }
                None => {
                    out.insert(prefix.clone());
                }
            }
        }
        _ => {
            out.insert(prefix.clone());
        }
    }
}

/// Encodes a field set as `fieldsV1` (`f:` for fields, `k:` segments as they are).
pub(crate) fn encode(fields: &FieldSet) -> Value {
    let mut root = Map::new();
    for path in fields {
        let mut node = &mut root;
        for segment in path {
            let key = if segment.starts_with("k:") || segment.starts_with("v:") {
                segment.clone()
            } else {
                format!("f:{segment}")
            };
            let entry = node.entry(key).or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(next) = entry else { break };
            node = next;
        }
    }
    Value::Object(root)
}

/// Decodes `fieldsV1` into leaf paths: `f:`, `k:` and `v:` keys are descended into (a `v:`
/// set item is a leaf of its own); a node with other keys (`i:`) or none is a leaf. The `.`
/// marker of a node is not a child.
pub(crate) fn decode(value: &Value) -> FieldSet {
    fn walk(node: &Value, prefix: &mut Path, out: &mut FieldSet) {
        let children: Vec<(&String, &Value)> = node
            .as_object()
            .map(|m| m.iter().filter(|(k, _)| k.as_str() != ".").collect())
            .unwrap_or_default();
        let descend = !children.is_empty()
            && children
                .iter()
                .all(|(k, _)| k.starts_with("f:") || k.starts_with("k:") || k.starts_with("v:"));
        if !descend {
            if !prefix.is_empty() {
                out.insert(prefix.clone());
            }
            return;
        }
        for (key, child) in children {
            prefix.push(key.strip_prefix("f:").unwrap_or(key).to_owned());
            walk(child, prefix, out);
            prefix.pop();
        }
    }
    let mut out = FieldSet::new();
    walk(value, &mut Path::new(), &mut out);
    out
}

fn child_mut<'a>(node: &'a mut Value, segment: &str, create: bool) -> Option<&'a mut Value> {
    if let Some(item) = segment.strip_prefix("v:") {
        if !node.is_array() {
            if !create {
                return None;
            }
            *node = Value::Array(Vec::new());
        }
        let items = node.as_array_mut()?;
        let at = match items.iter().position(|i| is_entry(i, segment)) {
            Some(at) => at,
            None if create => {
                items.push(serde_json::from_str(item).ok()?);
                items.len() - 1
            }
            None => return None,
        };
        items.get_mut(at)
    } else if segment.starts_with("k:") {
        if !node.is_array() {
            if !create {
                return None;
            }
            *node = Value::Array(Vec::new());
        }
        let items = node.as_array_mut()?;
        let at = match items.iter().position(|item| is_entry(item, segment)) {
            Some(at) => at,
            None if create => {
                let key: Value = serde_json::from_str(segment.strip_prefix("k:")?).ok()?;
                items.push(key);
                items.len() - 1
            }
            None => return None,
        };
        items.get_mut(at)
    } else {
        if !node.is_object() {
            if !create {
                return None;
            }
            *node = Value::Object(Map::new());
        }
        let map = node.as_object_mut()?;
        if create {
            Some(map.entry(segment.to_owned()).or_insert(Value::Null))
        } else {
            map.get_mut(segment)
        }
    }
}

/// Sets the leaf at `path` to `value`, creating maps and keyed entries on the way. An empty map
/// merges into a map that is there.
pub(crate) fn set(root: &mut Map<String, Value>, path: &[String], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let mut node = root.entry(first.clone()).or_insert(Value::Null);
    for segment in rest {
        let Some(next) = child_mut(node, segment, true) else {
            return;
        };
        node = next;
    }
    if value.as_object().is_some_and(Map::is_empty) && node.is_object() {
        return;
    }
    *node = value;
}

/// Removes the leaf at `path`, and every map, keyed entry or keyed list it leaves empty.
pub(crate) fn remove(root: &mut Map<String, Value>, path: &[String]) {
    /// Removes `path` below `node`; true when `node` is left empty.
    fn go(node: &mut Value, path: &[String]) -> bool {
        let Some((first, rest)) = path.split_first() else {
            return false;
        };
        match node {
            Value::Array(items) => {
                // Found by position before descending: removing its key field leaves it unnamed.
                if let Some(at) = items.iter().position(|item| is_entry(item, first))
                    && (rest.is_empty() || items.get_mut(at).is_some_and(|child| go(child, rest)))
                {
                    items.remove(at);
                }
                items.is_empty()
            }
            Value::Object(map) => {
                if rest.is_empty() || map.get_mut(first).is_some_and(|child| go(child, rest)) {
                    map.remove(first);
                }
                map.is_empty()
            }
            _ => false,
        }
    }
    let mut whole = Value::Object(std::mem::take(root));
    go(&mut whole, path);
    if let Value::Object(map) = whole {
        *root = map;
    }
}

/// Whether two paths overlap (equal, or one is a prefix of the other).
pub(crate) fn overlaps(a: &[String], b: &[String]) -> bool {
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn paths(value: Value) -> FieldSet {
        let mut out = FieldSet::new();
        leaves(&value, None, &mut Path::new(), &mut out);
        out
    }

    fn p(segments: &[&str]) -> Path {
        segments.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn keyed_lists_have_per_entry_paths_and_encode_as_k_keys() {
        let fields = paths(json!({"spec": {"containers": [{"name": "a", "image": "x"}], "args": ["1", "2"]}}));
        let entry = r#"k:{"name":"a"}"#;
        assert_eq!(
            fields,
            FieldSet::from([
                p(&["spec", "args"]),
                p(&["spec", "containers", entry, "image"]),
                p(&["spec", "containers", entry, "name"]),
            ])
        );
        let encoded = encode(&fields);
        assert_eq!(
            encoded,
            json!({"f:spec": {"f:args": {}, "f:containers": {entry: {"f:image": {}, "f:name": {}}}}})
        );
        assert_eq!(decode(&encoded), fields);
    }

    #[test]
    fn set_adds_keyed_entries_and_remove_drops_emptied_ones() {
        let mut m = json!({"spec": {"containers": [{"name": "a", "image": "x"}]}})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let b = r#"k:{"name":"b"}"#;
        set(&mut m, &p(&["spec", "containers", b, "image"]), json!("y"));
        assert_eq!(
            Value::Object(m.clone()),
            json!({"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}})
        );
        assert_eq!(lookup(&m, &p(&["spec", "containers", b, "image"])), Some(&json!("y")));
        remove(&mut m, &p(&["spec", "containers", b, "image"]));
        remove(&mut m, &p(&["spec", "containers", b, "name"]));
        assert_eq!(
            Value::Object(m.clone()),
            json!({"spec": {"containers": [{"name": "a", "image": "x"}]}})
        );
        remove(&mut m, &p(&["spec", "containers", r#"k:{"name":"a"}"#, "image"]));
        remove(&mut m, &p(&["spec", "containers", r#"k:{"name":"a"}"#, "name"]));
        assert_eq!(Value::Object(m), json!({}));
    }

    #[test]
    fn finalizers_are_a_set_and_ports_are_keyed_with_default_protocol() {
        let obj = json!({"metadata": {"finalizers": ["a/x", "b/y"]},
            "spec": {"ports": [{"port": 80}, {"port": 80, "protocol": "UDP"}],
                "containers": [{"name": "c", "ports": [{"containerPort": 8080}]}]}});
        let fields = paths(obj.clone());
        let tcp = r#"k:{"port":80,"protocol":"TCP"}"#;
        let c = r#"k:{"name":"c"}"#;
        let cport = r#"k:{"containerPort":8080,"protocol":"TCP"}"#;
        assert!(fields.contains(&p(&["metadata", "finalizers", r#"v:"a/x""#])));
        assert!(fields.contains(&p(&["spec", "ports", tcp, "port"])));
        assert!(fields.contains(&p(&["spec", "ports", r#"k:{"port":80,"protocol":"UDP"}"#, "protocol"])));
        assert!(fields.contains(&p(&["spec", "containers", c, "ports", cport, "containerPort"])));
        assert_eq!(decode(&encode(&fields)), fields);
        let mut m = obj.as_object().cloned().unwrap_or_default();
        assert_eq!(lookup(&m, &p(&["spec", "ports", tcp, "port"])), Some(&json!(80)));
        remove(&mut m, &p(&["metadata", "finalizers", r#"v:"a/x""#]));
        set(&mut m, &p(&["metadata", "finalizers", r#"v:"c/z""#]), json!("c/z"));
        assert_eq!(m["metadata"], json!({"finalizers": ["b/y", "c/z"]}));
    }

    #[test]
    fn crd_schemas_declare_map_and_set_lists() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "members": {"type": "array", "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["id"], "items": {"type": "object"}},
            "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
            "args": {"type": "array", "items": {"type": "string"}}}}}});
        let obj = json!({"spec": {"members": [{"id": 1, "role": "a"}], "tags": ["x"], "args": ["y"],
            "containers": [{"name": "c"}]}, "metadata": {"finalizers": ["f"]}});
        let mut fields = FieldSet::new();
        leaves(&obj, Some(&schema), &mut Path::new(), &mut fields);
        assert!(fields.contains(&p(&["spec", "members", r#"k:{"id":1}"#, "role"])));
        assert!(fields.contains(&p(&["spec", "tags", r#"v:"x""#])));
        assert!(fields.contains(&p(&["spec", "args"])));
        // Not declared in the schema: atomic, even where a built-in kind would key it.
        assert!(fields.contains(&p(&["spec", "containers"])));
        assert!(fields.contains(&p(&["metadata", "finalizers", r#"v:"f""#])));
    }

    #[test]
    fn remove_prunes_emptied_maps() {
        let mut m = json!({"spec": {"a": {"b": 1}}, "x": 1})
            .as_object()
            .cloned()
            .unwrap_or_default();
        remove(&mut m, &p(&["spec", "a", "b"]));
        assert_eq!(Value::Object(m), json!({"x": 1}));
    }

    mod props {
        use proptest::prelude::*;
        use serde_json::{Map, Value, json};

        use super::super::*;

        /// Scalars, nested maps (never empty) and keyed container lists with unique names.
        fn value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                "[a-z]{1,6}".prop_map(Value::from),
                any::<i32>().prop_map(Value::from),
                prop::collection::vec("[a-z]{1,3}", 0..3).prop_map(|v| json!(v)),
            ];
            leaf.prop_recursive(3, 24, 4, |inner| {
                prop_oneof![
                    prop::collection::btree_map("[a-z]{1,4}", inner, 1..4)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                    prop::collection::btree_set("[a-z]{1,4}", 1..4).prop_map(|names| {
                        let containers: Vec<Value> = names
                            .into_iter()
                            .map(|n| json!({"name": n, "image": format!("{n}:1")}))
                            .collect();
                        json!({ "containers": containers })
                    }),
                ]
            })
        }

        fn object() -> impl Strategy<Value = Map<String, Value>> {
            prop::collection::btree_map("[a-z]{1,4}", value(), 1..4).prop_map(|m| m.into_iter().collect())
        }

        proptest! {
            /// Setting every leaf of an object into an empty one rebuilds it; removing every
            /// leaf empties it; the leaves survive the fieldsV1 encoding.
            #[test]
            fn leaves_rebuild_and_remove_the_object(obj in object()) {
                let mut fields = FieldSet::new();
                leaves(&Value::Object(obj.clone()), None, &mut Path::new(), &mut fields);
                let mut rebuilt = Map::new();
                for path in &fields {
                    let value = lookup(&obj, path).cloned();
                    prop_assert!(value.is_some(), "no value at {:?}", path);
                    set(&mut rebuilt, path, value.unwrap_or_default());
                }
                prop_assert_eq!(&rebuilt, &obj);
                prop_assert_eq!(&decode(&encode(&fields)), &fields);
                let mut emptied = obj.clone();
                for path in &fields {
                    remove(&mut emptied, path);
                }
                prop_assert!(emptied.is_empty(), "left {:?}", emptied);
            }
        }
    }
}
