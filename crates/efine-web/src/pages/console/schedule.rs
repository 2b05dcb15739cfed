//! The offence and fee schedule (department admins for their department, admins for all):
//! each offence with a form that makes a new version of its amount and days to pay.

use super::parts::{ident, offences_for, see_other};
use super::session::{ConsoleForm, ConsoleSession};
use crate::error::ApiError;
use crate::i18n::{self, tr};
use crate::AppState;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use efine_core::auth::{Action, Scope};
use efine_core::{DepartmentCode, Money, OffenceCode};
use efine_store::ops::catalogue;
use maud::html;
use serde::Deserialize;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/staff/schedule", get(schedule).post(schedule_post))
}

/// `GET /staff/schedule`: the offence and fee schedule of the principal's department (all
/// departments for an admin), each with a form to change its amount or days to pay.
pub async fn schedule(State(state): State<AppState>, s: ConsoleSession, uri: Uri) -> Response {
    if let Err(r) = s.require(Action::ChangeSchedule) {
        return r;
    }
    let l = s.lang;
    let offences = match offences_for(&state, s.principal.department.clone()).await {
        Ok(o) => o,
        Err(e) => return e.into_response(),
    };
    let body = html! {
        p.hint { (tr(l, "console.schedule_hint")) }
        div.scroll {
            table {
                thead {
                    tr {
                        th scope="col" { (tr(l, "portal.department")) }
                        th scope="col" { (tr(l, "portal.offence")) }
                        th scope="col" { (tr(l, "console.legal_reference")) }
                        th scope="col" { (tr(l, "console.change")) }
                    }
                }
                tbody {
                    @for o in &offences {
                        @let id = format!("{}-{}", o.department, o.code);
                        tr {
                            td { (o.department.as_str()) }
                            td {
                                (l.pick(&o.name_en, &o.name_ur)) br;
                                (ident(o.code.as_str())) " v" (o.version)
                            }
                            td { (o.legal_reference) }
                            td {
                                form method="post" action="/staff/schedule" {
                                    (s.csrf_field())
                                    input type="hidden" name="department" value=(o.department.as_str());
                                    input type="hidden" name="code" value=(o.code.as_str());
                                    label for={ "a-" (id) } { (tr(l, "console.amount_rupees")) }
                                    input id={ "a-" (id) } name="rupees" inputmode="numeric" dir="ltr"
                                        value=(o.amount.paisa() / 100) class="w8";
                                    label for={ "d-" (id) } { (tr(l, "console.days_to_pay")) }
                                    input id={ "d-" (id) } name="days" inputmode="numeric" dir="ltr"
                                        value=(o.days_to_pay) class="w5";
                                    button type="submit" { (tr(l, "console.save")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    s.page(&i18n::here(&uri), tr(l, "console.schedule"), body)
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
    if let Err(r) = s.require(Action::ChangeSchedule) {
        return r;
    }
    let l = s.lang;
    let form = f.form;
    let bad = |s: &ConsoleSession, msg: &str| {
        s.status_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/staff/schedule",
            tr(l, "staff.bad_input"),
            html! {
                p.bad role="alert" { (msg) }
                p { a href="/staff/schedule" { (tr(l, "console.schedule")) } }
            },
        )
    };
    let Ok(dep) = DepartmentCode::parse(form.department.trim()) else {
        return bad(&s, "department");
    };
    if s.principal
        .may(Action::ChangeSchedule, &Scope::department(&dep))
        .is_err()
    {
        return s.forbidden();
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
