//! [`StoreError`]: the one error type of the [`crate::store::ObjectStore`] boundary.
//!
//! Variants mirror the API server's `Status` reasons, so a caller can act on them (retry on
//! Conflict, relist on Expired, back off on TooManyRequests) and tests can match them.

use std::time::Duration;

/// One field-level cause of an Invalid or Conflict error (`Status.details.causes[]`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct StatusCause {
    /// Machine-readable cause type (`FieldValueInvalid`, `FieldValueForbidden`, `FieldManagerConflict`, ...).
    pub reason: String,
    /// The field path (`metadata.name`, `spec.replicas`, ...).
    pub field: String,
    /// Human-readable text.
    pub message: String,
}

impl StatusCause {
    /// A cause with a reason, field and message.
    pub fn new(reason: impl Into<String>, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Errors returned by an [`crate::store::ObjectStore`].
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// 404: the object, namespace or kind does not exist.
    #[error("not found: {message}")]
    NotFound {
        /// Server message.
        message: String,
    },
    /// 409 reason AlreadyExists: create of an existing name.
    #[error("already exists: {message}")]
    AlreadyExists {
        /// Server message.
        message: String,
    },
    /// 409 reason Conflict: stale resourceVersion, uid mismatch, failed precondition, or a
    /// server-side apply field-manager conflict (see `causes`).
    #[error("conflict: {message}")]
    Conflict {
        /// Server message.
        message: String,
        /// Field causes (for apply conflicts).
        causes: Vec<StatusCause>,
    },
    /// 422: the object failed validation.
    #[error("invalid: {message}")]
    Invalid {
        /// Server message.
        message: String,
        /// Field causes.
        causes: Vec<StatusCause>,
    },
    /// 400: the request itself is malformed (bad selector, namespace mismatch, bad patch).
    #[error("bad request: {message}")]
    BadRequest {
        /// Server message.
        message: String,
    },
    /// 403: not allowed (RBAC, or a terminating namespace).
    #[error("forbidden: {message}")]
    Forbidden {
        /// Server message.
        message: String,
    },
    /// 405: the operation is not supported for this resource.
    #[error("method not allowed: {message}")]
    MethodNotAllowed {
        /// Server message.
        message: String,
    },
    /// 410: the resourceVersion or continue token is too old; relist.
    #[error("expired: {message}")]
    Expired {
        /// Server message.
        message: String,
    },
    /// 413: the request or object is too large.
    #[error("request entity too large: {message}")]
    TooLarge {
        /// Server message.
        message: String,
    },
    /// 415: the patch type is not supported for this resource.
    #[error("unsupported media type: {message}")]
    UnsupportedMediaType {
        /// Server message.
        message: String,
    },
    /// 429: throttled; retry after the given delay.
    #[error("too many requests: {message}")]
    TooManyRequests {
        /// Server message.
        message: String,
        /// Server-suggested delay.
        retry_after: Option<Duration>,
    },
    /// 503 (or a connection failure): retry later.
    #[error("unavailable: {message}")]
    Unavailable {
        /// Server message.
        message: String,
        /// Server-suggested delay.
        retry_after: Option<Duration>,
        /// The underlying failure (a refused connection, ...), when there is one.
        #[source]
        source: Option<ErrorSource>,
    },
    /// 504 or a client timeout: the outcome of the request is unknown.
    #[error("timeout (outcome unknown): {message}")]
    Timeout {
        /// Server message.
        message: String,
        /// The underlying failure (an I/O timeout, ...), when there is one.
        #[source]
        source: Option<ErrorSource>,
    },
    /// 500: the server failed (e.g. create with a resourceVersion set).
    #[error("internal error: {message}")]
    Internal {
        /// Server message.
        message: String,
    },
    /// Anything else (transport, decoding, an unexpected status code).
    #[error("backend error: {message}")]
    Backend {
        /// Description.
        message: String,
        /// The underlying failure, when there is one.
        #[source]
        source: Option<ErrorSource>,
    },
}

/// The error underneath a [`StoreError`] (transport, decoding), kept so callers can walk the
/// chain with [`std::error::Error::source`]. Cheap to clone. Two sources compare equal when
/// their messages are equal: errors are compared by what they say, as tests match them.
#[derive(Clone)]
pub struct ErrorSource(std::sync::Arc<dyn std::error::Error + Send + Sync + 'static>);

impl ErrorSource {
    /// Wraps an error.
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(std::sync::Arc::new(error))
    }

    /// The wrapped error.
    pub fn get(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.0
    }
}

impl std::fmt::Debug for ErrorSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.0, f)
    }
}

impl std::fmt::Display for ErrorSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&*self.0, f)
    }
}

impl std::error::Error for ErrorSource {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl PartialEq for ErrorSource {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_string() == other.0.to_string()
    }
}

