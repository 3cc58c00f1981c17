//! Object-metadata validation as `ValidateObjectMeta` does it: names, label keys and values,
//! annotation keys, ownerReferences and finalizer names. Every failure is a 422 Invalid with
//! one cause per offending field, and nothing is written. The name and label rules themselves
//! are core's ([`operator_runtime_core::validation`]), shared with the builders and the
//! selector parser.

use operator_runtime_core::validation::{is_dns1123_label, is_dns1123_subdomain, is_label_value, is_qualified_name};
use operator_runtime_core::{Object, StatusCause, StoreError};

/// Which validation rule applies to `metadata.name` (chosen by the kind's strategy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NameRule {
    /// DNS-1123 subdomain (most kinds, custom resources).
    Subdomain,
    /// DNS-1123 label (Namespace, StatefulSet, and Service since KEP-5311).
    Label,
    /// A path segment (`ValidatePathSegmentName`: the RBAC kinds, PodDisruptionBudget): anything but `.` and `..`
    /// without `/` or `%`.
    PathSegment,
}

/// Total size of all annotations (keys + values), as `ValidateAnnotationsSize`.
const ANNOTATIONS_MAX_BYTES: usize = 256 * 1024;

/// Checks a name against a kind's rule; returns the message on failure.
pub(crate) fn name_error(name: &str, rule: NameRule) -> Option<String> {
    let ok = match rule {
        NameRule::Subdomain => is_dns1123_subdomain(name),
        NameRule::Label => is_dns1123_label(name),
        NameRule::PathSegment => return path_segment_error(name),
    };
    (!ok).then(|| match rule {
        NameRule::Label => "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character".to_owned(),
        _ => "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character".to_owned(),
    })
}

/// `IsValidPathSegmentName`'s messages, joined.
fn path_segment_error(name: &str) -> Option<String> {
    if name == "." || name == ".." {
        return Some(format!("may not be '{name}'"));
    }
    let found: Vec<String> = ["/", "%"]
        .iter()
        .filter(|c| name.contains(**c))
        .map(|c| format!("may not contain '{c}'"))
        .collect();
    (!found.is_empty()).then(|| found.join(", "))
}

/// Collects causes and turns them into one Invalid error.
#[derive(Default)]
pub(crate) struct Causes(Vec<StatusCause>);

impl Causes {
    /// Whether no cause was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds an invalid-value cause.
    pub fn invalid(&mut self, field: &str, value: &str, detail: &str) {
        self.0.push(StatusCause::new(
            "FieldValueInvalid",
            field,
            format!("Invalid value: \"{value}\": {detail}"),
        ));
    }
    /// Adds a required-value cause (Go prints no detail separator when the detail is empty).
    pub fn required(&mut self, field: &str, detail: &str) {
        let message = if detail.is_empty() {
            "Required value".to_owned()
        } else {
            format!("Required value: {detail}")
        };
        self.0.push(StatusCause::new("FieldValueRequired", field, message));
    }
    /// Adds a cause as it is (reason, field path, full message).
    pub fn push(&mut self, reason: &str, field: &str, message: String) {
        self.0.push(StatusCause::new(reason, field, message));
    }
    /// Appends the causes of a nested check (collected apart to see whether it failed).
    pub fn extend(&mut self, other: Causes) {
        self.0.extend(other.0);
    }
    /// Adds a forbidden cause.
    pub fn forbidden(&mut self, field: &str, detail: &str) {
        self.0.push(StatusCause::new(
            "FieldValueForbidden",
            field,
            format!("Forbidden: {detail}"),
        ));
    }
    /// The Invalid error for causes known to be non-empty.
    pub fn fail<T>(self, kind: &str, name: &str) -> Result<T, StoreError> {
        self.into_result(kind, name)?;
        Err(StoreError::invalid("metadata", "invalid object"))
    }
    /// Ok when empty, else an Invalid error naming the object.
    pub fn into_result(self, kind: &str, name: &str) -> Result<(), StoreError> {
        if self.0.is_empty() {
            return Ok(());
        }
        let details: Vec<String> = self.0.iter().map(|c| format!("{}: {}", c.field, c.message)).collect();
        Err(StoreError::Invalid {
            message: format!("{kind} \"{name}\" is invalid: [{}]", details.join(", ")),
            causes: self.0,
        })
    }
}

