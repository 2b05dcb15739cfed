//! The staff console's pages (server-rendered, behind [`crate::console::ConsoleSession`]):
//! home, issuing at the desk, searching records, a challan with its full event history, and the
//! offence and fee schedule. Staff see the record in full (they are within scope); the pages
//! are `no-store`.

use crate::console::{ConsoleForm, ConsoleSession};
use crate::error::ApiError;
use crate::i18n::{self, esc, ltr, money, tr, trf, Lang};
use crate::views::{today, ChallanView, IssueChallanRequest};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use efine_core::auth::Role;
use efine_core::clock::{to_micros, KARACHI};
use efine_core::{ChallanNumber, DepartmentCode, Money, OffenceCode, VehicleNumber};
use efine_store::ops::console::{self as store_console, ChallanFilter};
use efine_store::ops::idempotency::{self, Processing, Scope};
use efine_store::ops::{catalogue, challans, events};
use efine_store::{IdempotencyKey, SavedResponse};
use serde::Deserialize;

const PER_PAGE: i64 = 25;

fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

fn status_label(l: Lang, s: &str) -> &'static str {
    match s {
        "paid" => tr(l, "portal.paid"),
        "cancelled" => tr(l, "portal.cancelled_status"),
        _ => tr(l, "portal.unpaid"),
    }
}

