use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::views::{rfc3339, TokenRequest, TokenResponse};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use efine_store::ops::users;

/// Staff or device login: exchanges a username and password for a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "a bearer token", body = TokenResponse),
        (status = 401, description = "wrong username or password", body = ErrorBody),
        (status = 422, description = "a field is missing", body = ErrorBody),
    ))]
pub async fn create_token(
    State(state): State<AppState>,
    body: ApiJson<TokenRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let TokenRequest { username, password } = body.value;
    crate::extract::free_text("username", &username, efine_core::text::TextKind::Name, 64)?;
    if username.len() > 64 || password.len() > 1024 {
        return Err(ApiError::unauthorized("wrong username or password"));
    }
    let found = state
        .store
        .read(move |tx| users::for_login(tx, &username))
        .await?;
    // Verify against a fixed hash when the user is unknown, so timing does not reveal which
    // usernames exist.
    let (principal, hash) = match found {
        Some((p, h)) => (Some(p), h),
        None => (None, state.dummy_hash.clone()),
    };
    let ok = tokio::task::spawn_blocking(move || users::verify_password(&password, &hash))
        .await
        .map_err(ApiError::internal)?;
    let principal = match (ok, principal) {
        (true, Some(p)) => p,
        _ => return Err(ApiError::unauthorized("wrong username or password")),
    };
    let (token, token_hash) = users::new_token();
    let now = state.store.now();
    let expires = now + state.config.token_ttl;
    let p = principal.clone();
    state
        .store
        .write(move |tx| users::create_token(tx, &p, &token_hash, now, expires))
        .await?;
    Ok(Json(TokenResponse {
        token,
        expires_at: rfc3339(expires),
        username: principal.username,
        role: principal.role.as_str().into(),
    }))
}

/// This resource's routes, with their OpenAPI description.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::router::OpenApiRouter;
    use utoipa_axum::routes;
    OpenApiRouter::new().routes(routes!(create_token))
}
