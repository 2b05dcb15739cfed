//! The staff console's pages (server-rendered, behind [`crate::console::ConsoleSession`]).

use crate::console::ConsoleSession;
use crate::i18n::{self, tr};
use axum::http::Uri;
use axum::response::Response;
use efine_core::auth::Role;

/// `GET /staff`: the sections this role may use.
pub async fn home(s: ConsoleSession, uri: Uri) -> Response {
    let l = s.lang;
    let role = s.principal.role;
    let mut links: Vec<(&str, &'static str)> = Vec::new();
    if matches!(role, Role::Officer | Role::Supervisor | Role::Admin) {
        links.push(("/staff/challans/new", "staff.issue"));
    }
    links.push(("/staff/challans", "staff.search"));
    let mut body = String::from("<ul>");
    for (href, key) in links {
        body.push_str(&format!("<li><a href=\"{href}\">{}</a></li>", tr(l, key)));
    }
    body.push_str("</ul>");
    s.page(&i18n::here(&uri), tr(l, "staff.console"), &body)
}
