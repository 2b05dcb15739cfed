//! E-Fine HTTP: the JSON API under `/api/v1` and its OpenAPI document, staff authentication,
//! and the HTML pages (`pages`: maud templates on one shell).
//!
//! Thin by design: a handler parses the request into `efine-core` types, calls one store
//! function, and renders a view type from `views`. The router and the OpenAPI document are built
//! from the same `routes!(...)` calls, so the document cannot drift from the code.
//!
//! Depends on `efine-core` and `efine-store`; nothing depends on it but the binary.

pub mod admin;
pub mod auth;
pub mod charts;
pub mod console;
pub mod controllers;
pub mod dashboard;
pub mod error;
pub mod escalation;
pub mod extract;
pub mod finance;
pub mod html;
pub mod i18n;
pub mod notify;
pub mod pages;
pub mod payments;
pub mod poller;
pub mod queues;
pub mod ratelimit;
pub mod staff;
pub mod stats;
pub mod verify;
pub mod views;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::{Json, Router};
use controllers::rails;
use controllers::{
    appeals, auth as auth_c, cancellations, cash, catalogue, challans, checkout, documents, health,
    onebill, public, recon, refunds, sandbox, stats as stats_c, vehicles, verify as verify_c,
};
use efine_store::keys::KeySet;
use efine_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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

/// Order reference -> (the payer's choice, amount, the rail's transaction id).
pub type SandboxOrders =
    std::collections::HashMap<String, (efine_pay::sandbox::Choice, efine_core::Money, String)>;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<WebConfig>,
    pub lookup_limiter: Arc<ratelimit::RateLimiter>,
    pub payments: Arc<payments::PaymentsConfig>,
    /// Outgoing calls to the rails (status inquiries).
    pub http: reqwest::Client,
    /// What payers chose on the sandboxes' hosted pages, for the sandboxes' inquiry answers.
    pub sandbox_orders: Arc<std::sync::Mutex<SandboxOrders>>,
    /// A real Argon2 hash checked when a login names an unknown user, so both paths cost the same.
    pub dummy_hash: String,
    /// QR signing key and every key that still verifies.
    pub keys: Arc<KeySet>,
    /// The notifications outbox worker (sandbox registry and provider unless replaced).
    pub notifier: Arc<notify::Notifier>,
    /// The vehicle registry sandbox served at `/sandbox/registry/owner`.
    pub registry_sandbox: Arc<notify::registry::SandboxRegistry>,
    pub live: Arc<stats::Live>,
}

impl AppState {
    pub fn new(
        store: Store,
        config: WebConfig,
        payments: payments::PaymentsConfig,
        keys: KeySet,
    ) -> Result<AppState, efine_store::StoreError> {
        let dummy_hash = efine_store::ops::users::hash_password("not-a-real-password")?;
        let store_for_notify = store.clone();
        Ok(AppState {
            store,
            lookup_limiter: Arc::new(ratelimit::RateLimiter::new(
                config.lookups_per_minute,
                Duration::from_secs(60),
            )),
            config: Arc::new(config),
            payments: Arc::new(payments),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .map_err(|e| efine_store::StoreError::Db(format!("HTTP client: {e}")))?,
            sandbox_orders: Arc::new(std::sync::Mutex::new(SandboxOrders::new())),
            dummy_hash,
            keys: Arc::new(keys),
            notifier: Arc::new(notify::Notifier::sandbox(store_for_notify).0),
            registry_sandbox: Arc::new(notify::registry::SandboxRegistry::shipped()),
            live: Arc::new(stats::Live::default()),
        })
    }

