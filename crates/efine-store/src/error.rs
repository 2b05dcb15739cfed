use thiserror::Error;

/// What a store operation can answer besides success. Web maps each to a status and code.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum StoreError {
    /// A field of the request names something that does not exist or breaks a rule.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("not found: {0}")]
    NotFound(String),
    /// The request conflicts with what is recorded (duplicate, reused key, wrong state).
    #[error("{message}")]
    Conflict { code: String, message: String },
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Forbidden for a reason the caller can act on, with its own code (e.g. `own_request`).
    #[error("{message}")]
    Refused { code: String, message: String },
    /// Stored data does not parse into domain types: a bug or tampering, never the caller's fault.
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    /// The database failed.
    #[error("database error: {0}")]
    Db(String),
}

impl StoreError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        StoreError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
    pub fn refused(code: &str, message: impl Into<String>) -> Self {
        StoreError::Refused {
            code: code.into(),
            message: message.into(),
        }
    }
    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        StoreError::Conflict {
            code: code.into(),
            message: message.into(),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Db(e.to_string())
    }
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) => StoreError::Db(format!("{}: {}", db.code().code(), db.message())),
            None => StoreError::Db(e.to_string()),
        }
    }
}

impl From<efine_core::ParseError> for StoreError {
    fn from(e: efine_core::ParseError) -> Self {
        StoreError::Corrupt(e.0)
    }
}