/// `GET /staff`: the sections this role may use.
pub async fn home(s: ConsoleSession, uri: Uri) -> Response {
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
    let mut body = String::from("<ul>");
    for (href, key) in links {
        body.push_str(&format!("<li><a href=\"{href}\">{}</a></li>", tr(l, key)));
    }
    body.push_str("</ul>");
    s.page(&i18n::here(&uri), tr(l, "staff.console"), &body)
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

fn blank(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
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

fn select(
    name: &str,
    label: &str,
    current: Option<&str>,
    options: &[(String, String)],
    any: &str,
) -> String {
    let mut s = format!("<div><label for={name}>{label}</label><select id={name} name={name}><option value=\"\">{any}</option>");
    for (v, text) in options {
        s.push_str(&format!(
            "<option value=\"{}\"{}>{}</option>",
            esc(v),
            if current == Some(v.as_str()) {
                " selected"
            } else {
                ""
            },
            esc(text)
        ));
    }
    s.push_str("</select></div>");
    s
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
            let (list, total) = if run {
                store_console::search(tx, &filter, (page - 1) * PER_PAGE, PER_PAGE)?
            } else {
                (Vec::new(), 0)
            };
            Ok((districts, departments, list, total))
        })
        .await;
    let (districts, departments, list, total) = match found {
        Ok(v) => v,
        Err(e) => return ApiError::from(e).into_response(),
    };

    let mut body =
        String::from("<form method=get action=\"/staff/challans\" class=\"box filters\">");
    let statuses: Vec<(String, String)> = ["unpaid", "paid", "cancelled"]
        .iter()
        .map(|v| (v.to_string(), status_label(l, v).to_string()))
        .collect();
    body.push_str(&select(
        "status",
        tr(l, "portal.status"),
        f.status.as_deref(),
        &statuses,
        tr(l, "console.any"),
    ));
    if p.district.is_none() {
        let opts: Vec<(String, String)> = districts
            .iter()
            .map(|d| {
                (
                    d.code.to_string(),
                    l.pick(&d.name_en, &d.name_ur).to_string(),
                )
            })
            .collect();
        body.push_str(&select(
            "district",
            tr(l, "portal.district"),
            f.district.as_deref(),
            &opts,
            tr(l, "console.any"),
        ));
    }
    if p.department.is_none() {
        let opts: Vec<(String, String)> = departments
            .iter()
            .map(|d| {
                (
                    d.code.to_string(),
                    l.pick(&d.name_en, &d.name_ur).to_string(),
                )
            })
            .collect();
        body.push_str(&select(
            "department",
            tr(l, "portal.department"),
            f.department.as_deref(),
            &opts,
            tr(l, "console.any"),
        ));
    }
    body.push_str(&format!(
        "<div><label for=vehicle>{}</label><input id=vehicle name=vehicle dir=ltr value=\"{}\"></div>\
         <div><label for=offence>{}</label><input id=offence name=offence dir=ltr value=\"{}\"></div>\
         <div><label for=from>{}</label><input id=from name=from type=date value=\"{}\"></div>\
         <div><label for=to>{}</label><input id=to name=to type=date value=\"{}\"></div>\
         <p><button type=submit>{}</button></p></form>",
        tr(l, "portal.vehicle"),
        esc(q.vehicle.as_deref().unwrap_or("")),
        tr(l, "console.offence_code"),
        esc(q.offence.as_deref().unwrap_or("")),
        tr(l, "console.issued_from"),
        esc(q.from.as_deref().unwrap_or("")),
        tr(l, "console.issued_to"),
        esc(q.to.as_deref().unwrap_or("")),
        tr(l, "portal.search"),
    ));
    for e in &errors {
        body.push_str(&format!("<p class=bad role=alert>{}</p>", esc(e)));
    }
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    body.push_str(&format!(
        "<p id=result-count>{}</p>",
        esc(&trf(
            l,
            "console.found",
            &[
                ("count", &i18n::digits(l, &total.to_string())),
                ("page", &i18n::digits(l, &page.to_string())),
                ("pages", &i18n::digits(l, &pages.to_string())),
            ]
        ))
    ));
    if !list.is_empty() {
        let day = today(state.store.now());
        body.push_str(&format!(
            "<div class=scroll><table><thead><tr><th scope=col>{}</th><th scope=col>{}</th><th scope=col>{}</th><th scope=col>{}</th><th scope=col>{}</th><th scope=col>{}</th></tr></thead><tbody>",
            tr(l, "portal.challan"),
            tr(l, "portal.issued"),
            tr(l, "portal.vehicle"),
            tr(l, "console.offence_code"),
            tr(l, "portal.status"),
            tr(l, "portal.amount_due_today"),
        ));
        for c in &list {
            let due = if c.status == efine_core::challan::ChallanStatus::Unpaid {
                c.amount_due(day)
            } else {
                Money::ZERO
            };
            body.push_str(&format!(
                "<tr><td><a href=\"/staff/challans/{n}\">{id}</a></td><td>{d}</td><td>{v}</td><td>{o}</td><td>{s}</td><td>{a}</td></tr>",
                n = esc(&c.number.to_string()),
                id = ltr(&c.number.to_string()),
                d = esc(&i18n::date(l, efine_core::clock::karachi_date(c.issued_at))),
                v = c.vehicle.as_ref().map(|v| ltr(v.as_str())).unwrap_or_default(),
                o = ltr(c.offence.as_str()),
                s = status_label(l, c.status.as_str()),
                a = esc(&money(l, due)),
            ));
        }
        body.push_str("</tbody></table></div>");
    }
    // Previous / next keep the filters.
    let here = i18n::here(&uri);
    let link = |p: i64| {
        let (path, query) = here.split_once('?').unwrap_or((&here, ""));
        let mut kv: Vec<&str> = query
            .split('&')
            .filter(|kv| !kv.is_empty() && !kv.starts_with("page="))
            .collect();
        let pg = format!("page={p}");
        kv.push(&pg);
        format!("{path}?{}", kv.join("&"))
    };
    body.push_str("<nav class=row aria-label=pages>");
    if page > 1 {
        body.push_str(&format!(
            "<a rel=prev href=\"{}\">{}</a>",
            esc(&link(page - 1)),
            tr(l, "console.previous")
        ));
    }
    if page < pages {
        body.push_str(&format!(
            "<a rel=next href=\"{}\">{}</a>",
            esc(&link(page + 1)),
            tr(l, "console.next")
        ));
    }
    body.push_str("</nav>");
    s.page(&here, tr(l, "staff.search"), &body)
}

