//! Supervisors' queues in the console: pending cancellation requests (four-eyes: approve or
//! reject someone else's request) and pending appeals (uphold, reduce or quash), plus the
//! request-cancellation form on a challan's console page. The same store calls and rules as
//! `/api/v1/cancellations` and `/api/v1/appeals`.

use super::parts::{age, card_facts, ident, isolate, see_other};
use super::session::{ConsoleForm, ConsoleSession};
use crate::error::ApiError;
use crate::i18n::{self, money, tr, trf};
use crate::views::today;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use efine_core::auth::{Action, Scope};
use efine_core::challan::Challan;
use efine_core::penalty::AppealOutcome;
use efine_core::{ChallanNumber, Money};
use efine_store::ops::catalogue::{self, Names};
use efine_store::ops::{appeals, cancellations, challans};
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

/// The challan behind a queue item, with its names, for the card.
type Behind = Option<(Challan, Names)>;

fn behind(
    tx: &mut dyn efine_store::sql::Tx,
    number: &str,
) -> Result<Behind, efine_store::StoreError> {
    let Ok(n) = ChallanNumber::parse(number) else {
        return Ok(None);
    };
    let Some(c) = challans::by_number(tx, &n)? else {
        return Ok(None);
    };
    let names = catalogue::names_for(tx, &c)?;
    Ok(Some((c, names)))
}

#[derive(Deserialize, Default)]
pub struct QueueQuery {
    done: Option<String>,
    challan: Option<String>,
}

/// The sentence shown after a decision (`?done=...&challan=...` on the redirect).
fn result_message(l: crate::i18n::Lang, q: &QueueQuery) -> Option<String> {
    let key = match q.done.as_deref()? {
        "approved" => "queues.done_approved",
        "rejected" => "queues.done_rejected",
        "uphold" => "queues.done_uphold",
        "reduce" => "queues.done_reduce",
        "quash" => "queues.done_quash",
        _ => return None,
    };
    let n = ChallanNumber::parse(q.challan.as_deref()?).ok()?;
    Some(trf(l, key, &[("number", &isolate(&n.to_string()))]))
}

