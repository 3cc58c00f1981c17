//! Custom resources against their CRD's structural OpenAPI v3 schema, in the API server's
//! order: prune unknown fields, drop non-nullable `null`s without a default, apply defaults,
//! then validate. One implementation shared by the memory backend's admission and by the
//! reconcile driver, which normalizes the status it computes exactly as the server will
//! before comparing it with the stored one (so a defaulted status field is not a change).
//!
//! What is implemented (the apiextensions-apiserver behaviour for structural schemas,
//! `pkg/apiserver/schema/{pruning,defaulting}` of v0.37):
//! - **Pruning** ([`prune_and_default`]): a field not named in `properties` (and with no
//!   `additionalProperties`) is dropped, at any depth, except below
//!   `x-kubernetes-preserve-unknown-fields: true` and `x-kubernetes-embedded-resource` nodes
//!   and nodes without `type` or `properties`. `apiVersion`, `kind` and `metadata` at the root
//!   are never pruned.
//! - **Nulls**: a `null` in a field whose schema is not `nullable` is replaced by the field's
//!   `default` when it has one and dropped otherwise (`PruneNonNullableNullsWithoutDefaults`,
//!   then `Default`); a `null` in a nullable field, or in a field without a schema, stays.
//!   In a list, a non-nullable `null` item is replaced by the items' default if any (and
//!   otherwise stays, and fails validation).
//! - **Defaulting**: a missing property with a `default` gets a copy of it, then its own
//!   defaults and pruning apply (defaults run after pruning, like the server's).
//! - **Validation** ([`validate`]): `type` (object, array, string, integer, number, boolean)
//!   with `nullable` and `x-kubernetes-int-or-string` (an integer or a string); `required`;
//!   `enum`; `minimum` / `maximum` (and the exclusive forms); `minLength` / `maxLength`;
//!   `minItems` / `maxItems`; `minProperties` / `maxProperties`. Each violation is one
//!   [`Violation`], with the field path and the server's wording.
//!
//! Not implemented: CEL rules (`x-kubernetes-validations`), `pattern`, `format`, `uniqueItems`,
//! `allOf` / `anyOf` / `oneOf` / `not`, list-type and map-type checks.

use serde_json::{Map, Value};

/// One schema violation, as a `StatusCause` of the server's Invalid error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The cause type: `FieldValueInvalid`, `FieldValueRequired`, `FieldValueNotSupported`,
    /// `FieldValueTooLong`, `FieldValueTooMany` or `FieldValueDuplicate`.
    pub reason: String,
    /// The field path (`spec.nodes[0].name`).
    pub field: String,
    /// The server's message (`Required value`, `Invalid value: ...`).
    pub message: String,
}

/// The violations found so far.
#[derive(Debug, Default)]
struct Causes(Vec<Violation>);

impl Causes {
    fn push(&mut self, reason: &str, field: &str, message: String) {
        self.0.push(Violation {
            reason: reason.to_owned(),
            field: field.to_owned(),
            message,
        });
    }
}

/// Root fields every object has, outside the schema's reach.
const ROOT_META: [&str; 3] = ["apiVersion", "kind", "metadata"];

/// Prunes unknown fields, drops or defaults non-nullable `null`s and applies defaults to
/// `body` (an object's top-level fields; `apiVersion`, `kind` and `metadata` are left alone),
/// as the server does when it decodes a request. `schema` is the CRD version's
/// `openAPIV3Schema`.
pub fn prune_and_default(schema: &Value, body: &mut Map<String, Value>) {
    prune_object(schema, body, &ROOT_META);
}

/// Drops the fields of an object node its schema does not name (except `keep`), then defaults
/// and prunes the named ones.
fn prune_object(schema: &Value, map: &mut Map<String, Value>, keep: &[&str]) {
    let properties = schema.get("properties").and_then(Value::as_object);
    let open = preserves_unknown(schema) || schema.get("additionalProperties").is_some_and(Value::is_object);
    let typed = properties.is_some() || schema.get("type").and_then(Value::as_str) == Some("object");
    if typed && !open {
        map.retain(|k, _| keep.contains(&k.as_str()) || properties.is_some_and(|p| p.contains_key(k)));
    }
    default_properties(schema, map);
}

