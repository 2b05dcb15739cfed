//! Finance's console pages: refund liabilities and refunds (request, then someone else approves
//! or rejects), and settlement files pasted in for reconciliation. Same store calls and rules
//! as the JSON API (`/api/v1/refunds`, `/api/v1/recon/{rail}`).

use crate::console::{ConsoleForm, ConsoleSession};
use crate::controllers::refunds::{self, RefundsView};
use crate::error::ApiError;
use crate::i18n::{self, esc, ltr, money, tr, trf};
use crate::AppState;
use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use efine_core::auth::Role;
use efine_core::payment::Rail;
use efine_core::Money;
use efine_store::ops::{payments, recon, refunds as store_refunds};
use serde::Deserialize;

fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

fn problem(s: &ConsoleSession, e: ApiError) -> Response {
    if e.status.is_server_error() {
        return e.into_response();
    }
    s.status_page(
        e.status,
        "/staff/finance",
        tr(s.lang, "staff.bad_input"),
        &format!(
            "<p class=bad role=alert id=problem>{}</p><p><a href=\"/staff/finance\">{}</a></p>",
            esc(&e.message),
            tr(s.lang, "finance.title")
        ),
    )
}

fn rupees(paisa: i64, l: i18n::Lang) -> String {
    esc(&money(l, Money::from_paisa(paisa).unwrap_or(Money::ZERO)))
}

fn recon_form(s: &ConsoleSession) -> String {
    let l = s.lang;
    let mut rails = String::new();
    for r in [Rail::OneBill, Rail::Jazzcash, Rail::Easypaisa, Rail::Card] {
        rails.push_str(&format!(
            "<option value=\"{}\">{}</option>",
            r.as_str(),
            esc(r.label())
        ));
    }
    format!(
        "<h2>{}</h2><form method=post action=\"/staff/finance/recon\" class=box>{}\
         <label for=rail>{}</label><select id=rail name=rail>{rails}</select>\
         <label for=name>{}</label><input id=name name=name dir=ltr maxlength=200>\
         <label for=file>{}</label><p class=hint id=file-hint>{}</p>\
         <textarea id=file name=file rows=8 dir=ltr required aria-describedby=file-hint></textarea>\
         <p><button type=submit>{}</button></p></form>",
        tr(l, "finance.recon"),
        s.csrf_field(),
        tr(l, "finance.rail"),
        tr(l, "finance.file_name"),
        tr(l, "finance.file"),
        tr(l, "finance.file_hint"),
        tr(l, "finance.reconcile"),
    )
}

