//! `GET /c/{number}` (and `/challans/{number}`): a challan as a citizen sees it: the amount due
//! today and after the due date, how to pay or contest it, the QR code and the PDFs; the
//! payment when it is paid.

use super::common::{challan_or_page, respond, status_label};
use crate::i18n::{self, date, money, tr, Lang};
use crate::pages::shell::{self, ltr, ltr_text};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use efine_core::Money;
use maud::{html, Markup, PreEscaped};
use std::fmt::Write;

/// The QR code as inline SVG (dark modules as one path), about 2-4 KB.
pub(crate) fn qr_svg(data: &str, label: &str) -> Markup {
    let Ok(code) = qrcode::QrCode::with_error_correction_level(data, qrcode::EcLevel::M) else {
        return html! {};
    };
    let w = code.width();
    let mut path = String::new();
    for (i, c) in code.to_colors().iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let _ = write!(path, "M{} {}h1v1h-1z", i % w + 4, i / w + 4);
        }
    }
    let size = w + 8;
    // Explicit end tags: inside `<svg>` an HTML parser does not close `<rect>` by itself.
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (size) " " (size) }
            width="200" height="200" role="img" aria-label=(label) shape-rendering="crispEdges" {
            rect width=(size) height=(size) fill="#fff" {}
            path d=(path) fill="#000" {}
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
    let mut rows: Vec<(&str, Markup)> = vec![
        (tr(l, "portal.challan_number"), ltr(n)),
        (tr(l, "portal.psid"), ltr(&v.psid)),
        (
            tr(l, "portal.status"),
            html! { (status_label(l, &v.status)) },
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
    ];
    if let Some(veh) = &v.vehicle_number {
        rows.push((tr(l, "portal.vehicle"), ltr(veh)));
    }
    if let Some(name) = &v.name {
        rows.push((tr(l, "portal.name"), ltr(name)));
    }
    let url = crate::verify::verify_url(&state, &d.token);
    let photos = photos_of(&state, n).await;
    let body = html! {
        @match (&v.paid, v.status.as_str()) {
            (Some(p), _) => {
                div class="ok" {
                    p class="big" { (PreEscaped("&#10004; ")) (tr(l, "portal.paid_title")) }
                    p {
                        (tr(l, "portal.amount_paid")) ": " strong { (m(p.amount)) } br;
                        (tr(l, "portal.paid_on")) ": " (p.paid_on) br;
                        (tr(l, "portal.paid_by")) ": " (p.rail_label) br;
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
                p class="ok" { (tr(l, "portal.cancelled")) }
            }
            _ => {
                div class="box" {
                    p { (tr(l, "portal.amount_due_today")) }
                    p class="big" id="amount-due" { (m(v.amount_due)) }
                    p {
                        (tr(l, "portal.due_date")) ": " strong { (date(l, d.due_date)) } br;
                        (tr(l, "portal.amount_after")) ": " strong { (m(v.amount_after_due_date)) }
                    }
                    p class="hint" { (tr(l, "portal.doubles")) }
                }
                (super::pay::how_to_pay(&state, l, n, &v.psid, true))
                p { a href={ "/c/" (n) "/appeal" } { (tr(l, "appeal.link")) } }
            }
        }
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
