//! Errors as RFC 9457 `application/problem+json`, with a stable `type` and the field at
//! fault. [`Problem::from`] on [`crate::Error`] is the one place errors become HTTP.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::DomainError;
use crate::table::TableError;
use crate::Error;

pub const CONTENT_TYPE: &str = "application/problem+json";
const TYPE_BASE: &str = "https://clearance.dev/problems/";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    /// Stable: clients may switch on it.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request field (JSON path, path or query parameter) at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, title: &str) -> Self {
        Problem {
            kind: format!("{TYPE_BASE}{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: None,
            field: None,
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Replaces the problem's `type` slug (a more specific kind of the same status).
    pub fn kind(mut self, slug: &str) -> Self {
        self.kind = format!("{TYPE_BASE}{slug}");
        self
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// The problem's `type` slug (the part after the base URI).
    pub fn slug(&self) -> &str {
        self.kind.strip_prefix(TYPE_BASE).unwrap_or(&self.kind)
    }

    pub fn validation(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-error",
            "A field is not valid",
        )
        .field(field)
        .detail(detail)
    }

    pub fn invalid_parameter(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-parameter",
            "A path or query parameter is not valid",
        )
        .field(field)
        .detail(detail)
    }

    pub fn invalid_header(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-header",
            "A request header is not valid",
        )
        .field(field)
        .detail(detail)
    }

    pub fn not_found(what: &str) -> Self {
        Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found")
            .detail(format!("{what} not found"))
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        res
    }
}

impl From<DomainError> for Problem {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid { field, reason } => Problem::validation(field, reason),
            DomainError::BadParameter { name, reason } => Problem::invalid_parameter(name, reason),
            DomainError::Unauthenticated => Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Authentication required",
            ),
            DomainError::Forbidden(why) => {
                Problem::new(StatusCode::FORBIDDEN, "forbidden", "Not allowed").detail(why)
            }
            DomainError::NotFound { what } => Problem::not_found(what),
            DomainError::AlreadyExists { what } => {
                Problem::new(StatusCode::CONFLICT, "already-exists", "Already exists")
                    .detail(format!("{what} already exists"))
            }
            DomainError::Conflict { kind, reason } => Problem::new(
                StatusCode::CONFLICT,
                kind,
                "The resource's state does not allow this",
            )
            .detail(reason),
        }
    }
}

impl From<Error> for Problem {
    fn from(e: Error) -> Self {
        match e {
            Error::Domain(d) => d.into(),
            Error::Store(s) if s.is_retryable() => {
                tracing::warn!(error = %s, "store unavailable");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Busy, try again shortly",
                )
            }
            Error::Blob(b) => {
                tracing::error!(error = %b, "the blob store");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Busy, try again shortly",
                )
            }
            Error::Internal(why) => {
                tracing::error!(error = %why, "internal");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                )
            }
            Error::Provider(p) => {
                tracing::error!(error = %p, "the payment provider");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Busy, try again shortly",
                )
            }
            Error::Courier(crate::couriers::CourierError::Refused(why)) => {
                tracing::warn!(error = %why, "the courier refused");
                Problem::validation("carrier", format!("the courier refused: {why}"))
                    .kind("courier-refused")
            }
            Error::Courier(c) => {
                tracing::error!(error = %c, "the courier aggregator");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Busy, try again shortly",
                )
            }
            Error::Membership(m) => {
                tracing::error!(error = %m, "the membership (CRM)");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Busy, try again shortly",
                )
            }
            Error::Queue(q) => {
                tracing::error!(error = %q, "could not send what follows a write");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Busy, try again shortly",
                )
            }
            Error::Store(s) => {
                // Our bug, not the caller's: log it, tell them nothing internal.
                tracing::error!(error = %s, "store error");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                )
            }
        }
    }
}

impl From<TableError> for Problem {
    fn from(e: TableError) -> Self {
        Error::Store(e).into()
    }
}
