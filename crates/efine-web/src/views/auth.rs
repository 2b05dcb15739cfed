//! Staff login: the token request and answer.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub username: String,
    pub password: String,
    /// The authenticator's 6-digit code, or a one-time recovery code: required for
    /// supervisors, department admins, finance, auditors and admins.
    #[serde(default)]
    pub code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: String,
    pub username: String,
    pub role: String,
}
