//! Writes a batch holds back until its end. Inside the writer, the rows that no operation needs
//! to read back from the database (the events it appends, the idempotency keys it saves) and the
//! gap-free counters it moves are kept in memory and written just before COMMIT, a few multi-row
//! statements for the whole batch instead of one round trip each per operation. With PostgreSQL
//! behind a network, that is most of the cost of issuing a challan.
//!
//! What keeps this invisible to the operations, by construction rather than by care:
//!
//! - **Rollback.** Each table's held rows are one list in the order they were made, with the
//!   index below which they have already been written in this transaction. A savepoint (an
//!   operation's, or a [`crate::sql::nested`] one) records both lengths ([`Mark`]); when it is
//!   rolled back, the database forgets what was written since, and so does the list: the rows
//!   made since are dropped and the rows written since count as unwritten again, to be written
//!   later. A failed operation leaves nothing, the rest of the batch still commits.
//! - **Reads.** Every statement an operation runs through the batch's transaction is looked at
//!   first ([`Deferred::before`]): one that names `events`, `idempotency_keys` or `counters`
//!   finds the held rows of that table written before it runs, so it reads (or changes) what the
//!   operations made. Only the two reads that consult the held rows themselves go past this
//!   check: an idempotency key's lookup and a counter's first read in the batch
//!   (`Tx::query_stored`).
//! - **Order and locks.** Events keep the sequence numbers and hashes given at append time, and
//!   the batch holds the chain-head lock until COMMIT, so nobody else can number an event or
//!   move a counter in between: writing them later is the same as writing them at once.

use crate::sql::{Tx, Value};
use crate::StoreError;
use std::collections::BTreeMap;

/// An event row as `ops::events::append` made it.
#[derive(Debug, Clone)]
pub(crate) struct EventRow {
    pub seq: i64,
    pub at_micros: i64,
    pub kind: String,
    pub subject: String,
    pub actor: String,
    pub payload: String,
    pub prev_hash: String,
    pub hash: String,
}

/// An idempotency key with its saved response, as `ops::idempotency::save_response` made it.
#[derive(Debug, Clone)]
pub(crate) struct KeyRow {
    pub user_id: i64,
    /// The key as stored (with its scope's prefix).
    pub key: String,
    pub request_hash: String,
    pub status: i64,
    pub body: String,
    pub created_at: i64,
}

/// One table's held rows, oldest first; those before `written` are in the database already (in
/// this transaction).
struct Held<T> {
    rows: Vec<T>,
    written: usize,
}

impl<T> Default for Held<T> {
    fn default() -> Self {
        Held {
            rows: Vec::new(),
            written: 0,
        }
    }
}

impl<T> Held<T> {
    fn unwritten(&self) -> &[T] {
        &self.rows[self.written..]
    }

    fn mark(&self) -> (usize, usize) {
        (self.rows.len(), self.written)
    }

    fn back_to(&mut self, (len, written): (usize, usize)) {
        self.rows.truncate(len);
        self.written = written;
    }
}

/// What the batch holds back: see the module documentation.
#[derive(Default)]
pub(crate) struct Deferred {
    events: Held<EventRow>,
    keys: Held<KeyRow>,
    /// Counter values as set, latest last.
    counters: Held<(String, i64)>,
    /// Counter values before this index may be out of date: an operation changed `counters` by
    /// a statement of its own since. Lookups read the database again.
    counters_valid_from: usize,
}

/// Where [`Deferred`] stood when a savepoint was opened, to go back to if it is rolled back.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark {
    events: (usize, usize),
    keys: (usize, usize),
    counters: (usize, usize),
    counters_valid_from: usize,
}

/// The row counts of one INSERT. Each statement is prepared once per connection, so a write
/// uses only these sizes, largest first: n rows take as many statements as n has one bits (13:
/// 8, 4 and 1), from nine statements per table, all cached.
const CHUNKS: [usize; 9] = [256, 128, 64, 32, 16, 8, 4, 2, 1];

impl Deferred {
    pub(crate) fn mark(&self) -> Mark {
        Mark {
            events: self.events.mark(),
            keys: self.keys.mark(),
            counters: self.counters.mark(),
            counters_valid_from: self.counters_valid_from,
        }
    }

    /// The savepoint opened at `m` was rolled back: so is everything held or written since.
    pub(crate) fn back_to(&mut self, m: Mark) {
        self.events.back_to(m.events);
        self.keys.back_to(m.keys);
        self.counters.back_to(m.counters);
        self.counters_valid_from = m.counters_valid_from;
    }

    pub(crate) fn push_event(&mut self, row: EventRow) {
        self.events.rows.push(row);
    }

    pub(crate) fn push_key(&mut self, row: KeyRow) {
        self.keys.rows.push(row);
    }

    /// A key saved earlier in this batch (written or not).
    pub(crate) fn key(&self, user_id: i64, key: &str) -> Option<&KeyRow> {
        self.keys
            .rows
            .iter()
            .rev()
            .find(|k| k.user_id == user_id && k.key == key)
    }

    /// A counter's value as this batch last set it, if it did and nothing has changed the table
    /// behind its back since.
    pub(crate) fn counter(&self, name: &str) -> Option<i64> {
        self.counters.rows[self.counters_valid_from..]
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    }

    pub(crate) fn set_counter(&mut self, name: &str, value: i64) {
        self.counters.rows.push((name.to_string(), value));
    }

