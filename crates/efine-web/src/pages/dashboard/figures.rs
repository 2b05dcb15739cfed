//! The staff dashboard's body: totals, the district and offence tables, the charts, the
//! forecast and the anomaly flags explained in the reader's language.

use super::charts;
use super::parts::{live, pct};
use crate::i18n::{digits, tr, trf, Lang};
use crate::stats::{AnomalyView, ForecastView, HotspotView, RailView, SummaryRowView, TrendPoint};
use maud::{html, Markup, PreEscaped};

/// Everything the dashboard shows.
pub struct Dashboard {
    pub seq: i64,
    pub user: String,
    pub districts: Vec<SummaryRowView>,
    pub offences: Vec<SummaryRowView>,
    pub total: SummaryRowView,
    pub daily: Vec<TrendPoint>,
    pub weekly: Vec<TrendPoint>,
    pub rails: Vec<RailView>,
    pub hotspots: Vec<HotspotView>,
    pub anomalies: Vec<AnomalyView>,
    pub forecast: Option<ForecastView>,
    /// Officers' devices: counters that never arrived, challans synced long after issue.
    pub device_flags: Vec<efine_store::ops::devices::Anomaly>,
}

fn rupees(paisa: i64) -> i64 {
    paisa / 100
}

/// A chart drawn by `charts` (plotters escapes the text it writes into the SVG).
fn chart(svg: String) -> Markup {
    html! { figure { (PreEscaped(svg)) } }
}

/// The dashboard's title.
pub fn dashboard_title(lang: Lang) -> &'static str {
    tr(lang, "dashboard.dashboard")
}

fn summary_table(
    lang: Lang,
    first: &str,
    rows: &[SummaryRowView],
    total: &SummaryRowView,
) -> Markup {
    html! {
        div.scroll {
            table {
                thead {
                    tr {
                        th { (first) }
                        th.n { (tr(lang, "dashboard.issued")) }
                        th.n { (tr(lang, "dashboard.paid")) }
                        th.n { (tr(lang, "dashboard.compliance")) }
                        th.n { (tr(lang, "dashboard.amount_issued")) }
                        th.n { (tr(lang, "dashboard.collected")) }
                        th.n { (tr(lang, "dashboard.outstanding")) }
                    }
                }
                tbody {
                    @for r in rows.iter().chain(std::iter::once(total)) {
                        tr data-code=(r.code) {
                            td { (lang.pick(&r.name, &r.name_ur)) }
                            td.n { (r.issued) }
                            td.n { (r.paid) }
                            td.n { (pct(r.compliance_percent)) }
                            td.n { (r.amount_issued_display) }
                            td.n { (r.collected_display) }
                            td.n { (r.outstanding_display) }
                        }
                    }
                }
            }
        }
    }
}

/// One hotspot grid per district (the busiest four): a kilometre cell is invisible on a map of
/// the whole province.
fn hotspot_grids(d: &Dashboard, lang: Lang) -> Markup {
    let mut districts: Vec<&str> = Vec::new();
    for h in &d.hotspots {
        if !districts.contains(&h.district_code.as_str()) && districts.len() < 4 {
            districts.push(&h.district_code);
        }
    }
    html! {
        @for code in districts {
            @let name = d
                .districts
                .iter()
                .find(|r| r.code == code)
                .map(|r| lang.pick(&r.name, &r.name_ur).to_string())
                .unwrap_or_else(|| code.to_string());
            (chart(charts::hotspots(
                &format!("{}: {name}", tr(lang, "dashboard.challans_per_1_km")),
                &d.hotspots
                    .iter()
                    .filter(|h| h.district_code == code)
                    .map(|h| (h.lat_micro, h.lon_micro, h.issued))
                    .collect::<Vec<_>>(),
            )))
        }
    }
}

