//! Statistics kept as events land: every issuance and payment bumps the aggregate rows in
//! `stats_daily`, `stats_collections` and `stats_cells` inside the transaction that records it,
//! so the summary, dashboard and transparency figures read aggregates, never every challan, and
//! are exactly as current as the event log on every node sharing the database. [`rebuild`]
//! recounts them all from the record with the same counting code, for a database that held
//! challans before these tables existed or whenever the figures are in doubt.

use crate::ops::challans;
use crate::sql::{Tx, Value};
use crate::{params, StoreError};
use efine_core::auth::Principal;
use efine_core::cancellation::CancellationStatus;
use efine_core::challan::Challan;
use efine_core::clock::{from_micros, karachi_date, to_micros, KARACHI};
use efine_core::payment::Rail;
use efine_core::stats::OfficerFigures;
use efine_core::Money;
use std::collections::BTreeMap;
use time::{Date, OffsetDateTime, Time};

/// The dimensions a summary can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    District,
    Department,
    Offence,
    Officer,
}

impl Dim {
    pub const ALL: [Dim; 4] = [Dim::District, Dim::Department, Dim::Offence, Dim::Officer];

    pub fn as_str(self) -> &'static str {
        match self {
            Dim::District => "district",
            Dim::Department => "department",
            Dim::Offence => "offence",
            Dim::Officer => "officer",
        }
    }

    pub fn parse(s: &str) -> Option<Dim> {
        Dim::ALL.into_iter().find(|d| d.as_str() == s)
    }

    fn key(self, c: &Challan) -> String {
        match self {
            Dim::District => c.district.to_string(),
            Dim::Department => c.department.to_string(),
            // Offence codes are unique only within their department.
            Dim::Offence => format!("{}/{}", c.department, c.offence),
            Dim::Officer => c.officer.clone(),
        }
    }
}

/// Which rows a reader may see: officers, supervisors and department admins their own department
/// (and district, where their account has one); finance, auditors and admins everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub department: Option<String>,
    pub district: Option<String>,
}

impl Scope {
    pub fn all() -> Scope {
        Scope::default()
    }

    pub fn for_principal(p: &Principal) -> Scope {
        let reach = p.reach();
        Scope {
            department: reach.department.map(|d| d.to_string()),
            district: reach.district.map(|d| d.to_string()),
        }
    }
}

/// A date range, both ends included, on local dates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Range {
    pub from: Option<Date>,
    pub to: Option<Date>,
}

/// Builds a `WHERE` clause over the columns `department`, `district` and `day`.
struct Filter {
    clauses: Vec<String>,
    params: Vec<Value>,
}

impl Filter {
    fn new(scope: &Scope, range: Range) -> Filter {
        Filter::after(Vec::new(), scope, range)
    }

    /// A filter whose parameters follow `first` (already numbered `$1`..).
    fn after(first: Vec<Value>, scope: &Scope, range: Range) -> Filter {
        let mut f = Filter {
            clauses: Vec::new(),
            params: first,
        };
        if let Some(d) = &scope.department {
            f.push("department =", d.clone().into());
        }
        if let Some(d) = &scope.district {
            f.push("district =", d.clone().into());
        }
        if let Some(d) = range.from {
            f.push("day >=", d.to_string().into());
        }
        if let Some(d) = range.to {
            f.push("day <=", d.to_string().into());
        }
        f
    }

    fn push(&mut self, lhs: &str, v: Value) {
        self.params.push(v);
        self.clauses.push(format!("{lhs} ${}", self.params.len()));
    }

    fn sql(&self) -> String {
        self.clauses
            .iter()
            .map(|c| format!(" AND {c}"))
            .collect::<String>()
    }
}

