//! The staff dashboard (`/dashboard`, behind the console login, scoped like the statistics API)
//! and the public transparency page (`/transparency`), English and Urdu. Charts are SVG drawn on
//! the server ([`charts`]); the only script listens to `/api/v1/stats/stream` and reloads the
//! page when the event log moves. The figures come from [`crate::stats`], which the JSON
//! statistics endpoints read too.

pub mod charts;
pub mod figures;
pub(crate) mod parts;
pub mod transparency;

use crate::error::ApiResult;
use crate::i18n::Lang;
use crate::pages::console::session::ConsoleSession;
use crate::stats::{self, SummaryRowView};
use crate::AppState;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use efine_core::auth::Principal;
use efine_store::ops::stats::{last_seq, Dim, Range, Scope};
use figures::Dashboard;

/// `/dashboard` and `/transparency`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(dashboard_page))
        .route("/transparency", get(transparency_page))
}

/// `GET /dashboard`: the staff dashboard, behind the console login.
pub async fn dashboard_page(State(state): State<AppState>, session: ConsoleSession) -> Response {
    let dep = session.principal.reach().department.cloned();
    let fees = state
        .store
        .read(move |tx| efine_store::ops::fees::counts_by_service(tx, dep.as_ref()))
        .await;
    match (dashboard_data(&state, &session.principal).await, fees) {
        (Ok(d), Ok(fees)) => session.page(
            "/dashboard",
            figures::dashboard_title(session.lang),
            maud::html! {
                (figures::dashboard(&d, session.lang))
                (crate::pages::portal::fees::by_service(session.lang, &fees))
            },
        ),
        (Err(e), _) => e.into_response(),
        (_, Err(e)) => crate::error::ApiError::from(e).into_response(),
    }
}

async fn dashboard_data(state: &AppState, who: &Principal) -> ApiResult<Dashboard> {
    let scope = Scope::for_principal(who);
    let all = Range::default();
    let district_rows = stats::summary(state, Dim::District, scope.clone(), all).await?;
    let total = SummaryRowView::new(None, stats::total(&district_rows));
    let offences = stats::summary(state, Dim::Offence, scope.clone(), all)
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
        daily: stats::trends(state, scope.clone(), all, false).await?,
        weekly: stats::trends(state, scope.clone(), all, true).await?,
        rails: stats::rails(state, scope.clone(), all).await?,
        hotspots: stats::hotspots(state, scope.clone(), 400).await?,
        anomalies: stats::anomalies(state, scope.clone(), all)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
        forecast: stats::forecast(state, scope).await?,
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