/// The forecast chart and its sentence, with the expected total in bold.
fn forecast(d: &Dashboard, f: &ForecastView, lang: Lang, labels: &[String]) -> Markup {
    let hist: Vec<i64> = d.daily.iter().map(|p| rupees(p.collected)).collect();
    let mut labels = labels.to_vec();
    labels.extend(f.points.iter().map(|p| p.date[5..].to_string()));
    let est: Vec<(i64, i64, i64)> = f
        .points
        .iter()
        .map(|p| (rupees(p.estimate), rupees(p.low), rupees(p.high)))
        .collect();
    let mape = f
        .backtest_mape_percent
        .map(pct)
        .unwrap_or_else(|| "-".into());
    // Everything but {total} is filled as text; the total goes in bold between the two halves.
    let text = trf(
        lang,
        "dashboard.forecast_text",
        &[
            ("days", &digits(lang, &f.backtest_days.to_string())),
            ("mape", &digits(lang, &mape)),
        ],
    );
    let (before, after) = text.split_once("{total}").unwrap_or((&text, ""));
    html! {
        (chart(charts::forecast(
            tr(lang, "dashboard.collections_per_day_rs"),
            (
                tr(lang, "dashboard.legend_collected"),
                tr(lang, "dashboard.legend_forecast"),
            ),
            &labels,
            &hist,
            &est,
        )))
        p id="forecast" { (before) b { (f.total_estimate_display) } (after) }
        p { a href="/api/v1/stats/forecast?format=csv" { "CSV" } }
    }
}

/// The dashboard's body, for the console's page shell.
pub fn dashboard(d: &Dashboard, lang: Lang) -> Markup {
    let tot = &d.total;
    let cards = [
        (tr(lang, "dashboard.issued"), tot.issued.to_string()),
        (tr(lang, "dashboard.paid"), tot.paid.to_string()),
        (
            tr(lang, "dashboard.compliance"),
            pct(tot.compliance_percent),
        ),
        (
            tr(lang, "dashboard.collected"),
            tot.collected_display.clone(),
        ),
        (
            tr(lang, "dashboard.outstanding"),
            tot.outstanding_display.clone(),
        ),
    ];
    let labels: Vec<String> = d.daily.iter().map(|p| p.start[5..].to_string()).collect();
    let wlabels: Vec<String> = d.weekly.iter().map(|p| p.start[5..].to_string()).collect();
    html! {
        (live(d.seq))
        p.live {
            (tr(lang, "dashboard.live_the_figures_update")) " · "
            a href="/transparency" { (tr(lang, "dashboard.public_figures")) }
        }
        div.cards {
            @for (label, value) in &cards {
                div.card {
                    (label)
                    b.n id={ "total-" (label.to_lowercase().replace(' ', "-")) } { (value) }
                }
            }
        }

        h2 { (tr(lang, "dashboard.by_district")) }
        (summary_table(lang, tr(lang, "dashboard.district"), &d.districts, tot))
        p { a href="/api/v1/stats/summary?group_by=district&format=csv" { "CSV" } }

        h2 { (tr(lang, "dashboard.trends")) }
        div.charts {
            (chart(charts::lines(
                tr(lang, "dashboard.challans_per_day"),
                &labels,
                &[
                    (
                        tr(lang, "dashboard.issued_2"),
                        d.daily.iter().map(|p| p.issued).collect(),
                    ),
                    (
                        tr(lang, "dashboard.paid_since"),
                        d.daily.iter().map(|p| p.paid).collect(),
                    ),
                ],
            )))
            (chart(charts::bars(
                tr(lang, "dashboard.collections_per_week_rs"),
                &wlabels,
                &d.weekly.iter().map(|p| rupees(p.collected)).collect::<Vec<_>>(),
            )))
            (chart(charts::bars(
                tr(lang, "dashboard.collections_by_rail_rs"),
                &d.rails.iter().map(|r| r.rail.clone()).collect::<Vec<_>>(),
                &d.rails.iter().map(|r| rupees(r.amount)).collect::<Vec<_>>(),
            )))
            (hotspot_grids(d, lang))
        }
        p {
            a href="/api/v1/stats/trends?format=csv" { (tr(lang, "dashboard.daily_csv")) } " · "
            a href="/api/v1/stats/trends?period=week&format=csv" { (tr(lang, "dashboard.weekly_csv")) } " · "
            a href="/api/v1/stats/rails?format=csv" { (tr(lang, "dashboard.rails_csv")) } " · "
            a href="/api/v1/stats/hotspots?format=csv" { (tr(lang, "dashboard.hotspots_csv")) }
        }

        h2 { (tr(lang, "dashboard.forecast_next_30_days")) }
        @match &d.forecast {
            Some(f) => (forecast(d, f, lang, &labels)),
            None => p { (tr(lang, "dashboard.not_enough_days_of")) },
        }

        h2 { (tr(lang, "dashboard.anomalies")) }
        p { (tr(lang, "dashboard.robust_z_score_0")) }
        @if d.anomalies.is_empty() {
            p { (tr(lang, "dashboard.nothing_stands_out")) }
        }
        @for a in &d.anomalies {
            div.flag data-metric=(a.metric) {
                b { (a.subject) } " · " (explain(lang, a)) " " br;
                span.n {
                    (format!("value {:.4}, median {:.4}, MAD {:.4}, z {:.2}", a.value, a.median, a.mad, a.z))
                }
            }
        }
        p { a href="/api/v1/stats/anomalies?format=csv" { "CSV" } }
        @if !d.device_flags.is_empty() {
            h3 { (tr(lang, "devices.anomalies")) }
            @for a in &d.device_flags {
                div.flag data-metric="device" { (device_flag(lang, a)) }
            }
        }

        h2 { (tr(lang, "dashboard.by_offence")) }
        (summary_table(lang, tr(lang, "dashboard.offence"), &d.offences, tot))
        p {
            a href="/api/v1/stats/summary?group_by=offence&format=csv" { "CSV" } " · "
            a href="/api/v1/stats/summary?group_by=officer&format=csv" { (tr(lang, "dashboard.by_officer_csv")) } " · "
            a href="/api/v1/stats/summary?group_by=department&format=csv" { (tr(lang, "dashboard.by_department_csv")) }
        }
    }
}

