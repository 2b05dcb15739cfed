//! `GET /metrics` (Prometheus text format) and the access log.
//!
//! Every request passes through [`observe`]: it gets a request id (kept for the request in
//! `error::CURRENT_REQUEST_ID`, so that a 500 shows the same id, and returned in `X-Request-Id`),
//! is counted by method, route template and status with its latency, and leaves one access-log
//! line at info (target `efine::access`) with those and the id. The route is the matched
//! template (`/c/{number}`), never the path as sent: no challan number, PSID or token reaches a
//! label or the log, and neither does a query string or a body.
//!
//! Who may scrape: `/metrics` is operational data (volumes, errors, timings), so it is off
//! unless a scrape token is set (`metrics_token` in efine.toml or `EFINE_METRICS_TOKEN`, a secret
//! like the others); the scraper sends it as `Authorization: Bearer <token>`. Without the token
//! set the path answers 404; with a wrong or missing token, 401.

use crate::error::{ApiError, CURRENT_REQUEST_ID, REQUEST_ID};
use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use efine_store::metrics::{gauge, Counters, Histograms, SECONDS};
use std::time::Instant;
use tracing::Instrument;

/// The token a scraper must present. Never printed.
#[derive(Clone)]
pub struct MetricsToken(String);

impl MetricsToken {
    pub fn new(token: impl Into<String>) -> MetricsToken {
        MetricsToken(token.into())
    }
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken([redacted])")
    }
}

/// The HTTP layer's figures.
pub struct HttpMetrics {
    /// By method, route template and status.
    pub requests: Counters,
    /// By route template.
    pub latency: Histograms,
    /// Failed staff sign-ins, by where: `api` (token) or `console` (browser).
    pub login_failures: Counters,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        HttpMetrics {
            requests: Counters::new(&["method", "route", "status"]),
            latency: Histograms::new(&["route"], SECONDS),
            login_failures: Counters::new(&["via"]),
        }
    }
}

/// The label for requests that matched no route (the path itself is never a label).
pub const UNMATCHED: &str = "unmatched";

/// Middleware: request id, counts, latency and the access-log line. Applied with
/// `Router::layer`, so it runs per route and sees the matched template.
pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = crate::error::fresh_request_id();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
        .to_string();
    let method = req.method().clone();
    let span = tracing::info_span!("request", request_id = %id);
    let mut resp = CURRENT_REQUEST_ID
        .scope(id.clone(), next.run(req).instrument(span))
        .await;
    let took = started.elapsed();
    let status = resp.status().as_u16();
    let status_text = status.to_string();
    state
        .metrics
        .requests
        .inc(&[method.as_str(), route.as_str(), status_text.as_str()]);
    state
        .metrics
        .latency
        .observe_duration(&[route.as_str()], took);
    // A 500 already carries the id it logged; the same id, set by this middleware.
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID, v);
    }
    tracing::info!(
        target: "efine::access",
        method = %method,
        route = %route,
        status,
        latency_ms = (took.as_secs_f64() * 1e6).round() / 1e3,
        request_id = %id,
        "request"
    );
    resp
}

/// `GET /metrics`
pub async fn get_metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = &state.config.metrics_token else {
        return ApiError::not_found("page").into_response();
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !efine_service::rails::same(given.trim(), &token.0) {
        return ApiError::unauthorized("a scrape token is needed: Authorization: Bearer <token>")
            .into_response();
    }
    let mut out = String::with_capacity(16 * 1024);
    let backend = state.store.backend();
    gauge(
        &mut out,
        "efine_up",
        "1 while this server runs, labelled with its database backend.",
        &["backend"],
        &[(vec![backend.to_string()], 1.0)],
    );
    state.metrics.requests.encode(
        &mut out,
        "efine_http_requests_total",
        "HTTP requests by method, route template and status.",
    );
    state.metrics.latency.encode(
        &mut out,
        "efine_http_request_duration_seconds",
        "HTTP request latency by route template.",
    );
    state.metrics.login_failures.encode(
        &mut out,
        "efine_login_failures_total",
        "Failed staff sign-ins, by API token request (api) or console form (console).",
    );
    state.store.writer_metrics().encode(&mut out);
    state.store.pool_use().encode(&mut out, backend);
    // The outbox backlog is read from the database, so every node shows the same figure. If the
    // database cannot answer, the rest is still worth having: the gauge is left out and
    // efine_outbox_up says why.
    let backlog = state
        .store
        .read(efine_store::ops::notify::backlog)
        .await
        .ok();
    gauge(
        &mut out,
        "efine_outbox_up",
        "1 when the outbox backlog below could be read from the database.",
        &[],
        &[(Vec::new(), if backlog.is_some() { 1.0 } else { 0.0 })],
    );
    if let Some((pending, failed)) = backlog {
        gauge(
            &mut out,
            "efine_outbox_messages",
            "Notifications waiting to be sent (pending) and given up (failed), all nodes.",
            &["status"],
            &[
                (vec!["pending".into()], pending as f64),
                (vec!["failed".into()], failed as f64),
            ],
        );
    }
    state.ctx.metrics.encode(&mut out);
    if let Some(jobs) = &state.jobs {
        jobs.encode_runs(&mut out);
    }
    let mut resp = (StatusCode::OK, out).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