/// `GET /staff/finance`
pub async fn page(State(state): State<AppState>, s: ConsoleSession, uri: Uri) -> Response {
    if let Err(r) = s.require(&[Role::Finance, Role::Admin, Role::Auditor]) {
        return r;
    }
    let l = s.lang;
    let data = state
        .store
        .read(|tx| {
            Ok((
                payments::liabilities(tx, 500)?,
                store_refunds::list(tx, 500)?,
            ))
        })
        .await;
    let (li, rf) = match data {
        Ok(v) => v,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let v = RefundsView {
        liabilities: li.into_iter().map(Into::into).collect(),
        refunds: rf.into_iter().map(Into::into).collect(),
    };
    let acts = s.principal.role != Role::Auditor;
    let mut body = format!(
        "<h2>{}</h2><div class=scroll><table id=liabilities><thead><tr><th scope=col>#</th><th scope=col>{}</th><th scope=col>{}</th><th scope=col>{}</th><th scope=col>{}</th><th scope=col></th></tr></thead><tbody>",
        tr(l, "finance.liabilities"),
        tr(l, "portal.challan"),
        tr(l, "finance.rail"),
        tr(l, "finance.amount"),
        tr(l, "finance.reason"),
    );
    for x in &v.liabilities {
        let has_refund = v.refunds.iter().any(|r| r.liability_id == x.id);
        let action = if acts && s.principal.role == Role::Finance && !has_refund {
            format!(
                "<form method=post action=\"/staff/finance/refunds\">{}<input type=hidden name=liability_id value=\"{}\">\
                 <label for=r-{id}>{}</label><input id=r-{id} name=reason required maxlength=500>\
                 <button type=submit>{}</button></form>",
                s.csrf_field(),
                x.id,
                tr(l, "finance.reason"),
                tr(l, "finance.request"),
                id = x.id,
            )
        } else {
            String::new()
        };
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{action}</td></tr>",
            x.id,
            ltr(&x.challan_number),
            esc(&x.rail),
            rupees(x.amount, l),
            esc(&x.reason),
        ));
    }
    body.push_str(&format!(
        "</tbody></table></div><h2>{}</h2><div class=scroll><table id=refunds><thead><tr><th scope=col>#</th><th scope=col>{}</th><th scope=col>{}</th><th scope=col>{}</th><th scope=col>{}</th><th scope=col></th></tr></thead><tbody>",
        tr(l, "finance.refunds"),
        tr(l, "portal.challan"),
        tr(l, "finance.amount"),
        tr(l, "portal.status"),
        tr(l, "finance.requested_by"),
    ));
    for r in &v.refunds {
        let action = if acts
            && r.state == "requested"
            && r.requested_by != s.principal.username
            && matches!(s.principal.role, Role::Finance | Role::Admin)
        {
            format!(
                "<form method=post action=\"/staff/finance/refunds/decide\" class=row>{}<input type=hidden name=id value=\"{}\">\
                 <button type=submit name=decision value=approve>{}</button>\
                 <button type=submit name=decision value=reject class=secondary>{}</button></form>",
                s.csrf_field(),
                r.id,
                tr(l, "finance.approve"),
                tr(l, "finance.reject"),
            )
        } else {
            String::new()
        };
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{action}</td></tr>",
            r.id,
            ltr(&r.challan_number),
            rupees(r.amount, l),
            esc(&r.state),
            ltr(&r.requested_by),
        ));
    }
    body.push_str("</tbody></table></div>");
    if s.principal.role == Role::Finance {
        body.push_str(&recon_form(&s));
    }
    s.page(&i18n::here(&uri), tr(l, "finance.title"), &body)
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
    if let Err(e) = refunds::finance_only(&s.principal) {
        return problem(&s, e);
    }
    let reason = f.form.reason.trim().to_string();
    if reason.is_empty() || reason.chars().count() > 500 {
        return problem(
            &s,
            ApiError::invalid("reason", tr(s.lang, "finance.reason_needed")),
        );
    }
    let id = f.form.liability_id;
    let by = s.principal.username.clone();
    let now = state.store.now();
    match state
        .store
        .write(move |tx| store_refunds::request(tx, id, &reason, &by, now))
        .await
    {
        Ok(_) => see_other("/staff/finance"),
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
    match refunds::decide(state, s.principal.clone(), f.form.id, approve).await {
        Ok(_) => see_other("/staff/finance"),
        Err(e) => problem(&s, e),
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
    if s.principal.role != Role::Finance {
        return s.require(&[]).err().unwrap_or_else(|| see_other("/staff"));
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
    let mut body = format!(
        "<div class=ok id=report><p>{}</p></div>",
        esc(&trf(
            l,
            "finance.report",
            &[
                ("lines", &report.lines.to_string()),
                ("matched", &report.matched.to_string()),
                ("exceptions", &report.exceptions.len().to_string()),
            ]
        ))
    );
    if !report.exceptions.is_empty() {
        body.push_str(&format!(
            "<div class=scroll><table><thead><tr><th scope=col>{}</th><th scope=col>{}</th><th scope=col>{}</th><th scope=col>{}</th></tr></thead><tbody>",
            tr(l, "finance.line"),
            tr(l, "finance.txn"),
            tr(l, "finance.amount"),
            tr(l, "finance.outcome"),
        ));
        for x in &report.exceptions {
            body.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}: {}</td></tr>",
                x.line.map(|n| n.to_string()).unwrap_or_default(),
                ltr(&x.rail_txn_id),
                esc(&money(l, x.amount)),
                esc(&x.outcome),
                esc(&x.detail),
            ));
        }
        body.push_str("</tbody></table></div>");
    }
    body.push_str(&format!(
        "<p><a href=\"/staff/finance\">{}</a></p>",
        tr(l, "finance.title")
    ));
    s.page("/staff/finance", tr(l, "finance.recon"), &body)
}
