//! Easypaisa and card: checkout, and what each rail sends back. Easypaisa's postback is not
//! signed, so it only triggers an inquiry; the inquiry's answer is what credits. Card
//! notifications are verified (timestamped HMAC, 300 s tolerance, several secrets during a
//! rotation) before anything is read.

use crate::html::escape;
use crate::i18n::{self, tr, Lang};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use efine_core::payment::{AttemptEvent, AttemptState, Rail};
use efine_pay::{card, easypaisa, RailOutcome};
use efine_store::ops::payments::{self, Attempt, Credit};
use efine_store::sql::nested;
use efine_store::StoreError;
use std::collections::BTreeMap;

/// What applying a rail's verified word to an attempt did, for the payer's page.
pub enum Applied {
    Paid(String),
    RefundOwed,
    Pending,
    Failed,
    Refused(&'static str),
}

/// Applies a verified outcome for `reference` on `rail`: checks the attempt and amount, then
/// credits, marks pending or failed; records the raw message with the verdict. Shared by the
/// rails' callbacks and the pending poller.
pub async fn apply_outcome(
    state: &AppState,
    rail: Rail,
    kind: &'static str,
    reference: String,
    outcome: RailOutcome,
    raw: String,
    actor: &'static str,
) -> Result<Applied, StoreError> {
    let now = state.store.now();
    state
        .store
        .write(move |tx| {
            let record = |tx: &mut dyn efine_store::sql::Tx, verdict: &str| {
                payments::record_message(tx, rail, kind, Some(&reference), &raw, verdict, now)
            };
            let Some(a): Option<Attempt> = payments::attempt_by_reference(tx, &reference)? else {
                record(tx, "refused: unknown reference")?;
                return Ok(Applied::Refused("We have no payment with this reference."));
            };
            if a.rail != rail {
                record(tx, "refused: the reference belongs to another rail")?;
                return Ok(Applied::Refused("We have no payment with this reference."));
            }
            let applied = match &outcome {
                RailOutcome::Confirmed {
                    amount,
                    rail_txn_id,
                } => {
                    if *amount != a.amount {
                        record(
                            tx,
                            &format!(
                                "refused: amount {amount} differs from the attempt's {}",
                                a.amount
                            ),
                        )?;
                        return Ok(Applied::Refused(
                            "The amount does not match the payment we started.",
                        ));
                    }
                    match nested(tx, |tx| payments::credit(tx, &a, rail_txn_id, actor, now))? {
                        Ok(c) => match c {
                            Credit::Paid(r) => Applied::Paid(r.number),
                            Credit::Replayed(inner) => match *inner {
                                Credit::Paid(r) => Applied::Paid(r.number),
                                _ => Applied::RefundOwed,
                            },
                            Credit::RefundOwed { .. } => Applied::RefundOwed,
                        },
                        Err(StoreError::Conflict { message, .. }) => {
                            record(tx, &format!("refused: {message}"))?;
                            return Ok(Applied::Refused(
                                "This payment message conflicts with one already credited.",
                            ));
                        }
                        Err(e) => return Err(e),
                    }
                }
                RailOutcome::Pending => {
                    if a.state != AttemptState::Confirmed {
                        payments::mark(
                            tx,
                            &a,
                            AttemptEvent::MarkedPending,
                            serde_json::Value::Null,
                            actor,
                            now,
                        )?;
                    }
                    Applied::Pending
                }
                RailOutcome::Failed { reason } => {
                    if !a.state.is_terminal() {
                        payments::mark(
                            tx,
                            &a,
                            AttemptEvent::Failed,
                            serde_json::json!({"reason": reason}),
                            actor,
                            now,
                        )?;
                    }
                    Applied::Failed
                }
            };
            let verdict = match &applied {
                Applied::Paid(r) => format!("paid, receipt {r}"),
                Applied::RefundOwed => "refund owed".to_string(),
                Applied::Pending => "pending".to_string(),
                Applied::Failed => "failed".to_string(),
                Applied::Refused(w) => format!("refused: {w}"),
            };
            record(tx, &verdict)?;
            Ok(applied)
        })
        .await
}

/// The page the payer's browser lands on after a rail: what happened, in the reader's language.
pub fn applied_page(lang: Lang, a: Result<Applied, StoreError>) -> Response {
    let p = |key| format!("<p>{}</p>", tr(lang, key));
    let (status, title, body) = match a {
        Ok(Applied::Paid(r)) => (
            StatusCode::OK,
            "pay.received",
            crate::pages::receipt::paid_body(lang, &r, None).into_string(),
        ),
        Ok(Applied::RefundOwed) => (
            StatusCode::OK,
            "pay.already_paid",
            p("pay.already_paid_body"),
        ),
        Ok(Applied::Pending) => (StatusCode::OK, "pay.pending", p("pay.pending_body")),
        Ok(Applied::Failed) => (StatusCode::OK, "pay.failed", p("pay.failed_body")),
        Ok(Applied::Refused(why)) => (
            StatusCode::BAD_REQUEST,
            "pay.not_credited",
            format!("<p>{}</p>", escape(why)),
        ),
        Err(e) => {
            tracing::error!(error = %e, "applying a rail outcome failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "pay.try_again",
                p("pay.our_error"),
            )
        }
    };
    (status, Html(i18n::page(lang, "/", tr(lang, title), &body))).into_response()
}

#[derive(Debug, thiserror::Error)]
pub enum InquiryFailed {
    #[error("the rail did not answer: {0}")]
    Transport(String),
    #[error("the rail's answer is not usable: {0}")]
    Answer(String),
}

/// Asks Easypaisa what happened to an order (`inquire-transaction`).
pub async fn easypaisa_inquiry(
    state: &AppState,
    cfg: &crate::payments::EasypaisaConfig,
    order_ref: &str,
) -> Result<(RailOutcome, String), InquiryFailed> {
    let req = easypaisa::inquiry_request(&cfg.store, order_ref);
    let resp = state
        .http
        .post(format!(
            "{}{}",
            cfg.api_base.trim_end_matches('/'),
            easypaisa::INQUIRE_PATH
        ))
        .header(
            easypaisa::CREDENTIALS_HEADER,
            easypaisa::credentials_header(&cfg.store),
        )
        .json(&req)
        .send()
        .await
        .map_err(|e| InquiryFailed::Transport(e.to_string()))?;
    let body = resp
        .bytes()
        .await
        .map_err(|e| InquiryFailed::Transport(e.to_string()))?;
    let inquiry = easypaisa::parse_inquiry(&cfg.store, order_ref, &body)
        .map_err(|e| InquiryFailed::Answer(e.to_string()))?;
    Ok((inquiry.outcome, String::from_utf8_lossy(&body).into_owned()))
}

/// Asks JazzCash what happened to one of our references (status inquiry).
pub async fn jazzcash_inquiry(
    state: &AppState,
    cfg: &crate::payments::JazzcashConfig,
    reference: &str,
) -> Result<(RailOutcome, String), InquiryFailed> {
    let req = efine_pay::jazzcash::inquiry_request(&cfg.merchant, reference);
    let resp = state
        .http
        .post(format!(
            "{}{}",
            cfg.api_base.trim_end_matches('/'),
            efine_pay::jazzcash::INQUIRY_PATH
        ))
        .json(&req)
        .send()
        .await
        .map_err(|e| InquiryFailed::Transport(e.to_string()))?;
    let body = resp
        .bytes()
        .await
        .map_err(|e| InquiryFailed::Transport(e.to_string()))?;
    let fields: efine_pay::jazzcash::Fields =
        serde_json::from_slice(&body).map_err(|e| InquiryFailed::Answer(e.to_string()))?;
    let outcome = efine_pay::jazzcash::parse_inquiry(&cfg.merchant, reference, &fields)
        .map_err(|e| InquiryFailed::Answer(e.to_string()))?;
    Ok((outcome, String::from_utf8_lossy(&body).into_owned()))
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
            return applied_page(
                lang,
                Ok(Applied::Refused("This message does not name a payment.")),
            )
        }
    };
    match easypaisa_inquiry(&state, &cfg, &postback.order_ref).await {
        Ok((outcome, raw)) => {
            let a = apply_outcome(
                &state,
                Rail::Easypaisa,
                "inquiry",
                postback.order_ref,
                outcome,
                raw,
                "easypaisa",
            )
            .await;
            applied_page(lang, a)
        }
        Err(e) => {
            tracing::warn!(error = %e, "Easypaisa inquiry failed; the poller will retry");
            applied_page(lang, Ok(Applied::Pending))
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
            let applied = apply_outcome(
                &state,
                Rail::Card,
                "notification",
                n.order_ref,
                n.outcome,
                raw,
                "card",
            )
            .await;
            match applied {
                Ok(Applied::Refused(why)) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Json(serde_json::json!({"error": {"code": "refused", "message": why}})),
                )
                    .into_response(),
                Ok(_) => Json(serde_json::json!({"received": true})).into_response(),
                Err(e) => crate::error::ApiError::internal(e).into_response(),
            }
        }
        Err(e) => {
            let verdict = format!("refused: {e}");
            let now_t = state.store.now();
            let _ = state
                .store
                .write(move |tx| {
                    payments::record_message(
                        tx,
                        Rail::Card,
                        "notification",
                        None,
                        &raw,
                        &verdict,
                        now_t,
                    )
                })
                .await;
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
        return applied_page(lang, Ok(Applied::Refused("No payment reference.")));
    };
    let r = reference.clone();
    let found = state
        .store
        .read(move |tx| {
            let a = payments::attempt_by_reference(tx, &r)?;
            let receipt = match &a {
                Some(a) => payments::receipt_for_challan(tx, &a.challan_number)?
                    .filter(|rc| rc.attempt_reference == a.reference),
                None => None,
            };
            Ok((a, receipt))
        })
        .await;
    match found {
        Ok((Some(_), Some(r))) => applied_page(lang, Ok(Applied::Paid(r.number))),
        Ok((Some(a), None)) if a.state == AttemptState::Failed => {
            applied_page(lang, Ok(Applied::Failed))
        }
        Ok((Some(a), None)) if a.state == AttemptState::Confirmed => {
            applied_page(lang, Ok(Applied::RefundOwed))
        }
        Ok((Some(_), None)) => applied_page(lang, Ok(Applied::Pending)),
        Ok((None, _)) => applied_page(
            lang,
            Ok(Applied::Refused("We have no payment with this reference.")),
        ),
        Err(e) => applied_page(lang, Err(e)),
    }
}
