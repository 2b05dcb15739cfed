//! Hosted checkout: where to send the payer for a challan, and what the rail sends back.

use crate::api::rails::{applied_page, page};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::i18n::{tr, Lang};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use efine_core::payment::Rail;
use efine_core::ChallanNumber;
use efine_pay::jazzcash::{self, Fields};
use efine_service::outcome::{self, Claims, RailMessage};
use maud::html;
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
        (status = 429, description = "too many checkouts from this address, or too many payments under way for this challan; see Retry-After", body = ErrorBody),
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

/// Starts a payment attempt (`efine_service::checkout::start`) and shapes the answer. The
/// portal's pay page uses it too, with the reader's language (see `start`'s `urdu_return`).
pub async fn start(
    state: &AppState,
    number: ChallanNumber,
    method: &str,
    lang: Option<Lang>,
) -> ApiResult<CheckoutResponse> {
    let c = efine_service::checkout::start(
        &state.ctx,
        number,
        method,
        lang == Some(Lang::Ur),
        state.config.open_attempts_per_challan,
    )
    .await?;
    Ok(CheckoutResponse {
        method: c.rail.as_str().into(),
        reference: c.reference,
        amount: c.amount.paisa(),
        amount_display: c.amount.to_string(),
        gateway_url: c.gateway_url,
        http_method: c.http_method.into(),
        fields: c.fields,
    })
}

/// JazzCash's return (the payer's browser, form-encoded) and IPN: verify the signature, then
/// apply it through the one outcome path (reference, amount and bill reference checked against
/// the attempt; credited once however often it is replayed).
pub async fn jazzcash_return(
    State(state): State<AppState>,
    lang: Lang,
    Form(fields): Form<Fields>,
) -> Response {
    let para = |key| html! { p { (tr(lang, key)) } };
    let Some(jc) = state.payments.jazzcash.clone() else {
        return page(
            lang,
            StatusCode::NOT_FOUND,
            "pay.not_available",
            para("pay.not_configured"),
        );
    };
    let mut raw_fields = fields.clone();
    raw_fields.remove("pp_Password");
    let raw = serde_json::to_string(&raw_fields).unwrap_or_default();
    match jazzcash::parse_return(&jc.merchant, &fields) {
        Ok(m) => {
            let msg = RailMessage {
                rail: Rail::Jazzcash,
                kind: "return",
                reference: m.reference,
                outcome: m.outcome,
                claims: Some(Claims {
                    amount: m.amount,
                    bill_reference: m.bill_reference,
                }),
                raw,
                actor: "jazzcash",
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
            let reference = fields.get("pp_TxnRefNo").cloned();
            if let Err(err) = outcome::record_unverified(
                &state.ctx,
                Rail::Jazzcash,
                "return",
                reference,
                raw,
                e.to_string(),
            )
            .await
            {
                tracing::error!(error = %err, "could not record a JazzCash return");
            }
            page(
                lang,
                StatusCode::BAD_REQUEST,
                "pay.not_verified",
                para("pay.not_verified_body"),
            )
        }
    }
}

/// This resource's routes, with their OpenAPI description.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use axum::routing::post;
    use utoipa_axum::router::OpenApiRouter;
    use utoipa_axum::routes;
    OpenApiRouter::new()
        .routes(routes!(create_checkout))
        // JazzCash sends the payer's browser (and its IPN) back here, form-encoded.
        .route("/payments/jazzcash/return", post(jazzcash_return))
}
