//! The console's home page: links to the sections the signed-in role may use.

use super::session::ConsoleSession;
use crate::i18n::{self, tr};
use crate::AppState;
use axum::http::Uri;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use efine_core::auth::Role;
use maud::html;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/staff", get(home))
}

/// `GET /staff`: the sections this role may use.
async fn home(s: ConsoleSession, uri: Uri) -> Response {
    let l = s.lang;
    let role = s.principal.role;
    let mut links: Vec<(&str, &'static str)> = Vec::new();
    if role == Role::Officer {
        links.push(("/staff/challans/new", "staff.issue"));
    }
    links.push(("/staff/challans", "staff.search"));
    if matches!(role, Role::Supervisor | Role::Admin) {
        links.push(("/staff/queues", "queues.title"));
    }
    if matches!(role, Role::Finance | Role::Admin | Role::Auditor) {
        links.push(("/staff/finance", "finance.title"));
    }
    if matches!(role, Role::DepartmentAdmin | Role::Admin) {
        links.push(("/staff/schedule", "console.schedule"));
    }
    if role == Role::Admin {
        links.push(("/staff/users", "admin.title"));
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
