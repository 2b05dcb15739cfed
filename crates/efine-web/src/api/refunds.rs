//! Refunds of money taken that was not owed (finance): the liabilities, and refunds requested by
//! one person and approved by another.

use crate::auth::Staff;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::views::rfc3339;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use efine_core::auth::Principal;
use efine_service::refunds;
use efine_store::ops::payments::Liability;
use efine_store::ops::refunds::Refund;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct LiabilityView {
    pub id: i64,
    pub challan_number: String,
    pub rail: String,
    pub attempt_reference: String,
    pub amount: i64,
    pub amount_display: String,
    pub reason: String,
    pub created_at: String,
}

impl From<Liability> for LiabilityView {
    fn from(l: Liability) -> Self {
        LiabilityView {
            id: l.id,
            challan_number: l.challan_number,
            rail: l.rail.as_str().into(),
            attempt_reference: l.attempt_reference,
            amount: l.amount.paisa(),
            amount_display: l.amount.to_string(),
            reason: l.reason,
            created_at: rfc3339(l.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RefundView {
    pub id: i64,
    pub liability_id: i64,
    pub challan_number: String,
    pub rail: String,
    pub amount: i64,
    pub amount_display: String,
    /// `requested`, `approved` (and sent to the rail) or `rejected`.
    pub state: String,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: String,
    pub decided_by: Option<String>,
    /// The rail's reference for the refund once sent.
    pub rail_ref: Option<String>,
}

impl From<Refund> for RefundView {
    fn from(f: Refund) -> Self {
        RefundView {
            id: f.id,
            liability_id: f.liability_id,
            challan_number: f.challan_number,
            rail: f.rail.as_str().into(),
            amount: f.amount.paisa(),
            amount_display: f.amount.to_string(),
            state: f.state.as_str().into(),
            reason: f.reason,
            requested_by: f.requested_by,
            requested_at: rfc3339(f.requested_at),
            decided_by: f.decided_by,
            rail_ref: f.rail_ref,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RefundsView {
    /// Money owed back to payers, newest first.
    pub liabilities: Vec<LiabilityView>,
    pub refunds: Vec<RefundView>,
}

/// Refund liabilities and refunds (finance, auditor, admin).
#[utoipa::path(get, path = "/api/v1/refunds", tag = "payments",
    responses((status = 200, body = RefundsView), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_refunds(
    State(state): State<AppState>,
    Staff(who): Staff,
) -> ApiResult<Json<RefundsView>> {
    let (l, r) = refunds::list(&state.ctx, &who).await?;
    Ok(Json(RefundsView {
        liabilities: l.into_iter().map(Into::into).collect(),
        refunds: r.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    pub liability_id: i64,
    pub reason: String,
}

/// Requests the refund of a liability (finance). Someone else approves it.
#[utoipa::path(post, path = "/api/v1/refunds", tag = "payments",
    request_body = RefundRequest,
    responses(
        (status = 201, body = RefundView), (status = 403, body = ErrorBody),
        (status = 409, description = "a refund for this liability exists", body = ErrorBody),
        (status = 422, description = "no such liability, or no reason", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn create_refund(
    State(state): State<AppState>,
    Staff(who): Staff,
    body: ApiJson<RefundRequest>,
) -> ApiResult<(StatusCode, Json<RefundView>)> {
    let f = refunds::request(
        &state.ctx,
        &who,
        body.value.liability_id,
        &body.value.reason,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(f.into())))
}

pub async fn decide(
    state: AppState,
    who: Principal,
    id: i64,
    approve: bool,
) -> ApiResult<Json<RefundView>> {
    Ok(Json(
        refunds::decide(&state.ctx, &who, id, approve).await?.into(),
    ))
}

/// Approves a refund (finance or admin, not the requester): posts the ledger and sends it.
#[utoipa::path(post, path = "/api/v1/refunds/{id}/approve", tag = "payments",
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = RefundView),
        (status = 403, description = "not finance, or the requester", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "already decided", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn approve_refund(
    State(state): State<AppState>,
    Staff(who): Staff,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<RefundView>> {
    decide(state, who, id, true).await
}

/// Rejects a refund (finance or admin, not the requester).
#[utoipa::path(post, path = "/api/v1/refunds/{id}/reject", tag = "payments",
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = RefundView),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn reject_refund(
    State(state): State<AppState>,
    Staff(who): Staff,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<RefundView>> {
    decide(state, who, id, false).await
}

/// This resource's routes, with their OpenAPI description.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::router::OpenApiRouter;
    use utoipa_axum::routes;
    OpenApiRouter::new()
        .routes(routes!(list_refunds, create_refund))
        .routes(routes!(approve_refund))
        .routes(routes!(reject_refund))
}
