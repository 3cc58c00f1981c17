//! Field sets of server-side apply, ported from structured-merge-diff v6 (`fieldpath`,
//! `typed`): the set of an object (`ToFieldSet`), the comparison of two objects (`Compare`),
//! the schema-aware merge (`Merge`) and removal (`RemoveItems`), and the `fieldsV1` encoding.
//!
//! A path segment is a field name; inside an associative list (`listType=map`), the entry's
//! key in the `fieldsV1` form `k:{"name":"app"}`; inside a set (`listType=set`), the item in
//! the form `v:"value"`. A set holds *members*, which may be inner nodes: every keyed entry is
//! a member of its own (encoded with the `".": {}` self-marker when it also has children), as
//! is every node a comparison found added or removed as a whole.
//!
//! Which lists are associative, and which maps are atomic, comes from [`Node`]: for built-in
//! kinds the tables generated from the server's OpenAPI (`operator_runtime_core::builtin_schema`),
//! for custom resources the CRD schema, with the ObjectMeta rules for `metadata`.

use std::collections::BTreeSet;

use operator_runtime_core::builtin_schema;
use operator_runtime_core::fields_v1::View;
use operator_runtime_core::model::TypeRef;
use serde_json::map::Entry;
use serde_json::{Map, Value};

mod config_text;
#[cfg(test)]
mod merge_props;
mod schema_tree;
mod text;
#[cfg(test)]
pub(crate) use config_text::tests as config_text_tests;
pub(crate) use config_text::{config_text, object_config_text};
use schema_tree::At;
pub(crate) use text::encode_text;

/// A path from the object root.
pub(crate) type Path = Vec<String>;
/// A set of member paths.
pub(crate) type FieldSet = BTreeSet<Path>;

/// Where a walk is in an object's schema.
#[derive(Clone, Debug)]
pub(crate) enum Node<'s> {
    /// A built-in kind at a node of its tables' tree (None: nothing in the tables is at or
    /// below it, so every list is atomic and no map is).
    Builtin(Option<At>),
    /// `metadata` of a custom resource, at a dotted path below it.
    Meta(String),
    /// The root of a custom resource (its CRD schema): `metadata` follows ObjectMeta's rules.
    CrdRoot(&'s Value),
    /// A custom resource's CRD schema node (None: not described, lists atomic).
    Crd(Option<&'s Value>),
}

/// How the list at a node merges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ListKind<'s> {
    /// Replaced whole.
    Atomic,
    /// Scalar items, each a member.
    Set,
    /// Object items keyed by these fields.
    Map(Vec<&'s str>),
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        let mut s = String::with_capacity(path.len() + 1 + field.len());
        s.push_str(path);
        s.push('.');
        s.push_str(field);
        s
    }
}

impl<'s> Node<'s> {
    /// The root node of an object of `type_ref` (`schema`: the CRD schema of a custom resource).
    pub(crate) fn root(type_ref: &TypeRef, schema: Option<&'s Value>) -> Self {
        match schema {
            Some(schema) => Node::CrdRoot(schema),
            None => Node::Builtin(At::root(type_ref)),
        }
    }

    /// The node of a field (or map value) below this one.
    pub(crate) fn field(&self, name: &str) -> Node<'s> {
        match self {
            Node::Builtin(at) => Node::Builtin(at.and_then(|at| at.field(name))),
            Node::Meta(path) => Node::Meta(join(path, name)),
            Node::Crd(None) => Node::Crd(None),
            Node::CrdRoot(_) if name == "metadata" => Node::Meta("metadata".to_owned()),
            Node::CrdRoot(schema) | Node::Crd(Some(schema)) => Node::Crd(
                schema
                    .get("properties")
                    .and_then(|p| p.get(name))
                    .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object())),
            ),
        }
    }

    /// The node of a list item below this one.
    fn item(&self) -> Node<'s> {
        match self {
            Node::Builtin(at) => Node::Builtin(at.and_then(At::item)),
            Node::Meta(path) => Node::Meta(format!("{path}[*]")),
            Node::CrdRoot(schema) => Node::Crd(schema.get("items")),
            Node::Crd(schema) => Node::Crd(schema.and_then(|s| s.get("items"))),
        }
    }

    /// How the list at this node merges.
    pub(crate) fn list_kind(&self) -> ListKind<'s> {
        match self {
            Node::Builtin(at) => match at.and_then(At::list).map(|e| (e.list_type, e.keys)) {
                Some((builtin_schema::ListType::Set, _)) => ListKind::Set,
                Some((builtin_schema::ListType::Map, keys)) => ListKind::Map(keys.to_vec()),
                Some((builtin_schema::ListType::Atomic, _)) | None => ListKind::Atomic,
            },
            Node::Meta(path) => match path.as_str() {
                "metadata.finalizers" => ListKind::Set,
                "metadata.ownerReferences" => ListKind::Map(vec!["uid"]),
                _ => ListKind::Atomic,
            },
            Node::Crd(None) => ListKind::Atomic,
            Node::CrdRoot(schema) | Node::Crd(Some(schema)) => {
                match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
                    Some("map") => {
                        let keys: Vec<&str> = schema
                            .get("x-kubernetes-list-map-keys")
                            .and_then(Value::as_array)
                            .map(|k| k.iter().filter_map(Value::as_str).collect())
                            .unwrap_or_default();
                        if keys.is_empty() {
                            ListKind::Atomic
                        } else {
                            ListKind::Map(keys)
                        }
                    }
                    Some("set") => ListKind::Set,
                    _ => ListKind::Atomic,
                }
            }
        }
    }

    /// True if the map or struct at this node is `x-kubernetes-map-type: atomic`.
    pub(crate) fn atomic_map(&self) -> bool {
        match self {
            Node::Builtin(at) => at.is_some_and(At::atomic_map),
            // ObjectMeta's OwnerReference is a `structType=atomic`.
            Node::Meta(path) => path == "metadata.ownerReferences[*]",
            Node::CrdRoot(schema) | Node::Crd(Some(schema)) => {
                schema.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic")
            }
            _ => false,
        }
    }
}

