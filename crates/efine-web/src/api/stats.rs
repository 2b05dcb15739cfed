//! Statistics (staff, scoped by role), the public transparency figures and the live-update
//! stream. Every table is also CSV with `?format=csv`.

use crate::auth::Staff;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::stats::{
    self, AnomalyView, ForecastView, HotspotView, RailView, SummaryRowView, TransparencyView,
    TrendPoint,
};
use crate::AppState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use efine_store::ops::stats::{Dim, Scope};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// district (default), department, offence or officer.
    pub group_by: Option<String>,
    /// First local issue date included, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last local issue date included, `YYYY-MM-DD`.
    pub to: Option<String>,
    /// json (default) or csv.
    pub format: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryView {
    pub group_by: String,
    pub from: Option<String>,
    pub to: Option<String>,
    /// Largest first.
    pub rows: Vec<SummaryRowView>,
    pub total: SummaryRowView,
}

/// Issued, paid, compliance and amounts per district, department, offence or officer, for the
/// challans issued in the range. Officers, supervisors and department admins see their own
/// department (and district); finance, auditors and admins everything.
#[utoipa::path(get, path = "/api/v1/stats/summary", tag = "statistics",
    params(SummaryQuery),
    responses(
        (status = 200, description = "JSON, or CSV with format=csv",
            content((SummaryView = "application/json"), (String = "text/csv"))),
        (status = 401, body = ErrorBody),
        (status = 422, description = "bad group_by, from, to or format", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn get_summary(
    State(state): State<AppState>,
    Staff(who): Staff,
    ApiQuery(q): ApiQuery<SummaryQuery>,
) -> ApiResult<Response> {
    let dim = match q.group_by.as_deref() {
        None => Dim::District,
        Some(g) => Dim::parse(g).ok_or_else(|| {
            ApiError::invalid(
                "group_by",
                "group_by is district, department, offence or officer",
            )
        })?,
    };
    let range = stats::parse_range(q.from.as_deref(), q.to.as_deref())?;
    let csv = stats::wants_csv(q.format.as_deref())?;
    let rows = stats::summary(&state, dim, Scope::for_principal(&who), range).await?;
    let total = SummaryRowView::new(None, stats::total(&rows));
    let rows: Vec<SummaryRowView> = rows
        .into_iter()
        .map(|r| SummaryRowView::new(Some(dim), r))
        .collect();
    if csv {
        let (header, lines) = stats::tables::summary(&rows, &total);
        return Ok(stats::csv(
            &format!("summary-by-{}", dim.as_str()),
            header,
            lines,
        ));
    }
    Ok(Json(SummaryView {
        group_by: dim.as_str().into(),
        from: range.from.map(|d| d.to_string()),
        to: range.to.map(|d| d.to_string()),
        rows,
        total,
    })
    .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrendsQuery {
    /// day (default) or week (weeks start on Monday).
    pub period: Option<String>,
    /// Default: 89 days before `to`.
    pub from: Option<String>,
    /// Default: today.
    pub to: Option<String>,
    pub format: Option<String>,
}

/// Challans issued and paid, payments and money received per day or week.
#[utoipa::path(get, path = "/api/v1/stats/trends", tag = "statistics",
    params(TrendsQuery),
    responses(
        (status = 200, body = Vec<TrendPoint>),
        (status = 401, body = ErrorBody),
        (status = 422, description = "bad period, from, to or format", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn get_trends(
    State(state): State<AppState>,
    Staff(who): Staff,
    ApiQuery(q): ApiQuery<TrendsQuery>,
) -> ApiResult<Response> {
    let weekly = match q.period.as_deref() {
        None | Some("day") => false,
        Some("week") => true,
        Some(_) => return Err(ApiError::invalid("period", "period is day or week")),
    };
    let range = stats::parse_range(q.from.as_deref(), q.to.as_deref())?;
    let csv = stats::wants_csv(q.format.as_deref())?;
    let points = stats::trends(&state, Scope::for_principal(&who), range, weekly).await?;
    if csv {
        let (header, lines) = stats::tables::trends(&points);
        return Ok(stats::csv(
            if weekly {
                "trends-weekly"
            } else {
                "trends-daily"
            },
            header,
            lines,
        ));
    }
    Ok(Json(points).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub format: Option<String>,
}

/// Payments and money received per rail (by payment date).
#[utoipa::path(get, path = "/api/v1/stats/rails", tag = "statistics",
    params(RangeQuery),
    responses(
        (status = 200, body = Vec<RailView>),
        (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn get_rails(
    State(state): State<AppState>,
    Staff(who): Staff,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> ApiResult<Response> {
    let range = stats::parse_range(q.from.as_deref(), q.to.as_deref())?;
    let csv = stats::wants_csv(q.format.as_deref())?;
    let rails = stats::rails(&state, Scope::for_principal(&who), range).await?;
    if csv {
        let (header, lines) = stats::tables::rails(&rails);
        return Ok(stats::csv("collections-by-rail", header, lines));
    }
    Ok(Json(rails).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    pub format: Option<String>,
}

/// The 200 busiest location cells (about 1 km square), most challans first.
#[utoipa::path(get, path = "/api/v1/stats/hotspots", tag = "statistics",
    params(FormatQuery),
    responses(
        (status = 200, body = Vec<HotspotView>),
        (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn get_hotspots(
    State(state): State<AppState>,
    Staff(who): Staff,
    ApiQuery(q): ApiQuery<FormatQuery>,
) -> ApiResult<Response> {
    let csv = stats::wants_csv(q.format.as_deref())?;
    let cells = stats::hotspots(&state, Scope::for_principal(&who), 200).await?;
    if csv {
        let (header, lines) = stats::tables::hotspots(&cells);
        return Ok(stats::csv("hotspots", header, lines));
    }
    Ok(Json(cells).into_response())
}

/// Explainable anomaly flags: officers whose rate of cancellation requests, reductions, cash
/// payments, off-hours issuance or repeated plates is far above their peers' (robust z-score over
/// 3.5 from the median and MAD, officers with at least 20 challans in the range), and districts
/// whose last full week's collections fell far below the eight weeks before.
#[utoipa::path(get, path = "/api/v1/stats/anomalies", tag = "statistics",
    params(RangeQuery),
    responses(
        (status = 200, body = Vec<AnomalyView>),
        (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn get_anomalies(
    State(state): State<AppState>,
    Staff(who): Staff,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> ApiResult<Response> {
    let range = stats::parse_range(q.from.as_deref(), q.to.as_deref())?;
    let csv = stats::wants_csv(q.format.as_deref())?;
    let flags: Vec<AnomalyView> = stats::anomalies(&state, Scope::for_principal(&who), range)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    if csv {
        let (header, lines) = stats::tables::anomalies(&flags);
        return Ok(stats::csv("anomalies", header, lines));
    }
    Ok(Json(flags).into_response())
}

/// Collections forecast for the next 30 days (Holt-Winters, weekly seasonality) with a 95%
/// interval and the error of the same method on the most recent weeks held out.
#[utoipa::path(get, path = "/api/v1/stats/forecast", tag = "statistics",
    params(FormatQuery),
    responses(
        (status = 200, body = ForecastView),
        (status = 401, body = ErrorBody),
        (status = 404, description = "fewer than 16 days of collections", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn get_forecast(
    State(state): State<AppState>,
    Staff(who): Staff,
    ApiQuery(q): ApiQuery<FormatQuery>,
) -> ApiResult<Response> {
    let csv = stats::wants_csv(q.format.as_deref())?;
    let f = stats::forecast(&state, Scope::for_principal(&who))
        .await?
        .ok_or_else(|| ApiError::not_found("forecast (fewer than 16 days of collections)"))?;
    if csv {
        let (header, lines) = stats::tables::forecast(&f);
        return Ok(stats::csv("forecast", header, lines));
    }
    Ok(Json(f).into_response())
}

/// Public: challans issued and paid, compliance and money collected per district, for anyone.
#[utoipa::path(get, path = "/api/v1/public/transparency", tag = "public",
    params(FormatQuery),
    responses(
        (status = 200, body = TransparencyView),
        (status = 422, body = ErrorBody),
    ))]
pub async fn get_transparency(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<FormatQuery>,
) -> ApiResult<Response> {
    let csv = stats::wants_csv(q.format.as_deref())?;
    let t = stats::transparency(&state).await?;
    if csv {
        return Ok(stats::csv(
            "transparency",
            &[
                "district_code",
                "name",
                "issued",
                "paid",
                "compliance_percent",
                "collected_paisa",
            ],
            t.rows
                .iter()
                .chain(std::iter::once(&t.total))
                .map(|r| {
                    vec![
                        r.district_code.clone(),
                        r.name.clone(),
                        r.issued.to_string(),
                        r.paid.to_string(),
                        format!("{:.2}", r.compliance_percent),
                        r.collected.to_string(),
                    ]
                })
                .collect(),
        ));
    }
    Ok(Json(t).into_response())
}

/// Server-sent events: a `change` event with the event log's last sequence number now and
/// whenever it moves (a challan issued, a payment credited, on any node sharing the database).
/// Public and carries nothing but that number: pages re-read their figures when it moves.
pub async fn stream_changes(
    State(state): State<AppState>,
) -> ApiResult<Sse<impl futures_util::Stream<Item = Result<Event, std::convert::Infallible>>>> {
    let rx = state.live.subscribe(&state.store);
    let now = state.store.read(efine_store::ops::stats::last_seq).await?;
    let event = |seq: i64| {
        Ok(Event::default()
            .event("change")
            .data(format!("{{\"seq\":{seq}}}")))
    };
    let stream = futures_util::stream::unfold(
        (rx, Some(now), now),
        move |(mut rx, first, last)| async move {
            if let Some(seq) = first {
                return Some((event(seq), (rx, None, last)));
            }
            loop {
                rx.changed().await.ok()?;
                let seq = *rx.borrow_and_update();
                if seq > last {
                    return Some((event(seq), (rx, None, seq)));
                }
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// This resource's routes, with their OpenAPI description.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use axum::routing::get;
    use utoipa_axum::router::OpenApiRouter;
    use utoipa_axum::routes;
    OpenApiRouter::new()
        .routes(routes!(get_summary))
        .routes(routes!(get_trends))
        .routes(routes!(get_rails))
        .routes(routes!(get_hotspots))
        .routes(routes!(get_anomalies))
        .routes(routes!(get_forecast))
        .routes(routes!(get_transparency))
        // Server-sent events: not a JSON document, so not in the OpenAPI description.
        .route("/api/v1/stats/stream", get(stream_changes))
}
