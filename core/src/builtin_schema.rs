//! What the API server's OpenAPI documents say about the fields of built-in kinds, as data:
//! which paths hold a resource [`Quantity`], the list type
//! (`atomic`, `set`, `map` with its keys) of each list, and which maps are atomic.
//!
//! The tables are generated from a real kube-apiserver (`generated.rs`, see its header for the
//! command), so drift detection, server-side apply and the memory backend share one answer.
//!
//! Paths are dotted field names from the object root, with `[*]` for list items and `{*}` for
//! map values: `spec.template.spec.containers[*].resources.limits{*}`.

use std::sync::LazyLock;

use serde_json::{Map, Value};

use crate::model::TypeRef;
use crate::quantity::{Quantity, QuantityError};

mod generated;

/// `x-kubernetes-list-type`: how a list merges in server-side apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ListType {
    /// The list is replaced as a whole.
    Atomic,
    /// Scalar items, each owned on its own, no duplicates.
    Set,
    /// Object items identified by [`ListTypeEntry::keys`].
    Map,
}

/// The list type of one list path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListTypeEntry {
    /// Path of the list.
    pub path: &'static str,
    /// Its type.
    pub list_type: ListType,
    /// `x-kubernetes-list-map-keys` (for [`ListType::Map`]; empty otherwise).
    pub keys: &'static [&'static str],
}

impl ListTypeEntry {
    /// An entry (the generated tables' constructor).
    pub const fn new(path: &'static str, list_type: ListType, keys: &'static [&'static str]) -> Self {
        Self { path, list_type, keys }
    }
}

/// The generated tables of one kind.
#[derive(Clone, Copy, Debug)]
pub struct KindSchema {
    /// `group/version`, or `v1` for the core group.
    pub api_version: &'static str,
    /// Kind name.
    pub kind: &'static str,
    /// Paths whose schema is `io.k8s.apimachinery.pkg.api.resource.Quantity`, sorted.
    pub quantity_paths: &'static [&'static str],
    /// Lists with an `x-kubernetes-list-type`, sorted by path.
    pub list_types: &'static [ListTypeEntry],
    /// Maps and structs marked `x-kubernetes-map-type: atomic` (a `LabelSelector`, a Service's
    /// `spec.selector`), sorted: server-side apply owns and replaces them whole.
    pub atomic_maps: &'static [&'static str],
    /// Paths below the root whose schema is ObjectMeta (`spec.template.metadata`,
    /// `spec.volumeClaimTemplates[*].metadata`), sorted.
    pub nested_object_meta: &'static [&'static str],
}

/// Every built-in kind the tables know (those with a quantity or a typed list).
pub fn kinds() -> &'static [KindSchema] {
    generated::KINDS
}

/// The tables of a built-in kind; None for custom resources and unknown kinds.
pub fn kind_schema(type_ref: &TypeRef) -> Option<&'static KindSchema> {
    kind_index(type_ref).map(|i| &generated::KINDS[i])
}

/// The position of a built-in kind's tables in [`kinds`]; None for custom resources and unknown
/// kinds. For data a caller keeps per kind, in a slice parallel to [`kinds`].
pub fn kind_index(type_ref: &TypeRef) -> Option<usize> {
    generated::KINDS
        .binary_search_by(|k| (k.api_version, k.kind).cmp(&(type_ref.api_version.as_str(), type_ref.kind.as_str())))
        .ok()
}

/// A kind's paths that every write visits, split into steps once (parsing them on each write
/// was a twentieth of a StatefulSet apply).
struct ParsedPaths {
    /// The Quantity paths and their steps.
    quantities: Vec<(&'static str, Vec<Step<'static>>)>,
    /// `creationTimestamp` of each ObjectMeta below the root.
    creation_timestamps: Vec<Vec<Step<'static>>>,
}

/// [`ParsedPaths`] of every kind, in the order of `generated::KINDS`.
static PARSED: LazyLock<Vec<ParsedPaths>> = LazyLock::new(|| {
    generated::KINDS
        .iter()
        .map(|kind| ParsedPaths {
            quantities: kind.quantity_paths.iter().map(|p| (*p, steps(p))).collect(),
            creation_timestamps: kind
                .nested_object_meta
                .iter()
                .map(|meta| {
                    let mut s = steps(meta);
                    s.push(Step::Field("creationTimestamp"));
                    s
                })
                .collect(),
        })
        .collect()
});

fn parsed(type_ref: &TypeRef) -> Option<&'static ParsedPaths> {
    kind_index(type_ref).and_then(|i| PARSED.get(i))
}

/// The Quantity paths of a kind (empty for unknown kinds).
pub fn quantity_paths(type_ref: &TypeRef) -> &'static [&'static str] {
    kind_schema(type_ref).map_or(&[], |k| k.quantity_paths)
}

/// True if `path` holds a Quantity in this kind.
pub fn is_quantity_path(type_ref: &TypeRef, path: &str) -> bool {
    quantity_paths(type_ref).binary_search(&path).is_ok()
}

/// The list type at `path` in this kind, if the schema declares one.
pub fn list_type(type_ref: &TypeRef, path: &str) -> Option<&'static ListTypeEntry> {
    let lists = kind_schema(type_ref)?.list_types;
    lists.binary_search_by(|e| e.path.cmp(path)).ok().map(|i| &lists[i])
}

/// True if the map or struct at `path` is `x-kubernetes-map-type: atomic` in this kind.
pub fn is_atomic_map(type_ref: &TypeRef, path: &str) -> bool {
    kind_schema(type_ref).is_some_and(|k| k.atomic_maps.binary_search(&path).is_ok())
}

