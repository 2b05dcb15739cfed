//! What each event counts (`count_*`), once, for both sinks: the live writes inside the
//! recording transaction (`on_*`) and the in-memory tally of a rebuild.

use super::*;
use crate::sql::{Tx, Value};
use crate::{params, StoreError};
use efine_core::challan::Challan;
use efine_core::clock::{karachi_date, KARACHI};
use efine_core::payment::Rail;
use efine_core::Money;
use time::OffsetDateTime;

/// The `stats_daily` / `stats_monthly` rows a challan's figures count in: (dimension, key,
/// department, district), one per dimension, plus the province-wide row for offences.
pub(super) fn daily_rows(c: &Challan, dims: &[Dim]) -> Vec<(&'static str, String, String, String)> {
    let mut rows = Vec::with_capacity(dims.len() + 1);
    for dim in dims {
        // Offences also get a province-wide row (district `*`): a summary by offence for someone
        // who sees every district reads 38 times fewer rows.
        let districts: &[&str] = if *dim == Dim::Offence {
            &[c.district.as_str(), ALL_DISTRICTS]
        } else {
            &[c.district.as_str()]
        };
        for district in districts {
            rows.push((
                dim.as_str(),
                dim.key(c),
                c.department.to_string(),
                (*district).to_string(),
            ));
        }
    }
    rows
}

/// The local issue day (`YYYY-MM-DD`) and month (`YYYY-MM`) a challan's figures count against.
pub(super) fn periods(c: &Challan) -> (String, String) {
    let day = karachi_date(c.issued_at).to_string();
    let month = day[..7].to_string();
    (day, month)
}

/// The local cell of a challan's location, if it has one.
pub(super) fn cell(c: &Challan) -> Option<(i64, i64)> {
    match (c.location.lat_micro, c.location.lon_micro) {
        (Some(lat), Some(lon)) => Some((lat.div_euclid(10_000), lon.div_euclid(10_000))),
        _ => None,
    }
}

/// Where figures go: straight into the tables as each write lands ([`Live`]), or into memory
/// while the whole record is recounted ([`Tally`]). The `count_*` functions below say what each
/// event counts, once, for both.
pub(super) trait Sink {
    fn daily(&mut self, c: &Challan, cols: &[(&str, i64)], dims: &[Dim]) -> Result<(), StoreError>;
    fn collection(
        &mut self,
        c: &Challan,
        rail: Rail,
        amount: Money,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    fn cell(&mut self, c: &Challan, lat_cell: i64, lon_cell: i64) -> Result<(), StoreError>;
}

/// Bumps the rows inside the caller's transaction.
pub(super) struct Live<'a>(&'a mut dyn Tx);

impl Sink for Live<'_> {
    fn daily(&mut self, c: &Challan, cols: &[(&str, i64)], dims: &[Dim]) -> Result<(), StoreError> {
        let (day, month) = periods(c);
        let names: Vec<&str> = cols.iter().map(|(n, _)| *n).collect();
        let values: Vec<String> = (0..cols.len()).map(|i| format!("${}", i + 6)).collect();
        let rows = daily_rows(c, dims);
        for (table, period_col, period) in [
            ("stats_daily", "day", &day),
            ("stats_monthly", "month", &month),
        ] {
            let updates: Vec<String> = names
                .iter()
                .map(|n| format!("{n} = {table}.{n} + excluded.{n}"))
                .collect();
            let sql = format!(
                "INSERT INTO {table} (dim, key, department, district, {period_col}, {})
                 VALUES ($1, $2, $3, $4, $5, {})
                 ON CONFLICT (dim, key, department, district, {period_col}) DO UPDATE SET {}",
                names.join(", "),
                values.join(", "),
                updates.join(", ")
            );
            for (dim, key, department, district) in &rows {
                let mut p: Vec<Value> = vec![
                    (*dim).into(),
                    key.into(),
                    department.into(),
                    district.into(),
                    period.into(),
                ];
                p.extend(cols.iter().map(|(_, v)| Value::from(*v)));
                self.0.exec(&sql, &p)?;
            }
        }
        Ok(())
    }

    fn collection(
        &mut self,
        c: &Challan,
        rail: Rail,
        amount: Money,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.0.exec(
            "INSERT INTO stats_collections (day, department, district, rail, payments, amount)
             VALUES ($1, $2, $3, $4, 1, $5)
             ON CONFLICT (day, department, district, rail)
             DO UPDATE SET payments = stats_collections.payments + 1,
                           amount = stats_collections.amount + excluded.amount",
            params![
                karachi_date(at).to_string(),
                c.department.to_string(),
                c.district.to_string(),
                rail.as_str(),
                amount.paisa()
            ],
        )?;
        Ok(())
    }

    fn cell(&mut self, c: &Challan, lat_cell: i64, lon_cell: i64) -> Result<(), StoreError> {
        self.0.exec(
            "INSERT INTO stats_cells (department, district, lat_cell, lon_cell, issued)
             VALUES ($1, $2, $3, $4, 1)
             ON CONFLICT (department, district, lat_cell, lon_cell)
             DO UPDATE SET issued = stats_cells.issued + 1",
            params![
                c.department.to_string(),
                c.district.to_string(),
                lat_cell,
                lon_cell
            ],
        )?;
        Ok(())
    }
}

