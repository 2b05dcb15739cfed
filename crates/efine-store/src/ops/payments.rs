//! Payments: attempts, crediting exactly once, receipts and refund liabilities.
//!
//! Every rail ends in `credit`: it is the only code that marks a challan paid. It runs in the
//! single writer (and, on PostgreSQL, under the chain-head lock), so two rails confirming the
//! same challan at the same moment are applied one after the other: the first pays the challan,
//! the second becomes a refund liability. A replay of a confirmation the rail already sent is
//! recognised by `(rail, rail_txn_id)` and credits nothing.

use crate::ops::{challans, events, ledger, stats};
use crate::sql::{Row, Tx};
use crate::{params, StoreError};
use efine_core::challan::{self, Challan, ChallanEvent, ChallanStatus};
use efine_core::clock::{from_micros, karachi_date, to_micros};
use efine_core::ledger as postings;
use efine_core::payment::{self as pay, AttemptEvent, AttemptState, Rail};
use efine_core::{ChallanNumber, Money, Psid};
use serde::Serialize;
use time::{Date, OffsetDateTime};

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

const ATTEMPT_COLS: &str =
    "id, reference, rail, challan_number, amount_paisa, state, rail_txn_id, created_at";

fn attempt(r: &Row) -> Result<Attempt, StoreError> {
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

fn attempt_by_rail_txn(
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

const RECEIPT_COLS: &str =
    "r.number, r.challan_number, r.rail, r.amount_paisa, r.paid_at, a.reference";

fn receipt(r: &Row) -> Result<Receipt, StoreError> {
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

fn receipt_for_attempt(tx: &mut dyn Tx, attempt_id: i64) -> Result<Option<Receipt>, StoreError> {
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

fn liability_for_attempt(
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

fn next_attempt_reference(tx: &mut dyn Tx, at: OffsetDateTime) -> Result<String, StoreError> {
    let seq = tx
        .query_one(
            "INSERT INTO counters (name, value) VALUES ('payment_attempt', 1)
             ON CONFLICT (name) DO UPDATE SET value = counters.value + 1
             RETURNING value",
            &[],
        )?
        .i64(0)?;
    let d = karachi_date(at);
    // EF + YYMMDD + sequence: at most 20 characters, as pp_TxnRefNo allows.
    Ok(format!(
        "EF{:02}{:02}{:02}{:010}",
        d.year() % 100,
        u8::from(d.month()),
        d.day(),
        seq
    ))
}

fn set_attempt_state(
    tx: &mut dyn Tx,
    a: &Attempt,
    event: AttemptEvent,
    rail_txn_id: Option<&str>,
    detail: serde_json::Value,
    actor: &str,
    at: OffsetDateTime,
) -> Result<AttemptState, StoreError> {
    let to = pay::transition(Some(a.state), event)
        .map_err(|e| StoreError::conflict("payment_state", e.to_string()))?;
    tx.exec(
        "UPDATE payment_attempts SET state = $1, rail_txn_id = COALESCE($2, rail_txn_id), updated_at = $3
         WHERE id = $4",
        params![to.as_str(), rail_txn_id, to_micros(at), a.id],
    )?;
    events::append(
        tx,
        at,
        event.kind(),
        &a.reference,
        actor,
        &serde_json::json!({
            "rail": a.rail.as_str(),
            "challan": a.challan_number,
            "amount": a.amount.paisa(),
            "from": a.state.as_str(),
            "to": to.as_str(),
            "rail_txn_id": rail_txn_id,
            "detail": detail,
        }),
    )?;
    Ok(to)
}

/// The challan a citizen wants to pay, and what it costs on `on`.
pub fn payable(
    tx: &mut dyn Tx,
    number: &ChallanNumber,
    on: Date,
) -> Result<(Challan, Money), StoreError> {
    let c =
        challans::by_number(tx, number)?.ok_or_else(|| StoreError::NotFound("challan".into()))?;
    match c.status {
        ChallanStatus::Unpaid => {}
        ChallanStatus::Paid => {
            return Err(StoreError::conflict(
                "already_paid",
                "this challan is already paid",
            ))
        }
        ChallanStatus::Cancelled => {
            return Err(StoreError::conflict(
                "cancelled",
                "this challan was cancelled",
            ))
        }
    }
    let due = c.amount_due(on);
    Ok((c, due))
}

/// Opens an attempt on a hosted rail (JazzCash, Easypaisa, card) for the amount due today.
pub fn start_attempt(
    tx: &mut dyn Tx,
    number: &ChallanNumber,
    rail: Rail,
    actor: &str,
    at: OffsetDateTime,
) -> Result<(Attempt, Challan), StoreError> {
    let (c, amount) = payable(tx, number, karachi_date(at))?;
    let reference = next_attempt_reference(tx, at)?;
    let state = pay::transition(None, AttemptEvent::Created)
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let id = tx
        .query_one(
            "INSERT INTO payment_attempts (reference, rail, challan_number, amount_paisa, state, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
            params![
                reference.as_str(),
                rail.as_str(),
                c.number.to_string(),
                amount.paisa(),
                state.as_str(),
                actor,
                to_micros(at)
            ],
        )?
        .i64(0)?;
    events::append(
        tx,
        at,
        AttemptEvent::Created.kind(),
        &reference,
        actor,
        &serde_json::json!({"rail": rail.as_str(), "challan": c.number.to_string(), "amount": amount.paisa()}),
    )?;
    Ok((
        Attempt {
            id,
            reference,
            rail,
            challan_number: c.number.to_string(),
            amount,
            state,
            rail_txn_id: None,
            created_at: efine_core::clock::from_micros(to_micros(at)),
        },
        c,
    ))
}

/// What an earlier credit of this attempt did (for replays).
fn earlier_credit(tx: &mut dyn Tx, a: &Attempt) -> Result<Credit, StoreError> {
    if let Some(r) = receipt_for_attempt(tx, a.id)? {
        return Ok(Credit::Replayed(Box::new(Credit::Paid(r))));
    }
    if let Some((id, amount)) = liability_for_attempt(tx, a.id)? {
        return Ok(Credit::Replayed(Box::new(Credit::RefundOwed {
            liability_id: id,
            amount,
        })));
    }
    Err(StoreError::Corrupt(format!(
        "attempt {} is confirmed but has neither receipt nor liability",
        a.reference
    )))
}

/// Credits a confirmed attempt exactly once: pays the challan (receipt, revenue postings,
/// `challan.paid`), or, when the challan is no longer payable, books the money as a refund
/// liability. A second call for the same attempt or rail transaction is a `Replayed` no-op.
pub fn credit(
    tx: &mut dyn Tx,
    a: &Attempt,
    rail_txn_id: &str,
    actor: &str,
    at: OffsetDateTime,
) -> Result<Credit, StoreError> {
    if a.state == AttemptState::Confirmed {
        return earlier_credit(tx, a);
    }
    if let Some(other) = attempt_by_rail_txn(tx, a.rail, rail_txn_id)? {
        if other.id != a.id {
            return Err(StoreError::conflict(
                "rail_txn_reused",
                format!(
                    "{} transaction {rail_txn_id} already credited attempt {}",
                    a.rail.as_str(),
                    other.reference
                ),
            ));
        }
    }
    set_attempt_state(
        tx,
        a,
        AttemptEvent::Confirmed,
        Some(rail_txn_id),
        serde_json::Value::Null,
        actor,
        at,
    )?;
    let number = ChallanNumber::parse(&a.challan_number)?;
    let c = challans::by_number(tx, &number)?
        .ok_or_else(|| StoreError::Corrupt(format!("attempt for unknown challan {number}")))?;
    if c.status == ChallanStatus::Unpaid {
        let to = challan::transition(Some(c.status), ChallanEvent::PaymentConfirmed)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        tx.exec(
            "UPDATE challans SET status = $1 WHERE number = $2",
            params![to.as_str(), a.challan_number.as_str()],
        )?;
        let year = karachi_date(at).year();
        let seq = tx
            .query_one(
                "INSERT INTO counters (name, value) VALUES ($1, 1)
                 ON CONFLICT (name) DO UPDATE SET value = counters.value + 1
                 RETURNING value",
                params![format!("receipt:{year}")],
            )?
            .i64(0)?;
        let receipt_no = format!("RCT-{year}-{seq:07}");
        tx.exec(
            "INSERT INTO receipts (number, year, seq, attempt_id, challan_number, rail, amount_paisa, paid_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            params![
                receipt_no.as_str(),
                i64::from(year),
                seq,
                a.id,
                a.challan_number.as_str(),
                a.rail.as_str(),
                a.amount.paisa(),
                to_micros(at)
            ],
        )?;
        stats::on_paid(tx, &c, a.rail, a.amount, at)?;
        ledger::post(
            tx,
            &postings::payment_received(a.rail, &c.department, &c.offence, a.amount),
            &receipt_no,
            at,
        )?;
        events::append(
            tx,
            at,
            ChallanEvent::PaymentConfirmed.kind(),
            &a.challan_number,
            actor,
            &serde_json::json!({
                "receipt": receipt_no,
                "rail": a.rail.as_str(),
                "amount": a.amount.paisa(),
                "attempt": a.reference,
                "rail_txn_id": rail_txn_id,
            }),
        )?;
        // An appeal still open has nothing left to decide once the challan is paid.
        crate::ops::appeals::close_open(tx, &a.challan_number, "challan paid", at)?;
        Ok(Credit::Paid(Receipt {
            number: receipt_no,
            challan_number: a.challan_number.clone(),
            rail: a.rail,
            amount: a.amount,
            paid_at: efine_core::clock::from_micros(to_micros(at)),
            attempt_reference: a.reference.clone(),
        }))
    } else {
        let reason = format!(
            "challan was already {} when this payment arrived",
            c.status.as_str()
        );
        let id = tx
            .query_one(
                "INSERT INTO refund_liabilities (attempt_id, challan_number, rail, amount_paisa, reason, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                params![
                    a.id,
                    a.challan_number.as_str(),
                    a.rail.as_str(),
                    a.amount.paisa(),
                    reason.as_str(),
                    to_micros(at)
                ],
            )?
            .i64(0)?;
        ledger::post(
            tx,
            &postings::overpayment(a.rail, a.amount),
            &a.reference,
            at,
        )?;
        events::append(
            tx,
            at,
            "payment.refund_owed",
            &a.challan_number,
            actor,
            &serde_json::json!({
                "liability": id,
                "rail": a.rail.as_str(),
                "amount": a.amount.paisa(),
                "attempt": a.reference,
                "reason": reason,
            }),
        )?;
        Ok(Credit::RefundOwed {
            liability_id: id,
            amount: a.amount,
        })
    }
}

/// A rail's non-confirming word about an attempt (pending, failed). A repeat is a no-op.
pub fn mark(
    tx: &mut dyn Tx,
    a: &Attempt,
    event: AttemptEvent,
    detail: serde_json::Value,
    actor: &str,
    at: OffsetDateTime,
) -> Result<AttemptState, StoreError> {
    let already = matches!(
        (a.state, event),
        (AttemptState::Pending, AttemptEvent::MarkedPending)
            | (AttemptState::Failed, AttemptEvent::Failed)
            | (AttemptState::Unknown, AttemptEvent::InquiryFailed)
    );
    if already {
        return Ok(a.state);
    }
    set_attempt_state(tx, a, event, None, detail, actor, at)
}

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
