//! E-Fine HTTP, split by what it serves:
//! - `api`: the JSON API under `/api/v1` with its OpenAPI document, and the rails' callbacks;
//! - `pages`: the server-rendered HTML (citizen portal, staff console, dashboard), on maud
//!   templates that escape every value by default;
//! - `sandbox`: the rails' sandboxes, mounted only when they are on.
//!
//! Thin by design: a handler parses the request into `efine-core` types, calls one function of
//! `efine-service` (or a read of `efine-store`), and renders a view type or a template. No
//! background job and no payment rule lives here.
//!
//! Depends on `efine-service`, `efine-store`, `efine-core`, `efine-pay` (wire formats) and
//! `efine-docs`; nothing depends on it but the binary.

pub mod api;
pub mod auth;
pub mod error;
pub mod extract;
pub mod i18n;
/// The rails' settings, where the binary and the tests have always found them.
pub use efine_service::rails as payments;
pub mod pages;
pub mod ratelimit;
pub mod sandbox;
pub mod stats;
pub mod verify;
pub mod views;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::{Json, Router};
use efine_store::keys::KeySet;
use efine_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Settings the web layer needs.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// How long a bearer token lasts.
    pub token_ttl: time::Duration,
    /// Public lookups allowed per client address per minute.
    pub lookups_per_minute: u32,
    /// Where citizens reach this server, without a trailing slash: QR codes carry
    /// `<public_url>/v/<token>`.
    pub public_url: String,
    /// Days after the issue day within which a citizen may appeal.
    pub appeal_window_days: u16,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            token_ttl: time::Duration::hours(12),
            lookups_per_minute: 30,
            public_url: "http://127.0.0.1:8080".into(),
            appeal_window_days: 30,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<WebConfig>,
    pub lookup_limiter: Arc<ratelimit::RateLimiter>,
    /// What the service layer needs (the same store and keys, the rails, the HTTP client).
    pub ctx: efine_service::Context,
    pub payments: Arc<efine_service::rails::PaymentsConfig>,
    /// A real Argon2 hash checked when a login names an unknown user, so both paths cost the same.
    pub dummy_hash: String,
    /// QR signing key and every key that still verifies.
    pub keys: Arc<KeySet>,
    /// The event log's last sequence number, for the live statistics stream.
    pub live: Arc<efine_service::live::Live>,
}

impl AppState {
    pub fn new(
        store: Store,
        config: WebConfig,
        payments: efine_service::rails::PaymentsConfig,
        keys: KeySet,
    ) -> Result<AppState, efine_store::StoreError> {
        let dummy_hash = efine_store::ops::users::hash_password("not-a-real-password")?;
        let keys = Arc::new(keys);
        let payments = Arc::new(payments);
        let ctx = efine_service::Context {
            store: store.clone(),
            keys: keys.clone(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .map_err(|e| efine_store::StoreError::Db(format!("HTTP client: {e}")))?,
            payments: payments.clone(),
        };
        Ok(AppState {
            ctx,
            store,
            lookup_limiter: Arc::new(ratelimit::RateLimiter::new(
                config.lookups_per_minute,
                Duration::from_secs(60),
            )),
            config: Arc::new(config),
            payments,
            dummy_hash,
            keys,
            live: Arc::new(efine_service::live::Live::default()),
        })
    }

    /// Runs the live statistics watcher under `jobs`, so that it stops on shutdown.
    pub fn with_jobs(mut self, jobs: &efine_service::jobs::Jobs) -> AppState {
        self.live = Arc::new(efine_service::live::Live::new(jobs.clone()));
        self
    }
}

/// The OpenAPI 3.1 document of every JSON endpoint.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api::router().split_for_parts().1
}

async fn not_found() -> error::ApiError {
    error::ApiError::not_found("page")
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let (router, doc) = api::router().split_for_parts();
    let doc = Arc::new(doc);
    // The sandboxes exist only when they are on: their routes and state are nowhere else.
    let sandbox = state.payments.sandbox.then(|| {
        sandbox::router(sandbox::SandboxState {
            payments: state.payments.clone(),
            http: state.ctx.http.clone(),
            clock: state.store.clock(),
            orders: Default::default(),
            raast: Default::default(),
            registry: Arc::new(efine_service::notify::registry::SandboxRegistry::shipped()),
        })
    });
    let app = router
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { Json(doc.as_ref().clone()) }
            }),
        )
        .merge(pages::console::router())
        .merge(pages::dashboard::router())
        .merge(pages::portal::router())
        .merge(pages::verify::router())
        .with_state(state);
    app.merge(sandbox.unwrap_or_default())
        .fallback(not_found)
        .layer(axum::middleware::from_fn(pages::error_page::html_errors))
        .layer(axum::middleware::from_fn(i18n::remember_lang))
        .layer(DefaultBodyLimit::max(64 * 1024))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

/// Serves until `shutdown` completes, then finishes in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
