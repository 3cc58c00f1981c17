//! JSON helpers that read a field the way Go's decoder sees it: an absent key, `null`, and the
//! zero value (`""`, `0`, `[]`, `{}` for `omitempty` fields) are all "unset", which is what the
//! `SetDefaults_*` functions test with `== ""`, `== nil`, `== 0` or `len(..) == 0`.

use serde_json::{Map, Value};

/// A JSON object.
pub(crate) type Obj = Map<String, Value>;

/// Whether `key` holds the zero value of its Go type (or nothing).
pub(crate) fn is_unset(map: &Obj, key: &str) -> bool {
    match map.get(key) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Number(n)) => n.as_i64() == Some(0) || n.as_u64() == Some(0),
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
        Some(Value::Bool(b)) => !b,
    }
}

/// Whether a Go pointer field is nil (absent or `null`); a pointer to a zero value is set.
pub(crate) fn is_nil(map: &Obj, key: &str) -> bool {
    matches!(map.get(key), None | Some(Value::Null))
}

/// Sets `key` to `value` when it holds a zero value (Go: `if x == "" { x = v }`).
pub(crate) fn default_unset(map: &mut Obj, key: &str, value: Value) {
    if is_unset(map, key) {
        map.insert(key.to_owned(), value);
    }
}

/// Sets `key` to `value` when it is nil (Go: `if x == nil { x = &v }`).
pub(crate) fn default_nil(map: &mut Obj, key: &str, value: Value) {
    if is_nil(map, key) {
        map.insert(key.to_owned(), value);
    }
}

/// The object under `key`, created empty when absent or `null` (a Go struct field that always
/// exists, or a pointer the defaulter allocates). `None` when the key holds a non-object,
/// which validation rejects later.
pub(crate) fn object_mut<'a>(map: &'a mut Obj, key: &str) -> Option<&'a mut Obj> {
    if is_nil(map, key) {
        map.insert(key.to_owned(), Value::Object(Obj::new()));
    }
    map.get_mut(key).and_then(Value::as_object_mut)
}

/// The object under `key` if one is there (a Go pointer the defaulter only follows).
pub(crate) fn present_mut<'a>(map: &'a mut Obj, key: &str) -> Option<&'a mut Obj> {
    map.get_mut(key).and_then(Value::as_object_mut)
}

/// Each object in the list under `key` (non-objects are skipped for validation to report).
pub(crate) fn each_mut<'a>(map: &'a mut Obj, key: &str) -> impl Iterator<Item = &'a mut Obj> {
    map.get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

/// The string under `key`, "" when absent or not a string.
pub(crate) fn str_of<'a>(map: &'a Obj, key: &str) -> &'a str {
    map.get(key).and_then(Value::as_str).unwrap_or("")
}
