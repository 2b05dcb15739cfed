//! The checkpoint page for officers and supervisors: a plate's unpaid challans in every district
//! and department (a checkpoint in Swat must see Peshawar's), what they add up to today, the
//! highest enforcement stage with the action to take, and the clearance verdict (whether a
//! transfer of ownership must be refused). The same store read as
//! `GET /api/v1/vehicles/{vehicle}/status` and `/clearance`.
//!
//! The plate is posted, not put in the address, so it stays out of access logs and history.

use super::parts::{ident, isolate};
use super::session::{ConsoleForm, ConsoleSession};
use crate::error::ApiError;
use crate::i18n::{self, money, tr, trf, Lang};
use crate::AppState;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use efine_core::auth::{Action, Scope};
use efine_core::clock::karachi_date;
use efine_core::penalty::Stage;
use efine_core::VehicleNumber;
use efine_store::ops::catalogue::{self, Names};
use efine_store::ops::enforcement::{self, VehicleStatus};
use maud::{html, Markup};
use serde::Deserialize;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/staff/checkpoint", get(form_page).post(check))
}

/// The stage's name for the reader.
pub(super) fn stage_label(l: Lang, s: Stage) -> &'static str {
    match s {
        Stage::ImpoundEligible => tr(l, "checkpoint.stage_impound"),
        Stage::LicenceSuspended => tr(l, "checkpoint.stage_licence"),
        Stage::TransferBlocked => tr(l, "checkpoint.stage_transfer"),
    }
}

/// What the officer should do, in the reader's language (the store's
/// `VehicleStatus::recommended_action` says the same in English for the API).
fn action_label(l: Lang, s: &VehicleStatus) -> &'static str {
    match (s.stage, s.unpaid.is_empty()) {
        (Some(Stage::ImpoundEligible), _) => tr(l, "checkpoint.action_impound"),
        (Some(Stage::LicenceSuspended), _) => tr(l, "checkpoint.action_licence"),
        (Some(Stage::TransferBlocked), _) => tr(l, "checkpoint.action_transfer"),
        (None, false) => tr(l, "checkpoint.action_pay"),
        (None, true) => tr(l, "checkpoint.action_none"),
    }
}

fn lookup_form(s: &ConsoleSession, value: &str) -> Markup {
    let l = s.lang;
    html! {
        form method="post" action="/staff/checkpoint" class="box" {
            (s.csrf_field())
            label for="vehicle" { (tr(l, "portal.vehicle")) }
            input id="vehicle" name="vehicle" dir="ltr" required maxlength="20"
                autocomplete="off" autocapitalize="characters" value=(value);
            p.hint { (tr(l, "checkpoint.hint")) }
            p { button type="submit" { (tr(l, "checkpoint.check")) } }
        }
    }
}

/// `GET /staff/checkpoint`: the plate form.
pub async fn form_page(s: ConsoleSession, uri: Uri) -> Response {
    if let Err(r) = s.require(Action::CheckVehicle) {
        return r;
    }
    let l = s.lang;
    s.page(
        &i18n::here(&uri),
        tr(l, "checkpoint.title"),
        lookup_form(&s, ""),
    )
}

#[derive(Deserialize)]
pub struct CheckForm {
    #[serde(default)]
    vehicle: String,
}

/// `POST /staff/checkpoint`: the plate's unpaid challans everywhere, the total due today, the
/// stage and action, and the clearance verdict.
pub async fn check(State(state): State<AppState>, uri: Uri, f: ConsoleForm<CheckForm>) -> Response {
    let s = f.session;
    if let Err(r) = s.require(Action::CheckVehicle) {
        return r;
    }
    let l = s.lang;
    let here = i18n::here(&uri);
    let typed = f.form.vehicle.trim().to_string();
    let vehicle = match VehicleNumber::parse(&typed) {
        Ok(v) => v,
        Err(_) => {
            let body = html! {
                p.bad role="alert" id="problem" { (tr(l, "checkpoint.bad_vehicle")) }
                (lookup_form(&s, &typed))
            };
            return s.status_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                &here,
                tr(l, "checkpoint.title"),
                body,
            );
        }
    };
    let on = karachi_date(state.store.now());
    let found = state
        .store
        .read(move |tx| {
            let st = enforcement::vehicle_status(tx, &vehicle, on)?;
            let mut names = Vec::with_capacity(st.unpaid.len());
            for c in &st.unpaid {
                names.push(catalogue::names_for(tx, c)?);
            }
            Ok((st, names))
        })
        .await;
    let (st, names) = match found {
        Ok(v) => v,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let body = html! {
        (lookup_form(&s, st.vehicle.as_str()))
        (verdict(&s, &st))
        @if !st.unpaid.is_empty() {
            h2 { (tr(l, "checkpoint.challans")) }
            @for (c, n) in st.unpaid.iter().zip(names.iter()) {
                (challan_card(&s, &st, c, n))
            }
        }
    };
    s.page(
        &here,
        &format!(
            "{}: {}",
            tr(l, "checkpoint.title"),
            isolate(st.vehicle.as_str())
        ),
        body,
    )
}

