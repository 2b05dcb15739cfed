//! Small pieces the console's pages share: identifiers kept left to right, a filter `<select>`,
//! form-value trimming, the status label, the offences list and the redirect after a form.

use crate::error::ApiError;
use crate::i18n::{tr, Lang};
use crate::AppState;
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use efine_core::catalogue::Offence;
use efine_core::DepartmentCode;
use efine_store::ops::catalogue;
use maud::{html, Markup};

/// A 303 to a local path (after a form is handled).
pub(super) fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

/// An identifier (challan number, PSID, plate, username) kept left to right inside Urdu text.
pub(super) fn ident(s: &str) -> Markup {
    html! { bdi dir="ltr" class="id" { (s) } }
}

/// An identifier isolated left to right inside plain text (a page title), with the Unicode
/// LRI and PDI marks; the shell escapes the title.
pub(super) fn isolate(s: &str) -> String {
    format!("\u{2066}{s}\u{2069}")
}

/// A form value with surrounding blanks trimmed; `None` when nothing is left.
pub(super) fn blank(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

pub(super) fn status_label(l: Lang, s: &str) -> &'static str {
    match s {
        "paid" => tr(l, "portal.paid"),
        "cancelled" => tr(l, "portal.cancelled_status"),
        "expired" => tr(l, "fees.expired_status"),
        _ => tr(l, "portal.unpaid"),
    }
}

/// A labelled `<select>` whose first option (value "") reads `any`.
pub(super) fn select(
    name: &str,
    label: &str,
    current: Option<&str>,
    options: &[(String, String)],
    any: &str,
) -> Markup {
    html! {
        div {
            label for=(name) { (label) }
            select id=(name) name=(name) {
                option value="" { (any) }
                @for (v, text) in options {
                    option value=(v) selected[current == Some(v.as_str())] { (text) }
                }
            }
        }
    }
}

/// The offences of a department (all departments for `None`), for the desk form and the
/// schedule.
pub(super) async fn offences_for(
    state: &AppState,
    dep: Option<DepartmentCode>,
) -> Result<Vec<Offence>, ApiError> {
    Ok(state
        .store
        .read(move |tx| catalogue::offences(tx, dep.as_ref()))
        .await?)
}

/// How long something has waited, for the reader: "3 days", "5 hours", "under an hour".
pub(super) fn age(l: Lang, now: time::OffsetDateTime, since: time::OffsetDateTime) -> String {
    let d = now - since;
    let n = |v: i64| crate::i18n::digits(l, &v.to_string());
    if d.whole_days() >= 1 {
        crate::i18n::trf(l, "console.age_days", &[("n", &n(d.whole_days()))])
    } else if d.whole_hours() >= 1 {
        crate::i18n::trf(l, "console.age_hours", &[("n", &n(d.whole_hours()))])
    } else {
        tr(l, "console.age_new").to_string()
    }
}

/// An instant in Pakistan time for the reader: `24 Nov 2026, 10:42 PKT` (Urdu digits in Urdu).
pub(super) fn pk_time(l: Lang, at: time::OffsetDateTime) -> String {
    let local = at.to_offset(efine_core::clock::KARACHI);
    let hm = format!("{:02}:{:02}", local.hour(), local.minute());
    crate::i18n::trf(
        l,
        "console.at_time",
        &[
            ("date", &crate::i18n::date(l, local.date())),
            ("time", &crate::i18n::digits(l, &hm)),
        ],
    )
}

/// A card's facts as a definition list (label, value), two columns wide enough for a phone.
pub(super) fn card_facts(rows: &[(&str, Markup)]) -> Markup {
    html! {
        dl.facts {
            @for (k, v) in rows {
                dt { (k) }
                dd { (v) }
            }
        }
    }
}
