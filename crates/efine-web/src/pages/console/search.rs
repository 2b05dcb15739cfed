//! Searching the records within the principal's scope: filters, 25 to a page, previous and next
//! links that keep the filters.

use super::parts::{blank, ident, select, status_label};
use super::session::ConsoleSession;
use crate::error::ApiError;
use crate::i18n::{self, money, tr, trf};
use crate::views::today;
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use efine_core::clock::{to_micros, KARACHI};
use efine_core::{Money, VehicleNumber};
use efine_store::ops::catalogue;
use efine_store::ops::console::{self as store_console, ChallanFilter};
use maud::html;
use serde::Deserialize;

const PER_PAGE: i64 = 25;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/staff/challans", get(search))
}

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    status: Option<String>,
    district: Option<String>,
    department: Option<String>,
    vehicle: Option<String>,
    offence: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<i64>,
}

fn parse_day(v: &Option<String>) -> Result<Option<time::Date>, ()> {
    match blank(v) {
        None => Ok(None),
        Some(s) => time::Date::parse(
            &s,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map(Some)
        .map_err(|_| ()),
    }
}

fn day_start_micros(d: time::Date) -> i64 {
    to_micros(d.midnight().assume_offset(KARACHI))
}

/// `here` with `page=<p>` in place of any `page=` it had.
fn page_link(here: &str, p: i64) -> String {
    let (path, query) = here.split_once('?').unwrap_or((here, ""));
    let mut kv: Vec<&str> = query
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.starts_with("page="))
        .collect();
    let pg = format!("page={p}");
    kv.push(&pg);
    format!("{path}?{}", kv.join("&"))
}

