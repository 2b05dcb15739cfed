use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::views::{DepartmentView, DistrictView, OffenceView};
use crate::AppState;
use axum::extract::{Query, State};
use axum::Json;
use efine_core::DepartmentCode;
use efine_store::ops::catalogue;
use serde::Deserialize;
use utoipa::IntoParams;

/// Every department that levies fines or fees.
#[utoipa::path(get, path = "/api/v1/catalogue/departments", tag = "catalogue",
    responses((status = 200, body = Vec<DepartmentView>)))]
pub async fn list_departments(
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<DepartmentView>>> {
    let ds = state.store.read(catalogue::departments).await?;
    Ok(Json(ds.into_iter().map(Into::into).collect()))
}

/// Every district.
#[utoipa::path(get, path = "/api/v1/catalogue/districts", tag = "catalogue",
    responses((status = 200, body = Vec<DistrictView>)))]
pub async fn list_districts(State(state): State<AppState>) -> ApiResult<Json<Vec<DistrictView>>> {
    let ds = state.store.read(catalogue::districts).await?;
    Ok(Json(ds.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct OffenceQuery {
    /// Only this department's schedule.
    pub department: Option<String>,
}

/// The offence and fee schedule in force, of one department or all.
#[utoipa::path(get, path = "/api/v1/catalogue/offences", tag = "catalogue",
    params(OffenceQuery),
    responses(
        (status = 200, body = Vec<OffenceView>),
        (status = 422, description = "not a department code", body = ErrorBody),
    ))]
pub async fn list_offences(
    State(state): State<AppState>,
    Query(q): Query<OffenceQuery>,
) -> ApiResult<Json<Vec<OffenceView>>> {
    let dep = match q.department.as_deref().filter(|d| !d.is_empty()) {
        Some(d) => {
            Some(DepartmentCode::parse(d).map_err(|e| ApiError::invalid("department", e.0))?)
        }
        None => None,
    };
    let check = dep.clone();
    let (known, offences) = state
        .store
        .read(move |tx| {
            let known = match &check {
                Some(d) => catalogue::department_by_code(tx, d)?.is_some(),
                None => true,
            };
            Ok((known, catalogue::offences(tx, dep.as_ref())?))
        })
        .await?;
    if !known {
        return Err(ApiError::not_found("department"));
    }
    Ok(Json(offences.into_iter().map(Into::into).collect()))
}

/// This resource's routes, with their OpenAPI description.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::router::OpenApiRouter;
    use utoipa_axum::routes;
    OpenApiRouter::new()
        .routes(routes!(list_departments))
        .routes(routes!(list_districts))
        .routes(routes!(list_offences))
}
