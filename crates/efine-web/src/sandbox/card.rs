//! The bank's hosted card page and its signed server-to-server notification (sandbox).

use super::{choice_forms, page, take_choice, txn_id, SandboxState};
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Form, Json};
use efine_pay::jazzcash::Fields;
use efine_pay::sandbox_card as sbx;
use maud::html;

/// The hosted card page.
pub async fn pay(State(state): State<SandboxState>, RawQuery(query): RawQuery) -> Response {
    let Some(cfg) = state.payments.card.as_ref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let query = query.unwrap_or_default();
    match sbx::accept_session(&cfg.gateway, &query) {
        Ok(s) => {
            let mut f = Fields::new();
            f.insert("session".into(), query.clone());
            let body = html! {
                p { strong { "Sandbox" } ": no real card is charged." }
                p { (s.amount.to_string()) " for order " (s.order_ref) }
                (choice_forms("/sandbox/card/complete", &f, "Leave it pending"))
            };
            Html(page("Card payment sandbox", body)).into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Html(page(
                "Card sandbox",
                html! { p { "Refused: " (e.to_string()) } },
            )),
        )
            .into_response(),
    }
}

/// The payer's choice: the gateway notifies the merchant server to server, signed, then sends
/// the payer back.
pub async fn complete(
    State(state): State<SandboxState>,
    Form(mut fields): Form<Fields>,
) -> Response {
    let Some(cfg) = state.payments.card.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (choice, json) = take_choice(&mut fields);
    let query = fields.remove("session").unwrap_or_default();
    let s = match sbx::accept_session(&cfg.gateway, &query) {
        Ok(s) => s,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let txn = txn_id("CG", &s.order_ref);
    let secret = cfg
        .gateway
        .webhook_secrets
        .first()
        .cloned()
        .unwrap_or_default();
    let (body, header) = sbx::notification(
        &secret,
        &s.order_ref,
        s.amount,
        choice,
        &txn,
        state.clock.now().unix_timestamp(),
    );
    let sent = state
        .http
        .post(format!(
            "{}/payments/card/notify",
            state.payments.public_url
        ))
        .header(efine_pay::card::SIGNATURE_HEADER, header.clone())
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0);
    if json {
        return Json(serde_json::json!({
            "notified": sent,
            "body": String::from_utf8_lossy(&body),
            "signature": header,
        }))
        .into_response();
    }
    let sep = if s.return_url.contains('?') { '&' } else { '?' };
    Redirect::to(&format!(
        "{}{sep}order_ref={}",
        s.return_url,
        efine_pay::card::percent_encode(&s.order_ref)
    ))
    .into_response()
}
