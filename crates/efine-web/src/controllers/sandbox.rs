//! The JazzCash sandbox's hosted page, served by E-Fine itself with `--demo` (or
//! `EFINE_SANDBOX=1`): the payer chooses success, failure or pending, and the sandbox posts the
//! signed answer back to the return URL exactly as JazzCash would.

use crate::html::{escape, page};
use crate::AppState;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::Redirect;
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
    // Remembered for JazzCash's status inquiry.
    if let (Some(r), Some(a)) = (
        fields.get("pp_TxnRefNo"),
        fields
            .get("pp_Amount")
            .and_then(|a| a.parse::<i64>().ok())
            .and_then(|p| efine_core::Money::from_paisa(p).ok()),
    ) {
        state
            .sandbox_orders
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(r.clone(), (choice, a, rrn.clone()));
    }
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

fn choice_forms(action: &str, fields: &Fields) -> String {
    [("success", "Pay"), ("failure", "Fail the payment"), ("pending", "Leave it pending")]
        .iter()
        .map(|(choice, label)| {
            format!(
                "<form method=\"post\" action=\"{action}\">{}<input type=\"hidden\" name=\"sandbox_choice\" value=\"{choice}\"><button type=\"submit\">{label}</button></form>",
                hidden(fields)
            )
        })
        .collect()
}

/// Easypaisa's hosted checkout page (sandbox).
pub async fn easypaisa_checkout(
    State(state): State<AppState>,
    Form(fields): Form<Fields>,
) -> Response {
    let Some(cfg) = state
        .payments
        .easypaisa
        .as_ref()
        .filter(|_| state.payments.sandbox)
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match efine_pay::sandbox_easypaisa::accept_checkout(&cfg.store, &fields) {
        Ok(c) => Html(page(
            "Easypaisa sandbox",
            &format!(
                "<p><strong>Sandbox</strong>: no real money moves.</p><p>{} for order {}</p>{}",
                escape(&c.amount.to_string()),
                escape(&c.order_ref),
                choice_forms("/sandbox/easypaisa/complete", &fields)
            ),
        ))
        .into_response(),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Html(page(
                "Easypaisa sandbox",
                &format!("<p>Refused: {}</p>", escape(e)),
            )),
        )
            .into_response(),
    }
}

