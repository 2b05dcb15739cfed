//! The officer's field app at `/officer`: plain ES modules and a service worker, served as
//! same-origin files so the Content Security Policy (`script-src 'self'`) holds. No build step:
//! the files here are what the phone runs. The service worker's cache is named after a hash of
//! every file, so a new build replaces the cached app the next time the phone is online.

use axum::extract::Path;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

const FILES: [(&str, &str, &str); 9] = [
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("app.js"),
    ),
    (
        "db.js",
        "text/javascript; charset=utf-8",
        include_str!("db.js"),
    ),
    (
        "sign.js",
        "text/javascript; charset=utf-8",
        include_str!("sign.js"),
    ),
    (
        "escpos.js",
        "text/javascript; charset=utf-8",
        include_str!("escpos.js"),
    ),
    (
        "i18n.js",
        "text/javascript; charset=utf-8",
        include_str!("i18n.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("app.css"),
    ),
    (
        "manifest.webmanifest",
        "application/manifest+json",
        include_str!("manifest.webmanifest"),
    ),
    ("icon.svg", "image/svg+xml", include_str!("icon.svg")),
];

/// The service worker, with the version of the app's files written in.
static SERVICE_WORKER: LazyLock<String> = LazyLock::new(|| {
    let mut h = Sha256::new();
    for (name, _, body) in FILES {
        h.update(name.as_bytes());
        h.update(body.as_bytes());
    }
    let version = hex::encode(&h.finalize()[..8]);
    include_str!("sw.js").replace("__VERSION__", &version)
});

fn file(content_type: &'static str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            // The service worker keeps the copy the phone runs offline; online, always fresh.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

async fn app_page() -> Response {
    file(FILES[0].1, FILES[0].2.to_string())
}

async fn app_file(Path(name): Path<String>) -> Response {
    if name == "sw.js" {
        let mut r = file("text/javascript; charset=utf-8", SERVICE_WORKER.clone());
        // Lets the worker control `/officer` itself, not only `/officer/...`.
        r.headers_mut().insert(
            HeaderName::from_static("service-worker-allowed"),
            HeaderValue::from_static("/officer"),
        );
        return r;
    }
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, ct, body)) => file(ct, (*body).to_string()),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/officer", get(app_page))
        .route("/officer/", get(app_page))
        .route("/officer/{name}", get(app_file))
}

/// The bytes of one of the app's files (for tests of what the phone runs).
pub fn source(name: &str) -> Option<&'static str> {
    FILES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, _, b)| *b)
}