fn preserves_unknown(schema: &Value) -> bool {
    let flag = |name: &str| schema.get(name).and_then(Value::as_bool).unwrap_or(false);
    flag("x-kubernetes-preserve-unknown-fields") || flag("x-kubernetes-embedded-resource")
}

fn nullable(schema: &Value) -> bool {
    schema.get("nullable").and_then(Value::as_bool).unwrap_or(false)
}

/// What the server does with a `null` under `schema`: None keeps it, Some(None) drops it,
/// Some(Some(default)) replaces it.
fn null_outcome(schema: &Value) -> Option<Option<&Value>> {
    (!nullable(schema)).then(|| schema.get("default"))
}

/// Defaults and prunes the children of an object node.
fn default_properties(schema: &Value, object: &mut Map<String, Value>) {
    let properties = schema.get("properties").and_then(Value::as_object);
    let additional = schema.get("additionalProperties").filter(|a| a.is_object());
    let mut dropped = Vec::new();
    for (name, value) in object.iter_mut() {
        let Some(sub) = properties.and_then(|p| p.get(name)).or(additional) else {
            continue;
        };
        match (value.is_null(), null_outcome(sub)) {
            (true, Some(Some(default))) => *value = default.clone(),
            (true, Some(None)) => dropped.push(name.clone()),
            _ => {}
        }
    }
    for name in dropped {
        object.remove(&name);
    }
    for (name, sub) in properties.into_iter().flatten() {
        if !object.contains_key(name)
            && let Some(default) = sub.get("default")
        {
            object.insert(name.clone(), default.clone());
        }
    }
    for (name, value) in object.iter_mut() {
        if let Some(sub) = properties.and_then(|p| p.get(name)).or(additional) {
            prune_value(sub, value);
        }
    }
}

fn prune_value(schema: &Value, value: &mut Value) {
    match value {
        Value::Object(map) => prune_object(schema, map, &[]),
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for item in items {
                    if item.is_null()
                        && let Some(Some(default)) = null_outcome(item_schema)
                    {
                        *item = default.clone();
                    }
                    prune_value(item_schema, item);
                }
            }
        }
        _ => {}
    }
}

/// Validates `body` (after [`prune_and_default`]) against the root schema: every violation,
/// in the order the fields are visited.
pub fn validate(schema: &Value, body: &Map<String, Value>) -> Vec<Violation> {
    let mut causes = Causes::default();
    validate_object(schema, body, "", &mut causes);
    causes.0
}

/// `path.name`, or `name` at the root.
fn child_path(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

fn required(schema: &Value) -> impl Iterator<Item = &str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A value as the server quotes it in a message: strings in quotes, the rest as JSON.
fn quoted(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        Value::Object(_) => "\"object\"".to_owned(),
        Value::Array(_) => "\"array\"".to_owned(),
        other => other.to_string(),
    }
}

/// An integer is also a number.
fn type_matches(expected: &str, value: &Value) -> bool {
    expected == type_name(value) || (expected == "number" && value.is_number())
}