/// Validates labels, annotations, ownerReferences and finalizers of an object about to be
/// written (create or update).
pub(crate) fn validate_meta(object: &Object, causes: &mut Causes) {
    let meta = &object.metadata;
    for (key, value) in meta.labels.iter().flatten() {
        if !is_qualified_name(key) {
            causes.invalid("metadata.labels", key, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
        }
        if !is_label_value(value) {
            causes.invalid(
                &format!("metadata.labels.{key}"),
                value,
                "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
            );
        }
    }
    let mut annotations_size = 0;
    for (key, value) in meta.annotations.iter().flatten() {
        annotations_size += key.len() + value.len();
        if !is_qualified_name(&key.to_ascii_lowercase()) {
            causes.invalid(
                "metadata.annotations",
                key,
                "name part must consist of alphanumeric characters, '-', '_' or '.'",
            );
        }
    }
    if annotations_size > ANNOTATIONS_MAX_BYTES {
        causes.push_too_long("metadata.annotations", ANNOTATIONS_MAX_BYTES);
    }
    let mut controllers = 0;
    for (i, owner) in meta.owner_references.iter().flatten().enumerate() {
        let field = format!("metadata.ownerReferences[{i}]");
        for (name, value) in [
            ("apiVersion", &owner.api_version),
            ("kind", &owner.kind),
            ("name", &owner.name),
            ("uid", &owner.uid),
        ] {
            if value.is_empty() {
                causes.invalid(&format!("{field}.{name}"), value, &format!("{name} must not be empty"));
            }
        }
        if owner.controller == Some(true) {
            controllers += 1;
        }
    }
    if controllers > 1 {
        causes.invalid(
            "metadata.ownerReferences",
            &controllers.to_string(),
            "Only one reference can have Controller set to true",
        );
    }
    for (i, finalizer) in meta.finalizers.iter().flatten().enumerate() {
        if !is_qualified_name(finalizer) {
            causes.invalid(
                &format!("metadata.finalizers[{i}]"),
                finalizer,
                "a finalizer name must be a qualified name",
            );
        }
    }
}

impl Causes {
    fn push_too_long(&mut self, field: &str, max: usize) {
        self.0.push(StatusCause::new(
            "FieldValueTooLong",
            field,
            format!("Too long: must have at most {max} bytes"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use operator_runtime_core::TypeRef;
    use operator_runtime_core::model::OwnerReference;

    #[test]
    fn names() {
        assert!(is_dns1123_subdomain("a.b-c.d0"));
        for bad in ["", "A", "a_b", "-a", "a-", "a..b", &"a".repeat(254)] {
            assert!(!is_dns1123_subdomain(bad), "{bad}");
        }
        assert!(is_dns1123_label("kube-system") && !is_dns1123_label("a.b"));
        assert!(name_error("Bad", NameRule::Subdomain).is_some());
        assert_eq!(name_error("Upper_role:x", NameRule::PathSegment), None);
        assert_eq!(
            name_error("..", NameRule::PathSegment).as_deref(),
            Some("may not be '..'")
        );
        assert_eq!(
            name_error("a/b%", NameRule::PathSegment).as_deref(),
            Some("may not contain '/', may not contain '%'")
        );
    }

    #[test]
    fn label_keys_and_values() {
        assert!(is_qualified_name("app.kubernetes.io/name") && is_qualified_name("A_b.c"));
        for bad in ["", "/a", "a/", "Bad.Prefix/x", "-a", &"a".repeat(64)] {
            assert!(!is_qualified_name(bad), "{bad}");
        }
        assert!(is_label_value("") && is_label_value("v1.2_x") && !is_label_value("a b") && !is_label_value("-a"));
    }

    #[test]
    fn owner_references_and_labels_are_checked() {
        let mut obj = Object::new(&TypeRef::new("v1", "ConfigMap"), Some("ns"), "a");
        let owner = OwnerReference {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: "o".into(),
            uid: "u".into(),
            controller: Some(true),
            ..Default::default()
        };
        obj.metadata.owner_references = Some(vec![owner.clone(), owner.clone()]);
        let mut causes = Causes::default();
        validate_meta(&obj, &mut causes);
        assert!(matches!(
            causes.into_result("ConfigMap", "a"),
            Err(StoreError::Invalid { .. })
        ));

        obj.metadata.owner_references = Some(vec![OwnerReference {
            uid: String::new(),
            ..owner
        }]);
        let mut causes = Causes::default();
        validate_meta(&obj, &mut causes);
        let err = causes.into_result("ConfigMap", "a").unwrap_err();
        assert_eq!(err.causes()[0].field, "metadata.ownerReferences[0].uid");

        obj.metadata.owner_references = None;
        obj.metadata.labels = Some([("ok".to_string(), "not ok!".to_string())].into());
        let mut causes = Causes::default();
        validate_meta(&obj, &mut causes);
        assert!(causes.into_result("ConfigMap", "a").is_err());
    }
}
