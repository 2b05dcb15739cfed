//! Hosted checkout: where to send the payer for a challan, and what the rail sends back.

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::html::escape;
use crate::i18n::{self, tr, Lang};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::{Form, Json};
use efine_core::clock::KARACHI;
use efine_core::payment::{AttemptEvent, Rail};
use efine_core::ChallanNumber;
use efine_pay::jazzcash::{self, Checkout, Fields};
use efine_pay::RailOutcome;
use efine_store::ops::payments::{self, Credit};
use efine_store::sql::nested;
use efine_store::StoreError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutRequest {
    /// `jazzcash`, `easypaisa` or `card`.
    pub method: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckoutResponse {
    pub method: String,
    /// Our reference for this attempt (the rail's `pp_TxnRefNo`).
    pub reference: String,
    /// Paisa to be taken: the amount due today.
    pub amount: i64,
    pub amount_display: String,
    /// Send the payer's browser here: post `fields` as a form (`http_method` POST), or follow
    /// the URL, which already carries them (GET).
    pub gateway_url: String,
    pub http_method: String,
    /// The signed form fields.
    pub fields: BTreeMap<String, String>,
}

/// Starts a payment: an attempt for the amount due today, and the signed form that sends the
/// payer to the rail's hosted page.
#[utoipa::path(post, path = "/api/v1/public/challans/{challan_number}/checkout", tag = "public",
    params(("challan_number" = String, Path, description = "e.g. TRF-PSH-2026-004219")),
    request_body = CheckoutRequest,
    responses(
        (status = 201, body = CheckoutResponse),
        (status = 404, description = "no such challan", body = ErrorBody),
        (status = 409, description = "already paid or cancelled", body = ErrorBody),
        (status = 422, description = "unknown or unavailable method, or not a challan number", body = ErrorBody),
    ))]
pub async fn create_checkout(
    State(state): State<AppState>,
    Path(number): Path<String>,
    body: ApiJson<CheckoutRequest>,
) -> ApiResult<Response> {
    let number =
        ChallanNumber::parse(&number).map_err(|e| ApiError::invalid("challan_number", e.0))?;
    let resp = start(&state, number, &body.value.method, None).await?;
    Ok((StatusCode::CREATED, Json(resp)).into_response())
}

