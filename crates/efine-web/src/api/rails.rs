//! Easypaisa and card: checkout, and what each rail sends back. Easypaisa's postback is not
//! signed, so it only triggers an inquiry; the inquiry's answer is what credits. Card
//! notifications are verified (timestamped HMAC, 300 s tolerance, several secrets during a
//! rotation) before anything is read.

use crate::i18n::{tr, Lang};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use efine_core::payment::Rail;
use efine_pay::{card, easypaisa};
use efine_service::outcome::{self, Applied, RailMessage};
use efine_service::rails::inquiry;
use efine_store::StoreError;
use maud::html;
use std::collections::BTreeMap;

/// The page the payer's browser lands on after a rail: what happened, in the reader's language.
/// Every rail's return ends here, so a payer sees the same page whichever way they paid: what
/// was paid for which challan with the receipt (PDF and QR); or why it failed with a button to
/// try again; or that it is pending and nothing more is to be paid; always the payment
/// reference and the way back to the challan. `reference` is the payment attempt's, when the
/// rail's message named one.
pub async fn applied_page(
    state: &AppState,
    lang: Lang,
    reference: Option<String>,
    a: Result<Applied, StoreError>,
) -> Response {
    // The attempt, for what was being paid (not needed once a receipt says it).
    let attempt = match (&a, reference) {
        (Ok(Applied::Paid(_)), _) | (_, None) => None,
        (_, Some(r)) => state
            .store
            .read(move |tx| efine_store::ops::payments::attempt_by_reference(tx, &r))
            .await
            .ok()
            .flatten(),
    };
    let what = |a: &efine_store::ops::payments::Attempt| {
        html! {
            p id="payment-what" {
                (crate::pages::shell::trf_html(lang, "pay.attempt_for", &[
                    ("amount", html! { (crate::i18n::money(lang, a.amount)) }),
                    ("challan", crate::pages::shell::ltr(&a.challan_number)),
                ]))
            }
            p class="hint" {
                (tr(lang, "pay.reference")) ": " span id="payment-reference" { (crate::pages::shell::ltr(&a.reference)) }
            }
        }
    };
    let back = |a: Option<&efine_store::ops::payments::Attempt>| {
        html! {
            @if let Some(a) = a {
                p { a id="back" href={ "/c/" (a.challan_number) } { (tr(lang, "pay.back_to_challan")) } }
            } @else {
                p { a id="back" href="/" { (tr(lang, "site.home")) } }
            }
        }
    };
    let (status, title, body) = match a {
        Ok(Applied::Paid(r)) => {
            let qr = receipt_qr(state, lang, &r).await;
            (
                StatusCode::OK,
                "pay.received",
                html! {
                    (crate::pages::receipt::paid_body(lang, &r, qr))
                },
            )
        }
        Ok(Applied::RefundOwed) => (
            StatusCode::OK,
            "pay.already_paid",
            html! {
                div class="ok" id="payment-result" { p { (tr(lang, "pay.already_paid_body")) } }
                @if let Some(a) = &attempt { (what(a)) }
                (back(attempt.as_ref()))
            },
        ),
        Ok(Applied::Pending) => (
            StatusCode::OK,
            "pay.pending",
            html! {
                div class="box" id="payment-result" { p { (tr(lang, "pay.pending_body")) } }
                @if let Some(a) = &attempt { (what(a)) }
                (back(attempt.as_ref()))
            },
        ),
        Ok(Applied::Failed) => (
            StatusCode::OK,
            "pay.failed",
            html! {
                div class="bad" id="payment-result" { p { (tr(lang, "pay.failed_body")) } }
                @if let Some(a) = &attempt {
                    (what(a))
                    p { a class="button" id="retry" href={ "/c/" (a.challan_number) "/pay" } { (tr(lang, "pay.retry")) } }
                }
                (back(attempt.as_ref()))
            },
        ),
        Ok(Applied::Refused(why)) => (
            StatusCode::BAD_REQUEST,
            "pay.not_credited",
            html! {
                div class="bad" id="payment-result" { p { (refused_text(lang, why)) } }
                @if let Some(a) = &attempt { (what(a)) }
                (back(attempt.as_ref()))
            },
        ),
        Err(e) => {
            tracing::error!(error = %e, "applying a rail outcome failed");
            // The rail's message was not recorded either way; the poller asks the rail later.
            let status = if e.is_unavailable() {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            (
                status,
                "pay.try_again",
                html! {
                    div class="bad" id="payment-result" { p { (tr(lang, "pay.our_error")) } }
                    @if let Some(a) = &attempt { (what(a)) }
                    (back(attempt.as_ref()))
                },
            )
        }
    };
    let mut r = page(lang, status, title, body);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        r.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            crate::error::RETRY_AFTER_SECS.into(),
        );
    }
    r
}

