//! The offence and fee schedule (department admins for their department, admins for all),
//! filtered by department and searched. A change of amount, days to pay or penalty terms
//! (surcharge, early-payment discount, enforcement stages) is proposed here and waits for a
//! second person who may change that schedule (`efine_store::ops::schedule`); on approval it
//! takes effect as a new offence version, and challans already issued keep theirs.

use super::checkpoint::stage_label;
use super::parts::{age, card_facts, ident, isolate, offences_for, see_other};
use super::session::{ConsoleForm, ConsoleSession};
use crate::error::ApiError;
use crate::i18n::{self, money, tr, trf, Lang};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use efine_core::auth::{Action, Scope};
use efine_core::catalogue::Offence;
use efine_core::penalty::{Discount, Escalation, PenaltySchedule, Stage, Surcharge};
use efine_core::{DepartmentCode, Money, OffenceCode};
use efine_store::ops::catalogue;
use efine_store::ops::schedule::{self, Proposal, Proposed};
use maud::{html, Markup};
use serde::Deserialize;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/schedule", get(schedule_page).post(schedule_post))
        .route("/staff/schedule/{department}/{code}", get(edit_page))
        .route("/staff/schedule/proposals/{id}", post(decide))
}

/// Basis points as a percentage for the reader: `1250` as `12.5%`.
fn bp(l: Lang, basis_points: u32) -> String {
    let whole = basis_points / 100;
    let frac = basis_points % 100;
    let s = if frac == 0 {
        whole.to_string()
    } else if frac.is_multiple_of(10) {
        format!("{whole}.{}", frac / 10)
    } else {
        format!("{whole}.{frac:02}")
    };
    match l {
        Lang::En => format!("{s}%"),
        Lang::Ur => format!("{}\u{066A}", i18n::digits(l, &s)),
    }
}

/// A percentage as typed (`10`, `12.5`, `7.25`) in exact basis points; at most two decimals.
fn parse_percent(s: &str) -> Option<u32> {
    let t = s.trim().trim_end_matches('%').trim();
    let (w, f) = t.split_once('.').unwrap_or((t, ""));
    if w.is_empty() || f.len() > 2 || !w.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !f.bytes().all(|b| b.is_ascii_digit()) || w.len() > 6 {
        return None;
    }
    let frac: u32 = match f.len() {
        0 => 0,
        1 => f.parse::<u32>().ok()? * 10,
        _ => f.parse().ok()?,
    };
    w.parse::<u32>().ok()?.checked_mul(100)?.checked_add(frac)
}

/// Penalty terms as sentences for people.
pub(super) fn terms_text(l: Lang, p: &PenaltySchedule) -> Vec<String> {
    let mut out = vec![match p.surcharge {
        Surcharge::Double => tr(l, "schedule.surcharge_double").to_string(),
        Surcharge::Fixed { amount } => trf(
            l,
            "schedule.surcharge_fixed",
            &[("amount", &money(l, amount))],
        ),
        Surcharge::Percent { basis_points } => trf(
            l,
            "schedule.surcharge_percent",
            &[("pct", &bp(l, basis_points))],
        ),
    }];
    if let Some(d) = p.discount {
        out.push(trf(
            l,
            "schedule.discount",
            &[
                ("pct", &bp(l, d.basis_points)),
                ("days", &i18n::number(l, i64::from(d.within_days))),
            ],
        ));
    }
    for e in &p.escalation {
        out.push(trf(
            l,
            "schedule.stage",
            &[
                ("stage", stage_label(l, e.stage)),
                ("days", &i18n::number(l, i64::from(e.days_after_due))),
            ],
        ));
    }
    out
}

#[derive(Deserialize, Default)]
pub struct ScheduleQuery {
    department: Option<String>,
    q: Option<String>,
    done: Option<String>,
}

fn bad(s: &ConsoleSession, status: StatusCode, msg: &str) -> Response {
    let l = s.lang;
    s.status_page(
        status,
        "/staff/schedule",
        tr(l, "staff.bad_input"),
        html! {
            p.bad role="alert" id="problem" { (msg) }
            p { a href="/staff/schedule" { (tr(l, "console.schedule")) } }
        },
    )
}

