//! Supervisors' queues in the console: pending cancellation requests (four-eyes: approve or
//! reject someone else's request) and pending appeals (uphold, reduce or quash), plus the
//! request-cancellation form on a challan's console page. The same store calls and rules as
//! `/api/v1/cancellations` and `/api/v1/appeals`.

use super::parts::{ident, see_other};
use super::session::{ConsoleForm, ConsoleSession};
use crate::error::ApiError;
use crate::i18n::{self, tr};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use efine_core::auth::{Action, Scope};
use efine_core::penalty::AppealOutcome;
use efine_core::{ChallanNumber, Money};
use efine_store::ops::{appeals, cancellations};
use maud::{html, Markup};
use serde::Deserialize;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/queues", get(page))
        .route("/staff/cancellations/{id}", post(decide_cancellation))
        .route("/staff/appeals/{id}", post(decide_appeal))
        .route("/staff/appeals/{id}/evidence", get(evidence))
        .route(
            "/staff/challans/{number}/cancellation",
            post(request_cancellation),
        )
}

fn problem(s: &ConsoleSession, back: &str, e: ApiError) -> Response {
    if e.status.is_server_error() {
        return e.into_response();
    }
    s.status_page(
        e.status,
        back,
        tr(s.lang, "staff.bad_input"),
        html! {
            p.bad role="alert" id="problem" { (e.message) }
            p { a href=(back) { (tr(s.lang, "queues.back")) } }
        },
    )
}

