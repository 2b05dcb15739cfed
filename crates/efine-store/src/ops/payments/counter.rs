//! The rails that open and confirm a payment in one message: a bank's 1Bill payment and cash at
//! a department counter, and the day's cash-up.

use super::credit::*;
use super::*;
use crate::ops::{challans, events};
use crate::sql::Tx;
use crate::{params, StoreError};
use efine_core::challan::ChallanStatus;
use efine_core::clock::{karachi_date, to_micros};
use efine_core::payment::{AttemptEvent, AttemptState, Rail};
use efine_core::{ChallanNumber, Money, Psid};
use serde::Serialize;
use time::{Date, OffsetDateTime};

/// What a 1Bill payment request did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BillPayment {
    Credited(Credit),
    NotFound,
    /// Paid or cancelled: refused before any money moves (the bank does not collect).
    NotPayable(ChallanStatus),
    /// Not the full amount due on the transaction date.
    WrongAmount {
        due: Money,
    },
}

/// A bank's 1Bill payment: an attempt opened and confirmed in one message. The rail's identity of
/// the transaction makes a repeat a `Replayed` no-op. The bank asks before it collects, so an item
/// not payable, or the wrong amount, is refused and no money moves.
pub fn pay_bill(
    tx: &mut dyn Tx,
    psid: &Psid,
    amount: Money,
    tran_date: Date,
    rail_txn_id: &str,
    bank: &str,
    at: OffsetDateTime,
) -> Result<BillPayment, StoreError> {
    pay_by_psid(
        tx,
        Rail::OneBill,
        psid,
        amount,
        tran_date,
        rail_txn_id,
        bank,
        at,
    )
}

/// A Raast payment the biller's bank reports: the money has already moved, so nothing is refused
/// once the PSID is known. The right amount for an unpaid item pays it; the wrong amount, or an
/// item already paid or cancelled, is booked as owed back (through `credit`, like every rail).
/// A repeat of the same Raast transaction is a `Replayed` no-op.
#[allow(clippy::too_many_arguments)]
pub fn pay_instant(
    tx: &mut dyn Tx,
    rail: Rail,
    psid: &Psid,
    amount: Money,
    paid_on: Date,
    rail_txn_id: &str,
    actor: &str,
    at: OffsetDateTime,
) -> Result<BillPayment, StoreError> {
    if let Some(a) = attempt_by_rail_txn(tx, rail, rail_txn_id)? {
        return Ok(BillPayment::Credited(earlier_credit(tx, &a)?));
    }
    let Some(c) = challans::by_psid(tx, psid)? else {
        return Ok(BillPayment::NotFound);
    };
    let due = c.amount_due(on_date(paid_on, at));
    let a = open_confirming_attempt(tx, rail, &c.number.to_string(), amount, actor, at)?;
    if c.status == ChallanStatus::Unpaid && amount != due {
        let reason = format!("paid {amount} where {due} was due");
        return Ok(BillPayment::Credited(credit_as_owed(
            tx,
            &a,
            rail_txn_id,
            &reason,
            actor,
            at,
        )?));
    }
    Ok(BillPayment::Credited(credit(
        tx,
        &a,
        rail_txn_id,
        actor,
        at,
    )?))
}

/// The rail's transaction date decides the amount, within a day of ours (a payment taken just
/// before midnight on the due date and sent just after is still on time).
fn on_date(tran_date: Date, at: OffsetDateTime) -> Date {
    let today = karachi_date(at);
    if tran_date <= today && tran_date >= today - time::Duration::days(1) {
        tran_date
    } else {
        today
    }
}

#[allow(clippy::too_many_arguments)]
fn pay_by_psid(
    tx: &mut dyn Tx,
    rail: Rail,
    psid: &Psid,
    amount: Money,
    tran_date: Date,
    rail_txn_id: &str,
    bank: &str,
    at: OffsetDateTime,
) -> Result<BillPayment, StoreError> {
    if let Some(a) = attempt_by_rail_txn(tx, rail, rail_txn_id)? {
        return Ok(BillPayment::Credited(earlier_credit(tx, &a)?));
    }
    let Some(c) = challans::by_psid(tx, psid)? else {
        return Ok(BillPayment::NotFound);
    };
    if c.status != ChallanStatus::Unpaid {
        return Ok(BillPayment::NotPayable(c.status));
    }
    let due = c.amount_due(on_date(tran_date, at));
    if amount != due {
        return Ok(BillPayment::WrongAmount { due });
    }
    let a = open_confirming_attempt(tx, rail, &c.number.to_string(), amount, bank, at)?;
    Ok(BillPayment::Credited(credit(
        tx,
        &a,
        rail_txn_id,
        bank,
        at,
    )?))
}

