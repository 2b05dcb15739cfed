//! What a service function answers besides success. The web layer maps each to a status and an
//! error code; the binary prints it.

use efine_store::StoreError;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ServiceError {
    /// A field of the request is wrong, with a message for the person who sent it.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// The caller may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// What the store answered (not found, conflict, refused, a database failure, or the
    /// database unavailable for now with nothing written ...).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Refused for now: too many of these in a short time; may be tried again after the wait.
    #[error("too many: {message}")]
    TooMany {
        message: String,
        retry_after_secs: u64,
    },
}

impl ServiceError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ServiceError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        ServiceError::Forbidden(message.into())
    }
    /// True when the database could not do the work now: nothing was written, retry shortly.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, ServiceError::Store(e) if e.is_unavailable())
    }
}
