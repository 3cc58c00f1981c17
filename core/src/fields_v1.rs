//! Paths of managedFields `fieldsV1` trees, shared by the planner (which fields did our field
//! manager apply) and backends that implement a field manager.
//!
//! A `fieldsV1` comes in two forms: the tree of JSON maps the API server sends, or that tree's
//! JSON text in a string, which is how the memory backend stores it and the cache keeps its own
//! entry (one allocation instead of a B-tree node per map). [`tree`] reads both.
//!
//! A path is a list of steps from the object root: a field name, or inside a keyed list the
//! entry's key in `fieldsV1` form, `k:{"name":"app"}`.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::model::ObjectMeta;

mod view;
pub use view::{FieldsNode, View, with_view};

/// A `fieldsV1` tree to walk: the tree itself, or parsed from the JSON text a store or cache
/// keeps in its place (see [`compact`]). None when the text is not a JSON object.
pub fn tree(fields: &Value) -> Option<Cow<'_, Value>> {
    match fields {
        Value::Object(_) => Some(Cow::Borrowed(fields)),
        Value::String(text) => serde_json::from_str::<Value>(text)
            .ok()
            .filter(Value::is_object)
            .map(Cow::Owned),
        _ => None,
    }
}

/// Replaces a `fieldsV1` tree by its JSON text: one allocation instead of a B-tree node (about
/// 630 bytes) per map and a string per key, which is most of a cached child's managedFields.
/// [`tree`] reads either form; [`expand`] restores the tree before the object is sent.
pub fn compact(fields: &mut Value) {
    if fields.is_object() {
        *fields = Value::String(fields.to_string());
    }
}

/// Undoes [`compact`]: a `fieldsV1` kept as JSON text becomes the tree again (text that is not
/// a JSON object is left as it is, for the server to refuse).
pub fn expand(fields: &mut Value) {
    if let Some(Cow::Owned(parsed)) = tree(fields) {
        *fields = parsed;
    }
}

/// The leaf paths of a `fieldsV1` tree: `f:` keys become field names, keyed list entries stay
/// `k:{...}` steps; a node with other children (set values `v:`, indices `i:`) or none is a
/// leaf. The `.` marker of a node is not a child.
pub fn leaf_paths(fields: &Value) -> Vec<Vec<String>> {
    fn walk(node: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        let children: Vec<(&String, &Value)> = node
            .as_object()
            .map(|m| m.iter().filter(|(k, _)| k.as_str() != ".").collect())
            .unwrap_or_default();
        let descend = !children.is_empty() && children.iter().all(|(k, _)| k.starts_with("f:") || k.starts_with("k:"));
        if !descend {
            if !prefix.is_empty() {
                out.push(prefix.clone());
            }
            return;
        }
        for (key, child) in children {
            prefix.push(key.strip_prefix("f:").unwrap_or(key).to_owned());
            walk(child, prefix, out);
            prefix.pop();
        }
    }
    let mut out = Vec::new();
    walk(fields, &mut Vec::new(), &mut out);
    out
}

/// True when `item` (a list entry) is the entry the `k:{...}` step names.
pub fn is_entry(item: &Value, step: &str) -> bool {
    step.strip_prefix("k:")
        .and_then(|k| serde_json::from_str::<Map<String, Value>>(k).ok())
        .is_some_and(|key| key.iter().all(|(k, v)| item.get(k) == Some(v)))
}

/// The value at `path` in an object's JSON, following `k:` steps into keyed lists.
pub fn value_at<'a>(root: &'a Map<String, Value>, path: &[String]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    rest.iter().try_fold(root.get(first)?, |v, step| match v {
        Value::Array(items) => items.iter().find(|item| is_entry(item, step)),
        other => other.as_object()?.get(step),
    })
}

/// [`compact`] on every managedFields entry of `meta`: the form the memory backend stores.
pub fn compact_managed_fields(meta: &mut ObjectMeta) {
    for entry in meta.managed_fields.iter_mut().flatten() {
        if let Some(fields) = entry.fields_v1.as_mut() {
            compact(&mut fields.0);
        }
    }
}

/// [`expand`] on every managedFields entry of `meta`: what a backend does before it sends or
/// stores an object that may come from a cache.
pub fn expand_managed_fields(meta: &mut ObjectMeta) {
    for entry in meta.managed_fields.iter_mut().flatten() {
        if let Some(fields) = entry.fields_v1.as_mut() {
            expand(&mut fields.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn compact_text_reads_as_the_tree_and_expands_back() {
        let original = json!({"f:data": {".": {}, "f:a": {}}, "f:metadata": {"f:labels": {"f:app": {}}}});
        let mut fields = original.clone();
        compact(&mut fields);
        assert!(fields.is_string());
        assert_eq!(tree(&fields).as_deref(), Some(&original));
        assert_eq!(leaf_paths(&tree(&fields).unwrap_or_default()).len(), 2);
        expand(&mut fields);
        assert_eq!(fields, original);
        let mut not_json = Value::String("{".into());
        expand(&mut not_json);
        assert_eq!(not_json, Value::String("{".into()), "left for the server to refuse");
        assert!(tree(&Value::Null).is_none());
    }

    #[test]
    fn leaves_follow_fields_and_keyed_entries_and_stop_at_sets() {
        let fields = json!({"f:spec": {"f:containers": {"k:{\"name\":\"a\"}": {".": {}, "f:image": {}}},
            "f:finalizers": {"v:\"x\"": {}}}});
        let paths = leaf_paths(&fields);
        assert_eq!(
            paths,
            [
                vec![
                    "spec".to_owned(),
                    "containers".into(),
                    r#"k:{"name":"a"}"#.into(),
                    "image".into()
                ],
                vec!["spec".to_owned(), "finalizers".into()],
            ]
        );
        let object = json!({"spec": {"containers": [{"name": "b"}, {"name": "a", "image": "i"}]}});
        let root = object.as_object().cloned().unwrap_or_default();
        assert_eq!(value_at(&root, &paths[0]), Some(&json!("i")));
    }
}
