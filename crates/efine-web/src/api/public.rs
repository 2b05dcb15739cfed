use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::views::{today, LookupRequest, LookupResponse, PublicChallanView};
use crate::AppState;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use efine_core::challan::ChallanStatus;
use efine_core::{ChallanNumber, Cnic, Money, Psid, VehicleNumber};
use efine_store::ops::challans;
use std::net::SocketAddr;

enum Key {
    Number(ChallanNumber),
    Psid(Psid),
}

/// A PSID is all digits (spaces and dashes allowed); anything else is read as a challan number.
fn parse_key(s: &str) -> ApiResult<Key> {
    let digits_only = s
        .chars()
        .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
        && s.chars().any(|c| c.is_ascii_digit());
    if digits_only {
        Psid::parse(s)
            .map(Key::Psid)
            .map_err(|e| ApiError::invalid("psid", e.0))
    } else {
        ChallanNumber::parse(s)
            .map(Key::Number)
            .map_err(|e| ApiError::invalid("challan_number", e.0))
    }
}

/// What a citizen may see of a challan, found by challan number or PSID: the amount due today,
/// the due date, the status, and masked personal data.
#[utoipa::path(get, path = "/api/v1/public/challans/{key}", tag = "public",
    params(
        ("key" = String, Path, description = "a challan number (TRF-PSH-2026-004219) or a PSID"),
        OnQuery,
    ),
    responses(
        (status = 200, body = PublicChallanView),
        (status = 404, description = "no such challan", body = ErrorBody),
        (status = 422, description = "not a challan number, a PSID whose check digit fails, or `on` not a date (YYYY-MM-DD)", body = ErrorBody),
    ))]
pub async fn get_public_challan(
    State(state): State<AppState>,
    Path(key): Path<String>,
    ApiQuery(q): ApiQuery<OnQuery>,
) -> ApiResult<Json<PublicChallanView>> {
    let key = parse_key(&key)?;
    let on = match q.on.as_deref().map(str::trim) {
        None | Some("") => today(state.store.now()),
        Some(s) => time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
            .map_err(|_| ApiError::invalid("on", format!("'{s}' is not a date: use YYYY-MM-DD")))?,
    };
    let found = state
        .store
        .read(move |tx| {
            let find = match key {
                Key::Number(n) => challans::Find::Number(n),
                Key::Psid(p) => challans::Find::Psid(p),
            };
            Ok(challans::detailed(tx, &find, 1)?.into_iter().next())
        })
        .await?;
    let (c, names, paid) = found.ok_or_else(|| ApiError::not_found("challan"))?;
    let issued_on = efine_core::clock::karachi_date(c.issued_at);
    if on < issued_on {
        return Err(ApiError::invalid(
            "on",
            format!("{on} is before the challan was issued ({issued_on})"),
        ));
    }
    Ok(Json(PublicChallanView::new(c, names, paid, on)))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OnQuery {
    /// A local day, YYYY-MM-DD: the amount due if paid that day (default today).
    pub on: Option<String>,
}

/// A vehicle's or a person's challans, masked. The identifier travels in the body so it never
/// lands in a URL or an access log. Rate-limited per client address.
#[utoipa::path(post, path = "/api/v1/public/lookup", tag = "public",
    request_body = LookupRequest,
    responses(
        (status = 200, body = LookupResponse),
        (status = 422, description = "neither or both of vehicle and cnic, or not valid", body = ErrorBody),
        (status = 429, description = "too many lookups from this address; see Retry-After", body = ErrorBody),
    ))]
pub async fn lookup(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: ApiJson<LookupRequest>,
) -> ApiResult<Response> {
    if let Err(wait) = state.lookup_limiter.check(peer.ip()) {
        let mut resp = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many lookups from your address; please wait a minute",
        )
        .into_response();
        if let Ok(v) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Ok(resp);
    }
    let req = body.value;
    let blank = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or("").is_empty();
    let by = match (blank(&req.vehicle), blank(&req.cnic)) {
        (false, true) => {
            let v = req.vehicle.as_deref().unwrap_or_default();
            Ok(VehicleNumber::parse(v).map_err(|e| ApiError::invalid("vehicle", e.0))?)
        }
        (true, false) => {
            let c = req.cnic.as_deref().unwrap_or_default();
            Err(Cnic::parse(c).map_err(|e| ApiError::invalid("cnic", e.0))?)
        }
        _ => {
            return Err(ApiError::invalid(
                "vehicle",
                "give exactly one of vehicle or cnic",
            ))
        }
    };
    let found = state
        .store
        .read(move |tx| {
            let find = match by {
                Ok(v) => challans::Find::Vehicle(v),
                Err(c) => challans::Find::Cnic(c),
            };
            challans::detailed(tx, &find, 100)
        })
        .await?;
    let day = today(state.store.now());
    let views: Vec<PublicChallanView> = found
        .into_iter()
        .map(|(c, n, paid)| PublicChallanView::new(c, n, paid, day))
        .collect();
    let total = views
        .iter()
        .filter(|v| v.status == ChallanStatus::Unpaid.as_str())
        .try_fold(Money::ZERO, |acc, v| {
            Money::from_paisa(v.amount_due)
                .ok()
                .and_then(|m| acc.checked_add(m))
        })
        .ok_or_else(|| ApiError::internal("total due overflowed"))?;
    Ok(Json(LookupResponse {
        count: views.len(),
        total_due: total.paisa(),
        total_due_display: total.to_string(),
        challans: views,
    })
    .into_response())
}

/// This resource's routes, with their OpenAPI description.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::router::OpenApiRouter;
    use utoipa_axum::routes;
    OpenApiRouter::new()
        .routes(routes!(get_public_challan))
        .routes(routes!(lookup))
}
