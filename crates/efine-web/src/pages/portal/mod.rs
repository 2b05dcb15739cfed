//! The citizen portal: server-rendered pages that work without JavaScript, in English and Urdu
//! (built on [`crate::pages::shell`]).
//!
//! - `GET /`: one search box (challan number, PSID or vehicle number) and a separate form for
//!   the CNIC. Both are POSTed, so a vehicle number or CNIC never appears in a URL or a log.
//! - `POST /search`: a challan number or PSID goes to its challan page; a vehicle number lists
//!   its challans. `POST /search/cnic` lists a person's challans. Lists are rate-limited per
//!   address like the JSON lookup. ([`search`])
//! - `GET /c/{number}` (also `/challans/{number}`): the challan: amount due today and after the
//!   due date, QR code, PDF, pay button; the payment when paid. ([`challan`])
//! - `GET /c/{number}/pay`: one question, how to pay; `POST` starts the attempt (the same
//!   checkout as the JSON API) and shows one button that posts the signed form to the rail.
//!   ([`pay`])
//! - `GET /c/{number}/appeal`: why the challan is contested, with an optional evidence file
//!   (a `multipart/form-data` form); `POST` lodges the appeal like the JSON API. ([`appeal`])

pub mod appeal;
pub mod challan;
pub mod pay;
pub mod search;

use crate::error::ApiError;
use crate::i18n::{tr, Lang};
use crate::pages::shell;
use crate::views::{today, PublicChallanView};
use crate::AppState;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::header::{CACHE_CONTROL, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use efine_core::ChallanNumber;
use efine_store::ops::{catalogue, challans, payments};
use maud::{html, Markup};

/// The portal's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(search::home))
        .route("/search", post(search::search))
        .route("/search/cnic", post(search::search_cnic))
        .route("/c/{number}", get(challan::challan))
        // The design's name for the challan page; `/c/` is the short form printed and linked.
        .route("/challans/{number}", get(challan::challan))
        // The appeal form may carry an evidence file: a larger body limit on this route only.
        .route(
            "/c/{number}/appeal",
            get(appeal::appeal_get).post(
                appeal::appeal_post.layer(DefaultBodyLimit::max(appeal::APPEAL_FORM_BODY_LIMIT)),
            ),
        )
        .route("/c/{number}/pay", get(pay::pay_get).post(pay::pay_post))
}

/// A whole page as a response that no cache keeps (it shows amounts due today).
fn respond(status: StatusCode, page: Markup) -> Response {
    let mut r = (status, Html(page.into_string())).into_response();
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A page that only says what went wrong, with a link home.
fn message_page(lang: Lang, status: StatusCode, here: &str, title: &str, msg: &str) -> Response {
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

fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

fn status_label(lang: Lang, status: &str) -> &'static str {
    match status {
        "paid" => tr(lang, "portal.paid"),
        "cancelled" => tr(lang, "portal.cancelled_status"),
        _ => tr(lang, "portal.unpaid"),
    }
}

/// A challan as the portal shows it, with its signed QR token.
struct ChallanData {
    view: PublicChallanView,
    due_date: time::Date,
    token: String,
}

async fn load(state: &AppState, number: ChallanNumber) -> Result<Option<ChallanData>, ApiError> {
    let found = state
        .store
        .read(move |tx| match challans::by_number(tx, &number)? {
            Some(c) => {
                let names = catalogue::names_for(tx, &c)?;
                let paid = payments::receipt_for_challan(tx, &c.number.to_string())?;
                Ok(Some((c, names, paid)))
            }
            None => Ok(None),
        })
        .await?;
    Ok(found.map(|(c, names, paid)| {
        let token = state.keys.signer.sign_challan(&c);
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
async fn challan_or_page(
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
