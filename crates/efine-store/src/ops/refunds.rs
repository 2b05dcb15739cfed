//! Refunds of money taken that was not owed: one finance user requests, another approves (four
//! eyes); approval posts the ledger and sends the refund to the rail.

use crate::ops::{events, ledger};
use crate::sql::{Row, Tx};
use crate::{params, StoreError};
use efine_core::auth::{four_eyes, Decider};
use efine_core::clock::{from_micros, to_micros};
use efine_core::payment::Rail;
use efine_core::refund::{self as lifecycle, RefundEvent, RefundState};
use efine_core::Money;
use serde::Serialize;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refund {
    pub id: i64,
    pub liability_id: i64,
    pub challan_number: String,
    pub rail: Rail,
    pub amount: Money,
    pub state: RefundState,
    pub reason: String,
    pub requested_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    pub decided_by: Option<String>,
    pub rail_ref: Option<String>,
}

const COLS: &str =
    "f.id, f.liability_id, l.challan_number, l.rail, f.amount_paisa, f.state, f.reason, \
                    f.requested_by, f.requested_at, f.decided_by, f.rail_ref";

fn refund(r: &Row) -> Result<Refund, StoreError> {
    let rail = r.text(3)?;
    let state = r.text(5)?;
    Ok(Refund {
        id: r.i64(0)?,
        liability_id: r.i64(1)?,
        challan_number: r.text(2)?,
        rail: Rail::parse(&rail).ok_or_else(|| StoreError::Corrupt(format!("rail {rail}")))?,
        amount: Money::from_paisa(r.i64(4)?)?,
        state: RefundState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("refund state {state}")))?,
        reason: r.text(6)?,
        requested_by: r.text(7)?,
        requested_at: from_micros(r.i64(8)?),
        decided_by: r.opt_text(9)?,
        rail_ref: r.opt_text(10)?,
    })
}

pub fn by_id(tx: &mut dyn Tx, id: i64) -> Result<Option<Refund>, StoreError> {
    tx.query_opt(
        &format!("SELECT {COLS} FROM refunds f JOIN refund_liabilities l ON l.id = f.liability_id WHERE f.id = $1"),
        params![id],
    )?
    .map(|r| refund(&r))
    .transpose()
}

pub fn list(tx: &mut dyn Tx, limit: i64) -> Result<Vec<Refund>, StoreError> {
    tx.query(
        &format!("SELECT {COLS} FROM refunds f JOIN refund_liabilities l ON l.id = f.liability_id ORDER BY f.id DESC LIMIT $1"),
        params![limit],
    )?
    .iter()
    .map(refund)
    .collect()
}

/// Opens a refund of a liability, for its full amount.
pub fn request(
    tx: &mut dyn Tx,
    liability_id: i64,
    reason: &str,
    by: &str,
    at: OffsetDateTime,
) -> Result<Refund, StoreError> {
    let l = tx
        .query_opt(
            "SELECT amount_paisa, challan_number FROM refund_liabilities WHERE id = $1",
            params![liability_id],
        )?
        .ok_or_else(|| StoreError::invalid("liability_id", "no such refund liability"))?;
    let existing = tx.query_opt(
        "SELECT id, state FROM refunds WHERE liability_id = $1",
        params![liability_id],
    )?;
    if let Some(e) = existing {
        return Err(StoreError::conflict(
            "refund_exists",
            format!(
                "refund {} for this liability is already {}",
                e.i64(0)?,
                e.text(1)?
            ),
        ));
    }
    let state = lifecycle::transition(None, RefundEvent::Requested)
        .map_err(|e| StoreError::conflict("transition_refused", e.to_string()))?;
    let id = tx
        .query_one(
            "INSERT INTO refunds (liability_id, amount_paisa, state, reason, requested_by, requested_at)
             VALUES ($1, $2, $6, $3, $4, $5) RETURNING id",
            params![liability_id, l.i64(0)?, reason, by, to_micros(at), state.as_str()],
        )?
        .i64(0)?;
    events::append(
        tx,
        at,
        RefundEvent::Requested.kind(),
        &format!("refund:{id}"),
        by,
        &serde_json::json!({"liability": liability_id, "amount": l.i64(0)?, "challan": l.text(1)?, "reason": reason}),
    )?;
    by_id(tx, id)?.ok_or_else(|| StoreError::Corrupt("refund just written".into()))
}

/// Approves (and sends) or rejects a requested refund. The requester may not decide.
pub fn decide(
    tx: &mut dyn Tx,
    id: i64,
    approve: bool,
    by: &str,
    rail_ref: Option<&str>,
    at: OffsetDateTime,
) -> Result<Refund, StoreError> {
    let f = by_id(tx, id)?.ok_or_else(|| StoreError::NotFound("refund".into()))?;
    let sponsors = crate::ops::users::sponsors(tx, by)?;
    let decider = Decider {
        username: by,
        sponsors: &sponsors,
    };
    if four_eyes(&decider, &f.requested_by).is_err() {
        return Err(StoreError::Forbidden(
            "a refund must be decided by someone other than who requested it, \
             and not by an account they created, enabled or reset"
                .into(),
        ));
    }
    let event = RefundEvent::decision(approve);
    let state = lifecycle::transition(Some(f.state), event).map_err(|_| {
        StoreError::conflict(
            "refund_decided",
            format!("refund {id} is already {}", f.state.as_str()),
        )
    })?;
    tx.exec(
        "UPDATE refunds SET state = $1, decided_by = $2, decided_at = $3, rail_ref = $4 WHERE id = $5",
        params![state.as_str(), by, to_micros(at), rail_ref, id],
    )?;
    if approve {
        ledger::post(
            tx,
            &efine_core::ledger::refund_paid(f.rail, f.amount),
            &format!("refund:{id}"),
            at,
        )?;
    }
    events::append(
        tx,
        at,
        event.kind(),
        &format!("refund:{id}"),
        by,
        &serde_json::json!({"amount": f.amount.paisa(), "rail": f.rail.as_str(), "rail_ref": rail_ref}),
    )?;
    by_id(tx, id)?.ok_or_else(|| StoreError::Corrupt("refund just written".into()))
}