/// Why a rail's message was not credited, in the reader's language.
fn refused_text(lang: Lang, why: &str) -> &'static str {
    match why {
        outcome::NO_SUCH_PAYMENT => tr(lang, "pay.unknown_reference"),
        NO_REFERENCE | NOT_A_PAYMENT => tr(lang, "pay.no_reference"),
        w if w.contains("does not match") => tr(lang, "pay.refused_mismatch"),
        w if w.contains("conflicts") => tr(lang, "pay.refused_conflict"),
        _ => tr(lang, "pay.refused_other"),
    }
}

const NO_REFERENCE: &str = "No payment reference.";
const NOT_A_PAYMENT: &str = "This message does not name a payment.";

/// The receipt's signed QR code (the same token as on its PDF), when it can be made.
async fn receipt_qr(
    state: &AppState,
    lang: Lang,
    r: &efine_store::ops::payments::Receipt,
) -> Option<maud::Markup> {
    let n = efine_core::ChallanNumber::parse(&r.challan_number).ok()?;
    let c = state
        .store
        .read(move |tx| efine_store::ops::challans::by_number(tx, &n))
        .await
        .ok()
        .flatten()?;
    let token = state
        .keys
        .current()
        .signer
        .sign_receipt(&r.number, r.amount, &c.department, &c.district, r.paid_at)
        .ok()?;
    let url = crate::verify::verify_url(state, &token);
    Some(crate::pages::portal::challan::qr_svg(
        &url,
        tr(lang, "pay.receipt_qr"),
    ))
}

/// A result page in the shared shell.
pub fn page(lang: Lang, status: StatusCode, title: &'static str, body: maud::Markup) -> Response {
    (
        status,
        Html(crate::pages::shell::page(lang, "/", tr(lang, title), body).into_string()),
    )
        .into_response()
}

/// Easypaisa sends the payer's browser back here (query or form). The message only names the
/// order: we ask Easypaisa what happened and credit from that answer.
pub async fn easypaisa_postback(
    State(state): State<AppState>,
    lang: Lang,
    Query(query): Query<BTreeMap<String, String>>,
    body: Bytes,
) -> Response {
    let Some(cfg) = state.payments.easypaisa.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut fields = query;
    if let Ok(form) = serde_urlencoded_form(&body) {
        fields.extend(form);
    }
    let postback = match easypaisa::parse_postback(&fields) {
        Ok(p) => p,
        Err(_) => {
            return applied_page(&state, lang, None, Ok(Applied::Refused(NOT_A_PAYMENT))).await
        }
    };
    match inquiry::easypaisa(&state.ctx.http, &cfg, &postback.order_ref).await {
        Ok((outcome, raw)) => {
            let msg = RailMessage {
                rail: Rail::Easypaisa,
                kind: "inquiry",
                reference: postback.order_ref,
                outcome,
                claims: None,
                raw,
                actor: "easypaisa",
            };
            let reference = Some(msg.reference.clone());
            applied_page(
                &state,
                lang,
                reference,
                outcome::apply(&state.ctx, msg).await,
            )
            .await
        }
        Err(e) => {
            tracing::warn!(error = %e, "Easypaisa inquiry failed; the poller will retry");
            applied_page(&state, lang, Some(postback.order_ref), Ok(Applied::Pending)).await
        }
    }
}

fn serde_urlencoded_form(body: &[u8]) -> Result<BTreeMap<String, String>, ()> {
    if body.is_empty() {
        return Err(());
    }
    let text = std::str::from_utf8(body).map_err(|_| ())?;
    let mut out = BTreeMap::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let dec = |s: &str| card::percent_decode(&s.replace('+', " "));
        out.insert(dec(k).ok_or(())?, dec(v).ok_or(())?);
    }
    Ok(out)
}

