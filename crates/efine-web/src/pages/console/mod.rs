//! The staff console: server-rendered pages behind [`session::ConsoleSession`] (login, search,
//! desk issuing, a challan's record, supervisors' queues, finance, accounts, the schedule).
//!
//! Pages are maud templates, so every value from a request, the database or the catalogue is
//! escaped where it is written; no page builds HTML by hand. Each module owns its routes and
//! [`router`] merges them. Staff see records in full (they are within scope); pages are
//! `no-store`.

pub mod detail;
pub mod devices;
pub mod fees;
pub mod finance;
pub mod home;
pub mod issue;
mod parts;
pub mod queues;
pub mod schedule;
pub mod search;
pub mod security;
pub mod session;
pub mod users;

use crate::AppState;
use axum::Router;

/// Every `/staff` route.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(home::router())
        .merge(session::router())
        .merge(search::router())
        .merge(issue::router())
        .merge(detail::router())
        .merge(queues::router())
        .merge(finance::router())
        .merge(users::router())
        .merge(devices::router())
        .merge(security::router())
        .merge(schedule::router())
        .merge(fees::router())
}
