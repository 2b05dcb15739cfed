//! What the portal's pages share: finding the challan a URL names, and the responses every
//! page family gives (a page, a message, a redirect).

use crate::error::ApiError;
use crate::i18n::{tr, Lang};
use crate::pages::shell;
use crate::views::{today, PublicChallanView};
use crate::AppState;
use axum::http::header::{CACHE_CONTROL, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use efine_core::ChallanNumber;
use efine_store::ops::challans;
use maud::{html, Markup};

/// A whole page as a response that no cache keeps (it shows amounts due today).
pub(super) fn respond(status: StatusCode, page: Markup) -> Response {
    let mut r = (status, Html(page.into_string())).into_response();
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A page that only says what went wrong, with a link home.
pub(super) fn message_page(
    lang: Lang,
    status: StatusCode,
    here: &str,
    title: &str,
    msg: &str,
) -> Response {
    respond(
        status,
        shell::page(
            lang,
            here,
            title,
            html! {
                p class="bad" role="alert" { (msg) }
                p { a href="/" { (tr(lang, "site.home")) } }
            },
        ),
    )
}

pub(super) fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

pub(super) fn status_label(lang: Lang, status: &str) -> &'static str {
    match status {
        "paid" => tr(lang, "portal.paid"),
        "cancelled" => tr(lang, "portal.cancelled_status"),
        "expired" => tr(lang, "fees.expired_status"),
        _ => tr(lang, "portal.unpaid"),
    }
}

/// A challan as the portal shows it, with its signed QR token.
pub(super) struct ChallanData {
    pub view: PublicChallanView,
    pub due_date: time::Date,
    pub token: String,
}

async fn load(state: &AppState, number: ChallanNumber) -> Result<Option<ChallanData>, ApiError> {
    let found = state
        .store
        .read(move |tx| {
            Ok(challans::detailed(tx, &challans::Find::Number(number), 1)?
                .into_iter()
                .next())
        })
        .await?;
    Ok(found.map(|(c, names, paid)| {
        let token = state.keys.current().signer.sign_challan(&c);
        let due_date = c.due_date;
        ChallanData {
            view: PublicChallanView::new(c, names, paid, today(state.store.now())),
            due_date,
            token,
        }
    }))
}

/// The challan `number` names, or the page to answer with instead (malformed: 422; unknown:
/// 404).
pub(super) async fn challan_or_page(
    state: &AppState,
    lang: Lang,
    here: &str,
    number: &str,
) -> Result<ChallanData, Response> {
    let Ok(n) = ChallanNumber::parse(number) else {
        return Err(message_page(
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            "/",
            tr(lang, "portal.not_found"),
            tr(lang, "portal.bad_number"),
        ));
    };
    match load(state, n).await {
        Ok(Some(d)) => Ok(d),
        Ok(None) => Err(message_page(
            lang,
            StatusCode::NOT_FOUND,
            here,
            tr(lang, "portal.not_found"),
            tr(lang, "portal.not_found_body"),
        )),
        Err(e) => Err(e.into_response()),
    }
}
