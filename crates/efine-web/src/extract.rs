//! A JSON body extractor whose every failure is a clear API error: 415 without a JSON content
//! type, 413 over the size limit, 400 for malformed JSON, 422 naming the field whose value does
//! not fit.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;

pub struct ApiJson<T> {
    pub value: T,
    /// The body re-serialised with sorted keys: what idempotency keys are checked against.
    pub canonical: String,
}

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let mime = v
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            })
            .unwrap_or(false);
        if !json_type {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "the request body is too large",
                )
            } else {
                ApiError::bad_request("bad_body", "the request body could not be read")
            }
        })?;
        let raw: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
        })?;
        if !raw.is_object() {
            return Err(ApiError::invalid("body", "the body must be a JSON object"));
        }
        let canonical = raw.to_string();
        let value = serde_path_to_error::deserialize(raw).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner().to_string();
            // serde names a missing or unknown field in the message, not the path.
            let field = field_from_message(&inner).unwrap_or(path);
            let field = if field == "." {
                "body".to_string()
            } else {
                field
            };
            ApiError::invalid(&field, inner)
        })?;
        Ok(ApiJson { value, canonical })
    }
}

fn field_from_message(m: &str) -> Option<String> {
    for prefix in ["missing field `", "unknown field `"] {
        if let Some(rest) = m.strip_prefix(prefix) {
            return rest.split('`').next().map(str::to_string);
        }
    }
    None
}

/// A query-string extractor whose failures are JSON errors (422 naming `query`), like `ApiJson`.
pub struct ApiQuery<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| ApiQuery(q.0))
            .map_err(|e| {
                ApiError::invalid(
                    "query",
                    format!("the query string is not valid: {}", e.body_text()),
                )
            })
    }
}

/// Path parameters with the API's JSON errors: a segment that does not parse (an id that is not
/// a number) is a 422 naming the path, not axum's plain-text 400.
pub struct ApiPath<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e| {
                ApiError::invalid("path", format!("the path is not valid: {}", e.body_text()))
            })
    }
}

/// An optional JSON body: no body at all (no content type and no length) is `None`; anything
/// else must be valid JSON of the type, with the same errors as `ApiJson`.
impl<S, T> axum::extract::OptionalFromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, ApiError> {
        let h = req.headers();
        let empty = !h.contains_key(header::CONTENT_TYPE)
            && h.get(header::CONTENT_LENGTH)
                .is_none_or(|l| l.as_bytes() == b"0");
        if empty {
            return Ok(None);
        }
        <ApiJson<T> as FromRequest<S>>::from_request(req, state)
            .await
            .map(Some)
    }
}

impl From<efine_core::text::TextError> for ApiError {
    fn from(e: efine_core::text::TextError) -> Self {
        ApiError::invalid(&e.field.clone(), e.to_string())
    }
}

/// A required free-text field of this kind (`efine_core::text`): trimmed, 1 to `max_chars`
/// characters; a 422 naming `field` otherwise.
pub fn free_text(
    field: &str,
    value: &str,
    kind: efine_core::text::TextKind,
    max_chars: usize,
) -> Result<String, ApiError> {
    Ok(efine_core::text::FreeText::parse(field, value, kind, max_chars)?.into_string())
}

/// An optional free-text field: absent or blank is `None`.
pub fn opt_free_text(
    field: &str,
    value: Option<&str>,
    kind: efine_core::text::TextKind,
    max_chars: usize,
) -> Result<Option<String>, ApiError> {
    Ok(
        efine_core::text::FreeText::parse_optional(field, value, kind, max_chars)?
            .map(efine_core::text::FreeText::into_string),
    )
}
