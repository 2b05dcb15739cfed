//! Fee vouchers in the console, for the department's counter: verify a voucher by number, PSID,
//! CNIC or the text of its QR code; mark a paid one used (once: a second time is refused); the
//! paid vouchers not used yet; the counts by service. The same store calls and rules as
//! `/api/v1/fees/vouchers`.

use super::parts::{ident, status_label};
use super::session::{ConsoleForm, ConsoleSession};
use crate::api::fees::find_for;
use crate::error::ApiError;
use crate::i18n::{date, money, tr, trf};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use efine_core::auth::Action;
use efine_core::clock::karachi_date;
use efine_core::ChallanNumber;
use efine_store::ops::fees::{self, Voucher};
use maud::{html, Markup};
use serde::Deserialize;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/fees", get(page))
        .route("/staff/fees/verify", post(verify))
        .route("/staff/fees/{number}/consume", post(consume))
}

fn voucher_box(s: &ConsoleSession, v: &Voucher) -> Markup {
    let l = s.lang;
    let c = &v.challan;
    let n = c.number.to_string();
    let status = c.status.as_str();
    html! {
        div.box id={ "voucher-" (n) } {
            p {
                a href={ "/staff/challans/" (n) } { (ident(&n)) }
                " · " (ident(c.psid.as_str()))
                " · " strong class="voucher-status" {
                    @if let (Some(at), Some(by)) = (v.consumed_at, &v.consumed_by) {
                        (trf(l, "fees.used", &[("date", &date(l, karachi_date(at)))])) " (" (ident(by)) ")"
                    } @else {
                        (status_label(l, status))
                    }
                }
            }
            p {
                (l.pick(&v.service_en, &v.service_ur)) " · " (money(l, c.amount))
                " · " (tr(l, "fees.valid_until")) " " (date(l, v.valid_until()))
            }
            p {
                (tr(l, "fees.applicant")) ": "
                @if let Some(name) = &c.name { (name) " · " }
                @if let Some(cnic) = &c.cnic { (ident(&cnic.to_string())) }
                @if let Some(veh) = &c.vehicle { " · " (ident(veh.as_str())) }
                @if let Some(b) = &v.business_name { " · " (b) }
            }
            @if status == "paid" && v.consumed_at.is_none() {
                form method="post" action={ "/staff/fees/" (n) "/consume" } {
                    (s.csrf_field())
                    button type="submit" class="consume" { (tr(l, "fees.consume")) }
                }
            }
        }
    }
}

async fn render(state: &AppState, s: &ConsoleSession, status: StatusCode, top: Markup) -> Response {
    let who = s.principal.clone();
    let dep = who.department.clone();
    let data = state
        .store
        .read(move |tx| {
            Ok((
                fees::paid(tx, &who, None, Some(false), 100)?,
                fees::counts_by_service(tx, dep.as_ref())?,
            ))
        })
        .await;
    let (paid, counts) = match data {
        Ok(d) => d,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let l = s.lang;
    let body = html! {
        (top)
        form method="post" action="/staff/fees/verify" class="box" {
            (s.csrf_field())
            h2 { (tr(l, "fees.verify")) }
            label for="vq" { (tr(l, "fees.verify_label")) }
            input id="vq" name="q" required maxlength="600" autocomplete="off" dir="ltr";
            p { button type="submit" { (tr(l, "fees.verify_button")) } }
        }
        h2 id="paid" { (tr(l, "fees.paid_list")) }
        @if paid.is_empty() {
            p { (tr(l, "fees.none_paid")) }
        }
        @for v in &paid {
            (voucher_box(s, v))
        }
        h2 id="by-service" { (tr(l, "fees.by_service")) }
        div class="scroll" {
            table {
                thead {
                    tr {
                        th scope="col" { (tr(l, "fees.service")) }
                        th scope="col" { (tr(l, "fees.made")) }
                        th scope="col" { (tr(l, "fees.paid_count")) }
                        th scope="col" { (tr(l, "fees.used_count")) }
                    }
                }
                tbody {
                    @for (_, _, en, ur, made, paid, used) in &counts {
                        tr { td { (l.pick(en, ur)) } td { (made) } td { (paid) } td { (used) } }
                    }
                }
            }
        }
    };
    s.status_page(status, "/staff/fees", tr(l, "fees.console_title"), body)
}

/// `GET /staff/fees`
pub async fn page(State(state): State<AppState>, s: ConsoleSession) -> Response {
    if let Err(r) = s.require(Action::ConsumeVoucher) {
        return r;
    }
    render(&state, &s, StatusCode::OK, html! {}).await
}

#[derive(Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    q: String,
}

/// `POST /staff/fees/verify`: the vouchers of this department the input names.
pub async fn verify(State(state): State<AppState>, f: ConsoleForm<VerifyForm>) -> Response {
    let s = f.session;
    if let Err(r) = s.require(Action::ConsumeVoucher) {
        return r;
    }
    let l = s.lang;
    match find_for(&state, s.principal.clone(), &f.form.q).await {
        Ok(found) => {
            let top = html! {
                section id="verified" {
                    @if found.is_empty() {
                        p.bad role="alert" { (tr(l, "fees.verify_none")) }
                    }
                    @for v in &found {
                        (voucher_box(&s, v))
                    }
                }
            };
            render(&state, &s, StatusCode::OK, top).await
        }
        Err(e) if !e.status.is_server_error() => {
            let top = html! { p.bad role="alert" id="problem" { (e.message) } };
            render(&state, &s, e.status, top).await
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
pub struct Nothing {}

/// `POST /staff/fees/{number}/consume`
pub async fn consume(
    State(state): State<AppState>,
    Path(number): Path<String>,
    f: ConsoleForm<Nothing>,
) -> Response {
    let s = f.session;
    if let Err(r) = s.require(Action::ConsumeVoucher) {
        return r;
    }
    let l = s.lang;
    let Ok(n) = ChallanNumber::parse(&number) else {
        return render(
            &state,
            &s,
            StatusCode::UNPROCESSABLE_ENTITY,
            html! { p.bad role="alert" id="problem" { (tr(l, "portal.bad_number")) } },
        )
        .await;
    };
    let who = s.principal.clone();
    let now = state.store.now();
    match state
        .store
        .write(move |tx| fees::consume(tx, &who, &n, now))
        .await
    {
        Ok(v) => {
            let top = html! {
                p.ok role="status" id="consumed" {
                    (trf(l, "fees.consumed_ok", &[("number", &v.challan.number.to_string())]))
                }
                (voucher_box(&s, &v))
            };
            render(&state, &s, StatusCode::OK, top).await
        }
        Err(e) => {
            let e = ApiError::from(e);
            if e.status.is_server_error() {
                return e.into_response();
            }
            let top = html! { p.bad role="alert" id="problem" { (e.message) } };
            render(&state, &s, e.status, top).await
        }
    }
}
