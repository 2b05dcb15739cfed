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
pub mod guard;
pub mod headers;
pub mod i18n;
pub mod metrics;
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
use efine_store::keys::Keys;
use efine_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Settings the web layer needs.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// How long a bearer token lasts.
    pub token_ttl: time::Duration,
    /// Public lookups (and appeals) allowed per client address per minute.
    pub lookups_per_minute: u32,
    /// Public challan and QR views allowed per client address per minute.
    pub views_per_minute: u32,
    /// Checkouts allowed per client address per minute.
    pub checkouts_per_minute: u32,
    /// Online payment attempts that may be open at once for one challan.
    pub open_attempts_per_challan: u32,
    /// Reverse proxies whose `X-Forwarded-For` is believed (see `ratelimit`).
    pub trusted_proxies: Vec<ratelimit::IpNet>,
    /// Where citizens reach this server, without a trailing slash: QR codes carry
    /// `<public_url>/v/<token>`.
    pub public_url: String,
    /// Days after the issue day within which a citizen may appeal.
    pub appeal_window_days: u16,
    /// The command that creates the first admin account, shown on the console's sign-in page
    /// while there is none (the binary fills in its own data directory).
    pub first_admin_command: String,
    /// The token a scraper of `/metrics` must send; without one, `/metrics` is off (404).
    pub metrics_token: Option<metrics::MetricsToken>,
    /// Failed logins per account before delays and the lock (a client address gets three
    /// times the room); the same limits for the 1Bill caller's address.
    pub login_policy: efine_core::auth::throttle::Policy,
    /// A console session unused for this long is over (besides its absolute lifetime).
    pub console_idle: time::Duration,
}

impl WebConfig {
    /// Whether citizens reach the site over TLS: then HSTS is sent and cookies are `__Host-`.
    pub fn https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}
/// How the first admin account is made: the password is read from standard input, never given
/// as an argument.
pub const FIRST_ADMIN_COMMAND: &str =
    "efine user add --username admin --role admin --password-stdin";

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            token_ttl: time::Duration::hours(12),
            lookups_per_minute: 30,
            views_per_minute: 120,
            checkouts_per_minute: 20,
            open_attempts_per_challan: 5,
            trusted_proxies: Vec::new(),
            public_url: "http://127.0.0.1:8080".into(),
            appeal_window_days: 30,
            first_admin_command: FIRST_ADMIN_COMMAND.into(),
            metrics_token: None,
            login_policy: efine_core::auth::throttle::Policy::default(),
            console_idle: time::Duration::minutes(30),
        }
    }
}

/// What every handler shares. Axum clones the state for each request, so it is one pointer to
/// [`Shared`]; fields are reached through it as `state.store` and so on.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The state behind [`AppState`].
#[derive(Clone)]
pub struct Shared {
    pub store: Store,
    pub config: Arc<WebConfig>,
    pub lookup_limiter: Arc<ratelimit::RateLimiter>,
    pub view_limiter: Arc<ratelimit::RateLimiter>,
    pub checkout_limiter: Arc<ratelimit::RateLimiter>,
    /// What the service layer needs (the same store and keys, the rails, the HTTP client).
    pub ctx: efine_service::Context,
    pub payments: Arc<efine_service::rails::PaymentsConfig>,
    /// A real Argon2 hash checked when a login names an unknown user, so both paths cost the same.
    pub dummy_hash: String,
    /// The signing key and every key that still verifies, reloaded after a rotation.
    pub keys: Arc<Keys>,
    /// The event log's last sequence number, for the live statistics stream.
    pub live: Arc<efine_service::live::Live>,
    /// Requests, latency and login failures, for `/metrics`.
    pub metrics: Arc<metrics::HttpMetrics>,
    /// The background jobs, when this server runs them (their rounds are shown at `/metrics`).
    pub jobs: Option<efine_service::jobs::Jobs>,
    /// The SMS texts (the appeal codes are sent with them); `efine serve` gives the
    /// notifications worker's, which an operator may have replaced.
    pub texts: Arc<efine_core::notify::Texts>,
}

