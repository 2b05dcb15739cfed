use crate::auth::Staff;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::views::{today, ChallanView, IssueChallanRequest, IssuedChallanView};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use efine_core::auth::{self, Action};
use efine_core::challan::Challan;
use efine_core::clock::karachi_date;
use efine_core::ChallanNumber;
use efine_store::ops::idempotency::{self, Processing, Scope};
use efine_store::ops::{catalogue, challans, events};
use efine_store::{IdempotencyKey, SavedResponse};

fn idempotency_key(headers: &HeaderMap, canonical_body: &str) -> ApiResult<Option<IdempotencyKey>> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = v
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::bad_request(
                "bad_idempotency_key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )
            .field("Idempotency-Key")
        })?;
    Ok(Some(IdempotencyKey {
        key: key.to_string(),
        request_hash: idempotency::body_hash(canonical_body.as_bytes()),
    }))
}

/// The 201 body, rendered inside the issuing transaction so an idempotent replay returns the same
/// token.
fn render(state: &AppState, c: &Challan) -> SavedResponse {
    let token = state.keys.current().signer.sign_challan(c);
    let url = crate::verify::verify_url(state, &token);
    let view = IssuedChallanView::new(c, karachi_date(c.issued_at), token, url);
    SavedResponse {
        status: 201,
        body: serde_json::to_string(&view).unwrap_or_default(),
    }
}

/// Issues a challan (officers, for their own department and district). The amount and due date
/// come from the catalogue. With an `Idempotency-Key`, a retry of the same request returns the
/// first response; the same key with another body is refused.
#[utoipa::path(post, path = "/api/v1/challans", tag = "challans",
    request_body = IssueChallanRequest,
    params(("Idempotency-Key" = Option<String>, Header,
        description = "Makes retries safe: same key and body return the first response.")),
    responses(
        (status = 201, description = "issued (or the replay of an earlier identical request)", body = IssuedChallanView),
        (status = 400, description = "malformed JSON", body = ErrorBody),
        (status = 401, description = "no or bad token", body = ErrorBody),
        (status = 403, description = "not an officer, or outside the officer's department or district", body = ErrorBody),
        (status = 409, description = "Idempotency-Key reused with another body", body = ErrorBody),
        (status = 413, description = "body too large", body = ErrorBody),
        (status = 422, description = "a field is invalid; `field` names it", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn issue_challan(
    State(state): State<AppState>,
    Staff(officer): Staff,
    headers: HeaderMap,
    body: ApiJson<IssueChallanRequest>,
) -> ApiResult<Response> {
    officer
        .may(Action::IssueChallan, &auth::Scope::ANY)
        .map_err(|d| ApiError::forbidden(d.to_string()))?;
    let idem = idempotency_key(&headers, &body.canonical)?;
    let new = body.value.into_new(&officer)?;
    let now = state.store.now();
    let st = state.clone();
    // One write: a replay, or the challan with its response saved against the key.
    let (response, replayed) = state
        .store
        .write(move |tx| {
            let scope = Scope::api(officer.user_id);
            if let Some(k) = &idem {
                if let Processing::Replay(saved) = idempotency::try_processing(tx, &scope, k)? {
                    return Ok((saved, true));
                }
            }
            let c = challans::issue(tx, &officer, &new, now)?;
            let response = render(&st, &c);
            if let Some(k) = &idem {
                idempotency::save_response(tx, &scope, k, &response, now)?;
            }
            Ok((response, false))
        })
        .await?;
    let mut resp = (
        StatusCode::from_u16(response.status).unwrap_or(StatusCode::CREATED),
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        response.body,
    )
        .into_response();
    if replayed {
        resp.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(resp)
}

/// The full record with its event history, for staff whose scope covers it. A challan outside
/// the caller's department or district is reported as not found.
#[utoipa::path(get, path = "/api/v1/challans/{challan_number}", tag = "challans",
    params(("challan_number" = String, Path, description = "e.g. TRF-PSH-2026-004219")),
    responses(
        (status = 200, body = ChallanView),
        (status = 401, description = "no or bad token", body = ErrorBody),
        (status = 404, description = "no such challan in your scope", body = ErrorBody),
        (status = 422, description = "not a challan number", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn get_challan(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(number): Path<String>,
) -> ApiResult<Json<ChallanView>> {
    let number =
        ChallanNumber::parse(&number).map_err(|e| ApiError::invalid("challan_number", e.0))?;
    let found = state
        .store
        .read(move |tx| {
            let Some(c) = challans::by_number(tx, &number)? else {
                return Ok(None);
            };
            if who
                .may(
                    Action::ReadChallan,
                    &auth::Scope::of(&c.department, &c.district),
                )
                .is_err()
            {
                return Ok(None);
            }
            let names = catalogue::names_for(tx, &c)?;
            let evs = events::for_subject(tx, &c.number.to_string())?;
            let paid = efine_store::ops::payments::receipt_for_challan(tx, &c.number.to_string())?;
            Ok(Some((c, names, paid, evs)))
        })
        .await?;
    let (c, names, paid, evs) = found.ok_or_else(|| ApiError::not_found("challan"))?;
    Ok(Json(ChallanView::new(
        c,
        names,
        paid,
        evs,
        today(state.store.now()),
    )))
}

/// This resource's routes, with their OpenAPI description.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::router::OpenApiRouter;
    use utoipa_axum::routes;
    OpenApiRouter::new()
        .routes(routes!(issue_challan))
        .routes(routes!(get_challan))
}
