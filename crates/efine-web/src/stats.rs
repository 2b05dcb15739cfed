//! Dashboard figures: views of the store's aggregates (the staff statistics and the public
//! transparency figures, which the JSON API and the pages both read), the anomaly and forecast
//! calculations from core, and CSV rendering.

use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use efine_core::clock::karachi_date;
use efine_core::stats::{self as core_stats, Anomaly, Forecast};
use efine_core::Money;
use efine_store::ops::stats::{self, Dim, Range, Scope, SummaryRow};
use serde::Serialize;
use time::Date;
use utoipa::ToSchema;

pub fn parse_date(field: &str, s: Option<&str>) -> ApiResult<Option<Date>> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
            .map(Some)
            .map_err(|_| ApiError::invalid(field, format!("{field} is a date, YYYY-MM-DD"))),
    }
}

/// `from` and `to` as given (both optional, both included); `to` before `from` is refused.
pub fn parse_range(from: Option<&str>, to: Option<&str>) -> ApiResult<Range> {
    let r = Range {
        from: parse_date("from", from)?,
        to: parse_date("to", to)?,
    };
    if let (Some(f), Some(t)) = (r.from, r.to) {
        if t < f {
            return Err(ApiError::invalid("to", "to is before from"));
        }
    }
    Ok(r)
}

/// `format=json` (the default) or `format=csv`.
pub fn wants_csv(format: Option<&str>) -> ApiResult<bool> {
    match format {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(_) => Err(ApiError::invalid("format", "format is json or csv")),
    }
}

/// A cell as a spreadsheet will take it: one that starts with = + - @ would run as a formula,
/// so it is prefixed with `'` to stay text (numbers such as `-5` stay numbers).
fn guarded(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@']) && s.parse::<f64>().is_err() {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

/// A CSV download: a header line and one line per row, CRLF line ends, quoted where needed.
pub fn csv(name: &str, header: &[&str], rows: Vec<Vec<String>>) -> Response {
    csv_with(name, header, rows, false)
}

/// [`csv`], or with `for_excel` the same text after a UTF-8 byte order mark: spreadsheet
/// programs that guess a legacy code page otherwise show Urdu names as mojibake.
pub fn csv_with(name: &str, header: &[&str], rows: Vec<Vec<String>>, for_excel: bool) -> Response {
    let start: Vec<u8> = if for_excel {
        b"\xEF\xBB\xBF".to_vec()
    } else {
        Vec::new()
    };
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .flexible(true)
        .from_writer(start);
    // Writing to memory with rows of any length has nothing left to fail on.
    let written = w.write_record(header).and_then(|()| {
        rows.iter()
            .try_for_each(|r| w.write_record(r.iter().map(|f| guarded(f).into_owned())))
    });
    let out = match (written, w.into_inner()) {
        (Ok(()), Ok(bytes)) => bytes,
        _ => return ApiError::internal("the CSV could not be written").into_response(),
    };
    (
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ),
        ],
        out,
    )
        .into_response()
}

/// One group's figures. The group's code is also under its own name (`district_code`,
/// `department_code`, `offence_code` or `officer`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SummaryRowView {
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub district_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offence_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub officer: Option<String>,
    pub name: String,
    pub name_ur: String,
    pub issued: i64,
    pub paid: i64,
    pub cancelled: i64,
    /// Paid per issued, percent with two decimals.
    pub compliance_percent: f64,
    /// Face amounts issued, paisa.
    pub amount_issued: i64,
    pub amount_issued_display: String,
    /// Money received for these challans, paisa.
    pub collected: i64,
    pub collected_display: String,
    /// Face amounts of the challans neither paid nor cancelled, paisa.
    pub outstanding: i64,
    pub outstanding_display: String,
}