/// The card gateway's server-to-server notification.
pub async fn card_notify(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(cfg) = state.payments.card.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let header = headers
        .get(card::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    let now = state.store.now().unix_timestamp();
    let raw = String::from_utf8_lossy(&body).into_owned();
    match card::verify_notification(&cfg.gateway, &body, header, now) {
        Ok(n) => {
            let msg = RailMessage {
                rail: Rail::Card,
                kind: "notification",
                reference: n.order_ref,
                outcome: n.outcome,
                claims: None,
                raw,
                actor: "card",
            };
            let applied = outcome::apply(&state.ctx, msg).await;
            match applied {
                Ok(Applied::Refused(why)) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Json(serde_json::json!({"error": {"code": "refused", "message": why}})),
                )
                    .into_response(),
                Ok(_) => Json(serde_json::json!({"received": true})).into_response(),
                // A gateway retries a 5xx notification: 503 when retrying is all it takes.
                Err(e) if e.is_unavailable() => {
                    crate::error::ApiError::unavailable(e).into_response()
                }
                Err(e) => crate::error::ApiError::internal(e).into_response(),
            }
        }
        Err(e) => {
            if let Err(err) = outcome::record_unverified(
                &state.ctx,
                Rail::Card,
                "notification",
                None,
                raw,
                e.to_string(),
            )
            .await
            {
                tracing::error!(error = %err, "could not record a card notification");
            }
            (
                StatusCode::BAD_REQUEST,
                Json(serde_json::json!({"error": {"code": "bad_signature", "message": e.to_string()}})),
            )
                .into_response()
        }
    }
}

/// The biller's bank's Raast notification: a payment arrived for one of our PSIDs. Verified
/// (timestamped HMAC, any current secret) before anything is read; applied once per Raast
/// transaction id. Answers 200 for every verified message, so the bank stops resending: what it
/// did is in the answer and in `rail_messages`.
pub async fn raast_notify(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(cfg) = state.payments.raast.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let header = headers
        .get(efine_pay::raast::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    let now = state.store.now().unix_timestamp();
    let raw = String::from_utf8_lossy(&body).into_owned();
    match efine_pay::raast::verify_notification(&cfg.biller, &body, header, now) {
        Ok((_event, payment)) => {
            use efine_service::raast::Verdict;
            match efine_service::raast::apply(&state.ctx, payment, "notification", raw).await {
                Ok(v) => {
                    let (verdict, receipt) = match v {
                        Verdict::Paid(r) => ("paid", Some(r)),
                        Verdict::Repeat => ("repeat", None),
                        Verdict::RefundOwed(_) => ("refund_owed", None),
                        Verdict::UnknownPsid => ("unknown_bill_reference", None),
                        Verdict::Returned => ("returned", None),
                    };
                    Json(serde_json::json!({"received": true, "verdict": verdict, "receipt": receipt}))
                        .into_response()
                }
                Err(e) if e.is_unavailable() => {
                    crate::error::ApiError::unavailable(e).into_response()
                }
                Err(e) => crate::error::ApiError::internal(e).into_response(),
            }
        }
        Err(e) => {
            if let Err(err) = outcome::record_unverified(
                &state.ctx,
                Rail::Raast,
                "notification",
                None,
                raw,
                e.to_string(),
            )
            .await
            {
                tracing::error!(error = %err, "could not record a Raast notification");
            }
            (
                StatusCode::BAD_REQUEST,
                Json(serde_json::json!({"error": {"code": "bad_signature", "message": e.to_string()}})),
            )
                .into_response()
        }
    }
}

/// Where the card gateway sends the payer back: the attempt's state as we know it.
pub async fn card_return(
    State(state): State<AppState>,
    lang: Lang,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let Some(reference) = q.get("order_ref").cloned() else {
        return applied_page(&state, lang, None, Ok(Applied::Refused(NO_REFERENCE))).await;
    };
    let recorded = outcome::as_recorded(&state.ctx, reference.clone()).await;
    applied_page(&state, lang, Some(reference), recorded).await
}

/// This resource's routes, with their OpenAPI description.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use axum::routing::{get, post};
    use utoipa_axum::router::OpenApiRouter;
    OpenApiRouter::new()
        .route(
            "/payments/easypaisa/postback",
            get(easypaisa_postback).post(easypaisa_postback),
        )
        .route("/payments/card/notify", post(card_notify))
        .route("/payments/card/return", get(card_return))
        .route("/payments/raast/notify", post(raast_notify))
}
