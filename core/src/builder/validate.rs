//! Name and label-value checks, so that a bad name fails in the builder with a typed error
//! instead of as a 422 from the API server halfway through a rollout.

use super::error::BuildError;
use crate::model::TypeRef;
use crate::validation;

/// Longest object name the API server accepts (a DNS-1123 subdomain).
pub const MAX_NAME_LEN: usize = validation::DNS1123_SUBDOMAIN_MAX_LEN;
/// Longest name for kinds whose name must be a DNS label (Service, Namespace).
pub const MAX_LABEL_NAME_LEN: usize = validation::DNS1123_LABEL_MAX_LEN;
/// Longest label value.
pub const MAX_LABEL_VALUE_LEN: usize = validation::LABEL_VALUE_MAX_LEN;

/// Checks `name` against the rules of `kind`: Services need a DNS-1035 label, Namespaces a
/// DNS-1123 label, everything else a DNS-1123 subdomain (the rules of
/// [`crate::validation`]).
pub fn check_name(kind: &TypeRef, name: &str) -> Result<(), BuildError> {
    let label_kind = kind.group().is_empty() && matches!(kind.kind.as_str(), "Service" | "Namespace");
    let max = if label_kind { MAX_LABEL_NAME_LEN } else { MAX_NAME_LEN };
    if name.len() > max {
        return Err(BuildError::NameTooLong {
            kind: kind.clone(),
            name: name.to_owned(),
            len: name.len(),
            max,
        });
    }
    let reason = if !label_kind {
        validation::dns1123_subdomain_error(name)
    } else if kind.kind == "Service" {
        validation::dns1035_label_error(name)
    } else {
        validation::dns1123_label_error(name)
    };
    match reason {
        None => Ok(()),
        Some(reason) => Err(BuildError::InvalidName {
            kind: kind.clone(),
            name: name.to_owned(),
            reason: reason.to_owned(),
        }),
    }
}

/// Checks a label value: at most 63 characters, empty or starting and ending with an
/// alphanumeric character, with `-`, `_` and `.` in between.
pub fn check_label_value(key: &str, value: &str) -> Result<(), BuildError> {
    match validation::label_value_error(value) {
        None => Ok(()),
        Some(reason) => Err(BuildError::InvalidLabelValue {
            key: key.to_owned(),
            value: value.to_owned(),
            reason: reason.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let cm = TypeRef::new("v1", "ConfigMap");
        let svc = TypeRef::new("v1", "Service");
        assert!(check_name(&cm, "a.b-c").is_ok());
        assert!(matches!(check_name(&cm, "A"), Err(BuildError::InvalidName { .. })));
        assert!(matches!(check_name(&cm, "a..b"), Err(BuildError::InvalidName { .. })));
        assert!(matches!(
            check_name(&cm, &"a".repeat(254)),
            Err(BuildError::NameTooLong { max: 253, .. })
        ));
        assert!(matches!(
            check_name(&svc, &"a".repeat(64)),
            Err(BuildError::NameTooLong { max: 63, .. })
        ));
        assert!(matches!(check_name(&svc, "a.b"), Err(BuildError::InvalidName { .. })));
        assert!(matches!(check_name(&svc, "1a"), Err(BuildError::InvalidName { .. })));
        assert!(check_name(&cm, "1a").is_ok());
    }

    #[test]
    fn label_values() {
        assert!(check_label_value("k", "").is_ok());
        assert!(check_label_value("k", "My_app.1").is_ok());
        assert!(check_label_value("k", "-a").is_err());
        assert!(check_label_value("k", "a/b").is_err());
        assert!(check_label_value("k", &"a".repeat(64)).is_err());
    }
}
