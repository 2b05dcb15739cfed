//! Appeals: a citizen contests a challan within the appeal window; the surcharge clock stands
//! still while the appeal is open; a supervisor of the department who did not issue the challan
//! upholds it, reduces it to an amount, or quashes it.

use crate::ops::guard::{may_read, must_be_unpaid, must_supervise, scope};
use crate::ops::{challans, events, stats};
use crate::sql::{Row, Tx};
use crate::{params, StoreError};
use efine_core::appeal::{self as lifecycle, AppealEvent, AppealStatus};
use efine_core::auth::{Action, Principal};
use efine_core::challan::{self, ChallanEvent};
use efine_core::clock::{from_micros, karachi_date, to_micros};
use efine_core::penalty::AppealOutcome;
use efine_core::{ChallanNumber, Money};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

/// Largest evidence file accepted (after base64 decoding).
pub const MAX_EVIDENCE_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Evidence {
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appeal {
    pub id: i64,
    pub challan_number: String,
    pub department: String,
    pub district: String,
    pub reason: String,
    pub evidence_name: Option<String>,
    pub evidence_type: Option<String>,
    pub evidence_sha256: Option<String>,
    pub lodged_at: OffsetDateTime,
    pub status: AppealStatus,
    pub outcome: Option<AppealOutcome>,
    pub decided_amount: Option<Money>,
    pub decided_by: Option<String>,
    pub decided_at: Option<OffsetDateTime>,
    pub decision_note: Option<String>,
}

const COLS: &str = "id, challan_number, department, district, reason, evidence_name, \
    evidence_type, evidence_sha256, lodged_at, status, outcome, decided_amount_paisa, decided_by, \
    decided_at, decision_note";

fn row(r: &Row) -> Result<Appeal, StoreError> {
    Ok(Appeal {
        id: r.i64(0)?,
        challan_number: r.text(1)?,
        department: r.text(2)?,
        district: r.text(3)?,
        reason: r.text(4)?,
        evidence_name: r.opt_text(5)?,
        evidence_type: r.opt_text(6)?,
        evidence_sha256: r.opt_text(7)?,
        lodged_at: from_micros(r.i64(8)?),
        status: {
            let s = r.text(9)?;
            AppealStatus::parse(&s)
                .ok_or_else(|| StoreError::Corrupt(format!("appeal status {s}")))?
        },
        outcome: r
            .opt_text(10)?
            .map(|o| {
                AppealOutcome::parse(&o).ok_or_else(|| StoreError::Corrupt(format!("outcome {o}")))
            })
            .transpose()?,
        decided_amount: r.opt_i64(11)?.map(Money::from_paisa).transpose()?,
        decided_by: r.opt_text(12)?,
        decided_at: r.opt_i64(13)?.map(from_micros),
        decision_note: r.opt_text(14)?,
    })
}

pub fn by_id(tx: &mut dyn Tx, id: i64) -> Result<Option<Appeal>, StoreError> {
    tx.query_opt(
        &format!("SELECT {COLS} FROM appeals WHERE id = $1"),
        params![id],
    )?
    .map(|r| row(&r))
    .transpose()
}

/// The challan's appeal, if one was lodged (one per challan; the newest if older data holds
/// more): what the citizen's pages show as its status and history.
pub fn for_challan(tx: &mut dyn Tx, number: &ChallanNumber) -> Result<Option<Appeal>, StoreError> {
    tx.query_opt(
        &format!("SELECT {COLS} FROM appeals WHERE challan_number = $1 ORDER BY id DESC LIMIT 1"),
        params![number.to_string()],
    )?
    .map(|r| row(&r))
    .transpose()
}

/// The evidence file of an appeal: (name, content type, bytes).
pub fn evidence(tx: &mut dyn Tx, id: i64) -> Result<Option<Evidence>, StoreError> {
    let Some(r) = tx.query_opt(
        "SELECT evidence_name, evidence_type, evidence_base64 FROM appeals
         WHERE id = $1 AND evidence_base64 IS NOT NULL",
        params![id],
    )?
    else {
        return Ok(None);
    };
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(r.text(2)?)
        .map_err(|_| StoreError::Corrupt(format!("appeal {id} evidence")))?;
    Ok(Some(Evidence {
        file_name: r.text(0)?,
        content_type: r.text(1)?,
        bytes,
    }))
}

/// Appeals the user may see, newest first; `status` filters (`pending` for a queue).
pub fn list(
    tx: &mut dyn Tx,
    who: &Principal,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<Appeal>, StoreError> {
    let (dep, dis) = scope(who);
    tx.query(
        &format!(
            "SELECT {COLS} FROM appeals
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

/// Lodges a citizen's appeal, within `window_days` of the issue day. One appeal per challan.
pub fn lodge(
    tx: &mut dyn Tx,
    number: &ChallanNumber,
    reason: &str,
    evidence: Option<&Evidence>,
    window_days: u16,
    at: OffsetDateTime,
) -> Result<Appeal, StoreError> {
    let c =
        challans::by_number(tx, number)?.ok_or_else(|| StoreError::NotFound("challan".into()))?;
    must_be_unpaid(&c)?;
    let n = c.number.to_string();
    if let Some(prev) = tx.query_opt(
        "SELECT id, status FROM appeals WHERE challan_number = $1 ORDER BY id DESC LIMIT 1",
        params![n.as_str()],
    )? {
        return Err(StoreError::conflict(
            "appeal_exists",
            format!(
                "challan {n} was already appealed (appeal {}, {})",
                prev.i64(0)?,
                prev.text(1)?
            ),
        ));
    }
    let today = karachi_date(at);
    let last_day = karachi_date(c.issued_at) + Duration::days(i64::from(window_days));
    if today > last_day {
        return Err(StoreError::conflict(
            "appeal_window_closed",
            format!("appeals against {n} could be lodged until {last_day}"),
        ));
    }
    let status = lifecycle::transition(None, AppealEvent::Lodged)
        .map_err(|e| StoreError::conflict("transition_refused", e.to_string()))?;
    use base64::Engine;
    let (name, ctype, sha, b64) = match evidence {
        Some(e) => (
            Some(e.file_name.clone()),
            Some(e.content_type.clone()),
            Some(hex::encode(Sha256::digest(&e.bytes))),
            Some(base64::engine::general_purpose::STANDARD.encode(&e.bytes)),
        ),
        None => (None, None, None, None),
    };
    let id = tx
        .query_one(
            "INSERT INTO appeals (challan_number, department, district, reason, evidence_name,
                 evidence_type, evidence_sha256, evidence_base64, lodged_at, status)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            params![
                n.as_str(),
                c.department.as_str(),
                c.district.as_str(),
                reason,
                name,
                ctype,
                sha.clone(),
                b64,
                to_micros(at),
                status.as_str()
            ],
        )?
        .i64(0)?;
    tx.exec(
        "UPDATE challans SET paused_since = $1, next_step_on = NULL WHERE number = $2",
        params![today.to_string(), n.as_str()],
    )?;
    events::append(
        tx,
        at,
        AppealEvent::Lodged.kind(),
        &n,
        "citizen",
        &serde_json::json!({
            "challan_number": n, "appeal_id": id, "reason": reason,
            "paused_since": today.to_string(), "evidence_sha256": sha,
        }),
    )?;
    by_id(tx, id)?.ok_or_else(|| StoreError::Corrupt("appeal just written".into()))
}

/// Decides a pending appeal. `amount` is the reduced amount, given only with `reduce`.
pub fn decide(
    tx: &mut dyn Tx,
    who: &Principal,
    id: i64,
    outcome: AppealOutcome,
    amount: Option<Money>,
    note: Option<&str>,
    at: OffsetDateTime,
) -> Result<(Appeal, Money), StoreError> {
    let a = by_id(tx, id)?.ok_or_else(|| StoreError::NotFound("appeal".into()))?;
    let number = ChallanNumber::parse(&a.challan_number)?;
    let c = challans::by_number(tx, &number)?
        .filter(|c| may_read(who, c))
        .ok_or_else(|| StoreError::NotFound("appeal".into()))?;
    must_supervise(who, Action::DecideAppeal, &c)?;
    let sponsors = crate::ops::users::sponsors(tx, &who.username)?;
    match who.may_decide(&sponsors, &c.officer) {
        Ok(()) => {}
        Err(efine_core::auth::Denied::Sponsored) => {
            return Err(StoreError::refused(
                "sponsored_account",
                "an appeal cannot be decided by an account the issuing officer created, enabled or reset",
            ))
        }
        Err(_) => {
            return Err(StoreError::refused(
                "issuing_officer",
                "an appeal must be decided by a supervisor other than the officer who issued the challan",
            ))
        }
    }
    let status = lifecycle::transition(Some(a.status), AppealEvent::Decided).map_err(|_| {
        StoreError::conflict(
            "appeal_decided",
            format!("appeal {id} is already {}", a.status.as_str()),
        )
    })?;
    must_be_unpaid(&c)?;
    let base = c.terms().base();
    let reduced = match (outcome, amount) {
        (AppealOutcome::Reduce, Some(m)) if m > Money::ZERO && m < base => Some(m),
        (AppealOutcome::Reduce, Some(_)) => {
            return Err(StoreError::invalid(
                "amount",
                format!("a reduced amount must be more than Rs 0 and less than {base}"),
            ))
        }
        (AppealOutcome::Reduce, None) => {
            return Err(StoreError::invalid(
                "amount",
                "give the reduced amount in paisa",
            ))
        }
        (_, Some(_)) => {
            return Err(StoreError::invalid(
                "amount",
                "an amount is given only when the outcome is reduce",
            ))
        }
        (_, None) => None,
    };
    let today = karachi_date(at);
    let since = c.adjustments.paused_since.unwrap_or(today);
    let paused = u32::try_from((today - since).whole_days().max(0)).unwrap_or(0);
    let n = c.number.to_string();
    tx.exec(
        "UPDATE challans SET paused_days = paused_days + $1, paused_since = NULL,
             reduced_amount_paisa = COALESCE($2, reduced_amount_paisa)
         WHERE number = $3",
        params![i64::from(paused), reduced.map(|m| m.paisa()), n.as_str()],
    )?;
    if outcome == AppealOutcome::Quash {
        let to = challan::transition(Some(c.status), ChallanEvent::CancellationApproved)
            .map_err(|e| StoreError::conflict("transition_refused", e.to_string()))?;
        tx.exec(
            "UPDATE challans SET status = $1, next_step_on = NULL WHERE number = $2",
            params![to.as_str(), n.as_str()],
        )?;
        stats::on_cancelled(tx, &c)?;
    } else {
        // The clock runs again, from a due date moved on by the days under appeal.
        challans::refresh_next_step(tx, &c.number)?;
    }
    if reduced.is_some() {
        stats::on_reduced(tx, &c)?;
    }
    tx.exec(
        "UPDATE appeals SET status = $7, outcome = $1, decided_amount_paisa = $2,
             decided_by = $3, decided_at = $4, decision_note = $5
         WHERE id = $6",
        params![
            outcome.as_str(),
            reduced.map(|m| m.paisa()),
            who.username.as_str(),
            to_micros(at),
            note,
            id,
            status.as_str()
        ],
    )?;
    let after = challans::by_number(tx, &number)?
        .ok_or_else(|| StoreError::Corrupt("challan just updated".into()))?;
    let due = after.owed_on(today);
    events::append(
        tx,
        at,
        AppealEvent::Decided.kind(),
        &n,
        &who.username,
        &serde_json::json!({
            "challan_number": n, "appeal_id": id, "outcome": outcome.as_str(),
            "amount_due": due.paisa(), "reduced_amount": reduced.map(|m| m.paisa()),
            "paused_days": paused, "note": note,
        }),
    )?;
    if outcome == AppealOutcome::Quash {
        events::append(
            tx,
            at,
            ChallanEvent::CancellationApproved.kind(),
            &n,
            &who.username,
            &serde_json::json!({
                "challan_number": n, "reason": "appeal quashed", "appeal_id": id,
            }),
        )?;
    }
    let a = by_id(tx, id)?.ok_or_else(|| StoreError::Corrupt("appeal just written".into()))?;
    Ok((a, due))
}

/// Closes the challan's open appeal, if any, because the challan was paid or cancelled while it
/// was open: nothing is left to decide, so it leaves the supervisors' queue. Called in the same
/// transaction as the payment or cancellation; the challan's own columns are not touched.
pub fn close_open(
    tx: &mut dyn Tx,
    challan_number: &str,
    why: &str,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    let open = tx.query(
        "SELECT id FROM appeals WHERE challan_number = $1 AND status = $2",
        params![challan_number, AppealStatus::Pending.as_str()],
    )?;
    let closed = lifecycle::transition(Some(AppealStatus::Pending), AppealEvent::Closed)
        .map_err(|e| StoreError::conflict("transition_refused", e.to_string()))?;
    for r in &open {
        let id = r.i64(0)?;
        tx.exec(
            "UPDATE appeals SET status = $3, decided_at = $1, decision_note = $2
             WHERE id = $4",
            params![to_micros(at), why, closed.as_str(), id],
        )?;
        events::append(
            tx,
            at,
            AppealEvent::Closed.kind(),
            challan_number,
            "system",
            &serde_json::json!({
                "challan_number": challan_number, "appeal_id": id, "reason": why,
            }),
        )?;
    }
    Ok(())
}
