//! Cancelling a challan, four-eyes: one member of staff requests with a reason, a supervisor of
//! the challan's department who is someone else approves or rejects. A paid challan is never
//! cancelled: money taken is returned through a refund.

use crate::ops::guard::{challan_in_scope, may_read, must_be_unpaid, must_supervise, scope};
use crate::ops::{challans, events, stats};
use crate::sql::{Row, Tx};
use crate::{params, StoreError};
use efine_core::auth::{Action, Principal, Scope};
use efine_core::cancellation::{self as lifecycle, CancellationEvent, CancellationStatus};
use efine_core::challan::{self, ChallanEvent};
use efine_core::clock::{from_micros, to_micros};
use efine_core::ChallanNumber;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancellation {
    pub id: i64,
    pub challan_number: String,
    pub department: String,
    pub district: String,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: OffsetDateTime,
    pub status: CancellationStatus,
    pub decided_by: Option<String>,
    pub decided_at: Option<OffsetDateTime>,
    pub decision_note: Option<String>,
}

const COLS: &str = "id, challan_number, department, district, reason, requested_by, requested_at, \
                    status, decided_by, decided_at, decision_note";

fn row(r: &Row) -> Result<Cancellation, StoreError> {
    Ok(Cancellation {
        id: r.i64(0)?,
        challan_number: r.text(1)?,
        department: r.text(2)?,
        district: r.text(3)?,
        reason: r.text(4)?,
        requested_by: r.text(5)?,
        requested_at: from_micros(r.i64(6)?),
        status: {
            let s = r.text(7)?;
            CancellationStatus::parse(&s)
                .ok_or_else(|| StoreError::Corrupt(format!("cancellation status {s}")))?
        },
        decided_by: r.opt_text(8)?,
        decided_at: r.opt_i64(9)?.map(from_micros),
        decision_note: r.opt_text(10)?,
    })
}

pub fn by_id(tx: &mut dyn Tx, id: i64) -> Result<Option<Cancellation>, StoreError> {
    tx.query_opt(
        &format!("SELECT {COLS} FROM cancellations WHERE id = $1"),
        params![id],
    )?
    .map(|r| row(&r))
    .transpose()
}

/// The approved cancellation of a challan, if it was cancelled on request (a challan cancelled
/// because its appeal was quashed has none): what the citizen's page says about why.
pub fn approved_for_challan(
    tx: &mut dyn Tx,
    number: &ChallanNumber,
) -> Result<Option<Cancellation>, StoreError> {
    tx.query_opt(
        &format!(
            "SELECT {COLS} FROM cancellations WHERE challan_number = $1 AND status = $2
             ORDER BY id DESC LIMIT 1"
        ),
        params![number.to_string(), CancellationStatus::Approved.as_str()],
    )?
    .map(|r| row(&r))
    .transpose()
}

/// Requests and decisions the user may see (their department and district), newest first;
/// `status` filters (`pending` for a supervisor's queue).
pub fn list(
    tx: &mut dyn Tx,
    who: &Principal,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<Cancellation>, StoreError> {
    let (dep, dis) = scope(who);
    tx.query(
        &format!(
            "SELECT {COLS} FROM cancellations
             WHERE ($1 = '' OR status = $1) AND ($2 = '' OR department = $2)
               AND ($3 = '' OR district = $3)
             ORDER BY id DESC LIMIT $4"
        ),
        params![status.unwrap_or(""), dep, dis, limit],
    )?
    .iter()
    .map(row)
    .collect()
}

pub fn request(
    tx: &mut dyn Tx,
    who: &Principal,
    number: &ChallanNumber,
    reason: &str,
    at: OffsetDateTime,
) -> Result<Cancellation, StoreError> {
    let c = challan_in_scope(tx, who, number)?;
    who.may(
        Action::RequestCancellation,
        &Scope::of(&c.department, &c.district),
    )
    .map_err(|d| StoreError::Forbidden(d.to_string()))?;
    must_be_unpaid(&c)?;
    let n = c.number.to_string();
    if let Some(open) = tx.query_opt(
        "SELECT id FROM cancellations WHERE challan_number = $1 AND status = $2",
        params![n.as_str(), CancellationStatus::Pending.as_str()],
    )? {
        return Err(StoreError::conflict(
            "cancellation_pending",
            format!(
                "cancellation request {} for {n} is awaiting a decision",
                open.i64(0)?
            ),
        ));
    }
    let status = lifecycle::transition(None, CancellationEvent::Requested)
        .map_err(|e| StoreError::conflict("transition_refused", e.to_string()))?;
    let id = tx
        .query_one(
            "INSERT INTO cancellations (challan_number, department, district, reason,
                 requested_by, requested_at, status)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            params![
                n.as_str(),
                c.department.as_str(),
                c.district.as_str(),
                reason,
                who.username.as_str(),
                to_micros(at),
                status.as_str()
            ],
        )?
        .i64(0)?;
    stats::on_cancellation_requested(tx, &c)?;
    events::append(
        tx,
        at,
        CancellationEvent::Requested.kind(),
        &n,
        &who.username,
        &serde_json::json!({
            "challan_number": n, "cancellation_id": id, "reason": reason,
            "requested_by": who.username,
        }),
    )?;
    by_id(tx, id)?.ok_or_else(|| StoreError::Corrupt("cancellation just written".into()))
}