/// `GET /staff/queues`
pub async fn page(State(state): State<AppState>, s: ConsoleSession, uri: Uri) -> Response {
    if let Err(r) = s.require(Action::ReadQueues) {
        return r;
    }
    let l = s.lang;
    let who = s.principal.clone();
    let data = state
        .store
        .read(move |tx| {
            Ok((
                cancellations::list(tx, &who, Some("pending"), 200)?,
                appeals::list(tx, &who, Some("pending"), 200)?,
            ))
        })
        .await;
    let (cs, aps) = match data {
        Ok(v) => v,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let body = html! {
        h2 id="cancellations" { (tr(l, "queues.cancellations")) }
        @if cs.is_empty() {
            p { (tr(l, "queues.empty")) }
        }
        @for c in &cs {
            div.box id={ "cancellation-" (c.id) } {
                p {
                    a href={ "/staff/challans/" (c.challan_number) } { (ident(&c.challan_number)) }
                    " · " (tr(l, "queues.requested_by")) " " (ident(&c.requested_by))
                }
                p { (c.reason) }
                @if c.requested_by == s.principal.username {
                    p.hint { (tr(l, "queues.own")) }
                } @else {
                    form method="post" action={ "/staff/cancellations/" (c.id) } class="row" {
                        (s.csrf_field())
                        button type="submit" name="decision" value="approve" { (tr(l, "queues.approve_cancellation")) }
                        button type="submit" name="decision" value="reject" class="secondary" { (tr(l, "finance.reject")) }
                    }
                }
            }
        }
        h2 id="appeals" { (tr(l, "queues.appeals")) }
        @if aps.is_empty() {
            p { (tr(l, "queues.empty")) }
        }
        @for a in &aps {
            (appeal_box(&s, a))
        }
    };
    s.page(&i18n::here(&uri), tr(l, "queues.title"), body)
}

/// A pending appeal with its evidence link and the decision form.
fn appeal_box(s: &ConsoleSession, a: &appeals::Appeal) -> Markup {
    let l = s.lang;
    let id = a.id;
    let choice = |value: &str, prefix: &str, key: &'static str, required: bool| {
        html! {
            p {
                input type="radio" name="outcome" value=(value) id={ (prefix) "-" (id) }
                    required[required] class="auto";
                " "
                label for={ (prefix) "-" (id) } class="inline" { (tr(l, key)) }
            }
        }
    };
    html! {
        div.box id={ "appeal-" (id) } {
            p { a href={ "/staff/challans/" (a.challan_number) } { (ident(&a.challan_number)) } }
            p { (a.reason) }
            @if let (Some(name), Some(_)) = (&a.evidence_name, &a.evidence_sha256) {
                p { a href={ "/staff/appeals/" (id) "/evidence" } { (tr(l, "queues.evidence")) ": " (name) } }
            }
            form method="post" action={ "/staff/appeals/" (id) } {
                (s.csrf_field())
                fieldset {
                    legend { (tr(l, "queues.outcome")) }
                    (choice("uphold", "u", "queues.uphold", true))
                    (choice("reduce", "r", "queues.reduce", false))
                    (choice("quash", "q", "queues.quash", false))
                }
                label for={ "amt-" (id) } { (tr(l, "queues.reduced_amount")) }
                input id={ "amt-" (id) } name="rupees" inputmode="numeric" dir="ltr" class="w10";
                label for={ "note-" (id) } { (tr(l, "queues.note")) }
                input id={ "note-" (id) } name="note" maxlength="500";
                p { button type="submit" { (tr(l, "queues.decide")) } }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct CancellationDecision {
    #[serde(default)]
    decision: String,
}

/// `POST /staff/cancellations/{id}`: approve or reject a pending request.
pub async fn decide_cancellation(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    f: ConsoleForm<CancellationDecision>,
) -> Response {
    let s = f.session;
    let approve = match f.form.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => {
            return problem(
                &s,
                "/staff/queues",
                ApiError::invalid("decision", "approve or reject"),
            )
        }
    };
    let who = s.principal.clone();
    let now = state.store.now();
    match state
        .store
        .write(move |tx| cancellations::decide(tx, &who, id, approve, None, now))
        .await
    {
        Ok(_) => see_other("/staff/queues"),
        Err(e) => problem(&s, "/staff/queues", e.into()),
    }
}

#[derive(Deserialize)]
pub struct AppealDecision {
    #[serde(default)]
    outcome: String,
    rupees: Option<String>,
    note: Option<String>,
}

/// `POST /staff/appeals/{id}`: uphold, reduce (to an amount in rupees) or quash.
pub async fn decide_appeal(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    f: ConsoleForm<AppealDecision>,
) -> Response {
    let s = f.session;
    let Some(outcome) = AppealOutcome::parse(f.form.outcome.trim()) else {
        return problem(
            &s,
            "/staff/queues",
            ApiError::invalid("outcome", tr(s.lang, "queues.choose_outcome")),
        );
    };
    let amount = match f
        .form
        .rupees
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        None => None,
        Some(v) => match v
            .parse::<i64>()
            .ok()
            .and_then(|r| Money::from_rupees(r).ok())
        {
            Some(m) => Some(m),
            None => {
                return problem(
                    &s,
                    "/staff/queues",
                    ApiError::invalid("amount", tr(s.lang, "console.bad_amount")),
                )
            }
        },
    };
    let amount = if outcome == AppealOutcome::Reduce {
        amount
    } else {
        None
    };
    let note = f
        .form
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().take(500).collect::<String>());
    let who = s.principal.clone();
    let now = state.store.now();
    match state
        .store
        .write(move |tx| appeals::decide(tx, &who, id, outcome, amount, note.as_deref(), now))
        .await
    {
        Ok(_) => see_other("/staff/queues"),
        Err(e) => problem(&s, "/staff/queues", e.into()),
    }
}

/// `GET /staff/appeals/{id}/evidence`: the evidence file (staff in scope), as an attachment.
pub async fn evidence(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    s: ConsoleSession,
) -> Response {
    let who = s.principal.clone();
    let found = state
        .store
        .read(move |tx| {
            let Some(a) = appeals::by_id(tx, id)? else {
                return Ok(None);
            };
            let (Ok(dep), Ok(dis)) = (
                efine_core::DepartmentCode::parse(&a.department),
                efine_core::DistrictCode::parse(&a.district),
            ) else {
                return Ok(None);
            };
            if who
                .may(Action::ReadChallan, &Scope::of(&dep, &dis))
                .is_err()
            {
                return Ok(None);
            }
            appeals::evidence(tx, id)
        })
        .await;
    match found {
        Ok(Some(e)) => crate::api::appeals::evidence_download(id, e.bytes),
        Ok(None) => problem(&s, "/staff/queues", ApiError::not_found("evidence")),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The request-cancellation form shown on a challan's console page.
pub fn request_form(s: &ConsoleSession, number: &str) -> Markup {
    if !s.may(Action::RequestCancellation) {
        return html! {};
    }
    let l = s.lang;
    html! {
        h2 { (tr(l, "queues.request_cancellation")) }
        form method="post" action={ "/staff/challans/" (number) "/cancellation" } class="box" {
            (s.csrf_field())
            label for="reason" { (tr(l, "finance.reason")) }
            input id="reason" name="reason" required maxlength="500";
            p.hint { (tr(l, "queues.request_hint")) }
            p { button type="submit" class="danger" { (tr(l, "queues.request_cancellation")) } }
        }
    }
}

#[derive(Deserialize)]
pub struct CancellationRequestForm {
    #[serde(default)]
    reason: String,
}

/// `POST /staff/challans/{number}/cancellation`: asks for the challan to be cancelled.
pub async fn request_cancellation(
    State(state): State<AppState>,
    Path(number): Path<String>,
    f: ConsoleForm<CancellationRequestForm>,
) -> Response {
    let s = f.session;
    let back = format!("/staff/challans/{number}");
    let Ok(n) = ChallanNumber::parse(&number) else {
        return problem(&s, "/staff/challans", ApiError::not_found("challan"));
    };
    let reason = f.form.reason.trim().to_string();
    if reason.is_empty() || reason.chars().count() > 500 {
        return problem(
            &s,
            &back,
            ApiError::invalid("reason", tr(s.lang, "finance.reason_needed")),
        );
    }
    let who = s.principal.clone();
    let now = state.store.now();
    match state
        .store
        .write(move |tx| cancellations::request(tx, &who, &n, &reason, now))
        .await
    {
        Ok(_) => see_other(&back),
        Err(e) => problem(&s, &back, e.into()),
    }
}
