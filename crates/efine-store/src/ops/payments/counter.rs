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
/// the transaction makes a repeat a `Replayed` no-op.
pub fn pay_bill(
    tx: &mut dyn Tx,
    psid: &Psid,
    amount: Money,
    tran_date: Date,
    rail_txn_id: &str,
    bank: &str,
    at: OffsetDateTime,
) -> Result<BillPayment, StoreError> {
    if let Some(a) = attempt_by_rail_txn(tx, Rail::OneBill, rail_txn_id)? {
        return Ok(BillPayment::Credited(earlier_credit(tx, &a)?));
    }
    let Some(c) = challans::by_psid(tx, psid)? else {
        return Ok(BillPayment::NotFound);
    };
    if c.status != ChallanStatus::Unpaid {
        return Ok(BillPayment::NotPayable(c.status));
    }
    // The bank's transaction date decides the amount, within a day of ours (a payment taken just
    // before midnight on the due date and sent just after is still on time).
    let today = karachi_date(at);
    let on = if tran_date <= today && tran_date >= today - time::Duration::days(1) {
        tran_date
    } else {
        today
    };
    let due = c.amount_due(on);
    if amount != due {
        return Ok(BillPayment::WrongAmount { due });
    }
    let reference = next_attempt_reference(tx, at)?;
    let state = AttemptState::Initiated;
    let id = tx
        .query_one(
            "INSERT INTO payment_attempts (reference, rail, challan_number, amount_paisa, state, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
            params![
                reference.as_str(),
                Rail::OneBill.as_str(),
                c.number.to_string(),
                amount.paisa(),
                state.as_str(),
                bank,
                to_micros(at)
            ],
        )?
        .i64(0)?;
    events::append(
        tx,
        at,
        AttemptEvent::Created.kind(),
        &reference,
        bank,
        &serde_json::json!({"rail": "1bill", "challan": c.number.to_string(), "amount": amount.paisa(), "bank": bank}),
    )?;
    let a = Attempt {
        id,
        reference,
        rail: Rail::OneBill,
        challan_number: c.number.to_string(),
        amount,
        state,
        rail_txn_id: None,
        created_at: at,
    };
    Ok(BillPayment::Credited(credit(
        tx,
        &a,
        rail_txn_id,
        bank,
        at,
    )?))
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
