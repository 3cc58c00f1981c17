//! The storage size limit: etcd rejects values over 1.5 MiB (`--max-request-bytes`), and the
//! API server reports that as 413 Request Entity Too Large.

use std::io;

use operator_runtime_core::{Object, StoreError};

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

/// 413 when the object is over the limit.
pub(crate) fn check_size(object: &Object) -> Result<(), StoreError> {
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
        let big = small.with("data", serde_json::json!({"k": "x".repeat(MAX_OBJECT_BYTES)}));
        assert!(matches!(check_size(&big), Err(StoreError::TooLarge { .. })));
    }
}
