//! The staff dashboard's body: totals, the district and offence tables, the charts, the
//! forecast and the anomaly flags explained in the reader's language.

use super::charts;
use super::filters::{Filters, PRESETS};
use super::parts::live;
use super::Names;
use crate::i18n::{digits, money, number, percent, tr, trf, Lang};
use crate::stats::{AnomalyView, ForecastView, HotspotView, RailView, SummaryRowView, TrendPoint};
use efine_core::auth::Principal;
use efine_core::Money;
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
    pub filters: Filters,
    /// Every district and department of the catalogue: (code, English, Urdu).
    pub district_names: Names,
    pub department_names: Names,
    /// Officers' devices: counters that never arrived, challans synced long after issue.
    pub device_flags: Vec<efine_store::ops::devices::Anomaly>,
}

fn rupees(paisa: i64) -> i64 {
    paisa / 100
}

fn rs(lang: Lang, paisa: i64) -> String {
    money(lang, Money::from_paisa(paisa).unwrap_or(Money::ZERO))
}

/// A chart drawn by `charts` (plotters escapes the text it writes into the SVG), its title and
/// legend as HTML around it, outside the data.
fn chart(id: &str, title: &str, svg: String, legend: &[(&str, &str)]) -> Markup {
    html! {
        figure id=(id) {
            figcaption { (title) }
            (PreEscaped(svg))
            @if !legend.is_empty() {
                ul.legend {
                    @for (class, text) in legend {
                        li { span class={ "sw " (class) } aria-hidden="true" {} " " (text) }
                    }
                }
            }
        }
    }
}

/// `2026-11-24` as `24 Nov` in the reader's language, for an axis.
fn short_day(lang: Lang, iso: &str) -> String {
    match time::Date::parse(
        iso,
        time::macros::format_description!("[year]-[month]-[day]"),
    ) {
        Ok(d) => {
            let full = crate::i18n::date(lang, d);
            // Drop the year: "24 Nov 2026" -> "24 Nov".
            full.rsplit_once(' ')
                .map(|(a, _)| a.to_string())
                .unwrap_or(full)
        }
        Err(_) => iso.to_string(),
    }
}

/// The dashboard's title.
pub fn dashboard_title(lang: Lang) -> &'static str {
    tr(lang, "dashboard.dashboard")
}

fn csv_links(lang: Lang, q: &str, table: &str) -> Markup {
    html! {
        span.csv {
            a href={ "/dashboard/csv/" (table) "?" (q) } download { "CSV" }
            " · "
            a href={ "/dashboard/csv/" (table) "?" (q) "&excel=1" } download { (tr(lang, "dashboard.csv_excel")) }
        }
    }
}

fn summary_table(
    lang: Lang,
    id: &str,
    first: &str,
    rows: &[SummaryRowView],
    total: &SummaryRowView,
) -> Markup {
    html! {
        div.scroll {
            table id=(id) {
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
                            td.n { (number(lang, r.issued)) }
                            td.n { (number(lang, r.paid)) }
                            td.n { (percent(lang, r.compliance_percent)) }
                            td.n { (rs(lang, r.amount_issued)) }
                            td.n { (rs(lang, r.collected)) }
                            td.n { (rs(lang, r.outstanding)) }
                        }
                    }
                }
            }
        }
    }
}

/// The compliance band of a district tile (the tile map's colour classes).
fn band(issued: i64, compliance: f64) -> &'static str {
    match (issued, compliance) {
        (0, _) => "b-none",
        (_, c) if c >= 95.0 => "b-4",
        (_, c) if c >= 80.0 => "b-3",
        (_, c) if c >= 50.0 => "b-2",
        _ => "b-1",
    }
}

/// Every district of the province at a glance: one tile each, coloured by compliance, with the
/// count issued; districts outside the reader's scope or with no challans are grey.
fn district_tiles(d: &Dashboard, lang: Lang) -> Markup {
    let q = &d.filters;
    html! {
        ul.tiles id="district-tiles" {
            @for (code, en, ur) in &d.district_names {
                @let row = d.districts.iter().find(|r| &r.code == code);
                @let (issued, compliance) = row.map(|r| (r.issued, r.compliance_percent)).unwrap_or((0, 0.0));
                li class={ "tile " (band(issued, compliance)) } data-code=(code) {
                    @if q.scope.district.is_none() && row.is_some() {
                        a href={ "/dashboard?" (with_district(q, code)) } {
                            b { (lang.pick(en, ur)) }
                        }
                    } @else {
                        b { (lang.pick(en, ur)) }
                    }
                    br;
                    @if issued > 0 {
                        (percent(lang, compliance)) " · " (number(lang, issued))
                    } @else {
                        "-"
                    }
                }
            }
        }
        ul.legend {
            li { span.sw.b-4 aria-hidden="true" {} " " (tr(lang, "dashboard.band_4")) }
            li { span.sw.b-3 aria-hidden="true" {} " " (tr(lang, "dashboard.band_3")) }
            li { span.sw.b-2 aria-hidden="true" {} " " (tr(lang, "dashboard.band_2")) }
            li { span.sw.b-1 aria-hidden="true" {} " " (tr(lang, "dashboard.band_1")) }
            li { span.sw.b-none aria-hidden="true" {} " " (tr(lang, "dashboard.band_none")) }
        }
    }
}

