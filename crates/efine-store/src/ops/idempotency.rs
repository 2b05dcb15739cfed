//! Idempotency keys: a retried request gets the first request's response, and a key reused with
//! another request is refused.
//!
//! The caller composes, in one `Store::write`: [`try_processing`], then on [`Processing::New`] its
//! operation and [`save_response`], so the write and its saved response commit (or roll back)
//! together. Writes are serialised (one writer per process, and every batch takes the chain-head
//! lock first), so two requests with one key never both see `New` and commit: the second finds the
//! first's row. The response is opaque to the store: whatever status and body the caller gives.
//! Keys are stored in `idempotency_keys (user_id, key)`; the API's keys as sent, other kinds of
//! request under a prefix of their own.

use crate::deferred::KeyRow;
use crate::sql::Tx;
use crate::{params, StoreError};
use efine_core::clock::to_micros;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// Whose keys these are, and for what kind of request: a key meets only keys of the same user
/// and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    user_id: i64,
    prefix: &'static str,
}

impl Scope {
    /// The `Idempotency-Key`s a user sends to the API, stored as sent (as they always were).
    pub fn api(user_id: i64) -> Scope {
        Scope {
            user_id,
            prefix: "",
        }
    }

    /// The keys of a user's console forms (one random key per form shown).
    pub fn console(user_id: i64) -> Scope {
        Scope {
            user_id,
            prefix: "console:",
        }
    }

    fn stored(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

/// A key with the hash of the request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub key: String,
    pub request_hash: String,
}

/// The response to give again on a retry: a status and a body, as the caller rendered them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedResponse {
    pub status: u16,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Processing {
    /// A key not seen before: do the work, then [`save_response`] in the same transaction.
    New,
    /// The same key and request were seen before: their response, unchanged.
    Replay(SavedResponse),
}

/// Hex SHA-256 of a request body: the API's request hash (over the body with its keys sorted).
pub fn body_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// Hex SHA-256 of a request given as fields, each length-prefixed (an absent field differs from
/// an empty one), so no two different requests share an encoding.
pub fn fields_hash(fields: &[Option<&str>]) -> String {
    let mut h = Sha256::new();
    for f in fields {
        match f {
            None => h.update([0u8]),
            Some(s) => {
                h.update([1u8]);
                h.update((s.len() as u64).to_be_bytes());
                h.update(s.as_bytes());
            }
        }
    }
    hex::encode(h.finalize())
}

/// Looks the key up: new, a replay of the saved response, or `idempotency_key_reused` (409) when
/// the key came with another request.
pub fn try_processing(
    tx: &mut dyn Tx,
    scope: &Scope,
    key: &IdempotencyKey,
) -> Result<Processing, StoreError> {
    let stored = scope.stored(&key.key);
    // A key saved earlier in this write batch is held in memory until the batch's end; the
    // database holds the rest, so the lookup reads it without writing the held ones first.
    let held = tx.batch_state().and_then(|b| {
        b.deferred
            .key(scope.user_id, &stored)
            .map(|k| (k.request_hash.clone(), k.status, k.body.clone()))
    });
    let (request_hash, status, body) = match held {
        Some(found) => found,
        None => {
            let Some(r) = tx.query_stored_opt(
                "SELECT request_hash, response_status, response_body FROM idempotency_keys
                 WHERE user_id = $1 AND key = $2",
                params![scope.user_id, stored],
            )?
            else {
                return Ok(Processing::New);
            };
            (r.text(0)?, r.i64(1)?, r.text(2)?)
        }
    };
    if request_hash != key.request_hash {
        return Err(StoreError::conflict(
            "idempotency_key_reused",
            "this Idempotency-Key was already used with a different request body",
        ));
    }
    let status = u16::try_from(status)
        .map_err(|_| StoreError::Corrupt("idempotency response status".into()))?;
    Ok(Processing::Replay(SavedResponse { status, body }))
}

/// Saves the response to a new key, in the transaction that did the work. Inside a write batch
/// the row is written with the batch's other keys just before COMMIT (`crate::deferred`).
pub fn save_response(
    tx: &mut dyn Tx,
    scope: &Scope,
    key: &IdempotencyKey,
    response: &SavedResponse,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    if let Some(b) = tx.batch_state() {
        // What the key's primary key would refuse at the batch's end, where it would fail the
        // whole batch, is refused here, failing this operation alone.
        if b.deferred
            .key(scope.user_id, &scope.stored(&key.key))
            .is_some()
        {
            return Err(StoreError::conflict(
                "idempotency_key_reused",
                "this Idempotency-Key was already used in this batch",
            ));
        }
        b.deferred.push_key(KeyRow {
            user_id: scope.user_id,
            key: scope.stored(&key.key),
            request_hash: key.request_hash.clone(),
            status: i64::from(response.status),
            body: response.body.clone(),
            created_at: to_micros(at),
        });
        return Ok(());
    }
    tx.exec(
        "INSERT INTO idempotency_keys (user_id, key, request_hash, response_status, response_body,
                                       created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        params![
            scope.user_id,
            scope.stored(&key.key),
            key.request_hash.as_str(),
            i64::from(response.status),
            response.body.as_str(),
            to_micros(at)
        ],
    )?;
    Ok(())
}
