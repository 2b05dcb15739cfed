use crate::error::{ApiResult, ErrorBody};
use crate::views::{today, KeySetView, VerificationView};
use crate::{verify, AppState};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Is a QR token genuine, and what is the record's status now? Always 200 when the question
/// could be answered: a forged, altered or unknown token is `genuine: false` with the reason.
#[utoipa::path(get, path = "/api/v1/public/verify/{qr_token}", tag = "verification",
    params(("qr_token" = String, Path, description = "the token from a challan's or receipt's QR code")),
    responses(
        (status = 200, description = "the verdict (genuine or not, with the reason)", body = VerificationView),
        (status = 429, description = "too many views from this address; see Retry-After", body = ErrorBody),
        (status = 500, description = "the record could not be read", body = ErrorBody),
        (status = 503, description = "the database is unavailable just now; try again after Retry-After seconds", body = ErrorBody),
    ))]
pub async fn verify_token(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<Json<VerificationView>> {
    let verdict = verify::check(&state, &token).await?;
    Ok(Json(VerificationView::new(
        verdict,
        today(state.store.now()),
    )))
}

/// The public keys that verify E-Fine QR tokens, with their ids. Old keys stay listed after a
/// rotation so the tokens they signed still verify.
#[utoipa::path(get, path = "/.well-known/efine-keys.json", tag = "verification",
    responses((status = 200, body = KeySetView)))]
pub async fn get_keys(State(state): State<AppState>) -> ApiResult<Response> {
    let mut set = state.keys.current().published.clone();
    // Officers' device keys follow the server's, with their officer and validity.
    let devices = state.store.read(efine_store::ops::devices::all).await?;
    set.keys.extend(
        devices
            .iter()
            .map(efine_store::keys::PublishedKey::of_device),
    );
    let mut resp = Json(KeySetView::from(&set)).into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(resp)
}

/// This resource's routes, with their OpenAPI description.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::router::OpenApiRouter;
    use utoipa_axum::routes;
    OpenApiRouter::new()
        .routes(routes!(verify_token))
        .routes(routes!(get_keys))
}
