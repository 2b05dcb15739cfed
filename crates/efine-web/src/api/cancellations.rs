//! Cancellation requests (four-eyes): staff request with a reason; a supervisor of the challan's
//! department who is not the requester approves or rejects.

use crate::auth::Staff;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::views::rfc3339;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use efine_core::auth::Principal;
use efine_core::ChallanNumber;
use efine_store::ops::cancellations::{self, Cancellation};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct CancellationView {
    pub id: i64,
    pub challan_number: String,
    pub department: String,
    pub district: String,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decision_note: Option<String>,
}

impl From<Cancellation> for CancellationView {
    fn from(c: Cancellation) -> Self {
        CancellationView {
            id: c.id,
            challan_number: c.challan_number,
            department: c.department,
            district: c.district,
            reason: c.reason,
            requested_by: c.requested_by,
            requested_at: rfc3339(c.requested_at),
            status: c.status.as_str().into(),
            decided_by: c.decided_by,
            decided_at: c.decided_at.map(rfc3339),
            decision_note: c.decision_note,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CancellationsView {
    pub cancellations: Vec<CancellationView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancellationRequest {
    /// Why the challan should be cancelled (1 to 500 characters).
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionNote {
    /// Recorded with the decision (at most 500 characters).
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `pending`, `approved`, `rejected` (appeals: `pending`, `decided`); all when absent.
    pub status: Option<String>,
}

/// A required free-text field (a reason, a note): trimmed, 1 to 500 characters, on several
/// lines but without NUL or other control characters.
pub(crate) fn text_field(field: &str, v: &str) -> ApiResult<String> {
    crate::extract::free_text(field, v, efine_core::text::TextKind::Lines, 500)
}

pub(crate) fn status_filter(q: &ListQuery, allowed: &[&str]) -> ApiResult<Option<String>> {
    match q.status.as_deref() {
        None | Some("") => Ok(None),
        Some(s) if allowed.contains(&s) => Ok(Some(s.to_string())),
        Some(_) => Err(ApiError::invalid(
            "status",
            format!("status must be one of {}", allowed.join(", ")),
        )),
    }
}

/// Requests the cancellation of an unpaid challan (officers, supervisors, admins; in scope).
#[utoipa::path(post, path = "/api/v1/challans/{challan_number}/cancellation", tag = "challans",
    params(("challan_number" = String, Path)),
    request_body = CancellationRequest,
    responses(
        (status = 201, body = CancellationView),
        (status = 403, body = ErrorBody),
        (status = 404, description = "no such challan in your scope", body = ErrorBody),
        (status = 409, description = "`challan_paid` (refund it instead), `challan_cancelled`, `cancellation_pending`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn request_cancellation(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(number): Path<String>,
    body: ApiJson<CancellationRequest>,
) -> ApiResult<(StatusCode, Json<CancellationView>)> {
    let number =
        ChallanNumber::parse(&number).map_err(|e| ApiError::invalid("challan_number", e.0))?;
    let reason = text_field("reason", &body.value.reason)?;
    let now = state.store.now();
    let c = state
        .store
        .write(move |tx| cancellations::request(tx, &who, &number, &reason, now))
        .await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

/// Cancellation requests in the caller's scope, newest first (`?status=pending` for the queue).
#[utoipa::path(get, path = "/api/v1/cancellations", tag = "challans",
    params(ListQuery),
    responses((status = 200, body = CancellationsView), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_cancellations(
    State(state): State<AppState>,
    Staff(who): Staff,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<CancellationsView>> {
    let status = status_filter(&q, &["pending", "approved", "rejected"])?;
    let list = state
        .store
        .read(move |tx| cancellations::list(tx, &who, status.as_deref(), 500))
        .await?;
    Ok(Json(CancellationsView {
        cancellations: list.into_iter().map(Into::into).collect(),
    }))
}

async fn decide(
    state: AppState,
    who: Principal,
    id: i64,
    approve: bool,
    body: Option<ApiJson<DecisionNote>>,
) -> ApiResult<Json<CancellationView>> {
    let note = body
        .and_then(|b| b.value.note)
        .map(|n| text_field("note", &n))
        .transpose()?;
    let now = state.store.now();
    let c = state
        .store
        .write(move |tx| cancellations::decide(tx, &who, id, approve, note.as_deref(), now))
        .await?;
    Ok(Json(c.into()))
}

/// Approves a cancellation request: the challan is cancelled. A supervisor of the department
/// other than the requester; the requester gets 403 `own_request`.
#[utoipa::path(post, path = "/api/v1/cancellations/{id}/approve", tag = "challans",
    params(("id" = i64, Path)),
    request_body(content = DecisionNote, description = "optional: a note recorded with the decision"),
    responses(
        (status = 200, body = CancellationView),
        (status = 403, description = "`own_request`, `not_a_supervisor`", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`cancellation_decided`, `challan_paid`, `challan_cancelled`", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn approve_cancellation(
    State(state): State<AppState>,
    Staff(who): Staff,
    ApiPath(id): ApiPath<i64>,
    body: Option<ApiJson<DecisionNote>>,
) -> ApiResult<Json<CancellationView>> {
    decide(state, who, id, true, body).await
}

/// Rejects a cancellation request (same rules as approving).
#[utoipa::path(post, path = "/api/v1/cancellations/{id}/reject", tag = "challans",
    params(("id" = i64, Path)),
    request_body(content = DecisionNote, description = "optional: a note recorded with the decision"),
    responses(
        (status = 200, body = CancellationView),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn reject_cancellation(
    State(state): State<AppState>,
    Staff(who): Staff,
    ApiPath(id): ApiPath<i64>,
    body: Option<ApiJson<DecisionNote>>,
) -> ApiResult<Json<CancellationView>> {
    decide(state, who, id, false, body).await
}

/// This resource's routes, with their OpenAPI description.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::router::OpenApiRouter;
    use utoipa_axum::routes;
    OpenApiRouter::new()
        .routes(routes!(request_cancellation))
        .routes(routes!(list_cancellations))
        .routes(routes!(approve_cancellation))
        .routes(routes!(reject_cancellation))
}
