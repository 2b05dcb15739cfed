//! Store errors, and which database failures are transient: `Unavailable` means the database
//! could not do the work now (connection lost, disk full, locked beyond the busy timeout, the
//! batch aborted), nothing was written, and the same request may simply be sent again. Every
//! other database failure stays `Db`: a bug to fix, not something a retry cures.

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
    /// The database failed in a way a retry does not cure (a bug, a constraint, bad SQL).
    #[error("database error: {0}")]
    Db(String),
    /// The database cannot do the work now (connection refused or lost, pool exhausted, busy
    /// beyond the timeout, disk full, an I/O error, shutting down, the writer stopped or its
    /// batch aborted). Nothing was written; the same request may be sent again shortly.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
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

    /// True when nothing was written and a retry may succeed.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }

    /// What an operation that did nothing wrong answers when its batch was abandoned because of
    /// `self`: its work was rolled back with the batch, so whatever the cause, it may be retried.
    pub(crate) fn aborted_batch(&self) -> StoreError {
        match self {
            StoreError::Unavailable(_) => self.clone(),
            other => StoreError::Unavailable(format!("the batch was rolled back: {other}")),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode as C;
        match e.sqlite_error_code() {
            // Busy and locked are answered only after the busy timeout has run out.
            Some(
                C::DatabaseBusy
                | C::DatabaseLocked
                | C::DiskFull
                | C::SystemIoFailure
                | C::CannotOpen
                | C::OutOfMemory,
            ) => StoreError::Unavailable(e.to_string()),
            _ => StoreError::Db(e.to_string()),
        }
    }
}

/// SQLSTATEs after which the transaction is gone and a retry may succeed: connection
/// exceptions (08), insufficient resources (53), operator intervention (57: shutdown, cannot
/// connect now, a statement cancelled by its timeout), a lock timeout, serialization failures
/// and deadlocks, and a database that does not exist (dropped or renamed under a server).
fn transient_sqlstate(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || matches!(
            code,
            "57P01" | "57P02" | "57P03" | "57014" | "55P03" | "40001" | "40P01" | "3D000"
        )
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        if let Some(db) = e.as_db_error() {
            let code = db.code().code();
            let text = format!("{code}: {}", db.message());
            // FATAL ends the session (a refused connection among them): nothing it was doing
            // committed.
            let fatal = db.parsed_severity() == Some(postgres::error::Severity::Fatal);
            return if fatal || transient_sqlstate(code) {
                StoreError::Unavailable(text)
            } else {
                StoreError::Db(text)
            };
        }
        // Without a server answer: the connection is closed, could not be made, or timed out.
        let io = std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
        if e.is_closed() || io || e.code().is_some_and(|c| transient_sqlstate(c.code())) {
            let cause = std::error::Error::source(&e)
                .map(|s| format!("{e}: {s}"))
                .unwrap_or_else(|| e.to_string());
            StoreError::Unavailable(cause)
        } else {
            StoreError::Db(e.to_string())
        }
    }
}

impl From<efine_core::ParseError> for StoreError {
    fn from(e: efine_core::ParseError) -> Self {
        StoreError::Corrupt(e.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(code: i32) -> StoreError {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None).into()
    }

    #[test]
    fn sqlite_failures_a_retry_can_cure_are_unavailable() {
        use rusqlite::ffi;
        for code in [
            ffi::SQLITE_BUSY,
            ffi::SQLITE_LOCKED,
            ffi::SQLITE_FULL,
            ffi::SQLITE_IOERR,
            ffi::SQLITE_CANTOPEN,
        ] {
            assert!(sqlite(code).is_unavailable(), "{code}");
        }
        for code in [
            ffi::SQLITE_CONSTRAINT,
            ffi::SQLITE_CORRUPT,
            ffi::SQLITE_ERROR,
            ffi::SQLITE_READONLY,
        ] {
            assert!(matches!(sqlite(code), StoreError::Db(_)), "{code}");
        }
        let e: StoreError = rusqlite::Error::QueryReturnedNoRows.into();
        assert!(matches!(e, StoreError::Db(_)));
    }

    #[test]
    fn postgres_sqlstates_a_retry_can_cure() {
        for code in [
            "08000", "08006", "08001", "53100", "53300", "57P01", "57P02", "57P03", "40001",
            "40P01", "55P03", "57014", "3D000",
        ] {
            assert!(transient_sqlstate(code), "{code}");
        }
        for code in [
            "23505", "23503", "42P01", "42601", "22P02", "XX000", "57000",
        ] {
            assert!(!transient_sqlstate(code), "{code}");
        }
    }

    #[test]
    fn an_aborted_batch_is_unavailable_whatever_the_cause() {
        let bug = StoreError::Db("23505: duplicate key".into());
        assert!(bug.aborted_batch().is_unavailable());
        let gone = StoreError::Unavailable("08006: connection lost".into());
        assert_eq!(gone.aborted_batch(), gone);
    }
}