/// Starts a payment attempt for `number` on `method` (`jazzcash`, `easypaisa`, `card`) and
/// returns the signed form for the rail's hosted page. The portal's pay page uses it too, with
/// the reader's language: JazzCash's return URL then carries `?lang=ur`, because the payer's
/// browser comes back in a cross-site POST that carries no language cookie.
pub async fn start(
    state: &AppState,
    number: ChallanNumber,
    method: &str,
    lang: Option<Lang>,
) -> ApiResult<CheckoutResponse> {
    let rail = match Rail::parse(method.trim()) {
        Some(r @ (Rail::Jazzcash | Rail::Easypaisa | Rail::Card)) => r,
        _ => {
            return Err(ApiError::invalid(
                "method",
                "method must be jazzcash, easypaisa or card (or pay at any bank, ATM or app with the PSID)",
            ))
        }
    };
    let configured = match rail {
        Rail::Jazzcash => state.payments.jazzcash.is_some(),
        Rail::Easypaisa => state.payments.easypaisa.is_some(),
        _ => state.payments.card.is_some(),
    };
    if !configured {
        return Err(ApiError::invalid(
            "method",
            format!("{} is not configured on this server", rail.label()),
        ));
    }
    let now = state.store.now();
    let (attempt, challan) = state
        .store
        .write(move |tx| payments::start_attempt(tx, &number, rail, "citizen", now))
        .await?;
    let public = &state.payments.public_url;
    let local = now.to_offset(KARACHI);
    let at_local = time::PrimitiveDateTime::new(local.date(), local.time());
    let (gateway_url, http_method, fields) = match rail {
        Rail::Jazzcash => {
            let jc = state
                .payments
                .jazzcash
                .as_ref()
                .ok_or_else(|| ApiError::internal("jazzcash config"))?;
            let fields = jazzcash::checkout_fields(
                &jc.merchant,
                &Checkout {
                    reference: &attempt.reference,
                    amount: attempt.amount,
                    bill_reference: &attempt.challan_number,
                    description: &format!("Challan {}", attempt.challan_number),
                    return_url: &format!(
                        "{public}/payments/jazzcash/return{}",
                        if lang == Some(Lang::Ur) {
                            "?lang=ur"
                        } else {
                            ""
                        }
                    ),
                    at_local,
                    valid_for: time::Duration::hours(1),
                    psid: challan.psid.as_str(),
                },
            );
            (jc.gateway_url.clone(), "POST", fields)
        }
        Rail::Easypaisa => {
            let ep = state
                .payments
                .easypaisa
                .as_ref()
                .ok_or_else(|| ApiError::internal("easypaisa config"))?;
            let fields = efine_pay::easypaisa::checkout_fields(
                &ep.store,
                &efine_pay::easypaisa::Checkout {
                    order_ref: &attempt.reference,
                    amount: attempt.amount,
                    post_back_url: &format!("{public}/payments/easypaisa/postback"),
                    at_local,
                    valid_for: time::Duration::hours(1),
                    payment_method: efine_pay::easypaisa::PaymentMethod::MobileAccount,
                    mobile_num: None,
                    email: None,
                },
            );
            (ep.checkout_url.clone(), "POST", fields)
        }
        _ => {
            let cg = state
                .payments
                .card
                .as_ref()
                .ok_or_else(|| ApiError::internal("card config"))?;
            let s = efine_pay::card::session_request(
                &cg.gateway,
                &attempt.reference,
                attempt.amount,
                &format!("{public}/payments/card/return"),
            );
            (s.url, "GET", s.fields)
        }
    };
    Ok(CheckoutResponse {
        method: rail.as_str().into(),
        reference: attempt.reference,
        amount: attempt.amount.paisa(),
        amount_display: attempt.amount.to_string(),
        gateway_url,
        http_method: http_method.into(),
        fields,
    })
}

fn result_page(lang: Lang, status: StatusCode, title: &'static str, body: &str) -> Response {
    (status, Html(i18n::page(lang, "/", tr(lang, title), body))).into_response()
}

fn para(lang: Lang, key: &'static str) -> String {
    format!("<p>{}</p>", tr(lang, key))
}

