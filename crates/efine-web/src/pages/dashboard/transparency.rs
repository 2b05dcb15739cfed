//! The public transparency page's body: per district, counts and money only.

use super::parts::{live, pct};
use crate::i18n::{tr, Lang};
use crate::stats::TransparencyView;
use maud::{html, Markup};

/// The public page's title.
pub fn transparency_title(lang: Lang) -> &'static str {
    tr(lang, "dashboard.fines_and_fees_by")
}

/// The public page's body: per district, counts and money only.
pub fn transparency(v: &TransparencyView, seq: i64, lang: Lang) -> Markup {
    html! {
        (live(seq))
        p { (tr(lang, "dashboard.challans_issued_and_paid")) }
        div.scroll {
            table {
                thead {
                    tr {
                        th { (tr(lang, "dashboard.district")) }
                        th.n { (tr(lang, "dashboard.issued")) }
                        th.n { (tr(lang, "dashboard.paid")) }
                        th.n { (tr(lang, "dashboard.compliance")) }
                        th.n { (tr(lang, "dashboard.collected")) }
                    }
                }
                tbody {
                    @for r in v.rows.iter().chain(std::iter::once(&v.total)) {
                        tr data-code=(r.district_code) {
                            td { (lang.pick(&r.name, &r.name_ur)) }
                            td.n { (r.issued) }
                            td.n { (r.paid) }
                            td.n { (pct(r.compliance_percent)) }
                            td.n { (r.collected_display) }
                        }
                    }
                }
            }
        }
        p {
            a href="/api/v1/public/transparency" { "JSON" } " · "
            a href="/api/v1/public/transparency?format=csv" { "CSV" }
        }
    }
}
