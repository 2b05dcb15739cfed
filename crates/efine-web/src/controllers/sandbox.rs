//! The JazzCash sandbox's hosted page, served by E-Fine itself with `--demo` (or
//! `EFINE_SANDBOX=1`): the payer chooses success, failure or pending, and the sandbox posts the
//! signed answer back to the return URL exactly as JazzCash would.

use crate::html::{escape, page};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::{Form, Json};
use efine_pay::jazzcash::Fields;
use efine_pay::sandbox::{self, Choice};

fn hidden(fields: &Fields) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(k),
                escape(v)
            )
        })
        .collect()
}

/// The hosted payment page.
pub async fn jazzcash_form(State(state): State<AppState>, Form(fields): Form<Fields>) -> Response {
    let Some(jc) = state
        .payments
        .jazzcash
        .as_ref()
        .filter(|_| state.payments.sandbox)
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !efine_pay::jazzcash::verify(&jc.merchant.integrity_salt, &fields) {
        return (
            StatusCode::BAD_REQUEST,
            Html(page(
                "JazzCash sandbox",
                "<p>The request's pp_SecureHash does not match: refused.</p>",
            )),
        )
            .into_response();
    }
    let amount = fields
        .get("pp_Amount")
        .and_then(|a| a.parse::<i64>().ok())
        .and_then(|p| efine_core::Money::from_paisa(p).ok())
        .map(|m| m.to_string())
        .unwrap_or_default();
    let buttons: String = [("success", "Pay"), ("failure", "Fail the payment"), ("pending", "Leave it pending (voucher)")]
        .iter()
        .map(|(choice, label)| {
            format!(
                "<form method=\"post\" action=\"/sandbox/jazzcash/complete\">{}<input type=\"hidden\" name=\"sandbox_choice\" value=\"{choice}\"><button type=\"submit\">{label}</button></form>",
                hidden(&fields)
            )
        })
        .collect();
    Html(page(
        "JazzCash sandbox",
        &format!(
            "<p><strong>Sandbox</strong>: no real money moves.</p><p>{} for {}</p>{buttons}",
            escape(&amount),
            escape(
                fields
                    .get("pp_BillReference")
                    .map(String::as_str)
                    .unwrap_or("")
            )
        ),
    ))
    .into_response()
}

/// The payer's choice: the signed answer, posted back to the merchant's return URL (a form the
/// browser submits; `sandbox_format=json` returns the fields as JSON for scripts and tests).
pub async fn jazzcash_complete(
    State(state): State<AppState>,
    Form(mut fields): Form<Fields>,
) -> Response {
    let Some(jc) = state
        .payments
        .jazzcash
        .as_ref()
        .filter(|_| state.payments.sandbox)
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let choice = fields
        .remove("sandbox_choice")
        .and_then(|c| Choice::parse(&c))
        .unwrap_or(Choice::Failure);
    let json = fields.remove("sandbox_format").as_deref() == Some("json");
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
    if json {
        return Json(answer).into_response();
    }
    let return_url = fields.get("pp_ReturnURL").cloned().unwrap_or_default();
    Html(page(
        "Returning to E-Fine",
        &format!(
            "<form id=\"r\" method=\"post\" action=\"{}\">{}<button type=\"submit\">Continue</button></form><script>document.getElementById('r').submit()</script>",
            escape(&return_url),
            hidden(&answer)
        ),
    ))
    .into_response()
}
