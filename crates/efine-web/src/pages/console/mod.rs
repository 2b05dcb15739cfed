//! The staff console: server-rendered pages behind [`session::ConsoleSession`] (login, search,
//! desk issuing, a challan's record, supervisors' queues, finance, accounts, the schedule).
//!
//! Pages are maud templates, so every value from a request, the database or the catalogue is
//! escaped where it is written; no page builds HTML by hand. Each module owns its routes and
//! [`router`] merges them. Staff see records in full (they are within scope); pages are
//! `no-store`.

pub mod audit;
pub mod checkpoint;
pub mod detail;
pub mod devices;
pub mod fees;
pub mod finance;
mod history;
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

/// The console's own stylesheet, served beside the shared one (`/assets/console.<hash>.css`):
/// record cards, fact lists, verdict colours, filter chips, and tables that become one card per
/// row on a phone (`table.stack`, each cell labelled by its `data-label`).
pub const STYLE: &str = "\
.card-head{display:flex;flex-wrap:wrap;justify-content:space-between;gap:.25rem 1rem;margin:0 0 .25rem}\
.card p{margin:.2rem 0}.amount{font-size:1.15rem}\
.facts{display:grid;grid-template-columns:minmax(7rem,max-content) 1fr;gap:.25rem 1rem;margin:.5rem 0}\
.facts dt{font-weight:bold}.facts dd{margin:0}\
.warn{background:#fff4d6;border:2px solid #8a5a00}.bad-box{background:#fbe3e3;border:2px solid #a11212}\
.box.ok{padding:1rem}\
.chips{display:flex;flex-wrap:wrap;gap:.4rem;margin:.5rem 0}\
.chips a{border:2px solid #0b5d1e;border-radius:1rem;padding:.15rem .8rem;text-decoration:none;color:#0b5d1e}\
.chips a[aria-current]{background:#0b5d1e;color:#fff}\
.result{margin:1rem 0}details summary{cursor:pointer;color:#0a4fb3}\
details pre{white-space:pre-wrap;overflow-wrap:anywhere;font-size:.8rem;background:#f4f4f4;padding:.5rem}\
.history li{margin:.4rem 0}.thumb{max-width:8rem;max-height:8rem;border:1px solid #bbb}\
.num{font-variant-numeric:tabular-nums}\
@media(max-width:40rem){table.stack thead{display:none}\
table.stack tr{display:block;border:1px solid #bbb;border-radius:.4rem;margin:.5rem 0;padding:.25rem .5rem}\
table.stack td{display:block;border:0;padding:.15rem 0}\
table.stack td[data-label]::before{content:attr(data-label) ': ';font-weight:bold}}";

/// Every `/staff` route.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(home::router())
        .merge(session::router())
        .merge(search::router())
        .merge(issue::router())
        .merge(detail::router())
        .merge(checkpoint::router())
        .merge(audit::router())
        .merge(queues::router())
        .merge(finance::router())
        .merge(users::router())
        .merge(devices::router())
        .merge(security::router())
        .merge(schedule::router())
        .merge(fees::router())
}
