//! resourceVersion helpers.
//!
//! The API contract says resourceVersions are opaque and may only be compared for equality.
//! Checklist items that talk about order (two creates get strictly increasing versions, watch
//! events arrive in version order) need more than that, so this suite makes one documented
//! assumption: **every backend it runs against encodes the resourceVersion as the decimal
//! global revision** (etcd's `mod_revision` on a real kube-apiserver, the global write counter
//! on the memory backend). Ordering is only ever checked through [`revision`], never through
//! [`operator_runtime_core::Capabilities`], so a backend that breaks the assumption fails
//! loudly with a parse error instead of being silently skipped.

use operator_runtime_core::Object;

/// Parses a resourceVersion as the decimal global revision (see the module docs).
pub fn revision(resource_version: &str) -> Result<u64, String> {
    resource_version
        .parse::<u64>()
        .map_err(|_| format!("resourceVersion {resource_version:?} is not a decimal revision"))
}

/// The object's resourceVersion, which must be set and non-empty.
pub fn rv_of(object: &Object) -> Result<String, String> {
    match object.resource_version() {
        Some(rv) if !rv.is_empty() => Ok(rv.to_owned()),
        _ => Err(format!("{} has no resourceVersion", object.object_ref())),
    }
}

/// The object's resourceVersion parsed as a revision.
pub fn revision_of(object: &Object) -> Result<u64, String> {
    revision(&rv_of(object)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_revisions_parse_and_others_are_reported() {
        assert_eq!(revision("12345"), Ok(12345));
        assert!(revision("").is_err());
        assert!(revision("abc").unwrap_err().contains("abc"));
        assert!(revision("-1").is_err());
    }

    #[test]
    fn rv_of_requires_a_non_empty_version() {
        let mut o = Object::default();
        assert!(rv_of(&o).is_err());
        o.metadata.resource_version = Some(String::new());
        assert!(rv_of(&o).is_err());
        o.metadata.resource_version = Some("7".into());
        assert_eq!(revision_of(&o), Ok(7));
    }
}
