//! The pages' stylesheets and their one script, served as files so that the Content Security
//! Policy can forbid every inline style and script (`style-src 'self'`, `script-src 'self'`).
//!
//! Each file's URL carries the first 16 hex digits of its SHA-256
//! (`/assets/site.3f2a....css`), so it can be cached for a year (`immutable`): a new build with
//! different content gets a new URL, and an old URL is a 404 rather than stale content.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

struct Asset {
    /// `site.<hash>.css`
    name: String,
    content_type: &'static str,
    body: &'static str,
}

fn asset(stem: &str, ext: &str, content_type: &'static str, body: &'static str) -> Asset {
    let hash = hex::encode(&Sha256::digest(body.as_bytes())[..8]);
    Asset {
        name: format!("{stem}.{hash}.{ext}"),
        content_type,
        body,
    }
}

static ASSETS: LazyLock<[Asset; 4]> = LazyLock::new(|| {
    [
        asset(
            "site",
            "css",
            "text/css; charset=utf-8",
            super::shell::STYLE,
        ),
        asset(
            "dashboard",
            "css",
            "text/css; charset=utf-8",
            super::dashboard::parts::STYLE,
        ),
        asset(
            "live",
            "js",
            "text/javascript; charset=utf-8",
            super::dashboard::parts::SCRIPT,
        ),
        asset(
            "console",
            "css",
            "text/css; charset=utf-8",
            super::console::STYLE,
        ),
    ]
});

static PATHS: LazyLock<[String; 4]> =
    LazyLock::new(|| ASSETS.each_ref().map(|a| format!("/assets/{}", a.name)));

/// The URL of the shared stylesheet.
pub fn site_css() -> &'static str {
    &PATHS[0]
}

/// The URL of the dashboard's and transparency page's stylesheet.
pub fn dashboard_css() -> &'static str {
    &PATHS[1]
}

/// The URL of the staff console's stylesheet (cards, fact lists, tables that stack on a phone).
pub fn console_css() -> &'static str {
    &PATHS[3]
}

/// The URL of the script that reloads the dashboard when the event log moves.
pub fn live_js() -> &'static str {
    &PATHS[2]
}

async fn get_asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(a.content_type),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
            ],
            a.body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/assets/{name}", get(get_asset))
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_carry_the_content_hash() {
        assert!(super::site_css().starts_with("/assets/site."));
        assert!(super::site_css().ends_with(".css"));
        assert_eq!(super::site_css().len(), "/assets/site.".len() + 16 + 4);
        assert!(super::live_js().ends_with(".js"));
    }
}