/// Key fields whose absence means a default value (so a port without `protocol` is the
/// entry whose key says `"protocol":"TCP"`), as the OpenAPI `default` of the key field.
fn key_default(field: &str) -> Option<&'static str> {
    (field == "protocol").then_some("TCP")
}

/// The path element of a list item: `k:{...}` (key fields sorted, defaults filled in),
/// `v:...` for a set item; None when the item cannot be one (a map in a set, an entry
/// without any key field).
fn item_segment(kind: &ListKind<'_>, item: &Value) -> Option<String> {
    match kind {
        ListKind::Atomic => None,
        ListKind::Set => (!item.is_object() && !item.is_array() && !item.is_null()).then(|| format!("v:{item}")),
        ListKind::Map(keys) => {
            let object = item.as_object()?;
            // Written straight as the JSON of a map of the key fields (sorted, as a map prints):
            // each field's value, or (`Err`) the default its absence means.
            let mut key: Vec<(&str, Result<&Value, &str>)> = keys
                .iter()
                .filter_map(|k| match (object.get(*k), key_default(k)) {
                    (Some(v), _) => Some((*k, Ok(v))),
                    (None, Some(d)) => Some((*k, Err(d))),
                    (None, None) => None,
                })
                .collect();
            if key.is_empty() {
                return None;
            }
            key.sort_unstable_by_key(|(k, _)| *k);
            let mut out = b"k:{".to_vec();
            for (i, (k, v)) in key.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut out, k).ok()?;
                out.push(b':');
                match v {
                    Ok(v) => serde_json::to_writer(&mut out, v).ok()?,
                    Err(d) => serde_json::to_writer(&mut out, d).ok()?,
                }
            }
            out.push(b'}');
            String::from_utf8(out).ok()
        }
    }
}

/// The path elements of a list's items, or None when the list is atomic or one of its items
/// has none (the list is then handled as atomic). An empty atomic list is a member of its own
/// (`doList` inserts an atomic list's path before looking at its items).
fn item_segments(kind: &ListKind<'_>, items: &[Value]) -> Option<Vec<String>> {
    if *kind == ListKind::Atomic {
        return None;
    }
    items.iter().map(|item| item_segment(kind, item)).collect()
}

/// The first associative list of a built-in kind's configuration that holds two items with
/// one key, as structured-merge-diff's validating walk reports it when it types an apply
/// configuration (`.spec.volumes: duplicate entries for key [name="x"]`). The server answers
/// such an apply with 500 before validation sees the duplicate.
pub(crate) fn duplicate_entry(value: &Value, node: &Node<'_>, path: &mut String) -> Option<String> {
    match value {
        Value::Object(map) => {
            if node.atomic_map() {
                return None;
            }
            for (name, child) in map {
                let len = path.len();
                path.push('.');
                path.push_str(name);
                let found = duplicate_entry(child, &node.field(name), path);
                path.truncate(len);
                if found.is_some() {
                    return found;
                }
            }
            None
        }
        Value::Array(items) => {
            let kind = node.list_kind();
            // Only a list of two items or more can repeat a key (most are shorter).
            if let ListKind::Map(_) = kind
                && items.len() > 1
            {
                let mut seen = std::collections::HashSet::with_capacity(items.len());
                for segment in items.iter().filter_map(|item| item_segment(&kind, item)) {
                    if seen.contains(&segment) {
                        return Some(format!("{path}: duplicate entries for key {}", key_element(&segment)));
                    }
                    seen.insert(segment);
                }
            }
            if kind == ListKind::Atomic {
                return None;
            }
            let item_node = node.item();
            items.iter().find_map(|item| duplicate_entry(item, &item_node, path))
        }
        _ => None,
    }
}

/// A `k:{"name":"x","port":80}` segment as structured-merge-diff prints its path element:
/// `[name="x",port=80]`.
fn key_element(segment: &str) -> String {
    let fields: Option<Map<String, Value>> = segment
        .strip_prefix("k:")
        .and_then(|json| serde_json::from_str(json).ok());
    let Some(fields) = fields else {
        return segment.to_owned();
    };
    let parts: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("[{}]", parts.join(","))
}

fn is_empty_or_null(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::Object(m)) => m.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    }
}

/// What kind of node a value pair is: from the right value, else the left.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Scalar,
    Map,
    List,
}

fn shape(lhs: Option<&Value>, rhs: Option<&Value>) -> Shape {
    let pick = match rhs {
        Some(Value::Null) | None => lhs,
        some => some,
    };
    match pick {
        Some(Value::Object(_)) => Shape::Map,
        Some(Value::Array(_)) => Shape::List,
        _ => Shape::Scalar,
    }
}

/// `ToFieldSet`: the members of an applied configuration below `path`.
pub(crate) fn to_field_set(value: &Value, node: &Node<'_>, path: &mut Path, out: &mut FieldSet) {
    match value {
        Value::Object(map) => {
            if node.atomic_map() {
                out.insert(path.clone());
                return;
            }
            for (k, v) in map {
                path.push(k.clone());
                to_field_set(v, &node.field(k), path, out);
                if v.is_null() || v.as_object().is_some_and(Map::is_empty) {
                    out.insert(path.clone());
                }
                path.pop();
            }
        }
        Value::Array(items) => {
            let kind = node.list_kind();
            let Some(segments) = item_segments(&kind, items) else {
                out.insert(path.clone());
                return;
            };
            let item = node.item();
            let mut seen = BTreeSet::new();
            let duplicates: BTreeSet<&String> = segments.iter().filter(|s| !seen.insert(*s)).collect();
            for (segment, value) in segments.iter().zip(items) {
                path.push(segment.clone());
                if !duplicates.contains(segment) {
                    to_field_set(value, &item, path, out);
                }
                out.insert(path.clone());
                path.pop();
            }
        }
        _ => {
            out.insert(path.clone());
        }
    }
}

