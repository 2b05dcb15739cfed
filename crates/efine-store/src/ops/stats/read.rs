//! Reading the statistics: whole months from `stats_monthly` and the ragged ends from
//! `stats_daily`, scoped to what the reader may see.

use super::*;
use crate::sql::{Tx, Value};
use crate::StoreError;
use efine_core::stats::OfficerFigures;
use efine_core::Money;
use time::Date;

/// A subquery over `dim`'s rows in the range and scope, from the monthly and daily tables, with
/// columns `key, district` and then `cols`; its parameters follow `params`.
pub(super) fn rollup(
    dim: Dim,
    scope: &Scope,
    range: Range,
    cols: &[&str],
    params: &mut Vec<Value>,
) -> String {
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

pub(super) fn money(v: i64) -> Result<Money, StoreError> {
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

pub(super) fn parse_day(s: &str) -> Result<Date, StoreError> {
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
