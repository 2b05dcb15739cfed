//! Statistics for the dashboard: robust z-scores (median and MAD) for explainable anomaly flags,
//! and a Holt-Winters forecast of collections with its backtest error.
//!
//! Counts and ratios are `f64`; amounts stay [`Money`]. A forecast is an estimate, computed in
//! floating point over paisa and rounded to whole rupees for display; it is never posted
//! anywhere.

use crate::money::Money;
use serde::Serialize;

/// The z-score beyond which a value is flagged (Iglewicz and Hoaglin's 3.5).
pub const Z_THRESHOLD: f64 = 3.5;

/// An officer needs this many challans before their rates are compared with others'.
pub const MIN_ISSUED: i64 = 20;

/// The median of `xs` (`None` when empty).
pub fn median(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    let mut v: Vec<f64> = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Where a value stands among its peers, with the figures behind it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Robust {
    pub value: f64,
    pub median: f64,
    /// Median absolute deviation from the median.
    pub mad: f64,
    /// 0.6745 (x - median) / MAD; when MAD is 0, (x - median) / (1.2533 mean absolute
    /// deviation), and 0 when every value is the same.
    pub z: f64,
}

/// Robust z-score of each value against all of them.
pub fn robust_z(xs: &[f64]) -> Vec<Robust> {
    let Some(med) = median(xs) else {
        return Vec::new();
    };
    let dev: Vec<f64> = xs.iter().map(|x| (x - med).abs()).collect();
    let mad = median(&dev).unwrap_or(0.0);
    let mean_ad = dev.iter().sum::<f64>() / dev.len() as f64;
    xs.iter()
        .map(|&x| {
            let z = if mad > 0.0 {
                0.6745 * (x - med) / mad
            } else if mean_ad > 0.0 {
                (x - med) / (1.253_314 * mean_ad)
            } else {
                0.0
            };
            Robust {
                value: x,
                median: med,
                mad,
                z,
            }
        })
        .collect()
}

/// One officer's figures over a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficerFigures {
    pub officer: String,
    pub district: String,
    pub issued: i64,
    pub paid: i64,
    pub paid_cash: i64,
    pub off_hours: i64,
    pub repeat_plate: i64,
    pub cancel_requests: i64,
    pub reductions: i64,
}

/// What an anomaly measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Cancellation requests per challan issued.
    CancellationRequests,
    /// Reductions on appeal per challan issued.
    Reductions,
    /// Share of paid challans paid in cash at a counter.
    CashShare,
    /// Share of challans issued between 22:00 and 06:00 local time.
    OffHours,
    /// Share of challans on a plate the same officer had already fined that day.
    RepeatPlate,
    /// A district's collections in the last week against its earlier weeks.
    CollectionsDrop,
}

impl Metric {
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::CancellationRequests => "cancellation_requests",
            Metric::Reductions => "reductions",
            Metric::CashShare => "cash_share",
            Metric::OffHours => "off_hours",
            Metric::RepeatPlate => "repeat_plate",
            Metric::CollectionsDrop => "collections_drop",
        }
    }
}

/// One flag and the figures that raised it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anomaly {
    pub metric: Metric,
    /// `officer` or `district`.
    pub subject_kind: &'static str,
    pub subject: String,
    pub district: String,
    /// The count behind the rate and the count it is a share of.
    pub numerator: i64,
    pub denominator: i64,
    pub figures: Robust,
    /// The peers compared (officers, or earlier weeks).
    pub peers: usize,
    pub explanation: String,
}

