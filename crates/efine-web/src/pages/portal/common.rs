//! What the portal's pages share: finding the challan a URL names, and the responses every
//! page family gives (a page, a message, a redirect).

use crate::error::ApiError;
use crate::i18n::{date, tr, trf, Lang};
use crate::pages::shell;
use crate::views::{today, PublicChallanView};
use crate::AppState;
use axum::http::header::{CACHE_CONTROL, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use efine_core::challan::Challan;
use efine_core::clock::karachi_date;
use efine_core::penalty::{self, Stage};
use efine_core::{ChallanNumber, ChallanStatus};
use efine_store::ops::appeals::Appeal;
use efine_store::ops::cancellations::Cancellation;
use efine_store::ops::{appeals, cancellations, challans};
use maud::{html, Markup};
use time::Date;

/// A whole page as a response that no cache keeps (it shows amounts due today).
pub(super) fn respond(status: StatusCode, page: Markup) -> Response {
    let mut r = (status, Html(page.into_string())).into_response();
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A page that only says what went wrong, with a link home.
pub(super) fn message_page(
    lang: Lang,
    status: StatusCode,
    here: &str,
    title: &str,
    msg: &str,
) -> Response {
    respond(
        status,
        shell::page(
            lang,
            here,
            title,
            html! {
                p class="bad" role="alert" { (msg) }
                p { a href="/" { (tr(lang, "site.home")) } }
            },
        ),
    )
}

pub(super) fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

pub(super) fn status_label(lang: Lang, status: &str) -> &'static str {
    match status {
        "paid" => tr(lang, "portal.paid"),
        "cancelled" => tr(lang, "portal.cancelled_status"),
        "expired" => tr(lang, "fees.expired_status"),
        _ => tr(lang, "portal.unpaid"),
    }
}

/// Why a citizen cannot contest a challan today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ContestClosed {
    Paid,
    Cancelled,
    /// An appeal was lodged already (one per challan): its page shows where it stands.
    Appealed,
    /// The window ended on this local day.
    WindowClosed(Date),
}

impl ContestClosed {
    /// The reason in the reader's language.
    pub fn say(self, lang: Lang) -> String {
        match self {
            ContestClosed::Paid => tr(lang, "appeal.closed_paid").into(),
            ContestClosed::Cancelled => tr(lang, "appeal.closed_cancelled").into(),
            ContestClosed::Appealed => tr(lang, "appeal.closed_appealed").into(),
            ContestClosed::WindowClosed(d) => {
                trf(lang, "appeal.closed_window", &[("date", &date(lang, d))])
            }
        }
    }

    /// The same reasons as the store gives them when an appeal is refused (its error codes).
    pub fn from_code(code: &str, last_day: Date) -> Option<ContestClosed> {
        match code {
            "challan_paid" => Some(ContestClosed::Paid),
            "challan_cancelled" => Some(ContestClosed::Cancelled),
            "appeal_exists" => Some(ContestClosed::Appealed),
            "appeal_window_closed" => Some(ContestClosed::WindowClosed(last_day)),
            _ => None,
        }
    }
}

/// What comes next for an unpaid challan whose clock runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NextStep {
    /// The surcharge is added on this day.
    Surcharge(Date),
    /// This enforcement stage is reached on this day.
    Stage(Stage, Date),
}

/// Remembers the reader's language for the challan's messages: they used the portal in it for
/// this challan (to pay, to ask for an appeal code, to appeal), so its SMS are then written in
/// that language alone. A failure here is logged and does not stop what the citizen came to do.
pub(super) async fn remember_language(state: &AppState, number: &ChallanNumber, lang: Lang) {
    let n = number.clone();
    let at = state.store.now();
    let lang = lang.into();
    let done = state
        .store
        .write(move |tx| {
            efine_store::ops::notify::record_language(
                tx,
                &n,
                lang,
                efine_store::ops::notify::LanguageSource::Portal,
                at,
            )
        })
        .await;
    if let Err(e) = done {
        tracing::warn!(error = %e, "could not record the language of a challan's messages");
    }
}

/// A challan as the portal shows it, with its signed QR token and what is true of it today.
pub(super) struct ChallanData {
    pub view: PublicChallanView,
    /// The due date at issue (the Raast code's "amount after" date).
    pub due_date: time::Date,
    pub token: String,
    pub today: Date,
    /// The last day to pay without surcharge, moved on by days spent under appeal.
    pub effective_due: Date,
    /// The day the surcharge was (or will be) added, while the clock runs.
    pub surcharge_from: Option<Date>,
    /// The enforcement stage reached today and the day it was reached.
    pub stage: Option<(Stage, Date)>,
    pub next: Option<NextStep>,
    /// The last day an appeal can be lodged.
    pub appeal_last_day: Date,
    pub appeal: Option<Appeal>,
    /// Why it was cancelled, when a supervisor approved a cancellation request.
    pub cancellation: Option<Cancellation>,
    /// Evidence shown beside the challan. Empty until the store keeps items for a challan
    /// (officers' photos from the field app); the page lists whatever is here.
    pub evidence: Vec<super::challan::EvidenceItem>,
}