/// `GET /staff/queues`: cancellation requests and appeals waiting, as cards (offence, amount,
/// officer, district, age, evidence), each with its decision form.
pub async fn page(
    State(state): State<AppState>,
    s: ConsoleSession,
    uri: Uri,
    Query(q): Query<QueueQuery>,
) -> Response {
    if let Err(r) = s.require(Action::ReadQueues) {
        return r;
    }
    let l = s.lang;
    let who = s.principal.clone();
    let data = state
        .store
        .read(move |tx| {
            let cs = cancellations::list(tx, &who, Some("pending"), 200)?;
            let aps = appeals::list(tx, &who, Some("pending"), 200)?;
            let mut cb = Vec::with_capacity(cs.len());
            for c in &cs {
                cb.push(behind(tx, &c.challan_number)?);
            }
            let mut ab = Vec::with_capacity(aps.len());
            for a in &aps {
                ab.push(behind(tx, &a.challan_number)?);
            }
            Ok((cs, cb, aps, ab))
        })
        .await;
    let (cs, cb, aps, ab) = match data {
        Ok(v) => v,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let now = state.store.now();
    let done = result_message(l, &q);
    let body = html! {
        @if let Some(m) = &done {
            p.ok role="status" id="result" { (m) }
        }
        h2 id="cancellations" { (tr(l, "queues.cancellations")) " (" (i18n::digits(l, &cs.len().to_string())) ")" }
        @if cs.is_empty() {
            p { (tr(l, "queues.empty")) }
        }
        @for (c, b) in cs.iter().zip(cb.iter()) {
            article.box.card id={ "cancellation-" (c.id) } {
                (challan_summary(&s, &c.challan_number, b, now))
                (card_facts(&[
                    (tr(l, "queues.requested_by"), ident(&c.requested_by)),
                    (tr(l, "queues.waiting"), html! { (age(l, now, c.requested_at)) }),
                    (tr(l, "finance.reason"), html! { (c.reason) }),
                ]))
                @if c.requested_by == s.principal.username {
                    p.hint { (tr(l, "queues.own")) }
                } @else {
                    form method="post" action={ "/staff/cancellations/" (c.id) } class="row" {
                        (s.csrf_field())
                        button type="submit" name="decision" value="approve" class="danger" { (tr(l, "queues.approve_cancellation")) }
                        button type="submit" name="decision" value="reject" class="secondary" { (tr(l, "finance.reject")) }
                    }
                }
            }
        }
        h2 id="appeals" { (tr(l, "queues.appeals")) " (" (i18n::digits(l, &aps.len().to_string())) ")" }
        @if aps.is_empty() {
            p { (tr(l, "queues.empty")) }
        }
        @for (a, b) in aps.iter().zip(ab.iter()) {
            (appeal_box(&s, a, b, now))
        }
    };
    s.page(&i18n::here(&uri), tr(l, "queues.title"), body)
}

/// The head of a queue card: the challan (linked), its amount due today, offence, officer,
/// district and age.
fn challan_summary(
    s: &ConsoleSession,
    number: &str,
    b: &Behind,
    now: time::OffsetDateTime,
) -> Markup {
    let l = s.lang;
    let day = today(now);
    html! {
        p.card-head {
            a href={ "/staff/challans/" (number) } { (ident(number)) }
            @if let Some((c, _)) = b {
                strong.amount { (money(l, c.amount_due(day))) }
            }
        }
        @if let Some((c, n)) = b {
            p { strong { (l.pick(&n.offence_en, &n.offence_ur)) } }
            p.hint {
                (tr(l, "queues.officer")) ": " (ident(&c.officer))
                " · " (l.pick(&n.district_en, &n.district_ur))
                " · " (tr(l, "portal.issued")) " " (age(l, now, c.issued_at))
                @if let Some(v) = &c.vehicle { " · " (ident(v.as_str())) }
            }
        }
    }
}

/// A pending appeal as a card: the challan, the appellant's reason, the evidence (a thumbnail
/// for a photo, a link for a PDF) and the decision form; amounts are typed in rupees.
fn appeal_box(
    s: &ConsoleSession,
    a: &appeals::Appeal,
    b: &Behind,
    now: time::OffsetDateTime,
) -> Markup {
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
    let photo = a
        .evidence_type
        .as_deref()
        .is_some_and(|t| t.starts_with("image/"));
    html! {
        article.box.card id={ "appeal-" (id) } {
            (challan_summary(s, &a.challan_number, b, now))
            (card_facts(&[
                (tr(l, "queues.waiting"), html! { (age(l, now, a.lodged_at)) }),
                (tr(l, "queues.appeal_reason"), html! { (a.reason) }),
            ]))
            @if let (Some(name), Some(_)) = (&a.evidence_name, &a.evidence_sha256) {
                p {
                    a href={ "/staff/appeals/" (id) "/evidence" } {
                        @if photo {
                            img.thumb src={ "/staff/appeals/" (id) "/evidence" } alt=(tr(l, "queues.evidence")) loading="lazy";
                            br;
                        }
                        (tr(l, "queues.evidence")) ": " (name)
                    }
                }
            } @else {
                p.hint { (tr(l, "queues.no_evidence")) }
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
                input id={ "amt-" (id) } name="rupees" inputmode="decimal" dir="ltr" class="w10" placeholder="1,200";
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
    /// `yes` once the supervisor has seen the confirmation page.
    #[serde(default)]
    confirm: String,
}

/// The confirmation page for an irreversible decision: what will happen, to which challan, and
/// one button that repeats the form with `confirm=yes`.
fn confirm_page(
    s: &ConsoleSession,
    action: &str,
    summary: Markup,
    what: String,
    hidden: &[(&str, String)],
    button: &str,
) -> Response {
    let l = s.lang;
    let body = html! {
        section.box.warn id="confirm" {
            (summary)
            p { strong { (what) } }
            p { (tr(l, "queues.final")) }
            form method="post" action=(action) class="row" {
                (s.csrf_field())
                @for (k, v) in hidden {
                    input type="hidden" name=(k) value=(v);
                }
                input type="hidden" name="confirm" value="yes";
                button type="submit" class="danger" id="confirm-button" { (button) }
                a.button.secondary href="/staff/queues" { (tr(l, "queues.back")) }
            }
        }
    };
    s.page("/staff/queues", tr(l, "queues.confirm_title"), body)
}

fn done(kind: &str, number: &str) -> Response {
    let q = serde_urlencoded::to_string([("done", kind), ("challan", number)]).unwrap_or_default();
    see_other(&format!("/staff/queues?{q}#result"))
}

/// `POST /staff/cancellations/{id}`: approve (after a confirmation page) or reject a pending
/// request; back to the queue with the result.
pub async fn decide_cancellation(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    f: ConsoleForm<CancellationDecision>,
) -> Response {
    let s = f.session;
    let l = s.lang;
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
    let found = state
        .store
        .read(move |tx| {
            let Some(c) = cancellations::by_id(tx, id)? else {
                return Ok(None);
            };
            let b = behind(tx, &c.challan_number)?;
            Ok(Some((c, b)))
        })
        .await;
    let (c, b) = match found {
        Ok(Some(v)) => v,
        Ok(None) => {
            return problem(
                &s,
                "/staff/queues",
                ApiError::not_found("cancellation request"),
            )
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    if approve && f.form.confirm != "yes" {
        let now = state.store.now();
        let summary = challan_summary(&s, &c.challan_number, &b, now);
        return confirm_page(
            &s,
            &format!("/staff/cancellations/{id}"),
            html! { (summary) p { (c.reason) } },
            trf(
                l,
                "queues.confirm_cancel",
                &[("number", &isolate(&c.challan_number))],
            ),
            &[("decision", "approve".to_string())],
            tr(l, "queues.confirm_cancel_button"),
        );
    }
    let who = s.principal.clone();
    let now = state.store.now();
    match state
        .store
        .write(move |tx| cancellations::decide(tx, &who, id, approve, None, now))
        .await
    {
        Ok(_) => done(
            if approve { "approved" } else { "rejected" },
            &c.challan_number,
        ),
        Err(e) => problem(&s, "/staff/queues", e.into()),
    }
}

#[derive(Deserialize)]
pub struct AppealDecision {
    #[serde(default)]
    outcome: String,
    rupees: Option<String>,
    note: Option<String>,
    #[serde(default)]
    confirm: String,
}

/// `POST /staff/appeals/{id}`: uphold, reduce (to an amount in rupees, parsed exactly into
/// paisa) or quash. Reduce and quash show a confirmation page first.
pub async fn decide_appeal(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    f: ConsoleForm<AppealDecision>,
) -> Response {
    let s = f.session;
    let l = s.lang;
    let Some(outcome) = AppealOutcome::parse(f.form.outcome.trim()) else {
        return problem(
            &s,
            "/staff/queues",
            ApiError::invalid("outcome", tr(l, "queues.choose_outcome")),
        );
    };
    let typed = f
        .form
        .rupees
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string);
    let amount = match (outcome, typed.as_deref()) {
        (AppealOutcome::Reduce, None) => {
            return problem(
                &s,
                "/staff/queues",
                ApiError::invalid("amount", tr(l, "queues.amount_needed")),
            )
        }
        (AppealOutcome::Reduce, Some(v)) => match Money::parse(v) {
            Ok(m) if m > Money::ZERO => Some(m),
            _ => {
                return problem(
                    &s,
                    "/staff/queues",
                    ApiError::invalid("amount", tr(l, "queues.bad_rupees")),
                )
            }
        },
        _ => None,
    };
    let note = f
        .form
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().take(500).collect::<String>());
    let found = state
        .store
        .read(move |tx| {
            let Some(a) = appeals::by_id(tx, id)? else {
                return Ok(None);
            };
            let b = behind(tx, &a.challan_number)?;
            Ok(Some((a, b)))
        })
        .await;
    let (a, b) = match found {
        Ok(Some(v)) => v,
        Ok(None) => return problem(&s, "/staff/queues", ApiError::not_found("appeal")),
        Err(e) => return ApiError::from(e).into_response(),
    };
    if let (Some(m), Some((c, _))) = (amount, &b) {
        if m >= c.terms().base() {
            return problem(
                &s,
                "/staff/queues",
                ApiError::invalid(
                    "amount",
                    trf(
                        l,
                        "queues.amount_too_high",
                        &[("amount", &money(l, c.terms().base()))],
                    ),
                ),
            );
        }
    }
    if outcome != AppealOutcome::Uphold && f.form.confirm != "yes" {
        let now = state.store.now();
        let what = match amount {
            Some(m) => trf(
                l,
                "queues.confirm_reduce",
                &[
                    ("number", &isolate(&a.challan_number)),
                    ("amount", &money(l, m)),
                ],
            ),
            None => trf(
                l,
                "queues.confirm_quash",
                &[("number", &isolate(&a.challan_number))],
            ),
        };
        let mut hidden = vec![("outcome", outcome.as_str().to_string())];
        if let Some(v) = &typed {
            hidden.push(("rupees", v.clone()));
        }
        if let Some(n) = &note {
            hidden.push(("note", n.clone()));
        }
        return confirm_page(
            &s,
            &format!("/staff/appeals/{id}"),
            html! { (challan_summary(&s, &a.challan_number, &b, now)) p { (a.reason) } },
            what,
            &hidden,
            tr(l, "queues.confirm_decide_button"),
        );
    }
    let who = s.principal.clone();
    let now = state.store.now();
    match state
        .store
        .write(move |tx| appeals::decide(tx, &who, id, outcome, amount, note.as_deref(), now))
        .await
    {
        Ok(_) => done(outcome.as_str(), &a.challan_number),
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
