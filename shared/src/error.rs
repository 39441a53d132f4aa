//! The application-level error: what a use case can fail with. The HTTP layer maps it to
//! a problem document in one function (`http::problem`), workers to retry-or-not.

use thiserror::Error;

use crate::domain::DomainError;
use crate::table::TableError;

#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Store(#[from] TableError),
}

impl Error {
    /// Whether trying again later may succeed (throttling, conflicts, outages).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Store(e) if e.is_retryable())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
