//! Cash at a department counter: recorded by a cashier (finance), totalled in the day's cash-up.

use crate::auth::Staff;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::views::rfc3339;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use efine_core::clock::karachi_date;
use efine_core::{ChallanNumber, Money};
use efine_service::cash;
use efine_store::ops::payments::Receipt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CashPaymentRequest {
    /// Paisa taken: must be the full amount due today.
    pub amount: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptView {
    pub receipt_number: String,
    pub challan_number: String,
    /// `1bill`, `jazzcash`, `easypaisa`, `card` or `counter`.
    pub rail: String,
    pub amount: i64,
    pub amount_display: String,
    pub paid_at: String,
}

impl From<Receipt> for ReceiptView {
    fn from(r: Receipt) -> Self {
        ReceiptView {
            receipt_number: r.number,
            challan_number: r.challan_number,
            rail: r.rail.as_str().into(),
            amount: r.amount.paisa(),
            amount_display: r.amount.to_string(),
            paid_at: rfc3339(r.paid_at),
        }
    }
}

/// Records cash taken at a department counter (finance). The challan is paid at once and a
/// receipt issued; the cash appears in the day's cash-up under the cashier's name.
#[utoipa::path(post, path = "/api/v1/challans/{challan_number}/cash-payments", tag = "payments",
    params(("challan_number" = String, Path)),
    request_body = CashPaymentRequest,
    responses(
        (status = 201, body = ReceiptView),
        (status = 401, body = ErrorBody), (status = 403, description = "not finance", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "already paid or cancelled", body = ErrorBody),
        (status = 422, description = "not the full amount due today", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn create_cash_payment(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(number): Path<String>,
    body: ApiJson<CashPaymentRequest>,
) -> ApiResult<(StatusCode, Json<ReceiptView>)> {
    let number =
        ChallanNumber::parse(&number).map_err(|e| ApiError::invalid("challan_number", e.0))?;
    let amount =
        Money::from_paisa(body.value.amount).map_err(|e| ApiError::invalid("amount", e.0))?;
    let r = cash::record(&state.ctx, &who, number, amount).await?;
    Ok((StatusCode::CREATED, Json(r.into())))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CashUpQuery {
    /// Local day, `YYYY-MM-DD` (default: today in Pakistan).
    pub date: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CashierTotalView {
    pub cashier: String,
    pub count: i64,
    pub total: i64,
    pub total_display: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CashUpView {
    pub date: String,
    pub count: i64,
    pub total: i64,
    pub total_display: String,
    pub by_cashier: Vec<CashierTotalView>,
    pub receipts: Vec<ReceiptView>,
}

/// The day's cash-up: counter cash per cashier, with every receipt (finance, auditor, admin).
#[utoipa::path(get, path = "/api/v1/cash-up", tag = "payments",
    params(CashUpQuery),
    responses(
        (status = 200, body = CashUpView),
        (status = 403, body = ErrorBody),
        (status = 422, description = "not a date", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn get_cash_up(
    State(state): State<AppState>,
    Staff(who): Staff,
    Query(q): Query<CashUpQuery>,
) -> ApiResult<Json<CashUpView>> {
    let day = match q.date.as_deref() {
        Some(d) => time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]"))
            .map_err(|_| ApiError::invalid("date", "a date is YYYY-MM-DD"))?,
        None => karachi_date(state.store.now()),
    };
    let (totals, receipts) = cash::cash_up(&state.ctx, &who, day).await?;
    let total: i64 = totals.iter().map(|t| t.total.paisa()).sum();
    let total_m = Money::from_paisa(total).map_err(|e| ApiError::internal(e.0))?;
    Ok(Json(CashUpView {
        date: day.to_string(),
        count: totals.iter().map(|t| t.count).sum(),
        total,
        total_display: total_m.to_string(),
        by_cashier: totals
            .into_iter()
            .map(|t| CashierTotalView {
                cashier: t.cashier,
                count: t.count,
                total: t.total.paisa(),
                total_display: t.total.to_string(),
            })
            .collect(),
        receipts: receipts.into_iter().map(Into::into).collect(),
    }))
}

/// This resource's routes, with their OpenAPI description.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::router::OpenApiRouter;
    use utoipa_axum::routes;
    OpenApiRouter::new()
        .routes(routes!(create_cash_payment))
        .routes(routes!(get_cash_up))
}
