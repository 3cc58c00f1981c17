//! The API server's name and label rules (apimachinery's `validation` package), in one place:
//! the builders ([`crate::builder::check_name`], [`crate::builder::check_label_value`]), the
//! label-selector parser ([`crate::selector`]) and the memory backend's object validation all
//! use these.
//!
//! Each `*_error` function returns `None` for a valid input, or why it is invalid; each `is_*`
//! function is the same check as a `bool`.

/// Longest DNS-1123 (and DNS-1035) label: the name of a Namespace or a Service, a label key's
/// name part.
pub const DNS1123_LABEL_MAX_LEN: usize = 63;
/// Longest DNS-1123 subdomain: most object names, a label key's prefix.
pub const DNS1123_SUBDOMAIN_MAX_LEN: usize = 253;
/// Longest label value.
pub const LABEL_VALUE_MAX_LEN: usize = 63;

fn is_lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?` without a length limit.
fn is_label_shape(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(&first), Some(&last)) => {
            is_lower_alnum(first) && is_lower_alnum(last) && b.iter().all(|&c| is_lower_alnum(c) || c == b'-')
        }
        _ => false,
    }
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]` without a length limit, non-empty.
fn is_name_token(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && b.iter()
                    .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// Why `s` is not a DNS-1123 label (`[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters).
pub fn dns1123_label_error(s: &str) -> Option<&'static str> {
    if s.len() > DNS1123_LABEL_MAX_LEN {
        return Some("must be no more than 63 characters");
    }
    if !s.bytes().all(|c| is_lower_alnum(c) || c == b'-') {
        return Some("may contain only lower-case letters, digits and '-'");
    }
    if !is_label_shape(s) {
        return Some("must start and end with a lower-case letter or digit");
    }
    None
}

/// Whether `s` is a DNS-1123 label.
pub fn is_dns1123_label(s: &str) -> bool {
    dns1123_label_error(s).is_none()
}

/// Why `s` is not a DNS-1035 label: a DNS-1123 label that starts with a letter.
pub fn dns1035_label_error(s: &str) -> Option<&'static str> {
    dns1123_label_error(s)
        .or_else(|| (!s.starts_with(|c: char| c.is_ascii_lowercase())).then_some("must start with a lower-case letter"))
}

/// Whether `s` is a DNS-1035 label.
pub fn is_dns1035_label(s: &str) -> bool {
    dns1035_label_error(s).is_none()
}

/// Why `s` is not a DNS-1123 subdomain: dot-separated parts of the label shape, at most 253
/// characters in all. Like Go's `IsDNS1123Subdomain`, a part is not limited to 63 characters
/// (only the whole name is).
pub fn dns1123_subdomain_error(s: &str) -> Option<&'static str> {
    if s.len() > DNS1123_SUBDOMAIN_MAX_LEN {
        return Some("must be no more than 253 characters");
    }
    if !s.bytes().all(|c| is_lower_alnum(c) || c == b'-' || c == b'.') {
        return Some("may contain only lower-case letters, digits, '-' and '.'");
    }
    let b = s.as_bytes();
    if !b.first().is_some_and(|&c| is_lower_alnum(c)) || !b.last().is_some_and(|&c| is_lower_alnum(c)) {
        return Some("must start and end with a lower-case letter or digit");
    }
    if !s.split('.').all(is_label_shape) {
        return Some("every dot-separated part must start and end with a letter or digit");
    }
    None
}

/// Whether `s` is a DNS-1123 subdomain.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    dns1123_subdomain_error(s).is_none()
}

/// Why `s` is not a qualified name (a label or annotation key): an optional DNS-1123
/// subdomain prefix and `/`, then a name part of at most 63 characters made of alphanumerics,
/// `-`, `_` and `.`, starting and ending with an alphanumeric.
pub fn qualified_name_error(s: &str) -> Option<&'static str> {
    let name = match s.split_once('/') {
        Some((prefix, name)) => {
            if prefix.is_empty() || prefix.len() > DNS1123_SUBDOMAIN_MAX_LEN {
                return Some("the prefix must be a DNS subdomain of 1 to 253 characters");
            }
            if !is_dns1123_subdomain(prefix) {
                return Some("the prefix must be a lower-case DNS subdomain");
            }
            name
        }
        None => s,
    };
    if name.is_empty() {
        return Some("the name part must not be empty");
    }
    if name.len() > DNS1123_LABEL_MAX_LEN {
        return Some("the name part must be at most 63 characters");
    }
    if !is_name_token(name) {
        return Some("the name part must be alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric");
    }
    None
}

/// Whether `s` is a qualified name.
pub fn is_qualified_name(s: &str) -> bool {
    qualified_name_error(s).is_none()
}

/// Why `s` is not a label value: empty, or at most 63 characters of alphanumerics, `-`, `_`
/// and `.`, starting and ending with an alphanumeric.
pub fn label_value_error(s: &str) -> Option<&'static str> {
    if s.len() > LABEL_VALUE_MAX_LEN {
        return Some("must be at most 63 characters");
    }
    if s.is_empty() || is_name_token(s) {
        return None;
    }
    let b = s.as_bytes();
    if !b
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
    {
        return Some("may contain only letters, digits, '-', '_' and '.'");
    }
    Some("must start and end with a letter or digit")
}

/// Whether `s` is a label value.
pub fn is_label_value(s: &str) -> bool {
    label_value_error(s).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_subdomains() {
        assert!(is_dns1123_label("a-1") && is_dns1123_label("1a"));
        for bad in ["", "-a", "a-", "A", "a.b", "a_b", &"a".repeat(64)] {
            assert!(!is_dns1123_label(bad), "{bad:?}");
        }
        assert!(is_dns1035_label("a1") && !is_dns1035_label("1a"));
        assert!(is_dns1123_subdomain("a.b-c.d") && is_dns1123_subdomain(&"a".repeat(253)));
        for bad in ["", ".a", "a.", "a..b", "a.-b", "A.b", &"a".repeat(254)] {
            assert!(!is_dns1123_subdomain(bad), "{bad:?}");
        }
        // A part longer than 63 characters is fine in a subdomain, as in Go.
        assert!(is_dns1123_subdomain(&format!("{}.b", "a".repeat(70))));
    }

    #[test]
    fn qualified_names_and_label_values() {
        for good in ["a", "A_b.c-D", "example.com/x", "k8s.io/Name_1"] {
            assert!(is_qualified_name(good), "{good:?}");
        }
        for bad in ["", "/a", "a/", "Ex.com/a", "a/b/c", "-a", "a b", &"a".repeat(64)] {
            assert!(!is_qualified_name(bad), "{bad:?}");
        }
        assert!(is_label_value("") && is_label_value("My_app.1") && is_label_value(&"a".repeat(63)));
        assert_eq!(
            label_value_error("-a"),
            Some("must start and end with a letter or digit")
        );
        assert_eq!(
            label_value_error("a/b"),
            Some("may contain only letters, digits, '-', '_' and '.'")
        );
        assert_eq!(
            label_value_error(&"a".repeat(64)),
            Some("must be at most 63 characters")
        );
    }
}