fn with_district(f: &Filters, code: &str) -> String {
    let mut f = f.clone();
    f.district = Some(code.to_string());
    f.query()
}

/// One hotspot grid per district (the busiest four): a kilometre cell is invisible on a map of
/// the whole province. The scale is printed under each grid.
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
                .district_names
                .iter()
                .find(|r| r.0 == code)
                .map(|r| lang.pick(&r.1, &r.2).to_string())
                .unwrap_or_else(|| code.to_string());
            @let cells: Vec<(i64, i64, i64)> = d
                .hotspots
                .iter()
                .filter(|h| h.district_code == code)
                .map(|h| (h.lat_micro, h.lon_micro, h.issued))
                .collect();
            @let max = cells.iter().map(|c| c.2).max().unwrap_or(0);
            (chart(
                &format!("hotspots-{code}"),
                &format!("{}: {name}", tr(lang, "dashboard.challans_per_1_km")),
                charts::hotspots(&cells),
                &[
                    ("heat-low", tr(lang, "dashboard.heat_low")),
                    ("heat-high", &trf(lang, "dashboard.heat_high", &[("n", &number(lang, max))])),
                ],
            ))
        }
    }
}

/// The forecast chart and its sentence, with the expected total in bold.
fn forecast(
    d: &Dashboard,
    f: &ForecastView,
    lang: Lang,
    labels: &[String],
    fmt: charts::Fmt<'_>,
) -> Markup {
    let q = d.filters.query();
    let hist: Vec<i64> = d.daily.iter().map(|p| rupees(p.collected)).collect();
    let mut labels = labels.to_vec();
    labels.extend(f.points.iter().map(|p| short_day(lang, &p.date)));
    let est: Vec<(i64, i64, i64)> = f
        .points
        .iter()
        .map(|p| (rupees(p.estimate), rupees(p.low), rupees(p.high)))
        .collect();
    let mape = f
        .backtest_mape_percent
        .map(|m| percent(lang, m))
        .unwrap_or_else(|| "-".into());
    // Everything but {total} is filled as text; the total goes in bold between the two halves.
    let text = trf(
        lang,
        "dashboard.forecast_text",
        &[
            ("days", &digits(lang, &f.backtest_days.to_string())),
            ("mape", &mape),
        ],
    );
    let (before, after) = text.split_once("{total}").unwrap_or((&text, ""));
    html! {
        (chart(
            "forecast-chart",
            tr(lang, "dashboard.collections_per_day_rs"),
            charts::forecast(&labels, &hist, &est, fmt),
            &[
                ("blue", tr(lang, "dashboard.legend_collected")),
                ("band", tr(lang, "dashboard.legend_forecast")),
            ],
        ))
        p id="forecast" { (before) b { (rs(lang, f.total_estimate)) } (after) }
        p { (csv_links(lang, &q, "forecast")) }
    }
}