/// `GET /staff/challans`: search with filters and pages, within the principal's scope.
pub async fn search(
    State(state): State<AppState>,
    s: ConsoleSession,
    uri: Uri,
    Query(q): Query<SearchQuery>,
) -> Response {
    let l = s.lang;
    let p = &s.principal;
    let mut errors = Vec::new();
    let mut f = ChallanFilter {
        status: blank(&q.status).filter(|v| ["unpaid", "paid", "cancelled"].contains(&v.as_str())),
        district: blank(&q.district),
        department: blank(&q.department),
        offence: blank(&q.offence),
        ..Default::default()
    };
    if let Some(v) = blank(&q.vehicle) {
        match VehicleNumber::parse(&v) {
            Ok(v) => f.vehicle = Some(v.as_str().to_string()),
            Err(e) => errors.push(format!("{}: {}", tr(l, "portal.vehicle"), e.0)),
        }
    }
    match (parse_day(&q.from), parse_day(&q.to)) {
        (Ok(a), Ok(b)) => {
            f.issued_from = a.map(day_start_micros);
            f.issued_before = b.and_then(|d| d.next_day()).map(day_start_micros);
        }
        _ => errors.push(tr(l, "console.bad_date").to_string()),
    }
    // Scope: a principal tied to a department or district sees only that.
    if let Some(d) = &p.department {
        f.department = Some(d.to_string());
    }
    if let Some(d) = &p.district {
        f.district = Some(d.to_string());
    }
    let page = q.page.unwrap_or(1).clamp(1, 100_000);
    let filter = f.clone();
    let run = errors.is_empty();
    let found = state
        .store
        .read(move |tx| {
            let districts = catalogue::districts(tx)?;
            let departments = catalogue::departments(tx)?;
            let offences = catalogue::offences(tx, None)?;
            let (list, total) = if run {
                store_console::search(tx, &filter, (page - 1) * PER_PAGE, PER_PAGE)?
            } else {
                (Vec::new(), 0)
            };
            Ok((districts, departments, offences, list, total))
        })
        .await;
    let (districts, departments, offences, list, total) = match found {
        Ok(v) => v,
        Err(e) => return ApiError::from(e).into_response(),
    };

    let statuses: Vec<(String, String)> = ["unpaid", "paid", "cancelled"]
        .iter()
        .map(|v| (v.to_string(), status_label(l, v).to_string()))
        .collect();
    let district_opts: Vec<(String, String)> = districts
        .iter()
        .map(|d| {
            (
                d.code.to_string(),
                l.pick(&d.name_en, &d.name_ur).to_string(),
            )
        })
        .collect();
    let department_opts: Vec<(String, String)> = departments
        .iter()
        .map(|d| {
            (
                d.code.to_string(),
                l.pick(&d.name_en, &d.name_ur).to_string(),
            )
        })
        .collect();
    // Offences by name (codes repeat across departments: the department picked narrows them).
    let offence_opts: Vec<(String, String)> = {
        let mut seen = std::collections::BTreeSet::new();
        offences
            .iter()
            .filter(|o| {
                f.department
                    .as_deref()
                    .is_none_or(|d| o.department.as_str() == d)
            })
            .filter(|o| seen.insert(o.code.as_str().to_string()))
            .map(|o| {
                (
                    o.code.as_str().to_string(),
                    l.pick(&o.name_en, &o.name_ur).to_string(),
                )
            })
            .collect()
    };
    let offence_name = |dep: &str, code: &str| {
        offences
            .iter()
            .find(|o| o.department.as_str() == dep && o.code.as_str() == code)
            .map(|o| l.pick(&o.name_en, &o.name_ur).to_string())
            .unwrap_or_else(|| code.to_string())
    };
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let count = trf(
        l,
        "console.found",
        &[
            ("count", &i18n::digits(l, &total.to_string())),
            ("page", &i18n::digits(l, &page.to_string())),
            ("pages", &i18n::digits(l, &pages.to_string())),
        ],
    );
    let day = today(state.store.now());
    let here = i18n::here(&uri);
    let any = tr(l, "console.any");
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let body = html! {
        form method="get" action="/staff/challans" class="box filters" {
            (select("status", tr(l, "portal.status"), f.status.as_deref(), &statuses, any))
            @if p.district.is_none() {
                (select("district", tr(l, "portal.district"), f.district.as_deref(), &district_opts, any))
            }
            @if p.department.is_none() {
                (select("department", tr(l, "portal.department"), f.department.as_deref(), &department_opts, any))
            }
            div {
                label for="vehicle" { (tr(l, "portal.vehicle")) }
                input id="vehicle" name="vehicle" dir="ltr" value=(value(&q.vehicle));
            }
            (select("offence", tr(l, "portal.offence"), f.offence.as_deref(), &offence_opts, any))
            div {
                label for="from" { (tr(l, "console.issued_from")) }
                input id="from" name="from" type="date" value=(value(&q.from));
            }
            div {
                label for="to" { (tr(l, "console.issued_to")) }
                input id="to" name="to" type="date" value=(value(&q.to));
            }
            p { button type="submit" { (tr(l, "portal.search")) } }
        }
        @for e in &errors {
            p.bad role="alert" { (e) }
        }
        p id="result-count" { (count) }
        @if !list.is_empty() {
            div.scroll {
                table {
                    thead {
                        tr {
                            th scope="col" { (tr(l, "portal.challan")) }
                            th scope="col" { (tr(l, "portal.issued")) }
                            th scope="col" { (tr(l, "portal.vehicle")) }
                            th scope="col" { (tr(l, "portal.offence")) }
                            th scope="col" { (tr(l, "portal.status")) }
                            th scope="col" { (tr(l, "portal.amount_due_today")) }
                        }
                    }
                    tbody {
                        @for c in &list {
                            @let number = c.number.to_string();
                            @let due = if c.status == efine_core::challan::ChallanStatus::Unpaid {
                                c.amount_due(day)
                            } else {
                                Money::ZERO
                            };
                            tr {
                                td { a href={ "/staff/challans/" (number) } { (ident(&number)) } }
                                td { (i18n::date(l, efine_core::clock::karachi_date(c.issued_at))) }
                                td { @if let Some(v) = &c.vehicle { (ident(v.as_str())) } }
                                td { (offence_name(c.department.as_str(), c.offence.as_str())) }
                                td { (status_label(l, c.status.as_str())) }
                                td { (money(l, due)) }
                            }
                        }
                    }
                }
            }
        }
        // Previous / next keep the filters.
        nav.row aria-label="pages" {
            @if page > 1 {
                a rel="prev" href=(page_link(&here, page - 1)) { (tr(l, "console.previous")) }
            }
            @if page < pages {
                a rel="next" href=(page_link(&here, page + 1)) { (tr(l, "console.next")) }
            }
        }
    };
    s.page(&here, tr(l, "staff.search"), body)
}