/// Approves (the challan is cancelled) or rejects a pending request. The requester may not
/// decide their own request.
pub fn decide(
    tx: &mut dyn Tx,
    who: &Principal,
    id: i64,
    approve: bool,
    note: Option<&str>,
    at: OffsetDateTime,
) -> Result<Cancellation, StoreError> {
    let r = by_id(tx, id)?.ok_or_else(|| StoreError::NotFound("cancellation".into()))?;
    let number = ChallanNumber::parse(&r.challan_number)?;
    let c = challans::by_number(tx, &number)?
        .filter(|c| may_read(who, c))
        .ok_or_else(|| StoreError::NotFound("cancellation".into()))?;
    must_supervise(who, Action::DecideCancellation, &c)?;
    let sponsors = crate::ops::users::sponsors(tx, &who.username)?;
    match who.may_decide(&sponsors, &r.requested_by) {
        Ok(()) => {}
        Err(efine_core::auth::Denied::Sponsored) => {
            return Err(StoreError::refused(
                "sponsored_account",
                "a cancellation cannot be decided by an account its requester created, enabled or reset",
            ))
        }
        Err(_) => {
            return Err(StoreError::refused(
                "own_request",
                "a cancellation must be decided by a supervisor other than who requested it",
            ))
        }
    }
    let event = CancellationEvent::decision(approve);
    let status = lifecycle::transition(Some(r.status), event).map_err(|_| {
        StoreError::conflict(
            "cancellation_decided",
            format!("cancellation request {id} is already {}", r.status.as_str()),
        )
    })?;
    let n = c.number.to_string();
    if approve {
        must_be_unpaid(&c)?;
        let to = challan::transition(Some(c.status), ChallanEvent::CancellationApproved)
            .map_err(|e| StoreError::conflict("transition_refused", e.to_string()))?;
        tx.exec(
            "UPDATE challans SET status = $1, next_step_on = NULL WHERE number = $2",
            params![to.as_str(), n.as_str()],
        )?;
        stats::on_cancelled(tx, &c)?;
    }
    tx.exec(
        "UPDATE cancellations SET status = $1, decided_by = $2, decided_at = $3, decision_note = $4
         WHERE id = $5",
        params![
            status.as_str(),
            who.username.as_str(),
            to_micros(at),
            note,
            id
        ],
    )?;
    events::append(
        tx,
        at,
        event.kind(),
        &n,
        &who.username,
        &serde_json::json!({
            "challan_number": n, "cancellation_id": id, "requested_by": r.requested_by,
            "note": note,
        }),
    )?;
    if approve {
        events::append(
            tx,
            at,
            ChallanEvent::CancellationApproved.kind(),
            &n,
            &who.username,
            &serde_json::json!({
                "challan_number": n, "reason": r.reason, "cancellation_id": id,
            }),
        )?;
        // An appeal still open has nothing left to decide once the challan is cancelled.
        crate::ops::appeals::close_open(tx, &n, "challan cancelled", at)?;
    }
    by_id(tx, id)?.ok_or_else(|| StoreError::Corrupt("cancellation just written".into()))
}