/// JazzCash's return (the payer's browser, form-encoded) and IPN: verify the signature, the
/// reference and the amount, then credit once however often it is replayed.
pub async fn jazzcash_return(
    State(state): State<AppState>,
    lang: Lang,
    Form(fields): Form<Fields>,
) -> Response {
    let Some(jc) = state.payments.jazzcash.clone() else {
        return result_page(
            lang,
            StatusCode::NOT_FOUND,
            "pay.not_available",
            &para(lang, "pay.not_configured"),
        );
    };
    let now = state.store.now();
    let mut raw_fields = fields.clone();
    raw_fields.remove("pp_Password");
    let raw = serde_json::to_string(&raw_fields).unwrap_or_default();
    let parsed = jazzcash::parse_return(&jc.merchant, &fields);
    let reference = fields.get("pp_TxnRefNo").cloned();
    let msg = match parsed {
        Ok(m) => m,
        Err(e) => {
            let verdict = format!("refused: {e}");
            let r = reference.clone();
            let _ = state
                .store
                .write(move |tx| {
                    payments::record_message(
                        tx,
                        Rail::Jazzcash,
                        "return",
                        r.as_deref(),
                        &raw,
                        &verdict,
                        now,
                    )
                })
                .await;
            return result_page(
                lang,
                StatusCode::BAD_REQUEST,
                "pay.not_verified",
                &para(lang, "pay.not_verified_body"),
            );
        }
    };
    let outcome = state
        .store
        .write(move |tx| {
            let Some(a) = payments::attempt_by_reference(tx, &msg.reference)? else {
                payments::record_message(
                    tx,
                    Rail::Jazzcash,
                    "return",
                    Some(&msg.reference),
                    &raw,
                    "refused: unknown reference",
                    now,
                )?;
                return Ok(Err("We have no payment with this reference."));
            };
            if a.rail != Rail::Jazzcash
                || msg.amount != a.amount
                || msg.bill_reference != a.challan_number
            {
                payments::record_message(
                    tx,
                    Rail::Jazzcash,
                    "return",
                    Some(&msg.reference),
                    &raw,
                    "refused: amount or bill reference differs from the attempt",
                    now,
                )?;
                return Ok(Err(
                    "The amount or challan in this message does not match the payment we started.",
                ));
            }
            let done = match &msg.outcome {
                RailOutcome::Confirmed { rail_txn_id, .. } => {
                    match nested(tx, |tx| payments::credit(tx, &a, rail_txn_id, "jazzcash", now))? {
                        Ok(c) => Ok(Ok(Some(c))),
                        Err(StoreError::Conflict { message, .. }) => {
                            payments::record_message(tx, Rail::Jazzcash, "return", Some(&msg.reference), &raw, &format!("refused: {message}"), now)?;
                            return Ok(Err("This payment message conflicts with one already credited; it was recorded for finance to review."));
                        }
                        Err(e) => Err(e),
                    }
                }
                RailOutcome::Pending => {
                    payments::mark(
                        tx,
                        &a,
                        AttemptEvent::MarkedPending,
                        serde_json::json!({"code": msg.response_code}),
                        "jazzcash",
                        now,
                    )?;
                    Ok(Ok(None))
                }
                RailOutcome::Failed { reason } => {
                    if a.state != efine_core::payment::AttemptState::Confirmed {
                        payments::mark(
                            tx,
                            &a,
                            AttemptEvent::Failed,
                            serde_json::json!({"reason": reason}),
                            "jazzcash",
                            now,
                        )?;
                    }
                    Ok(Ok(None))
                }
            };
            let verdict = match &done {
                Ok(Ok(Some(Credit::Paid(r)))) => format!("paid, receipt {}", r.number),
                Ok(Ok(Some(Credit::RefundOwed { liability_id, .. }))) => {
                    format!("refund owed, liability {liability_id}")
                }
                Ok(Ok(Some(Credit::Replayed(_)))) => "replay: credited before".into(),
                _ => format!("{} {}", msg.response_code, msg.response_message),
            };
            payments::record_message(
                tx,
                Rail::Jazzcash,
                "return",
                Some(&msg.reference),
                &raw,
                &verdict,
                now,
            )?;
            done.map(|d| d.map(|c| (c, msg.outcome.clone())))
        })
        .await;
    match outcome {
        Ok(Ok((Some(credit), _))) => {
            let credit = match credit {
                Credit::Replayed(c) => *c,
                c => c,
            };
            match credit {
                Credit::Paid(r) => result_page(
                    lang,
                    StatusCode::OK,
                    "pay.received",
                    &crate::pages::receipt::paid_body(
                        lang,
                        &r.number,
                        Some((r.amount, &r.challan_number)),
                    )
                    .into_string(),
                ),
                _ => result_page(
                    lang,
                    StatusCode::OK,
                    "pay.already_paid",
                    &para(lang, "pay.already_paid_body"),
                ),
            }
        }
        Ok(Ok((None, RailOutcome::Pending))) => result_page(
            lang,
            StatusCode::OK,
            "pay.pending",
            &para(lang, "pay.pending_body"),
        ),
        Ok(Ok((None, _))) => result_page(
            lang,
            StatusCode::OK,
            "pay.failed",
            &para(lang, "pay.failed_body"),
        ),
        Ok(Err(why)) => result_page(
            lang,
            StatusCode::BAD_REQUEST,
            "pay.not_credited",
            &format!("<p>{}</p>", escape(why)),
        ),
        Err(e) => {
            tracing::error!(error = %e, "JazzCash return failed");
            result_page(
                lang,
                StatusCode::INTERNAL_SERVER_ERROR,
                "pay.try_again",
                &para(lang, "pay.our_error"),
            )
        }
    }
}
