//! The public transparency page's body: per district, counts and money only, and the published
//! head of the event log.

use super::parts::{live, pct};
use crate::i18n::{date, digits, tr, Lang};
use crate::pages::shell::ltr;
use crate::stats::TransparencyView;
use efine_core::clock::{karachi_date, KARACHI};
use efine_store::ops::log_heads::LogHead;
use maud::{html, Markup};

/// The public page's title.
pub fn transparency_title(lang: Lang) -> &'static str {
    tr(lang, "dashboard.fines_and_fees_by")
}

/// The public page's body: per district, counts and money only.
pub fn transparency(v: &TransparencyView, seq: i64, head: Option<&LogHead>, lang: Lang) -> Markup {
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
                            td.n { (digits(lang, &r.issued.to_string())) }
                            td.n { (digits(lang, &r.paid.to_string())) }
                            td.n { (digits(lang, &pct(r.compliance_percent))) }
                            td.n {
                                (crate::i18n::money(
                                    lang,
                                    efine_core::Money::from_paisa(r.collected).unwrap_or(efine_core::Money::ZERO),
                                ))
                            }
                        }
                    }
                }
            }
        }
        p {
            a href="/api/v1/public/transparency" { "JSON" } " · "
            a href="/api/v1/public/transparency?format=csv" { "CSV" }
        }
        (log_head(head, lang))
    }
}

/// The last published head of the event log, with the history to download and keep.
fn log_head(head: Option<&LogHead>, lang: Lang) -> Markup {
    html! {
        section #log-head {
            h2 { (tr(lang, "loghead.title")) }
            p { (tr(lang, "loghead.intro")) }
            @match head {
                None => p { (tr(lang, "loghead.none")) },
                Some(h) => {
                    @let local = h.published_at.to_offset(KARACHI);
                    dl {
                        dt { (tr(lang, "loghead.sequence")) }
                        dd { (ltr(&h.seq.to_string())) }
                        dt { (tr(lang, "loghead.hash")) }
                        dd.hash { (ltr(&h.hash)) }
                        dt { (tr(lang, "loghead.published")) }
                        dd {
                            (date(lang, karachi_date(h.published_at))) " "
                            (digits(lang, &format!("{:02}:{:02}", local.hour(), local.minute())))
                        }
                        dt { (tr(lang, "loghead.key")) }
                        dd { (ltr(&h.kid)) }
                    }
                }
            }
            p {
                a href=(crate::api::log_heads::HISTORY_PATH) download="efine-log-heads.json" {
                    (tr(lang, "loghead.download"))
                }
                " · "
                a href="/.well-known/efine-keys.json" { (tr(lang, "loghead.keys")) }
            }
        }
    }
}
