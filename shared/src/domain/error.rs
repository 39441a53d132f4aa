//! The domain's one error type. Every rule that refuses something says which field (or
//! which resource) is at fault, so the HTTP layer can name it without guessing.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    /// A value did not parse or breaks a rule about its shape.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    /// A path or query parameter (a cursor, a filter) is not one we accept.
    #[error("{name}: {reason}")]
    BadParameter { name: &'static str, reason: String },
    /// The caller is not allowed to do this (wrong role or another tenant).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The caller did not present credentials at all.
    #[error("authentication required")]
    Unauthenticated,
    /// No such resource in this tenant (another tenant's data is also "not found").
    #[error("{what} not found")]
    NotFound { what: &'static str },
    /// The resource exists already.
    #[error("{what} already exists")]
    AlreadyExists { what: &'static str },
    /// The request is valid but the resource's state does not allow it now.
    #[error("{reason}")]
    Conflict { kind: &'static str, reason: String },
}

impl DomainError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub fn conflict(kind: &'static str, reason: impl Into<String>) -> Self {
        Self::Conflict {
            kind,
            reason: reason.into(),
        }
    }
}
