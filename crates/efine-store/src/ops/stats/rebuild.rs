//! Recounting every statistics table from the record, with the same counting code as the live
//! writes.

use super::count::*;
use super::*;
use crate::ops::challan_row;
use crate::sql::{Tx, Value};
use crate::{params, StoreError};
use efine_core::cancellation::CancellationStatus;
use efine_core::challan::Challan;
use efine_core::clock::{from_micros, karachi_date, KARACHI};
use efine_core::payment::Rail;
use efine_core::Money;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// The counters of `stats_daily` and `stats_monthly`, in their order in a [`Tally`] row.
pub(super) const COUNTERS: [&str; 12] = [
    "issued",
    "amount_issued",
    "paid",
    "paid_face",
    "collected",
    "cancelled",
    "cancelled_face",
    "off_hours",
    "repeat_plate",
    "paid_cash",
    "cancel_requests",
    "reductions",
];

/// Every statistics table: projections, deleted and rewritten whole by [`rebuild`].
pub const TABLES: [&str; 4] = [
    "stats_daily",
    "stats_monthly",
    "stats_collections",
    "stats_cells",
];

/// (dimension, key, department, district, day or month).
type PeriodRow = (&'static str, String, String, String, String);

/// The statistics of the whole record, counted in memory by the same `count_*` functions as the
/// live writes, then written once.
#[derive(Default, Clone)]
pub(crate) struct Tally {
    daily: BTreeMap<PeriodRow, [i64; 12]>,
    monthly: BTreeMap<PeriodRow, [i64; 12]>,
    /// (day, department, district, rail) -> (payments, amount).
    collections: BTreeMap<(String, String, String, &'static str), (i64, i64)>,
    /// (department, district, lat cell, lon cell) -> issued.
    cells: BTreeMap<(String, String, i64, i64), i64>,
}

impl Sink for Tally {
    fn daily(&mut self, c: &Challan, cols: &[(&str, i64)], dims: &[Dim]) -> Result<(), StoreError> {
        let (day, month) = periods(c);
        let cols = cols
            .iter()
            .map(|(n, v)| {
                COUNTERS
                    .iter()
                    .position(|k| k == n)
                    .map(|i| (i, *v))
                    .ok_or_else(|| StoreError::Corrupt(format!("no statistics column {n}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        for (dim, key, department, district) in daily_rows(c, dims) {
            for (map, period) in [(&mut self.daily, &day), (&mut self.monthly, &month)] {
                let row = map
                    .entry((
                        dim,
                        key.clone(),
                        department.clone(),
                        district.clone(),
                        period.clone(),
                    ))
                    .or_insert([0; 12]);
                for (i, v) in &cols {
                    row[*i] += v;
                }
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
        let row = self
            .collections
            .entry((
                karachi_date(at).to_string(),
                c.department.to_string(),
                c.district.to_string(),
                rail.as_str(),
            ))
            .or_insert((0, 0));
        row.0 += 1;
        row.1 += amount.paisa();
        Ok(())
    }

    fn cell(&mut self, c: &Challan, lat_cell: i64, lon_cell: i64) -> Result<(), StoreError> {
        *self
            .cells
            .entry((
                c.department.to_string(),
                c.district.to_string(),
                lat_cell,
                lon_cell,
            ))
            .or_insert(0) += 1;
        Ok(())
    }
}

/// Inserts `rows` (each `width` values) into `into` ("table (columns)"), many rows a statement,
/// with `then` after the values (empty, or an `ON CONFLICT` clause).
///
/// Statements hold 128 rows, and the rest goes in statements of decreasing powers of two (a
/// remainder of 100 is 64 + 32 + 4): at most eight statement shapes per table, so the writer's
/// prepared-statement caches keep them all however many rows each batch touches.
pub(super) fn write_rows(
    tx: &mut dyn Tx,
    into: &str,
    then: &str,
    width: usize,
    rows: impl Iterator<Item = Vec<Value>>,
) -> Result<u64, StoreError> {
    const ROWS_PER_STATEMENT: usize = 128;
    fn flush(
        tx: &mut dyn Tx,
        into: &str,
        then: &str,
        width: usize,
        values: &[Value],
    ) -> Result<u64, StoreError> {
        let n = values.len() / width;
        if n == 0 {
            return Ok(0);
        }
        let tuples: Vec<String> = (0..n)
            .map(|r| {
                let ps: Vec<String> = (0..width)
                    .map(|i| format!("${}", r * width + i + 1))
                    .collect();
                format!("({})", ps.join(", "))
            })
            .collect();
        tx.exec(
            &format!("INSERT INTO {into} VALUES {}{then}", tuples.join(", ")),
            values,
        )?;
        Ok(n as u64)
    }
    let mut written = 0;
    let mut chunk: Vec<Value> = Vec::with_capacity(width * ROWS_PER_STATEMENT);
    for row in rows {
        debug_assert_eq!(row.len(), width);
        chunk.extend(row);
        if chunk.len() >= width * ROWS_PER_STATEMENT {
            written += flush(tx, into, then, width, &chunk)?;
            chunk.clear();
        }
    }
    let mut rest: &[Value] = &chunk;
    while !rest.is_empty() {
        let n = rest.len() / width;
        let take = 1usize << (usize::BITS - 1 - n.leading_zeros());
        let (now, later) = rest.split_at(take * width);
        written += flush(tx, into, then, width, now)?;
        rest = later;
    }
    Ok(written)
}

impl Tally {
    pub(crate) fn is_empty(&self) -> bool {
        self.daily.is_empty()
            && self.monthly.is_empty()
            && self.collections.is_empty()
            && self.cells.is_empty()
    }

    /// Adds `other`'s figures to these.
    pub(crate) fn merge(&mut self, other: Tally) {
        for (mine, theirs) in [
            (&mut self.daily, other.daily),
            (&mut self.monthly, other.monthly),
        ] {
            for (k, v) in theirs {
                let row = mine.entry(k).or_insert([0; 12]);
                for (a, b) in row.iter_mut().zip(v) {
                    *a += b;
                }
            }
        }
        for (k, (n, amount)) in other.collections {
            let row = self.collections.entry(k).or_insert((0, 0));
            row.0 += n;
            row.1 += amount;
        }
        for (k, n) in other.cells {
            *self.cells.entry(k).or_insert(0) += n;
        }
    }

    /// Writes every row into empty tables; returns how many.
    fn write(&self, tx: &mut dyn Tx) -> Result<u64, StoreError> {
        self.write_with(tx, false)
    }

    /// Adds every row's figures to the rows already in the tables (one multi-row upsert per
    /// table and 200 rows); returns how many rows it touched.
    pub(crate) fn add_to_tables(&self, tx: &mut dyn Tx) -> Result<u64, StoreError> {
        self.write_with(tx, true)
    }

    fn write_with(&self, tx: &mut dyn Tx, add: bool) -> Result<u64, StoreError> {
        let adding = |key: &str, cols: &[&str], table: &str| -> String {
            if !add {
                return String::new();
            }
            let sets: Vec<String> = cols
                .iter()
                .map(|c| format!("{c} = {table}.{c} + excluded.{c}"))
                .collect();
            format!(" ON CONFLICT ({key}) DO UPDATE SET {}", sets.join(", "))
        };
        let mut written = 0;
        for (table, period_col, map) in [
            ("stats_daily", "day", &self.daily),
            ("stats_monthly", "month", &self.monthly),
        ] {
            written += write_rows(
                tx,
                &format!(
                    "{table} (dim, key, department, district, {period_col}, {})",
                    COUNTERS.join(", ")
                ),
                &adding(
                    &format!("dim, key, department, district, {period_col}"),
                    &COUNTERS,
                    table,
                ),
                5 + COUNTERS.len(),
                map.iter()
                    .map(|((dim, key, department, district, period), v)| {
                        let mut row: Vec<Value> = vec![
                            (*dim).into(),
                            key.into(),
                            department.into(),
                            district.into(),
                            period.into(),
                        ];
                        row.extend(v.iter().map(|n| Value::from(*n)));
                        row
                    }),
            )?;
        }
        written += write_rows(
            tx,
            "stats_collections (day, department, district, rail, payments, amount)",
            &adding(
                "day, department, district, rail",
                &["payments", "amount"],
                "stats_collections",
            ),
            6,
            self.collections
                .iter()
                .map(|((day, department, district, rail), (n, amount))| {
                    vec![
                        day.into(),
                        department.into(),
                        district.into(),
                        (*rail).into(),
                        (*n).into(),
                        (*amount).into(),
                    ]
                }),
        )?;
        written += write_rows(
            tx,
            "stats_cells (department, district, lat_cell, lon_cell, issued)",
            &adding(
                "department, district, lat_cell, lon_cell",
                &["issued"],
                "stats_cells",
            ),
            5,
            self.cells
                .iter()
                .map(|((department, district, lat, lon), n)| {
                    vec![
                        department.into(),
                        district.into(),
                        (*lat).into(),
                        (*lon).into(),
                        (*n).into(),
                    ]
                }),
        )?;
        Ok(written)
    }
}

/// What a rebuild counted and wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rebuilt {
    pub challans: u64,
    pub payments: u64,
    pub cancellation_requests: u64,
    /// Cancellations approved and appeals quashed.
    pub cancelled: u64,
    pub reductions: u64,
    /// Statistics rows written.
    pub rows: u64,
}

/// Challans read per query while rebuilding.
pub(super) const PAGE: i64 = 5_000;

/// `challan_row::COLS` qualified with a table alias, for joins.
pub(super) fn challan_cols(alias: &str) -> String {
    challan_row::COLS
        .split(',')
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Recounts every statistics table from the record (challans, receipts, cancellation requests,
/// decided appeals) with the same `count_*` functions the live writes use, so the figures equal
/// what they would be had every write been counted as it landed. The statistics tables are
/// projections: their rows are deleted and written anew, in the caller's transaction (all or
/// nothing). `progress` is told (challans read, challans in all) as the work goes on.
///
/// Repeated plates follow the order the challans were written in (their `id`): a challan is a
/// repeat when an earlier-written one has the same plate and officer and was issued on or after
/// its local issue day, exactly as `on_issued` decides when the challan is written.
pub fn rebuild(tx: &mut dyn Tx, progress: &mut dyn FnMut(u64, u64)) -> Result<Rebuilt, StoreError> {
    let total =
        u64::try_from(tx.query_one("SELECT COUNT(*) FROM challans", &[])?.i64(0)?).unwrap_or(0);
    // The recount includes everything this batch wrote so far: its figures not yet written
    // must not be added again at commit.
    if let Some(b) = tx.batch_state() {
        b.stats.recounted();
    }
    for t in TABLES {
        tx.exec(&format!("DELETE FROM {t}"), &[])?;
    }
    let mut tally = Tally::default();
    let mut done = Rebuilt::default();
    progress(0, total);

    // Issued and paid, a page of challans at a time with their receipts.
    let offset_micros = i64::from(KARACHI.whole_seconds()) * 1_000_000;
    let day_micros: i64 = 86_400 * 1_000_000;
    let n = challan_row::NCOLS;
    // `+ 0` on `d.id` and `d.issued_at`: the plate's few rows are found by `challans_plate_officer` and
    // filtered; an index range on either would read every earlier challan for each (quadratic).
    let sql = format!(
        "SELECT {}, c.id,
                CASE WHEN c.vehicle IS NOT NULL AND EXISTS (
                    SELECT 1 FROM challans d
                    WHERE d.vehicle = c.vehicle AND d.officer = c.officer AND d.id + 0 < c.id
                      AND d.issued_at + 0 >= c.issued_at - ((c.issued_at + $1) % $2))
                THEN 1 ELSE 0 END,
                r.rail, r.amount_paisa, r.paid_at
         FROM challans c LEFT JOIN receipts r ON r.challan_number = c.number
         WHERE c.id > $3 ORDER BY c.id LIMIT $4",
        challan_cols("c")
    );
    let mut after = i64::MIN;
    loop {
        let rows = tx.query(&sql, params![offset_micros, day_micros, after, PAGE])?;
        let Some(last) = rows.last() else { break };
        after = last.i64(n)?;
        for r in &rows {
            let c = challan_row::row(r)?;
            count_issued(&mut tally, &c, r.i64(n + 1)? != 0)?;
            if let Some(rail) = r.opt_text(n + 2)? {
                let rail = Rail::parse(&rail)
                    .ok_or_else(|| StoreError::Corrupt(format!("receipt rail {rail}")))?;
                let amount = Money::from_paisa(r.i64(n + 3)?)?;
                count_paid(&mut tally, &c, rail, amount, from_micros(r.i64(n + 4)?))?;
                done.payments += 1;
            }
        }
        done.challans += rows.len() as u64;
        progress(done.challans, total.max(done.challans));
    }

    // Cancellation requests (and the approved ones), then appeals reduced or quashed.
    let sql = format!(
        "SELECT {}, x.id, x.status FROM cancellations x
         JOIN challans c ON c.number = x.challan_number
         WHERE x.id > $1 ORDER BY x.id LIMIT $2",
        challan_cols("c")
    );
    let mut after = i64::MIN;
    loop {
        let rows = tx.query(&sql, params![after, PAGE])?;
        let Some(last) = rows.last() else { break };
        after = last.i64(n)?;
        for r in &rows {
            let c = challan_row::row(r)?;
            count_cancellation_requested(&mut tally, &c)?;
            done.cancellation_requests += 1;
            if r.text(n + 1)? == CancellationStatus::Approved.as_str() {
                count_cancelled(&mut tally, &c)?;
                done.cancelled += 1;
            }
        }
    }
    let sql = format!(
        "SELECT {}, a.id, a.outcome FROM appeals a
         JOIN challans c ON c.number = a.challan_number
         WHERE a.id > $1 AND a.outcome IN ('reduce', 'quash') ORDER BY a.id LIMIT $2",
        challan_cols("c")
    );
    let mut after = i64::MIN;
    loop {
        let rows = tx.query(&sql, params![after, PAGE])?;
        let Some(last) = rows.last() else { break };
        after = last.i64(n)?;
        for r in &rows {
            let c = challan_row::row(r)?;
            if r.text(n + 1)? == "quash" {
                count_cancelled(&mut tally, &c)?;
                done.cancelled += 1;
            } else {
                count_reduced(&mut tally, &c)?;
                done.reductions += 1;
            }
        }
    }

    done.rows = tally.write(tx)?;
    Ok(done)
}

/// Whether the statistics are empty while challans exist: a database that held challans before
/// the statistics tables were added (migration 0005), whose figures would all read zero.
pub fn need_rebuild(tx: &mut dyn Tx) -> Result<bool, StoreError> {
    let has_stats = tx
        .query_opt("SELECT 1 FROM stats_daily LIMIT 1", &[])?
        .is_some();
    let has_challans = tx
        .query_opt("SELECT 1 FROM challans LIMIT 1", &[])?
        .is_some();
    Ok(has_challans && !has_stats)
}

/// [`rebuild`] when [`need_rebuild`]; `None` when there was nothing to do. Start-up runs this
/// through the writer: a second node starting at the same time waits for the first's batch (the
/// chain-head lock) and then finds the statistics filled.
pub fn rebuild_if_empty(
    tx: &mut dyn Tx,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Option<Rebuilt>, StoreError> {
    if !need_rebuild(tx)? {
        return Ok(None);
    }
    rebuild(tx, progress).map(Some)
}
