//! The staff dashboard (`/dashboard`, behind the console login, scoped like the statistics API)
//! and the public transparency page (`/transparency`), English and Urdu. Charts are SVG drawn on
//! the server ([`charts`]); the only script listens to `/api/v1/stats/stream` and reloads the
//! page when the event log moves. The figures come from [`crate::stats`], which the JSON
//! statistics endpoints read too.

pub mod charts;
pub mod figures;
pub mod filters;
pub(crate) mod parts;
pub mod transparency;

use crate::error::{ApiError, ApiResult};
use crate::i18n::Lang;
use crate::pages::console::session::ConsoleSession;
use crate::stats::{self, tables, AnomalyView, SummaryRowView};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::Uri;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use efine_core::auth::Principal;
use efine_core::clock::karachi_date;
use efine_store::ops::stats::{last_seq, Dim};
use figures::Dashboard;
use filters::{DashQuery, Filters};

/// `/dashboard`, its CSV downloads, and `/transparency`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(dashboard_page))
        .route("/dashboard/csv/{table}", get(dashboard_csv))
        .route("/transparency", get(transparency_page))
}

/// The catalogue's districts and departments (code, English name, Urdu name), for the filters
/// and the district tile map.
pub type Names = Vec<(String, String, String)>;

async fn catalogue_names(state: &AppState) -> ApiResult<(Names, Names)> {
    Ok(state
        .store
        .read(|tx| {
            let ds = efine_store::ops::catalogue::districts(tx)?
                .into_iter()
                .map(|d| (d.code.to_string(), d.name_en, d.name_ur))
                .collect();
            let deps = efine_store::ops::catalogue::departments(tx)?
                .into_iter()
                .map(|d| (d.code.to_string(), d.name_en, d.name_ur))
                .collect();
            Ok((ds, deps))
        })
        .await?)
}

async fn filters_for(
    state: &AppState,
    session: &ConsoleSession,
    q: &DashQuery,
) -> ApiResult<(Filters, Names, Names)> {
    let (districts, departments) = catalogue_names(state).await?;
    let codes = |v: &Names| v.iter().map(|(c, _, _)| c.clone()).collect::<Vec<_>>();
    let f = Filters::parse(
        q,
        &session.principal,
        karachi_date(state.store.now()),
        session.lang,
        &codes(&districts),
        &codes(&departments),
    );
    Ok((f, districts, departments))
}

/// `GET /dashboard`: the staff dashboard, behind the console login, for the range, district
/// and department in the address.
pub async fn dashboard_page(
    State(state): State<AppState>,
    session: ConsoleSession,
    uri: Uri,
    Query(q): Query<DashQuery>,
) -> Response {
    let built = async {
        let (f, districts, departments) = filters_for(&state, &session, &q).await?;
        dashboard_data(&state, &session.principal, f, districts, departments).await
    };
    let dep = session.principal.reach().department.cloned();
    let fees = state
        .store
        .read(move |tx| efine_store::ops::fees::counts_by_service(tx, dep.as_ref()))
        .await;
    match (built.await, fees) {
        (Ok(d), Ok(fees)) => session.page(
            &crate::i18n::here(&uri),
            figures::dashboard_title(session.lang),
            maud::html! {
                (figures::dashboard(&d, session.lang, &session.principal))
                (crate::pages::portal::fees::by_service(session.lang, &fees))
            },
        ),
        (Err(e), _) => e.into_response(),
        (_, Err(e)) => crate::error::ApiError::from(e).into_response(),
    }
}

async fn dashboard_data(
    state: &AppState,
    who: &Principal,
    f: Filters,
    district_names: Names,
    department_names: Names,
) -> ApiResult<Dashboard> {
    let scope = f.scope.clone();
    let range = f.range;
    let district_rows = stats::summary(state, Dim::District, scope.clone(), range).await?;
    let total = SummaryRowView::new(None, stats::total(&district_rows));
    let offences = stats::summary(state, Dim::Offence, scope.clone(), range)
        .await?
        .into_iter()
        .map(|r| SummaryRowView::new(Some(Dim::Offence), r))
        .collect();
    Ok(Dashboard {
        seq: state.store.read(last_seq).await?,
        user: who.username.clone(),
        districts: district_rows
            .into_iter()
            .map(|r| SummaryRowView::new(Some(Dim::District), r))
            .collect(),
        offences,
        total,
        daily: stats::trends(state, scope.clone(), range, false).await?,
        weekly: stats::trends(state, scope.clone(), range, true).await?,
        rails: stats::rails(state, scope.clone(), range).await?,
        hotspots: stats::hotspots(state, scope.clone(), 400).await?,
        anomalies: stats::anomalies(state, scope.clone(), range)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
        forecast: stats::forecast(state, scope).await?,
        filters: f,
        district_names,
        department_names,
        device_flags: {
            let reach = who.reach();
            let (dep, dis) = (reach.department.cloned(), reach.district.cloned());
            state
                .store
                .read(move |tx| {
                    efine_store::ops::devices::anomalies(tx, dep.as_ref(), dis.as_ref())
                })
                .await?
        },
    })
}

