//! Mapping kube-rs errors to [`StoreError`].
//!
//! API errors are classified by HTTP code, refined by the Status `reason` where one code has
//! several meanings (409 AlreadyExists vs Conflict, 500 ServerTimeout). Transport failures are
//! retryable: a connection that could not be made is [`StoreError::Unavailable`], one that timed
//! out is [`StoreError::Timeout`] (the request may or may not have been applied).

use std::time::Duration;

use kube::core::Status;
use operator_runtime_core::{ErrorSource, StatusCause, StoreError};

/// Converts a kube-rs error into the store's error type. Never panics.
pub(crate) fn from_kube(error: kube::Error) -> StoreError {
    match error {
        kube::Error::Api(status) => from_status(&status),
        kube::Error::BuildRequest(e) => StoreError::bad_request(format!("invalid request: {e}")),
        kube::Error::SerdeError(e) => StoreError::Backend {
            message: format!("cannot decode the response: {e}"),
            source: Some(ErrorSource::new(e)),
        },
        kube::Error::HyperError(_) | kube::Error::Service(_) => from_transport(error),
        other => StoreError::Backend {
            message: other.to_string(),
            source: Some(ErrorSource::new(other)),
        },
    }
}

/// Converts an API `Status` (an error response, or a watch ERROR event) into a store error.
pub(crate) fn from_status(status: &Status) -> StoreError {
    let message = if status.message.is_empty() {
        format!("{} ({})", status.reason, status.code)
    } else {
        status.message.clone()
    };
    let details = status.details.as_ref();
    let causes = || -> Vec<StatusCause> {
        details
            .map(|d| {
                d.causes
                    .iter()
                    .map(|c| StatusCause::new(c.reason.clone(), c.field.clone(), c.message.clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let retry_after = details
        .map(|d| d.retry_after_seconds)
        .filter(|s| *s > 0)
        .map(|s| Duration::from_secs(u64::from(s)));
    match (status.code, status.reason.as_str()) {
        (_, "Timeout" | "ServerTimeout") | (504, _) => StoreError::Timeout { message, source: None },
        (404, _) => StoreError::NotFound { message },
        (409, "AlreadyExists") => StoreError::AlreadyExists { message },
        (409, _) => StoreError::Conflict {
            message,
            causes: causes(),
        },
        (410, _) => StoreError::Expired { message },
        (422, _) => StoreError::Invalid {
            message,
            causes: causes(),
        },
        (400, _) => StoreError::BadRequest { message },
        // No Unauthorized variant: a rejected credential is, to the caller, a forbidden request.
        (401, _) => StoreError::Forbidden {
            message: format!("unauthorized: {message}"),
        },
        (403, _) => StoreError::Forbidden { message },
        (405, _) => StoreError::MethodNotAllowed { message },
        (413, _) => StoreError::TooLarge { message },
        (415, _) => StoreError::UnsupportedMediaType { message },
        (429, _) => StoreError::TooManyRequests { message, retry_after },
        (503, _) => StoreError::Unavailable {
            message,
            retry_after,
            source: None,
        },
        (500, _) => StoreError::Internal { message },
        (code, reason) => StoreError::backend(format!("unexpected status {code} {reason}: {message}")),
    }
}

/// Classifies a transport failure by walking its source chain for an error *type* that
/// means "timed out": an `io::Error` of kind `TimedOut` (what kube-rs's connector, hyper-timeout,
/// reports for connect, read and write timeouts) or tokio's `Elapsed` (a `tokio::time::timeout`
/// around a request). The message text is never looked at: a server message that happens to
/// contain "timed out" does not make a refused connection a timeout.
fn from_transport(error: kube::Error) -> StoreError {
    let message = error.to_string();
    let mut timed_out = false;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(e) = source {
        let io_timeout = e
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut);
        if io_timeout || e.is::<tokio::time::error::Elapsed>() {
            timed_out = true;
            break;
        }
        source = e.source();
    }
    // The kube error is kept as the source: callers can walk down to the I/O error.
    let source = Some(ErrorSource::new(error));
    if timed_out {
        return StoreError::Timeout { message, source };
    }
    StoreError::Unavailable {
        message,
        retry_after: None,
        source,
    }
}

#[cfg(test)]
mod tests {
    use kube::core::response::{StatusCause as KubeCause, StatusDetails};

    use super::*;

    fn details(causes: Vec<KubeCause>, retry_after_seconds: u32) -> StatusDetails {
        StatusDetails {
            name: String::new(),
            group: String::new(),
            kind: String::new(),
            uid: String::new(),
            causes,
            retry_after_seconds,
        }
    }

    fn status(code: u16, reason: &str) -> Status {
        Status {
            code,
            reason: reason.to_owned(),
            message: format!("{reason} message"),
            ..Status::default()
        }
    }

    #[test]
    fn conflict_and_already_exists_are_told_apart_by_reason() {
        assert!(matches!(
            from_status(&status(409, "AlreadyExists")),
            StoreError::AlreadyExists { .. }
        ));
        assert!(matches!(
            from_status(&status(409, "Conflict")),
            StoreError::Conflict { .. }
        ));
    }

    #[test]
    fn invalid_keeps_field_causes() {
        let mut s = status(422, "Invalid");
        s.details = Some(details(
            vec![KubeCause {
                reason: "FieldValueInvalid".into(),
                message: "must be no more than 63 characters".into(),
                field: "metadata.name".into(),
            }],
            0,
        ));
        let e = from_status(&s);
        assert_eq!(e.code(), 422);
        assert_eq!(e.causes()[0].field, "metadata.name");
        assert_eq!(e.causes()[0].reason, "FieldValueInvalid");
    }

    #[test]
    fn throttling_carries_retry_after() {
        let mut s = status(429, "TooManyRequests");
        s.details = Some(details(Vec::new(), 3));
        assert_eq!(from_status(&s).retry_after(), Some(Duration::from_secs(3)));
        assert_eq!(from_status(&status(503, "ServiceUnavailable")).retry_after(), None);
        assert!(from_status(&status(503, "ServiceUnavailable")).is_retryable());
    }

    #[test]
    fn every_documented_code_maps_to_its_variant() {
        let cases = [
            (400, "BadRequest", 400),
            (403, "Forbidden", 403),
            (404, "NotFound", 404),
            (405, "MethodNotAllowed", 405),
            (410, "Expired", 410),
            (413, "RequestEntityTooLarge", 413),
            (415, "UnsupportedMediaType", 415),
            (500, "InternalError", 500),
            (500, "ServerTimeout", 504),
            (504, "Timeout", 504),
            (401, "Unauthorized", 403),
            (418, "Teapot", 0),
        ];
        for (code, reason, want) in cases {
            assert_eq!(from_status(&status(code, reason)).code(), want, "{code} {reason}");
        }
    }

    #[test]
    fn transport_timeouts_are_timeouts_and_refusals_are_unavailable() {
        let timed_out = kube::Error::Service(Box::new(std::io::Error::new(std::io::ErrorKind::TimedOut, "slow")));
        assert!(matches!(from_kube(timed_out), StoreError::Timeout { .. }));
        let refused = kube::Error::Service(Box::new(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "connection refused",
        )));
        assert!(matches!(from_kube(refused), StoreError::Unavailable { .. }));
    }

    #[test]
    fn transport_errors_keep_their_source_chain() {
        let refused = kube::Error::Service(Box::new(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "connection refused",
        )));
        let error = from_kube(refused);
        let mut chain = Vec::new();
        let mut next: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(&error);
        while let Some(e) = next {
            chain.push(e);
            next = e.source();
        }
        assert!(
            chain.iter().any(|e| e
                .downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)),
            "the I/O error is reachable from the store error: {chain:?}"
        );
    }

    #[test]
    fn timeouts_are_recognised_by_type_not_by_text() {
        // A timeout wrapped in another error is found down the source chain.
        #[derive(Debug)]
        struct Wrapper(std::io::Error);
        impl std::fmt::Display for Wrapper {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("client error")
            }
        }
        impl std::error::Error for Wrapper {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let wrapped = Wrapper(std::io::Error::new(std::io::ErrorKind::TimedOut, "read"));
        assert!(matches!(
            from_kube(kube::Error::Service(Box::new(wrapped))),
            StoreError::Timeout { .. }
        ));
        // The words alone do not make a timeout.
        let reset = std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "request timed out; deadline has elapsed",
        );
        assert!(matches!(
            from_kube(kube::Error::Service(Box::new(reset))),
            StoreError::Unavailable { .. }
        ));
    }
}
