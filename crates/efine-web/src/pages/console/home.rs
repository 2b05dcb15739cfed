//! The console's home page: links to the sections the signed-in role may use.

use super::session::ConsoleSession;
use crate::i18n::{self, tr};
use crate::AppState;
use axum::http::Uri;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use efine_core::auth::Action;
use maud::html;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/staff", get(home))
}

/// `GET /staff`: the sections this role may use.
async fn home(s: ConsoleSession, uri: Uri) -> Response {
    let l = s.lang;
    let mut links: Vec<(&str, &'static str)> = Vec::new();
    if s.may(Action::IssueChallan) {
        links.push(("/staff/challans/new", "staff.issue"));
    }
    links.push(("/staff/challans", "staff.search"));
    if s.may(Action::CheckVehicle) {
        links.push(("/staff/checkpoint", "checkpoint.nav"));
    }
    if s.may(Action::ReadQueues) {
        links.push(("/staff/queues", "queues.title"));
    }
    if s.may(Action::ReadRefunds) {
        links.push(("/staff/finance", "finance.title"));
    }
    if s.may(Action::VerifyRecord) {
        links.push(("/staff/audit", "audit.title"));
    }
    if s.may(Action::ReadCashUp) {
        links.push(("/staff/finance/cash", "cash.title"));
    }
    if s.may(Action::ChangeSchedule) {
        links.push(("/staff/schedule", "console.schedule"));
    }
    if s.may(Action::ManageUsers) {
        links.push(("/staff/users", "admin.title"));
    }
    if super::devices::may_manage(&s) {
        links.push(("/staff/devices", "devices.title"));
    }
    let body = html! {
        ul {
            @for (href, key) in links {
                li { a href=(href) { (tr(l, key)) } }
            }
        }
    };
    s.page(&i18n::here(&uri), tr(l, "staff.console"), body)
}