/// The result of comparing two objects.
#[derive(Debug, Default)]
pub(crate) struct Comparison {
    /// Present only on the right.
    pub added: FieldSet,
    /// Leaves whose values differ.
    pub modified: FieldSet,
    /// Present only on the left.
    pub removed: FieldSet,
}

impl Comparison {
    /// Adds the paths of `other` (a comparison of another part of the same objects).
    pub(crate) fn absorb(&mut self, other: Comparison) {
        self.added.extend(other.added);
        self.modified.extend(other.modified);
        self.removed.extend(other.removed);
    }
}

/// Where a comparison reports the paths it finds.
pub(crate) trait ChangeSink {
    /// `path` is present only on the right.
    fn on_added(&mut self, path: &[String]);
    /// The values at the leaf `path` differ.
    fn on_modified(&mut self, path: &[String]);
    /// `path` is present only on the left.
    fn on_removed(&mut self, path: &[String]);
}

impl ChangeSink for Comparison {
    fn on_added(&mut self, path: &[String]) {
        self.added.insert(path.to_vec());
    }
    fn on_modified(&mut self, path: &[String]) {
        self.modified.insert(path.to_vec());
    }
    fn on_removed(&mut self, path: &[String]) {
        self.removed.insert(path.to_vec());
    }
}

/// The path a comparison is at. A popped segment's string stays allocated for the next push
/// at that depth, so a walk allocates per depth rather than per visited field.
#[derive(Default)]
struct Walk {
    segments: Vec<String>,
    depth: usize,
}

impl Walk {
    fn push(&mut self, segment: &str) {
        match self.segments.get_mut(self.depth) {
            Some(slot) => {
                slot.clear();
                slot.push_str(segment);
            }
            None => self.segments.push(segment.to_owned()),
        }
        self.depth += 1;
    }

    fn pop(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn path(&self) -> &[String] {
        &self.segments[..self.depth]
    }
}

/// `Compare`: the paths added, modified and removed from `lhs` to `rhs` (both objects).
pub(crate) fn compare(lhs: &Map<String, Value>, rhs: &Map<String, Value>, node: &Node<'_>) -> Comparison {
    let mut cmp = Comparison::default();
    compare_into(lhs, rhs, node, &mut cmp);
    cmp
}

/// [`compare`], reporting each path to `sink` as it is found.
pub(crate) fn compare_into(
    lhs: &Map<String, Value>,
    rhs: &Map<String, Value>,
    node: &Node<'_>,
    sink: &mut impl ChangeSink,
) {
    let mut path = Walk::default();
    compare_maps(Some(lhs), Some(rhs), node, &mut path, sink);
}

/// A [`ChangeSink`] that builds the `fieldsV1` of the added and modified paths directly (what
/// [`encode`] of their set gives, without building the set), leaving out the paths `skip`
/// names. Removed paths are ignored: a create's entry is what it added.
pub(crate) struct FieldsBuilder<F> {
    root: Map<String, Value>,
    skip: F,
    /// The key being looked up (`f:` and a field name), kept to spare an allocation per
    /// segment of every path whose node already exists.
    key: String,
}

impl<F: Fn(&[String]) -> bool> FieldsBuilder<F> {
    /// A builder that leaves out every path for which `skip` is true.
    pub(crate) fn new(skip: F) -> Self {
        Self {
            root: Map::new(),
            skip,
            key: String::new(),
        }
    }

    /// Makes `path` a member. A node with no children is a member; one with children is a
    /// member when it has the `"."` self-marker. Intermediate nodes are created with their
    /// first child, so an existing empty node is a member that gains its marker when a
    /// child joins it (as in [`encode`]); a node that already has children when it becomes
    /// a member (the comparison reports a map after its fields) gains it then.
    fn insert(&mut self, path: &[String]) {
        let Some((last, parents)) = path.split_last() else {
            return;
        };
        if (self.skip)(path) {
            return;
        }
        let mut node = &mut self.root;
        let mut existed = false;
        for segment in parents {
            if existed && node.is_empty() {
                node.insert(".".to_owned(), Value::Object(Map::new()));
            }
            set_key(&mut self.key, segment);
            existed = node.contains_key(self.key.as_str());
            if !existed {
                node.insert(self.key.clone(), Value::Object(Map::new()));
            }
            let Some(Value::Object(next)) = node.get_mut(self.key.as_str()) else {
                return;
            };
            node = next;
        }
        if existed && node.is_empty() {
            node.insert(".".to_owned(), Value::Object(Map::new()));
        }
        set_key(&mut self.key, last);
        // Most members are new leaves, whose key is allocated anyway: one search.
        match node.entry(self.key.clone()) {
            Entry::Vacant(entry) => {
                entry.insert(Value::Object(Map::new()));
            }
            Entry::Occupied(entry) => {
                if let Value::Object(member) = entry.into_mut()
                    && !member.is_empty()
                    && !member.contains_key(".")
                {
                    member.insert(".".to_owned(), Value::Object(Map::new()));
                }
            }
        }
    }