/// The answer at the top: count and total, stage, action, clearance.
fn verdict(s: &ConsoleSession, st: &VehicleStatus) -> Markup {
    let l = s.lang;
    let count = i18n::digits(l, &st.unpaid.len().to_string());
    let blocking = st.blocking_transfer();
    let class = match (st.stage, st.unpaid.is_empty()) {
        (_, true) => "box ok",
        (None, false) => "box warn",
        (Some(_), false) => "box bad-box",
    };
    html! {
        section class=(class) id="verdict" aria-live="polite" {
            h2 {
                (ident(st.vehicle.as_str())) " "
                @if st.unpaid.is_empty() {
                    (tr(l, "checkpoint.none_unpaid"))
                } @else {
                    (trf(l, "checkpoint.unpaid", &[("count", &count)]))
                }
            }
            dl.facts {
                dt { (tr(l, "checkpoint.total_due")) }
                dd id="total-due" { strong { (money(l, st.total_due)) } }
                dt { (tr(l, "checkpoint.stage")) }
                dd id="stage" {
                    @match st.stage {
                        Some(x) => (stage_label(l, x)),
                        None => (tr(l, "checkpoint.no_stage")),
                    }
                }
                dt { (tr(l, "checkpoint.action")) }
                dd id="action" { strong { (action_label(l, st)) } }
                dt { (tr(l, "checkpoint.clearance")) }
                dd id="clearance" {
                    @if blocking.is_empty() {
                        (tr(l, "checkpoint.clear"))
                    } @else {
                        strong { (tr(l, "checkpoint.blocked")) }
                        ul {
                            @for c in &blocking {
                                li {
                                    (trf(l, "checkpoint.blocked_by", &[
                                        ("date", &i18n::date(l, c.terms().effective_due_date())),
                                        ("amount", &money(l, c.amount_due(st.on))),
                                    ]))
                                    " " (ident(&c.number.to_string()))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn challan_card(
    s: &ConsoleSession,
    st: &VehicleStatus,
    c: &efine_core::challan::Challan,
    n: &Names,
) -> Markup {
    let l = s.lang;
    let number = c.number.to_string();
    // A record outside the reader's district is listed, not opened (the record page would
    // answer "not found").
    let readable = s
        .principal
        .may(Action::ReadChallan, &Scope::of(&c.department, &c.district))
        .is_ok();
    html! {
        article.box.card id={ "c-" (number) } {
            p.card-head {
                @if readable {
                    a href={ "/staff/challans/" (number) } { (ident(&number)) }
                } @else {
                    (ident(&number))
                }
                " " strong.amount { (money(l, c.amount_due(st.on))) }
            }
            p { (l.pick(&n.offence_en, &n.offence_ur)) }
            p.hint {
                (l.pick(&n.district_en, &n.district_ur)) " · " (l.pick(&n.department_en, &n.department_ur))
            }
            p.hint {
                (tr(l, "portal.issued")) ": " (i18n::date(l, karachi_date(c.issued_at)))
                " · " (tr(l, "portal.due_date")) ": " (i18n::date(l, c.terms().effective_due_date()))
            }
            @if let Some(x) = VehicleStatus::stage_of(c, st.on) {
                p { strong { (stage_label(l, x)) } }
            }
            @if c.adjustments.paused_since.is_some() {
                p.hint { (tr(l, "checkpoint.under_appeal")) }
            }
        }
    }
}
