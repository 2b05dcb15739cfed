//! `/v/{token}`: the page a phone opens when it scans a challan's or receipt's QR code. Plain
//! HTML, no JavaScript; the verdict is the same as the JSON answer at
//! `/api/v1/public/verify/{token}`.

use crate::error::ApiResult;
use crate::i18n::{tr, Lang};
use crate::pages::shell;
use crate::views::{today, VerificationView};
use crate::{verify, AppState};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup, PreEscaped};

/// This page's route.
pub fn router() -> Router<AppState> {
    Router::new().route("/v/{token}", get(verify_page))
}

/// `GET /v/{token}`
pub async fn verify_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    lang: Lang,
) -> ApiResult<Response> {
    let verdict = verify::check(&state, &token).await?;
    let view = VerificationView::new(verdict, today(state.store.now()));
    // A genuine unpaid challan: how to pay it, offering only what this server takes.
    let pay = view
        .challan
        .as_ref()
        .filter(|c| view.genuine && c.paid.is_none() && c.status == "unpaid")
        .map(|c| {
            crate::pages::portal::pay::how_to_pay(&state, lang, &c.challan_number, &c.psid, true)
        });
    let mut resp = Html(verification(&view, &token, lang, pay).into_string()).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// The reason a code is not genuine, in the reader's language: the verdict's own sentence in
/// English (it names the detail, e.g. which amount differs), the reason code's translation in
/// Urdu.
fn reason(lang: Lang, v: &VerificationView) -> String {
    if lang == Lang::En {
        return v.reason.as_deref().unwrap_or("not genuine").to_string();
    }
    let key = match v.reason_code.as_deref().unwrap_or("") {
        "malformed" => "verify.reason_malformed",
        "unknown_key" => "verify.reason_unknown_key",
        "bad_signature" => "verify.reason_bad_signature",
        "no_such_record" => "verify.reason_no_such_record",
        "record_mismatch" => "verify.reason_record_mismatch",
        "not_yet_synced" => "verify.reason_not_yet_synced",
        "revoked_key" => "verify.reason_revoked_key",
        _ => "verify.reason_other",
    };
    tr(lang, key).to_string()
}

fn status(lang: Lang, s: &str) -> &str {
    match s {
        "unpaid" => tr(lang, "verify.status_unpaid"),
        "paid" => tr(lang, "verify.status_paid"),
        "cancelled" => tr(lang, "verify.status_cancelled"),
        _ => tr(lang, "verify.status_unknown"),
    }
}

/// An amount in paisa as the reader writes it (`Rs 500`, `۵۰۰ روپے`).
fn amount(lang: Lang, paisa: i64) -> Markup {
    let m = efine_core::Money::from_paisa(paisa).unwrap_or(efine_core::Money::ZERO);
    html! { span class="num" { (crate::i18n::money(lang, m)) } }
}

/// A local day as the reader writes it.
fn day(lang: Lang, iso: &str) -> Markup {
    html! { span class="num" { (crate::pages::portal::challan::iso_date(lang, iso)) } }
}

fn num(s: &str) -> Markup {
    html! { span class="num" { (s) } }
}

/// The verification page for a scanned QR code.
pub fn verification(v: &VerificationView, token: &str, lang: Lang, pay: Option<Markup>) -> Markup {
    let mut rows: Vec<(&str, Markup)> = Vec::new();
    if let Some(c) = &v.challan {
        rows.push((tr(lang, "verify.challan_number"), num(&c.challan_number)));
        rows.push((tr(lang, "verify.psid"), num(&c.psid)));
        rows.push((
            tr(lang, "verify.status"),
            html! { (status(lang, &c.status)) },
        ));
        rows.push((
            tr(lang, "verify.department"),
            html! { (lang.pick(&c.department_name_en, &c.department_name_ur)) },
        ));
        rows.push((
            tr(lang, "verify.district"),
            html! { (lang.pick(&c.district_name_en, &c.district_name_ur)) },
        ));
        rows.push((
            tr(lang, "verify.offence"),
            html! { (lang.pick(&c.offence_name_en, &c.offence_name_ur)) },
        ));
        match &c.paid {
            // Paid: what was paid, when, how and the receipt; nothing is due.
            Some(p) => {
                rows.push((tr(lang, "verify.amount_paid"), amount(lang, p.amount)));
                rows.push((tr(lang, "verify.paid_on"), day(lang, &p.paid_on)));
                rows.push((
                    tr(lang, "verify.paid_by"),
                    html! { (crate::pages::portal::challan::rail_label(lang, &p.rail)) },
                ));
                rows.push((
                    tr(lang, "verify.receipt"),
                    html! {
                        a href={ "/payments/" (p.receipt_number) "/receipt.pdf" } {
                            (num(&p.receipt_number))
                        }
                    },
                ));
            }
            None if c.status == "unpaid" => {
                rows.push((
                    tr(lang, "verify.amount_due_today"),
                    amount(lang, c.amount_due),
                ));
                rows.push((tr(lang, "verify.due_date"), day(lang, &c.due_date)));
                rows.push((
                    tr(lang, "verify.amount_after_the_due"),
                    amount(lang, c.amount_after_due_date),
                ));
            }
            None => {}
        }
        rows.push((
            tr(lang, "verify.vehicle"),
            num(c.vehicle_number.as_deref().unwrap_or("-")),
        ));
    }
    if let Some(d) = &v.device {
        rows.push((
            tr(lang, "verify.origin"),
            html! {
                span id="device-origin" {
                    (crate::i18n::trf(lang, "verify.issued_offline", &[
                        ("device", &d.device),
                        ("officer", &d.officer),
                        ("synced", &d.synced_at),
                    ]))
                }
            },
        ));
    }
    let body = html! {
        @if v.genuine {
            div class="verdict ok" { (PreEscaped("&#10004; ")) (tr(lang, "verify.genuine")) }
            p {
                @if v.kind.as_deref() == Some("receipt") {
                    (tr(lang, "verify.this_receipt_was_issued"))
                } @else {
                    (tr(lang, "verify.this_challan_was_issued"))
                }
            }
            @if lang == Lang::En {
                p { (v.summary) }
            }
        } @else {
            div class="verdict bad" { (PreEscaped("&#10008; ")) (tr(lang, "verify.not_genuine")) }
            p { strong { (tr(lang, "verify.reason")) } " " (reason(lang, v)) }
            p { (tr(lang, "verify.do_not_pay_through")) }
        }
        @if let Some(pay) = pay {
            (pay)
        }
        @if let Some(c) = &v.challan {
            table {
                @for (k, val) in &rows {
                    tr { th { (k) } td { (val) } }
                }
            }
            p {
                a href={ "/challans/" (c.challan_number) "/receipt.pdf" } {
                    (tr(lang, "verify.challan_pdf_a4"))
                }
                " · "
                a href={ "/challans/" (c.challan_number) "/receipt.pdf?paper=58mm" } {
                    (tr(lang, "verify.n_58_mm_slip_pdf"))
                }
            }
        }
        @if let Some(kid) = &v.key_id {
            p { small { (tr(lang, "verify.signing_key")) " " (num(kid)) } }
        }
    };
    // Only a token made of base64url characters is put back into a link; anything else came
    // from a hand-made URL and its language switch goes to the home page instead.
    let linkable = token
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let here = if linkable {
        format!("/v/{token}")
    } else {
        "/".to_string()
    };
    shell::page(lang, &here, tr(lang, "verify.e_fine_verification"), body)
}
