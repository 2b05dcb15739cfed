//! The staff dashboard and the public transparency page, English and Urdu (`?lang=ur`, right to
//! left). Charts are SVG drawn on the server (`charts`); the only script listens to
//! `/api/v1/stats/stream` and reloads the page when the event log moves.

use crate::charts;
use crate::controllers::stats::TransparencyView;
use crate::html::escape as esc;
use crate::i18n::Lang;
use crate::stats::{AnomalyView, ForecastView, HotspotView, RailView, SummaryRowView, TrendPoint};

fn t(lang: Lang, en: &'static str, ur: &'static str) -> &'static str {
    match lang {
        Lang::En => en,
        Lang::Ur => ur,
    }
}

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
        t(lang, "Issued", "جاری شدہ"),
        t(lang, "Paid", "ادا شدہ"),
        t(lang, "Compliance", "ادائیگی کی شرح"),
        t(lang, "Amount issued", "جاری رقم"),
        t(lang, "Collected", "وصول شدہ"),
        t(lang, "Outstanding", "واجب الادا"),
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
    t(lang, "Dashboard", "ڈیش بورڈ")
}

/// The dashboard's body, for the console's page shell.
pub fn dashboard(d: &Dashboard, lang: Lang) -> String {
    let mut b = live(d.seq);
    b.push_str(&format!(
        "<p class=live>{} · <a href=\"/transparency\">{}</a></p>",
        t(
            lang,
            "Live: the figures update as challans are issued and paid.",
            "براہِ راست: چالان جاری اور ادا ہوتے ہی اعداد تازہ ہوتے ہیں۔"
        ),
        t(lang, "Public figures", "عوامی اعداد و شمار"),
    ));
    let tot = &d.total;
    b.push_str("<div class=cards>");
    for (label, value) in [
        (t(lang, "Issued", "جاری شدہ"), tot.issued.to_string()),
        (t(lang, "Paid", "ادا شدہ"), tot.paid.to_string()),
        (
            t(lang, "Compliance", "ادائیگی کی شرح"),
            pct(tot.compliance_percent),
        ),
        (
            t(lang, "Collected", "وصول شدہ"),
            tot.collected_display.clone(),
        ),
        (
            t(lang, "Outstanding", "واجب الادا"),
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
        t(lang, "By district", "ضلع وار"),
        summary_table(lang, t(lang, "District", "ضلع"), &d.districts, tot)
    ));

    let labels: Vec<String> = d.daily.iter().map(|p| p.start[5..].to_string()).collect();
    let daily_chart = charts::lines(
        t(lang, "Challans per day", "روزانہ چالان"),
        &labels,
        &[
            (
                t(lang, "issued", "جاری"),
                d.daily.iter().map(|p| p.issued).collect(),
            ),
            (
                t(lang, "paid since", "ادا شدہ"),
                d.daily.iter().map(|p| p.paid).collect(),
            ),
        ],
    );
    let wlabels: Vec<String> = d.weekly.iter().map(|p| p.start[5..].to_string()).collect();
    let weekly_chart = charts::bars(
        t(lang, "Collections per week (Rs)", "ہفتہ وار وصولی (روپے)"),
        &wlabels,
        &d.weekly
            .iter()
            .map(|p| rupees(p.collected))
            .collect::<Vec<_>>(),
    );
    let rail_chart = charts::bars(
        t(
            lang,
            "Collections by rail (Rs)",
            "ادائیگی کے ذریعے کے لحاظ سے وصولی (روپے)",
        ),
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
                    &format!(
                        "{}: {name}",
                        t(lang, "Challans per 1 km cell", "فی مربع کلومیٹر چالان")
                    ),
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
        t(lang, "Trends", "رجحانات"),
        t(lang, "Daily CSV", "روزانہ CSV"),
        t(lang, "Weekly CSV", "ہفتہ وار CSV"),
        t(lang, "Rails CSV", "ذرائع CSV"),
        t(lang, "Hotspots CSV", "ہاٹ اسپاٹ CSV"),
    ));

    b.push_str(&format!(
        "<h2>{}</h2>",
        t(lang, "Forecast: next 30 days", "پیش گوئی: اگلے 30 دن")
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
                "<figure>{}</figure><p id=forecast>{} <b>{}</b>. {} {} {}: {} {}.</p>\
<p><a href=\"/api/v1/stats/forecast?format=csv\">CSV</a></p>",
                charts::forecast(
                    t(lang, "Collections per day (Rs)", "روزانہ وصولی (روپے)"),
                    &labels,
                    &hist,
                    &est
                ),
                t(
                    lang,
                    "Expected collections over the next 30 days:",
                    "اگلے 30 دن میں متوقع وصولی:"
                ),
                esc(&f.total_estimate_display),
                t(
                    lang,
                    "Backtest (the same method without the last",
                    "جانچ (آخری"
                ),
                f.backtest_days,
                t(
                    lang,
                    "days, then compared with them): mean absolute percentage error",
                    "دن کے بغیر، پھر ان سے موازنہ): اوسط فیصد غلطی"
                ),
                f.backtest_mape_percent
                    .map(pct)
                    .unwrap_or_else(|| "-".into()),
                t(
                    lang,
                    "(Holt-Winters, weekly seasonality)",
                    "(ہولٹ ونٹرز، ہفتہ وار موسمیت)"
                ),
            ));
        }
        None => b.push_str(&format!(
            "<p>{}</p>",
            t(
                lang,
                "Not enough days of collections yet (16 needed).",
                "ابھی کافی دن کی وصولی نہیں (16 درکار)۔"
            )
        )),
    }

    b.push_str(&format!(
        "<h2>{}</h2><p>{}</p>",
        t(lang, "Anomalies", "غیر معمولی رجحانات"),
        t(
            lang,
            "Robust z-score: 0.6745 × (value − median) ÷ MAD among peers; flagged above 3.5. A flag is a question to look into, not a finding.",
            "مضبوط z اسکور: ساتھیوں کے میڈین اور MAD سے موازنہ؛ 3.5 سے اوپر نشان زد۔ نشان ایک سوال ہے، فیصلہ نہیں۔"
        )
    ));
    if d.anomalies.is_empty() {
        b.push_str(&format!(
            "<p>{}</p>",
            t(lang, "Nothing stands out.", "کچھ غیر معمولی نہیں۔")
        ));
    }
    for a in &d.anomalies {
        b.push_str(&format!(
            "<div class=flag data-metric=\"{}\"><b>{}</b> · {} <br><span class=n>value {:.4}, median {:.4}, MAD {:.4}, z {:.2}</span></div>",
            esc(&a.metric),
            esc(&a.subject),
            esc(&a.explanation),
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
        t(lang, "By offence", "جرم وار"),
        summary_table(lang, t(lang, "Offence", "جرم"), &d.offences, tot),
        t(lang, "By officer (CSV)", "افسر وار (CSV)"),
        t(lang, "By department (CSV)", "محکمہ وار (CSV)"),
    ));
    b
}

/// The public page's title.
pub fn transparency_title(lang: Lang) -> &'static str {
    t(lang, "Fines and fees by district", "ضلع وار جرمانے اور فیس")
}

/// The public page's body: per district, counts and money only.
pub fn transparency(v: &TransparencyView, seq: i64, lang: Lang) -> String {
    let mut b = live(seq);
    b.push_str(&format!(
        "<p>{}</p>\
<div class=scroll><table><thead><tr><th>{}</th><th class=n>{}</th><th class=n>{}</th><th class=n>{}</th><th class=n>{}</th></tr></thead><tbody>",
        t(
            lang,
            "Challans issued and paid in each district, and the money collected. Updated live; no personal data.",
            "ہر ضلع میں جاری اور ادا شدہ چالان اور وصول شدہ رقم۔ براہِ راست؛ کوئی ذاتی معلومات نہیں۔"
        ),
        t(lang, "District", "ضلع"),
        t(lang, "Issued", "جاری شدہ"),
        t(lang, "Paid", "ادا شدہ"),
        t(lang, "Compliance", "ادائیگی کی شرح"),
        t(lang, "Collected", "وصول شدہ"),
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
