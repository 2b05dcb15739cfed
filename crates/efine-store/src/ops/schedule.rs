//! Schedule changes with four eyes: a department admin (or admin) proposes a new amount, days
//! to pay and penalty terms (surcharge, early-payment discount, enforcement stages) for an
//! offence; a second person who may change that department's schedule approves it, and only
//! then does it take effect as a new offence version (challans already issued keep theirs).
//! Each step is an event: `schedule.proposed`, `schedule.approved` (with
//! `catalogue.offence_changed`) or `schedule.rejected`.

use crate::ops::catalogue::{
    bump_version, current_offence, insert_offence, parse_penalty, penalty_json,
};
use crate::ops::events;
use crate::sql::{Row, Tx};
use crate::{params, StoreError};
use efine_core::auth::{Action, Denied, Principal, Scope};
use efine_core::catalogue::Offence;
use efine_core::clock::{from_micros, to_micros};
use efine_core::penalty::PenaltySchedule;
use efine_core::{DepartmentCode, Money, OffenceCode};
use time::OffsetDateTime;

/// A proposed change, as stored.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub id: i64,
    pub department: String,
    pub code: String,
    pub base_version: i64,
    pub amount: Money,
    pub days_to_pay: u16,
    pub penalty: PenaltySchedule,
    pub proposed_by: String,
    pub proposed_at: OffsetDateTime,
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<OffsetDateTime>,
}

/// What a proposal asks for.
#[derive(Debug, Clone)]
pub struct Proposed {
    pub department: DepartmentCode,
    pub code: OffenceCode,
    pub amount: Money,
    pub days_to_pay: u16,
    pub penalty: PenaltySchedule,
}

const COLS: &str = "id, department, code, base_version, amount_paisa, days_to_pay, penalty, \
                    proposed_by, proposed_at, status, decided_by, decided_at";

fn row(r: &Row) -> Result<Proposal, StoreError> {
    Ok(Proposal {
        id: r.i64(0)?,
        department: r.text(1)?,
        code: r.text(2)?,
        base_version: r.i64(3)?,
        amount: Money::from_paisa(r.i64(4)?)?,
        days_to_pay: u16::try_from(r.i64(5)?)
            .map_err(|_| StoreError::Corrupt("days_to_pay".into()))?,
        penalty: parse_penalty(&r.text(6)?)?,
        proposed_by: r.text(7)?,
        proposed_at: from_micros(r.i64(8)?),
        status: r.text(9)?,
        decided_by: r.opt_text(10)?,
        decided_at: r.opt_i64(11)?.map(from_micros),
    })
}

fn may_change(who: &Principal, dep: &DepartmentCode) -> Result<(), StoreError> {
    who.may(Action::ChangeSchedule, &Scope::department(dep))
        .map_err(|d| StoreError::refused("forbidden", d.to_string()))
}

pub fn by_id(tx: &mut dyn Tx, id: i64) -> Result<Option<Proposal>, StoreError> {
    tx.query_opt(
        &format!("SELECT {COLS} FROM schedule_proposals WHERE id = $1"),
        params![id],
    )?
    .map(|r| row(&r))
    .transpose()
}

/// Pending proposals the reader may see (their department, or all for an admin), oldest first.
pub fn pending(tx: &mut dyn Tx, who: &Principal) -> Result<Vec<Proposal>, StoreError> {
    let dep = who
        .department
        .as_ref()
        .map(|d| d.to_string())
        .unwrap_or_default();
    tx.query(
        &format!(
            "SELECT {COLS} FROM schedule_proposals
             WHERE status = 'pending' AND ($1 = '' OR department = $1) ORDER BY id LIMIT 200"
        ),
        params![dep],
    )?
    .iter()
    .map(row)
    .collect()
}