/// `GET /staff/challans/{number}`: the whole record and its event history.
pub async fn detail(
    State(state): State<AppState>,
    s: ConsoleSession,
    uri: Uri,
    Path(number): Path<String>,
) -> Response {
    let l = s.lang;
    let here = i18n::here(&uri);
    let not_found = |s: &ConsoleSession| {
        s.status_page(
            StatusCode::NOT_FOUND,
            "/staff/challans",
            tr(l, "portal.not_found"),
            &format!("<p>{}</p>", tr(l, "portal.not_found_body")),
        )
    };
    let Ok(n) = ChallanNumber::parse(&number) else {
        return not_found(&s);
    };
    let who = s.principal.clone();
    let found = state
        .store
        .read(move |tx| {
            let Some(c) = challans::by_number(tx, &n)? else {
                return Ok(None);
            };
            if !who.can_view(&c.department, &c.district) {
                return Ok(None);
            }
            let names = catalogue::names_for(tx, &c)?;
            let mut evs = events::for_subject(tx, &c.number.to_string())?;
            let paid = efine_store::ops::payments::receipt_for_challan(tx, &c.number.to_string())?;
            if let Some(r) = &paid {
                evs.extend(events::for_subject(tx, &r.number)?);
                evs.sort_by_key(|e| e.seq);
            }
            Ok(Some((c, names, paid, evs)))
        })
        .await;
    let (c, names, paid, evs) = match found {
        Ok(Some(v)) => v,
        Ok(None) => return not_found(&s),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let due_date = c.due_date;
    let v = ChallanView::new(c, names, paid, evs, today(state.store.now()));
    let m = |p: i64| esc(&money(l, Money::from_paisa(p).unwrap_or(Money::ZERO)));
    let opt = |o: &Option<String>| o.as_deref().map(ltr).unwrap_or_else(|| "-".into());
    let rows: Vec<(&str, String)> = vec![
        (tr(l, "portal.challan_number"), ltr(&v.challan_number)),
        (tr(l, "portal.psid"), ltr(&v.psid)),
        (tr(l, "portal.status"), status_label(l, &v.status).into()),
        (
            tr(l, "portal.offence"),
            format!(
                "{} ({}, v{})",
                esc(l.pick(&v.offence_name_en, &v.offence_name_ur)),
                ltr(&v.offence_code),
                v.offence_version
            ),
        ),
        (tr(l, "console.legal_reference"), esc(&v.legal_reference)),
        (tr(l, "portal.department"), esc(&v.department_name)),
        (tr(l, "portal.district"), esc(&v.district_name)),
        (tr(l, "console.amount"), m(v.amount)),
        (tr(l, "portal.amount_due_today"), m(v.amount_due)),
        (tr(l, "portal.due_date"), esc(&i18n::date(l, due_date))),
        (tr(l, "portal.amount_after"), m(v.amount_after_due_date)),
        (tr(l, "portal.issued"), ltr(&v.issued_at)),
        (tr(l, "console.officer"), ltr(&v.officer)),
        (tr(l, "portal.vehicle"), opt(&v.vehicle_number)),
        (tr(l, "console.cnic"), opt(&v.cnic)),
        (tr(l, "console.mobile"), opt(&v.mobile)),
        (
            tr(l, "portal.name"),
            v.name.as_deref().map(esc).unwrap_or_else(|| "-".into()),
        ),
        (
            tr(l, "console.location"),
            v.location
                .text
                .as_deref()
                .map(esc)
                .unwrap_or_else(|| "-".into()),
        ),
        (
            tr(l, "console.notes"),
            v.notes.as_deref().map(esc).unwrap_or_else(|| "-".into()),
        ),
    ];
    let mut body = String::from("<table>");
    for (k, val) in rows {
        body.push_str(&format!("<tr><th scope=row>{k}</th><td>{val}</td></tr>"));
    }
    body.push_str("</table>");
    if let Some(p) = &v.paid {
        body.push_str(&format!(
            "<p class=ok>{}: {} &middot; {} &middot; <a href=\"/payments/{r}/receipt.pdf\">{}</a></p>",
            tr(l, "portal.amount_paid"),
            m(p.amount),
            esc(&p.rail_label),
            ltr(&p.receipt_number),
            r = esc(&p.receipt_number),
        ));
    }
    body.push_str(&format!(
        "<p><a href=\"/challans/{n}/receipt.pdf\">{}</a></p><h2>{}</h2>\
         <div class=scroll><table id=events><thead><tr><th scope=col>#</th><th scope=col>{}</th><th scope=col>{}</th><th scope=col>{}</th><th scope=col>{}</th></tr></thead><tbody>",
        tr(l, "portal.download"),
        tr(l, "console.history"),
        tr(l, "console.when"),
        tr(l, "console.event"),
        tr(l, "console.actor"),
        tr(l, "console.details"),
        n = esc(&v.challan_number),
    ));
    for e in &v.events {
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code dir=ltr>{}</code></td></tr>",
            e.seq,
            ltr(&e.at),
            ltr(&e.kind),
            ltr(&e.actor),
            esc(&e.payload.to_string()),
        ));
    }
    body.push_str("</tbody></table></div>");
    if v.status == "unpaid" {
        body.push_str(&crate::queues::request_form(&s, &v.challan_number));
    }
    let title = format!(
        "{} {}",
        tr(l, "portal.challan"),
        i18n::ltr_text(&v.challan_number)
    );
    s.page(&here, &title, &body)
}