/// Whether an instant falls between 22:00 and 06:00 local time.
pub fn off_hours(at: OffsetDateTime) -> bool {
    let h = at.to_offset(KARACHI).hour();
    !(6..22).contains(&h)
}

pub(super) fn count_issued(s: &mut dyn Sink, c: &Challan, repeat: bool) -> Result<(), StoreError> {
    s.daily(
        c,
        &[
            ("issued", 1),
            ("amount_issued", c.amount.paisa()),
            ("off_hours", i64::from(off_hours(c.issued_at))),
            ("repeat_plate", i64::from(repeat)),
        ],
        &Dim::ALL,
    )?;
    if let Some((lat, lon)) = cell(c) {
        s.cell(c, lat, lon)?;
    }
    Ok(())
}

pub(super) fn count_paid(
    s: &mut dyn Sink,
    c: &Challan,
    rail: Rail,
    amount: Money,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    s.daily(
        c,
        &[
            ("paid", 1),
            ("paid_face", c.amount.paisa()),
            ("collected", amount.paisa()),
            ("paid_cash", i64::from(rail == Rail::Counter)),
        ],
        &Dim::ALL,
    )?;
    s.collection(c, rail, amount, at)
}

pub(super) fn count_cancellation_requested(
    s: &mut dyn Sink,
    c: &Challan,
) -> Result<(), StoreError> {
    s.daily(c, &[("cancel_requests", 1)], &Dim::ALL)
}

pub(super) fn count_reduced(s: &mut dyn Sink, c: &Challan) -> Result<(), StoreError> {
    s.daily(c, &[("reductions", 1)], &Dim::ALL)
}

pub(super) fn count_cancelled(s: &mut dyn Sink, c: &Challan) -> Result<(), StoreError> {
    s.daily(
        c,
        &[("cancelled", 1), ("cancelled_face", c.amount.paisa())],
        &Dim::ALL,
    )
}

/// Runs `count` on the running operation's tally inside a write batch (written at the batch's
/// end, see `pending`), or straight into the tables elsewhere.
fn counted(
    tx: &mut dyn Tx,
    count: impl FnOnce(&mut dyn Sink) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    match tx.batch_state() {
        Some(b) => count(&mut b.stats.op),
        None => count(&mut Live(tx)),
    }
}

/// Counts a newly issued challan. Call after its row is inserted, in the same transaction, with
/// whether an earlier challan has the same plate and officer and was issued on or after the local
/// day `c` was issued (the INSERT answers it, see `ops::challans`).
pub fn on_issued(tx: &mut dyn Tx, c: &Challan, repeat: bool) -> Result<(), StoreError> {
    counted(tx, |s| count_issued(s, c, repeat))
}

/// Counts a payment that settled a challan. Call in the crediting transaction.
pub fn on_paid(
    tx: &mut dyn Tx,
    c: &Challan,
    rail: Rail,
    amount: Money,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    counted(tx, |s| count_paid(s, c, rail, amount, at))
}

/// Counts a cancellation request against the officer who issued the challan (for the anomaly
/// figures). The cancellation and appeal workflow calls this in its own transaction.
pub fn on_cancellation_requested(tx: &mut dyn Tx, c: &Challan) -> Result<(), StoreError> {
    counted(tx, |s| count_cancellation_requested(s, c))
}

/// Counts a reduction decided on appeal against the issuing officer.
pub fn on_reduced(tx: &mut dyn Tx, c: &Challan) -> Result<(), StoreError> {
    counted(tx, |s| count_reduced(s, c))
}

/// Counts a cancelled challan: it no longer counts as outstanding.
pub fn on_cancelled(tx: &mut dyn Tx, c: &Challan) -> Result<(), StoreError> {
    counted(tx, |s| count_cancelled(s, c))
}
