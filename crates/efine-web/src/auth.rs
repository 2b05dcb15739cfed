//! Bearer-token authentication for staff and officers' devices.

use crate::error::ApiError;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use efine_core::auth::Principal;
use efine_store::ops::users;

/// The authenticated caller. A handler that takes `Staff` is closed to anyone without a valid,
/// unexpired token.
pub struct Staff(pub Principal);

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <token>"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 128)
            .ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <token>"))?;
        let hash = users::token_hash(token);
        let now = state.store.now();
        let principal = state
            .store
            .read(move |tx| users::by_token(tx, &hash, now))
            .await?
            .ok_or_else(|| ApiError::unauthorized("the token is unknown or has expired"))?;
        Ok(Staff(principal))
    }
}