fn issue_form(
    s: &ConsoleSession,
    offences: &[efine_core::catalogue::Offence],
    key: &str,
    values: &DeskIssue,
    error: Option<&str>,
) -> String {
    let l = s.lang;
    let mut b = String::new();
    if let Some(e) = error {
        b.push_str(&format!(
            "<p class=bad role=alert id=form-error>{}</p>",
            esc(e)
        ));
    }
    b.push_str(&format!(
        "<form method=post action=\"/staff/challans/new\">{}<input type=hidden name=key value=\"{}\">",
        s.csrf_field(),
        esc(key)
    ));
    let opts: Vec<(String, String)> = offences
        .iter()
        .map(|o| {
            (
                o.code.to_string(),
                format!(
                    "{} ({})",
                    l.pick(&o.name_en, &o.name_ur),
                    money(l, o.amount)
                ),
            )
        })
        .collect();
    b.push_str(&select(
        "offence_code",
        tr(l, "portal.offence"),
        Some(values.offence_code.as_str()),
        &opts,
        "",
    ));
    let field = |name: &str, key: &'static str, value: &Option<String>, extra: &str| {
        format!(
            "<label for={name}>{}</label><input id={name} name={name} {extra} value=\"{}\">",
            tr(l, key),
            esc(value.as_deref().unwrap_or(""))
        )
    };
    b.push_str(&field(
        "vehicle_number",
        "portal.vehicle",
        &values.vehicle_number,
        "dir=ltr autocomplete=off",
    ));
    b.push_str(&field(
        "cnic",
        "console.cnic",
        &values.cnic,
        "dir=ltr inputmode=numeric autocomplete=off",
    ));
    b.push_str(&field(
        "mobile",
        "console.mobile",
        &values.mobile,
        "dir=ltr inputmode=tel autocomplete=off",
    ));
    b.push_str(&field(
        "name",
        "portal.name",
        &values.name,
        "autocomplete=off",
    ));
    b.push_str(&field("location", "console.location", &values.location, ""));
    b.push_str(&format!(
        "<label for=notes>{}</label><textarea id=notes name=notes rows=3>{}</textarea>\
         <p class=hint>{}</p><p><button type=submit>{}</button></p></form>",
        tr(l, "console.notes"),
        esc(values.notes.as_deref().unwrap_or("")),
        tr(l, "console.issue_hint"),
        tr(l, "staff.issue"),
    ));
    b
}

#[derive(Deserialize, Default)]
pub struct DeskIssue {
    #[serde(default)]
    offence_code: String,
    vehicle_number: Option<String>,
    cnic: Option<String>,
    mobile: Option<String>,
    name: Option<String>,
    location: Option<String>,
    notes: Option<String>,
    /// A random value put in the form when it was shown: submitting the same form twice
    /// issues one challan (the idempotency key).
    #[serde(default)]
    key: String,
}

async fn offences_for(
    state: &AppState,
    dep: Option<DepartmentCode>,
) -> Result<Vec<efine_core::catalogue::Offence>, ApiError> {
    Ok(state
        .store
        .read(move |tx| catalogue::offences(tx, dep.as_ref()))
        .await?)
}

