//! [`StoreError`] as a `metav1.Status` with the reason and code the API server uses.

use operator_runtime_core::StoreError;
use serde_json::{Map, Value, json};

/// What a failed request names in `Status.details`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Subject {
    /// Object name.
    pub name: Option<String>,
    /// API group.
    pub group: String,
    /// Resource (plural).
    pub kind: String,
}

/// The HTTP code and the Status reason of an error.
pub(crate) fn code_and_reason(error: &StoreError) -> (u16, &'static str) {
    match error {
        StoreError::NotFound { .. } => (404, "NotFound"),
        StoreError::AlreadyExists { .. } => (409, "AlreadyExists"),
        StoreError::Conflict { .. } => (409, "Conflict"),
        StoreError::Invalid { .. } => (422, "Invalid"),
        StoreError::BadRequest { .. } => (400, "BadRequest"),
        StoreError::Forbidden { .. } => (403, "Forbidden"),
        StoreError::MethodNotAllowed { .. } => (405, "MethodNotAllowed"),
        StoreError::Expired { .. } => (410, "Expired"),
        StoreError::TooLarge { .. } => (413, "RequestEntityTooLarge"),
        StoreError::UnsupportedMediaType { .. } => (415, "UnsupportedMediaType"),
        StoreError::TooManyRequests { .. } => (429, "TooManyRequests"),
        StoreError::Unavailable { .. } => (503, "ServiceUnavailable"),
        StoreError::Timeout { .. } => (504, "Timeout"),
        _ => (500, "InternalError"),
    }
}

/// The server message an error carries (without the `Display` prefix).
pub(crate) fn message(error: &StoreError) -> String {
    match error {
        StoreError::NotFound { message }
        | StoreError::AlreadyExists { message }
        | StoreError::Conflict { message, .. }
        | StoreError::Invalid { message, .. }
        | StoreError::BadRequest { message }
        | StoreError::Forbidden { message }
        | StoreError::MethodNotAllowed { message }
        | StoreError::Expired { message }
        | StoreError::TooLarge { message }
        | StoreError::UnsupportedMediaType { message }
        | StoreError::TooManyRequests { message, .. }
        | StoreError::Unavailable { message, .. }
        | StoreError::Timeout { message, .. }
        | StoreError::Internal { message }
        | StoreError::Backend { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// The `Status` body of an error.
pub(crate) fn status_of(error: &StoreError, subject: &Subject) -> Value {
    let (code, reason) = code_and_reason(error);
    let mut details = Map::new();
    if let Some(name) = &subject.name {
        details.insert("name".into(), json!(name));
    }
    if !subject.group.is_empty() {
        details.insert("group".into(), json!(subject.group));
    }
    if !subject.kind.is_empty() {
        details.insert("kind".into(), json!(subject.kind));
    }
    let causes: Vec<Value> = error
        .causes()
        .iter()
        .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
        .collect();
    if !causes.is_empty() {
        details.insert("causes".into(), Value::Array(causes));
    }
    if let Some(after) = error.retry_after() {
        details.insert("retryAfterSeconds".into(), json!(after.as_secs().max(1)));
    }
    let mut status = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message(error),
        "reason": reason,
        "code": code,
    });
    if !details.is_empty() {
        status["details"] = Value::Object(details);
    }
    status
}

/// A `Status` of success (a completed delete).
pub(crate) fn success(subject: &Subject, uid: Option<&str>) -> Value {
    let mut details = json!({"kind": subject.kind});
    if let Some(name) = &subject.name {
        details["name"] = json!(name);
    }
    if !subject.group.is_empty() {
        details["group"] = json!(subject.group);
    }
    if let Some(uid) = uid {
        details["uid"] = json!(uid);
    }
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use operator_runtime_core::StatusCause;
    use std::time::Duration;

    #[test]
    fn status_carries_the_servers_reason_code_and_causes() {
        let e = StoreError::Invalid {
            message: "ConfigMap \"a\" is invalid".into(),
            causes: vec![StatusCause::new("FieldValueInvalid", "data", "bad")],
        };
        let s = status_of(
            &e,
            &Subject {
                name: Some("a".into()),
                group: String::new(),
                kind: "configmaps".into(),
            },
        );
        assert_eq!(s["code"], 422);
        assert_eq!(s["reason"], "Invalid");
        assert_eq!(s["details"]["causes"][0]["field"], "data");
        let throttled = StoreError::TooManyRequests {
            message: "slow down".into(),
            retry_after: Some(Duration::from_secs(3)),
        };
        let s = status_of(&throttled, &Subject::default());
        assert_eq!(
            (s["code"].as_u64(), s["details"]["retryAfterSeconds"].as_u64()),
            (Some(429), Some(3))
        );
        assert_eq!(code_and_reason(&StoreError::expired("old")), (410, "Expired"));
        assert_eq!(code_and_reason(&StoreError::backend("x")).0, 500);
    }
}