/// Flags officers whose rate of a metric is far above their peers'. Officers with fewer than
/// [`MIN_ISSUED`] challans are left out of the comparison.
pub fn officer_anomalies(figs: &[OfficerFigures]) -> Vec<Anomaly> {
    let peers: Vec<&OfficerFigures> = figs.iter().filter(|f| f.issued >= MIN_ISSUED).collect();
    let mut out = Vec::new();
    type Pick = fn(&OfficerFigures) -> (i64, i64);
    let metrics: [(Metric, Pick, &str); 5] = [
        (
            Metric::CancellationRequests,
            |f| (f.cancel_requests, f.issued),
            "cancellation requests per challan",
        ),
        (
            Metric::Reductions,
            |f| (f.reductions, f.issued),
            "reductions per challan",
        ),
        (
            Metric::CashShare,
            |f| (f.paid_cash, f.paid),
            "share of paid challans paid in cash",
        ),
        (
            Metric::OffHours,
            |f| (f.off_hours, f.issued),
            "share of challans issued 22:00-06:00",
        ),
        (
            Metric::RepeatPlate,
            |f| (f.repeat_plate, f.issued),
            "share of challans on a plate already fined that day",
        ),
    ];
    for (metric, pick, what) in metrics {
        let rows: Vec<(&OfficerFigures, i64, i64)> = peers
            .iter()
            .map(|f| {
                let (n, d) = pick(f);
                (*f, n, d)
            })
            .filter(|(_, _, d)| *d > 0)
            .collect();
        if rows.len() < 3 {
            continue;
        }
        let rates: Vec<f64> = rows.iter().map(|(_, n, d)| *n as f64 / *d as f64).collect();
        for ((f, n, d), r) in rows.iter().zip(robust_z(&rates)) {
            if r.z > Z_THRESHOLD {
                out.push(Anomaly {
                    metric,
                    subject_kind: "officer",
                    subject: f.officer.clone(),
                    district: f.district.clone(),
                    numerator: *n,
                    denominator: *d,
                    figures: r,
                    peers: rows.len(),
                    explanation: format!(
                        "{}: {what} {:.1}% ({n} of {d}) against a median of {:.1}% among {} officers (MAD {:.1} points, robust z {:.1})",
                        f.officer,
                        r.value * 100.0,
                        r.median * 100.0,
                        rows.len(),
                        r.mad * 100.0,
                        r.z
                    ),
                });
            }
        }
    }
    out
}

/// Flags a district whose collections in its last week (the last element, in paisa) fell far below
/// its earlier weeks. Needs at least four earlier weeks.
pub fn collections_drop(district: &str, weekly: &[Money]) -> Option<Anomaly> {
    let (last, earlier) = weekly.split_last()?;
    if earlier.len() < 4 {
        return None;
    }
    let prior: Vec<f64> = earlier.iter().map(|m| m.paisa() as f64).collect();
    let med = median(&prior)?;
    let dev: Vec<f64> = prior.iter().map(|x| (x - med).abs()).collect();
    let mad = median(&dev).unwrap_or(0.0);
    let x = last.paisa() as f64;
    // A flat history makes any change look infinite: measure against at least 5% of the median.
    let scale = mad.max(0.05 * med);
    if scale <= 0.0 {
        return None;
    }
    let z = 0.6745 * (x - med) / scale;
    if z >= -Z_THRESHOLD {
        return None;
    }
    let median_money = Money::from_paisa(med.round() as i64).unwrap_or(Money::ZERO);
    Some(Anomaly {
        metric: Metric::CollectionsDrop,
        subject_kind: "district",
        subject: district.to_string(),
        district: district.to_string(),
        numerator: last.paisa(),
        denominator: med.round() as i64,
        figures: Robust {
            value: x,
            median: med,
            mad,
            z,
        },
        peers: earlier.len(),
        explanation: format!(
            "{district}: collections last week {last} against a weekly median of {median_money} over the {} weeks before (MAD {}, robust z {z:.1})",
            earlier.len(),
            Money::from_paisa(mad.round() as i64).unwrap_or(Money::ZERO),
        ),
    })
}

/// Additive Holt-Winters smoothing parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HwParams {
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
}

/// A forecast point: the estimate and its approximate 95% interval, in whole paisa.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ForecastPoint {
    pub step: usize,
    pub estimate: Money,
    pub low: Money,
    pub high: Money,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Forecast {
    pub params: HwParams,
    pub points: Vec<ForecastPoint>,
    /// One-step residual standard deviation, paisa.
    pub sigma: f64,
    /// Mean absolute percentage error of a forecast made without the last `backtest_days`.
    pub backtest_mape: Option<f64>,
    /// Mean absolute error of that backtest.
    pub backtest_mae: Option<Money>,
    pub backtest_days: usize,
}

