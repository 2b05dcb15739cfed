//! The published heads of the event log: the history anyone may save, the latest head, and
//! publishing one now (admins and auditors; a job also publishes daily).

use crate::auth::Staff;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::views::{LogHeadView, LogHeadsView};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use efine_core::auth::{Action, Scope};
use efine_store::keys::KeyError;
use efine_store::ops::log_heads::{self, Published};

/// Where the history is published; the transparency page links here.
pub const HISTORY_PATH: &str = "/api/v1/public/log-heads";

fn short_cache(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    resp
}

/// Every published head of the event log, oldest first, each signed with the signing key of
/// its day. Save this file: `efine audit verify --against FILE` proves later that the database
/// still holds every head in it (same sequence, same hash, valid signature).
#[utoipa::path(get, path = "/api/v1/public/log-heads", tag = "verification",
    responses(
        (status = 200, body = LogHeadsView),
        (status = 503, description = "the database is unavailable just now", body = ErrorBody),
    ))]
pub async fn list_log_heads(State(state): State<AppState>) -> ApiResult<Response> {
    let heads = efine_service::keys::heads(&state.store).await?;
    Ok(short_cache(
        Json(LogHeadsView {
            heads: heads.into_iter().map(Into::into).collect(),
            keys: "/.well-known/efine-keys.json".into(),
        })
        .into_response(),
    ))
}

/// The head of the event log as last published (404 before the first publication). The
/// history is at `/api/v1/public/log-heads`.
#[utoipa::path(get, path = "/api/v1/public/log-head", tag = "verification",
    responses(
        (status = 200, body = LogHeadView, headers(("Link" = String, description = "the history"))),
        (status = 404, description = "no head has been published yet", body = ErrorBody),
        (status = 503, description = "the database is unavailable just now", body = ErrorBody),
    ))]
pub async fn get_log_head(State(state): State<AppState>) -> ApiResult<Response> {
    let head = state
        .store
        .read(log_heads::latest)
        .await?
        .ok_or_else(|| ApiError::not_found("published log head"))?;
    let mut resp = short_cache(Json(LogHeadView::from(head)).into_response());
    resp.headers_mut().insert(
        header::LINK,
        HeaderValue::from_static("</api/v1/public/log-heads>; rel=\"history\""),
    );
    Ok(resp)
}

/// Signs the event log's current head and adds it to the history now (admins and auditors).
/// 201 with the new head; 200 with the last one when the log has not moved since.
#[utoipa::path(post, path = "/api/v1/log-heads", tag = "verification",
    responses(
        (status = 201, description = "a new head was published", body = LogHeadView),
        (status = 200, description = "the head has not moved since it was last published", body = LogHeadView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "only admins and auditors publish", body = ErrorBody),
        (status = 409, description = "`empty_log`: there is no event to sign yet", body = ErrorBody),
        (status = 503, description = "the database is unavailable just now", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn publish_log_head(
    State(state): State<AppState>,
    Staff(who): Staff,
) -> ApiResult<Response> {
    who.may(Action::PublishLogHead, &Scope::ANY)
        .map_err(|d| ApiError::forbidden(d.to_string()))?;
    let published = efine_service::keys::publish_head(&state.store, &state.keys, None)
        .await
        .map_err(|e| match e {
            KeyError::Store(e) => ApiError::from(e),
            other => ApiError::internal(other),
        })?;
    match published {
        Published::New(h) => Ok((StatusCode::CREATED, Json(LogHeadView::from(h))).into_response()),
        Published::Unchanged(h) | Published::NotDue(h) => {
            Ok(Json(LogHeadView::from(h)).into_response())
        }
        Published::Empty => Err(ApiError::new(
            StatusCode::CONFLICT,
            "empty_log",
            "the event log is empty: there is no head to publish yet",
        )),
    }
}

/// This resource's routes, with their OpenAPI description.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::router::OpenApiRouter;
    use utoipa_axum::routes;
    OpenApiRouter::new()
        .routes(routes!(list_log_heads))
        .routes(routes!(get_log_head))
        .routes(routes!(publish_log_head))
}