impl SummaryRowView {
    pub fn new(dim: Option<Dim>, r: SummaryRow) -> SummaryRowView {
        let code = |d: Dim| (dim == Some(d)).then(|| r.code.clone());
        let (offence_code, department_code) = match dim {
            Some(Dim::Offence) => {
                let (dep, off) = r.code.split_once('/').unwrap_or(("", &r.code));
                (Some(off.to_string()), Some(dep.to_string()))
            }
            _ => (None, code(Dim::Department)),
        };
        SummaryRowView {
            district_code: code(Dim::District),
            department_code,
            offence_code,
            officer: code(Dim::Officer),
            compliance_percent: r.compliance_bp() as f64 / 100.0,
            name: r.name_en.clone(),
            name_ur: r.name_ur.clone(),
            issued: r.issued,
            paid: r.paid,
            cancelled: r.cancelled,
            amount_issued: r.amount_issued.paisa(),
            amount_issued_display: r.amount_issued.to_string(),
            collected: r.collected.paisa(),
            collected_display: r.collected.to_string(),
            outstanding: r.outstanding.paisa(),
            outstanding_display: r.outstanding.to_string(),
            code: r.code,
        }
    }

    pub fn csv_header() -> &'static [&'static str] {
        &[
            "code",
            "name",
            "issued",
            "paid",
            "cancelled",
            "compliance_percent",
            "amount_issued_paisa",
            "collected_paisa",
            "outstanding_paisa",
        ]
    }

    pub fn csv_row(&self) -> Vec<String> {
        vec![
            self.code.clone(),
            self.name.clone(),
            self.issued.to_string(),
            self.paid.to_string(),
            self.cancelled.to_string(),
            format!("{:.2}", self.compliance_percent),
            self.amount_issued.to_string(),
            self.collected.to_string(),
            self.outstanding.to_string(),
        ]
    }
}

/// Adds rows up into a total row.
pub fn total(rows: &[SummaryRow]) -> SummaryRow {
    let sum = |f: fn(&SummaryRow) -> Money| {
        Money::from_paisa(rows.iter().map(|r| f(r).paisa()).sum()).unwrap_or(Money::ZERO)
    };
    SummaryRow {
        code: "total".into(),
        name_en: "Total".into(),
        name_ur: "کل".into(),
        issued: rows.iter().map(|r| r.issued).sum(),
        paid: rows.iter().map(|r| r.paid).sum(),
        cancelled: rows.iter().map(|r| r.cancelled).sum(),
        amount_issued: sum(|r| r.amount_issued),
        collected: sum(|r| r.collected),
        outstanding: sum(|r| r.outstanding),
    }
}

pub async fn summary(
    state: &AppState,
    dim: Dim,
    scope: Scope,
    range: Range,
) -> ApiResult<Vec<SummaryRow>> {
    Ok(state
        .store
        .read(move |tx| stats::summary(tx, dim, &scope, range))
        .await?)
}

/// A period's figures for the trend charts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrendPoint {
    /// The day, or the Monday that starts the week, `YYYY-MM-DD`.
    pub start: String,
    /// Challans issued in the period, and how many of them are paid by now.
    pub issued: i64,
    pub paid: i64,
    /// Payments received in the period and their amount, paisa.
    pub payments: i64,
    pub collected: i64,
    pub collected_display: String,
}

