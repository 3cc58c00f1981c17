//! The storage size limit: etcd rejects values over 1.5 MiB (`--max-request-bytes`), and the
//! API server reports that as 413 Request Entity Too Large.

use std::io;

use operator_runtime_core::{Object, StoreError};
use serde_json::Value;

/// etcd's default request limit.
pub(crate) const MAX_OBJECT_BYTES: usize = 1536 * 1024;

/// A writer that only counts, so the size check never allocates the serialized form.
struct Counter(usize);

impl io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Serialized size of an object in bytes.
pub(crate) fn serialized_size(object: &Object) -> usize {
    let mut counter = Counter(0);
    // Serializing an `Object` into a counter cannot fail (string keys, no I/O).
    match serde_json::to_writer(&mut counter, object) {
        Ok(()) => counter.0,
        Err(_) => usize::MAX,
    }
}

/// Worst-case serialized length of a string: every byte escaped as `\u00XX`, plus quotes.
fn str_bound(s: &str) -> usize {
    6 * s.len() + 3
}

/// An upper bound on a value's serialized size, computed without serializing.
fn value_bound(v: &Value) -> usize {
    match v {
        Value::Null | Value::Bool(_) => 6,
        Value::Number(_) => 26,
        Value::String(s) => str_bound(s),
        Value::Array(a) => 2 + a.iter().map(|x| value_bound(x) + 1).sum::<usize>(),
        Value::Object(m) => 2 + m.iter().map(|(k, x)| str_bound(k) + value_bound(x) + 2).sum::<usize>(),
    }
}

fn opt(s: Option<&String>) -> usize {
    s.map_or(0, |s| str_bound(s) + 32)
}

/// An upper bound on an object's serialized size.
fn object_bound(object: &Object) -> usize {
    let m = &object.metadata;
    let map = |x: Option<&std::collections::BTreeMap<String, String>>| {
        x.into_iter()
            .flatten()
            .map(|(k, v)| str_bound(k) + str_bound(v) + 2)
            .sum::<usize>()
    };
    // Fixed room for punctuation, field names, timestamps and numbers.
    512 + str_bound(&object.api_version)
        + str_bound(&object.kind)
        + opt(m.name.as_ref())
        + opt(m.namespace.as_ref())
        + opt(m.generate_name.as_ref())
        + opt(m.uid.as_ref())
        + opt(m.resource_version.as_ref())
        + opt(m.self_link.as_ref())
        + map(m.labels.as_ref())
        + map(m.annotations.as_ref())
        + m.finalizers.iter().flatten().map(|f| str_bound(f) + 1).sum::<usize>()
        + m.owner_references
            .iter()
            .flatten()
            .map(|r| str_bound(&r.api_version) + str_bound(&r.kind) + str_bound(&r.name) + str_bound(&r.uid) + 128)
            .sum::<usize>()
        + m.managed_fields
            .iter()
            .flatten()
            .map(|e| {
                256 + opt(e.manager.as_ref())
                    + opt(e.api_version.as_ref())
                    + opt(e.operation.as_ref())
                    + opt(e.subresource.as_ref())
                    + opt(e.fields_type.as_ref())
                    + e.fields_v1.as_ref().map_or(0, |f| value_bound(&f.0))
            })
            .sum::<usize>()
        + object
            .body
            .iter()
            .map(|(k, v)| str_bound(k) + value_bound(v) + 2)
            .sum::<usize>()
}

/// An approximation of the heap memory an object holds (strings, the JSON body's maps and
/// arrays, managedFields), for the watch history's byte bound: not exact, but proportional to
/// what keeping the object costs, and computed without allocating.
pub(crate) fn approx_heap_bytes(object: &Object) -> usize {
    fn value(v: &Value) -> usize {
        // A `Value` is 32 bytes inline; a string adds its bytes, a map entry its key and a
        // share of the B-tree node, an array element its slot.
        match v {
            Value::Null | Value::Bool(_) | Value::Number(_) => 32,
            Value::String(s) => 32 + s.len(),
            Value::Array(a) => 32 + a.iter().map(value).sum::<usize>(),
            Value::Object(m) => 32 + m.iter().map(|(k, x)| 24 + k.len() + value(x)).sum::<usize>(),
        }
    }
    let strings = |m: Option<&std::collections::BTreeMap<String, String>>| {
        m.into_iter()
            .flatten()
            .map(|(k, v)| 48 + k.len() + v.len())
            .sum::<usize>()
    };
    let m = &object.metadata;
    512 + strings(m.labels.as_ref())
        + strings(m.annotations.as_ref())
        + m.managed_fields
            .iter()
            .flatten()
            .map(|e| 256 + e.fields_v1.as_ref().map_or(0, |f| value(&f.0)))
            .sum::<usize>()
        + object.body.iter().map(|(k, v)| 24 + k.len() + value(v)).sum::<usize>()
}

/// 413 when the object is over the limit. Serializes only when a cheap upper bound says the
/// object might be too large, so ordinary writes never pay for serialization.
pub(crate) fn check_size(object: &Object) -> Result<(), StoreError> {
    if object_bound(object) <= MAX_OBJECT_BYTES {
        return Ok(());
    }
    let size = serialized_size(object);
    if size > MAX_OBJECT_BYTES {
        return Err(StoreError::TooLarge {
            message: format!("etcdserver: request is too large ({size} bytes, limit {MAX_OBJECT_BYTES})"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use operator_runtime_core::TypeRef;

    #[test]
    fn objects_over_one_and_a_half_mib_are_too_large() {
        let small = Object::new(&TypeRef::new("v1", "ConfigMap"), Some("ns"), "a");
        assert!(check_size(&small).is_ok());
        let big = small
            .clone()
            .with("data", serde_json::json!({"k": "x".repeat(MAX_OBJECT_BYTES)}));
        assert!(matches!(check_size(&big), Err(StoreError::TooLarge { .. })));
        // Just under the limit in bytes but over the cheap bound: the exact size decides.
        let near = small
            .clone()
            .with("data", serde_json::json!({"k": "x".repeat(MAX_OBJECT_BYTES - 400)}));
        assert!(object_bound(&near) > MAX_OBJECT_BYTES);
        assert!(check_size(&near).is_ok());
    }

    #[test]
    fn bound_is_never_below_the_real_size() {
        let mut o = Object::new(&TypeRef::new("v1", "ConfigMap"), Some("ns"), "a").with(
            "data",
            serde_json::json!({"k": "\u{1}\"\\", "n": [1.5e300, null, true, {"x": {}}]}),
        );
        o.metadata.labels = Some([("a".to_string(), "b".to_string())].into());
        o.metadata.finalizers = Some(vec!["x/y".into()]);
        assert!(object_bound(&o) >= serialized_size(&o));
    }
}