/// The filter form: presets as links, custom dates, district and department pickers.
fn filter_form(d: &Dashboard, lang: Lang, who: &Principal) -> Markup {
    let f = &d.filters;
    let any = tr(lang, "console.any");
    let from = f.range.from.map(|d| d.to_string()).unwrap_or_default();
    let to = f.range.to.map(|d| d.to_string()).unwrap_or_default();
    html! {
        nav.chips aria-label=(tr(lang, "dashboard.range")) id="presets" {
            @for (key, label) in PRESETS.iter().filter(|(k, _)| *k != "custom") {
                a href={ "/dashboard?" (f.with_preset(key)) } aria-current=[(f.preset == *key).then_some("true")] { (tr(lang, label)) }
            }
        }
        form.box.filters method="get" action="/dashboard" id="filters" {
            input type="hidden" name="range" value="custom";
            div {
                label for="from" { (tr(lang, "console.issued_from")) }
                input id="from" name="from" type="date" value=(from);
            }
            div {
                label for="to" { (tr(lang, "console.issued_to")) }
                input id="to" name="to" type="date" value=(to);
            }
            @if who.district.is_none() {
                div {
                    label for="district" { (tr(lang, "portal.district")) }
                    select id="district" name="district" {
                        option value="" { (any) }
                        @for (code, en, ur) in &d.district_names {
                            option value=(code) selected[f.district.as_deref() == Some(code.as_str())] { (lang.pick(en, ur)) }
                        }
                    }
                }
            }
            @if who.department.is_none() {
                div {
                    label for="department" { (tr(lang, "portal.department")) }
                    select id="department" name="department" {
                        option value="" { (any) }
                        @for (code, en, ur) in &d.department_names {
                            option value=(code) selected[f.department.as_deref() == Some(code.as_str())] { (lang.pick(en, ur)) }
                        }
                    }
                }
            }
            p { button type="submit" { (tr(lang, "dashboard.apply")) } }
        }
        @for e in &f.errors {
            p.bad role="alert" { (e) }
        }
        p id="showing" { (showing(d, lang)) }
    }
}

/// "Showing 1 Nov 2026 to 24 Nov 2026 · Peshawar · Traffic Police" in the reader's language.
fn showing(d: &Dashboard, lang: Lang) -> String {
    let f = &d.filters;
    let mut parts = vec![match (f.range.from, f.range.to) {
        (None, None) => tr(lang, "dashboard.all_time").to_string(),
        (from, to) => trf(
            lang,
            "dashboard.from_to",
            &[
                (
                    "from",
                    &from
                        .map(|x| crate::i18n::date(lang, x))
                        .unwrap_or_else(|| "…".into()),
                ),
                (
                    "to",
                    &to.map(|x| crate::i18n::date(lang, x))
                        .unwrap_or_else(|| "…".into()),
                ),
            ],
        ),
    }];
    let name = |v: &Names, code: &Option<String>| {
        code.as_ref().map(|c| {
            v.iter()
                .find(|r| &r.0 == c)
                .map(|r| lang.pick(&r.1, &r.2).to_string())
                .unwrap_or_else(|| c.clone())
        })
    };
    parts.extend(name(&d.district_names, &f.scope.district));
    parts.extend(name(&d.department_names, &f.scope.department));
    format!("{}: {}", tr(lang, "dashboard.showing"), parts.join(" · "))
}