/// `GET /staff/challans/new`: the desk form (officers).
pub async fn new_get(State(state): State<AppState>, s: ConsoleSession, uri: Uri) -> Response {
    if let Err(r) = s.require(&[Role::Officer]) {
        return r;
    }
    let offences = match offences_for(&state, s.principal.department.clone()).await {
        Ok(o) => o,
        Err(e) => return e.into_response(),
    };
    let (key, _) = efine_store::ops::users::new_token();
    let body = issue_form(&s, &offences, &key, &DeskIssue::default(), None);
    s.page(&i18n::here(&uri), tr(s.lang, "staff.issue"), &body)
}

/// `POST /staff/challans/new`: issues through the same store call as the API; a resubmitted
/// form (same key) shows the challan it issued the first time.
pub async fn new_post(State(state): State<AppState>, f: ConsoleForm<DeskIssue>) -> Response {
    let s = f.session;
    let form = f.form;
    if let Err(r) = s.require(&[Role::Officer]) {
        return r;
    }
    let officer = s.principal.clone();
    let blank = |v: &Option<String>| blank(v);
    let req = IssueChallanRequest {
        offence_code: form.offence_code.trim().to_string(),
        district: None,
        department: None,
        vehicle_number: blank(&form.vehicle_number),
        vehicle_authority: None,
        cnic: blank(&form.cnic),
        mobile: blank(&form.mobile),
        name: blank(&form.name),
        location: blank(&form.location).map(|t| crate::views::LocationInput {
            lat: None,
            lon: None,
            text: Some(t),
        }),
        notes: blank(&form.notes),
    };
    let valid_key = !form.key.is_empty()
        && form.key.len() <= 128
        && form.key.bytes().all(|b| b.is_ascii_alphanumeric());
    let idem = valid_key.then(|| IdempotencyKey {
        key: form.key.clone(),
        request_hash: idempotency::fields_hash(&[
            Some(req.offence_code.as_str()),
            req.vehicle_number.as_deref(),
            req.cnic.as_deref(),
            req.mobile.as_deref(),
            req.name.as_deref(),
            blank(&form.location).as_deref(),
            req.notes.as_deref(),
        ]),
    });
    let rerender = |s: &ConsoleSession, msg: &str, offences: Vec<_>| {
        s.status_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/staff/challans/new",
            tr(s.lang, "staff.issue"),
            &issue_form(s, &offences, &form.key, &form, Some(msg)),
        )
    };
    let new = match req.into_new(&officer) {
        Ok(n) => n,
        Err(e) => {
            let offences = offences_for(&state, s.principal.department.clone())
                .await
                .unwrap_or_default();
            let msg = match &e.field {
                Some(f) => format!("{f}: {}", e.message),
                None => e.message.clone(),
            };
            return rerender(&s, &msg, offences);
        }
    };
    let now = state.store.now();
    // One write: the challan this form issued before, or a new one saved against the form's key.
    let outcome = state
        .store
        .write(move |tx| {
            let scope = Scope::console(officer.user_id);
            if let Some(k) = &idem {
                if let Processing::Replay(saved) = idempotency::try_processing(tx, &scope, k)? {
                    return Ok(saved.body);
                }
            }
            let number = challans::issue(tx, &officer, &new, now)?.number.to_string();
            if let Some(k) = &idem {
                let saved = SavedResponse {
                    status: 201,
                    body: number.clone(),
                };
                idempotency::save_response(tx, &scope, k, &saved, now)?;
            }
            Ok(number)
        })
        .await;
    let number = match outcome {
        Ok(number) => number,
        Err(e) => {
            let e = ApiError::from(e);
            if e.status.is_server_error() {
                return e.into_response();
            }
            let offences = offences_for(&state, s.principal.department.clone())
                .await
                .unwrap_or_default();
            return rerender(&s, &e.message, offences);
        }
    };
    see_other(&format!("/staff/challans/{number}"))
}

