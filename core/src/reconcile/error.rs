//! The one error type of an operator's hooks: `?` converts builder, context, model and spec
//! errors into it, and an operator's own errors through [`OperatorError::other`] (or a
//! `From` implementation the operator writes for its error type).

use crate::builder::BuildError;
use crate::model::ModelError;

use super::SpecError;
use super::context::ContextError;

/// Why an operator hook failed. From [`super::Operator::desired`] every variant means the
/// parent cannot be reconciled as it is: the driver reports it once (a Warning event and a
/// Degraded condition) and waits for a change instead of retrying.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OperatorError {
    /// The spec is invalid: which field and why.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// A child could not be added to the desired set.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// A lookup through the context failed.
    #[error(transparent)]
    Context(#[from] ContextError),
    /// A conversion between a typed value and JSON failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Extra status fields that are not a JSON object.
    #[error("invalid status fields: {0}")]
    InvalidStatus(String),
    /// The operator's own error.
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

impl OperatorError {
    /// An invalid spec: `field` (`spec.nodes[1].name`) and what is wrong with it.
    pub fn spec(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Spec(SpecError::new(field, message))
    }

    /// Wraps the operator's own error (kept as the source).
    pub fn other(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Other(Box::new(error))
    }

    /// The offending field when the error names one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Spec(e) => Some(&e.field),
            _ => None,
        }
    }
}

impl From<serde_json::Error> for OperatorError {
    fn from(error: serde_json::Error) -> Self {
        Self::Model(ModelError::from(error))
    }
}
