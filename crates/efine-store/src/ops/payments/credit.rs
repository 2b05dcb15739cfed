//! Opening an attempt for the amount due, moving it along its transition table, and crediting a
//! confirmed one exactly once.

use super::*;
use crate::ops::{challans, counters, events, ledger, stats};
use crate::sql::Tx;
use crate::{params, StoreError};
use efine_core::challan::{self, Challan, ChallanEvent, ChallanStatus};
use efine_core::clock::{karachi_date, to_micros};
use efine_core::ledger as postings;
use efine_core::payment::{self as pay, AttemptEvent, AttemptState, Rail};
use efine_core::{ChallanNumber, Money};
use time::{Date, OffsetDateTime};

pub(super) fn next_attempt_reference(
    tx: &mut dyn Tx,
    at: OffsetDateTime,
) -> Result<String, StoreError> {
    let seq = counters::next(tx, "payment_attempt")?;
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

pub(super) fn set_attempt_state(
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
        ChallanStatus::Expired => {
            return Err(StoreError::conflict(
                "expired",
                "this voucher expired unpaid: ask for a new one",
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

/// How many online attempts (any rail but the counter) for this challan are still open
/// (initiated, pending or unknown) and were created at or after `since`: what bounds the
/// attempts anonymous checkouts can open for one challan.
pub fn open_attempts_since(
    tx: &mut dyn Tx,
    number: &ChallanNumber,
    since: OffsetDateTime,
) -> Result<i64, StoreError> {
    tx.query_one(
        "SELECT COUNT(*) FROM payment_attempts
         WHERE challan_number = $1 AND rail <> 'counter'
           AND state IN ('initiated', 'pending', 'unknown') AND created_at >= $2",
        params![number.to_string(), to_micros(since)],
    )?
    .i64(0)
}

/// What an earlier credit of this attempt did (for replays).
pub(super) fn earlier_credit(tx: &mut dyn Tx, a: &Attempt) -> Result<Credit, StoreError> {
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
            "UPDATE challans SET status = $1, next_step_on = NULL WHERE number = $2",
            params![to.as_str(), a.challan_number.as_str()],
        )?;
        let year = karachi_date(at).year();
        let seq = counters::next(tx, &format!("receipt:{year}"))?;
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
        book_liability(tx, a, &reason, actor, at)
    }
}

/// Money a rail took that cannot pay the challan it names (an instant payment of the wrong
/// amount: the payer's app paid what an old QR said): the attempt is confirmed with the rail's
/// transaction id, so a repeat is recognised, and the money is booked as owed back. The challan
/// stays as it was.
pub fn credit_as_owed(
    tx: &mut dyn Tx,
    a: &Attempt,
    rail_txn_id: &str,
    reason: &str,
    actor: &str,
    at: OffsetDateTime,
) -> Result<Credit, StoreError> {
    if a.state == AttemptState::Confirmed {
        return earlier_credit(tx, a);
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
    book_liability(tx, a, reason, actor, at)
}

fn book_liability(
    tx: &mut dyn Tx,
    a: &Attempt,
    reason: &str,
    actor: &str,
    at: OffsetDateTime,
) -> Result<Credit, StoreError> {
    let id = tx
        .query_one(
            "INSERT INTO refund_liabilities (attempt_id, challan_number, rail, amount_paisa, reason, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            params![
                a.id,
                a.challan_number.as_str(),
                a.rail.as_str(),
                a.amount.paisa(),
                reason,
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
