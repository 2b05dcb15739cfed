//! Payments: attempts, crediting exactly once, receipts and refund liabilities.
//!
//! Every rail ends in `credit`: it is the only code that marks a challan paid. It runs in the
//! single writer (and, on PostgreSQL, under the chain-head lock), so two rails confirming the
//! same challan at the same moment are applied one after the other: the first pays the challan,
//! the second becomes a refund liability. A replay of a confirmation the rail already sent is
//! recognised by `(rail, rail_txn_id)` and credits nothing.
//!
//! - this module: the attempt, receipt and liability records and their reads, and the raw
//!   messages kept from every rail;
//! - `credit`: opening an attempt, moving it along its transition table, and `credit` itself;
//! - `counter`: the two rails that open and confirm in one message, 1Bill and counter cash.

mod counter;
mod credit;

pub use counter::{cash_up, pay_at_counter, pay_bill, pay_instant, BillPayment, CashierTotal};
pub use credit::{credit, credit_as_owed, mark, open_attempts_since, payable, start_attempt};

use crate::sql::{Row, Tx};
use crate::{params, StoreError};
use efine_core::clock::{from_micros, to_micros};
use efine_core::payment::{AttemptState, Rail};
use efine_core::Money;
use serde::Serialize;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    pub id: i64,
    pub reference: String,
    pub rail: Rail,
    pub challan_number: String,
    pub amount: Money,
    pub state: AttemptState,
    pub rail_txn_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub number: String,
    pub challan_number: String,
    pub rail: Rail,
    pub amount: Money,
    #[serde(with = "time::serde::rfc3339")]
    pub paid_at: OffsetDateTime,
    pub attempt_reference: String,
}

/// What crediting a confirmed payment did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credit {
    /// The challan is now paid.
    Paid(Receipt),
    /// Money taken for a challan already paid or cancelled: owed back to the payer.
    RefundOwed { liability_id: i64, amount: Money },
    /// The rail sent this confirmation before; nothing new was credited.
    Replayed(Box<Credit>),
}

pub(super) const ATTEMPT_COLS: &str =
    "id, reference, rail, challan_number, amount_paisa, state, rail_txn_id, created_at";

pub(super) fn attempt(r: &Row) -> Result<Attempt, StoreError> {
    let rail = r.text(2)?;
    let state = r.text(5)?;
    Ok(Attempt {
        id: r.i64(0)?,
        reference: r.text(1)?,
        rail: Rail::parse(&rail).ok_or_else(|| StoreError::Corrupt(format!("rail {rail}")))?,
        challan_number: r.text(3)?,
        amount: Money::from_paisa(r.i64(4)?)?,
        state: AttemptState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("attempt state {state}")))?,
        rail_txn_id: r.opt_text(6)?,
        created_at: from_micros(r.i64(7)?),
    })
}

pub fn attempt_by_reference(
    tx: &mut dyn Tx,
    reference: &str,
) -> Result<Option<Attempt>, StoreError> {
    tx.query_opt(
        &format!("SELECT {ATTEMPT_COLS} FROM payment_attempts WHERE reference = $1"),
        params![reference],
    )?
    .map(|r| attempt(&r))
    .transpose()
}

pub(super) fn attempt_by_rail_txn(
    tx: &mut dyn Tx,
    rail: Rail,
    rail_txn_id: &str,
) -> Result<Option<Attempt>, StoreError> {
    tx.query_opt(
        &format!(
            "SELECT {ATTEMPT_COLS} FROM payment_attempts WHERE rail = $1 AND rail_txn_id = $2"
        ),
        params![rail.as_str(), rail_txn_id],
    )?
    .map(|r| attempt(&r))
    .transpose()
}

/// Attempts on one rail in a state, oldest first (for the pending poller).
pub fn attempts_in_state(
    tx: &mut dyn Tx,
    state: AttemptState,
    limit: i64,
) -> Result<Vec<Attempt>, StoreError> {
    tx.query(
        &format!("SELECT {ATTEMPT_COLS} FROM payment_attempts WHERE state = $1 ORDER BY created_at LIMIT $2"),
        params![state.as_str(), limit],
    )?
    .iter()
    .map(attempt)
    .collect()
}

