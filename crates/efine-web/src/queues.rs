//! Supervisors' queues in the console: pending cancellation requests (four-eyes: approve or
//! reject someone else's request) and pending appeals (uphold, reduce or quash), plus the
//! request-cancellation form on a challan's console page. The same store calls and rules as
//! `/api/v1/cancellations` and `/api/v1/appeals`.

use crate::console::{ConsoleForm, ConsoleSession};
use crate::error::ApiError;
use crate::i18n::{self, esc, ltr, tr};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use efine_core::auth::Role;
use efine_core::penalty::AppealOutcome;
use efine_core::{ChallanNumber, Money};
use efine_store::ops::{appeals, cancellations};
use serde::Deserialize;

/// Roles that may request a cancellation from the console.
pub const MAY_REQUEST: &[Role] = &[Role::Officer, Role::Supervisor, Role::Admin];

fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

fn problem(s: &ConsoleSession, back: &str, e: ApiError) -> Response {
    if e.status.is_server_error() {
        return e.into_response();
    }
    s.status_page(
        e.status,
        back,
        tr(s.lang, "staff.bad_input"),
        &format!(
            "<p class=bad role=alert id=problem>{}</p><p><a href=\"{}\">{}</a></p>",
            esc(&e.message),
            esc(back),
            tr(s.lang, "queues.back")
        ),
    )
}

/// `GET /staff/queues`
pub async fn page(State(state): State<AppState>, s: ConsoleSession, uri: Uri) -> Response {
    if let Err(r) = s.require(&[Role::Supervisor, Role::Admin]) {
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
    let mut b = format!(
        "<h2 id=cancellations>{}</h2>",
        tr(l, "queues.cancellations")
    );
    if cs.is_empty() {
        b.push_str(&format!("<p>{}</p>", tr(l, "queues.empty")));
    }
    for c in &cs {
        let own = c.requested_by == s.principal.username;
        b.push_str(&format!(
            "<div class=box id=cancellation-{id}><p><a href=\"/staff/challans/{n}\">{nid}</a> &middot; {by} {who}</p><p>{reason}</p>",
            id = c.id,
            n = esc(&c.challan_number),
            nid = ltr(&c.challan_number),
            by = tr(l, "queues.requested_by"),
            who = ltr(&c.requested_by),
            reason = esc(&c.reason),
        ));
        if own {
            b.push_str(&format!("<p class=hint>{}</p>", tr(l, "queues.own")));
        } else {
            b.push_str(&format!(
                "<form method=post action=\"/staff/cancellations/{id}\" class=row>{csrf}\
                 <button type=submit name=decision value=approve>{a}</button>\
                 <button type=submit name=decision value=reject class=secondary>{r}</button></form>",
                id = c.id,
                csrf = s.csrf_field(),
                a = tr(l, "queues.approve_cancellation"),
                r = tr(l, "finance.reject"),
            ));
        }
        b.push_str("</div>");
    }
    b.push_str(&format!("<h2 id=appeals>{}</h2>", tr(l, "queues.appeals")));
    if aps.is_empty() {
        b.push_str(&format!("<p>{}</p>", tr(l, "queues.empty")));
    }
    for a in &aps {
        let evidence = match (&a.evidence_name, &a.evidence_sha256) {
            (Some(name), Some(_)) => format!(
                "<p><a href=\"/staff/appeals/{}/evidence\">{}: {}</a></p>",
                a.id,
                tr(l, "queues.evidence"),
                esc(name)
            ),
            _ => String::new(),
        };
        b.push_str(&format!(
            "<div class=box id=appeal-{id}><p><a href=\"/staff/challans/{n}\">{nid}</a></p><p>{reason}</p>{evidence}\
             <form method=post action=\"/staff/appeals/{id}\">{csrf}<fieldset><legend>{q}</legend>\
             <p><input type=radio name=outcome value=uphold id=u-{id} required style=\"width:auto\"> <label for=u-{id} style=\"display:inline\">{uphold}</label></p>\
             <p><input type=radio name=outcome value=reduce id=r-{id} style=\"width:auto\"> <label for=r-{id} style=\"display:inline\">{reduce}</label></p>\
             <p><input type=radio name=outcome value=quash id=q-{id} style=\"width:auto\"> <label for=q-{id} style=\"display:inline\">{quash}</label></p>\
             </fieldset><label for=amt-{id}>{amount}</label><input id=amt-{id} name=rupees inputmode=numeric dir=ltr style=\"max-width:10rem\">\
             <label for=note-{id}>{note}</label><input id=note-{id} name=note maxlength=500>\
             <p><button type=submit>{decide}</button></p></form></div>",
            id = a.id,
            n = esc(&a.challan_number),
            nid = ltr(&a.challan_number),
            reason = esc(&a.reason),
            csrf = s.csrf_field(),
            q = tr(l, "queues.outcome"),
            uphold = tr(l, "queues.uphold"),
            reduce = tr(l, "queues.reduce"),
            quash = tr(l, "queues.quash"),
            amount = tr(l, "queues.reduced_amount"),
            note = tr(l, "queues.note"),
            decide = tr(l, "queues.decide"),
        ));
    }
    s.page(&i18n::here(&uri), tr(l, "queues.title"), &b)
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
            if !who.can_view(&dep, &dis) {
                return Ok(None);
            }
            appeals::evidence(tx, id)
        })
        .await;
    match found {
        Ok(Some(e)) => {
            let ctype = HeaderValue::from_str(&e.content_type)
                .unwrap_or(HeaderValue::from_static("application/octet-stream"));
            (
                [
                    (CONTENT_TYPE, ctype),
                    (CONTENT_DISPOSITION, HeaderValue::from_static("attachment")),
                ],
                e.bytes,
            )
                .into_response()
        }
        Ok(None) => problem(&s, "/staff/queues", ApiError::not_found("evidence")),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The request-cancellation form shown on a challan's console page.
pub fn request_form(s: &ConsoleSession, number: &str) -> String {
    if !MAY_REQUEST.contains(&s.principal.role) {
        return String::new();
    }
    let l = s.lang;
    format!(
        "<h2>{}</h2><form method=post action=\"/staff/challans/{n}/cancellation\" class=box>{}\
         <label for=reason>{}</label><input id=reason name=reason required maxlength=500>\
         <p class=hint>{}</p><p><button type=submit class=danger>{}</button></p></form>",
        tr(l, "queues.request_cancellation"),
        s.csrf_field(),
        tr(l, "finance.reason"),
        tr(l, "queues.request_hint"),
        tr(l, "queues.request_cancellation"),
        n = esc(number),
    )
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