    /// Writes whatever `sql` may read or change, before it runs.
    pub(crate) fn before(&mut self, tx: &mut dyn Tx, sql: &str) -> Result<(), StoreError> {
        if self.events.unwritten().is_empty()
            && self.keys.unwritten().is_empty()
            && self.counters.unwritten().is_empty()
            && self.counters.rows.len() == self.counters_valid_from
        {
            return Ok(());
        }
        if mentions(sql, "events") {
            self.write_events(tx)?;
        }
        if mentions(sql, "idempotency_keys") {
            self.write_keys(tx)?;
        }
        if mentions(sql, "counters") {
            self.write_counters(tx)?;
            // The statement may move any counter: read them again after it.
            self.counters_valid_from = self.counters.rows.len();
        }
        Ok(())
    }

    /// Writes everything still held; the writer calls it once, after the last operation.
    pub(crate) fn write_all(&mut self, tx: &mut dyn Tx) -> Result<(), StoreError> {
        self.write_events(tx)?;
        self.write_keys(tx)?;
        self.write_counters(tx)
    }

    fn write_events(&mut self, tx: &mut dyn Tx) -> Result<(), StoreError> {
        insert_rows(
            tx,
            "INSERT INTO events (seq, at_micros, kind, subject, actor, payload, prev_hash, hash)
             VALUES ",
            "",
            8,
            self.events.unwritten(),
            |e, p| {
                p.extend([
                    Value::from(e.seq),
                    Value::from(e.at_micros),
                    Value::from(&e.kind),
                    Value::from(&e.subject),
                    Value::from(&e.actor),
                    Value::from(&e.payload),
                    Value::from(&e.prev_hash),
                    Value::from(&e.hash),
                ])
            },
        )?;
        self.events.written = self.events.rows.len();
        Ok(())
    }

    fn write_keys(&mut self, tx: &mut dyn Tx) -> Result<(), StoreError> {
        insert_rows(
            tx,
            "INSERT INTO idempotency_keys (user_id, key, request_hash, response_status,
                                           response_body, created_at)
             VALUES ",
            "",
            6,
            self.keys.unwritten(),
            |k, p| {
                p.extend([
                    Value::from(k.user_id),
                    Value::from(&k.key),
                    Value::from(&k.request_hash),
                    Value::from(k.status),
                    Value::from(&k.body),
                    Value::from(k.created_at),
                ])
            },
        )?;
        self.keys.written = self.keys.rows.len();
        Ok(())
    }

    fn write_counters(&mut self, tx: &mut dyn Tx) -> Result<(), StoreError> {
        // The latest value of each counter set since the last write. In name order, the same in
        // every batch.
        let latest: BTreeMap<&str, i64> = self
            .counters
            .unwritten()
            .iter()
            .map(|(n, v)| (n.as_str(), *v))
            .collect();
        let latest: Vec<(&str, i64)> = latest.into_iter().collect();
        insert_rows(
            tx,
            "INSERT INTO counters (name, value) VALUES ",
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            2,
            &latest,
            |(n, v), p| p.extend([Value::from(*n), Value::from(*v)]),
        )?;
        self.counters.written = self.counters.rows.len();
        Ok(())
    }
}

/// Inserts `rows` in statements of the sizes in [`CHUNKS`]: `head` ends in `VALUES `, `tail`
/// follows the last row (an `ON CONFLICT` clause), `width` is the columns per row.
pub(crate) fn insert_rows<T>(
    tx: &mut dyn Tx,
    head: &str,
    tail: &str,
    width: usize,
    mut rows: &[T],
    values: impl Fn(&T, &mut Vec<Value>),
) -> Result<(), StoreError> {
    while !rows.is_empty() {
        let n = CHUNKS.into_iter().find(|c| *c <= rows.len()).unwrap_or(1);
        let (chunk, rest) = rows.split_at(n);
        let mut sql = String::with_capacity(head.len() + tail.len() + n * width * 6);
        sql.push_str(head);
        let mut params = Vec::with_capacity(n * width);
        for (i, row) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for j in 0..width {
                if j > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${}", i * width + j + 1));
            }
            sql.push(')');
            values(row, &mut params);
        }
        sql.push_str(tail);
        tx.exec(&sql, &params)?;
        rows = rest;
    }
    Ok(())
}

/// Whether `sql` names `table` as a word, in any case. A false match only writes the held rows
/// earlier than needed; a missed one would let a statement miss them, so this errs towards
/// matching (any word equal to the name, in a literal or a comment too).
fn mentions(sql: &str, table: &str) -> bool {
    let (s, t) = (sql.as_bytes(), table.as_bytes());
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    s.windows(t.len()).enumerate().any(|(i, w)| {
        w.eq_ignore_ascii_case(t)
            && (i == 0 || !word(s[i - 1]))
            && s.get(i + t.len()).is_none_or(|b| !word(*b))
    })
}

#[cfg(test)]
mod tests {
    use super::mentions;

    #[test]
    fn finds_table_names_as_words() {
        assert!(mentions("SELECT * FROM events WHERE seq = $1", "events"));
        assert!(mentions("select actor from EVENTS", "events"));
        assert!(mentions(
            "INSERT INTO counters (name) VALUES ($1)",
            "counters"
        ));
        assert!(mentions(
            "SELECT 1 FROM idempotency_keys",
            "idempotency_keys"
        ));
        assert!(mentions("x JOIN events e ON", "events"));
        assert!(mentions("events", "events"));
        assert!(!mentions("SELECT * FROM notify_events", "events"));
        assert!(!mentions("SELECT * FROM events_archive", "events"));
        assert!(!mentions("UPDATE chain_head SET seq = $1", "events"));
    }
}