impl StoreError {
    /// NotFound with a message.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound {
            message: message.into(),
        }
    }
    /// AlreadyExists with a message.
    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::AlreadyExists {
            message: message.into(),
        }
    }
    /// Conflict with a message and no causes.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict {
            message: message.into(),
            causes: Vec::new(),
        }
    }
    /// Invalid with one field cause.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        let field = field.into();
        Self::Invalid {
            message: format!("{field}: {message}"),
            causes: vec![StatusCause::new("FieldValueInvalid", field, message)],
        }
    }
    /// BadRequest with a message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest {
            message: message.into(),
        }
    }
    /// Forbidden with a message.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden {
            message: message.into(),
        }
    }
    /// Expired (410) with a message.
    pub fn expired(message: impl Into<String>) -> Self {
        Self::Expired {
            message: message.into(),
        }
    }
    /// Backend error with a message.
    pub fn backend(message: impl Into<String>) -> Self {
        Self::Backend {
            message: message.into(),
            source: None,
        }
    }
    /// 503 / connection failure with a message, no suggested delay and no source.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::Unavailable {
            message: message.into(),
            retry_after: None,
            source: None,
        }
    }
    /// Timeout (outcome unknown) with a message and no source.
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::Timeout {
            message: message.into(),
            source: None,
        }
    }

    /// The HTTP status code the API server uses for this error (0 for [`StoreError::Backend`]).
    pub fn code(&self) -> u16 {
        match self {
            Self::NotFound { .. } => 404,
            Self::AlreadyExists { .. } | Self::Conflict { .. } => 409,
            Self::Invalid { .. } => 422,
            Self::BadRequest { .. } => 400,
            Self::Forbidden { .. } => 403,
            Self::MethodNotAllowed { .. } => 405,
            Self::Expired { .. } => 410,
            Self::TooLarge { .. } => 413,
            Self::UnsupportedMediaType { .. } => 415,
            Self::TooManyRequests { .. } => 429,
            Self::Internal { .. } => 500,
            Self::Unavailable { .. } => 503,
            Self::Timeout { .. } => 504,
            Self::Backend { .. } => 0,
        }
    }

    /// True when retrying the same request later may succeed: throttling (429), unavailability
    /// (503, connection failures), timeouts (504, client timeouts), server errors (500) unless
    /// the server says the request itself failed validation, and transport failures
    /// ([`StoreError::Backend`]). Conflict and Expired are not included: they need a re-read
    /// first, not the same request again. Everything else is [`StoreError::is_permanent`].
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::TooManyRequests { .. } | Self::Unavailable { .. } | Self::Timeout { .. } | Self::Backend { .. } => {
                true
            }
            Self::Internal { message } => !is_validation_message(message),
            _ => false,
        }
    }

    /// True when sending the same request again cannot succeed until something changes (the
    /// object, the spec, RBAC, the cluster): Invalid, BadRequest, Forbidden, MethodNotAllowed,
    /// TooLarge, UnsupportedMediaType, and a 500 caused by a validation failure. A controller
    /// reports these once and waits for a change instead of retrying with backoff.
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::Invalid { .. }
            | Self::BadRequest { .. }
            | Self::Forbidden { .. }
            | Self::MethodNotAllowed { .. }
            | Self::TooLarge { .. }
            | Self::UnsupportedMediaType { .. } => true,
            Self::Internal { message } => is_validation_message(message),
            _ => false,
        }
    }

    /// The server-suggested delay before retrying, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::TooManyRequests { retry_after, .. } | Self::Unavailable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The field causes carried by Invalid and Conflict errors.
    pub fn causes(&self) -> &[StatusCause] {
        match self {
            Self::Invalid { causes, .. } | Self::Conflict { causes, .. } => causes,
            _ => &[],
        }
    }
}

/// Whether a 500's message says the request was refused by validation rather than the server
/// failing. The API server wraps some request checks into 500s with no machine-readable cause
/// (`rest.BeforeCreate`'s "resourceVersion should not be set on objects to be created", a
/// field error surfaced as "Internal error occurred: ... is invalid"), so the text is all
/// there is to go on; anything else stays retryable.
fn is_validation_message(message: &str) -> bool {
    const PHRASES: [&str; 3] = ["should not be set", " is invalid", "validation failed"];
    PHRASES.iter().any(|p| message.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_500_from_validation_is_permanent_any_other_500_is_retryable() {
        let validation = StoreError::Internal {
            message: "resourceVersion should not be set on objects to be created".into(),
        };
        assert!(validation.is_permanent() && !validation.is_retryable());
        let crash = StoreError::Internal {
            message: "etcdserver: request timed out".into(),
        };
        assert!(crash.is_retryable() && !crash.is_permanent());
    }

    #[test]
    fn retryable_permanent_and_re_read_errors_do_not_overlap() {
        let errors = [
            StoreError::not_found("x"),
            StoreError::already_exists("x"),
            StoreError::conflict("x"),
            StoreError::invalid("f", "x"),
            StoreError::bad_request("x"),
            StoreError::forbidden("x"),
            StoreError::MethodNotAllowed { message: "x".into() },
            StoreError::expired("x"),
            StoreError::TooLarge { message: "x".into() },
            StoreError::UnsupportedMediaType { message: "x".into() },
            StoreError::TooManyRequests {
                message: "x".into(),
                retry_after: None,
            },
            StoreError::Unavailable {
                message: "x".into(),
                retry_after: None,
                source: None,
            },
            StoreError::timeout("x"),
            StoreError::Internal { message: "x".into() },
            StoreError::backend("x"),
        ];
        for e in &errors {
            assert!(!(e.is_retryable() && e.is_permanent()), "{e:?}");
            // The documented retryable set: 429, 503, 504, plain 500, transport.
            let documented = matches!(e.code(), 429 | 503 | 504 | 500 | 0);
            assert_eq!(e.is_retryable(), documented, "{e:?}");
        }
    }
}
