//! Settlement file upload for finance: reconcile a rail's settlement against the ledger.

use crate::auth::Staff;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use efine_core::auth::{Action, Scope};
use efine_core::payment::Rail;
use efine_store::ops::recon;
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
pub struct UploadQuery {
    /// The file's name, for the record.
    pub name: Option<String>,
}

/// Uploads a rail's settlement file (CSV: `rail_txn_id,reference,amount_paisa,settled_on`) and
/// returns the reconciliation: matched, corrected, missing here, missing there, amount differs.
/// A file is imported once.
#[utoipa::path(post, path = "/api/v1/recon/{rail}", tag = "payments",
    params(("rail" = String, Path, description = "1bill, jazzcash, easypaisa, card or raast"), UploadQuery),
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 201, description = "the reconciliation report", body = Object),
        (status = 403, body = ErrorBody),
        (status = 409, description = "imported before", body = ErrorBody),
        (status = 415, description = "not text/csv", body = ErrorBody),
        (status = 422, description = "unknown rail, or a bad line (named)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn upload_settlement(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(rail): Path<String>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: String,
) -> ApiResult<(StatusCode, Json<recon::Report>)> {
    who.may(Action::Reconcile, &Scope::ANY)
        .map_err(|d| ApiError::forbidden(d.to_string()))?;
    let rail = Rail::parse(&rail)
        .filter(|r| *r != Rail::Counter)
        .ok_or_else(|| {
            ApiError::invalid(
                "rail",
                "rail must be 1bill, jazzcash, easypaisa, card or raast",
            )
        })?;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !(ct.starts_with("text/csv") || ct.starts_with("text/plain")) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the settlement file as text/csv",
        ));
    }
    let name = crate::extract::opt_free_text(
        "name",
        q.name.as_deref(),
        efine_core::text::TextKind::Name,
        200,
    )?
    .unwrap_or_else(|| "upload.csv".into());
    let now = state.store.now();
    let report = state
        .store
        .write(move |tx| recon::import(tx, rail, &name, &body, &who.username, now))
        .await?;
    Ok((StatusCode::CREATED, Json(report)))
}

/// This resource's routes, with their OpenAPI description.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::router::OpenApiRouter;
    use utoipa_axum::routes;
    OpenApiRouter::new().routes(routes!(upload_settlement))
}
