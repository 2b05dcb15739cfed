use crate::auth::{login, Staff};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::views::{rfc3339, TokenRequest, TokenResponse};
use crate::AppState;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use efine_store::ops::users;
use std::net::SocketAddr;

/// Staff or device login: exchanges a username, password and (for roles that approve or audit)
/// an authenticator code for a bearer token. Failures are counted per account and per client
/// address: after a few, each attempt must wait longer (429 with `Retry-After`), then the
/// account or address is locked for a while.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "a bearer token", body = TokenResponse),
        (status = 401, description = "wrong username, password or code", body = ErrorBody),
        (status = 403, description = "the role needs a second factor that is not set up yet (`second_factor_not_enrolled`)", body = ErrorBody),
        (status = 422, description = "a field is missing", body = ErrorBody),
        (status = 429, description = "too many failed logins: wait `Retry-After` seconds (`login_throttled`)", body = ErrorBody),
    ))]
pub async fn create_token(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: ApiJson<TokenRequest>,
) -> Response {
    let TokenRequest {
        username,
        password,
        code,
    } = body.value;
    let principal = match login(
        &state,
        peer.ip(),
        &username,
        &password,
        code.as_deref(),
        false,
    )
    .await
    {
        Ok(l) => l.principal,
        Err(e) => {
            state.metrics.login_failures.inc(&["api"]);
            return e.into_api(state.store.now());
        }
    };
    let (token, token_hash) = users::new_token();
    let now = state.store.now();
    let expires = now + state.config.token_ttl;
    let p = principal.clone();
    if let Err(e) = state
        .store
        .write(move |tx| users::create_token(tx, &p, &token_hash, now, expires))
        .await
    {
        return ApiError::from(e).into_response();
    }
    Json(TokenResponse {
        token,
        expires_at: rfc3339(expires),
        username: principal.username,
        role: principal.role.as_str().into(),
    })
    .into_response()
}

/// Revokes the bearer token the request is made with (sign out of a device or script). Any
/// later request with it is 401.
#[utoipa::path(delete, path = "/api/v1/auth/token", tag = "auth",
    responses(
        (status = 204, description = "the token is revoked"),
        (status = 401, description = "no valid token", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Staff(principal): Staff,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    let hash = users::token_hash(token);
    let now = state.store.now();
    state
        .store
        .write(move |tx| users::revoke_token(tx, &principal, &hash, now))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// This resource's routes, with their OpenAPI description.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::router::OpenApiRouter;
    use utoipa_axum::routes;
    OpenApiRouter::new().routes(routes!(create_token, revoke_token))
}