/// The payer's choice: remembered for inquiries, then the browser goes back to `postBackURL`.
pub async fn easypaisa_complete(
    State(state): State<AppState>,
    Form(mut fields): Form<Fields>,
) -> Response {
    let Some(cfg) = state
        .payments
        .easypaisa
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
    let c = match efine_pay::sandbox_easypaisa::accept_checkout(&cfg.store, &fields) {
        Ok(c) => c,
        Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
    };
    let txn = format!(
        "EP{}",
        c.order_ref
            .chars()
            .filter(char::is_ascii_digit)
            .collect::<String>()
    );
    state
        .sandbox_orders
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(c.order_ref.clone(), (choice, c.amount, txn));
    let back = efine_pay::sandbox_easypaisa::postback_fields(&c.order_ref, choice);
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

/// Easypaisa's `inquire-transaction` (sandbox): answers from what the payer chose.
pub async fn easypaisa_inquire(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<serde_json::Value>,
) -> Response {
    let Some(cfg) = state
        .payments
        .easypaisa
        .as_ref()
        .filter(|_| state.payments.sandbox)
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let creds = headers
        .get(efine_pay::easypaisa::CREDENTIALS_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !efine_pay::sandbox_easypaisa::authorized(&cfg.store, creds) {
        return Json(efine_pay::sandbox_easypaisa::inquiry_refused(
            "0001",
            "invalid credentials",
        ))
        .into_response();
    }
    let order = req["orderId"].as_str().unwrap_or_default().to_string();
    let known = state
        .sandbox_orders
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&order)
        .cloned();
    match known {
        Some((choice, amount, txn)) => Json(efine_pay::sandbox_easypaisa::inquiry_response(
            &cfg.store, &order, amount, choice, &txn,
        ))
        .into_response(),
        None => Json(efine_pay::sandbox_easypaisa::inquiry_refused(
            "0003",
            "transaction not found",
        ))
        .into_response(),
    }
}

/// The card gateway's hosted page (sandbox).
pub async fn card_pay(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let Some(cfg) = state
        .payments
        .card
        .as_ref()
        .filter(|_| state.payments.sandbox)
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let query = query.unwrap_or_default();
    match efine_pay::sandbox_card::accept_session(&cfg.gateway, &query) {
        Ok(s) => {
            let mut f = Fields::new();
            f.insert("session".into(), query.clone());
            Html(page(
                "Card payment sandbox",
                &format!(
                    "<p><strong>Sandbox</strong>: no real card is charged.</p><p>{} for order {}</p>{}",
                    escape(&s.amount.to_string()),
                    escape(&s.order_ref),
                    choice_forms("/sandbox/card/complete", &f)
                ),
            ))
            .into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Html(page(
                "Card sandbox",
                &format!("<p>Refused: {}</p>", escape(&e.to_string())),
            )),
        )
            .into_response(),
    }
}

/// The payer's choice on the card page: the gateway notifies the merchant server-to-server,
/// signed, then sends the payer back.
pub async fn card_complete(
    State(state): State<AppState>,
    Form(mut fields): Form<Fields>,
) -> Response {
    let Some(cfg) = state
        .payments
        .card
        .clone()
        .filter(|_| state.payments.sandbox)
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let choice = fields
        .remove("sandbox_choice")
        .and_then(|c| Choice::parse(&c))
        .unwrap_or(Choice::Failure);
    let json = fields.remove("sandbox_format").as_deref() == Some("json");
    let query = fields.remove("session").unwrap_or_default();
    let s = match efine_pay::sandbox_card::accept_session(&cfg.gateway, &query) {
        Ok(s) => s,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let txn = format!(
        "CG{}",
        s.order_ref
            .chars()
            .filter(char::is_ascii_digit)
            .collect::<String>()
    );
    let secret = cfg
        .gateway
        .webhook_secrets
        .first()
        .cloned()
        .unwrap_or_default();
    let (body, header) = efine_pay::sandbox_card::notification(
        &secret,
        &s.order_ref,
        s.amount,
        choice,
        &txn,
        state.store.now().unix_timestamp(),
    );
    let sent = state
        .ctx
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

/// JazzCash's status inquiry (sandbox): answers from what the payer chose, signed.
pub async fn jazzcash_inquire(
    State(state): State<AppState>,
    Json(request): Json<Fields>,
) -> Response {
    let Some(jc) = state
        .payments
        .jazzcash
        .as_ref()
        .filter(|_| state.payments.sandbox)
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let reference = request.get("pp_TxnRefNo").cloned().unwrap_or_default();
    let known = state
        .sandbox_orders
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&reference)
        .cloned();
    match sandbox::jazzcash_inquiry(&jc.merchant, &request, known) {
        Ok(f) => Json(f).into_response(),
        Err(e) => (StatusCode::UNAUTHORIZED, e).into_response(),
    }
}

#[derive(serde::Deserialize)]
pub struct OwnerQuery {
    vehicle: String,
}

/// The vehicle registry sandbox: who owns a plate, in the registry's wire format (made-up
/// owners only; see `data/vehicle-registry-sandbox.toml`).
pub async fn registry_owner(
    State(state): State<AppState>,
    crate::extract::ApiJson { value: q, .. }: crate::extract::ApiJson<OwnerQuery>,
) -> Response {
    let plate = match efine_core::VehicleNumber::parse(&q.vehicle) {
        Ok(p) => p,
        Err(e) => return crate::error::ApiError::invalid("vehicle", e.0).into_response(),
    };
    match state.registry_sandbox.answer(&plate) {
        Some(o) => Json(o).into_response(),
        None => crate::error::ApiError::not_found("vehicle registration").into_response(),
    }
}
