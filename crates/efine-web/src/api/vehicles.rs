//! What staff see about a vehicle: the checkpoint status (officers) and the clearance other
//! departments ask for before, for example, a transfer of ownership.

use crate::auth::Staff;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::views::rfc3339;
use crate::AppState;
use axum::extract::{Path, State};
use axum::Json;
use efine_core::auth::{Action, Scope};
use efine_core::clock::karachi_date;
use efine_core::VehicleNumber;
use efine_store::ops::enforcement::{self, VehicleStatus};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct VehicleChallanView {
    pub challan_number: String,
    pub department: String,
    pub district: String,
    pub offence_code: String,
    pub issued_at: String,
    /// Last day to pay without surcharge (moved on by days under appeal).
    pub due_date: String,
    /// Paisa due today.
    pub amount_due: i64,
    pub amount_due_display: String,
    /// `impound_eligible`, `licence_suspended` or `transfer_blocked`.
    pub stage: Option<String>,
    pub under_appeal: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VehicleStatusView {
    pub vehicle_number: String,
    /// The local day the figures are for.
    pub on: String,
    pub unpaid_count: usize,
    /// Paisa due today for all unpaid challans.
    pub total_due: i64,
    pub total_due_display: String,
    /// The oldest unpaid challan.
    pub oldest: Option<VehicleChallanView>,
    /// The highest enforcement stage of any unpaid challan.
    pub stage: Option<String>,
    pub recommended_action: String,
    pub challans: Vec<VehicleChallanView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClearanceView {
    pub vehicle_number: String,
    pub on: String,
    /// Whether a transfer of ownership (or similar service) must be refused.
    pub blocked: bool,
    /// Why, one line per blocking challan; empty when clear.
    pub reasons: Vec<String>,
    pub blocking_challans: Vec<String>,
    /// Unpaid challans that do not (yet) block, and what all unpaid challans add up to today.
    pub unpaid_count: usize,
    pub total_due: i64,
    pub total_due_display: String,
}

fn challan_view(c: &efine_core::challan::Challan, on: time::Date) -> VehicleChallanView {
    let due = c.amount_due(on);
    VehicleChallanView {
        challan_number: c.number.to_string(),
        department: c.department.to_string(),
        district: c.district.to_string(),
        offence_code: c.offence.to_string(),
        issued_at: rfc3339(c.issued_at),
        due_date: c.terms().effective_due_date().to_string(),
        amount_due: due.paisa(),
        amount_due_display: due.to_string(),
        stage: VehicleStatus::stage_of(c, on).map(|s| s.as_str().to_string()),
        under_appeal: c.adjustments.paused_since.is_some(),
    }
}

async fn status(state: &AppState, vehicle: &str) -> ApiResult<VehicleStatus> {
    let vehicle = VehicleNumber::parse(vehicle).map_err(|e| ApiError::invalid("vehicle", e.0))?;
    let on = karachi_date(state.store.now());
    Ok(state
        .store
        .read(move |tx| enforcement::vehicle_status(tx, &vehicle, on))
        .await?)
}

/// Checkpoint lookup (officers, supervisors, admins, auditors): a vehicle's unpaid challans in
/// every district, what they add up to today, the enforcement stage and what to do.
#[utoipa::path(get, path = "/api/v1/vehicles/{vehicle}/status", tag = "enforcement",
    params(("vehicle" = String, Path, description = "e.g. PES-1234")),
    responses(
        (status = 200, body = VehicleStatusView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "not a vehicle number", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn get_vehicle_status(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(vehicle): Path<String>,
) -> ApiResult<Json<VehicleStatusView>> {
    who.may(Action::CheckVehicle, &Scope::ANY)
        .map_err(|d| ApiError::forbidden(d.to_string()))?;
    Ok(Json(status_view(&state, &vehicle).await?))
}

/// The checkpoint view of a vehicle (also what an officer's enrolled phone asks for).
pub(crate) async fn status_view(state: &AppState, vehicle: &str) -> ApiResult<VehicleStatusView> {
    let s = status(state, vehicle).await?;
    Ok(VehicleStatusView {
        vehicle_number: s.vehicle.to_string(),
        on: s.on.to_string(),
        unpaid_count: s.unpaid.len(),
        total_due: s.total_due.paisa(),
        total_due_display: s.total_due.to_string(),
        oldest: s.oldest().map(|c| challan_view(c, s.on)),
        stage: s.stage.map(|st| st.as_str().to_string()),
        recommended_action: s.recommended_action().to_string(),
        challans: s.unpaid.iter().map(|c| challan_view(c, s.on)).collect(),
    })
}

/// Clearance (any staff, e.g. Excise before a transfer): whether the vehicle is blocked by
/// unpaid challans that reached the transfer-blocked stage, and why.
#[utoipa::path(get, path = "/api/v1/vehicles/{vehicle}/clearance", tag = "enforcement",
    params(("vehicle" = String, Path, description = "e.g. PES-1234")),
    responses(
        (status = 200, body = ClearanceView),
        (status = 401, body = ErrorBody),
        (status = 422, description = "not a vehicle number", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn get_vehicle_clearance(
    State(state): State<AppState>,
    Staff(_who): Staff,
    Path(vehicle): Path<String>,
) -> ApiResult<Json<ClearanceView>> {
    let s = status(&state, &vehicle).await?;
    let blocking = s.blocking_transfer();
    let reasons = blocking
        .iter()
        .map(|c| {
            format!(
                "challan {} ({}) unpaid since {}: {} due",
                c.number,
                c.offence,
                c.terms().effective_due_date(),
                c.amount_due(s.on)
            )
        })
        .collect();
    Ok(Json(ClearanceView {
        vehicle_number: s.vehicle.to_string(),
        on: s.on.to_string(),
        blocked: !blocking.is_empty(),
        reasons,
        blocking_challans: blocking.iter().map(|c| c.number.to_string()).collect(),
        unpaid_count: s.unpaid.len(),
        total_due: s.total_due.paisa(),
        total_due_display: s.total_due.to_string(),
    }))
}

/// This resource's routes, with their OpenAPI description.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::router::OpenApiRouter;
    use utoipa_axum::routes;
    OpenApiRouter::new()
        .routes(routes!(get_vehicle_status))
        .routes(routes!(get_vehicle_clearance))
}
