//! Field selectors per kind: which labels a kind accepts (its field-label conversion function
//! in `pkg/apis/<group>/<version>/conversion.go`, or `DefaultMetaV1FieldSelectorConversion`)
//! and the value of a label on an object (`ToSelectableFields` of its strategy).

use std::borrow::Cow;

use operator_runtime_core::{Object, StoreError};
use serde_json::Value;

/// The field selectors a kind accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FieldLabels {
    /// `metadata.name` and `metadata.namespace` (kinds without a conversion function, custom
    /// resources without `selectableFields`).
    Default,
    /// Exactly these labels; others are "field label not supported: <label>".
    Only(&'static [&'static str]),
    /// Exactly these labels; others are `field label "<label>" not supported for <kind>` (the
    /// batch group words it so).
    OnlyFor(&'static str, &'static [&'static str]),
}

/// Field labels of core/v1 Pod.
pub(crate) const POD: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.podIPs",
    "status.nominatedNodeName",
    "spec.host",
];
/// Field labels of core/v1 Secret.
pub(crate) const SECRET: &[&str] = &["metadata.name", "metadata.namespace", "type"];
/// Field labels of core/v1 Service.
pub(crate) const SERVICE: &[&str] = &["metadata.name", "metadata.namespace", "spec.clusterIP", "spec.type"];
/// Field labels of core/v1 Namespace (cluster-scoped: no `metadata.namespace`).
pub(crate) const NAMESPACE: &[&str] = &["metadata.name", "status.phase"];
/// Field labels of core/v1 Event.
pub(crate) const CORE_EVENT: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
];
/// Field labels of events.k8s.io/v1 Event.
pub(crate) const EVENTS_EVENT: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "regarding.kind",
    "regarding.namespace",
    "regarding.name",
    "regarding.uid",
    "regarding.apiVersion",
    "regarding.resourceVersion",
    "regarding.fieldPath",
    "reason",
    "reportingController",
    "type",
];
/// Field labels of batch/v1 Job.
pub(crate) const JOB: &[&str] = &["metadata.name", "metadata.namespace", "status.successful"];

impl FieldLabels {
    /// Checks a label (400 BadRequest, worded as the server, when the kind does not accept it).
    pub(crate) fn check(&self, label: &str) -> Result<(), StoreError> {
        let ok = match self {
            Self::Default => matches!(label, "metadata.name" | "metadata.namespace"),
            Self::Only(labels) | Self::OnlyFor(_, labels) => labels.contains(&label),
        };
        if ok {
            return Ok(());
        }
        Err(StoreError::bad_request(match self {
            Self::Default => {
                format!("\"{label}\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"")
            }
            Self::Only(_) => format!("field label not supported: {label}"),
            Self::OnlyFor(kind, _) => format!("field label \"{label}\" not supported for {kind}"),
        }))
    }
}

/// The value a field selector compares for `label` on `object` (a missing field is "").
pub(crate) fn field_value<'a>(object: &'a Object, label: &str) -> Cow<'a, str> {
    if let Some(label) = other_event_form(object, label) {
        return field_value(object, &label);
    }
    match label {
        "metadata.name" => Cow::Borrowed(object.name()),
        "metadata.namespace" => Cow::Borrowed(object.namespace().unwrap_or("")),
        "spec.host" => field_value(object, "spec.nodeName"),
        // Pod: the first pod IP.
        "status.podIP" | "status.podIPs" => Cow::Borrowed(
            object
                .body
                .get("status")
                .and_then(|s| s.get("podIPs"))
                .and_then(|ips| ips.get(0))
                .and_then(|ip| ip.get("ip"))
                .and_then(Value::as_str)
                .unwrap_or(""),
        ),
        // core/v1 Event: `source.component`, else the reporting controller.
        "source" if object.body.contains_key("involvedObject") => {
            match body_value(object, "source.component").filter(|s| !s.is_empty()) {
                Some(s) => s,
                None => body_value(object, "reportingComponent").unwrap_or(Cow::Borrowed("")),
            }
        }
        // Job: the succeeded count, as a number.
        "status.successful" => body_value(object, "status.succeeded").unwrap_or(Cow::Borrowed("0")),
        "spec.hostNetwork" => body_value(object, label).unwrap_or(Cow::Borrowed("false")),
        _ => body_value(object, label).unwrap_or(Cow::Borrowed("")),
    }
}

/// A field label of one Event API on an Event stored in the other API's form: the same field
/// under its name there (both APIs list and watch one storage, see `events`).
fn other_event_form(object: &Object, label: &str) -> Option<String> {
    if object.kind != "Event" {
        return None;
    }
    let events_form = object.body.contains_key("regarding");
    let core_form = object.body.contains_key("involvedObject");
    if events_form && let Some(rest) = label.strip_prefix("involvedObject.") {
        return Some(format!("regarding.{rest}"));
    }
    if core_form && let Some(rest) = label.strip_prefix("regarding.") {
        return Some(format!("involvedObject.{rest}"));
    }
    match label {
        "reportingComponent" if events_form => Some("reportingController".into()),
        "reportingController" if core_form => Some("reportingComponent".into()),
        // core/v1's `source`: the deprecated source's component, else the controller.
        "source" if events_form => Some(
            if body_value(object, "deprecatedSource.component").is_some_and(|s| !s.is_empty()) {
                "deprecatedSource.component"
            } else {
                "reportingController"
            }
            .into(),
        ),
        _ => None,
    }
}

/// The scalar at a dotted path of the body, as a string.
fn body_value<'a>(object: &'a Object, path: &str) -> Option<Cow<'a, str>> {
    let mut parts = path.split('.');
    let mut value = object.body.get(parts.next()?)?;
    for part in parts {
        value = value.get(part)?;
    }
    match value {
        Value::String(s) => Some(Cow::Borrowed(s.as_str())),
        Value::Bool(b) => Some(Cow::Owned(b.to_string())),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use operator_runtime_core::TypeRef;
    use serde_json::json;

    #[test]
    fn labels_are_checked_per_kind() {
        assert!(FieldLabels::Default.check("metadata.name").is_ok());
        assert!(FieldLabels::Default.check("type").is_err());
        assert!(FieldLabels::Only(SECRET).check("type").is_ok());
        assert!(FieldLabels::Only(NAMESPACE).check("metadata.namespace").is_err());
    }

    #[test]
    fn values_resolve_through_the_body() {
        let pod = Object::new(&TypeRef::new("v1", "Pod"), Some("ns"), "p")
            .with("spec", json!({"nodeName": "n1", "hostNetwork": true}))
            .with("status", json!({"podIPs": [{"ip": "10.0.0.1"}]}));
        assert_eq!(field_value(&pod, "spec.host"), "n1");
        assert_eq!(field_value(&pod, "spec.hostNetwork"), "true");
        assert_eq!(field_value(&pod, "status.podIP"), "10.0.0.1");
        assert_eq!(field_value(&pod, "status.phase"), "");
    }
}
