//! A challan's whole record in the console, with its event history (and the receipt's), and
//! the form that asks for its cancellation.

use super::parts::{ident, isolate, pk_time, status_label};
use super::queues::request_form;
use super::session::ConsoleSession;
use crate::error::ApiError;
use crate::i18n::{self, money, tr};
use crate::views::{today, ChallanView};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use efine_core::auth::{Action, Scope};
use efine_core::{ChallanNumber, Money};
use efine_store::ops::{catalogue, challans, events};
use maud::{html, Markup};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/staff/challans/{number}", get(detail))
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
            html! { p { (tr(l, "portal.not_found_body")) } },
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
            if who
                .may(Action::ReadChallan, &Scope::of(&c.department, &c.district))
                .is_err()
            {
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
    let issued_at = c.issued_at;
    let history = super::history::list(l, &evs);
    let v = ChallanView::new(c, names, paid, evs, today(state.store.now()));
    let m = |p: i64| money(l, Money::from_paisa(p).unwrap_or(Money::ZERO));
    let opt_id = |o: &Option<String>| match o {
        Some(x) => ident(x),
        None => html! { "-" },
    };
    let opt_text = |o: &Option<String>| html! { (o.as_deref().unwrap_or("-")) };
    let rows: Vec<(&str, Markup)> = vec![
        (tr(l, "portal.challan_number"), ident(&v.challan_number)),
        (tr(l, "portal.psid"), ident(&v.psid)),
        (
            tr(l, "portal.status"),
            html! { (status_label(l, &v.status)) },
        ),
        (
            tr(l, "portal.offence"),
            html! {
                (l.pick(&v.offence_name_en, &v.offence_name_ur))
                " (" (ident(&v.offence_code)) ", v" (v.offence_version) ")"
            },
        ),
        (
            tr(l, "console.legal_reference"),
            html! { (v.legal_reference) },
        ),
        (tr(l, "portal.department"), html! { (v.department_name) }),
        (tr(l, "portal.district"), html! { (v.district_name) }),
        (tr(l, "console.amount"), html! { (m(v.amount)) }),
        (
            tr(l, "portal.amount_due_today"),
            html! { (m(v.amount_due)) },
        ),
        (
            tr(l, "portal.due_date"),
            html! { (i18n::date(l, due_date)) },
        ),
        (
            tr(l, "portal.amount_after"),
            html! { (m(v.amount_after_due_date)) },
        ),
        (tr(l, "portal.issued"), html! { (pk_time(l, issued_at)) }),
        (tr(l, "console.officer"), ident(&v.officer)),
        (tr(l, "portal.vehicle"), opt_id(&v.vehicle_number)),
        (tr(l, "console.cnic"), opt_id(&v.cnic)),
        (tr(l, "console.mobile"), opt_id(&v.mobile)),
        (tr(l, "portal.name"), opt_text(&v.name)),
        (tr(l, "console.location"), opt_text(&v.location.text)),
        (tr(l, "console.notes"), opt_text(&v.notes)),
    ];
    let photos = crate::pages::portal::challan::photos_of(&state, &v.challan_number).await;
    let body = html! {
        table {
            @for (k, val) in &rows {
                tr { th scope="row" { (k) } td { (val) } }
            }
        }
        @if let Some(p) = &v.paid {
            p.ok {
                (tr(l, "portal.amount_paid")) ": " (m(p.amount)) " · " (p.rail_label) " · "
                a href={ "/payments/" (p.receipt_number) "/receipt.pdf" } { (ident(&p.receipt_number)) }
            }
        }
        p { a href={ "/challans/" (v.challan_number) "/receipt.pdf" } { (tr(l, "portal.download")) } }
        (crate::pages::portal::challan::photo_strip(l, &photos))
        h2 { (tr(l, "console.history")) }
        p.hint { (tr(l, "history.intro")) }
        (history)
        @if v.status == "unpaid" {
            (request_form(&s, &v.challan_number))
        }
    };
    let title = format!("{} {}", tr(l, "portal.challan"), isolate(&v.challan_number));
    s.page(&here, &title, body)
}