/// `GET /staff/schedule`: the offence and fee schedule of the principal's department (all
/// departments for an admin), each with a form to change its amount or days to pay.
pub async fn schedule(State(state): State<AppState>, s: ConsoleSession, uri: Uri) -> Response {
    if let Err(r) = s.require(&[Role::DepartmentAdmin, Role::Admin]) {
        return r;
    }
    let l = s.lang;
    let offences = match offences_for(&state, s.principal.department.clone()).await {
        Ok(o) => o,
        Err(e) => return e.into_response(),
    };
    let mut body = format!(
        "<p class=hint>{}</p><div class=scroll><table><thead><tr><th scope=col>{}</th><th scope=col>{}</th><th scope=col>{}</th><th scope=col>{}</th></tr></thead><tbody>",
        tr(l, "console.schedule_hint"),
        tr(l, "portal.department"),
        tr(l, "portal.offence"),
        tr(l, "console.legal_reference"),
        tr(l, "console.change"),
    );
    for o in &offences {
        let id = format!("{}-{}", o.department, o.code);
        body.push_str(&format!(
            "<tr><td>{dep}</td><td>{name}<br>{code} v{ver}</td><td>{legal}</td><td>\
             <form method=post action=\"/staff/schedule\">{csrf}\
             <input type=hidden name=department value=\"{dep}\"><input type=hidden name=code value=\"{c}\">\
             <label for=a-{id}>{al}</label><input id=a-{id} name=rupees inputmode=numeric dir=ltr value=\"{amt}\" style=\"max-width:8rem\">\
             <label for=d-{id}>{dl}</label><input id=d-{id} name=days inputmode=numeric dir=ltr value=\"{days}\" style=\"max-width:5rem\">\
             <button type=submit>{save}</button></form></td></tr>",
            dep = esc(o.department.as_str()),
            name = esc(l.pick(&o.name_en, &o.name_ur)),
            code = ltr(o.code.as_str()),
            c = esc(o.code.as_str()),
            ver = o.version,
            legal = esc(&o.legal_reference),
            csrf = s.csrf_field(),
            al = tr(l, "console.amount_rupees"),
            amt = o.amount.paisa() / 100,
            dl = tr(l, "console.days_to_pay"),
            days = o.days_to_pay,
            save = tr(l, "console.save"),
        ));
    }
    body.push_str("</tbody></table></div>");
    s.page(&i18n::here(&uri), tr(l, "console.schedule"), &body)
}

#[derive(Deserialize)]
pub struct ScheduleForm {
    department: String,
    code: String,
    rupees: String,
    days: String,
}

/// `POST /staff/schedule`: a new version of one offence's amount and days to pay (the old
/// version stays for the challans issued under it).
pub async fn schedule_post(
    State(state): State<AppState>,
    f: ConsoleForm<ScheduleForm>,
) -> Response {
    let s = f.session;
    if let Err(r) = s.require(&[Role::DepartmentAdmin, Role::Admin]) {
        return r;
    }
    let l = s.lang;
    let form = f.form;
    let bad = |s: &ConsoleSession, msg: &str| {
        s.status_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/staff/schedule",
            tr(l, "staff.bad_input"),
            &format!(
                "<p class=bad role=alert>{}</p><p><a href=\"/staff/schedule\">{}</a></p>",
                esc(msg),
                tr(l, "console.schedule")
            ),
        )
    };
    let Ok(dep) = DepartmentCode::parse(form.department.trim()) else {
        return bad(&s, "department");
    };
    if s.principal.department.as_ref().is_some_and(|d| d != &dep) {
        return s
            .require(&[])
            .err()
            .unwrap_or_else(|| bad(&s, "department"));
    }
    let Ok(code) = OffenceCode::parse(form.code.trim()) else {
        return bad(&s, "code");
    };
    let amount = form
        .rupees
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|r| *r > 0 && *r <= 10_000_000)
        .and_then(|r| Money::from_rupees(r).ok());
    let Some(amount) = amount else {
        return bad(&s, tr(l, "console.bad_amount"));
    };
    let Some(days) = form
        .days
        .trim()
        .parse::<u16>()
        .ok()
        .filter(|d| (1..=365).contains(d))
    else {
        return bad(&s, tr(l, "console.bad_days"));
    };
    let change = catalogue::ScheduleChange {
        department: dep,
        code,
        amount,
        days_to_pay: days,
    };
    let actor = s.principal.username.clone();
    let now = state.store.now();
    match state
        .store
        .write(move |tx| catalogue::change_offence(tx, &change, &actor, now))
        .await
    {
        Ok(_) => see_other("/staff/schedule"),
        Err(e) => {
            let e = ApiError::from(e);
            if e.status.is_server_error() {
                return e.into_response();
            }
            bad(&s, &e.message)
        }
    }
}
