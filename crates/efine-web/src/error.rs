//! API errors: `{"error": {"code", "message", "field"?, "request_id"?}}` with the right status.
//! A 5xx never carries internals: the cause is logged, the caller gets an opaque message.
//!
//! Two kinds of 5xx are kept apart. A database that cannot do the work now (`Unavailable` from
//! the store: connection lost, disk full, locked) is a 503 with `Retry-After`: nothing was
//! written and the same request may be sent again. Anything else is a bug: a 500 whose random
//! request id is logged with the cause and shown to the caller (body and `X-Request-Id`), so a
//! report can be matched to its log line. HTML pages get both as a short page in the reader's
//! language (`pages::error_page`), told apart by the [`ServerError`] extension on the response.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use efine_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// The header that carries the request id (on every response; a 500's body repeats it).
pub const REQUEST_ID: header::HeaderName = header::HeaderName::from_static("x-request-id");

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable code, e.g. `invalid_field`, `not_found`.
    pub code: String,
    pub message: String,
    /// The request field at fault, where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// On a 500: the id under which the cause was logged (also in `X-Request-Id`); quote it
    /// when reporting the problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Seconds a client is asked to wait before retrying after a 503.
pub const RETRY_AFTER_SECS: u32 = 5;

/// Marks a 5xx response so that an HTML page can be put in place of the JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerError {
    /// The database is unavailable for now; nothing was written.
    Unavailable,
    /// A bug, logged under this request id.
    Internal { request_id: String },
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub field: Option<String>,
    /// Set on a 500: the id its log line carries.
    pub request_id: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
            field: None,
            request_id: None,
        }
    }
    pub fn field(mut self, field: &str) -> Self {
        self.field = Some(field.into());
        self
    }
    /// 422 naming the field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message).field(field)
    }
    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn not_found(what: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }
    pub fn unauthorized(message: &str) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    /// A bug: logged with a fresh request id that the response also carries.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let request_id = new_request_id();
        tracing::error!(%request_id, %cause, "internal error");
        let mut e = ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on our side; nothing was changed, please try again",
        );
        e.request_id = Some(request_id);
        e
    }
    /// The database cannot do the work now: 503, nothing written, retry shortly.
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::warn!(%cause, "database unavailable; answered 503");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the service cannot reach its database just now; nothing was written; \
             try again in a moment",
        )
    }
}

tokio::task_local! {
    /// The id of the request being served: set by the access-log middleware
    /// (`metrics::observe`) for the whole of a request, so that a 500 shows the id its access
    /// line and every log line of the request carry.
    pub static CURRENT_REQUEST_ID: String;
}

/// 16 random hex digits: enough to find one log line, nothing about the request.
pub fn fresh_request_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// The current request's id, or a fresh one outside a request.
fn new_request_id() -> String {
    CURRENT_REQUEST_ID
        .try_with(|id| id.clone())
        .unwrap_or_else(|_| fresh_request_id())
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid { field, message } => ApiError::invalid(&field, message),
            StoreError::NotFound(what) => ApiError::not_found(&what),
            StoreError::Conflict { code, message } => {
                ApiError::new(StatusCode::CONFLICT, &code, message)
            }
            StoreError::Forbidden(m) => ApiError::forbidden(m),
            StoreError::Refused { code, message } => {
                ApiError::new(StatusCode::FORBIDDEN, &code, message)
            }
            StoreError::Unavailable(_) => ApiError::unavailable(e),
            StoreError::Corrupt(_) | StoreError::Db(_) => ApiError::internal(e),
        }
    }
}

impl From<efine_service::ServiceError> for ApiError {
    fn from(e: efine_service::ServiceError) -> Self {
        use efine_service::ServiceError as S;
        match e {
            S::Invalid { field, message } => ApiError::invalid(&field, message),
            S::Forbidden(m) => ApiError::forbidden(m),
            S::Store(e) => e.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let request_id = self.request_id.clone();
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                field: self.field,
                request_id: self.request_id,
            },
        };
        let mut resp = (status, axum::Json(body)).into_response();
        let headers = resp.headers_mut();
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"efine\""),
            );
        }
        let marker = if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
            Some(ServerError::Unavailable)
        } else if let Some(id) = request_id {
            if let Ok(v) = HeaderValue::from_str(&id) {
                headers.insert(REQUEST_ID, v);
            }
            Some(ServerError::Internal { request_id: id })
        } else {
            None
        };
        if let Some(m) = marker {
            resp.extensions_mut().insert(m);
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