fn validate_value(schema: &Value, value: &Value, path: &str, causes: &mut Causes) {
    let int_or_string = schema
        .get("x-kubernetes-int-or-string")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if value.is_null() {
        check_null(schema, path, causes);
        return;
    }
    if int_or_string {
        if !(type_matches("integer", value) || value.is_string()) {
            invalid(
                causes,
                path,
                &quoted(value),
                &format!("{path} in body must be of type integer,string: {}", quoted(value)),
            );
            return;
        }
    } else if let Some(expected) = schema.get("type").and_then(Value::as_str)
        && !type_matches(expected, value)
    {
        let shown = format!("\"{}\"", type_name(value));
        invalid(
            causes,
            path,
            &shown,
            &format!("{path} in body must be of type {expected}: {shown}"),
        );
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        let list: Vec<String> = allowed.iter().map(quoted).collect();
        causes.push(
            "FieldValueNotSupported",
            path,
            format!(
                "Unsupported value: {}: supported values: {}",
                quoted(value),
                list.join(", ")
            ),
        );
    }
    match value {
        Value::Number(n) => check_number(schema, n.as_f64().unwrap_or(0.0), value, path, causes),
        Value::String(text) => check_count(schema, Counted::Chars, text.chars().count(), path, causes),
        Value::Array(items) => {
            check_count(schema, Counted::Items, items.len(), path, causes);
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    validate_value(item_schema, item, &format!("{path}[{i}]"), causes);
                }
            }
            check_unique(schema, items, path, causes);
        }
        Value::Object(map) => validate_object(schema, map, path, causes),
        Value::Bool(_) | Value::Null => {}
    }
}

/// `x-kubernetes-list-type: set` items and `map` keys are unique: a repeat is a
/// `Duplicate value` at the repeated item (the value for a set, the key fields for a map).
fn check_unique(schema: &Value, items: &[Value], path: &str, causes: &mut Causes) {
    let keys: Vec<&str> = schema
        .get("x-kubernetes-list-map-keys")
        .and_then(Value::as_array)
        .map(|k| k.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let identity = |item: &Value| -> Value {
        match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
            Some("map") => Value::Object(
                keys.iter()
                    .filter_map(|k| Some(((*k).to_owned(), item.get(*k)?.clone())))
                    .collect(),
            ),
            _ => item.clone(),
        }
    };
    if !matches!(
        schema.get("x-kubernetes-list-type").and_then(Value::as_str),
        Some("set" | "map")
    ) {
        return;
    }
    let mut seen: Vec<Value> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let id = identity(item);
        if seen.contains(&id) {
            let shown = match &id {
                Value::Object(_) => id.to_string(),
                other => quoted(other),
            };
            causes.push(
                "FieldValueDuplicate",
                &format!("{path}[{i}]"),
                format!("Duplicate value: {shown}"),
            );
        } else {
            seen.push(id);
        }
    }
}

fn validate_object(schema: &Value, map: &Map<String, Value>, path: &str, causes: &mut Causes) {
    check_count(schema, Counted::Properties, map.len(), path, causes);
    for name in required(schema) {
        if !map.contains_key(name) {
            causes.push(
                "FieldValueRequired",
                &child_path(path, name),
                "Required value".to_owned(),
            );
        }
    }
    for (sub, value, name) in schema_fields(schema, map, path) {
        validate_value(sub, value, &child_path(path, name), causes);
    }
}

/// The members of `map` that `schema` describes (a property, or `additionalProperties`), with
/// their schemas; the root's `apiVersion`, `kind` and `metadata` are not the schema's to judge.
fn schema_fields<'a>(
    schema: &'a Value,
    map: &'a Map<String, Value>,
    path: &str,
) -> impl Iterator<Item = (&'a Value, &'a Value, &'a str)> {
    let properties = schema.get("properties").and_then(Value::as_object);
    let additional = schema.get("additionalProperties").filter(|a| a.is_object());
    let root = path.is_empty();
    map.iter()
        .filter(move |(name, _)| !(root && ROOT_META.contains(&name.as_str())))
        .filter_map(move |(name, value)| {
            let sub = properties.and_then(|p| p.get(name)).or(additional)?;
            Some((sub, value, name.as_str()))
        })
}

/// A `null` is the schema's type error unless the schema says `nullable`.
fn check_null(schema: &Value, path: &str, causes: &mut Causes) {
    if !schema.get("nullable").and_then(Value::as_bool).unwrap_or(false) {
        let expected = schema.get("type").and_then(Value::as_str).unwrap_or("object");
        invalid(
            causes,
            path,
            "\"null\"",
            &format!("{path} in body must be of type {expected}: \"null\""),
        );
    }
}