impl ChallanData {
    /// Whether the challan can be contested today, and why not.
    pub fn contest(&self) -> Result<(), ContestClosed> {
        match self.view.status.as_str() {
            "paid" => Err(ContestClosed::Paid),
            "cancelled" => Err(ContestClosed::Cancelled),
            _ if self.appeal.is_some() => Err(ContestClosed::Appealed),
            _ if self.today > self.appeal_last_day => {
                Err(ContestClosed::WindowClosed(self.appeal_last_day))
            }
            _ => Ok(()),
        }
    }
}

/// What is true of a challan's money and enforcement today.
struct Facts {
    effective_due: Date,
    surcharge_from: Option<Date>,
    stage: Option<(Stage, Date)>,
    next: Option<NextStep>,
}

/// The facts the page needs, computed from the challan's own terms (the core's penalty rules).
fn today_facts(c: &Challan, today: Date) -> Facts {
    let terms = c.terms();
    let due = terms.effective_due_date();
    let open = c.status == ChallanStatus::Unpaid;
    let running = open && c.adjustments.paused_since.is_none();
    let surcharge_from = terms.surcharge_from().filter(|_| running);
    let dates = penalty::stage_dates(&terms);
    let stage = if open {
        terms.stage_on(today).map(|s| {
            let since = dates
                .iter()
                .find(|(st, _)| *st == s)
                .map(|(_, d)| *d)
                .unwrap_or(today);
            (s, since)
        })
    } else {
        None
    };
    let next = if running {
        let sur = surcharge_from
            .filter(|d| *d > today)
            .map(NextStep::Surcharge);
        let st = dates
            .iter()
            .filter(|(_, d)| *d > today)
            .min_by_key(|(_, d)| *d)
            .map(|(s, d)| NextStep::Stage(*s, *d));
        match (sur, st) {
            (Some(a), _) => Some(a),
            (None, b) => b,
        }
    } else {
        None
    };
    Facts {
        effective_due: due,
        surcharge_from,
        stage,
        next,
    }
}

async fn load(state: &AppState, number: ChallanNumber) -> Result<Option<ChallanData>, ApiError> {
    let found = state
        .store
        .read(move |tx| {
            let Some(d) = challans::detailed(tx, &challans::Find::Number(number.clone()), 1)?
                .into_iter()
                .next()
            else {
                return Ok(None);
            };
            let appeal = appeals::for_challan(tx, &number)?;
            let cancellation = cancellations::approved_for_challan(tx, &number)?;
            Ok(Some((d, appeal, cancellation)))
        })
        .await?;
    let window = state.config.appeal_window_days;
    let today = today(state.store.now());
    Ok(found.map(|((c, names, paid), appeal, cancellation)| {
        let token = state.keys.current().signer.sign_challan(&c);
        let due_date = c.due_date;
        let Facts {
            effective_due,
            surcharge_from,
            stage,
            next,
        } = today_facts(&c, today);
        let appeal_last_day = karachi_date(c.issued_at) + time::Duration::days(i64::from(window));
        ChallanData {
            view: PublicChallanView::new(c, names, paid, today),
            due_date,
            token,
            today,
            effective_due,
            surcharge_from,
            stage,
            next,
            appeal_last_day,
            appeal,
            cancellation,
            evidence: Vec::new(),
        }
    }))
}

/// The challan `number` names, or the page to answer with instead (malformed: 422; unknown:
/// 404).
pub(super) async fn challan_or_page(
    state: &AppState,
    lang: Lang,
    here: &str,
    number: &str,
) -> Result<ChallanData, Response> {
    let Ok(n) = ChallanNumber::parse(number) else {
        return Err(message_page(
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            "/",
            tr(lang, "portal.not_found"),
            tr(lang, "portal.bad_number"),
        ));
    };
    match load(state, n).await {
        Ok(Some(d)) => Ok(d),
        Ok(None) => Err(message_page(
            lang,
            StatusCode::NOT_FOUND,
            here,
            tr(lang, "portal.not_found"),
            tr(lang, "portal.not_found_body"),
        )),
        Err(e) => Err(e.into_response()),
    }
}
