//! The auditor's page: browse and filter the event log (newest first, each event as a sentence
//! with the recorded event on demand), run the chain and record check read-only (the same
//! `ops::audit::verify` as `efine audit verify`, in one snapshot) with its verdict beside the
//! published heads, and download a verification bundle to check elsewhere.

use super::history;
use super::parts::{ident, pk_time};
use super::session::ConsoleSession;
use crate::error::ApiError;
use crate::i18n::{self, tr, trf};
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use efine_core::auth::Action;
use efine_core::clock::from_micros;
use efine_store::ops::audit::{self, Finding, Report};
use efine_store::ops::events::{self, EventFilter};
use efine_store::ops::log_heads::{self, HeadFinding, LogHead};
use maud::{html, Markup};
use serde::Deserialize;

const PER_PAGE: i64 = 50;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/audit", get(log_page))
        .route("/staff/audit/check", get(check_page))
        .route("/staff/audit/bundle.json", get(bundle))
}

#[derive(Deserialize, Default)]
pub struct LogQuery {
    kind: Option<String>,
    subject: Option<String>,
    actor: Option<String>,
    before: Option<i64>,
}

fn blank(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.chars().take(100).collect())
}

fn nav(s: &ConsoleSession) -> Markup {
    let l = s.lang;
    html! {
        nav.chips aria-label=(tr(l, "audit.title")) {
            a href="/staff/audit" { (tr(l, "audit.log")) }
            a href="/staff/audit/check" { (tr(l, "audit.check")) }
            a href="/staff/audit/bundle.json" download { (tr(l, "audit.bundle")) }
        }
    }
}

/// `GET /staff/audit`: the event log, newest first, filtered by kind (or family), subject and
/// actor, 50 to a page.
pub async fn log_page(
    State(state): State<AppState>,
    s: ConsoleSession,
    uri: Uri,
    Query(q): Query<LogQuery>,
) -> Response {
    if let Err(r) = s.require(Action::VerifyRecord) {
        return r;
    }
    let l = s.lang;
    let f = EventFilter {
        kind: blank(&q.kind),
        subject: blank(&q.subject),
        actor: blank(&q.actor),
        before_seq: q.before.filter(|b| *b > 0),
    };
    let filter = f.clone();
    let found = state
        .store
        .read(move |tx| {
            Ok((
                events::browse(tx, &filter, PER_PAGE + 1)?,
                events::head(tx)?,
            ))
        })
        .await;
    let (mut list, (head_seq, _)) = match found {
        Ok(v) => v,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let more = list.len() as i64 > PER_PAGE;
    list.truncate(PER_PAGE as usize);
    let next = list.last().map(|e| e.seq).filter(|_| more);
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let next_link = next.map(|seq| {
        let mut kv: Vec<(&str, String)> = Vec::new();
        for (k, v) in [
            ("kind", &f.kind),
            ("subject", &f.subject),
            ("actor", &f.actor),
        ] {
            if let Some(v) = v {
                kv.push((k, v.clone()));
            }
        }
        kv.push(("before", seq.to_string()));
        format!(
            "/staff/audit?{}",
            serde_urlencoded::to_string(&kv).unwrap_or_default()
        )
    });
    let body = html! {
        (nav(&s))
        p { (trf(l, "audit.log_intro", &[("n", &i18n::number(l, head_seq))])) }
        form method="get" action="/staff/audit" class="box filters" id="event-filters" {
            div {
                label for="kind" { (tr(l, "audit.kind")) }
                input id="kind" name="kind" dir="ltr" value=(value(&f.kind)) list="kinds" placeholder="challan";
                datalist id="kinds" {
                    @for k in KINDS { option value=(k) {} }
                }
            }
            div {
                label for="subject" { (tr(l, "audit.subject")) }
                input id="subject" name="subject" dir="ltr" value=(value(&f.subject)) placeholder="TRF-PSH-2026-004219";
            }
            div {
                label for="actor" { (tr(l, "audit.actor")) }
                input id="actor" name="actor" dir="ltr" value=(value(&f.actor));
            }
            p { button type="submit" { (tr(l, "portal.search")) } }
        }
        @if list.is_empty() {
            p id="no-events" { (tr(l, "audit.none")) }
        }
        ol.history id="event-log" {
            @for e in &list {
                li id={ "event-" (e.seq) } {
                    strong { "#" (i18n::digits(l, &e.seq.to_string())) " · " (pk_time(l, from_micros(e.at_micros))) } " "
                    (ident(&e.subject)) ": " (history::sentence(l, e))
                    details {
                        summary { (tr(l, "history.raw")) }
                        p.hint { (ident(&e.kind)) " · " (ident(&e.actor)) }
                        pre dir="ltr" { code { (pretty(&e.payload)) } }
                        p.hint { (tr(l, "history.hash")) " " (ident(&hex::encode(e.hash))) }
                        p.hint { (tr(l, "audit.prev_hash")) " " (ident(&hex::encode(e.prev_hash))) }
                    }
                }
            }
        }
        @if let Some(href) = next_link {
            p { a rel="next" href=(href) { (tr(l, "console.next")) } }
        }
    };
    s.page(&i18n::here(&uri), tr(l, "audit.title"), body)
}

/// The kinds offered in the filter (any other is typed).
const KINDS: [&str; 14] = [
    "challan",
    "challan.issued",
    "challan.paid",
    "challan.cancelled",
    "challan.surcharged",
    "challan.escalated",
    "cancellation",
    "appeal",
    "payment",
    "refund",
    "settlement.imported",
    "console",
    "user",
    "schedule",
];

fn pretty(payload: &str) -> String {
    serde_json::from_str::<serde_json::Value>(payload)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| payload.to_string())
}