/// The `null`s of `body` that the schema does not allow, as [`validate`] reports them, and
/// nothing else: for a body that has not been through [`prune_and_default`] (an apply's merged
/// object, whose emptied fields are `null` and whose other checks wait for the decode).
pub fn null_violations(schema: &Value, body: &Map<String, Value>) -> Vec<Violation> {
    fn walk(schema: &Value, value: &Value, path: &str, causes: &mut Causes) {
        match value {
            Value::Null => check_null(schema, path, causes),
            Value::Array(items) => {
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        walk(item_schema, item, &format!("{path}[{i}]"), causes);
                    }
                }
            }
            Value::Object(map) => walk_object(schema, map, path, causes),
            _ => {}
        }
    }
    fn walk_object(schema: &Value, map: &Map<String, Value>, path: &str, causes: &mut Causes) {
        for (sub, value, name) in schema_fields(schema, map, path) {
            walk(sub, value, &child_path(path, name), causes);
        }
    }
    let mut causes = Causes::default();
    walk_object(schema, body, "", &mut causes);
    causes.0
}

fn invalid(causes: &mut Causes, path: &str, shown: &str, detail: &str) {
    causes.push("FieldValueInvalid", path, format!("Invalid value: {shown}: {detail}"));
}

fn check_number(schema: &Value, n: f64, value: &Value, path: &str, causes: &mut Causes) {
    for (bound, exclusive, lower) in [
        ("minimum", "exclusiveMinimum", true),
        ("maximum", "exclusiveMaximum", false),
    ] {
        let Some(limit) = schema.get(bound).filter(|l| l.is_number()) else {
            continue;
        };
        let l = limit.as_f64().unwrap_or(0.0);
        let strict = schema.get(exclusive).and_then(Value::as_bool).unwrap_or(false);
        let (bad, word) = match (lower, strict) {
            (true, true) => (n <= l, "greater than"),
            (true, false) => (n < l, "greater than or equal to"),
            (false, true) => (n >= l, "less than"),
            (false, false) => (n > l, "less than or equal to"),
        };
        if bad {
            invalid(
                causes,
                path,
                &value.to_string(),
                &format!("{path} in body should be {word} {limit}"),
            );
        }
    }
}

/// What a length limit counts.
#[derive(Clone, Copy)]
enum Counted {
    Chars,
    Items,
    Properties,
}

/// `minLength`/`maxLength`, `minItems`/`maxItems` or `minProperties`/`maxProperties`, with
/// the server's wording for each.
fn check_count(schema: &Value, counted: Counted, len: usize, path: &str, causes: &mut Causes) {
    let (min_key, max_key) = match counted {
        Counted::Chars => ("minLength", "maxLength"),
        Counted::Items => ("minItems", "maxItems"),
        Counted::Properties => ("minProperties", "maxProperties"),
    };
    let len = len as u64;
    if let Some(min) = schema.get(min_key).and_then(Value::as_u64)
        && len < min
    {
        let detail = match counted {
            Counted::Chars => format!("{path} in body should be at least {min} chars long"),
            Counted::Items => format!("{path} in body should have at least {min} items"),
            Counted::Properties => format!("{path} in body should have at least {min} properties"),
        };
        invalid(causes, path, &len.to_string(), &detail);
    }
    if let Some(max) = schema.get(max_key).and_then(Value::as_u64)
        && len > max
    {
        match counted {
            Counted::Chars => causes.push(
                "FieldValueTooLong",
                path,
                format!("Too long: may not be more than {max} bytes"),
            ),
            Counted::Items | Counted::Properties => causes.push(
                "FieldValueTooMany",
                path,
                format!("Too many: {len}: must have at most {max} items"),
            ),
        }
    }
}

