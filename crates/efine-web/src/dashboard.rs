//! The staff dashboard and the public transparency page, English and Urdu (`?lang=ur`, right to
//! left). Charts are SVG drawn on the server (`charts`); the only script listens to
//! `/api/v1/stats/stream` and reloads the page when the event log moves.

use crate::charts;
use crate::controllers::stats::TransparencyView;
use crate::html::escape as esc;
use crate::i18n::{tr, Lang};
use crate::stats::{AnomalyView, ForecastView, HotspotView, RailView, SummaryRowView, TrendPoint};

// Beside the shared stylesheet: cards, charts and flags, and the wide main area.
const STYLE: &str = "main{max-width:72rem}\
td.n,th.n{text-align:end;direction:ltr;unicode-bidi:isolate}\
.cards{display:flex;flex-wrap:wrap;gap:.8rem}.card{border:1px solid #bbb;border-radius:.4rem;\
padding:.5rem .8rem;min-width:9rem}.card b{display:block;font-size:1.4rem}\
.charts{display:flex;flex-wrap:wrap;gap:1rem}.charts figure{margin:0}svg{max-width:100%;height:auto}\
.flag{border-inline-start:4px solid #a11212;padding:.3rem .6rem;margin:.4rem 0;background:#fbeeee}\
.live{font-size:.85rem;color:#444}";

/// The page's own style, and the script that reloads it when the event log moves past `seq`.
fn live(seq: i64) -> String {
    format!(
        "<style>{STYLE}</style><div id=live data-seq=\"{seq}\" hidden></div>\
<script>(function(){{var s=+document.getElementById('live').dataset.seq;if(!window.EventSource)return;\
var es=new EventSource('/api/v1/stats/stream');es.addEventListener('change',function(e){{\
var n=JSON.parse(e.data).seq;if(n>s){{es.close();location.reload();}}}});}})();</script>"
    )
}

fn pct(v: f64) -> String {
    format!("{v:.1}%")
}

fn summary_table(
    lang: Lang,
    first: &str,
    rows: &[SummaryRowView],
    total: &SummaryRowView,
) -> String {
    let mut s = format!(
        "<div class=scroll><table><thead><tr><th>{first}</th><th class=n>{}</th><th class=n>{}</th><th class=n>{}</th>\
<th class=n>{}</th><th class=n>{}</th><th class=n>{}</th></tr></thead><tbody>",
        tr(lang, "dashboard.issued"),
        tr(lang, "dashboard.paid"),
        tr(lang, "dashboard.compliance"),
        tr(lang, "dashboard.amount_issued"),
        tr(lang, "dashboard.collected"),
        tr(lang, "dashboard.outstanding"),
    );
    for r in rows.iter().chain(std::iter::once(total)) {
        let name = match lang {
            Lang::En => &r.name,
            Lang::Ur => &r.name_ur,
        };
        s.push_str(&format!(
            "<tr data-code=\"{}\"><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td>\
<td class=n>{}</td><td class=n>{}</td><td class=n>{}</td></tr>",
            esc(&r.code),
            esc(name),
            r.issued,
            r.paid,
            pct(r.compliance_percent),
            esc(&r.amount_issued_display),
            esc(&r.collected_display),
            esc(&r.outstanding_display),
        ));
    }
    s.push_str("</tbody></table></div>");
    s
}

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
}

fn rupees(paisa: i64) -> i64 {
    paisa / 100
}

/// The dashboard's title.
pub fn dashboard_title(lang: Lang) -> &'static str {
    tr(lang, "dashboard.dashboard")
}

