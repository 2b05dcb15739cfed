//! Security headers on every response, and the names of the cookies the site sets.
//!
//! Every response carries a strict Content Security Policy (no inline script or style: the
//! pages' stylesheets and script are files under `/assets/`, see `pages::assets`; nothing may
//! frame a page), `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` (a challan
//! number in a page's path never leaves in a `Referer`), `X-Frame-Options: DENY` for browsers
//! without `frame-ancestors`, and `Cross-Origin-Opener-Policy: same-origin`. When the public
//! URL is https, `Strict-Transport-Security` too, and every cookie's name carries the `__Host-`
//! prefix (the browser then accepts it only with `Secure`, `Path=/` and no `Domain`).
//!
//! The rails' sandboxes (mounted only when they are on) stand in for the providers' own hosted
//! pages, which carry one small inline style and, for JazzCash's return, the one-line script
//! that posts the answer back: their policy allows exactly those by hash, nothing else.

use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// The policy of every page and API response.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; \
object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// HSTS for a site served over https: a year, subdomains included.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

fn csp_hash(inline: &str) -> String {
    let digest = Sha256::digest(inline.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The sandboxes' policy: their inline style and script by hash.
static SANDBOX_CSP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "default-src 'none'; style-src {}; script-src {}; img-src 'self' data:; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
        csp_hash(crate::sandbox::PAGE_STYLE),
        csp_hash(crate::sandbox::jazzcash::RETURN_SCRIPT),
    )
});

/// The name of a cookie: `__Host-<name>` when the site is served over https.
pub fn cookie_name(https: bool, name: &str) -> String {
    if https {
        format!("__Host-{name}")
    } else {
        name.to_string()
    }
}

/// Middleware: sets the headers above on every response (a handler's own value, e.g. a
/// download's, is kept only for headers not listed here).
pub async fn security_headers(https: bool, req: Request, next: Next) -> Response {
    let sandbox = req.uri().path().starts_with("/sandbox/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let csp = if sandbox {
        HeaderValue::from_str(&SANDBOX_CSP).unwrap_or(HeaderValue::from_static(CSP))
    } else {
        HeaderValue::from_static(CSP)
    };
    h.insert(header::CONTENT_SECURITY_POLICY, csp);
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    resp
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_are_csp_sources() {
        // The example from the CSP specification's hash-source.
        assert_eq!(
            super::csp_hash("alert('Hello, world.');"),
            "'sha256-qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng='"
        );
        assert_eq!(super::cookie_name(true, "efine_lang"), "__Host-efine_lang");
        assert_eq!(super::cookie_name(false, "efine_lang"), "efine_lang");
    }
}