/// Records a proposal; nothing changes in the schedule until a second person approves it.
pub fn propose(
    tx: &mut dyn Tx,
    who: &Principal,
    p: &Proposed,
    at: OffsetDateTime,
) -> Result<Proposal, StoreError> {
    may_change(who, &p.department)?;
    p.penalty
        .check()
        .map_err(|e| StoreError::invalid("penalty", e.0))?;
    if p.amount <= Money::ZERO {
        return Err(StoreError::invalid(
            "amount",
            "the amount must be above zero",
        ));
    }
    if !(1..=365).contains(&p.days_to_pay) {
        return Err(StoreError::invalid(
            "days_to_pay",
            "days to pay must be between 1 and 365",
        ));
    }
    let (_, current) = current_offence(tx, &p.department, &p.code)?
        .ok_or_else(|| StoreError::invalid("offence_code", "no such offence in this department"))?;
    if current.amount == p.amount
        && current.days_to_pay == p.days_to_pay
        && current.penalty == p.penalty
    {
        return Err(StoreError::invalid(
            "amount",
            "this is the schedule already in force: nothing to change",
        ));
    }
    if tx
        .query_opt(
            "SELECT id FROM schedule_proposals
             WHERE status = 'pending' AND department = $1 AND code = $2",
            params![p.department.as_str(), p.code.as_str()],
        )?
        .is_some()
    {
        return Err(StoreError::conflict(
            "proposal_pending",
            "a change to this offence is already waiting for approval",
        ));
    }
    let id = tx
        .query_one(
            "INSERT INTO schedule_proposals (department, code, base_version, amount_paisa,
                 days_to_pay, penalty, proposed_by, proposed_at, status)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending') RETURNING id",
            params![
                p.department.as_str(),
                p.code.as_str(),
                current.version,
                p.amount.paisa(),
                i64::from(p.days_to_pay),
                penalty_json(&p.penalty),
                who.username.as_str(),
                to_micros(at)
            ],
        )?
        .i64(0)?;
    events::append(
        tx,
        at,
        "schedule.proposed",
        &format!("offence:{}/{}", p.department, p.code),
        &who.username,
        &serde_json::json!({
            "proposal_id": id,
            "base_version": current.version,
            "amount_paisa": p.amount.paisa(),
            "previous_amount_paisa": current.amount.paisa(),
            "days_to_pay": p.days_to_pay,
            "penalty": p.penalty,
        }),
    )?;
    by_id(tx, id)?.ok_or_else(|| StoreError::Corrupt("proposal just written".into()))
}

/// Approves (the new version takes effect now) or rejects a pending proposal. The proposer may
/// not decide it, nor may an account the proposer created, enabled or reset.
pub fn decide(
    tx: &mut dyn Tx,
    who: &Principal,
    id: i64,
    approve: bool,
    at: OffsetDateTime,
) -> Result<(Proposal, Option<Offence>), StoreError> {
    let p = by_id(tx, id)?.ok_or_else(|| StoreError::NotFound("schedule proposal".into()))?;
    let dep = DepartmentCode::parse(&p.department)?;
    let code = OffenceCode::parse(&p.code)?;
    if may_change(who, &dep).is_err() {
        return Err(StoreError::NotFound("schedule proposal".into()));
    }
    if p.status != "pending" {
        return Err(StoreError::conflict(
            "proposal_decided",
            format!("schedule proposal {id} is already {}", p.status),
        ));
    }
    let sponsors = crate::ops::users::sponsors(tx, &who.username)?;
    match who.may_decide(&sponsors, &p.proposed_by) {
        Ok(()) => {}
        Err(Denied::Sponsored) => {
            return Err(StoreError::refused(
                "sponsored_account",
                "a schedule change cannot be approved by an account its proposer created, enabled or reset",
            ))
        }
        Err(_) => {
            return Err(StoreError::refused(
                "own_request",
                "a schedule change must be approved by someone other than who proposed it",
            ))
        }
    }
    let subject = format!("offence:{dep}/{code}");
    let mut changed = None;
    if approve {
        let (_, current) = current_offence(tx, &dep, &code)?
            .ok_or_else(|| StoreError::NotFound("offence".into()))?;
        if current.version != p.base_version {
            return Err(StoreError::conflict(
                "schedule_moved",
                "the offence has changed since this proposal was made: propose again",
            ));
        }
        let next = Offence {
            version: current.version + 1,
            amount: p.amount,
            days_to_pay: p.days_to_pay,
            penalty: p.penalty.clone(),
            ..current.clone()
        };
        insert_offence(tx, &next, at)?;
        bump_version(tx)?;
        events::append(
            tx,
            at,
            "catalogue.offence_changed",
            &subject,
            &who.username,
            &serde_json::json!({
                "version": next.version,
                "amount_paisa": next.amount.paisa(),
                "previous_amount_paisa": current.amount.paisa(),
                "days_to_pay": next.days_to_pay,
                "penalty": next.penalty,
                "proposal_id": id,
                "proposed_by": p.proposed_by,
            }),
        )?;
        changed = Some(next);
    }
    let status = if approve { "approved" } else { "rejected" };
    tx.exec(
        "UPDATE schedule_proposals SET status = $1, decided_by = $2, decided_at = $3 WHERE id = $4",
        params![status, who.username.as_str(), to_micros(at), id],
    )?;
    events::append(
        tx,
        at,
        &format!("schedule.{status}"),
        &subject,
        &who.username,
        &serde_json::json!({"proposal_id": id, "proposed_by": p.proposed_by}),
    )?;
    let p = by_id(tx, id)?.ok_or_else(|| StoreError::Corrupt("proposal just decided".into()))?;
    Ok((p, changed))
}