/// The dashboard's body, for the console's page shell.
pub fn dashboard(d: &Dashboard, lang: Lang) -> String {
    let mut b = live(d.seq);
    b.push_str(&format!(
        "<p class=live>{} · <a href=\"/transparency\">{}</a></p>",
        tr(lang, "dashboard.live_the_figures_update"),
        tr(lang, "dashboard.public_figures"),
    ));
    let tot = &d.total;
    b.push_str("<div class=cards>");
    for (label, value) in [
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
    ] {
        b.push_str(&format!(
            "<div class=card>{label}<b class=n id=\"total-{}\">{}</b></div>",
            esc(&label.to_lowercase().replace(' ', "-")),
            esc(&value)
        ));
    }
    b.push_str("</div>");

    b.push_str(&format!(
        "<h2>{}</h2>{}<p><a href=\"/api/v1/stats/summary?group_by=district&amp;format=csv\">CSV</a></p>",
        tr(lang, "dashboard.by_district"),
        summary_table(lang, tr(lang, "dashboard.district"), &d.districts, tot)
    ));

    let labels: Vec<String> = d.daily.iter().map(|p| p.start[5..].to_string()).collect();
    let daily_chart = charts::lines(
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
    );
    let wlabels: Vec<String> = d.weekly.iter().map(|p| p.start[5..].to_string()).collect();
    let weekly_chart = charts::bars(
        tr(lang, "dashboard.collections_per_week_rs"),
        &wlabels,
        &d.weekly
            .iter()
            .map(|p| rupees(p.collected))
            .collect::<Vec<_>>(),
    );
    let rail_chart = charts::bars(
        tr(lang, "dashboard.collections_by_rail_rs"),
        &d.rails.iter().map(|r| r.rail.clone()).collect::<Vec<_>>(),
        &d.rails.iter().map(|r| rupees(r.amount)).collect::<Vec<_>>(),
    );
    // One grid per district (the busiest four): a kilometre cell is invisible on a map of the
    // whole province.
    let mut districts: Vec<&str> = Vec::new();
    for h in &d.hotspots {
        if !districts.contains(&h.district_code.as_str()) && districts.len() < 4 {
            districts.push(&h.district_code);
        }
    }
    let grid: String = districts
        .iter()
        .map(|code| {
            let name = d
                .districts
                .iter()
                .find(|r| r.code == *code)
                .map(|r| match lang {
                    Lang::En => r.name.clone(),
                    Lang::Ur => r.name_ur.clone(),
                })
                .unwrap_or_else(|| code.to_string());
            format!(
                "<figure>{}</figure>",
                charts::hotspots(
                    &format!("{}: {name}", tr(lang, "dashboard.challans_per_1_km")),
                    &d.hotspots
                        .iter()
                        .filter(|h| h.district_code == *code)
                        .map(|h| (h.lat_micro, h.lon_micro, h.issued))
                        .collect::<Vec<_>>(),
                )
            )
        })
        .collect();
    b.push_str(&format!(
        "<h2>{}</h2><div class=charts><figure>{daily_chart}</figure><figure>{weekly_chart}</figure>\
<figure>{rail_chart}</figure>{grid}</div>\
<p><a href=\"/api/v1/stats/trends?format=csv\">{}</a> · <a href=\"/api/v1/stats/trends?period=week&amp;format=csv\">{}</a> · \
<a href=\"/api/v1/stats/rails?format=csv\">{}</a> · <a href=\"/api/v1/stats/hotspots?format=csv\">{}</a></p>",
        tr(lang, "dashboard.trends"),
        tr(lang, "dashboard.daily_csv"),
        tr(lang, "dashboard.weekly_csv"),
        tr(lang, "dashboard.rails_csv"),
        tr(lang, "dashboard.hotspots_csv"),
    ));

    b.push_str(&format!(
        "<h2>{}</h2>",
        tr(lang, "dashboard.forecast_next_30_days")
    ));
    match &d.forecast {
        Some(f) => {
            let hist: Vec<i64> = d.daily.iter().map(|p| rupees(p.collected)).collect();
            let mut labels = labels.clone();
            labels.extend(f.points.iter().map(|p| p.date[5..].to_string()));
            let est: Vec<(i64, i64, i64)> = f
                .points
                .iter()
                .map(|p| (rupees(p.estimate), rupees(p.low), rupees(p.high)))
                .collect();
            b.push_str(&format!(
                "<figure>{}</figure><p id=forecast>{}</p>\
<p><a href=\"/api/v1/stats/forecast?format=csv\">CSV</a></p>",
                charts::forecast(
                    tr(lang, "dashboard.collections_per_day_rs"),
                    (
                        tr(lang, "dashboard.legend_collected"),
                        tr(lang, "dashboard.legend_forecast")
                    ),
                    &labels,
                    &hist,
                    &est
                ),
                crate::i18n::trf(
                    lang,
                    "dashboard.forecast_text",
                    &[
                        (
                            "total",
                            &format!("<b>{}</b>", esc(&f.total_estimate_display))
                        ),
                        (
                            "days",
                            &crate::i18n::digits(lang, &f.backtest_days.to_string())
                        ),
                        (
                            "mape",
                            &crate::i18n::digits(
                                lang,
                                &f.backtest_mape_percent
                                    .map(pct)
                                    .unwrap_or_else(|| "-".into())
                            )
                        ),
                    ]
                ),
            ));
        }
        None => b.push_str(&format!(
            "<p>{}</p>",
            tr(lang, "dashboard.not_enough_days_of")
        )),
    }

    b.push_str(&format!(
        "<h2>{}</h2><p>{}</p>",
        tr(lang, "dashboard.anomalies"),
        tr(lang, "dashboard.robust_z_score_0")
    ));
    if d.anomalies.is_empty() {
        b.push_str(&format!(
            "<p>{}</p>",
            tr(lang, "dashboard.nothing_stands_out")
        ));
    }
    for a in &d.anomalies {
        b.push_str(&format!(
            "<div class=flag data-metric=\"{}\"><b>{}</b> · {} <br><span class=n>value {:.4}, median {:.4}, MAD {:.4}, z {:.2}</span></div>",
            esc(&a.metric),
            esc(&a.subject),
            esc(&explain(lang, a)),
            a.value,
            a.median,
            a.mad,
            a.z
        ));
    }
    b.push_str("<p><a href=\"/api/v1/stats/anomalies?format=csv\">CSV</a></p>");

    b.push_str(&format!(
        "<h2>{}</h2>{}<p><a href=\"/api/v1/stats/summary?group_by=offence&amp;format=csv\">CSV</a> · \
<a href=\"/api/v1/stats/summary?group_by=officer&amp;format=csv\">{}</a> · \
<a href=\"/api/v1/stats/summary?group_by=department&amp;format=csv\">{}</a></p>",
        tr(lang, "dashboard.by_offence"),
        summary_table(lang, tr(lang, "dashboard.offence"), &d.offences, tot),
        tr(lang, "dashboard.by_officer_csv"),
        tr(lang, "dashboard.by_department_csv"),
    ));
    b
}