/// The dashboard's body, for the console's page shell.
pub fn dashboard(d: &Dashboard, lang: Lang, who: &Principal) -> Markup {
    let tot = &d.total;
    let q = d.filters.query();
    let cards = [
        (
            "issued",
            tr(lang, "dashboard.issued"),
            number(lang, tot.issued),
        ),
        ("paid", tr(lang, "dashboard.paid"), number(lang, tot.paid)),
        (
            "compliance",
            tr(lang, "dashboard.compliance"),
            percent(lang, tot.compliance_percent),
        ),
        (
            "collected",
            tr(lang, "dashboard.collected"),
            rs(lang, tot.collected),
        ),
        (
            "outstanding",
            tr(lang, "dashboard.outstanding"),
            rs(lang, tot.outstanding),
        ),
    ];
    let fmt = |n: i64| number(lang, n);
    let labels: Vec<String> = d.daily.iter().map(|p| short_day(lang, &p.start)).collect();
    let wlabels: Vec<String> = d.weekly.iter().map(|p| short_day(lang, &p.start)).collect();
    let partial = d.filters.ends_today();
    let rail_labels: Vec<String> = d
        .rails
        .iter()
        .map(|r| {
            efine_core::payment::Rail::parse(&r.rail)
                .map(|x| x.label().to_string())
                .unwrap_or_else(|| r.rail.clone())
        })
        .collect();
    html! {
        (live(d.seq))
        p.live {
            (tr(lang, "dashboard.live_the_figures_update")) " · "
            a href="/transparency" { (tr(lang, "dashboard.public_figures")) }
        }
        (filter_form(d, lang, who))
        div.cards {
            @for (key, label, value) in &cards {
                div.card {
                    (label)
                    b.n id={ "total-" (key) } { (value) }
                }
            }
        }

        h2 { (tr(lang, "dashboard.province_at_a_glance")) }
        (district_tiles(d, lang))

        h2 { (tr(lang, "dashboard.by_district")) }
        (summary_table(lang, "by-district", tr(lang, "dashboard.district"), &d.districts, tot))
        p { (csv_links(lang, &q, "district")) }

        h2 { (tr(lang, "dashboard.trends")) }
        div.charts {
            (chart(
                "chart-daily",
                tr(lang, "dashboard.challans_per_day"),
                charts::issued_paid(
                    &labels,
                    &d.daily.iter().map(|p| p.issued).collect::<Vec<_>>(),
                    &d.daily.iter().map(|p| p.paid).collect::<Vec<_>>(),
                    partial,
                    &fmt,
                ),
                &if partial {
                    vec![
                        ("blue", tr(lang, "dashboard.issued_2")),
                        ("green", tr(lang, "dashboard.paid_since")),
                        ("partial", tr(lang, "dashboard.partial_day")),
                    ]
                } else {
                    vec![
                        ("blue", tr(lang, "dashboard.issued_2")),
                        ("green", tr(lang, "dashboard.paid_since")),
                    ]
                },
            ))
            (chart(
                "chart-weekly",
                tr(lang, "dashboard.collections_per_week_rs"),
                charts::bars(
                    &wlabels,
                    &d.weekly.iter().map(|p| rupees(p.collected)).collect::<Vec<_>>(),
                    partial,
                    &fmt,
                ),
                &if partial {
                    vec![("partial", tr(lang, "dashboard.partial_week"))]
                } else {
                    vec![]
                },
            ))
            (chart(
                "chart-rails",
                tr(lang, "dashboard.collections_by_rail_rs"),
                charts::bars(
                    &rail_labels,
                    &d.rails.iter().map(|r| rupees(r.amount)).collect::<Vec<_>>(),
                    false,
                    &fmt,
                ),
                &[],
            ))
            (hotspot_grids(d, lang))
        }
        p {
            (tr(lang, "dashboard.daily_csv")) ": " (csv_links(lang, &q, "daily")) " · "
            (tr(lang, "dashboard.weekly_csv")) ": " (csv_links(lang, &q, "weekly")) " · "
            (tr(lang, "dashboard.rails_csv")) ": " (csv_links(lang, &q, "rails")) " · "
            (tr(lang, "dashboard.hotspots_csv")) ": " (csv_links(lang, &q, "hotspots"))
        }

        h2 { (tr(lang, "dashboard.forecast_next_30_days")) }
        @match &d.forecast {
            Some(f) => (forecast(d, f, lang, &labels, &fmt)),
            None => p { (tr(lang, "dashboard.not_enough_days_of")) },
        }

        h2 { (tr(lang, "dashboard.anomalies")) }
        p { (tr(lang, "dashboard.robust_z_score_0")) }
        @if d.anomalies.is_empty() {
            p { (tr(lang, "dashboard.nothing_stands_out")) }
        }
        @for a in &d.anomalies {
            div.flag data-metric=(a.metric) {
                b { (a.subject) } " · " (explain(lang, a))
                details {
                    summary { (tr(lang, "dashboard.how_found")) }
                    p { (how_found(lang, a)) }
                }
            }
        }
        p { (csv_links(lang, &q, "anomalies")) }
        @if !d.device_flags.is_empty() {
            h3 { (tr(lang, "devices.anomalies")) }
            @for a in &d.device_flags {
                div.flag data-metric="device" { (device_flag(lang, a)) }
            }
        }

        h2 { (tr(lang, "dashboard.by_offence")) }
        (summary_table(lang, "by-offence", tr(lang, "dashboard.offence"), &d.offences, tot))
        p {
            (csv_links(lang, &q, "offence")) " · "
            (tr(lang, "dashboard.by_officer_csv")) ": " (csv_links(lang, &q, "officer")) " · "
            (tr(lang, "dashboard.by_department_csv")) ": " (csv_links(lang, &q, "department"))
        }
    }
}

/// What lies behind a flag, for the reader who opens it: the spread among peers and the score,
/// in words and the reader's digits.
fn how_found(lang: Lang, a: &AnomalyView) -> String {
    let num = |x: String| digits(lang, &x);
    if a.subject_kind == "district" {
        return trf(
            lang,
            "dashboard.how_district",
            &[
                ("peers", &num(a.peers.to_string())),
                ("z", &num(format!("{:.1}", a.z))),
            ],
        );
    }
    trf(
        lang,
        "dashboard.how_officer",
        &[
            ("peers", &num(a.peers.to_string())),
            ("mad", &num(format!("{:.1}", a.mad * 100.0))),
            ("z", &num(format!("{:.1}", a.z))),
        ],
    )
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
