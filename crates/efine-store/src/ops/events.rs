//! Appending to and reading the hash-chained event log. `append` is the only code that writes the
//! `events` table.

use crate::deferred::EventRow;
use crate::sql::{Row, Tx};
use crate::{params, StoreError};
use efine_core::audit::{event_hash, EventRecord, Hash};
use efine_core::clock::to_micros;
use time::OffsetDateTime;

fn parse_hash(s: &str) -> Result<Hash, StoreError> {
    let bytes = hex::decode(s).map_err(|_| StoreError::Corrupt(format!("bad hash {s}")))?;
    bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("bad hash length {s}")))
}

/// Appends one event, chained to the current head. Must run inside the transaction that makes the
/// change it records. Inside a write batch the row is written with the batch's other events just
/// before COMMIT; any statement of the batch that reads `events` sees it (`crate::deferred`).
pub fn append(
    tx: &mut dyn Tx,
    at: OffsetDateTime,
    kind: &str,
    subject: &str,
    actor: &str,
    payload: &serde_json::Value,
) -> Result<i64, StoreError> {
    let at_micros = to_micros(at);
    let payload = payload.to_string();
    if let Some(batch) = tx.batch_state() {
        // Inside a write batch: the writer holds the head and writes it back before COMMIT,
        // and the row itself with the batch's other events (`crate::deferred`).
        let head = &mut batch.head;
        let seq = head.seq + 1;
        let prev = parse_hash(&head.hash)?;
        let hash = hex::encode(event_hash(
            &prev, seq, at_micros, kind, subject, actor, &payload,
        ));
        head.seq = seq;
        head.hash = hash.clone();
        batch.deferred.push_event(EventRow {
            seq,
            at_micros,
            kind: kind.to_string(),
            subject: subject.to_string(),
            actor: actor.to_string(),
            payload,
            prev_hash: hex::encode(prev),
            hash,
        });
        return Ok(seq);
    }
    let head = tx.query_one(
        "UPDATE chain_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash",
        &[],
    )?;
    let seq = head.i64(0)?;
    let prev = parse_hash(&head.text(1)?)?;
    let hash_hex = hex::encode(event_hash(
        &prev, seq, at_micros, kind, subject, actor, &payload,
    ));
    tx.exec(
        "UPDATE chain_head SET hash = $1 WHERE id = 1",
        params![hash_hex.clone()],
    )?;
    tx.exec(
        "INSERT INTO events (seq, at_micros, kind, subject, actor, payload, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        params![
            seq,
            at_micros,
            kind,
            subject,
            actor,
            payload,
            hex::encode(prev),
            hash_hex
        ],
    )?;
    Ok(seq)
}

const COLUMNS: &str = "seq, at_micros, kind, subject, actor, payload, prev_hash, hash";

fn record(r: &Row) -> Result<EventRecord, StoreError> {
    Ok(EventRecord {
        seq: r.i64(0)?,
        at_micros: r.i64(1)?,
        kind: r.text(2)?,
        subject: r.text(3)?,
        actor: r.text(4)?,
        payload: r.text(5)?,
        prev_hash: parse_hash(&r.text(6)?)?,
        hash: parse_hash(&r.text(7)?)?,
    })
}

/// Every event about one subject (e.g. a challan number), oldest first.
pub fn for_subject(tx: &mut dyn Tx, subject: &str) -> Result<Vec<EventRecord>, StoreError> {
    tx.query(
        &format!("SELECT {COLUMNS} FROM events WHERE subject = $1 ORDER BY seq"),
        params![subject],
    )?
    .iter()
    .map(record)
    .collect()
}

/// Every event about the challans with `after_id < id <= last_id`, by subject then sequence: a
/// page of challans' events in one statement (the audit reads millions of challans).
pub(crate) fn for_challan_page(
    tx: &mut dyn Tx,
    after_id: i64,
    last_id: i64,
) -> Result<Vec<EventRecord>, StoreError> {
    tx.query(
        &format!(
            "SELECT {COLUMNS} FROM events WHERE subject IN
               (SELECT number FROM challans WHERE id > $1 AND id <= $2)
             ORDER BY subject, seq"
        ),
        params![after_id, last_id],
    )?
    .iter()
    .map(record)
    .collect()
}

/// Up to `limit` events after `after_seq`, in order.
pub fn page(tx: &mut dyn Tx, after_seq: i64, limit: i64) -> Result<Vec<EventRecord>, StoreError> {
    tx.query(
        &format!("SELECT {COLUMNS} FROM events WHERE seq > $1 ORDER BY seq LIMIT $2"),
        params![after_seq, limit],
    )?
    .iter()
    .map(record)
    .collect()
}

/// The chain head as recorded: (last sequence, its hash).
pub fn head(tx: &mut dyn Tx) -> Result<(i64, String), StoreError> {
    let r = tx.query_one("SELECT seq, hash FROM chain_head WHERE id = 1", &[])?;
    Ok((r.i64(0)?, r.text(1)?))
}

/// What the auditor's event browser filters on; empty fields match everything.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// An exact kind (`challan.paid`) or a family (`challan`: every `challan.*`).
    pub kind: Option<String>,
    pub subject: Option<String>,
    pub actor: Option<String>,
    /// Only events before this sequence (the next page of a newest-first list).
    pub before_seq: Option<i64>,
}

/// Up to `limit` events matching `f`, newest first (the primary key is walked backwards from
/// `before_seq`, so a page costs what it shows plus what the filter skips).
pub fn browse(
    tx: &mut dyn Tx,
    f: &EventFilter,
    limit: i64,
) -> Result<Vec<EventRecord>, StoreError> {
    let kind = f.kind.clone().unwrap_or_default();
    let family = format!("{kind}.%");
    tx.query(
        &format!(
            "SELECT {COLUMNS} FROM events
             WHERE ($1 = '' OR kind = $1 OR kind LIKE $2)
               AND ($3 = '' OR subject = $3) AND ($4 = '' OR actor = $4) AND seq < $5
             ORDER BY seq DESC LIMIT $6"
        ),
        params![
            kind.as_str(),
            family.as_str(),
            f.subject.clone().unwrap_or_default(),
            f.actor.clone().unwrap_or_default(),
            f.before_seq.unwrap_or(i64::MAX),
            limit
        ],
    )?
    .iter()
    .map(record)
    .collect()
}