/// The public page's title.
pub fn transparency_title(lang: Lang) -> &'static str {
    tr(lang, "dashboard.fines_and_fees_by")
}

/// The public page's body: per district, counts and money only.
pub fn transparency(v: &TransparencyView, seq: i64, lang: Lang) -> String {
    let mut b = live(seq);
    b.push_str(&format!(
        "<p>{}</p>\
<div class=scroll><table><thead><tr><th>{}</th><th class=n>{}</th><th class=n>{}</th><th class=n>{}</th><th class=n>{}</th></tr></thead><tbody>",
        tr(lang, "dashboard.challans_issued_and_paid"),
        tr(lang, "dashboard.district"),
        tr(lang, "dashboard.issued"),
        tr(lang, "dashboard.paid"),
        tr(lang, "dashboard.compliance"),
        tr(lang, "dashboard.collected"),
    ));
    for r in v.rows.iter().chain(std::iter::once(&v.total)) {
        let name = match lang {
            Lang::En => &r.name,
            Lang::Ur => &r.name_ur,
        };
        b.push_str(&format!(
            "<tr data-code=\"{}\"><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td></tr>",
            esc(&r.district_code),
            esc(name),
            r.issued,
            r.paid,
            pct(r.compliance_percent),
            esc(&r.collected_display)
        ));
    }
    b.push_str(
        "</tbody></table></div><p><a href=\"/api/v1/public/transparency\">JSON</a> · \
<a href=\"/api/v1/public/transparency?format=csv\">CSV</a></p>",
    );
    b
}

/// A flag's sentence in the reader's language, from its figures (the API's `explanation` is the
/// English one, built in core).
fn explain(lang: Lang, a: &AnomalyView) -> String {
    let num = |x: String| crate::i18n::digits(lang, &x);
    if a.subject_kind == "district" {
        let money = |paisa: f64| {
            crate::i18n::money(
                lang,
                efine_core::Money::from_paisa(paisa.round() as i64)
                    .unwrap_or(efine_core::Money::ZERO),
            )
        };
        return crate::i18n::trf(
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
    crate::i18n::trf(
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
