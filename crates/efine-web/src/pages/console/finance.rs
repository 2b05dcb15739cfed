//! Finance's console pages: refund liabilities and refunds (request, then someone else approves
//! or rejects), and settlement files pasted in for reconciliation. Same store calls and rules
//! as the JSON API (`/api/v1/refunds`, `/api/v1/recon/{rail}`).

use super::parts::{ident, see_other};
use super::session::{ConsoleForm, ConsoleSession};
use crate::api::refunds::RefundsView;
use crate::error::ApiError;
use crate::i18n::{self, money, tr, trf};
use crate::AppState;
use axum::extract::State;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use efine_core::auth::Action;
use efine_core::payment::Rail;
use efine_core::refund::RefundState;
use efine_core::Money;
use efine_service::{refunds, ServiceError};
use efine_store::ops::recon;
use maud::{html, Markup};
use serde::Deserialize;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/finance", get(page))
        .route("/staff/finance/refunds", post(request))
        .route("/staff/finance/refunds/decide", post(decide))
        .route("/staff/finance/recon", post(reconcile))
}

fn problem(s: &ConsoleSession, e: ApiError) -> Response {
    if e.status.is_server_error() {
        return e.into_response();
    }
    s.status_page(
        e.status,
        "/staff/finance",
        tr(s.lang, "staff.bad_input"),
        html! {
            p.bad role="alert" id="problem" { (e.message) }
            p { a href="/staff/finance" { (tr(s.lang, "finance.title")) } }
        },
    )
}

fn rupees(paisa: i64, l: i18n::Lang) -> String {
    money(l, Money::from_paisa(paisa).unwrap_or(Money::ZERO))
}

fn recon_form(s: &ConsoleSession) -> Markup {
    let l = s.lang;
    html! {
        h2 { (tr(l, "finance.recon")) }
        form method="post" action="/staff/finance/recon" class="box" {
            (s.csrf_field())
            label for="rail" { (tr(l, "finance.rail")) }
            select id="rail" name="rail" {
                @for r in [Rail::OneBill, Rail::Jazzcash, Rail::Easypaisa, Rail::Card] {
                    option value=(r.as_str()) { (r.label()) }
                }
            }
            label for="name" { (tr(l, "finance.file_name")) }
            input id="name" name="name" dir="ltr" maxlength="200";
            label for="file" { (tr(l, "finance.file")) }
            p.hint id="file-hint" { (tr(l, "finance.file_hint")) }
            textarea id="file" name="file" rows="8" dir="ltr" required aria-describedby="file-hint" {}
            p { button type="submit" { (tr(l, "finance.reconcile")) } }
        }
    }
}

