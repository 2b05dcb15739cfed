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
//! - `GET /fees`: the government services whose fee a citizen starts paying; a service's form
//!   makes a payable voucher (`/fees/v/{number}`), paid like a challan. ([`fees`])

pub mod appeal;
pub mod challan;
pub mod fees;
pub mod pay;
pub mod search;

mod common;

use crate::AppState;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::routing::{get, post};
use axum::Router;

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
        .route("/c/{number}/appeal/code", post(appeal::appeal_code_post))
        .route("/c/{number}/pay", get(pay::pay_get).post(pay::pay_post))
        .route("/fees", get(fees::list))
        .route("/fees/v/{number}", get(fees::voucher))
        .route(
            "/fees/{department}/{service}",
            get(fees::form).post(fees::submit),
        )
}
