//! `GET /c/{number}` (and `/challans/{number}`): a challan as a citizen sees it: the amount due
//! today and after the due date, how to pay or contest it, the QR code and the PDFs; the
//! payment when it is paid.

use super::common::{challan_or_page, respond, status_label, ChallanData, ContestClosed, NextStep};
use crate::i18n::{self, date, money, tr, trf, Lang};
use crate::pages::shell::{self, ltr, ltr_text};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use efine_core::appeal::AppealStatus;
use efine_core::clock::karachi_date;
use efine_core::penalty::{AppealOutcome, Stage};
use efine_core::Money;
use efine_store::ops::appeals::Appeal;
use maud::{html, Markup, PreEscaped};
use std::fmt::Write;

/// The QR code as inline SVG: one path whose strokes, one module thick, are the horizontal runs
/// of dark modules, each run after the first in a row a relative move (about 4-6 KB for a
/// verification link, where a rectangle per module took over 20 KB).
pub(crate) fn qr_svg(data: &str, label: &str) -> Markup {
    let Ok(code) = qrcode::QrCode::with_error_correction_level(data, qrcode::EcLevel::M) else {
        return html! {};
    };
    let w = code.width();
    let colors = code.to_colors();
    let mut path = String::new();
    for (y, row) in colors.chunks(w).enumerate() {
        // Where the pen is in this row: None until the row's first run.
        let mut pen: Option<usize> = None;
        let mut x = 0;
        while x < w {
            if row[x] != qrcode::Color::Dark {
                x += 1;
                continue;
            }
            let start = x;
            while x < w && row[x] == qrcode::Color::Dark {
                x += 1;
            }
            let run = x - start;
            let _ = match pen {
                None => write!(path, "M{} {}.5h{run}", start + 4, y + 4),
                Some(end) => write!(path, "m{} 0h{run}", start - end),
            };
            pen = Some(x);
        }
    }
    let size = w + 8;
    // Explicit end tags: inside `<svg>` an HTML parser does not close `<rect>` by itself.
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (size) " " (size) }
            width="200" height="200" role="img" aria-label=(label) shape-rendering="crispEdges" {
            rect width=(size) height=(size) fill="#fff" {}
            path d=(path) stroke="#000" stroke-width="1" fill="none" {}
        }
    }
}

/// An ISO day (`2026-11-24`) as the reader writes dates; anything else as it is.
pub(crate) fn iso_date(lang: Lang, s: &str) -> String {
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map(|d| date(lang, d))
        .unwrap_or_else(|_| s.to_string())
}

/// A payment rail as a citizen names it, in the reader's language.
pub(crate) fn rail_label(lang: Lang, rail: &str) -> &'static str {
    match rail {
        "1bill" => tr(lang, "rail.onebill"),
        "jazzcash" => tr(lang, "rail.jazzcash"),
        "easypaisa" => tr(lang, "rail.easypaisa"),
        "card" => tr(lang, "rail.card"),
        "counter" => tr(lang, "rail.counter"),
        "raast" => tr(lang, "rail.raast"),
        _ => tr(lang, "rail.other"),
    }
}

/// What an enforcement stage means for the citizen.
pub(super) fn stage_label(lang: Lang, s: Stage) -> &'static str {
    match s {
        Stage::ImpoundEligible => tr(lang, "stage.impound_eligible"),
        Stage::LicenceSuspended => tr(lang, "stage.licence_suspended"),
        Stage::TransferBlocked => tr(lang, "stage.transfer_blocked"),
    }
}

/// One piece of evidence shown beside the challan (e.g. an officer's photo from the field app),
/// when the store keeps such items for the challan.
pub(super) struct EvidenceItem {
    pub label: String,
    pub href: String,
}

/// The evidence list; nothing at all when there is none.
pub(super) fn evidence_list(lang: Lang, items: &[EvidenceItem]) -> Markup {
    html! {
        @if !items.is_empty() {
            section id="evidence" {
                h2 { (tr(lang, "portal.evidence_title")) }
                ul {
                    @for e in items {
                        li { a href=(e.href) { (e.label) } }
                    }
                }
            }
        }
    }
}