/// API groups whose defaulters run `SetDefaults_ResourceList` (core/v1's `RoundUp(Milli)`) on
/// the resource lists of their kinds (pkg/apis/{core,apps,batch,storage}/v1/zz_generated.defaults.go).
const MILLI_ROUNDED_GROUPS: &[&str] = &["v1", "apps/v1", "batch/v1", "storage.k8s.io/v1"];

/// True if the server rounds the quantities at `path` up to milli precision: the values of a
/// resource list (a map of quantities, `...requests{*}`) in a kind defaulted by core/v1's
/// defaulters. A single quantity (`emptyDir.sizeLimit`) keeps nano precision.
pub fn rounds_to_milli(type_ref: &TypeRef, path: &str) -> bool {
    path.ends_with("{*}") && MILLI_ROUNDED_GROUPS.contains(&type_ref.api_version.as_str())
}

/// What the server stores for one quantity written as `value` at `path`, as Go's
/// `Quantity.UnmarshalJSON` decodes it: it receives the raw JSON token (a number's text; a
/// string still quoted and escaped, so `"\t1"` is not trimmed but fails), drops the quotes,
/// trims spaces and parses; then prints canonically, rounded up to 1m in resource lists.
/// The raw token is serde_json's serialization, which is what a client sends on the wire.
pub fn canonical_quantity(type_ref: &TypeRef, path: &str, value: &Value) -> Result<String, QuantityError> {
    let raw = value.to_string();
    let text = match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => inner,
        None => raw.as_str(),
    };
    let mut quantity = Quantity::parse_json_text(text)?;
    if rounds_to_milli(type_ref, path) {
        quantity.round_up_milli();
    }
    Ok(quantity.canonical())
}

/// Rewrites every quantity of a built-in object's body (apiVersion, kind and metadata excluded)
/// to the text the server stores. A `null` resource-list value becomes `"0"` (Go decodes it as
/// a zero Quantity) and a `null` single quantity is dropped (a nil `*Quantity`, omitted), as
/// kube-apiserver 1.37 answers.
///
/// # Errors
/// The first value that is not a quantity; the body may then be partly rewritten.
pub fn canonicalize_quantities(type_ref: &TypeRef, body: &mut Map<String, Value>) -> Result<(), QuantityError> {
    for (path, steps) in parsed(type_ref).map_or(&[][..], |p| &p.quantities) {
        let path = *path;
        for_each_at(body, steps, &mut |value, is_map_value| {
            let text = match &*value {
                Value::Null if is_map_value => "0".to_owned(),
                Value::Null => return Ok(false),
                other => canonical_quantity(type_ref, path, other)?,
            };
            *value = Value::String(text);
            Ok(true)
        })?;
    }
    Ok(())
}

/// Drops `creationTimestamp: null` from the ObjectMeta below the root of a built-in kind (a
/// pod template's): the server decodes it to the zero Time, which its `omitzero` tag leaves
/// out, so the stored object has no such field.
pub fn drop_null_nested_creation_timestamps(type_ref: &TypeRef, body: &mut Map<String, Value>) {
    for steps in parsed(type_ref).map_or(&[][..], |p| &p.creation_timestamps) {
        // The visit never fails: it only asks to remove a null.
        let _ = for_each_at(body, steps, &mut |value, _| Ok(!value.is_null()));
    }
}

/// One step of a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step<'a> {
    Field(&'a str),
    Items,
    Values,
}

/// `a.b[*]{*}.c` -> [Field(a), Field(b), Items, Values, Field(c)].
fn steps(path: &str) -> Vec<Step<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let name_end = part.find(['[', '{']).unwrap_or(part.len());
        if name_end > 0 {
            out.push(Step::Field(&part[..name_end]));
        }
        let mut rest = &part[name_end..];
        while !rest.is_empty() {
            if let Some(tail) = rest.strip_prefix("[*]") {
                out.push(Step::Items);
                rest = tail;
            } else if let Some(tail) = rest.strip_prefix("{*}") {
                out.push(Step::Values);
                rest = tail;
            } else {
                break; // not produced by the generator
            }
        }
    }
    out
}

/// Called with a value at a path and whether it is a map value; returns false to remove the
/// field.
type Visit<'f> = dyn FnMut(&mut Value, bool) -> Result<bool, QuantityError> + 'f;

/// Calls `visit` on every value at `steps` below `map` (with whether it is a map value), and
/// removes the last field when it says so.
fn for_each_at(map: &mut Map<String, Value>, steps: &[Step<'_>], visit: &mut Visit<'_>) -> Result<(), QuantityError> {
    let Some((Step::Field(name), rest)) = steps.split_first() else {
        return Ok(());
    };
    let Some(value) = map.get_mut(*name) else {
        return Ok(());
    };
    if rest.is_empty() {
        if !visit(value, false)? {
            map.remove(*name);
        }
        return Ok(());
    }
    visit_value(value, rest, visit)
}

fn visit_value(value: &mut Value, steps: &[Step<'_>], visit: &mut Visit<'_>) -> Result<(), QuantityError> {
    let rest = steps.get(1..).unwrap_or_default();
    match (steps.first(), value) {
        (Some(Step::Field(_)), Value::Object(map)) => for_each_at(map, steps, visit),
        (Some(Step::Items), Value::Array(items)) if rest.is_empty() => {
            // A list of quantities: null items stay (no such list among built-in kinds).
            items.iter_mut().try_for_each(|item| visit(item, false).map(drop))
        }
        (Some(Step::Items), Value::Array(items)) => {
            items.iter_mut().try_for_each(|item| visit_value(item, rest, visit))
        }
        (Some(Step::Values), Value::Object(map)) if rest.is_empty() => {
            map.values_mut().try_for_each(|v| visit(v, true).map(drop))
        }
        (Some(Step::Values), Value::Object(map)) => map.values_mut().try_for_each(|v| visit_value(v, rest, visit)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
