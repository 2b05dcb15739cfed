//! Request and response bodies of the JSON API. Money is always integer paisa (`amount_*`),
//! with a `*_display` string in rupees beside it for people; dates are local `YYYY-MM-DD`;
//! instants are RFC 3339 in UTC.
//!
//! One module per resource; everything is re-exported here, so `crate::views::X` names it.

mod auth;
mod catalogue;
mod challans;
mod documents;
mod public;
mod verify;

pub use auth::*;
pub use catalogue::*;
pub use challans::*;
pub use documents::*;
pub use public::*;
pub use verify::*;

use efine_core::clock::karachi_date;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
    pub backend: String,
}

pub fn today(now: OffsetDateTime) -> Date {
    karachi_date(now)
}