fn proposal_card(
    s: &ConsoleSession,
    p: &Proposal,
    now: time::OffsetDateTime,
    current: Option<&Offence>,
) -> Markup {
    let l = s.lang;
    let name = current
        .map(|o| l.pick(&o.name_en, &o.name_ur).to_string())
        .unwrap_or_else(|| p.code.clone());
    let amount = match current {
        Some(o) if o.amount != p.amount => {
            format!("{} → {}", money(l, o.amount), money(l, p.amount))
        }
        _ => money(l, p.amount),
    };
    let days = match current {
        Some(o) if o.days_to_pay != p.days_to_pay => format!(
            "{} → {}",
            i18n::number(l, i64::from(o.days_to_pay)),
            i18n::number(l, i64::from(p.days_to_pay))
        ),
        _ => i18n::number(l, i64::from(p.days_to_pay)),
    };
    html! {
        article.box.card.warn id={ "proposal-" (p.id) } {
            p.card-head { strong { (name) } (ident(&format!("{}/{}", p.department, p.code))) }
            (card_facts(&[
                (tr(l, "console.amount_rupees"), html! { (amount) }),
                (tr(l, "console.days_to_pay"), html! { (days) }),
                (tr(l, "schedule.terms"), html! {
                    ul { @for t in terms_text(l, &p.penalty) { li { (t) } } }
                }),
                (tr(l, "schedule.proposed_by"), html! { (ident(&p.proposed_by)) " · " (age(l, now, p.proposed_at)) }),
            ]))
            @if p.proposed_by == s.principal.username {
                p.hint { (tr(l, "schedule.own")) }
            } @else {
                form method="post" action={ "/staff/schedule/proposals/" (p.id) } class="row" {
                    (s.csrf_field())
                    button type="submit" name="decision" value="approve" { (tr(l, "schedule.approve")) }
                    button type="submit" name="decision" value="reject" class="secondary" { (tr(l, "finance.reject")) }
                }
            }
        }
    }
}