    /// The `fieldsV1` value, or None when no path was kept.
    pub(crate) fn finish(self) -> Option<Value> {
        (!self.root.is_empty()).then_some(Value::Object(self.root))
    }
}

/// Sets `key` to the `fieldsV1` key of a path segment (`f:` and the name of a field).
fn set_key(key: &mut String, segment: &str) {
    key.clear();
    if is_field(segment) {
        key.push_str("f:");
    }
    key.push_str(segment);
}

impl<F: Fn(&[String]) -> bool> ChangeSink for FieldsBuilder<F> {
    fn on_added(&mut self, path: &[String]) {
        self.insert(path);
    }
    fn on_modified(&mut self, path: &[String]) {
        self.insert(path);
    }
    fn on_removed(&mut self, _: &[String]) {}
}

fn leaf(lhs: Option<&Value>, rhs: Option<&Value>, path: &[String], cmp: &mut impl ChangeSink) {
    match (lhs, rhs) {
        (None, Some(_)) => cmp.on_added(path),
        (Some(_), None) => cmp.on_removed(path),
        (Some(l), Some(r)) if l != r => cmp.on_modified(path),
        _ => {}
    }
}

fn compare_value(
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    node: &Node<'_>,
    path: &mut Walk,
    cmp: &mut impl ChangeSink,
) {
    let in_leaf = match shape(lhs, rhs) {
        Shape::Scalar => true,
        Shape::Map => {
            if node.atomic_map() || (is_empty_or_null(lhs) && is_empty_or_null(rhs)) {
                true
            } else {
                compare_maps(
                    lhs.and_then(Value::as_object),
                    rhs.and_then(Value::as_object),
                    node,
                    path,
                    cmp,
                );
                false
            }
        }
        Shape::List => {
            let kind = node.list_kind();
            let empty = |v: Option<&Value>| v.and_then(Value::as_array).is_none_or(Vec::is_empty);
            let l = lhs.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            let r = rhs.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            match (kind != ListKind::Atomic && !(empty(lhs) && empty(rhs)))
                .then(|| Some((item_segments(&kind, l)?, item_segments(&kind, r)?)))
                .flatten()
            {
                Some((ls, rs)) => {
                    compare_lists(l, &ls, r, &rs, &node.item(), path, cmp);
                    false
                }
                None => true,
            }
        }
    };
    if in_leaf {
        leaf(lhs, rhs, path.path(), cmp);
    } else if lhs.is_none() {
        cmp.on_added(path.path());
    } else if rhs.is_none() {
        cmp.on_removed(path.path());
    }
}

fn compare_maps(
    lhs: Option<&Map<String, Value>>,
    rhs: Option<&Map<String, Value>>,
    node: &Node<'_>,
    path: &mut Walk,
    cmp: &mut impl ChangeSink,
) {
    let empty = Map::new();
    let (l, r) = (lhs.unwrap_or(&empty), rhs.unwrap_or(&empty));
    // Equal values report nothing. Near the root, where most writes leave whole subtrees
    // alone (a status write and the spec), one equality test spares the walk; deeper down
    // it would mostly repeat the test of the level above.
    let skip_equal = path.depth < 2;
    for (k, lv) in l {
        let rv = r.get(k);
        if skip_equal && rv.is_some_and(|rv| matches!(rv, Value::Object(_) | Value::Array(_)) && rv == lv) {
            continue;
        }
        path.push(k);
        compare_value(Some(lv), rv, &node.field(k), path, cmp);
        path.pop();
    }
    for (k, rv) in r {
        if !l.contains_key(k) {
            path.push(k);
            compare_value(None, Some(rv), &node.field(k), path, cmp);
            path.pop();
        }
    }
}

fn group<'v>(items: &'v [Value], segments: &'v [String]) -> Vec<(&'v String, Vec<&'v Value>)> {
    let mut out: Vec<(&String, Vec<&Value>)> = Vec::new();
    for (segment, item) in segments.iter().zip(items) {
        match out.iter_mut().find(|(s, _)| *s == segment) {
            Some((_, list)) => list.push(item),
            None => out.push((segment, vec![item])),
        }
    }
    out
}

fn compare_lists(
    l: &[Value],
    ls: &[String],
    r: &[Value],
    rs: &[String],
    item: &Node<'_>,
    path: &mut Walk,
    cmp: &mut impl ChangeSink,
) {
    let (lg, rg) = (group(l, ls), group(r, rs));
    let mut all: Vec<&String> = lg.iter().map(|(s, _)| *s).collect();
    all.extend(rg.iter().map(|(s, _)| *s).filter(|s| !lg.iter().any(|(x, _)| x == s)));
    for segment in all {
        let lv = lg
            .iter()
            .find(|(s, _)| *s == segment)
            .map(|(_, v)| v.as_slice())
            .unwrap_or_default();
        let rv = rg
            .iter()
            .find(|(s, _)| *s == segment)
            .map(|(_, v)| v.as_slice())
            .unwrap_or_default();
        path.push(segment);
        match (lv.len(), rv.len()) {
            (0..=1, 0..=1) => compare_value(lv.first().copied(), rv.first().copied(), item, path, cmp),
            (a, b) if a >= 2 && b >= 2 => {
                if lv != rv {
                    cmp.on_modified(path.path());
                }
            }
            (a, _) if a >= 2 => {
                if let Some(first) = rv.first() {
                    compare_value(None, Some(first), item, path, cmp);
                }
                cmp.on_removed(path.path());
            }
            _ => {
                if let Some(first) = lv.first() {
                    compare_value(Some(first), None, item, path, cmp);
                }
                cmp.on_added(path.path());
            }
        }
        path.pop();
    }
}

/// `Merge` with the apply rule (the right side wins at leaves): the applied configuration
/// `rhs` merged into the live object `lhs`. None when neither has anything.
///
/// A value on one side only merges into a copy of itself, so it is copied without walking the
/// schema (the walk builds a path string per field): always when it is only on the left, and on
/// the right when none of its lists has two items (with two, an associative list's merge keeps
/// the first of two items with the same key twice). A create by apply is mostly such values.
pub(crate) fn merge(lhs: Option<&Value>, rhs: Option<&Value>, node: &Node<'_>) -> Option<Value> {
    merge_with::<true>(lhs, rhs, node)
}

