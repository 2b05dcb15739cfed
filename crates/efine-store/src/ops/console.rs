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

/// A live console session: who, whether the account has enrolled its second factor, and when
/// the session was last used.
#[derive(Debug, Clone)]
pub struct LiveSession {
    pub principal: Principal,
    pub enrolled: bool,
    pub last_seen: OffsetDateTime,
}

/// The session behind `session_hash` if it has not expired, was not logged out, was used since
/// `idle_since` (the idle timeout), was opened after the account's last disable or password
/// reset, and its user is still active.
pub fn principal(
    tx: &mut dyn Tx,
    session_hash: &str,
    now: OffsetDateTime,
    idle_since: OffsetDateTime,
) -> Result<Option<LiveSession>, StoreError> {
    let found = tx.query_opt(
        "SELECT u.id, u.username, u.role, u.department, u.district,
                CASE WHEN u.totp_secret IS NULL THEN 0 ELSE 1 END,
                COALESCE((SELECT x.seen_at FROM console_session_seen x
                          WHERE x.session_hash = s.session_hash), s.created_at)
         FROM console_sessions s JOIN users u ON u.id = s.user_id
         WHERE s.session_hash = $1 AND s.expires_at > $2 AND u.active = 1
           AND s.created_at >= u.sessions_after
           AND NOT EXISTS (SELECT 1 FROM console_logouts l WHERE l.session_hash = s.session_hash)",
        params![session_hash, to_micros(now)],
    )?;
    let Some(r) = found else { return Ok(None) };
    let last_seen = r.i64(6)?;
    if last_seen <= to_micros(idle_since) {
        return Ok(None);
    }
    Ok(Some(LiveSession {
        principal: users::principal(&r, 0)?,
        enrolled: r.i64(5)? == 1,
        last_seen: efine_core::clock::from_micros(last_seen),
    }))
}

/// Records that a session was used now (for the idle timeout).
pub fn touch(tx: &mut dyn Tx, session_hash: &str, now: OffsetDateTime) -> Result<(), StoreError> {
    tx.exec(
        "INSERT INTO console_session_seen (session_hash, seen_at) VALUES ($1, $2)
         ON CONFLICT (session_hash) DO UPDATE SET seen_at = excluded.seen_at",
        params![session_hash, to_micros(now)],
    )?;
    Ok(())
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

/// What the console's challan search filters on; every field is optional. `department` and
/// `district` are also how a principal's scope is applied (the caller fills them from it).
#[derive(Debug, Clone, Default)]
pub struct ChallanFilter {
    pub department: Option<String>,
    pub district: Option<String>,
    /// `unpaid`, `paid` or `cancelled`.
    pub status: Option<String>,
    pub vehicle: Option<String>,
    pub offence: Option<String>,
    pub officer: Option<String>,
    /// Issued at or after (microseconds since the epoch).
    pub issued_from: Option<i64>,
    /// Issued before (microseconds since the epoch).
    pub issued_before: Option<i64>,
}

/// One page of challans matching `f`, newest first, and how many match in all.
pub fn search(
    tx: &mut dyn Tx,
    f: &ChallanFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<efine_core::challan::Challan>, i64), StoreError> {
    use crate::sql::Value;
    let mut clauses: Vec<String> = Vec::new();
    let mut args: Vec<Value> = Vec::new();
    let mut text = |col: &str, v: &Option<String>, clauses: &mut Vec<String>| {
        if let Some(v) = v {
            args.push(Value::from(v.as_str()));
            clauses.push(format!("{col} = ${}", args.len()));
        }
    };
    text("department", &f.department, &mut clauses);
    text("district", &f.district, &mut clauses);
    text("status", &f.status, &mut clauses);
    text("vehicle", &f.vehicle, &mut clauses);
    text("offence_code", &f.offence, &mut clauses);
    text("officer", &f.officer, &mut clauses);
    if let Some(t) = f.issued_from {
        args.push(Value::from(t));
        clauses.push(format!("issued_at >= ${}", args.len()));
    }
    if let Some(t) = f.issued_before {
        args.push(Value::from(t));
        clauses.push(format!("issued_at < ${}", args.len()));
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let total = tx
        .query_opt(&format!("SELECT COUNT(*) FROM challans {filter}"), &args)?
        .map(|r| r.i64(0))
        .transpose()?
        .unwrap_or(0);
    let n = args.len();
    args.push(Value::from(limit));
    args.push(Value::from(offset));
    let rows = tx.query(
        &format!(
            "SELECT {} FROM challans {filter} ORDER BY issued_at DESC, id DESC LIMIT ${} OFFSET ${}",
            crate::ops::challans::COLS,
            n + 1,
            n + 2
        ),
        &args,
    )?;
    let list = rows
        .iter()
        .map(crate::ops::challans::row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((list, total))
}

/// A staff account as the admin console lists it: who, whether active, and how many devices
/// (unexpired bearer tokens) and browser sessions it has open.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub principal: Principal,
    pub active: bool,
    pub devices: i64,
    pub sessions: i64,
    /// Enrolled in the second factor.
    pub enrolled: bool,
    /// A role grant waits for a second admin.
    pub pending_grant: bool,
}

/// Every staff account, by username.
pub fn users(tx: &mut dyn Tx, now: OffsetDateTime) -> Result<Vec<UserRow>, StoreError> {
    let now = to_micros(now);
    tx.query(
        "SELECT u.id, u.username, u.role, u.department, u.district, u.active,
                (SELECT COUNT(*) FROM api_tokens t WHERE t.user_id = u.id AND t.expires_at > $1
                   AND t.created_at >= u.sessions_after),
                (SELECT COUNT(*) FROM console_sessions s WHERE s.user_id = u.id AND s.expires_at > $1
                   AND s.created_at >= u.sessions_after
                   AND NOT EXISTS (SELECT 1 FROM console_logouts l WHERE l.session_hash = s.session_hash)),
                CASE WHEN u.totp_secret IS NULL THEN 0 ELSE 1 END,
                (SELECT COUNT(*) FROM role_grants g WHERE g.user_id = u.id AND g.status = 'pending')
         FROM users u ORDER BY u.username",
        params![now],
    )?
    .iter()
    .map(|r| {
        Ok(UserRow {
            principal: users::principal(r, 0)?,
            active: r.i64(5)? == 1,
            devices: r.i64(6)?,
            sessions: r.i64(7)?,
            enrolled: r.i64(8)? == 1,
            pending_grant: r.i64(9)? > 0,
        })
    })
    .collect()
}