/// A flag's sentence in the reader's language, from its figures (the API's `explanation` is the
/// English one, built in core).
fn explain(lang: Lang, a: &AnomalyView) -> String {
    let num = |x: String| digits(lang, &x);
    if a.subject_kind == "district" {
        let money = |paisa: f64| {
            crate::i18n::money(
                lang,
                efine_core::Money::from_paisa(paisa.round() as i64)
                    .unwrap_or(efine_core::Money::ZERO),
            )
        };
        return trf(
            lang,
            "dashboard.flag_district",
            &[
                ("subject", &a.subject),
                ("value", &money(a.value)),
                ("median", &money(a.median)),
                ("peers", &num(a.peers.to_string())),
                ("z", &num(format!("{:.1}", a.z))),
            ],
        );
    }
    let what = match a.metric.as_str() {
        "cancellation_requests" => tr(lang, "dashboard.metric_cancellation_requests"),
        "reductions" => tr(lang, "dashboard.metric_reductions"),
        "cash_share" => tr(lang, "dashboard.metric_cash_share"),
        "off_hours" => tr(lang, "dashboard.metric_off_hours"),
        "repeat_plate" => tr(lang, "dashboard.metric_repeat_plate"),
        _ => return a.explanation.clone(),
    };
    trf(
        lang,
        "dashboard.flag_officer",
        &[
            ("subject", &a.subject),
            ("what", what),
            ("value", &num(format!("{:.1}", a.value * 100.0))),
            ("numerator", &num(a.numerator.to_string())),
            ("denominator", &num(a.denominator.to_string())),
            ("median", &num(format!("{:.1}", a.median * 100.0))),
            ("peers", &num(a.peers.to_string())),
            ("mad", &num(format!("{:.1}", a.mad * 100.0))),
            ("z", &num(format!("{:.1}", a.z))),
        ],
    )
}

/// One device anomaly, in the reader's language.
fn device_flag(lang: Lang, a: &efine_store::ops::devices::Anomaly) -> String {
    use efine_store::ops::devices::Anomaly;
    match a {
        Anomaly::Gap {
            device,
            officer,
            first,
            last,
        } => crate::i18n::trf(
            lang,
            "devices.gap",
            &[
                ("device", device),
                ("officer", officer),
                ("first", &first.to_string()),
                ("last", &last.to_string()),
            ],
        ),
        Anomaly::LongDelay {
            device,
            officer,
            number,
            hours,
        } => crate::i18n::trf(
            lang,
            "devices.delay",
            &[
                ("device", device),
                ("officer", officer),
                ("number", number),
                ("hours", &hours.to_string()),
            ],
        ),
    }
}
