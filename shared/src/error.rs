//! The application-level error: what a use case can fail with. The HTTP layer maps it to
//! a problem document in one function (`http::problem`), workers to retry-or-not.

use thiserror::Error;

use crate::domain::DomainError;
use crate::queue::QueueError;
use crate::table::TableError;

#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Store(#[from] TableError),
    /// A message that must follow a write could not be sent: the caller retries (the
    /// provider resends its notice, SQS redelivers), and the retry finds the write done
    /// and sends it again.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// The payment provider could not be reached, or refused outright.
    #[error(transparent)]
    Provider(#[from] crate::payments::PaymentError),
    #[error(transparent)]
    Blob(#[from] crate::blobs::BlobError),
    /// The group's membership (CRM) could not be reached, or refused.
    #[error(transparent)]
    Membership(#[from] crate::membership::MembershipError),
    /// The courier aggregator could not be reached, or refused.
    #[error(transparent)]
    Courier(#[from] crate::couriers::CourierError),
    /// Our own bug (a value that would not serialize): never worth a retry.
    #[error("internal: {0}")]
    Internal(String),
}

impl Error {
    /// Whether trying again later may succeed (throttling, conflicts, outages).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Store(e) => e.is_retryable(),
            Error::Queue(_) => true,
            Error::Provider(e) => e.is_retryable(),
            Error::Courier(e) => e.is_retryable(),
            Error::Membership(e) => matches!(e, crate::membership::MembershipError::Unavailable(_)),
            Error::Blob(e) => !matches!(e, crate::blobs::BlobError::InvalidKey(_)),
            Error::Domain(_) | Error::Internal(_) => false,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
