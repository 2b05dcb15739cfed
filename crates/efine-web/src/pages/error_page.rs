//! What a browser sees instead of a 5xx's JSON body: a short page in the reader's language that
//! says to try again (503, nothing was written) or gives the reference to quote (500). Applied
//! as a middleware on the whole router, so every page handler that answers with an `ApiError`
//! gets it without knowing; JSON clients (the API, or anything not asking for HTML) keep the
//! JSON body.

use crate::error::{ServerError, REQUEST_ID};
use crate::i18n::lang::{tr, trf, Lang};
use axum::extract::{FromRequestParts, Request};
use axum::http::header::{ACCEPT, RETRY_AFTER};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use maud::html;

/// A navigation or form post from a browser, outside the JSON API.
pub fn wants_html(req: &Request) -> bool {
    !req.uri().path().starts_with("/api/")
        && req
            .headers()
            .get(ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
}

/// "Page not found" in the reader's language, with the way to the search.
pub fn not_found_page(lang: Lang) -> Response {
    let page = crate::pages::shell::page(
        lang,
        "/",
        tr(lang, "error.not_found_title"),
        html! {
            p id="not-found" { (tr(lang, "error.not_found_body")) }
            p { a class="button" href="/" { (tr(lang, "site.home")) } }
        },
    );
    (axum::http::StatusCode::NOT_FOUND, Html(page.into_string())).into_response()
}

/// Middleware: replaces the JSON body of a marked 5xx with the page, keeping its status and its
/// `Retry-After` and `X-Request-Id` headers.
pub async fn html_errors(req: Request, next: Next) -> Response {
    if !wants_html(&req) {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let lang = match Lang::from_request_parts(&mut parts, &()).await {
        Ok(l) => l,
        Err(never) => match never {},
    };
    let resp = next.run(Request::from_parts(parts, body)).await;
    let Some(kind) = resp.extensions().get::<ServerError>().cloned() else {
        return resp;
    };
    let (title, text) = match &kind {
        ServerError::Unavailable => (
            tr(lang, "error.unavailable_title"),
            tr(lang, "error.unavailable_body").to_string(),
        ),
        ServerError::Internal { request_id } => (
            tr(lang, "error.internal_title"),
            trf(lang, "error.internal_body", &[("id", request_id)]),
        ),
    };
    let page = crate::pages::shell::page(lang, "/", title, html! { p { (text) } });
    let mut out = (resp.status(), Html(page.into_string())).into_response();
    for name in [RETRY_AFTER, REQUEST_ID] {
        if let Some(v) = resp.headers().get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out.extensions_mut().insert(kind);
    out
}