    /// Replaces the notifications worker (configured provider, registry or texts).
    pub fn with_notifier(mut self, notifier: notify::Notifier) -> AppState {
        self.notifier = Arc::new(notifier);
        self
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "E-Fine API",
        description = "Issue, look up, pay and verify government fines and fees. \
                       Amounts are integer paisa; errors are {\"error\": {\"code\", \"message\", \"field\"?}}.",
        license(name = "AGPL-3.0-or-later")
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "health"), (name = "auth", description = "Staff and device login"),
        (name = "catalogue", description = "Departments, districts, offences and fees"),
        (name = "challans", description = "Issuing and reading challans (staff)"),
        (name = "public", description = "What citizens may see and do"),
        (name = "payments", description = "Counter cash, cash-up, refunds (staff)"),
        (name = "1bill", description = "1Bill (1LINK) biller API for banks, ATMs and wallets"),
        (name = "verification", description = "Signed QR codes: is this challan or receipt genuine?"),
        (name = "documents", description = "Printable challans and receipts (PDF, ESC/POS)"),
        (name = "enforcement", description = "Checkpoint status and clearance of a vehicle (staff)"),
        (name = "statistics", description = "Summaries, trends, anomalies and forecast (staff, scoped by role); CSV with format=csv"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::get_health))
        .routes(routes!(auth_c::create_token))
        .routes(routes!(catalogue::list_departments))
        .routes(routes!(catalogue::list_districts))
        .routes(routes!(catalogue::list_offences))
        .routes(routes!(challans::issue_challan))
        .routes(routes!(challans::get_challan))
        .routes(routes!(public::get_public_challan))
        .routes(routes!(public::lookup))
        .routes(routes!(checkout::create_checkout))
        .routes(routes!(onebill::bill_inquiry))
        .routes(routes!(onebill::bill_payment))
        .routes(routes!(cash::create_cash_payment))
        .routes(routes!(cash::get_cash_up))
        .routes(routes!(refunds::list_refunds, refunds::create_refund))
        .routes(routes!(refunds::approve_refund))
        .routes(routes!(refunds::reject_refund))
        .routes(routes!(recon::upload_settlement))
        .routes(routes!(verify_c::verify_token))
        .routes(routes!(verify_c::get_keys))
        .routes(routes!(documents::challan_pdf))
        .routes(routes!(documents::challan_escpos))
        .routes(routes!(documents::receipt_pdf))
        .routes(routes!(documents::receipt_escpos))
        .routes(routes!(cancellations::request_cancellation))
        .routes(routes!(cancellations::list_cancellations))
        .routes(routes!(cancellations::approve_cancellation))
        .routes(routes!(cancellations::reject_cancellation))
        .routes(routes!(appeals::list_appeals))
        .routes(routes!(appeals::decide_appeal))
        .routes(routes!(appeals::get_appeal_evidence))
        .routes(routes!(vehicles::get_vehicle_status))
        .routes(routes!(vehicles::get_vehicle_clearance))
        // Appeals may carry an evidence file: a larger body limit on this route only.
        .merge(
            OpenApiRouter::new()
                .routes(routes!(appeals::lodge_appeal))
                .layer(DefaultBodyLimit::max(APPEAL_BODY_LIMIT)),
        )
        .routes(routes!(stats_c::get_summary))
        .routes(routes!(stats_c::get_trends))
        .routes(routes!(stats_c::get_rails))
        .routes(routes!(stats_c::get_hotspots))
        .routes(routes!(stats_c::get_anomalies))
        .routes(routes!(stats_c::get_forecast))
        .routes(routes!(stats_c::get_transparency))
}

/// 1 MiB of evidence is about 1.4 MiB in base64, plus the rest of the body.
const APPEAL_BODY_LIMIT: usize = 1536 * 1024;

/// The OpenAPI 3.1 document of every JSON endpoint.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().split_for_parts().1
}

async fn not_found() -> error::ApiError {
    error::ApiError::not_found("page")
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let (router, doc) = api().split_for_parts();
    let doc = Arc::new(doc);
    router
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { Json(doc.as_ref().clone()) }
            }),
        )
        .route("/api/v1/stats/stream", get(stats_c::stream_changes))
        .route("/dashboard", get(stats_c::dashboard_page))
        .route("/transparency", get(stats_c::transparency_page))
        .route("/payments/jazzcash/return", post(checkout::jazzcash_return))
        .route(
            "/sandbox/jazzcash/merchantform",
            post(sandbox::jazzcash_form),
        )
        .route(
            "/sandbox/jazzcash/complete",
            post(sandbox::jazzcash_complete),
        )
        .route(
            "/payments/easypaisa/postback",
            get(rails::easypaisa_postback).post(rails::easypaisa_postback),
        )
        .route("/payments/card/notify", post(rails::card_notify))
        .route("/payments/card/return", get(rails::card_return))
        .route(
            "/sandbox/easypaisa/checkout",
            post(sandbox::easypaisa_checkout),
        )
        .route(
            "/sandbox/easypaisa/complete",
            post(sandbox::easypaisa_complete),
        )
        .route(
            "/sandbox/easypaisa/easypay-service/rest/v4/inquire-transaction",
            post(sandbox::easypaisa_inquire),
        )
        .route("/sandbox/card/pay", get(sandbox::card_pay))
        .route("/sandbox/card/complete", post(sandbox::card_complete))
        .route(
            "/sandbox/jazzcash/ApplicationAPI/API/PaymentInquiry/Inquire",
            post(sandbox::jazzcash_inquire),
        )
        .route("/sandbox/registry/owner", post(sandbox::registry_owner))
        .route(
            "/staff/login",
            get(console::login_get).post(console::login_post),
        )
        .route("/staff/logout", post(console::logout))
        .route("/staff", get(staff::home))
        .route("/staff/challans", get(staff::search))
        .route(
            "/staff/challans/new",
            get(staff::new_get).post(staff::new_post),
        )
        .route("/staff/challans/{number}", get(staff::detail))
        .route("/staff/users", get(admin::page).post(admin::add))
        .route("/staff/queues", get(queues::page))
        .route(
            "/staff/cancellations/{id}",
            post(queues::decide_cancellation),
        )
        .route("/staff/appeals/{id}", post(queues::decide_appeal))
        .route("/staff/appeals/{id}/evidence", get(queues::evidence))
        .route(
            "/staff/challans/{number}/cancellation",
            post(queues::request_cancellation),
        )
        .route("/staff/finance", get(finance::page))
        .route("/staff/finance/refunds", post(finance::request))
        .route("/staff/finance/refunds/decide", post(finance::decide))
        .route("/staff/finance/recon", post(finance::reconcile))
        .route(
            "/staff/schedule",
            get(staff::schedule).post(staff::schedule_post),
        )
        .merge(pages::portal::router())
        .merge(pages::verify::router())
        .fallback(not_found)
        .layer(axum::middleware::from_fn(i18n::remember_lang))
        .layer(DefaultBodyLimit::max(64 * 1024))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
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