/// `GET /staff/schedule`: changes waiting for approval, then the schedule (filtered by
/// department, searched by name or code), each offence with its terms and a link to change it.
pub async fn schedule_page(
    State(state): State<AppState>,
    s: ConsoleSession,
    uri: Uri,
    Query(q): Query<ScheduleQuery>,
) -> Response {
    if let Err(r) = s.require(Action::ChangeSchedule) {
        return r;
    }
    let l = s.lang;
    let dep = match &s.principal.department {
        Some(d) => Some(d.clone()),
        None => q
            .department
            .as_deref()
            .filter(|d| !d.trim().is_empty())
            .and_then(|d| DepartmentCode::parse(d.trim()).ok()),
    };
    let offences = match offences_for(&state, dep.clone()).await {
        Ok(o) => o,
        Err(e) => return e.into_response(),
    };
    let who = s.principal.clone();
    let found = state
        .store
        .read(move |tx| Ok((schedule::pending(tx, &who)?, catalogue::departments(tx)?)))
        .await;
    let (pending, departments) = match found {
        Ok(v) => v,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let needle =
        q.q.as_deref()
            .map(|v| v.trim().to_lowercase())
            .filter(|v| !v.is_empty());
    let shown: Vec<&Offence> = offences
        .iter()
        .filter(|o| {
            needle.as_ref().is_none_or(|n| {
                o.code.as_str().contains(n.as_str())
                    || o.name_en.to_lowercase().contains(n.as_str())
                    || o.name_ur.contains(n.as_str())
            })
        })
        .collect();
    let now = state.store.now();
    let done = match q.done.as_deref() {
        Some("proposed") => Some(tr(l, "schedule.done_proposed")),
        Some("approved") => Some(tr(l, "schedule.done_approved")),
        Some("rejected") => Some(tr(l, "schedule.done_rejected")),
        _ => None,
    };
    let count = trf(
        l,
        "schedule.count",
        &[
            ("shown", &i18n::number(l, shown.len() as i64)),
            ("all", &i18n::number(l, offences.len() as i64)),
        ],
    );
    let body = html! {
        @if let Some(m) = done {
            p.ok role="status" id="result" { (m) }
        }
        p.hint { (tr(l, "schedule.hint")) }
        h2 id="waiting" { (tr(l, "schedule.waiting")) " (" (i18n::number(l, pending.len() as i64)) ")" }
        @if pending.is_empty() {
            p { (tr(l, "queues.empty")) }
        }
        @for p in &pending {
            (proposal_card(&s, p, now, offences.iter().find(|o| o.department.as_str() == p.department && o.code.as_str() == p.code)))
        }
        h2 { (tr(l, "console.schedule")) }
        form method="get" action="/staff/schedule" class="box filters" id="schedule-filters" {
            @if s.principal.department.is_none() {
                div {
                    label for="department" { (tr(l, "portal.department")) }
                    select id="department" name="department" {
                        option value="" { (tr(l, "console.any")) }
                        @for d in &departments {
                            option value=(d.code.as_str()) selected[dep.as_ref() == Some(&d.code)] { (l.pick(&d.name_en, &d.name_ur)) }
                        }
                    }
                }
            }
            div {
                label for="q" { (tr(l, "schedule.search")) }
                input id="q" name="q" value=(q.q.clone().unwrap_or_default()) placeholder="helmet";
            }
            p { button type="submit" { (tr(l, "portal.search")) } }
        }
        p id="schedule-count" { (count) }
        table.stack id="schedule" {
            thead { tr {
                th scope="col" { (tr(l, "portal.offence")) }
                th scope="col" { (tr(l, "console.amount_rupees")) }
                th scope="col" { (tr(l, "console.days_to_pay")) }
                th scope="col" { (tr(l, "schedule.terms")) }
                th scope="col" {}
            } }
            tbody {
                @for o in &shown {
                    tr data-code=(o.code.as_str()) {
                        td data-label=(tr(l, "portal.offence")) {
                            (l.pick(&o.name_en, &o.name_ur)) br;
                            span.hint { (ident(&format!("{}/{}", o.department, o.code))) " v" (o.version) }
                        }
                        td data-label=(tr(l, "console.amount_rupees")) { (money(l, o.amount)) }
                        td data-label=(tr(l, "console.days_to_pay")) { (i18n::number(l, i64::from(o.days_to_pay))) }
                        td data-label=(tr(l, "schedule.terms")) { (terms_text(l, &o.penalty).join(" ")) }
                        td { a href={ "/staff/schedule/" (o.department.as_str()) "/" (o.code.as_str()) } { (tr(l, "console.change")) } }
                    }
                }
            }
        }
    };
    s.page(&i18n::here(&uri), tr(l, "console.schedule"), body)
}

/// `GET /staff/schedule/{department}/{code}`: the form that proposes a change.
pub async fn edit_page(
    State(state): State<AppState>,
    s: ConsoleSession,
    uri: Uri,
    Path((department, code)): Path<(String, String)>,
) -> Response {
    if let Err(r) = s.require(Action::ChangeSchedule) {
        return r;
    }
    let l = s.lang;
    let (Ok(dep), Ok(code)) = (
        DepartmentCode::parse(&department),
        OffenceCode::parse(&code),
    ) else {
        return bad(&s, StatusCode::NOT_FOUND, tr(l, "portal.not_found"));
    };
    if s.principal
        .may(Action::ChangeSchedule, &Scope::department(&dep))
        .is_err()
    {
        return s.forbidden();
    }
    let found = state
        .store
        .read(move |tx| catalogue::current_offence(tx, &dep, &code))
        .await;
    let o = match found {
        Ok(Some((_, o))) => o,
        Ok(None) => return bad(&s, StatusCode::NOT_FOUND, tr(l, "portal.not_found")),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let p = &o.penalty;
    let (kind, value) = match p.surcharge {
        Surcharge::Double => ("double", String::new()),
        Surcharge::Fixed { amount } => ("fixed", (amount.paisa() / 100).to_string()),
        Surcharge::Percent { basis_points } => (
            "percent",
            bp(Lang::En, basis_points).trim_end_matches('%').to_string(),
        ),
    };
    let stage_days = |st: Stage| {
        p.escalation
            .iter()
            .find(|e| e.stage == st)
            .map(|e| e.days_after_due.to_string())
            .unwrap_or_default()
    };
    let radio = |v: &str, key: &'static str| {
        html! {
            p {
                input type="radio" name="surcharge" value=(v) id={ "s-" (v) } checked[kind == v] class="auto";
                " " label for={ "s-" (v) } class="inline" { (tr(l, key)) }
            }
        }
    };
    let body = html! {
        p { (ident(&format!("{}/{}", o.department, o.code))) " v" (o.version) }
        ul { @for t in terms_text(l, p) { li { (t) } } }
        p.hint { (tr(l, "schedule.four_eyes")) }
        form method="post" action="/staff/schedule" class="box" id="propose" {
            (s.csrf_field())
            input type="hidden" name="department" value=(o.department.as_str());
            input type="hidden" name="code" value=(o.code.as_str());
            input type="hidden" name="terms" value="1";
            label for="rupees" { (tr(l, "console.amount_rupees")) }
            input id="rupees" name="rupees" inputmode="decimal" dir="ltr" class="w10" value=(o.amount.to_string().trim_start_matches("Rs ").replace(',', ""));
            label for="days" { (tr(l, "console.days_to_pay")) }
            input id="days" name="days" inputmode="numeric" dir="ltr" class="w5" value=(o.days_to_pay);
            fieldset {
                legend { (tr(l, "schedule.surcharge")) }
                (radio("double", "schedule.kind_double"))
                (radio("fixed", "schedule.kind_fixed"))
                (radio("percent", "schedule.kind_percent"))
                label for="surcharge_value" { (tr(l, "schedule.surcharge_value")) }
                input id="surcharge_value" name="surcharge_value" dir="ltr" class="w10" value=(value);
            }
            fieldset {
                legend { (tr(l, "schedule.discount_legend")) }
                label for="discount_percent" { (tr(l, "schedule.discount_percent")) }
                input id="discount_percent" name="discount_percent" dir="ltr" class="w8"
                    value=(p.discount.map(|d| bp(Lang::En, d.basis_points).trim_end_matches('%').to_string()).unwrap_or_default());
                label for="discount_days" { (tr(l, "schedule.discount_days")) }
                input id="discount_days" name="discount_days" dir="ltr" class="w5" inputmode="numeric"
                    value=(p.discount.map(|d| d.within_days.to_string()).unwrap_or_default());
            }
            fieldset {
                legend { (tr(l, "schedule.stages")) }
                p.hint { (tr(l, "schedule.stages_hint")) }
                @for (st, name) in [(Stage::ImpoundEligible, "stage_impound"), (Stage::LicenceSuspended, "stage_licence"), (Stage::TransferBlocked, "stage_transfer")] {
                    label for=(name) { (stage_label(l, st)) }
                    input id=(name) name=(name) dir="ltr" class="w5" inputmode="numeric" value=(stage_days(st));
                }
            }
            p { button type="submit" { (tr(l, "schedule.propose")) } }
        }
    };
    let title = format!(
        "{}: {}",
        tr(l, "console.change"),
        isolate(l.pick(&o.name_en, &o.name_ur))
    );
    s.page(&i18n::here(&uri), &title, body)
}

#[derive(Deserialize)]
pub struct ScheduleForm {
    department: String,
    code: String,
    rupees: String,
    days: String,
    /// Present when the form carries penalty terms; without it the terms in force are kept.
    terms: Option<String>,
    surcharge: Option<String>,
    surcharge_value: Option<String>,
    discount_percent: Option<String>,
    discount_days: Option<String>,
    stage_impound: Option<String>,
    stage_licence: Option<String>,
    stage_transfer: Option<String>,
}

fn filled(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The penalty terms of the form, or the message that says what is wrong.
fn terms_of(l: Lang, f: &ScheduleForm) -> Result<PenaltySchedule, String> {
    let surcharge = match f.surcharge.as_deref().unwrap_or("double") {
        "double" => Surcharge::Double,
        "fixed" => Surcharge::Fixed {
            amount: filled(&f.surcharge_value)
                .and_then(|v| Money::parse(v).ok())
                .filter(|m| *m > Money::ZERO)
                .ok_or_else(|| tr(l, "schedule.bad_surcharge").to_string())?,
        },
        "percent" => Surcharge::Percent {
            basis_points: filled(&f.surcharge_value)
                .and_then(parse_percent)
                .filter(|b| *b > 0)
                .ok_or_else(|| tr(l, "schedule.bad_surcharge").to_string())?,
        },
        _ => return Err(tr(l, "schedule.bad_surcharge").to_string()),
    };
    let discount = match (filled(&f.discount_percent), filled(&f.discount_days)) {
        (None, None) => None,
        (Some(p), Some(d)) => Some(Discount {
            basis_points: parse_percent(p)
                .ok_or_else(|| tr(l, "schedule.bad_discount").to_string())?,
            within_days: d
                .parse::<u16>()
                .ok()
                .filter(|d| *d <= 365)
                .ok_or_else(|| tr(l, "schedule.bad_discount").to_string())?,
        }),
        _ => return Err(tr(l, "schedule.bad_discount").to_string()),
    };
    let mut escalation = Vec::new();
    for (st, v) in [
        (Stage::ImpoundEligible, &f.stage_impound),
        (Stage::LicenceSuspended, &f.stage_licence),
        (Stage::TransferBlocked, &f.stage_transfer),
    ] {
        if let Some(v) = filled(v) {
            let days = v
                .parse::<u16>()
                .ok()
                .filter(|d| (1..=3650).contains(d))
                .ok_or_else(|| tr(l, "schedule.bad_stage").to_string())?;
            escalation.push(Escalation {
                stage: st,
                days_after_due: days,
            });
        }
    }
    let p = PenaltySchedule {
        surcharge,
        discount,
        escalation,
    };
    p.check()
        .map_err(|_| tr(l, "schedule.bad_terms").to_string())?;
    Ok(p)
}

/// `POST /staff/schedule`: proposes a new version of one offence's amount, days to pay and
/// (when the form carries them) penalty terms; it waits for a second person's approval.
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
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let Ok(dep) = DepartmentCode::parse(form.department.trim()) else {
        return bad(&s, unprocessable, "department");
    };
    if s.principal
        .may(Action::ChangeSchedule, &Scope::department(&dep))
        .is_err()
    {
        return s.forbidden();
    }
    let Ok(code) = OffenceCode::parse(form.code.trim()) else {
        return bad(&s, unprocessable, "code");
    };
    let amount = Money::parse(&form.rupees)
        .ok()
        .filter(|m| *m > Money::ZERO && m.paisa() <= 1_000_000_000);
    let Some(amount) = amount else {
        return bad(&s, unprocessable, tr(l, "console.bad_amount"));
    };
    let Some(days) = form
        .days
        .trim()
        .parse::<u16>()
        .ok()
        .filter(|d| (1..=365).contains(d))
    else {
        return bad(&s, unprocessable, tr(l, "console.bad_days"));
    };
    let penalty = if form.terms.is_some() {
        match terms_of(l, &form) {
            Ok(p) => Some(p),
            Err(m) => return bad(&s, unprocessable, &m),
        }
    } else {
        None
    };
    let who = s.principal.clone();
    let now = state.store.now();
    let done = state
        .store
        .write(move |tx| {
            let penalty = match penalty {
                Some(p) => p,
                None => catalogue::current_offence(tx, &dep, &code)?
                    .map(|(_, o)| o.penalty)
                    .unwrap_or_default(),
            };
            schedule::propose(
                tx,
                &who,
                &Proposed {
                    department: dep,
                    code,
                    amount,
                    days_to_pay: days,
                    penalty,
                },
                now,
            )
        })
        .await;
    match done {
        Ok(_) => see_other("/staff/schedule?done=proposed#result"),
        Err(e) => {
            let e = ApiError::from(e);
            if e.status.is_server_error() {
                return e.into_response();
            }
            bad(&s, e.status, &e.message)
        }
    }
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    decision: String,
}

/// `POST /staff/schedule/proposals/{id}`: a second person approves (the new version takes
/// effect now) or rejects a proposed change.
pub async fn decide(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    f: ConsoleForm<DecisionForm>,
) -> Response {
    let s = f.session;
    if let Err(r) = s.require(Action::ChangeSchedule) {
        return r;
    }
    let approve = match f.form.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return bad(&s, StatusCode::UNPROCESSABLE_ENTITY, "approve or reject"),
    };
    let who = s.principal.clone();
    let now = state.store.now();
    match state
        .store
        .write(move |tx| schedule::decide(tx, &who, id, approve, now))
        .await
    {
        Ok(_) => see_other(if approve {
            "/staff/schedule?done=approved#result"
        } else {
            "/staff/schedule?done=rejected#result"
        }),
        Err(e) => {
            let e = ApiError::from(e);
            if e.status.is_server_error() {
                return e.into_response();
            }
            bad(&s, e.status, &e.message)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn percentages_are_exact_basis_points() {
        assert_eq!(super::parse_percent("10"), Some(1000));
        assert_eq!(super::parse_percent("12.5"), Some(1250));
        assert_eq!(super::parse_percent("7.25%"), Some(725));
        assert_eq!(super::parse_percent("7.255"), None);
        assert_eq!(super::parse_percent("-1"), None);
        assert_eq!(super::bp(crate::i18n::Lang::En, 1250), "12.5%");
        assert_eq!(super::bp(crate::i18n::Lang::En, 725), "7.25%");
    }
}
