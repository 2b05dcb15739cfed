//! The vehicle registry's sandbox: who owns a plate, in the registry's wire format (made-up
//! owners only; see `data/vehicle-registry-sandbox.toml`).

use super::SandboxState;
use crate::error::ApiError;
use crate::extract::ApiJson;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;

#[derive(serde::Deserialize)]
pub struct OwnerQuery {
    vehicle: String,
}

pub async fn owner(
    State(state): State<SandboxState>,
    ApiJson { value: q, .. }: ApiJson<OwnerQuery>,
) -> Response {
    let plate = match efine_core::VehicleNumber::parse(&q.vehicle) {
        Ok(p) => p,
        Err(e) => return ApiError::invalid("vehicle", e.0).into_response(),
    };
    match state.registry.answer(&plate) {
        Some(o) => Json(o).into_response(),
        None => ApiError::not_found("vehicle registration").into_response(),
    }
}