/// Where an unpaid challan stands today: the amount and why, the stage reached, what happens
/// next and when, or the appeal that holds the clock.
fn standing(lang: Lang, d: &ChallanData) -> Markup {
    let v = &d.view;
    let l = lang;
    let m = |p: i64| money(l, Money::from_paisa(p).unwrap_or(Money::ZERO));
    html! {
        div class="box" id="standing" {
            p { (tr(l, "portal.amount_due_today")) }
            p class="big" id="amount-due" { (m(v.amount_due)) }
            @if let Some(a) = &d.appeal {
                @if a.status == AppealStatus::Pending {
                    p id="why-amount" {
                        (trf(l, "portal.frozen", &[
                            ("date", &date(l, karachi_date(a.lodged_at))),
                            ("amount", &m(v.amount_due)),
                        ]))
                    }
                }
            }
            @if let Some(from) = d.surcharge_from {
                @if from <= d.today {
                    p id="why-amount" {
                        (trf(l, "portal.surcharged", &[
                            ("date", &date(l, from)),
                            ("due", &date(l, d.effective_due)),
                        ]))
                    }
                } @else {
                    p id="why-amount" {
                        (trf(l, "portal.pay_by", &[
                            ("due", &date(l, d.effective_due)),
                            ("amount", &m(v.amount_due)),
                            ("date", &date(l, from)),
                            ("after", &m(v.amount_after_due_date)),
                        ]))
                    }
                }
            }
        }
        @if let Some((s, since)) = d.stage {
            div class="bad" id="stage" role="alert" {
                p {
                    strong { (tr(l, "portal.stage_reached")) } " "
                    (trf(l, "portal.stage_since", &[
                        ("stage", stage_label(l, s)),
                        ("date", &date(l, since)),
                    ]))
                }
            }
        }
        @match d.next {
            Some(NextStep::Surcharge(on)) => {
                p id="next-step" {
                    (trf(l, "portal.next_surcharge", &[
                        ("date", &date(l, on)),
                        ("amount", &m(v.amount_after_due_date)),
                    ]))
                }
            }
            Some(NextStep::Stage(s, on)) => {
                p id="next-step" {
                    (trf(l, "portal.next_stage", &[
                        ("date", &date(l, on)),
                        ("stage", stage_label(l, s)),
                    ]))
                }
            }
            None => {}
        }
    }
}

/// The appeal's state in one line, with the link to its page.
fn appeal_line(lang: Lang, n: &str, a: &Appeal) -> Markup {
    html! {
        div class="box" id="appeal-state" {
            p {
                strong { (tr(lang, "appeal.status_title")) ": " }
                (super::appeal::appeal_status_text(lang, a))
            }
            p { a href={ "/c/" (n) "/appeal" } { (tr(lang, "appeal.see")) } }
        }
    }
}

