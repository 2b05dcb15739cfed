//! Gap-free counters (challan numbers per department, district and year; receipt numbers;
//! payment references; device slots), moved inside the transaction that uses the number, so a
//! rolled-back operation gives its number back.

use crate::sql::Tx;
use crate::{params, StoreError};

/// The counter's next value, counted in this transaction.
///
/// Inside a write batch the counter is read from the database once, the first time the batch
/// uses it, then counted in memory and written back just before COMMIT (`crate::deferred`): the
/// batch holds the chain-head lock, so no other writer can move it meanwhile, and an operation
/// that fails forgets its numbers with the rest of its work.
pub(crate) fn next(tx: &mut dyn Tx, name: &str) -> Result<i64, StoreError> {
    let held = match tx.batch_state() {
        None => {
            return tx
                .query_one(
                    "INSERT INTO counters (name, value) VALUES ($1, 1)
                     ON CONFLICT (name) DO UPDATE SET value = counters.value + 1
                     RETURNING value",
                    params![name],
                )?
                .i64(0)
        }
        Some(b) => b.deferred.counter(name),
    };
    let value = match held {
        Some(v) => v,
        None => tx
            .query_stored_opt("SELECT value FROM counters WHERE name = $1", params![name])?
            .map(|r| r.i64(0))
            .transpose()?
            .unwrap_or(0),
    };
    let next = value + 1;
    if let Some(b) = tx.batch_state() {
        b.deferred.set_counter(name, next);
    }
    Ok(next)
}
