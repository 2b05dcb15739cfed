//! Failed-login counts per key, shared by every node through the database
//! (`login_throttle`). The rule (free failures, doubling delays, the lock) is
//! `efine_core::auth::throttle`; this keeps the counts. Writes go through the single writer,
//! whose batches are serialised on the chain-head lock, so two nodes never both miss a count.

use crate::ops::events;
use crate::sql::Tx;
use crate::{params, StoreError};
use efine_core::auth::throttle::{Policy, Wait};
use efine_core::clock::{from_micros, to_micros};
use time::OffsetDateTime;

/// One key to count an attempt against, and its limits.
#[derive(Debug, Clone)]
pub struct Key {
    pub key: String,
    pub policy: Policy,
}

impl Key {
    pub fn new(key: impl Into<String>, policy: Policy) -> Key {
        Key {
            key: key.into(),
            policy,
        }
    }
}

/// An attempt counted against its keys: the failures each reached, and whether that locked it.
#[derive(Debug, Clone)]
pub struct Reserved {
    pub counts: Vec<(String, u32, bool)>,
}

fn row(tx: &mut dyn Tx, key: &str) -> Result<Option<(u32, i64, Option<i64>)>, StoreError> {
    tx.query_opt(
        "SELECT failures, last_failure_at, blocked_until FROM login_throttle WHERE key = $1",
        params![key],
    )?
    .map(|r| {
        Ok((
            r.i64(0)?.clamp(0, u32::MAX as i64) as u32,
            r.i64(1)?,
            r.opt_i64(2)?,
        ))
    })
    .transpose()
}

fn put(
    tx: &mut dyn Tx,
    key: &str,
    failures: u32,
    at: i64,
    until: Option<i64>,
) -> Result<(), StoreError> {
    tx.exec(
        "INSERT INTO login_throttle (key, failures, last_failure_at, blocked_until)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (key) DO UPDATE SET failures = excluded.failures,
             last_failure_at = excluded.last_failure_at, blocked_until = excluded.blocked_until",
        params![key, i64::from(failures), at, until],
    )?;
    Ok(())
}

/// Until when the first blocked key of `keys` is blocked, if any is (a read: a refused attempt
/// writes nothing).
pub fn blocked(
    tx: &mut dyn Tx,
    keys: &[Key],
    now: OffsetDateTime,
) -> Result<Option<OffsetDateTime>, StoreError> {
    let now_us = to_micros(now);
    let mut until: Option<i64> = None;
    for k in keys {
        if let Some((_, _, Some(b))) = row(tx, &k.key)? {
            if b > now_us {
                until = Some(until.map_or(b, |u| u.max(b)));
            }
        }
    }
    Ok(until.map(from_micros))
}

fn count(tx: &mut dyn Tx, k: &Key, now: OffsetDateTime) -> Result<(u32, bool), StoreError> {
    let before = match row(tx, &k.key)? {
        Some((f, last, _)) => k.policy.remembered(f, from_micros(last), now),
        None => 0,
    };
    let failures = before.saturating_add(1);
    let wait = k.policy.wait_after(failures, now);
    put(
        tx,
        &k.key,
        failures,
        to_micros(now),
        wait.until().map(to_micros),
    )?;
    Ok((failures, matches!(wait, Wait::Locked(_))))
}

/// Refuses the attempt (`Err(until)`, nothing written) when any key of `check` is blocked;
/// otherwise counts it as a failure on each key of `count` before the password is checked, so
/// parallel guesses at one account cannot slip past the limit. [`succeeded`] takes the count
/// back; [`failed`] keeps it.
pub fn reserve(
    tx: &mut dyn Tx,
    check: &[Key],
    count_now: &[Key],
    now: OffsetDateTime,
) -> Result<Result<Reserved, OffsetDateTime>, StoreError> {
    if let Some(until) = blocked(tx, check, now)? {
        return Ok(Err(until));
    }
    let mut counts = Vec::new();
    for k in count_now {
        let (n, locked) = count(tx, k, now)?;
        counts.push((k.key.clone(), n, locked));
    }
    Ok(Ok(Reserved { counts }))
}

/// The password was right: the keys in `reset` (the account) start again from nothing.
pub fn succeeded(tx: &mut dyn Tx, reset: &[Key]) -> Result<(), StoreError> {
    for k in reset {
        tx.exec(
            "DELETE FROM login_throttle WHERE key = $1",
            params![k.key.as_str()],
        )?;
    }
    Ok(())
}

/// The password (or second factor) was wrong: the failure is also counted on `also` (the
/// client address, counted only now so that a burst of good logins from one office is never
/// held up), then one `auth.login_failed` event naming the account as typed (when it is a
/// valid username) with the counts, and an `auth.login_locked` event for each key this
/// failure locked.
pub fn failed(
    tx: &mut dyn Tx,
    subject: &str,
    reserved: &Reserved,
    also: &[Key],
    reason: &str,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    let mut reserved = reserved.clone();
    for k in also {
        let (n, locked) = count(tx, k, at)?;
        reserved.counts.push((k.key.clone(), n, locked));
    }
    let counts: serde_json::Map<String, serde_json::Value> = reserved
        .counts
        .iter()
        .map(|(k, n, _)| (k.clone(), serde_json::json!(n)))
        .collect();
    events::append(
        tx,
        at,
        "auth.login_failed",
        subject,
        "system",
        &serde_json::json!({ "reason": reason, "failures": counts }),
    )?;
    for (k, n, locked) in &reserved.counts {
        if *locked {
            events::append(
                tx,
                at,
                "auth.login_locked",
                subject,
                "system",
                &serde_json::json!({ "key": k, "failures": n }),
            )?;
        }
    }
    Ok(())
}