/// `GET /c/{number}`
pub async fn challan(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    Path(number): Path<String>,
) -> Response {
    let here = i18n::here(&uri);
    let d = match challan_or_page(&state, lang, &here, &number).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let v = &d.view;
    let l = lang;
    let m = |p: i64| money(l, Money::from_paisa(p).unwrap_or(Money::ZERO));
    let n = &v.challan_number;
    let pending_appeal = d
        .appeal
        .as_ref()
        .is_some_and(|a| a.status == AppealStatus::Pending);
    let status = if v.status == "unpaid" && pending_appeal {
        tr(l, "portal.under_appeal")
    } else {
        status_label(l, &v.status)
    };
    let mut rows: Vec<(&str, Markup)> = vec![
        (tr(l, "portal.challan_number"), ltr(n)),
        (tr(l, "portal.psid"), ltr(&v.psid)),
        (
            tr(l, "portal.status"),
            html! { span id="status" { (status) } },
        ),
        (
            tr(l, "portal.offence"),
            html! { (l.pick(&v.offence_name_en, &v.offence_name_ur)) },
        ),
        (
            tr(l, "portal.department"),
            html! { (l.pick(&v.department_name_en, &v.department_name_ur)) },
        ),
        (
            tr(l, "portal.district"),
            html! { (l.pick(&v.district_name_en, &v.district_name_ur)) },
        ),
        (
            tr(l, "portal.issued"),
            html! { (iso_date(l, v.issued_at.get(..10).unwrap_or(""))) },
        ),
    ];
    if let Some(veh) = &v.vehicle_number {
        rows.push((tr(l, "portal.vehicle"), ltr(veh)));
    }
    if let Some(name) = &v.name {
        rows.push((tr(l, "portal.name"), ltr(name)));
    }
    let url = crate::verify::verify_url(&state, &d.token);
    let photos = photos_of(&state, n).await;
    let contest = d.contest();
    let body = html! {
        @match (&v.paid, v.status.as_str()) {
            (Some(p), _) => {
                div class="ok" id="paid" {
                    p class="big" { (PreEscaped("&#10004; ")) (tr(l, "portal.paid_title")) }
                    p {
                        (tr(l, "portal.amount_paid")) ": " strong { (m(p.amount)) } br;
                        (tr(l, "portal.paid_on")) ": " (iso_date(l, &p.paid_on)) br;
                        (tr(l, "portal.paid_by")) ": " span id="paid-by" { (rail_label(l, &p.rail)) } br;
                        (tr(l, "pay.receipt_number")) ": " (ltr(&p.receipt_number))
                    }
                }
                p {
                    a class="button" href={ "/payments/" (p.receipt_number) "/receipt.pdf" } {
                        (tr(l, "pay.receipt_pdf"))
                    }
                }
            }
            (None, "cancelled") => {
                div class="ok" id="cancelled" {
                    p class="big" { (tr(l, "portal.cancelled")) }
                    @if let Some(c) = &d.cancellation {
                        p {
                            (trf(l, "portal.cancelled_by", &[
                                ("date", &date(l, karachi_date(c.decided_at.unwrap_or(c.requested_at)))),
                                ("department", l.pick(&v.department_name_en, &v.department_name_ur)),
                            ]))
                        }
                        p { (tr(l, "portal.cancelled_reason")) ": " span id="cancel-reason" { (c.reason) } }
                    } @else if let Some(a) = d.appeal.as_ref().filter(|a| a.outcome == Some(AppealOutcome::Quash)) {
                        p {
                            (trf(l, "portal.cancelled_appeal", &[
                                ("date", &date(l, karachi_date(a.decided_at.unwrap_or(a.lodged_at)))),
                            ]))
                        }
                    }
                }
            }
            _ => {
                (standing(l, &d))
                (super::pay::how_to_pay(&state, l, n, &v.psid, true))
            }
        }
        @if let Some(a) = &d.appeal {
            (appeal_line(l, n, a))
        }
        @match contest {
            Ok(()) => {
                p id="contest" {
                    a href={ "/c/" (n) "/appeal" } { (tr(l, "appeal.link")) } " "
                    span class="hint" {
                        (trf(l, "appeal.open_until", &[("date", &date(l, d.appeal_last_day))]))
                    }
                }
            }
            // Paid or cancelled: the page already says so; an appeal has its own line.
            Err(ContestClosed::WindowClosed(_)) => {
                p class="hint" id="contest-closed" { (contest.err().map(|c| c.say(l)).unwrap_or_default()) }
            }
            Err(_) => {}
        }
        (evidence_list(l, &d.evidence))
        table {
            @for (k, val) in &rows {
                tr { th scope="row" { (k) } td { (val) } }
            }
        }
        (photo_strip(l, &photos))
        div class="row" {
            div { (qr_svg(&url, tr(l, "portal.qr_alt"))) }
            div {
                p { a href={ "/challans/" (n) "/receipt.pdf" } { (tr(l, "portal.download")) } }
                p {
                    a href={ "/challans/" (n) "/receipt.pdf?paper=58mm" } {
                        (tr(l, "portal.download_slip"))
                    }
                }
            }
        }
    };
    let title = format!("{} {}", tr(l, "portal.challan"), ltr_text(n));
    respond(StatusCode::OK, shell::page(l, &here, &title, body))
}

/// The photos taken with a challan on the officer's phone: (id, content type). Empty when the
/// challan has none or they cannot be read just now (the page still shows the challan).
pub(crate) async fn photos_of(state: &AppState, number: &str) -> Vec<(String, String)> {
    let Ok(n) = efine_core::ChallanNumber::parse(number) else {
        return Vec::new();
    };
    state
        .store
        .read(move |tx| efine_store::ops::devices::photos_of(tx, &n))
        .await
        .unwrap_or_default()
}

/// The photos as images, each behind its unguessable id.
pub(crate) fn photo_strip(l: Lang, photos: &[(String, String)]) -> Markup {
    html! {
        @if !photos.is_empty() {
            h2 { (tr(l, "verify.photos")) }
            div class="row" id="photos" {
                @for (id, _) in photos {
                    a href={ "/api/v1/public/photos/" (id) } {
                        img src={ "/api/v1/public/photos/" (id) } alt=(tr(l, "verify.photos"))
                            width="160" loading="lazy";
                    }
                }
            }
        }
    }
}