/// Daily or weekly trends over a range (default: the 90 days to today).
pub async fn trends(
    state: &AppState,
    scope: Scope,
    range: Range,
    weekly: bool,
) -> ApiResult<Vec<TrendPoint>> {
    let today = karachi_date(state.store.now());
    let range = Range {
        from: Some(range.from.unwrap_or(today - time::Duration::days(89))),
        to: Some(range.to.unwrap_or(today)),
    };
    let (issued, collected) = state
        .store
        .read(move |tx| {
            Ok((
                stats::issued_daily(tx, &scope, range)?,
                stats::collections_daily(tx, &scope, range)?,
            ))
        })
        .await?;
    let bucket = |d: Date| {
        if weekly {
            d - time::Duration::days(i64::from(d.weekday().number_days_from_monday()))
        } else {
            d
        }
    };
    let mut points: std::collections::BTreeMap<Date, (i64, i64, i64, i64)> = Default::default();
    let (from, to) = (range.from.unwrap_or(today), range.to.unwrap_or(today));
    let mut d = from;
    while d <= to {
        points.entry(bucket(d)).or_default();
        match d.next_day() {
            Some(n) => d = n,
            None => break,
        }
    }
    for (day, i, p) in issued {
        let e = points.entry(bucket(day)).or_default();
        e.0 += i;
        e.1 += p;
    }
    for (day, n, m) in collected {
        let e = points.entry(bucket(day)).or_default();
        e.2 += n;
        e.3 += m.paisa();
    }
    Ok(points
        .into_iter()
        .map(|(d, (i, p, n, m))| TrendPoint {
            start: d.to_string(),
            issued: i,
            paid: p,
            payments: n,
            collected: m,
            collected_display: Money::from_paisa(m).unwrap_or(Money::ZERO).to_string(),
        })
        .collect())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RailView {
    pub rail: String,
    pub payments: i64,
    pub amount: i64,
    pub amount_display: String,
}

pub async fn rails(state: &AppState, scope: Scope, range: Range) -> ApiResult<Vec<RailView>> {
    Ok(state
        .store
        .read(move |tx| stats::collections_by_rail(tx, &scope, range))
        .await?
        .into_iter()
        .map(|(rail, payments, m)| RailView {
            rail,
            payments,
            amount: m.paisa(),
            amount_display: m.to_string(),
        })
        .collect())
}

/// A location cell of about a kilometre (0.01 degree): where challans cluster.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HotspotView {
    pub district_code: String,
    /// South-west corner, millionths of a degree.
    pub lat_micro: i64,
    pub lon_micro: i64,
    pub issued: i64,
}

pub async fn hotspots(state: &AppState, scope: Scope, limit: i64) -> ApiResult<Vec<HotspotView>> {
    Ok(state
        .store
        .read(move |tx| stats::hotspots(tx, &scope, limit))
        .await?
        .into_iter()
        .map(|c| HotspotView {
            district_code: c.district,
            lat_micro: c.lat_micro,
            lon_micro: c.lon_micro,
            issued: c.issued,
        })
        .collect())
}

/// An anomaly flag with the figures behind it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnomalyView {
    /// cancellation_requests, reductions, cash_share, off_hours, repeat_plate or
    /// collections_drop.
    pub metric: String,
    /// `officer` or `district`.
    pub subject_kind: String,
    pub subject: String,
    pub district_code: String,
    /// The count (or paisa, for a collections drop) and what it is a share of (or the median).
    pub numerator: i64,
    pub denominator: i64,
    /// The rate or amount compared.
    pub value: f64,
    pub median: f64,
    /// Median absolute deviation of the peers.
    pub mad: f64,
    /// Robust z-score: 0.6745 (value - median) / MAD.
    pub z: f64,
    /// Officers (or earlier weeks) compared.
    pub peers: usize,
    pub explanation: String,
}

impl From<Anomaly> for AnomalyView {
    fn from(a: Anomaly) -> Self {
        let r2 = |v: f64| (v * 10_000.0).round() / 10_000.0;
        AnomalyView {
            metric: a.metric.as_str().into(),
            subject_kind: a.subject_kind.into(),
            subject: a.subject,
            district_code: a.district,
            numerator: a.numerator,
            denominator: a.denominator,
            value: r2(a.figures.value),
            median: r2(a.figures.median),
            mad: r2(a.figures.mad),
            z: (a.figures.z * 100.0).round() / 100.0,
            peers: a.peers,
            explanation: a.explanation,
        }
    }
}