/// What one run found: the record check and the published heads checked against the log.
struct Checked {
    verdict: Result<Report, Finding>,
    heads: Vec<LogHead>,
    head_findings: Vec<HeadFinding>,
}

async fn run_check(state: &AppState) -> Result<Checked, ApiError> {
    let ring = efine_store::keys::ring(&state.store)
        .await
        .map_err(ApiError::internal)?;
    Ok(state
        .store
        .read_snapshot(move |tx| {
            let verdict = audit::verify(tx, None, &mut |_| {})?;
            let heads = log_heads::list(tx)?;
            let head_findings = log_heads::check(tx, &heads, &ring)?;
            Ok(Checked {
                verdict,
                heads,
                head_findings,
            })
        })
        .await?)
}

/// `GET /staff/audit/check`: runs the chain and record check (read-only, one snapshot) and
/// shows its verdict with the published heads.
pub async fn check_page(State(state): State<AppState>, s: ConsoleSession, uri: Uri) -> Response {
    if let Err(r) = s.require(Action::VerifyRecord) {
        return r;
    }
    let l = s.lang;
    let c = match run_check(&state).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let n = |v: u64| i18n::number(l, i64::try_from(v).unwrap_or(i64::MAX));
    let body = html! {
        (nav(&s))
        p.hint { (tr(l, "audit.check_intro")) }
        @match &c.verdict {
            Ok(r) => {
                section.box.ok id="verdict" role="status" {
                    h2 { (tr(l, "audit.intact")) }
                    p { (trf(l, "audit.intact_body", &[
                        ("events", &n(r.events)),
                        ("challans", &n(r.challans)),
                        ("requests", &n(r.requests)),
                    ])) }
                    p { (tr(l, "audit.verified_head")) " "
                        (i18n::number(l, r.head_seq)) " · " (ident(&r.head_hash)) }
                    p.hint { (tr(l, "audit.next_run")) " "
                        code dir="ltr" { "efine audit verify --since " (r.head_seq) " --hash " (r.head_hash) } }
                }
            }
            Err(f) => {
                section.box.bad-box id="verdict" role="alert" {
                    h2 { (tr(l, "audit.tampered")) }
                    p { (f.to_string()) }
                }
            }
        }
        h2 { (tr(l, "audit.heads")) }
        @if c.heads.is_empty() {
            p { (tr(l, "audit.no_heads")) }
        } @else {
            @if c.head_findings.is_empty() {
                p.ok id="heads-verdict" { (trf(l, "audit.heads_ok", &[("n", &i18n::number(l, c.heads.len() as i64))])) }
            } @else {
                @for f in &c.head_findings {
                    p.bad role="alert" { (f.to_string()) }
                }
            }
            table.stack id="heads" {
                thead { tr {
                    th scope="col" { (tr(l, "audit.seq")) }
                    th scope="col" { (tr(l, "audit.published")) }
                    th scope="col" { (tr(l, "history.hash")) }
                    th scope="col" { (tr(l, "audit.key")) }
                } }
                tbody {
                    @for h in c.heads.iter().rev().take(20) {
                        tr {
                            td data-label=(tr(l, "audit.seq")) { (i18n::number(l, h.seq)) }
                            td data-label=(tr(l, "audit.published")) { (pk_time(l, h.published_at)) }
                            td data-label=(tr(l, "history.hash")) { (ident(&h.hash)) }
                            td data-label=(tr(l, "audit.key")) { (ident(&h.kid)) }
                        }
                    }
                }
            }
        }
        p { a href="/staff/audit/bundle.json" download { (tr(l, "audit.bundle")) } }
        p.hint { (tr(l, "audit.bundle_hint")) }
    };
    s.page(&i18n::here(&uri), tr(l, "audit.check"), body)
}

/// `GET /staff/audit/bundle.json`: what someone outside needs to check this system's record:
/// the verdict of a run now with the head it verified, every published head (signed), the
/// public keys, and the commands that check them.
pub async fn bundle(State(state): State<AppState>, s: ConsoleSession) -> Response {
    if let Err(r) = s.require(Action::VerifyRecord) {
        return r;
    }
    let c = match run_check(&state).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let keys = crate::views::KeySetView::from(&state.keys.current().published);
    let now = state.store.now();
    let verdict = match &c.verdict {
        Ok(r) => serde_json::json!({
            "intact": true,
            "events": r.events, "challans": r.challans, "requests": r.requests,
            "verified_head": {"seq": r.head_seq, "hash": r.head_hash},
        }),
        Err(f) => serde_json::json!({"intact": false, "finding": f.to_string()}),
    };
    let body = serde_json::json!({
        "generated_at": crate::views::rfc3339(now),
        "generated_by": s.principal.username,
        "verdict": verdict,
        "published_heads_check": c.head_findings.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "heads": c.heads,
        "keys": keys,
        "how_to_check": [
            "Save this file. Later, on any copy of the database: efine audit verify --against bundle.json",
            "efine audit verify --since <verified_head.seq> --hash <verified_head.hash> re-checks only what came after this run",
            "Each head's signature verifies with the key of its kid in keys (Ed25519 over the head)",
        ],
    });
    let name = format!(
        "attachment; filename=\"efine-verification-{}.json\"",
        efine_core::clock::karachi_date(now)
    );
    let mut r = axum::Json(body).into_response();
    if let Ok(v) = HeaderValue::from_str(&name) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