pub(crate) const RECEIPT_COLS: &str =
    "r.number, r.challan_number, r.rail, r.amount_paisa, r.paid_at, a.reference";

pub(crate) fn receipt(r: &Row) -> Result<Receipt, StoreError> {
    let rail = r.text(2)?;
    Ok(Receipt {
        number: r.text(0)?,
        challan_number: r.text(1)?,
        rail: Rail::parse(&rail).ok_or_else(|| StoreError::Corrupt(format!("rail {rail}")))?,
        amount: Money::from_paisa(r.i64(3)?)?,
        paid_at: from_micros(r.i64(4)?),
        attempt_reference: r.text(5)?,
    })
}

pub fn receipt_for_challan(tx: &mut dyn Tx, number: &str) -> Result<Option<Receipt>, StoreError> {
    tx.query_opt(
        &format!("SELECT {RECEIPT_COLS} FROM receipts r JOIN payment_attempts a ON a.id = r.attempt_id WHERE r.challan_number = $1"),
        params![number],
    )?
    .map(|r| receipt(&r))
    .transpose()
}

pub fn receipt_by_number(tx: &mut dyn Tx, number: &str) -> Result<Option<Receipt>, StoreError> {
    tx.query_opt(
        &format!("SELECT {RECEIPT_COLS} FROM receipts r JOIN payment_attempts a ON a.id = r.attempt_id WHERE r.number = $1"),
        params![number],
    )?
    .map(|r| receipt(&r))
    .transpose()
}

pub(super) fn receipt_for_attempt(
    tx: &mut dyn Tx,
    attempt_id: i64,
) -> Result<Option<Receipt>, StoreError> {
    tx.query_opt(
        &format!("SELECT {RECEIPT_COLS} FROM receipts r JOIN payment_attempts a ON a.id = r.attempt_id WHERE r.attempt_id = $1"),
        params![attempt_id],
    )?
    .map(|r| receipt(&r))
    .transpose()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Liability {
    pub id: i64,
    pub attempt_reference: String,
    pub challan_number: String,
    pub rail: Rail,
    pub amount: Money,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Refund liabilities, newest first: what finance must pay back.
pub fn liabilities(tx: &mut dyn Tx, limit: i64) -> Result<Vec<Liability>, StoreError> {
    tx.query(
        "SELECT l.id, a.reference, l.challan_number, l.rail, l.amount_paisa, l.reason, l.created_at
         FROM refund_liabilities l JOIN payment_attempts a ON a.id = l.attempt_id
         ORDER BY l.id DESC LIMIT $1",
        params![limit],
    )?
    .iter()
    .map(|r| {
        let rail = r.text(3)?;
        Ok(Liability {
            id: r.i64(0)?,
            attempt_reference: r.text(1)?,
            challan_number: r.text(2)?,
            rail: Rail::parse(&rail).ok_or_else(|| StoreError::Corrupt(format!("rail {rail}")))?,
            amount: Money::from_paisa(r.i64(4)?)?,
            reason: r.text(5)?,
            created_at: from_micros(r.i64(6)?),
        })
    })
    .collect()
}

pub(super) fn liability_for_attempt(
    tx: &mut dyn Tx,
    attempt_id: i64,
) -> Result<Option<(i64, Money)>, StoreError> {
    tx.query_opt(
        "SELECT id, amount_paisa FROM refund_liabilities WHERE attempt_id = $1",
        params![attempt_id],
    )?
    .map(|r| Ok((r.i64(0)?, Money::from_paisa(r.i64(1)?)?)))
    .transpose()
}

/// Keeps what a rail sent, as received, with what we made of it. Credentials must already be
/// removed by the caller.
pub fn record_message(
    tx: &mut dyn Tx,
    rail: Rail,
    kind: &str,
    reference: Option<&str>,
    body: &str,
    verdict: &str,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    tx.exec(
        "INSERT INTO rail_messages (rail, kind, reference, body, verdict, received_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        params![rail.as_str(), kind, reference, body, verdict, to_micros(at)],
    )?;
    Ok(())
}