const SEASON: usize = 7;

/// Fits additive Holt-Winters with weekly seasonality; returns the one-step squared error sum,
/// the residuals and the final level, trend and seasonal state.
fn fit(y: &[f64], p: HwParams) -> (f64, Vec<f64>, f64, f64, Vec<f64>) {
    let m = SEASON;
    let first: f64 = y[..m].iter().sum::<f64>() / m as f64;
    let second: f64 = y[m..2 * m].iter().sum::<f64>() / m as f64;
    let mut level = first;
    let mut trend = (second - first) / m as f64;
    let mut season: Vec<f64> = y[..m].iter().map(|v| v - first).collect();
    let mut sse = 0.0;
    let mut resid = Vec::with_capacity(y.len());
    for (t, &obs) in y.iter().enumerate().skip(m) {
        let s = season[t % m];
        let pred = level + trend + s;
        let e = obs - pred;
        sse += e * e;
        resid.push(e);
        let new_level = p.alpha * (obs - s) + (1.0 - p.alpha) * (level + trend);
        trend = p.beta * (new_level - level) + (1.0 - p.beta) * trend;
        season[t % m] = p.gamma * (obs - new_level) + (1.0 - p.gamma) * s;
        level = new_level;
    }
    (sse, resid, level, trend, season)
}

/// An estimate as Money, to the whole rupee (a forecast claims no more precision than that).
fn to_money(v: f64) -> Money {
    Money::from_paisa((v.max(0.0) / 100.0).round() as i64 * 100).unwrap_or(Money::ZERO)
}

fn forecast_from(y: &[f64], horizon: usize) -> Option<(HwParams, Vec<f64>, f64)> {
    if y.len() < 2 * SEASON + 2 {
        return None;
    }
    let grid = [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9];
    let mut best: Option<(f64, HwParams)> = None;
    for &alpha in &grid {
        for &beta in &[0.0, 0.01, 0.05, 0.1, 0.2] {
            for &gamma in &[0.05, 0.1, 0.2, 0.3, 0.5] {
                let p = HwParams { alpha, beta, gamma };
                let (sse, ..) = fit(y, p);
                if best.is_none_or(|(b, _)| sse < b) {
                    best = Some((sse, p));
                }
            }
        }
    }
    let (_, p) = best?;
    let (_, resid, level, trend, season) = fit(y, p);
    let n = resid.len().max(1) as f64;
    let sigma = (resid.iter().map(|e| e * e).sum::<f64>() / n).sqrt();
    let t0 = y.len();
    let est = (1..=horizon)
        .map(|h| level + h as f64 * trend + season[(t0 + h - 1) % SEASON])
        .collect();
    Some((p, est, sigma))
}