/// The `stats_daily` / `stats_monthly` rows a challan's figures count in: (dimension, key,
/// department, district), one per dimension, plus the province-wide row for offences.
fn daily_rows(c: &Challan, dims: &[Dim]) -> Vec<(&'static str, String, String, String)> {
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
fn periods(c: &Challan) -> (String, String) {
    let day = karachi_date(c.issued_at).to_string();
    let month = day[..7].to_string();
    (day, month)
}

/// The local cell of a challan's location, if it has one.
fn cell(c: &Challan) -> Option<(i64, i64)> {
    match (c.location.lat_micro, c.location.lon_micro) {
        (Some(lat), Some(lon)) => Some((lat.div_euclid(10_000), lon.div_euclid(10_000))),
        _ => None,
    }
}

/// Where figures go: straight into the tables as each write lands ([`Live`]), or into memory
/// while the whole record is recounted ([`Tally`]). The `count_*` functions below say what each
/// event counts, once, for both.
trait Sink {
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
struct Live<'a>(&'a mut dyn Tx);

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

/// The district of the province-wide rows kept for the offence dimension.
const ALL_DISTRICTS: &str = "*";

fn month_start(d: Date) -> Date {
    d.replace_day(1).unwrap_or(d)
}

fn next_month(d: Date) -> Date {
    let s = month_start(d);
    let (y, m) = (s.year(), s.month());
    let (y, m) = if m == time::Month::December {
        (y + 1, time::Month::January)
    } else {
        (y, m.next())
    };
    Date::from_calendar_date(y, m, 1).unwrap_or(s)
}

/// How a date range is read: whole months from `stats_monthly` (`None` for no months, an open
/// end for an open range) and the partial months at either end, as day ranges, from
/// `stats_daily`.
#[derive(Debug, PartialEq, Eq)]
struct Split {
    months: Option<(Option<String>, Option<String>)>,
    days: Vec<(Date, Date)>,
}

fn split(range: Range) -> Split {
    let first_full = range
        .from
        .map(|f| if f.day() == 1 { f } else { next_month(f) });
    // The first day after the last whole month.
    let after_last_full = range.to.map(|t| {
        let n = t.next_day().unwrap_or(t);
        if n.day() == 1 {
            n
        } else {
            month_start(t)
        }
    });
    let ym = |d: Date| d.to_string()[..7].to_string();
    match (first_full, after_last_full) {
        (Some(a), Some(b)) if a >= b => Split {
            months: None,
            days: vec![(range.from.unwrap_or(a), range.to.unwrap_or(b))],
        },
        (a, b) => {
            let mut days = Vec::new();
            if let (Some(f), Some(a)) = (range.from, a) {
                if f < a {
                    days.push((f, a.previous_day().unwrap_or(a)));
                }
            }
            if let (Some(t), Some(b)) = (range.to, b) {
                if b <= t {
                    days.push((b, t));
                }
            }
            Split {
                months: Some((a.map(ym), b.and_then(|b| b.previous_day()).map(ym))),
                days,
            }
        }
    }
}

/// A subquery over `dim`'s rows in the range and scope, from the monthly and daily tables, with
/// columns `key, district` and then `cols`; its parameters follow `params`.
fn rollup(dim: Dim, scope: &Scope, range: Range, cols: &[&str], params: &mut Vec<Value>) -> String {
    let sp = split(range);
    let push = |params: &mut Vec<Value>, v: Value| {
        params.push(v);
        format!("${}", params.len())
    };
    let mut scope_sql = String::new();
    let dim_p = push(params, dim.as_str().into());
    if let Some(d) = &scope.department {
        scope_sql.push_str(&format!(
            " AND department = {}",
            push(params, d.clone().into())
        ));
    }
    if let Some(d) = &scope.district {
        scope_sql.push_str(&format!(
            " AND district = {}",
            push(params, d.clone().into())
        ));
    }
    if dim == Dim::Offence && scope.district.is_none() {
        // The province-wide rows; a district scope above reads that district's own rows.
        scope_sql.push_str(&format!(
            " AND district = {}",
            push(params, ALL_DISTRICTS.into())
        ));
    }
    let cols = cols.join(", ");
    let mut parts = Vec::new();
    if let Some((a, b)) = sp.months {
        let mut w = format!("dim = {dim_p}{scope_sql}");
        if let Some(a) = a {
            w.push_str(&format!(" AND month >= {}", push(params, a.into())));
        }
        if let Some(b) = b {
            w.push_str(&format!(" AND month <= {}", push(params, b.into())));
        }
        parts.push(format!(
            "SELECT key, district, {cols} FROM stats_monthly WHERE {w}"
        ));
    }
    if !sp.days.is_empty() {
        let ors: Vec<String> = sp
            .days
            .iter()
            .map(|(a, b)| {
                format!(
                    "(day >= {} AND day <= {})",
                    push(params, a.to_string().into()),
                    push(params, b.to_string().into())
                )
            })
            .collect();
        parts.push(format!(
            "SELECT key, district, {cols} FROM stats_daily WHERE dim = {dim_p}{scope_sql} AND ({})",
            ors.join(" OR ")
        ));
    }
    if parts.is_empty() {
        return format!("SELECT key, district, {cols} FROM stats_monthly WHERE 1 = 0");
    }
    parts.join(" UNION ALL ")
}

/// Whether an instant falls between 22:00 and 06:00 local time.
pub fn off_hours(at: OffsetDateTime) -> bool {
    let h = at.to_offset(KARACHI).hour();
    !(6..22).contains(&h)
}

/// Whether an earlier challan (one already in the table) has the same plate and officer and
/// was issued on or after the local day `c` was issued.
fn repeat_plate(tx: &mut dyn Tx, c: &Challan) -> Result<bool, StoreError> {
    let Some(v) = &c.vehicle else {
        return Ok(false);
    };
    let local = karachi_date(c.issued_at);
    let day_start = to_micros(local.with_time(Time::MIDNIGHT).assume_offset(KARACHI));
    Ok(tx
        .query_one(
            "SELECT COUNT(*) FROM challans
             WHERE vehicle = $1 AND officer = $2 AND issued_at >= $3 AND number <> $4",
            params![
                v.as_str(),
                c.officer.as_str(),
                day_start,
                c.number.to_string()
            ],
        )?
        .i64(0)?
        > 0)
}

fn count_issued(s: &mut dyn Sink, c: &Challan, repeat: bool) -> Result<(), StoreError> {
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

fn count_paid(
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

fn count_cancellation_requested(s: &mut dyn Sink, c: &Challan) -> Result<(), StoreError> {
    s.daily(c, &[("cancel_requests", 1)], &Dim::ALL)
}

fn count_reduced(s: &mut dyn Sink, c: &Challan) -> Result<(), StoreError> {
    s.daily(c, &[("reductions", 1)], &Dim::ALL)
}

fn count_cancelled(s: &mut dyn Sink, c: &Challan) -> Result<(), StoreError> {
    s.daily(
        c,
        &[("cancelled", 1), ("cancelled_face", c.amount.paisa())],
        &Dim::ALL,
    )
}

/// Counts a newly issued challan. Call after its row is inserted, in the same transaction.
pub fn on_issued(tx: &mut dyn Tx, c: &Challan) -> Result<(), StoreError> {
    let repeat = repeat_plate(tx, c)?;
    count_issued(&mut Live(tx), c, repeat)
}

/// Counts a payment that settled a challan. Call in the crediting transaction.
pub fn on_paid(
    tx: &mut dyn Tx,
    c: &Challan,
    rail: Rail,
    amount: Money,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    count_paid(&mut Live(tx), c, rail, amount, at)
}

/// Counts a cancellation request against the officer who issued the challan (for the anomaly
/// figures). The cancellation and appeal workflow calls this in its own transaction.
pub fn on_cancellation_requested(tx: &mut dyn Tx, c: &Challan) -> Result<(), StoreError> {
    count_cancellation_requested(&mut Live(tx), c)
}

/// Counts a reduction decided on appeal against the issuing officer.
pub fn on_reduced(tx: &mut dyn Tx, c: &Challan) -> Result<(), StoreError> {
    count_reduced(&mut Live(tx), c)
}

/// Counts a cancelled challan: it no longer counts as outstanding.
pub fn on_cancelled(tx: &mut dyn Tx, c: &Challan) -> Result<(), StoreError> {
    count_cancelled(&mut Live(tx), c)
}

/// The counters of `stats_daily` and `stats_monthly`, in their order in a [`Tally`] row.
const COUNTERS: [&str; 12] = [
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
#[derive(Default)]
struct Tally {
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

/// Inserts `rows` (each `width` values) into `into` ("table (columns)"), many rows a statement.
fn insert_rows(
    tx: &mut dyn Tx,
    into: &str,
    width: usize,
    rows: impl Iterator<Item = Vec<Value>>,
) -> Result<u64, StoreError> {
    const ROWS_PER_STATEMENT: usize = 200;
    fn flush(
        tx: &mut dyn Tx,
        into: &str,
        width: usize,
        chunk: &mut Vec<Value>,
    ) -> Result<u64, StoreError> {
        let n = chunk.len() / width;
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
            &format!("INSERT INTO {into} VALUES {}", tuples.join(", ")),
            chunk,
        )?;
        chunk.clear();
        Ok(n as u64)
    }
    let mut written = 0;
    let mut chunk: Vec<Value> = Vec::with_capacity(width * ROWS_PER_STATEMENT);
    for row in rows {
        debug_assert_eq!(row.len(), width);
        chunk.extend(row);
        if chunk.len() >= width * ROWS_PER_STATEMENT {
            written += flush(tx, into, width, &mut chunk)?;
        }
    }
    written += flush(tx, into, width, &mut chunk)?;
    Ok(written)
}

impl Tally {
    /// Writes every row; returns how many.
    fn write(&self, tx: &mut dyn Tx) -> Result<u64, StoreError> {
        let mut written = 0;
        for (table, period_col, map) in [
            ("stats_daily", "day", &self.daily),
            ("stats_monthly", "month", &self.monthly),
        ] {
            written += insert_rows(
                tx,
                &format!(
                    "{table} (dim, key, department, district, {period_col}, {})",
                    COUNTERS.join(", ")
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
        written += insert_rows(
            tx,
            "stats_collections (day, department, district, rail, payments, amount)",
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
        written += insert_rows(
            tx,
            "stats_cells (department, district, lat_cell, lon_cell, issued)",
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
const PAGE: i64 = 5_000;

/// `challans::COLS` qualified with a table alias, for joins.
fn challan_cols(alias: &str) -> String {
    challans::COLS
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
    for t in TABLES {
        tx.exec(&format!("DELETE FROM {t}"), &[])?;
    }
    let mut tally = Tally::default();
    let mut done = Rebuilt::default();
    progress(0, total);

    // Issued and paid, a page of challans at a time with their receipts.
    let offset_micros = i64::from(KARACHI.whole_seconds()) * 1_000_000;
    let day_micros: i64 = 86_400 * 1_000_000;
    let n = challans::NCOLS;
    // `+ 0` on `d.id` and `d.issued_at`: the plate's few rows are found by `challans_vehicle` and
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
            let c = challans::row(r)?;
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
            let c = challans::row(r)?;
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
            let c = challans::row(r)?;
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

/// One group's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryRow {
    pub code: String,
    pub name_en: String,
    pub name_ur: String,
    pub issued: i64,
    pub paid: i64,
    pub cancelled: i64,
    pub amount_issued: Money,
    pub collected: Money,
    /// Face amounts of the challans neither paid nor cancelled.
    pub outstanding: Money,
}

impl SummaryRow {
    /// Paid challans per challan issued, in basis points (1/100 of a percent).
    pub fn compliance_bp(&self) -> i64 {
        if self.issued == 0 {
            0
        } else {
            self.paid * 10_000 / self.issued
        }
    }
}

fn money(v: i64) -> Result<Money, StoreError> {
    Money::from_paisa(v.max(0)).map_err(|e| StoreError::Corrupt(format!("stats amount: {e}")))
}

/// Issued, paid, amounts and compliance per group, largest first.
pub fn summary(
    tx: &mut dyn Tx,
    dim: Dim,
    scope: &Scope,
    range: Range,
) -> Result<Vec<SummaryRow>, StoreError> {
    let mut params = Vec::new();
    let source = rollup(
        dim,
        scope,
        range,
        &[
            "issued",
            "paid",
            "cancelled",
            "amount_issued",
            "collected",
            "paid_face",
            "cancelled_face",
        ],
        &mut params,
    );
    let names = match dim {
        Dim::District => "(SELECT name_en FROM districts WHERE code = g.key), \
                          (SELECT name_ur FROM districts WHERE code = g.key)",
        Dim::Department => "(SELECT name_en FROM departments WHERE code = g.key), \
                            (SELECT name_ur FROM departments WHERE code = g.key)",
        Dim::Offence => "(SELECT name_en FROM offences WHERE department || '/' || code = g.key ORDER BY version DESC, id DESC LIMIT 1), \
                         (SELECT name_ur FROM offences WHERE department || '/' || code = g.key ORDER BY version DESC, id DESC LIMIT 1)",
        Dim::Officer => "g.key, g.key",
    };
    let sql = format!(
        "SELECT g.key, {names}, g.issued, g.paid, g.cancelled, g.amount_issued, g.collected,
                g.paid_face, g.cancelled_face
         FROM (SELECT key, CAST(SUM(issued) AS BIGINT) AS issued, CAST(SUM(paid) AS BIGINT) AS paid, CAST(SUM(cancelled) AS BIGINT) AS cancelled,
                      CAST(SUM(amount_issued) AS BIGINT) AS amount_issued, CAST(SUM(collected) AS BIGINT) AS collected,
                      CAST(SUM(paid_face) AS BIGINT) AS paid_face, CAST(SUM(cancelled_face) AS BIGINT) AS cancelled_face
               FROM ({source}) u GROUP BY key) g
         ORDER BY g.issued DESC, g.key"
    );
    tx.query(&sql, &params)?
        .iter()
        .map(|r| {
            let code = r.text(0)?;
            let amount_issued = r.i64(6)?;
            Ok(SummaryRow {
                name_en: r.opt_text(1)?.unwrap_or_else(|| code.clone()),
                name_ur: r.opt_text(2)?.unwrap_or_else(|| code.clone()),
                code,
                issued: r.i64(3)?,
                paid: r.i64(4)?,
                cancelled: r.i64(5)?,
                amount_issued: money(amount_issued)?,
                collected: money(r.i64(7)?)?,
                outstanding: money(amount_issued - r.i64(8)? - r.i64(9)?)?,
            })
        })
        .collect()
}

/// Issued, paid and collected per local issue date (collections here count against the issue
/// date; [`collections_daily`] has them by payment date).
pub fn issued_daily(
    tx: &mut dyn Tx,
    scope: &Scope,
    range: Range,
) -> Result<Vec<(Date, i64, i64)>, StoreError> {
    let f = Filter::new(scope, range);
    tx.query(
        &format!(
            "SELECT day, CAST(SUM(issued) AS BIGINT), CAST(SUM(paid) AS BIGINT) FROM stats_daily WHERE dim = 'district'{}
             GROUP BY day ORDER BY day",
            f.sql()
        ),
        &f.params,
    )?
    .iter()
    .map(|r| Ok((parse_day(&r.text(0)?)?, r.i64(1)?, r.i64(2)?)))
    .collect()
}

fn parse_day(s: &str) -> Result<Date, StoreError> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| StoreError::Corrupt(format!("stats day {s}")))
}

/// Money received per local payment date.
pub fn collections_daily(
    tx: &mut dyn Tx,
    scope: &Scope,
    range: Range,
) -> Result<Vec<(Date, i64, Money)>, StoreError> {
    let f = Filter::new(scope, range);
    tx.query(
        &format!(
            "SELECT day, CAST(SUM(payments) AS BIGINT), CAST(SUM(amount) AS BIGINT) FROM stats_collections WHERE 1 = 1{}
             GROUP BY day ORDER BY day",
            f.sql()
        ),
        &f.params,
    )?
    .iter()
    .map(|r| Ok((parse_day(&r.text(0)?)?, r.i64(1)?, money(r.i64(2)?)?)))
    .collect()
}

/// Money received per district and local payment date.
pub fn collections_by_district_daily(
    tx: &mut dyn Tx,
    scope: &Scope,
    range: Range,
) -> Result<Vec<(String, Date, Money)>, StoreError> {
    let f = Filter::new(scope, range);
    tx.query(
        &format!(
            "SELECT district, day, CAST(SUM(amount) AS BIGINT) FROM stats_collections WHERE 1 = 1{}
             GROUP BY district, day ORDER BY district, day",
            f.sql()
        ),
        &f.params,
    )?
    .iter()
    .map(|r| Ok((r.text(0)?, parse_day(&r.text(1)?)?, money(r.i64(2)?)?)))
    .collect()
}

/// Payments and money received per rail.
pub fn collections_by_rail(
    tx: &mut dyn Tx,
    scope: &Scope,
    range: Range,
) -> Result<Vec<(String, i64, Money)>, StoreError> {
    let f = Filter::new(scope, range);
    tx.query(
        &format!(
            "SELECT rail, CAST(SUM(payments) AS BIGINT), CAST(SUM(amount) AS BIGINT) FROM stats_collections WHERE 1 = 1{}
             GROUP BY rail ORDER BY 3 DESC, rail",
            f.sql()
        ),
        &f.params,
    )?
    .iter()
    .map(|r| Ok((r.text(0)?, r.i64(1)?, money(r.i64(2)?)?)))
    .collect()
}

/// A hotspot cell: its south-west corner in millionths of a degree and its challans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub district: String,
    pub lat_micro: i64,
    pub lon_micro: i64,
    pub issued: i64,
}

/// The busiest location cells, most challans first.
pub fn hotspots(tx: &mut dyn Tx, scope: &Scope, limit: i64) -> Result<Vec<Cell>, StoreError> {
    let mut f = Filter::new(scope, Range::default());
    f.params.push(limit.into());
    let n = f.params.len();
    tx.query(
        &format!(
            "SELECT district, lat_cell, lon_cell, CAST(SUM(issued) AS BIGINT) FROM stats_cells WHERE 1 = 1{}
             GROUP BY district, lat_cell, lon_cell ORDER BY 4 DESC, district, lat_cell, lon_cell
             LIMIT ${n}",
            f.sql()
        ),
        &f.params,
    )?
    .iter()
    .map(|r| {
        Ok(Cell {
            district: r.text(0)?,
            lat_micro: r.i64(1)? * 10_000,
            lon_micro: r.i64(2)? * 10_000,
            issued: r.i64(3)?,
        })
    })
    .collect()
}

/// Each officer's figures for the anomaly comparison.
pub fn officer_figures(
    tx: &mut dyn Tx,
    scope: &Scope,
    range: Range,
) -> Result<Vec<OfficerFigures>, StoreError> {
    let mut params = Vec::new();
    let source = rollup(
        Dim::Officer,
        scope,
        range,
        &[
            "issued",
            "paid",
            "paid_cash",
            "off_hours",
            "repeat_plate",
            "cancel_requests",
            "reductions",
        ],
        &mut params,
    );
    tx.query(
        &format!(
            "SELECT key, MIN(district), CAST(SUM(issued) AS BIGINT), CAST(SUM(paid) AS BIGINT),
                    CAST(SUM(paid_cash) AS BIGINT), CAST(SUM(off_hours) AS BIGINT),
                    CAST(SUM(repeat_plate) AS BIGINT), CAST(SUM(cancel_requests) AS BIGINT),
                    CAST(SUM(reductions) AS BIGINT)
             FROM ({source}) u GROUP BY key ORDER BY key"
        ),
        &params,
    )?
    .iter()
    .map(|r| {
        Ok(OfficerFigures {
            officer: r.text(0)?,
            district: r.text(1)?,
            issued: r.i64(2)?,
            paid: r.i64(3)?,
            paid_cash: r.i64(4)?,
            off_hours: r.i64(5)?,
            repeat_plate: r.i64(6)?,
            cancel_requests: r.i64(7)?,
            reductions: r.i64(8)?,
        })
    })
    .collect()
}

/// The last event's sequence number: what the live view watches for change.
pub fn last_seq(tx: &mut dyn Tx) -> Result<i64, StoreError> {
    tx.query_one("SELECT seq FROM chain_head WHERE id = 1", &[])?
        .i64(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn r(from: Option<Date>, to: Option<Date>) -> Range {
        Range { from, to }
    }

    #[test]
    fn ranges_read_whole_months_and_edge_days() {
        let s = |a: &str, b: &str| Some((Some(a.to_string()), Some(b.to_string())));
        assert_eq!(split(r(None, None)).months, Some((None, None)));
        assert!(split(r(None, None)).days.is_empty());
        let x = split(r(Some(date!(2026 - 03 - 15)), Some(date!(2026 - 06 - 10))));
        assert_eq!(x.months, s("2026-04", "2026-05"));
        assert_eq!(
            x.days,
            vec![
                (date!(2026 - 03 - 15), date!(2026 - 03 - 31)),
                (date!(2026 - 06 - 01), date!(2026 - 06 - 10))
            ]
        );
        let x = split(r(Some(date!(2026 - 03 - 01)), Some(date!(2026 - 12 - 31))));
        assert_eq!((x.months, x.days), (s("2026-03", "2026-12"), vec![]));
        let x = split(r(Some(date!(2026 - 11 - 24)), Some(date!(2026 - 11 - 24))));
        assert_eq!(x.months, None);
        assert_eq!(x.days, vec![(date!(2026 - 11 - 24), date!(2026 - 11 - 24))]);
        let x = split(r(None, Some(date!(2026 - 02 - 10))));
        assert_eq!(x.months, Some((None, Some("2026-01".into()))));
        assert_eq!(x.days, vec![(date!(2026 - 02 - 01), date!(2026 - 02 - 10))]);
        let x = split(r(Some(date!(2025 - 12 - 31)), None));
        assert_eq!(x.months, Some((Some("2026-01".into()), None)));
        assert_eq!(x.days, vec![(date!(2025 - 12 - 31), date!(2025 - 12 - 31))]);
    }
}