/// The merge of a value on one side only, when it is a copy of that value (see [`merge`]).
fn one_sided(lhs: Option<&Value>, rhs: Option<&Value>) -> Option<Option<Value>> {
    match (lhs, rhs) {
        (Some(l), None) => Some(Some(l.clone())),
        (None, Some(r)) if !has_list_of_two(r) => Some(Some(r.clone())),
        _ => None,
    }
}

/// [`merge`] of an applied configuration the caller gives up: its values are moved into the
/// result where [`merge`] would copy them.
pub(crate) fn merge_owned(lhs: Option<&Value>, rhs: Value, node: &Node<'_>) -> Option<Value> {
    let Value::Object(mut r) = rhs else {
        return merge(lhs, Some(&rhs), node);
    };
    if lhs.is_none() && !r.values().any(has_list_of_two) {
        return Some(Value::Object(r));
    }
    // As the walk's map case (`merge_walk`), the right side moved.
    if node.atomic_map() || (is_empty_or_null(lhs) && r.is_empty()) {
        return Some(Value::Object(r));
    }
    // The result is built in the configuration's own map (a create's live side is the small
    // zero value): only the live side's fields are inserted, and a field whose merge is
    // nothing is removed.
    let empty = Map::new();
    let l = lhs.and_then(Value::as_object).unwrap_or(&empty);
    let mut dropped = Vec::new();
    for (k, rv) in r.iter_mut() {
        if !l.contains_key(k) && has_list_of_two(rv) {
            match merge_walk::<true>(None, Some(rv), &node.field(k)) {
                Some(v) => *rv = v,
                None => dropped.push(k.clone()),
            }
        }
    }
    for k in dropped {
        r.remove(&k);
    }
    for (k, lv) in l {
        let v = match r.remove(k) {
            None => Some(lv.clone()),
            Some(rv) => merge_owned(Some(lv), rv, &node.field(k)),
        };
        if let Some(v) = v {
            r.insert(k.clone(), v);
        }
    }
    (!r.is_empty()).then_some(Value::Object(r))
}

/// Whether `value` holds a list of two items or more, at any depth.
fn has_list_of_two(value: &Value) -> bool {
    match value {
        Value::Array(items) => items.len() >= 2 || items.iter().any(has_list_of_two),
        Value::Object(map) => map.values().any(has_list_of_two),
        _ => false,
    }
}

/// [`merge`], copying one-sided values when `SHORTCUT` (what [`merge`] does), or walking the
/// schema at every level (the definition, which the tests compare the shortcut with).
fn merge_with<const SHORTCUT: bool>(lhs: Option<&Value>, rhs: Option<&Value>, node: &Node<'_>) -> Option<Value> {
    if SHORTCUT && let Some(merged) = one_sided(lhs, rhs) {
        return merged;
    }
    merge_walk::<SHORTCUT>(lhs, rhs, node)
}