impl AppState {
    pub fn new(
        store: Store,
        config: WebConfig,
        payments: efine_service::rails::PaymentsConfig,
        keys: Arc<Keys>,
    ) -> Result<AppState, efine_store::StoreError> {
        let dummy_hash = efine_store::ops::users::hash_password("not-a-real-password")?;
        let payments = Arc::new(payments);
        let ctx = efine_service::Context {
            store: store.clone(),
            keys: keys.clone(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .map_err(|e| efine_store::StoreError::Db(format!("HTTP client: {e}")))?,
            payments: payments.clone(),
            metrics: Arc::default(),
        };
        Ok(AppState(Arc::new(Shared {
            ctx,
            store,
            lookup_limiter: Arc::new(ratelimit::RateLimiter::new(
                config.lookups_per_minute,
                Duration::from_secs(60),
            )),
            view_limiter: Arc::new(ratelimit::RateLimiter::new(
                config.views_per_minute,
                Duration::from_secs(60),
            )),
            checkout_limiter: Arc::new(ratelimit::RateLimiter::new(
                config.checkouts_per_minute,
                Duration::from_secs(60),
            )),
            config: Arc::new(config),
            payments,
            dummy_hash,
            keys,
            live: Arc::new(efine_service::live::Live::default()),
            metrics: Arc::default(),
            jobs: None,
            texts: Arc::new(
                efine_service::notify::parse_texts(efine_core::notify::DEFAULT_TEXTS)
                    .map_err(efine_store::StoreError::Corrupt)?,
            ),
        })))
    }

    /// Sends SMS with these texts (the notifications worker's).
    pub fn with_texts(mut self, texts: Arc<efine_core::notify::Texts>) -> AppState {
        Arc::make_mut(&mut self.0).texts = texts;
        self
    }

    /// Runs the live statistics watcher under `jobs`, so that it stops on shutdown.
    pub fn with_jobs(mut self, jobs: &efine_service::jobs::Jobs) -> AppState {
        let shared = Arc::make_mut(&mut self.0);
        shared.live = Arc::new(efine_service::live::Live::new(jobs.clone()));
        shared.jobs = Some(jobs.clone());
        self
    }
}

/// The OpenAPI 3.1 document of every JSON endpoint.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = api::router().split_for_parts().1;
    api::complete_responses(&mut doc);
    doc
}

/// No route: a page in the reader's language for a browser, the JSON error for anything else
/// (and always under `/api/`).
async fn not_found(lang: i18n::Lang, req: axum::extract::Request) -> axum::response::Response {
    use axum::response::IntoResponse;
    if pages::error_page::wants_html(&req) {
        return pages::error_page::not_found_page(lang);
    }
    error::ApiError::not_found("page").into_response()
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let (router, mut doc) = api::router().split_for_parts();
    api::complete_responses(&mut doc);
    let doc = Arc::new(doc);
    let https = state.config.https();
    let limits = axum::middleware::from_fn_with_state(state.clone(), ratelimit::limit_public);
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
    let observed = state.clone();
    let app = router
        .route("/metrics", get(metrics::get_metrics))
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
        .merge(pages::assets::router())
        .merge(pages::officer::router())
        .with_state(state);
    app.merge(sandbox.unwrap_or_default())
        .fallback(not_found)
        .layer(limits)
        .layer(axum::middleware::from_fn(pages::error_page::html_errors))
        .layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                i18n::remember_lang(https, req, next)
            },
        ))
        .layer(DefaultBodyLimit::max(64 * 1024))
        .layer(axum::middleware::from_fn(guard::refuse_control_characters))
        .layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                headers::security_headers(https, req, next)
            },
        ))
        // gzip or Brotli when the client accepts it (pages shrink to a quarter on a slow
        // phone link); images, event streams and tiny bodies are left as they are.
        .layer(tower_http::compression::CompressionLayer::new())
        // Outermost, so that it sees the status the client gets; `Router::layer` runs it per
        // route, where the matched route template is known.
        .layer(axum::middleware::from_fn_with_state(
            observed,
            metrics::observe,
        ))
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
