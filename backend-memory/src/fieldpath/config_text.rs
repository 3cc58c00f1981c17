//! The `fieldsV1` text of an apply configuration's field set, written straight from the
//! configuration: the same bytes as building the set ([`to_field_set`](super::to_field_set)),
//! dropping the stripped paths and the reset subtrees, and printing it
//! ([`encode_text`](super::encode_text)), without a path per member. An apply that creates its
//! object needs the text only (there is no other entry to compare it with), and building the
//! set was a fifth of such an apply.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde_json::{Map, Value};

use super::text::write_key;
use super::{ListKind, Node, item_segment};

/// The text of the configuration's field set less the members equal to a `stripped` path and
/// everything at or below a `reset` one; None when a map of the configuration has a key that
/// reads as a list element (`k:...`, `v:...`), which the set's paths cannot tell from one (the
/// caller then builds the set).
pub(crate) fn config_text(
    config: &Map<String, Value>,
    node: &Node<'_>,
    stripped: &[&[&str]],
    reset: &[&[&str]],
) -> Option<String> {
    let mut writer = Writer::new(stripped, reset);
    writer.node(false, |w| w.map_children(config, node))?;
    writer.finish()
}

/// [`config_text`] of an object given as its typed metadata and its body (the configuration
/// `Object::into_value` makes of them), without building the metadata's JSON. None when the
/// body has a top-level field of its own (`apiVersion`, `kind`, `metadata`), when
/// `apiVersion`, `kind` or `metadata` itself is not stripped, when a reset subtree is in
/// `metadata`, when managedFields are set, or when an owner reference's list is keyed by
/// other fields than `uid` or its items are not atomic: the caller then builds the JSON.
pub(crate) fn object_config_text(
    meta: &ObjectMeta,
    body: &Map<String, Value>,
    node: &Node<'_>,
    stripped: &[&[&str]],
    reset: &[&[&str]],
) -> Option<String> {
    let top_stripped = [["apiVersion"], ["kind"], ["metadata"]]
        .iter()
        .all(|p| stripped.contains(&p.as_slice()));
    let own_top_level = ["apiVersion", "kind", "metadata"].iter().any(|k| body.contains_key(*k));
    let reset_in_metadata = reset.iter().any(|r| r.first() == Some(&"metadata"));
    if !top_stripped
        || own_top_level
        || reset_in_metadata
        || meta.managed_fields.as_ref().is_some_and(|m| !m.is_empty())
    {
        return None;
    }
    let mut writer = Writer::new(stripped, reset);
    writer.node(false, |w| {
        // The body's fields in order, `metadata` among them where it sorts.
        let before = body.keys().take_while(|k| k.as_str() < "metadata").count();
        let mut written = w.entries(body.iter().take(before), node, false)?;
        w.path.push(Some("metadata"));
        written |= w.child("metadata", written, false, |w| {
            w.metadata(meta, &node.field("metadata"))
        })?;
        w.path.pop();
        written |= w.entries(body.iter().skip(before), node, written)?;
        Some(written)
    })?;
    writer.finish()
}