/// An attempt opened by the rail's own confirming message (its `payment.initiated` event says
/// who sent it), about to be credited.
fn open_confirming_attempt(
    tx: &mut dyn Tx,
    rail: Rail,
    challan_number: &str,
    amount: Money,
    by: &str,
    at: OffsetDateTime,
) -> Result<Attempt, StoreError> {
    let reference = next_attempt_reference(tx, at)?;
    let state = AttemptState::Initiated;
    let id = tx
        .query_one(
            "INSERT INTO payment_attempts (reference, rail, challan_number, amount_paisa, state, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
            params![
                reference.as_str(),
                rail.as_str(),
                challan_number,
                amount.paisa(),
                state.as_str(),
                by,
                to_micros(at)
            ],
        )?
        .i64(0)?;
    events::append(
        tx,
        at,
        AttemptEvent::Created.kind(),
        &reference,
        by,
        &serde_json::json!({"rail": rail.as_str(), "challan": challan_number, "amount": amount.paisa(), "bank": by}),
    )?;
    Ok(Attempt {
        id,
        reference,
        rail,
        challan_number: challan_number.to_string(),
        amount,
        state,
        rail_txn_id: None,
        created_at: at,
    })
}

/// Cash taken at a department counter by a cashier (finance): the full amount due today, or
/// nothing. Credited at once, like every rail, through `credit`.
pub fn pay_at_counter(
    tx: &mut dyn Tx,
    number: &ChallanNumber,
    amount: Money,
    cashier: &str,
    at: OffsetDateTime,
) -> Result<Receipt, StoreError> {
    let (_, due) = payable(tx, number, karachi_date(at))?;
    if amount != due {
        return Err(StoreError::invalid(
            "amount",
            format!(
                "take the full amount due today: {due} ({} paisa)",
                due.paisa()
            ),
        ));
    }
    let (a, _) = start_attempt(tx, number, Rail::Counter, cashier, at)?;
    let txn = format!("counter:{}", a.reference);
    match credit(tx, &a, &txn, cashier, at)? {
        Credit::Paid(r) => Ok(r),
        other => Err(StoreError::Corrupt(format!(
            "counter payment credited as {other:?}"
        ))),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CashierTotal {
    pub cashier: String,
    pub count: i64,
    pub total: Money,
}

/// The day's cash-up: counter receipts of one local day, per cashier, and the receipts.
pub fn cash_up(
    tx: &mut dyn Tx,
    day: Date,
) -> Result<(Vec<CashierTotal>, Vec<Receipt>), StoreError> {
    let start = day.midnight().assume_offset(efine_core::clock::KARACHI);
    let end = start + time::Duration::days(1);
    let rows = tx.query(
        "SELECT a.created_by, COUNT(*), CAST(SUM(r.amount_paisa) AS BIGINT)
         FROM receipts r JOIN payment_attempts a ON a.id = r.attempt_id
         WHERE r.rail = 'counter' AND r.paid_at >= $1 AND r.paid_at < $2
         GROUP BY a.created_by ORDER BY a.created_by",
        params![to_micros(start), to_micros(end)],
    )?;
    let totals = rows
        .iter()
        .map(|r| {
            Ok(CashierTotal {
                cashier: r.text(0)?,
                count: r.i64(1)?,
                total: Money::from_paisa(r.i64(2)?)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let receipts = tx
        .query(
            &format!("SELECT {RECEIPT_COLS} FROM receipts r JOIN payment_attempts a ON a.id = r.attempt_id
             WHERE r.rail = 'counter' AND r.paid_at >= $1 AND r.paid_at < $2 ORDER BY r.paid_at"),
            params![to_micros(start), to_micros(end)],
        )?
        .iter()
        .map(receipt)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((totals, receipts))
}