/// One level of the schema walk of [`merge_with`], its fields merged by [`merge_with`] again.
fn merge_walk<const SHORTCUT: bool>(lhs: Option<&Value>, rhs: Option<&Value>, node: &Node<'_>) -> Option<Value> {
    let keep_rhs = || rhs.or(lhs).cloned();
    match shape(lhs, rhs) {
        Shape::Scalar => keep_rhs(),
        Shape::Map => {
            if node.atomic_map() || (is_empty_or_null(lhs) && is_empty_or_null(rhs)) {
                return keep_rhs();
            }
            let empty = Map::new();
            let l = lhs.and_then(Value::as_object).unwrap_or(&empty);
            let r = rhs.and_then(Value::as_object).unwrap_or(&empty);
            let mut out = Map::new();
            // A field's node (a path string) is built only when the field needs the walk.
            let field = |lv: Option<&Value>, rv: Option<&Value>, k: &str| {
                if SHORTCUT && let Some(merged) = one_sided(lv, rv) {
                    return merged;
                }
                merge_walk::<SHORTCUT>(lv, rv, &node.field(k))
            };
            for (k, lv) in l {
                if let Some(v) = field(Some(lv), r.get(k), k) {
                    out.insert(k.clone(), v);
                }
            }
            for (k, rv) in r {
                if !l.contains_key(k)
                    && let Some(v) = field(None, Some(rv), k)
                {
                    out.insert(k.clone(), v);
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        Shape::List => {
            let kind = node.list_kind();
            let l = lhs.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            let r = rhs.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            if kind == ListKind::Atomic || (l.is_empty() && r.is_empty()) {
                return keep_rhs();
            }
            let (Some(ls), Some(rs)) = (item_segments(&kind, l), item_segments(&kind, r)) else {
                return keep_rhs();
            };
            merge_lists::<SHORTCUT>(l, &ls, r, &rs, &node.item())
        }
    }
}

/// The item merge of `mergingWalker.visitListItems`: the right side's order for the items it
/// has, the left side's items it lacks kept where they were.
fn merge_lists<const SHORTCUT: bool>(
    l: &[Value],
    ls: &[String],
    r: &[Value],
    rs: &[String],
    item: &Node<'_>,
) -> Option<Value> {
    let find = |segs: &[String], s: &String| segs.iter().position(|x| x == s);
    let shared: Vec<&String> = rs.iter().filter(|s| find(ls, s).is_some()).collect();
    let mut shared = shared.into_iter();
    let mut next_shared = shared.next();
    let mut merged_rhs: BTreeSet<&String> = BTreeSet::new();
    let mut out = Vec::new();
    let (mut li, mut ri) = (0, 0);
    let child = |s: &String, segs: &[String], items: &'_ [Value]| find(segs, s).and_then(|i| items.get(i)).cloned();
    while li < ls.len() || ri < rs.len() {
        if li < ls.len() && ri < rs.len() {
            let pe = &ls[li];
            if *pe == rs[ri] {
                merged_rhs.insert(pe);
                if let Some(v) = merge_with::<SHORTCUT>(child(pe, ls, l).as_ref(), child(pe, rs, r).as_ref(), item) {
                    out.push(v);
                }
                li += 1;
                ri += 1;
                next_shared = shared.next();
                continue;
            }
            if find(rs, pe).is_some() && next_shared.is_some_and(|n| n != pe) {
                li += 1;
                continue;
            }
        }
        if li < ls.len() {
            let pe = &ls[li];
            if find(rs, pe).is_none() {
                if let Some(v) = merge_with::<SHORTCUT>(l.get(li), None, item) {
                    out.push(v);
                }
                li += 1;
                continue;
            } else if merged_rhs.contains(pe) {
                li += 1;
            }
        }
        if ri < rs.len() {
            let pe = &rs[ri];
            merged_rhs.insert(pe);
            if let Some(v) = merge_with::<SHORTCUT>(child(pe, ls, l).as_ref(), child(pe, rs, r).as_ref(), item) {
                out.push(v);
            }
            ri += 1;
            if next_shared.is_some_and(|n| n == pe) {
                next_shared = shared.next();
            }
        }
    }
    (!out.is_empty()).then_some(Value::Array(out))
}

/// Removes the members of `remove` (and everything below them) from `value`. Maps and lists
/// left empty by the removal are dropped (None).
pub(crate) fn remove_items(value: &Value, remove: &FieldSet, node: &Node<'_>, path: &mut Path) -> Option<Value> {
    match value {
        Value::Object(map) if !map.is_empty() && !node.atomic_map() => {
            let mut out = Map::new();
            for (k, v) in map {
                path.push(k.clone());
                if !remove.contains(path) {
                    let below = has_below(remove, path);
                    let kept = if below {
                        remove_items(v, remove, &node.field(k), path)
                    } else {
                        Some(v.clone())
                    };
                    // A field whose members were all removed stays, as null (SMD's
                    // `removingWalker`): the field itself is still there, so its owners keep it.
                    out.insert(k.clone(), kept.unwrap_or(Value::Null));
                }
                path.pop();
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        Value::Array(items) if !items.is_empty() => {
            let kind = node.list_kind();
            let Some(segments) = item_segments(&kind, items) else {
                return Some(value.clone());
            };
            let item = node.item();
            let mut out = Vec::new();
            for (segment, v) in segments.into_iter().zip(items) {
                path.push(segment);
                if !remove.contains(path) {
                    if has_below(remove, path) {
                        if let Some(kept) = remove_items(v, remove, &item, path) {
                            out.push(kept);
                        }
                    } else {
                        out.push(v.clone());
                    }
                }
                path.pop();
            }
            (!out.is_empty()).then_some(Value::Array(out))
        }
        other => Some(other.clone()),
    }
}

/// Drops the nulls [`remove_items`] left for emptied fields (`after` null where `before` was
/// not), as decoding the result into the kind's type does; nulls the writer sent stay.
pub(crate) fn drop_emptied(after: &mut Value, before: &Value) {
    let (Value::Object(after), Value::Object(before)) = (after, before) else {
        return;
    };
    after.retain(|k, v| !(v.is_null() && before.get(k).is_some_and(|b| !b.is_null())));
    for (k, v) in after.iter_mut() {
        if let Some(b) = before.get(k) {
            drop_emptied(v, b);
        }
    }
}

/// True if some member of `set` lies strictly below `prefix`.
fn has_below(set: &FieldSet, prefix: &Path) -> bool {
    set.range(prefix.clone()..)
        .nth(usize::from(set.contains(prefix)))
        .is_some_and(|p| p.len() > prefix.len() && p.starts_with(prefix))
}

/// `EnsureNamedFieldsAreMembers`: adds the field-name ancestors of every member.
pub(crate) fn with_named_ancestors(set: &FieldSet) -> FieldSet {
    let mut out = set.clone();
    for path in set {
        for n in 1..path.len() {
            let ancestor = &path[..n];
            if is_field(&ancestor[n - 1]) && !out.contains(ancestor) {
                out.insert(ancestor.to_vec());
            }
        }
    }
    out
}

/// True for a field-name segment (not a `k:` or `v:` list element).
fn is_field(segment: &str) -> bool {
    !(segment.starts_with("k:") || segment.starts_with("v:"))
}

/// True if `path` is at or below one of `prefixes`.
pub(crate) fn in_subtrees(path: &[String], prefixes: &[&[&str]]) -> bool {
    prefixes
        .iter()
        .any(|q| path.len() >= q.len() && path.iter().zip(q.iter()).all(|(a, b)| a == b))
}

/// The members of `set` not at or below any member of `prefixes` (`RecursiveDifference`).
pub(crate) fn without_subtrees(mut set: FieldSet, prefixes: &[&[&str]]) -> FieldSet {
    // In place: usually nothing goes, and rebuilding the set reallocated every node.
    if !prefixes.is_empty() {
        set.retain(|p| !in_subtrees(p, prefixes));
    }
    set
}

/// Encodes a field set as a `fieldsV1` tree (`f:` for fields, `k:`/`v:` segments as they are,
/// `"."` for a member that also has members below it). The stored form is its text, written
/// by [`encode_text`]; the tree is what tests compare with.
#[cfg(test)]
pub(crate) fn encode(fields: &FieldSet) -> Value {
    let mut root = Map::new();
    for path in fields {
        if path.is_empty() {
            continue;
        }
        let mut node = &mut root;
        let mut existed = false;
        for segment in path {
            // Sorted order puts a member before the paths below it: a node that was there
            // before this path and is still empty is a member, so it gets its self-marker
            // before its first child.
            if existed && node.is_empty() {
                node.insert(".".to_owned(), Value::Object(Map::new()));
            }
            let key = if is_field(segment) {
                format!("f:{segment}")
            } else {
                segment.clone()
            };
            existed = node.contains_key(&key);
            let entry = node.entry(key).or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(next) = entry else { break };
            node = next;
        }
    }
    Value::Object(root)
}

/// Decodes `fieldsV1` into its members: `f:`, `k:` and `v:` keys are descended into; a node
/// with `"."` or without children is a member.
#[cfg(test)]
pub(crate) fn decode(value: &Value) -> FieldSet {
    fn walk(node: &Map<String, Value>, prefix: &mut Path, out: &mut FieldSet) {
        if !prefix.is_empty() && (node.is_empty() || node.contains_key(".")) {
            out.insert(prefix.clone());
        }
        for (key, child) in node {
            if key == "." {
                continue;
            }
            let segment = match key.strip_prefix("f:") {
                Some(field) => field.to_owned(),
                None => key.clone(),
            };
            prefix.push(segment);
            match child {
                Value::Object(map) => walk(map, prefix, out),
                _ => {
                    out.insert(prefix.clone());
                }
            }
            prefix.pop();
        }
    }
    let mut out = FieldSet::new();
    if let Value::Object(map) = value {
        walk(map, &mut Path::new(), &mut out);
    }
    out
}

/// [`decode`] of a `fieldsV1` read in place from its text.
pub(crate) fn decode_view(view: &View<'_>) -> FieldSet {
    fn walk(node: &View<'_>, prefix: &mut Path, out: &mut FieldSet) {
        if !prefix.is_empty() && (node.is_empty() || node.get(".").is_some()) {
            out.insert(prefix.clone());
        }
        for (key, child) in node.iter() {
            if key == "." {
                continue;
            }
            prefix.push(key.strip_prefix("f:").unwrap_or(key).to_owned());
            walk(child, prefix, out);
            prefix.pop();
        }
    }
    let mut out = FieldSet::new();
    walk(view, &mut Path::new(), &mut out);
    out
}

/// A path as the API server prints it in conflicts: `.spec.containers[name="main"].image`.
pub(crate) fn display(path: &[String]) -> String {
    let mut out = String::new();
    for segment in path {
        if let Some(key) = segment.strip_prefix("k:") {
            let fields: Vec<String> = serde_json::from_str::<Map<String, Value>>(key)
                .map(|m| m.iter().map(|(k, v)| format!("{k}={v}")).collect())
                .unwrap_or_default();
            out.push_str(&format!("[{}]", fields.join(",")));
        } else if let Some(value) = segment.strip_prefix("v:") {
            out.push_str(&format!("[={value}]"));
        } else {
            out.push('.');
            out.push_str(segment);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn p(segments: &[&str]) -> Path {
        segments.iter().map(|s| (*s).to_owned()).collect()
    }

    fn deployment() -> TypeRef {
        TypeRef::new("apps/v1", "Deployment")
    }

    fn set_of(value: Value, type_ref: &TypeRef) -> FieldSet {
        let mut out = FieldSet::new();
        to_field_set(&value, &Node::root(type_ref, None), &mut Path::new(), &mut out);
        out
    }

    #[test]
    fn the_fields_builder_encodes_what_a_comparison_adds_and_modifies() {
        let node = Node::root(&deployment(), None);
        let before = json!({"spec": {"replicas": 1, "paused": false, "strategy": {}}});
        let after = json!({"spec": {"replicas": 2, "strategy": {}, "selector": {"matchLabels": {"app": "a"}},
            "template": {"spec": {"containers": [{"name": "a", "image": "x", "ports": [{"containerPort": 80}]}]}}}});
        let (Value::Object(l), Value::Object(r)) = (&before, &after) else {
            panic!("objects");
        };
        let cmp = compare(l, r, &node);
        assert!(
            !cmp.removed.is_empty(),
            "the example removes a field, which the builder ignores"
        );
        let skip = |p: &[String]| p == ["spec", "replicas"];
        let mut expected: FieldSet = cmp.added.into_iter().chain(cmp.modified).filter(|p| !skip(p)).collect();
        expected.retain(|p| !p.is_empty());
        let mut builder = FieldsBuilder::new(skip);
        compare_into(l, r, &node, &mut builder);
        assert_eq!(builder.finish(), Some(encode(&expected)));
        let mut nothing = FieldsBuilder::new(|_: &[String]| true);
        compare_into(l, r, &node, &mut nothing);
        assert_eq!(nothing.finish(), None);
    }

    #[test]
    fn built_in_nodes_keep_their_tables_only_above_an_entry() {
        let root = Node::root(&deployment(), None);
        let containers = root.field("spec").field("template").field("spec").field("containers");
        assert_eq!(containers.list_kind(), ListKind::Map(vec!["name"]));
        let ports = containers.item().field("ports");
        assert_eq!(ports.list_kind(), ListKind::Map(vec!["containerPort", "protocol"]));
        assert!(root.field("spec").field("selector").atomic_map());
        // Nothing in the tables is below `spec.replicas` or a ConfigMap's `data`.
        assert!(matches!(root.field("spec").field("replicas"), Node::Builtin(None)));
        let configmap = Node::root(&TypeRef::new("v1", "ConfigMap"), None);
        assert!(matches!(configmap.field("data").field("k"), Node::Builtin(None)));
        let finalizers = configmap.field("metadata").field("finalizers");
        assert_eq!(finalizers.list_kind(), ListKind::Set);
        assert!(!configmap.field("metadata").field("labels").atomic_map());
    }

    /// The key segment is the JSON of a map of the key fields (defaults filled in), written
    /// straight: it must equal that map printed, whatever the order of the keys in the table.
    #[test]
    fn duplicate_keyed_entries_are_found_where_the_list_is() {
        let pod = TypeRef::new("v1", "Pod");
        let root = Node::root(&pod, None);
        let body = json!({"spec": {"containers": [{"name": "a", "ports": [
            {"containerPort": 80}, {"containerPort": 80, "protocol": "TCP"}]}],
            "volumes": [{"name": "x"}, {"name": "y"}]}});
        assert_eq!(
            duplicate_entry(&body, &root, &mut String::new()).as_deref(),
            Some(".spec.containers.ports: duplicate entries for key [containerPort=80,protocol=\"TCP\"]")
        );
        let body = json!({"spec": {"volumes": [{"name": "x"}, {"name": "x"}], "args": ["a", "a"]}});
        assert_eq!(
            duplicate_entry(&body, &root, &mut String::new()).as_deref(),
            Some(".spec.volumes: duplicate entries for key [name=\"x\"]")
        );
        let fine = json!({"spec": {"volumes": [{"name": "x"}, {"name": "y"}]}});
        assert_eq!(duplicate_entry(&fine, &root, &mut String::new()), None);
    }

    #[test]
    fn key_segments_print_as_the_map_of_their_key_fields() {
        let as_map = |keys: &[&str], item: &Value| {
            let mut key = Map::new();
            for k in keys {
                match (item.get(*k), key_default(k)) {
                    (Some(v), _) => key.insert((*k).to_owned(), v.clone()),
                    (None, Some(d)) => key.insert((*k).to_owned(), Value::from(d)),
                    (None, None) => None,
                };
            }
            (!key.is_empty()).then(|| format!("k:{}", Value::Object(key)))
        };
        let items = [
            json!({"containerPort": 8080}),
            json!({"containerPort": 53, "protocol": "UDP", "name": "dns"}),
            json!({"name": "a\"b\\c\u{1}", "port": 1.5}),
            json!({"name": {"nested": [1, null]}, "protocol": null}),
            json!({"other": 1}),
        ];
        for keys in [
            vec!["containerPort", "protocol"],
            vec!["protocol", "containerPort"],
            vec!["port", "name"],
        ] {
            for item in &items {
                let kind = ListKind::Map(keys.clone());
                assert_eq!(item_segment(&kind, item), as_map(&keys, item), "{keys:?} {item}");
            }
        }
    }

    #[test]
    fn keyed_entries_are_members_and_encode_with_self_markers() {
        let fields = set_of(
            json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x", "args": ["1"]}]}}}}),
            &deployment(),
        );
        let entry = r#"k:{"name":"a"}"#;
        let encoded = encode(&fields);
        assert_eq!(
            encoded,
            json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {entry: {
                ".": {}, "f:args": {}, "f:image": {}, "f:name": {}}}}}}})
        );
        assert_eq!(decode(&encoded), fields);
    }

    #[test]
    fn atomic_maps_are_owned_whole() {
        let fields = set_of(
            json!({"spec": {"selector": {"matchLabels": {"app": "a"}}}}),
            &deployment(),
        );
        assert_eq!(fields, FieldSet::from([p(&["spec", "selector"])]));
        let service = set_of(
            json!({"spec": {"selector": {"app": "a"}}}),
            &TypeRef::new("v1", "Service"),
        );
        assert_eq!(service, FieldSet::from([p(&["spec", "selector"])]));
    }

    #[test]
    fn compare_marks_added_maps_and_changed_leaves() {
        let lhs = json!({"metadata": {}, "data": {"a": "1"}});
        let rhs = json!({"metadata": {"labels": {"x": "y"}}, "data": {"a": "2"}});
        let type_ref = TypeRef::new("v1", "ConfigMap");
        let cmp = compare(
            lhs.as_object().unwrap_or(&Map::new()),
            rhs.as_object().unwrap_or(&Map::new()),
            &Node::root(&type_ref, None),
        );
        assert_eq!(
            cmp.added,
            FieldSet::from([p(&["metadata", "labels"]), p(&["metadata", "labels", "x"])])
        );
        assert_eq!(cmp.modified, FieldSet::from([p(&["data", "a"])]));
        assert!(cmp.removed.is_empty());
        assert_eq!(
            encode(&cmp.added),
            json!({"f:metadata": {"f:labels": {".": {}, "f:x": {}}}})
        );
    }

    #[test]
    fn merge_keeps_live_entries_and_replaces_atomic_values() {
        let node = Node::root(&deployment(), None);
        let live = json!({"spec": {"selector": {"matchLabels": {"a": "1", "b": "2"}},
            "template": {"spec": {"containers": [{"name": "x", "image": "1"}, {"name": "y", "image": "2"}]}}}});
        let applied = json!({"spec": {"selector": {"matchLabels": {"a": "1"}},
            "template": {"spec": {"containers": [{"name": "y", "image": "3"}]}}}});
        let merged = merge(Some(&live), Some(&applied), &node);
        assert_eq!(
            merged,
            Some(json!({"spec": {"selector": {"matchLabels": {"a": "1"}},
                "template": {"spec": {"containers": [{"name": "x", "image": "1"}, {"name": "y", "image": "3"}]}}}}))
        );
    }

    #[test]
    fn remove_items_drops_members_and_emptied_parents() {
        let node = Node::root(&deployment(), None);
        let value =
            json!({"spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "x", "image": "1"}]}}}});
        let remove = FieldSet::from([p(&["spec", "template", "spec", "containers", r#"k:{"name":"x"}"#])]);
        let mut removed = remove_items(&value, &remove, &node, &mut Path::new()).expect("spec stays");
        assert_eq!(
            removed,
            json!({"spec": {"replicas": 1, "template": {"spec": {"containers": null}}}}),
            "emptied fields stay as null, so their owners keep them"
        );
        drop_emptied(&mut removed, &value);
        assert_eq!(removed, json!({"spec": {"replicas": 1, "template": {"spec": {}}}}));
    }

    #[test]
    fn conflict_paths_print_like_the_server() {
        assert_eq!(
            display(&p(&["spec", "containers", r#"k:{"name":"main"}"#, "image"])),
            r#".spec.containers[name="main"].image"#
        );
    }
}
