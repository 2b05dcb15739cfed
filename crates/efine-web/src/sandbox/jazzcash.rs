//! JazzCash's hosted page, its signed return, and its status inquiry (sandbox).

use super::{choice_forms, hidden, page, take_choice, SandboxState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::{Form, Json};
use efine_pay::jazzcash::Fields;
use efine_pay::sandbox;
use maud::html;

/// The hosted payment page.
pub async fn form(State(state): State<SandboxState>, Form(fields): Form<Fields>) -> Response {
    let Some(jc) = state.payments.jazzcash.as_ref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !efine_pay::jazzcash::verify(&jc.merchant.integrity_salt, &fields) {
        let body = html! { p { "The request's pp_SecureHash does not match: refused." } };
        return (
            StatusCode::BAD_REQUEST,
            Html(page("JazzCash sandbox", body)),
        )
            .into_response();
    }
    let amount = fields
        .get("pp_Amount")
        .and_then(|a| a.parse::<i64>().ok())
        .and_then(|p| efine_core::Money::from_paisa(p).ok())
        .map(|m| m.to_string())
        .unwrap_or_default();
    let bill = fields
        .get("pp_BillReference")
        .map(String::as_str)
        .unwrap_or("");
    let body = html! {
        p { strong { "Sandbox" } ": no real money moves." }
        p { (amount) " for " (bill) }
        (choice_forms("/sandbox/jazzcash/complete", &fields, "Leave it pending (voucher)"))
    };
    Html(page("JazzCash sandbox", body)).into_response()
}

/// The payer's choice: the signed answer, posted back to the merchant's return URL (a form the
/// browser submits; `sandbox_format=json` returns the fields as JSON for scripts and tests).
pub async fn complete(
    State(state): State<SandboxState>,
    Form(mut fields): Form<Fields>,
) -> Response {
    let Some(jc) = state.payments.jazzcash.as_ref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (choice, json) = take_choice(&mut fields);
    // JazzCash's retrieval reference is unique per transaction: derive it from the attempt's
    // own reference, which is.
    let digits: String = fields
        .get("pp_TxnRefNo")
        .map(|r| r.chars().filter(char::is_ascii_digit).collect())
        .unwrap_or_default();
    let rrn = format!("{:0>12}", &digits[digits.len().saturating_sub(12)..]);
    let answer = match sandbox::jazzcash_return(&jc.merchant, &fields, choice, &rrn) {
        Ok(a) => a,
        Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
    };
    // Remembered for JazzCash's status inquiry.
    if let (Some(r), Some(a)) = (
        fields.get("pp_TxnRefNo"),
        fields
            .get("pp_Amount")
            .and_then(|a| a.parse::<i64>().ok())
            .and_then(|p| efine_core::Money::from_paisa(p).ok()),
    ) {
        state.remember(r.clone(), (choice, a, rrn.clone()));
    }
    if json {
        return Json(answer).into_response();
    }
    let return_url = fields.get("pp_ReturnURL").cloned().unwrap_or_default();
    let body = html! {
        form id="r" method="post" action=(return_url) {
            (hidden(&answer))
            button type="submit" { "Continue" }
        }
        script { (RETURN_SCRIPT) }
    };
    Html(page("Returning to E-Fine", body)).into_response()
}

/// The return page's script, which posts the answer back (allowed by hash in the sandboxes'
/// Content Security Policy).
pub const RETURN_SCRIPT: &str = "document.getElementById('r').submit()";

/// JazzCash's status inquiry: answers from what the payer chose, signed.
pub async fn inquire(State(state): State<SandboxState>, Json(request): Json<Fields>) -> Response {
    let Some(jc) = state.payments.jazzcash.as_ref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let reference = request.get("pp_TxnRefNo").cloned().unwrap_or_default();
    let known = state.recall(&reference);
    match sandbox::jazzcash_inquiry(&jc.merchant, &request, known) {
        Ok(f) => Json(f).into_response(),
        Err(e) => (StatusCode::UNAUTHORIZED, e).into_response(),
    }
}
