//! Staff console sessions: a browser login holds a random token in an HttpOnly cookie; the
//! store keeps only its SHA-256 (`users::token_hash`). Logging out appends a row; nothing is
//! updated in place. Opening and closing a session are written to the event log.

use crate::ops::{events, users};
use crate::sql::Tx;
use crate::{params, StoreError};
use efine_core::auth::Principal;
use efine_core::clock::to_micros;
use time::OffsetDateTime;

/// Records a new session for `user`, valid until `expires_at`.
pub fn open(
    tx: &mut dyn Tx,
    user: &Principal,
    session_hash: &str,
    at: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> Result<(), StoreError> {
    tx.exec(
        "INSERT INTO console_sessions (session_hash, user_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4)",
        params![
            session_hash,
            user.user_id,
            to_micros(at),
            to_micros(expires_at)
        ],
    )?;
    events::append(
        tx,
        at,
        "console.login",
        &format!("user:{}", user.username),
        &user.username,
        &serde_json::json!({ "expires_at": to_micros(expires_at) }),
    )?;
    Ok(())
}

/// The principal behind a session that has not expired, was not logged out, and whose user is
/// still active.
pub fn principal(
    tx: &mut dyn Tx,
    session_hash: &str,
    now: OffsetDateTime,
) -> Result<Option<Principal>, StoreError> {
    tx.query_opt(
        "SELECT u.id, u.username, u.role, u.department, u.district
         FROM console_sessions s JOIN users u ON u.id = s.user_id
         WHERE s.session_hash = $1 AND s.expires_at > $2 AND u.active = 1
           AND NOT EXISTS (SELECT 1 FROM console_logouts l WHERE l.session_hash = s.session_hash)",
        params![session_hash, to_micros(now)],
    )?
    .map(|r| users::principal(&r, 0))
    .transpose()
}

/// Ends a session (idempotent: a second logout changes nothing).
pub fn close(
    tx: &mut dyn Tx,
    user: &Principal,
    session_hash: &str,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    let done = tx
        .query_opt(
            "SELECT 1 FROM console_logouts WHERE session_hash = $1",
            params![session_hash],
        )?
        .is_some();
    if done {
        return Ok(());
    }
    tx.exec(
        "INSERT INTO console_logouts (session_hash, at) VALUES ($1, $2)",
        params![session_hash, to_micros(at)],
    )?;
    events::append(
        tx,
        at,
        "console.logout",
        &format!("user:{}", user.username),
        &user.username,
        &serde_json::json!({}),
    )?;
    Ok(())
}