/// The `openAPIV3Schema` of the first version of `K`'s CRD, as JSON: what
/// [`crate::reconcile::Operator::parent_schema`] returns for a `#[derive(CustomResource)]`
/// parent. None when the CRD carries no schema.
pub fn crd_schema_of<K: kube_core::CustomResourceExt>() -> Option<Value> {
    K::crd()
        .spec
        .versions
        .first()
        .and_then(|v| v.schema.as_ref())
        .and_then(|s| s.open_api_v3_schema.as_ref())
        .and_then(|s| serde_json::to_value(s).ok())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "required": ["image"],
                    "properties": {
                        "image": {"type": "string", "minLength": 1},
                        "replicas": {"type": "integer", "minimum": 0, "default": 1},
                        "mode": {"type": "string", "enum": ["a", "b"]},
                        "port": {"x-kubernetes-int-or-string": true},
                        "nodes": {"type": "array", "maxItems": 2, "items": {
                            "type": "object", "properties": {"name": {"type": "string"}, "size": {"type": "string", "default": "s"}}}},
                        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                    }
                },
                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
            }
        })
    }

    fn admit(body: Value) -> (Map<String, Value>, Vec<(String, String)>) {
        let mut body = body.as_object().cloned().unwrap_or_default();
        prune_and_default(&schema(), &mut body);
        let listed = validate(&schema(), &body)
            .into_iter()
            .map(|c| (c.field, c.message))
            .collect();
        (body, listed)
    }

    #[test]
    fn non_nullable_nulls_are_defaulted_or_dropped_nullable_ones_stay() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "replicas": {"type": "integer", "default": 1},
            "image": {"type": "string"},
            "note": {"type": "string", "nullable": true},
            "sizes": {"type": "array", "items": {"type": "string", "default": "s"}},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}});
        let mut body = json!({"spec": {"replicas": null, "image": null, "note": null,
            "sizes": ["m", null], "free": {"x": null}}})
        .as_object()
        .cloned()
        .unwrap_or_default();
        prune_and_default(&schema, &mut body);
        assert_eq!(
            Value::Object(body.clone()),
            json!({"spec": {"replicas": 1, "note": null, "sizes": ["m", "s"], "free": {"x": null}}})
        );
        assert_eq!(validate(&schema, &body), vec![]);
    }

    #[test]
    fn null_violations_report_only_the_nulls_the_schema_refuses() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object",
            "required": ["image"], "properties": {
            "replicas": {"type": "integer"},
            "note": {"type": "string", "nullable": true},
            "sizes": {"type": "array", "items": {"type": "string"}},
            "extra": {"type": "object"}}}}});
        let body = json!({"spec": {"replicas": "three", "note": null, "sizes": [null], "extra": null}})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let fields: Vec<String> = null_violations(&schema, &body).into_iter().map(|v| v.field).collect();
        // Not the wrong type of `replicas`, not the missing `image`, not the nullable `note`.
        assert_eq!(fields, ["spec.extra", "spec.sizes[0]"]);
        let spec_null = json!({"spec": null}).as_object().cloned().unwrap_or_default();
        let violations = null_violations(&schema, &spec_null);
        assert_eq!(violations.len(), 1);
        assert_eq!(
            violations[0].message,
            "Invalid value: \"null\": spec in body must be of type object: \"null\""
        );
    }

    #[test]
    fn int_or_string_accepts_both_and_nothing_else() {
        for port in [json!(8080), json!("http")] {
            let (body, causes) = admit(json!({"spec": {"image": "i", "port": port}}));
            assert!(causes.is_empty(), "{causes:?}");
            assert_eq!(body["spec"]["port"], port);
        }
        let (_, causes) = admit(json!({"spec": {"image": "i", "port": 1.5}}));
        assert_eq!(causes.len(), 1, "{causes:?}");
    }

    #[test]
    fn prunes_unknown_fields_and_applies_defaults_at_every_depth() {
        let (body, causes) = admit(json!({
            "apiVersion": "x.io/v1", "kind": "Widget", "metadata": {"name": "w"}, "extra": 1,
            "spec": {"image": "i", "unknown": true, "nodes": [{"name": "n", "junk": 1}],
                     "labels": {"a": "b"}, "free": {"anything": {"goes": 1}}},
            "status": {"whatever": 1}
        }));
        assert!(causes.is_empty(), "{causes:?}");
        assert_eq!(
            Value::Object(body),
            json!({"apiVersion": "x.io/v1", "kind": "Widget", "metadata": {"name": "w"},
                   "spec": {"image": "i", "replicas": 1, "nodes": [{"name": "n", "size": "s"}],
                            "labels": {"a": "b"}, "free": {"anything": {"goes": 1}}},
                   "status": {"whatever": 1}})
        );
    }

    #[test]
    fn every_violation_is_a_cause_with_its_path() {
        let (_, causes) = admit(json!({"spec": {
            "image": "", "replicas": -1, "mode": "c", "port": true,
            "nodes": [{"name": 1}, {}, {}], "labels": {"a": 2}
        }}));
        let fields: Vec<&str> = causes.iter().map(|(f, _)| f.as_str()).collect();
        for expected in [
            "spec.image",
            "spec.replicas",
            "spec.mode",
            "spec.port",
            "spec.nodes",
            "spec.nodes[0].name",
            "spec.labels.a",
        ] {
            assert!(fields.contains(&expected), "{expected} missing from {causes:?}");
        }
        let replicas = causes
            .iter()
            .find(|(f, _)| f == "spec.replicas")
            .map(|(_, m)| m.as_str());
        assert_eq!(
            replicas,
            Some("Invalid value: -1: spec.replicas in body should be greater than or equal to 0")
        );
    }

    #[test]
    fn required_and_type_errors_use_the_servers_words() {
        let (_, causes) = admit(json!({"spec": {"replicas": "three"}}));
        assert!(
            causes.contains(&("spec.image".into(), "Required value".into())),
            "{causes:?}"
        );
        assert!(
            causes.contains(&(
                "spec.replicas".into(),
                "Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\"".into()
            )),
            "{causes:?}"
        );
    }

    mod props {
        use proptest::prelude::*;
        use serde_json::{Map, Value};

        use super::super::*;
        use super::schema;

        fn any_json() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                "[a-z]{0,4}".prop_map(Value::from),
            ];
            leaf.prop_recursive(4, 32, 4, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                    prop::collection::btree_map(
                        prop_oneof![
                            Just("spec".to_owned()),
                            Just("image".to_owned()),
                            Just("replicas".to_owned()),
                            Just("nodes".to_owned()),
                            Just("labels".to_owned()),
                            "[a-z]{1,3}"
                        ],
                        inner,
                        0..4
                    )
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        proptest! {
            /// Pruning and defaulting are idempotent, and validation of any body returns
            /// (no panic), with every cause naming a field.
            #[test]
            fn admission_is_idempotent_and_total(spec in any_json(), extra in any_json()) {
                let mut body: Map<String, Value> = Map::new();
                body.insert("spec".into(), spec);
                body.insert("extra".into(), extra);
                prune_and_default(&schema(), &mut body);
                let once = body.clone();
                prune_and_default(&schema(), &mut body);
                prop_assert_eq!(&body, &once);
                prop_assert!(!body.contains_key("extra"));
                let causes = validate(&schema(), &body);
                prop_assert!(causes.iter().all(|c| !c.field.is_empty()), "{:?}", causes);
            }
        }
    }

    #[test]
    fn set_items_and_map_keys_are_unique() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
            "items": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                "items": {"type": "object", "properties": {"name": {"type": "string"}, "v": {"type": "integer"}}}},
            "plain": {"type": "array", "items": {"type": "string"}}}}}});
        let body = json!({"spec": {"tags": ["a", "b", "a"], "items": [{"name": "x", "v": 1}, {"name": "x", "v": 2}],
            "plain": ["a", "a"]}});
        let violations = validate(&schema, body.as_object().unwrap_or(&Map::new()));
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["spec.items[1]", "spec.tags[2]"], "{violations:?}");
        assert!(violations.iter().all(|v| v.message.starts_with("Duplicate value: ")));
    }
}