/// Forecasts `horizon` days of collections from a daily series (oldest first, one entry per
/// day). Needs at least 16 days; the backtest needs at least 16 days before the held-out ones.
pub fn forecast(daily: &[Money], horizon: usize) -> Option<Forecast> {
    let y: Vec<f64> = daily.iter().map(|m| m.paisa() as f64).collect();
    let (params, est, sigma) = forecast_from(&y, horizon)?;
    let points = est
        .iter()
        .enumerate()
        .map(|(i, &e)| {
            let h = (i + 1) as f64;
            let width = 1.96 * sigma * (1.0 + (h - 1.0) * params.alpha * params.alpha).sqrt();
            ForecastPoint {
                step: i + 1,
                estimate: to_money(e),
                low: to_money(e - width),
                high: to_money(e + width),
            }
        })
        .collect();
    let backtest_days = (y.len() / 4).clamp(7, 28);
    let (mut mape, mut mae) = (None, None);
    if y.len() >= backtest_days + 2 * SEASON + 2 {
        let (train, test) = y.split_at(y.len() - backtest_days);
        if let Some((_, pred, _)) = forecast_from(train, backtest_days) {
            let abs: Vec<f64> = test.iter().zip(&pred).map(|(a, p)| (a - p).abs()).collect();
            mae = Some(to_money(abs.iter().sum::<f64>() / abs.len() as f64));
            let pct: Vec<f64> = test
                .iter()
                .zip(&abs)
                .filter(|(a, _)| **a > 0.0)
                .map(|(a, e)| e / a)
                .collect();
            if !pct.is_empty() {
                mape = Some(pct.iter().sum::<f64>() / pct.len() as f64);
            }
        }
    }
    Some(Forecast {
        params,
        points,
        sigma,
        backtest_mape: mape,
        backtest_mae: mae,
        backtest_days,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn officer(name: &str, issued: i64, off_hours: i64) -> OfficerFigures {
        OfficerFigures {
            officer: name.into(),
            district: "peshawar".into(),
            issued,
            paid: issued,
            paid_cash: issued / 10,
            off_hours,
            repeat_plate: 0,
            cancel_requests: 0,
            reductions: 0,
        }
    }

    #[test]
    fn median_and_mad() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        let r = robust_z(&[1.0, 2.0, 3.0, 4.0, 100.0]);
        assert_eq!(r[4].median, 3.0);
        assert_eq!(r[4].mad, 1.0);
        assert!((r[4].z - 0.6745 * 97.0).abs() < 1e-9);
        assert!(robust_z(&[5.0, 5.0, 5.0]).iter().all(|r| r.z == 0.0));
    }

    #[test]
    fn flags_the_planted_officer_only() {
        let mut figs: Vec<OfficerFigures> = (0..12)
            .map(|i| officer(&format!("o{i}"), 100, 3 + i % 3))
            .collect();
        figs.push(officer("night", 100, 60));
        figs.push(officer("tiny", 5, 5)); // too few challans to judge
        let flags = officer_anomalies(&figs);
        assert_eq!(flags.len(), 1, "{flags:?}");
        let f = &flags[0];
        assert_eq!(f.metric, Metric::OffHours);
        assert_eq!(f.subject, "night");
        assert_eq!((f.numerator, f.denominator), (60, 100));
        assert_eq!(f.figures.median, 0.04);
        assert!(f.figures.z > Z_THRESHOLD);
        assert!(f.explanation.contains("60.0% (60 of 100)"));
    }

    #[test]
    fn collections_drop_flags_a_collapse_not_noise() {
        let w = |v: &[i64]| -> Vec<Money> {
            v.iter().map(|r| Money::from_rupees(*r).unwrap()).collect()
        };
        assert!(collections_drop("swat", &w(&[100, 110, 95, 105, 98, 102])).is_none());
        let a = collections_drop("swat", &w(&[100, 110, 95, 105, 98, 20])).unwrap();
        assert_eq!(a.numerator, 2_000);
        assert!(a.figures.z < -Z_THRESHOLD);
        assert!(collections_drop("swat", &w(&[100, 20])).is_none());
    }

    #[test]
    fn forecast_follows_a_weekly_pattern() {
        // Twelve weeks: weekdays Rs 1,000, Fridays Rs 400, with a gentle rise.
        let daily: Vec<Money> = (0..84)
            .map(|d| {
                let base = if d % 7 == 4 { 400 } else { 1_000 };
                Money::from_rupees(base + d).unwrap()
            })
            .collect();
        let f = forecast(&daily, 30).unwrap();
        assert_eq!(f.points.len(), 30);
        // Day 84 is a weekday (84 % 7 == 0); day 88 a Friday.
        let weekday = f.points[0].estimate.paisa();
        let friday = f.points[4].estimate.paisa();
        assert!((100_000..=120_000).contains(&weekday), "{weekday}");
        assert!((40_000..=60_000).contains(&friday), "{friday}");
        assert!(
            f.points[0].low <= f.points[0].estimate && f.points[0].estimate <= f.points[0].high
        );
        assert!(f.backtest_mape.unwrap() < 0.05, "{:?}", f.backtest_mape);
        assert!(forecast(&daily[..10], 30).is_none());
    }
}
