//! Raast (sandbox): a payer's bank app that "scans" a QR (its text pasted), and the biller's
//! bank, which notifies E-Fine of the payment, signed, and answers status inquiries. A payment can
//! also be made with its notification lost, so the poller's inquiry is what credits it.

use super::{page, SandboxState};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::{Form, Json};
use base64::Engine;
use efine_pay::sandbox_raast as sbx;
use maud::html;
use std::sync::atomic::{AtomicU64, Ordering};

/// Raast transaction ids, unique within this sandbox's life (and across restarts: the time).
static NEXT_TXN: AtomicU64 = AtomicU64::new(1);

/// The bank app: paste the QR's text.
pub async fn app() -> Html<String> {
    Html(page(
        "Raast bank app (sandbox)",
        html! {
            p { strong { "Sandbox" } ": no real money moves." }
            form method="post" action="/sandbox/raast/app" {
                p { label for="payload" { "The QR's text" } }
                p { textarea id="payload" name="payload" rows="6" cols="40" {} }
                input type="hidden" name="notify" value="yes";
                p { button type="submit" { "Pay" } }
            }
        },
    ))
}

#[derive(serde::Deserialize)]
pub struct PayForm {
    payload: String,
    /// `no`: the bank takes the money but its notification is lost.
    #[serde(default)]
    notify: String,
    /// `json` for tests and scripts.
    #[serde(default)]
    sandbox_format: String,
}

/// The payer confirms in the app: the biller's bank records the payment and notifies E-Fine.
pub async fn pay(State(state): State<SandboxState>, Form(f): Form<PayForm>) -> Response {
    let Some(cfg) = state.payments.raast.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let now = state.clock.now();
    let txn = format!(
        "RST{}{:06}",
        now.unix_timestamp(),
        NEXT_TXN.fetch_add(1, Ordering::Relaxed)
    );
    let (decoded, report) = match sbx::pay_scanned(f.payload.trim(), &txn, now, "SBXB") {
        Ok(r) => r,
        Err(e) => {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(serde_json::json!({"error": e.to_string()})),
            )
                .into_response()
        }
    };
    if decoded.iban() != Some(cfg.biller.iban.as_str()) {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(serde_json::json!({"error": "the QR pays another account"})),
        )
            .into_response();
    }
    state
        .raast
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(report.bill_reference.clone())
        .or_default()
        .push(report.clone());
    let mut notified = None;
    if f.notify != "no" {
        let secrets: Vec<&str> = cfg
            .biller
            .notification_secrets
            .iter()
            .map(String::as_str)
            .collect();
        let (body, sig) = sbx::notification(
            &secrets[..1.min(secrets.len())],
            &report,
            now.unix_timestamp(),
        );
        let answer = state
            .http
            .post(format!(
                "{}/payments/raast/notify",
                state.payments.public_url
            ))
            .header(efine_pay::raast::SIGNATURE_HEADER, sig)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        notified = Some(match answer {
            Ok(r) => {
                let status = r.status().as_u16();
                let body: serde_json::Value = r.json().await.unwrap_or_default();
                serde_json::json!({"status": status, "answer": body})
            }
            Err(e) => serde_json::json!({"status": 0, "error": e.to_string()}),
        });
    }
    if f.sandbox_format == "json" {
        return Json(serde_json::json!({
            "raast_txn_id": txn,
            "bill_reference": report.bill_reference,
            "amount_paisa": report.amount_paisa,
            "notified": notified,
        }))
        .into_response();
    }
    Html(page(
        "Raast bank app (sandbox)",
        html! {
            p { "Paid " (efine_core::Money::from_paisa(report.amount_paisa).map(|m| m.to_string()).unwrap_or_default())
                " to " (cfg.biller.name) " for bill " (report.bill_reference) "." }
            p { "Raast transaction " (txn) }
        },
    ))
    .into_response()
}

/// The biller's bank's status inquiry: every payment it holds for a PSID. Basic authentication
/// with the biller's API credentials.
pub async fn inquire(
    State(state): State<SandboxState>,
    headers: HeaderMap,
    Path(psid): Path<String>,
) -> Response {
    let Some(cfg) = state.payments.raast.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", cfg.api_username, cfg.api_password))
    );
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !efine_service::rails::same(given, &expected) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let reports = state
        .raast
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&psid)
        .cloned()
        .unwrap_or_default();
    (
        [(header::CONTENT_TYPE, "application/json")],
        sbx::inquiry_answer(&psid, reports),
    )
        .into_response()
}