#[derive(Debug, serde::Deserialize, Default)]
pub struct CsvQuery {
    #[serde(flatten)]
    filters: DashQuery,
    /// `1`: with a byte order mark, for spreadsheet programs (Excel) to read UTF-8.
    excel: Option<String>,
}

/// `GET /dashboard/csv/{table}`: every table of the dashboard as CSV, with the console session
/// and the dashboard's filters (the JSON API's `?format=csv` wants a bearer token, which a
/// browser does not send). Tables: `district`, `department`, `offence`, `officer`, `daily`,
/// `weekly`, `rails`, `hotspots`, `anomalies`, `forecast`.
pub async fn dashboard_csv(
    State(state): State<AppState>,
    session: ConsoleSession,
    Path(table): Path<String>,
    Query(q): Query<CsvQuery>,
) -> Response {
    let excel = q.excel.as_deref() == Some("1");
    let made = async {
        let (f, _, _) = filters_for(&state, &session, &q.filters).await?;
        let (scope, range) = (f.scope.clone(), f.range);
        let table = table.strip_suffix(".csv").unwrap_or(&table);
        let (name, (header, rows)) = match table {
            "district" | "department" | "offence" | "officer" => {
                let dim = Dim::parse(table).ok_or_else(|| ApiError::not_found("table"))?;
                let rows = stats::summary(&state, dim, scope, range).await?;
                let total = SummaryRowView::new(None, stats::total(&rows));
                let rows: Vec<_> = rows
                    .into_iter()
                    .map(|r| SummaryRowView::new(Some(dim), r))
                    .collect();
                (
                    format!("summary-by-{table}"),
                    tables::summary(&rows, &total),
                )
            }
            "daily" | "weekly" => {
                let points = stats::trends(&state, scope, range, table == "weekly").await?;
                (format!("trends-{table}"), tables::trends(&points))
            }
            "rails" => (
                "collections-by-rail".into(),
                tables::rails(&stats::rails(&state, scope, range).await?),
            ),
            "hotspots" => (
                "hotspots".into(),
                tables::hotspots(&stats::hotspots(&state, scope, 200).await?),
            ),
            "anomalies" => {
                let flags: Vec<AnomalyView> = stats::anomalies(&state, scope, range)
                    .await?
                    .into_iter()
                    .map(Into::into)
                    .collect();
                ("anomalies".into(), tables::anomalies(&flags))
            }
            "forecast" => {
                let f = stats::forecast(&state, scope).await?.ok_or_else(|| {
                    ApiError::not_found("forecast (fewer than 16 days of collections)")
                })?;
                ("forecast".into(), tables::forecast(&f))
            }
            _ => return Err(ApiError::not_found("table")),
        };
        let name = if excel { format!("{name}-excel") } else { name };
        Ok::<_, ApiError>(stats::csv_with(&name, header, rows, excel))
    };
    match made.await {
        Ok(r) => r,
        Err(e) if e.status == axum::http::StatusCode::NOT_FOUND => session.status_page(
            e.status,
            "/dashboard",
            crate::i18n::tr(session.lang, "portal.not_found"),
            maud::html! { p { (e.message) } },
        ),
        Err(e) => e.into_response(),
    }
}

/// `GET /transparency`: the public figures per district.
pub async fn transparency_page(
    State(state): State<AppState>,
    lang: Lang,
) -> ApiResult<Html<String>> {
    let t = stats::transparency(&state).await?;
    let seq = state.store.read(last_seq).await?;
    let head = state
        .store
        .read(efine_store::ops::log_heads::latest)
        .await?;
    let fees = state
        .store
        .read(|tx| efine_store::ops::fees::counts_by_service(tx, None))
        .await?;
    Ok(Html(
        crate::pages::shell::page(
            lang,
            "/transparency",
            transparency::transparency_title(lang),
            maud::html! {
                (transparency::transparency(&t, seq, head.as_ref(), lang))
                (crate::pages::portal::fees::by_service(lang, &fees))
            },
        )
        .into_string(),
    ))
}