/// Officer anomalies over the range, and districts whose last full week's collections fell far
/// below the eight before.
pub async fn anomalies(state: &AppState, scope: Scope, range: Range) -> ApiResult<Vec<Anomaly>> {
    let today = karachi_date(state.store.now());
    // Weeks end on the day before today: today is not over.
    let end = today - time::Duration::days(1);
    let start = end - time::Duration::days(9 * 7 - 1);
    let weeks = Range {
        from: Some(start),
        to: Some(end),
    };
    let s2 = scope.clone();
    let (figs, daily) = state
        .store
        .read(move |tx| {
            Ok((
                stats::officer_figures(tx, &scope, range)?,
                stats::collections_by_district_daily(tx, &s2, weeks)?,
            ))
        })
        .await?;
    let mut out = core_stats::officer_anomalies(&figs);
    let mut by_district: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
    for (district, day, m) in daily {
        let w = ((day - start).whole_days() / 7) as usize;
        let v = by_district.entry(district).or_insert_with(|| vec![0; 9]);
        if let Some(slot) = v.get_mut(w) {
            *slot += m.paisa();
        }
    }
    for (district, weeks) in by_district {
        let weekly: Vec<Money> = weeks
            .into_iter()
            .map(|p| Money::from_paisa(p).unwrap_or(Money::ZERO))
            .collect();
        out.extend(core_stats::collections_drop(&district, &weekly));
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ForecastPointView {
    pub date: String,
    /// Paisa.
    pub estimate: i64,
    pub low: i64,
    pub high: i64,
    pub estimate_display: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ForecastView {
    /// Additive Holt-Winters with weekly seasonality, fitted to daily collections.
    pub method: String,
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
    /// Days of history used.
    pub history_days: usize,
    /// The next 30 days, with an approximate 95% interval.
    pub points: Vec<ForecastPointView>,
    /// The same method, fitted without the last `backtest_days` and compared with them.
    pub backtest_days: usize,
    /// Mean absolute percentage error of that backtest, percent.
    pub backtest_mape_percent: Option<f64>,
    /// Mean absolute daily error, paisa.
    pub backtest_mae: Option<i64>,
    pub total_estimate: i64,
    pub total_estimate_display: String,
}

/// Collections forecast for the next 30 days from the last 180 (`None` with under 16 days).
pub async fn forecast(state: &AppState, scope: Scope) -> ApiResult<Option<ForecastView>> {
    let today = karachi_date(state.store.now());
    let end = today - time::Duration::days(1);
    let first = end - time::Duration::days(179);
    let range = Range {
        from: Some(first),
        to: Some(end),
    };
    let daily = state
        .store
        .read(move |tx| stats::collections_daily(tx, &scope, range))
        .await?;
    // Start at the first day with money, so a new deployment's empty months do not count.
    let Some(start) = daily.first().map(|(d, ..)| *d) else {
        return Ok(None);
    };
    let n = (end - start).whole_days() as usize + 1;
    let mut series = vec![Money::ZERO; n];
    for (d, _, m) in daily {
        series[(d - start).whole_days() as usize] = m;
    }
    let Some(f): Option<Forecast> = core_stats::forecast(&series, 30) else {
        return Ok(None);
    };
    let total: i64 = f.points.iter().map(|p| p.estimate.paisa()).sum();
    Ok(Some(ForecastView {
        method: "holt-winters-additive-weekly".into(),
        alpha: f.params.alpha,
        beta: f.params.beta,
        gamma: f.params.gamma,
        history_days: n,
        points: f
            .points
            .iter()
            .map(|p| ForecastPointView {
                date: (end + time::Duration::days(p.step as i64)).to_string(),
                estimate: p.estimate.paisa(),
                low: p.low.paisa(),
                high: p.high.paisa(),
                estimate_display: p.estimate.to_string(),
            })
            .collect(),
        backtest_days: f.backtest_days,
        backtest_mape_percent: f.backtest_mape.map(|m| (m * 10_000.0).round() / 100.0),
        backtest_mae: f.backtest_mae.map(Money::paisa),
        total_estimate: total,
        total_estimate_display: Money::from_paisa(total).unwrap_or(Money::ZERO).to_string(),
    }))
}

/// One district's public figures: counts and money only, nothing about any person.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransparencyRow {
    pub district_code: String,
    pub name: String,
    pub name_ur: String,
    pub issued: i64,
    pub paid: i64,
    pub compliance_percent: f64,
    /// Paisa.
    pub collected: i64,
    pub collected_display: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransparencyView {
    pub rows: Vec<TransparencyRow>,
    pub total: TransparencyRow,
}

impl From<SummaryRowView> for TransparencyRow {
    fn from(r: SummaryRowView) -> Self {
        TransparencyRow {
            district_code: r.code,
            name: r.name,
            name_ur: r.name_ur,
            issued: r.issued,
            paid: r.paid,
            compliance_percent: r.compliance_percent,
            collected: r.collected,
            collected_display: r.collected_display,
        }
    }
}

/// The public figures per district, and their total.
pub async fn transparency(state: &AppState) -> ApiResult<TransparencyView> {
    let rows = summary(state, Dim::District, Scope::all(), Range::default()).await?;
    let total = SummaryRowView::new(None, total(&rows)).into();
    Ok(TransparencyView {
        rows: rows
            .into_iter()
            .map(|r| SummaryRowView::new(Some(Dim::District), r).into())
            .collect(),
        total,
    })
}

/// The CSV tables of the statistics, shared by the JSON API (`?format=csv`) and the
/// dashboard's downloads (console session): a header and one line per row, amounts in paisa.
pub mod tables {
    use super::{AnomalyView, ForecastView, HotspotView, RailView, SummaryRowView, TrendPoint};

    pub type Table = (&'static [&'static str], Vec<Vec<String>>);

    /// Rows then the total line.
    pub fn summary(rows: &[SummaryRowView], total: &SummaryRowView) -> Table {
        let mut lines: Vec<Vec<String>> = rows.iter().map(SummaryRowView::csv_row).collect();
        lines.push(total.csv_row());
        (SummaryRowView::csv_header(), lines)
    }

    pub fn trends(points: &[TrendPoint]) -> Table {
        (
            &["start", "issued", "paid", "payments", "collected_paisa"],
            points
                .iter()
                .map(|p| {
                    vec![
                        p.start.clone(),
                        p.issued.to_string(),
                        p.paid.to_string(),
                        p.payments.to_string(),
                        p.collected.to_string(),
                    ]
                })
                .collect(),
        )
    }

    pub fn rails(rails: &[RailView]) -> Table {
        (
            &["rail", "payments", "amount_paisa"],
            rails
                .iter()
                .map(|r| vec![r.rail.clone(), r.payments.to_string(), r.amount.to_string()])
                .collect(),
        )
    }

    pub fn hotspots(cells: &[HotspotView]) -> Table {
        (
            &["district_code", "lat_micro", "lon_micro", "issued"],
            cells
                .iter()
                .map(|c| {
                    vec![
                        c.district_code.clone(),
                        c.lat_micro.to_string(),
                        c.lon_micro.to_string(),
                        c.issued.to_string(),
                    ]
                })
                .collect(),
        )
    }

    pub fn anomalies(flags: &[AnomalyView]) -> Table {
        (
            &[
                "metric",
                "subject_kind",
                "subject",
                "district_code",
                "numerator",
                "denominator",
                "value",
                "median",
                "mad",
                "z",
                "peers",
                "explanation",
            ],
            flags
                .iter()
                .map(|a| {
                    vec![
                        a.metric.clone(),
                        a.subject_kind.clone(),
                        a.subject.clone(),
                        a.district_code.clone(),
                        a.numerator.to_string(),
                        a.denominator.to_string(),
                        a.value.to_string(),
                        a.median.to_string(),
                        a.mad.to_string(),
                        a.z.to_string(),
                        a.peers.to_string(),
                        a.explanation.clone(),
                    ]
                })
                .collect(),
        )
    }

    pub fn forecast(f: &ForecastView) -> Table {
        (
            &["date", "estimate_paisa", "low_paisa", "high_paisa"],
            f.points
                .iter()
                .map(|p| {
                    vec![
                        p.date.clone(),
                        p.estimate.to_string(),
                        p.low.to_string(),
                        p.high.to_string(),
                    ]
                })
                .collect(),
        )
    }
}
