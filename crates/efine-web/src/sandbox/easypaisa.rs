//! Easypaisa's hosted checkout, its postback, and `inquire-transaction` (sandbox).

use super::{choice_forms, page, take_choice, txn_id, SandboxState};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Form, Json};
use efine_pay::jazzcash::Fields;
use efine_pay::sandbox_easypaisa as sbx;
use maud::html;

/// The hosted checkout page.
pub async fn checkout(State(state): State<SandboxState>, Form(fields): Form<Fields>) -> Response {
    let Some(cfg) = state.payments.easypaisa.as_ref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match sbx::accept_checkout(&cfg.store, &fields) {
        Ok(c) => {
            let body = html! {
                p { strong { "Sandbox" } ": no real money moves." }
                p { (c.amount.to_string()) " for order " (c.order_ref) }
                (choice_forms("/sandbox/easypaisa/complete", &fields, "Leave it pending"))
            };
            Html(page("Easypaisa sandbox", body)).into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Html(page("Easypaisa sandbox", html! { p { "Refused: " (e) } })),
        )
            .into_response(),
    }
}

/// The payer's choice: remembered for inquiries, then the browser goes back to `postBackURL`.
pub async fn complete(
    State(state): State<SandboxState>,
    Form(mut fields): Form<Fields>,
) -> Response {
    let Some(cfg) = state.payments.easypaisa.as_ref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (choice, json) = take_choice(&mut fields);
    let c = match sbx::accept_checkout(&cfg.store, &fields) {
        Ok(c) => c,
        Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
    };
    let txn = txn_id("EP", &c.order_ref);
    state.remember(c.order_ref.clone(), (choice, c.amount, txn));
    let back = sbx::postback_fields(&c.order_ref, choice);
    if json {
        return Json(back).into_response();
    }
    let query: Vec<String> = back
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                efine_pay::card::percent_encode(k),
                efine_pay::card::percent_encode(v)
            )
        })
        .collect();
    let sep = if c.post_back_url.contains('?') {
        '&'
    } else {
        '?'
    };
    Redirect::to(&format!("{}{sep}{}", c.post_back_url, query.join("&"))).into_response()
}

/// `inquire-transaction`: answers from what the payer chose.
pub async fn inquire(
    State(state): State<SandboxState>,
    headers: HeaderMap,
    Json(req): Json<serde_json::Value>,
) -> Response {
    let Some(cfg) = state.payments.easypaisa.as_ref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let creds = headers
        .get(efine_pay::easypaisa::CREDENTIALS_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !sbx::authorized(&cfg.store, creds) {
        return Json(sbx::inquiry_refused("0001", "invalid credentials")).into_response();
    }
    let order = req["orderId"].as_str().unwrap_or_default().to_string();
    match state.recall(&order) {
        Some((choice, amount, txn)) => Json(sbx::inquiry_response(
            &cfg.store, &order, amount, choice, &txn,
        ))
        .into_response(),
        None => Json(sbx::inquiry_refused("0003", "transaction not found")).into_response(),
    }
}