/// The walk's output and where it is.
struct Writer<'c, 'p> {
    out: Vec<u8>,
    /// The path of the node being written (segments borrowed from the configuration, or
    /// `None` for a list element, which no stripped or reset path names).
    path: Vec<Option<&'c str>>,
    stripped: &'p [&'p [&'p str]],
    reset: &'p [&'p [&'p str]],
}

impl<'c, 'p> Writer<'c, 'p> {
    fn new(stripped: &'p [&'p [&'p str]], reset: &'p [&'p [&'p str]]) -> Self {
        Self {
            out: Vec::with_capacity(256),
            path: Vec::new(),
            stripped,
            reset,
        }
    }

    /// The text written, in a buffer of its length (it is kept in managedFields).
    fn finish(mut self) -> Option<String> {
        self.out.shrink_to_fit();
        // Only whole JSON strings and ASCII punctuation were written.
        String::from_utf8(self.out).ok()
    }

    fn path_is(&self, p: &[&str]) -> bool {
        self.path.len() == p.len() && self.path.iter().zip(p).all(|(a, b)| *a == Some(*b))
    }

    fn in_reset(&self) -> bool {
        self.reset
            .iter()
            .any(|r| self.path.len() >= r.len() && self.path.iter().zip(r.iter()).all(|(a, b)| *a == Some(*b)))
    }

    /// Writes `{...}` for the node at the current path: its `".":{}` marker when it is a
    /// member with members below, then its children. Returns whether anything was below it.
    fn node(&mut self, member: bool, children: impl FnOnce(&mut Self) -> Option<bool>) -> Option<bool> {
        self.out.push(b'{');
        let start = self.out.len();
        let below = children(self)?;
        if member && below {
            self.out.splice(start..start, br#"".":{},"#.iter().copied());
        }
        self.out.push(b'}');
        Some(below)
    }

    /// Writes one child (its key, `:` and node) after `written` siblings, or nothing when it
    /// is neither a member nor has members below. Returns whether it was written.
    fn child(
        &mut self,
        segment: &str,
        written: bool,
        member: bool,
        children: impl FnOnce(&mut Self) -> Option<bool>,
    ) -> Option<bool> {
        let mark = self.out.len();
        if written {
            self.out.push(b',');
        }
        write_key(segment, &mut self.out);
        self.out.push(b':');
        let below = self.node(member, children)?;
        if !member && !below {
            self.out.truncate(mark);
        }
        Some(member || below)
    }

    /// The children of a map node (fields, in the map's order, which is their keys' order).
    fn map_children(&mut self, map: &'c Map<String, Value>, node: &Node<'_>) -> Option<bool> {
        self.entries(map, node, false)
    }

    /// Map entries (in their keys' order) as children of the current node, after siblings
    /// (`written`: whether one was written). Returns whether any of them was.
    fn entries(
        &mut self,
        entries: impl IntoIterator<Item = (&'c String, &'c Value)>,
        node: &Node<'_>,
        written: bool,
    ) -> Option<bool> {
        let mut any = false;
        let mut previous: Option<&str> = None;
        for (k, v) in entries {
            // The text lists fields in their keys' order: a map that does not iterate in it
            // (serde_json's `preserve_order`) is left to the set.
            if k.starts_with("k:") || k.starts_with("v:") || previous.is_some_and(|p| p >= k.as_str()) {
                return None;
            }
            previous = Some(k);
            self.path.push(Some(k));
            if !self.in_reset() {
                let child = node.field(k);
                any |= self.value(k, v, &child, written || any)?;
            }
            self.path.pop();
        }
        Some(any)
    }

    /// Writes the field `key` whose value is `value` (at the current path), as
    /// `to_field_set` makes its members.
    fn value(&mut self, key: &str, value: &'c Value, node: &Node<'_>, written: bool) -> Option<bool> {
        // A stripped path is nobody's, but what is below it is still walked.
        let stripped = self.stripped.iter().any(|s| self.path_is(s));
        match value {
            Value::Object(map) if node.atomic_map() || map.is_empty() => {
                self.child(key, written, !stripped, |_| Some(false))
            }
            Value::Object(map) => self.child(key, written, false, |w| w.map_children(map, node)),
            Value::Array(items) => match list_items(node, items) {
                None => self.child(key, written, !stripped, |_| Some(false)),
                Some(items) => self.child(key, written, false, |w| w.list_children(&items, node)),
            },
            _ => self.child(key, written, !stripped, |_| Some(false)),
        }
    }

    /// The members of the typed metadata, as `to_field_set` finds them in its JSON (fields in
    /// their JSON names' order).
    fn metadata(&mut self, meta: &'c ObjectMeta, node: &Node<'_>) -> Option<bool> {
        let mut written = false;
        written |= self.string_map("annotations", meta.annotations.as_ref(), node, written)?;
        written |= self.scalar("creationTimestamp", meta.creation_timestamp.is_some(), written)?;
        written |= self.scalar(
            "deletionGracePeriodSeconds",
            meta.deletion_grace_period_seconds.is_some(),
            written,
        )?;
        written |= self.scalar("deletionTimestamp", meta.deletion_timestamp.is_some(), written)?;
        written |= self.finalizers(meta.finalizers.as_deref(), node, written)?;
        written |= self.scalar("generateName", meta.generate_name.is_some(), written)?;
        written |= self.scalar("generation", meta.generation.is_some(), written)?;
        written |= self.string_map("labels", meta.labels.as_ref(), node, written)?;
        // managedFields: empty here (the caller checked), and an empty list has no members.
        written |= self.scalar("name", meta.name.is_some(), written)?;
        written |= self.scalar("namespace", meta.namespace.is_some(), written)?;
        written |= self.owner_references(meta.owner_references.as_deref(), node, written)?;
        written |= self.scalar("resourceVersion", meta.resource_version.is_some(), written)?;
        written |= self.scalar("selfLink", meta.self_link.is_some(), written)?;
        written |= self.scalar("uid", meta.uid.is_some(), written)?;
        Some(written)
    }

    /// A scalar field of the metadata, when set: a member unless stripped.
    fn scalar(&mut self, key: &'static str, set: bool, written: bool) -> Option<bool> {
        if !set {
            return Some(false);
        }
        self.path.push(Some(key));
        let member = !self.stripped.iter().any(|s| self.path_is(s));
        let wrote = self.child(key, written, member, |_| Some(false));
        self.path.pop();
        wrote
    }

    /// `labels` or `annotations`, when set: each key a member, or the map itself when it is
    /// empty or atomic.
    fn string_map(
        &mut self,
        key: &'static str,
        map: Option<&'c std::collections::BTreeMap<String, String>>,
        node: &Node<'_>,
        written: bool,
    ) -> Option<bool> {
        let Some(map) = map else { return Some(false) };
        self.path.push(Some(key));
        let field = node.field(key);
        let member = !self.stripped.iter().any(|s| self.path_is(s));
        let wrote = if field.atomic_map() || map.is_empty() {
            self.child(key, written, member, |_| Some(false))
        } else {
            self.child(key, written, false, |w| {
                let mut any = false;
                for k in map.keys() {
                    if k.starts_with("k:") || k.starts_with("v:") {
                        return None;
                    }
                    w.path.push(Some(k));
                    let member = !w.stripped.iter().any(|s| w.path_is(s));
                    any |= w.child(k, any, member, |_| Some(false))?;
                    w.path.pop();
                }
                Some(any)
            })
        };
        self.path.pop();
        wrote
    }

    /// `finalizers`, when set and not empty: each item a member of a set, or the list a member.
    fn finalizers(&mut self, finalizers: Option<&[String]>, node: &Node<'_>, written: bool) -> Option<bool> {
        let Some(finalizers) = finalizers.filter(|f| !f.is_empty()) else {
            return Some(false);
        };
        self.path.push(Some("finalizers"));
        let kind = node.field("finalizers").list_kind();
        let wrote = match kind {
            ListKind::Set => {
                let mut segments: Vec<String> = finalizers
                    .iter()
                    .map(|f| item_segment(&kind, &Value::String(f.clone())))
                    .collect::<Option<_>>()?;
                segments.sort_unstable();
                segments.dedup();
                self.item_members("finalizers", &segments, written)
            }
            // Strings are no keyed items: the list is handled as atomic.
            ListKind::Atomic | ListKind::Map(_) => {
                let member = !self.stripped.iter().any(|s| self.path_is(s));
                self.child("finalizers", written, member, |_| Some(false))
            }
        };
        self.path.pop();
        wrote
    }

    /// The list `key` whose items (`segments`, sorted, once each) are members with nothing
    /// below them.
    fn item_members(&mut self, key: &str, segments: &[String], written: bool) -> Option<bool> {
        self.child(key, written, false, |w| {
            let mut any = false;
            for segment in segments {
                w.path.push(None);
                any |= w.child(segment, any, true, |_| Some(false))?;
                w.path.pop();
            }
            Some(any)
        })
    }

    /// `ownerReferences`, when set and not empty: each reference a member of a list keyed by
    /// `uid` whose items are atomic (None for any other schema).
    fn owner_references(
        &mut self,
        references: Option<&[OwnerReference]>,
        node: &Node<'_>,
        written: bool,
    ) -> Option<bool> {
        let Some(references) = references.filter(|r| !r.is_empty()) else {
            return Some(false);
        };
        let field = node.field("ownerReferences");
        if field.list_kind() != ListKind::Map(vec!["uid"]) || !field.item().atomic_map() {
            return None;
        }
        let mut segments: Vec<String> = references
            .iter()
            .map(|r| Some(format!("k:{{\"uid\":{}}}", serde_json::to_string(&r.uid).ok()?)))
            .collect::<Option<_>>()?;
        segments.sort_unstable();
        segments.dedup();
        self.path.push(Some("ownerReferences"));
        let wrote = self.item_members("ownerReferences", &segments, written);
        self.path.pop();
        wrote
    }

    /// The children of an associative list: each item a member (in its key's order, once),
    /// and the fields of an item whose key no other item has.
    fn list_children(&mut self, items: &[Item<'c>], node: &Node<'_>) -> Option<bool> {
        let item_node = node.item();
        let mut written = false;
        let mut i = 0;
        while i < items.len() {
            let end = i + items[i..].partition_point(|it| it.segment == items[i].segment);
            let item = &items[i];
            self.path.push(None);
            let wrote = if end - i == 1 {
                // An item with a segment is a map (keyed list) or a scalar (set).
                self.child(&item.segment, written, true, |w| match item.value {
                    Value::Object(map) if !item_node.atomic_map() => w.map_children(map, &item_node),
                    _ => Some(false),
                })?
            } else {
                self.child(&item.segment, written, true, |_| Some(false))?
            };
            self.path.pop();
            written |= wrote;
            i = end;
        }
        Some(written)
    }
}

/// A list item and its path segment.
struct Item<'c> {
    segment: String,
    value: &'c Value,
}

/// The items of a list that is not atomic, sorted by their segments (the text's order); None
/// for a list handled as atomic (its kind, or an item without a segment).
fn list_items<'c>(node: &Node<'_>, items: &'c [Value]) -> Option<Vec<Item<'c>>> {
    // An atomic list is a member even when empty; an empty associative list or set has no
    // members (as `to_field_set` has it).
    let kind = node.list_kind();
    if kind == ListKind::Atomic {
        return None;
    }
    if items.is_empty() {
        return Some(Vec::new());
    }
    let mut out: Vec<Item<'c>> = items
        .iter()
        .map(|value| {
            Some(Item {
                segment: item_segment(&kind, value)?,
                value,
            })
        })
        .collect::<Option<_>>()?;
    // Stable, so equal segments keep their order (they are written once anyway).
    out.sort_by(|a, b| a.segment.as_bytes().cmp(b.segment.as_bytes()));
    Some(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::super::{FieldSet, Path, encode_text, to_field_set, without_subtrees};
    use super::*;
    use crate::fieldmanager::STRIPPED;
    use operator_runtime_core::TypeRef;

    /// What the apply did before: the set, less the stripped members and reset subtrees,
    /// printed.
    fn by_the_set(config: &Map<String, Value>, node: &Node<'_>, reset: &[&[&str]]) -> String {
        let mut set = FieldSet::new();
        to_field_set(&Value::Object(config.clone()), node, &mut Path::new(), &mut set);
        set.retain(|p| {
            !STRIPPED
                .iter()
                .any(|s| p.len() == s.len() && p.iter().zip(s.iter()).all(|(a, b)| a == b))
        });
        encode_text(&without_subtrees(set, reset))
    }

    fn has_element_like_key(value: &Value) -> bool {
        match value {
            Value::Object(map) => map
                .iter()
                .any(|(k, v)| k.starts_with("k:") || k.starts_with("v:") || has_element_like_key(v)),
            Value::Array(items) => items.iter().any(has_element_like_key),
            _ => false,
        }
    }

    const RESETS: [&[&[&str]]; 4] = [&[], &[&["status"]], &[&["spec"]], &[&["spec"], &["metadata", "labels"]]];

    pub(crate) fn crd_schema() -> Value {
        json!({"type": "object", "properties": {
            "spec": {"type": "object", "properties": {
                "items": {"type": "array", "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["name"], "items": {"type": "object"}},
                "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
                "selector": {"type": "object", "x-kubernetes-map-type": "atomic"}}}}})
    }

    /// Checks the text against the set's for every root and reset.
    fn check(config: &Map<String, Value>) -> Result<(), TestCaseError> {
        let schema = crd_schema();
        let mut roots: Vec<Node<'_>> = [
            ("apps/v1", "StatefulSet"),
            ("v1", "Service"),
            ("v1", "ConfigMap"),
            ("v1", "Pod"),
        ]
        .iter()
        .map(|(a, k)| Node::root(&TypeRef::new(*a, *k), None))
        .collect();
        roots.push(Node::root(&TypeRef::new("example.com/v1", "Thing"), Some(&schema)));
        for node in &roots {
            for reset in RESETS {
                match config_text(config, node, STRIPPED, reset) {
                    Some(text) => prop_assert_eq!(text, by_the_set(config, node, reset), "{:?} {:?}", node, reset),
                    None => prop_assert!(has_element_like_key(&Value::Object(config.clone()))),
                }
            }
        }
        Ok(())
    }

    fn key() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "metadata",
            "spec",
            "status",
            "template",
            "containers",
            "name",
            "ports",
            "containerPort",
            "protocol",
            "port",
            "labels",
            "finalizers",
            "ownerReferences",
            "uid",
            "selector",
            "matchLabels",
            "env",
            "value",
            "apiVersion",
            "kind",
            "data",
            "items",
            "tags",
            "k:x",
            "\"q",
            ".",
            "",
            "é",
        ])
        .prop_map(str::to_owned)
    }

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            (0..3i64).prop_map(Value::from),
            prop::sample::select(vec!["a", "b", "TCP", "UDP", ""]).prop_map(Value::from),
        ]
    }

    pub(crate) fn json_value() -> impl Strategy<Value = Value> {
        scalar().prop_recursive(6, 64, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(key(), inner, 0..5).prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// A keyed item: a container, a port, an env var or a CRD item, with values from small
    /// domains so that duplicate keys happen.
    fn item() -> impl Strategy<Value = Value> {
        (
            prop::option::of(prop::sample::select(vec!["a", "b"])),
            prop::option::of(0..3i64),
            prop::option::of(prop::sample::select(vec!["TCP", "UDP"])),
            prop::option::of(json_value()),
            prop::collection::vec(prop::sample::select(vec!["x", "y"]), 0..3),
        )
            .prop_map(|(name, port, protocol, extra, tags)| {
                let mut m = Map::new();
                if let Some(n) = name {
                    m.insert("name".into(), json!(n));
                }
                if let Some(p) = port {
                    m.insert("containerPort".into(), json!(p));
                    m.insert("port".into(), json!(p));
                }
                if let Some(p) = protocol {
                    m.insert("protocol".into(), json!(p));
                }
                if let Some(e) = extra {
                    m.insert("value".into(), e);
                }
                if !tags.is_empty() {
                    m.insert("tags".into(), json!(tags));
                }
                Value::Object(m)
            })
    }

    /// A configuration shaped like the kinds' own: containers with ports and env, a Service's
    /// ports, metadata with finalizers and owner references, a CRD's keyed list and set.
    pub(crate) fn shaped() -> impl Strategy<Value = Map<String, Value>> {
        (
            prop::collection::vec(item(), 0..4),
            prop::collection::vec(item(), 0..3),
            prop::collection::vec(prop::sample::select(vec!["f/a", "f/b"]), 0..3),
            prop::collection::vec(prop::sample::select(vec!["x", "y", "z"]), 0..3),
            json_value(),
        )
            .prop_map(|(containers, ports, finalizers, tags, extra)| {
                let containers: Vec<Value> = containers
                    .into_iter()
                    .map(|mut c| {
                        if let Value::Object(m) = &mut c {
                            m.insert(
                                "ports".into(),
                                json!([{"containerPort": 1}, {"containerPort": 1, "protocol": "UDP"}]),
                            );
                        }
                        c
                    })
                    .collect();
                let value = json!({
                    "apiVersion": "x/v1", "kind": "X",
                    "metadata": {"name": "n", "namespace": "d", "labels": {"a": "1"}, "finalizers": finalizers,
                        "ownerReferences": [{"apiVersion": "v1", "kind": "X", "name": "o", "uid": "u"}]},
                    "spec": {"template": {"metadata": {"labels": {}}, "spec": {"containers": containers}},
                        "ports": ports, "items": ports.clone(), "tags": tags, "selector": {"a": "b"}, "extra": extra},
                    "status": {"replicas": 1},
                });
                match value {
                    Value::Object(m) => m,
                    _ => Map::new(),
                }
            })
    }

    proptest! {
        #[test]
        fn the_text_is_the_sets_for_shaped_configurations(config in shaped()) {
            check(&config)?;
        }

        #[test]
        fn the_text_is_the_sets_for_any_configuration(
            config in prop::collection::btree_map(key(), json_value(), 0..6)
        ) {
            check(&config.into_iter().collect())?;
        }
    }
}
