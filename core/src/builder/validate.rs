//! Name and label-value checks, so that a bad name fails in the builder with a typed error
//! instead of as a 422 from the API server halfway through a rollout.

use super::error::BuildError;
use crate::model::TypeRef;

/// Longest object name the API server accepts (a DNS-1123 subdomain).
pub const MAX_NAME_LEN: usize = 253;
/// Longest name for kinds whose name must be a DNS label (Service, Namespace).
pub const MAX_LABEL_NAME_LEN: usize = 63;
/// Longest label value.
pub const MAX_LABEL_VALUE_LEN: usize = 63;

/// Checks `name` against the rules of `kind`: Services need a DNS-1035 label, Namespaces a
/// DNS-1123 label, everything else a DNS-1123 subdomain.
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
    let invalid = |reason: &str| BuildError::InvalidName {
        kind: kind.clone(),
        name: name.to_owned(),
        reason: reason.to_owned(),
    };
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !name.starts_with(alnum) || !name.ends_with(alnum) {
        return Err(invalid("must start and end with a lower-case letter or digit"));
    }
    if label_kind {
        if !name.chars().all(|c| alnum(c) || c == '-') {
            return Err(invalid("may contain only lower-case letters, digits and '-'"));
        }
        if kind.kind == "Service" && !name.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(invalid("a Service name must start with a letter"));
        }
    } else {
        if !name.chars().all(|c| alnum(c) || c == '-' || c == '.') {
            return Err(invalid("may contain only lower-case letters, digits, '-' and '.'"));
        }
        if name
            .split('.')
            .any(|part| !part.starts_with(alnum) || !part.ends_with(alnum))
        {
            return Err(invalid(
                "every dot-separated part must start and end with a letter or digit",
            ));
        }
    }
    Ok(())
}

/// Checks a label value: at most 63 characters, empty or starting and ending with an
/// alphanumeric character, with `-`, `_` and `.` in between.
pub fn check_label_value(key: &str, value: &str) -> Result<(), BuildError> {
    let invalid = |reason: &str| BuildError::InvalidLabelValue {
        key: key.to_owned(),
        value: value.to_owned(),
        reason: reason.to_owned(),
    };
    if value.len() > MAX_LABEL_VALUE_LEN {
        return Err(invalid("longer than 63 characters"));
    }
    if value.is_empty() {
        return Ok(());
    }
    let alnum = |c: char| c.is_ascii_alphanumeric();
    if !value.starts_with(alnum) || !value.ends_with(alnum) {
        return Err(invalid("must start and end with a letter or digit"));
    }
    if !value.chars().all(|c| alnum(c) || matches!(c, '-' | '_' | '.')) {
        return Err(invalid("may contain only letters, digits, '-', '_' and '.'"));
    }
    Ok(())
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