/// `GET /staff/finance`
pub async fn page(State(state): State<AppState>, s: ConsoleSession, uri: Uri) -> Response {
    if let Err(r) = s.require(Action::ReadRefunds) {
        return r;
    }
    let l = s.lang;
    let (li, rf) = match refunds::list(&state.ctx, &s.principal).await {
        Ok(v) => v,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let v = RefundsView {
        liabilities: li.into_iter().map(Into::into).collect(),
        refunds: rf.into_iter().map(Into::into).collect(),
    };
    let handles = s.may(Action::HandleRefunds);
    let body = html! {
        h2 { (tr(l, "finance.liabilities")) }
        div.scroll {
            table id="liabilities" {
                thead {
                    tr {
                        th scope="col" { "#" }
                        th scope="col" { (tr(l, "portal.challan")) }
                        th scope="col" { (tr(l, "finance.rail")) }
                        th scope="col" { (tr(l, "finance.amount")) }
                        th scope="col" { (tr(l, "finance.reason")) }
                        th scope="col" {}
                    }
                }
                tbody {
                    @for x in &v.liabilities {
                        @let has_refund = v.refunds.iter().any(|r| r.liability_id == x.id);
                        tr {
                            td { (x.id) }
                            td { (ident(&x.challan_number)) }
                            td { (x.rail) }
                            td { (rupees(x.amount, l)) }
                            td { (x.reason) }
                            td {
                                @if handles && !has_refund {
                                    form method="post" action="/staff/finance/refunds" {
                                        (s.csrf_field())
                                        input type="hidden" name="liability_id" value=(x.id);
                                        label for={ "r-" (x.id) } { (tr(l, "finance.reason")) }
                                        input id={ "r-" (x.id) } name="reason" required maxlength="500";
                                        button type="submit" { (tr(l, "finance.request")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { (tr(l, "finance.refunds")) }
        div.scroll {
            table id="refunds" {
                thead {
                    tr {
                        th scope="col" { "#" }
                        th scope="col" { (tr(l, "portal.challan")) }
                        th scope="col" { (tr(l, "finance.amount")) }
                        th scope="col" { (tr(l, "portal.status")) }
                        th scope="col" { (tr(l, "finance.requested_by")) }
                        th scope="col" {}
                    }
                }
                tbody {
                    @for r in &v.refunds {
                        tr {
                            td { (r.id) }
                            td { (ident(&r.challan_number)) }
                            td { (rupees(r.amount, l)) }
                            td { (r.state) }
                            td { (ident(&r.requested_by)) }
                            td {
                                @if handles
                                    && r.state == RefundState::Requested.as_str()
                                    && s.principal.may_decide(&[], &r.requested_by).is_ok()
                                {
                                    form method="post" action="/staff/finance/refunds/decide" class="row" {
                                        (s.csrf_field())
                                        input type="hidden" name="id" value=(r.id);
                                        button type="submit" name="decision" value="approve" { (tr(l, "finance.approve")) }
                                        button type="submit" name="decision" value="reject" class="secondary" { (tr(l, "finance.reject")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if s.may(Action::Reconcile) {
            (recon_form(&s))
        }
    };
    s.page(&i18n::here(&uri), tr(l, "finance.title"), body)
}

#[derive(Deserialize)]
pub struct RefundForm {
    liability_id: i64,
    #[serde(default)]
    reason: String,
}

/// `POST /staff/finance/refunds`: requests the refund of a liability.
pub async fn request(State(state): State<AppState>, f: ConsoleForm<RefundForm>) -> Response {
    let s = f.session;
    let id = f.form.liability_id;
    match refunds::request(&state.ctx, &s.principal, id, &f.form.reason).await {
        Ok(_) => see_other("/staff/finance"),
        Err(ServiceError::Invalid { field, .. }) if field == "reason" => problem(
            &s,
            ApiError::invalid("reason", tr(s.lang, "finance.reason_needed")),
        ),
        Err(e) => problem(&s, e.into()),
    }
}

#[derive(Deserialize)]
pub struct DecideForm {
    id: i64,
    decision: String,
}

/// `POST /staff/finance/refunds/decide`: approve or reject (not the requester).
pub async fn decide(State(state): State<AppState>, f: ConsoleForm<DecideForm>) -> Response {
    let s = f.session;
    let approve = match f.form.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return problem(&s, ApiError::invalid("decision", "approve or reject")),
    };
    match refunds::decide(&state.ctx, &s.principal, f.form.id, approve).await {
        Ok(_) => see_other("/staff/finance"),
        Err(e) => problem(&s, e.into()),
    }
}

#[derive(Deserialize)]
pub struct ReconForm {
    rail: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    file: String,
}

/// `POST /staff/finance/recon`: imports a pasted settlement file and shows the report.
pub async fn reconcile(State(state): State<AppState>, f: ConsoleForm<ReconForm>) -> Response {
    let s = f.session;
    let l = s.lang;
    if let Err(r) = s.require(Action::Reconcile) {
        return r;
    }
    let Some(rail) = Rail::parse(&f.form.rail).filter(|r| *r != Rail::Counter) else {
        return problem(
            &s,
            ApiError::invalid("rail", "1bill, jazzcash, easypaisa or card"),
        );
    };
    let name = match f.form.name.trim() {
        "" => "pasted.csv".to_string(),
        n => n.chars().take(200).collect(),
    };
    let text = f.form.file.replace("\r\n", "\n");
    let by = s.principal.username.clone();
    let now = state.store.now();
    let report = match state
        .store
        .write(move |tx| recon::import(tx, rail, &name, &text, &by, now))
        .await
    {
        Ok(r) => r,
        Err(e) => return problem(&s, e.into()),
    };
    let summary = trf(
        l,
        "finance.report",
        &[
            ("lines", &report.lines.to_string()),
            ("matched", &report.matched.to_string()),
            ("exceptions", &report.exceptions.len().to_string()),
        ],
    );
    let body = html! {
        div.ok id="report" { p { (summary) } }
        @if !report.exceptions.is_empty() {
            div.scroll {
                table {
                    thead {
                        tr {
                            th scope="col" { (tr(l, "finance.line")) }
                            th scope="col" { (tr(l, "finance.txn")) }
                            th scope="col" { (tr(l, "finance.amount")) }
                            th scope="col" { (tr(l, "finance.outcome")) }
                        }
                    }
                    tbody {
                        @for x in &report.exceptions {
                            tr {
                                td { @if let Some(n) = x.line { (n) } }
                                td { (ident(&x.rail_txn_id)) }
                                td { (money(l, x.amount)) }
                                td { (x.outcome) ": " (x.detail) }
                            }
                        }
                    }
                }
            }
        }
        p { a href="/staff/finance" { (tr(l, "finance.title")) } }
    };
    s.page("/staff/finance", tr(l, "finance.recon"), body)
}
