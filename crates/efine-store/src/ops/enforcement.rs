//! Enforcement: the escalation run that records when surcharges start and stages are reached,
//! and what a checkpoint or another department sees about a vehicle.

use crate::ops::{challans, events};
use crate::sql::Tx;
use crate::{params, StoreError};
use efine_core::challan::Challan;
use efine_core::clock::karachi_date;
use efine_core::penalty::Stage;
use efine_core::{Money, VehicleNumber};
use time::{Date, OffsetDateTime};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EscalationRun {
    /// Challans examined: those whose next step (`next_step_on`) was due.
    pub examined: u64,
    pub surcharged: u64,
    pub escalated: u64,
    /// Citizens' fee vouchers that passed their validity unpaid (`challan.expired`).
    pub expired: u64,
}

/// Records, for every unpaid challan past its due date, that its surcharge applies
/// (`challan.surcharged`) and each stage it has reached (`challan.escalated`), each once.
///
/// Visits only the challans whose `next_step_on` has come (an index range), so a run with
/// nothing to record reads nothing, however many challans there are; each visited challan's
/// `next_step_on` moves on to its next step (or to none).
///
/// Runs inside one write transaction, which on PostgreSQL holds the chain-head lock from its
/// start: several nodes running it at once are serialised, and the later run sees the earlier
/// run's columns and records nothing twice.
///
/// Looks at up to `limit` challans with an id above `after_id`; returns the last id looked at
/// when there may be more.
pub fn escalate(
    tx: &mut dyn Tx,
    at: OffsetDateTime,
    after_id: i64,
    limit: i64,
) -> Result<(EscalationRun, Option<i64>), StoreError> {
    let today = karachi_date(at);
    // The pages walk the challans in id order, which the planner takes from the table itself,
    // not from the index on `next_step_on`: a run that has nothing to do would read every row.
    // The index answers whether anything is due at all.
    if after_id == 0
        && tx
            .query_opt(
                "SELECT 1 FROM challans WHERE next_step_on <= $1 LIMIT 1",
                params![today.to_string()],
            )?
            .is_none()
    {
        return Ok((EscalationRun::default(), None));
    }
    let rows = tx.query(
        &format!(
            "SELECT {}, id FROM challans WHERE next_step_on <= $1 AND id > $2
             ORDER BY id LIMIT $3",
            challans::COLS
        ),
        params![today.to_string(), after_id, limit],
    )?;
    let last = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.i64(challans::NCOLS)))
        .flatten()
        .transpose()?;
    let mut run = EscalationRun::default();
    for r in &rows {
        let mut c = challans::row(r)?;
        run.examined += 1;
        let terms = c.terms();
        let mut surcharged = c.adjustments.surcharged;
        let n = c.number.to_string();
        let due = c.amount_due(today);
        if let Some(from) = terms.surcharge_from() {
            if !c.adjustments.surcharged && from <= today {
                tx.exec(
                    "UPDATE challans SET surcharged = 1 WHERE number = $1",
                    params![n.as_str()],
                )?;
                events::append(
                    tx,
                    at,
                    "challan.surcharged",
                    &n,
                    "system",
                    &serde_json::json!({
                        "challan_number": n, "amount_due": due.paisa(),
                        "surcharge_from": from.to_string(),
                    }),
                )?;
                surcharged = true;
                run.surcharged += 1;
            }
        }
        let mut current = c.adjustments.stage;
        for (stage, from) in efine_core::penalty::stage_dates(&terms) {
            if from <= today && current.is_none_or(|s| s < stage) {
                tx.exec(
                    "UPDATE challans SET stage = $1 WHERE number = $2",
                    params![stage.as_str(), n.as_str()],
                )?;
                events::append(
                    tx,
                    at,
                    "challan.escalated",
                    &n,
                    "system",
                    &serde_json::json!({
                        "challan_number": n, "stage": stage.as_str(),
                        "amount_due": due.paisa(), "reached_on": from.to_string(),
                    }),
                )?;
                current = Some(stage);
                run.escalated += 1;
            }
        }
        c.adjustments.stage = current;
        c.adjustments.surcharged = surcharged;
        challans::set_next_step(tx, &c)?;
    }
    Ok((run, last))
}

/// A vehicle's unpaid challans and what they add up to on a day.
#[derive(Debug, Clone)]
pub struct VehicleStatus {
    pub vehicle: VehicleNumber,
    pub unpaid: Vec<Challan>,
    pub total_due: Money,
    /// The highest stage any unpaid challan has reached (by its schedule on `on`, or as
    /// recorded by the escalation run, whichever is higher).
    pub stage: Option<Stage>,
    pub on: Date,
}

impl VehicleStatus {
    pub fn oldest(&self) -> Option<&Challan> {
        self.unpaid.iter().min_by_key(|c| c.issued_at)
    }
    pub fn stage_of(c: &Challan, on: Date) -> Option<Stage> {
        c.terms().stage_on(on).max(c.adjustments.stage)
    }
    /// What an officer at a checkpoint should do.
    pub fn recommended_action(&self) -> &'static str {
        match (self.stage, self.unpaid.is_empty()) {
            (Some(s), _) => s.recommended_action(),
            (None, false) => "tell the driver to pay the challans; no enforcement stage yet",
            (None, true) => "none: no unpaid challans",
        }
    }
    /// Unpaid challans that block a transfer of ownership.
    pub fn blocking_transfer(&self) -> Vec<&Challan> {
        self.unpaid
            .iter()
            .filter(|c| Self::stage_of(c, self.on) >= Some(Stage::TransferBlocked))
            .collect()
    }
}

pub fn vehicle_status(
    tx: &mut dyn Tx,
    vehicle: &VehicleNumber,
    on: Date,
) -> Result<VehicleStatus, StoreError> {
    let unpaid: Vec<Challan> = tx
        .query(
            &format!(
                "SELECT {} FROM challans WHERE vehicle = $1 AND status = 'unpaid'
                 ORDER BY issued_at, id LIMIT 500",
                challans::COLS
            ),
            params![vehicle.as_str()],
        )?
        .iter()
        .map(challans::row)
        .collect::<Result<_, _>>()?;
    let mut total = Money::ZERO;
    for c in &unpaid {
        total = total
            .checked_add(c.amount_due(on))
            .ok_or_else(|| StoreError::Corrupt("total due overflows".into()))?;
    }
    let stage = unpaid
        .iter()
        .filter_map(|c| VehicleStatus::stage_of(c, on))
        .max();
    Ok(VehicleStatus {
        vehicle: vehicle.clone(),
        unpaid,
        total_due: total,
        stage,
        on,
    })
}
