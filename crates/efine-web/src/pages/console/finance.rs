//! Finance's console pages: refund liabilities and refunds (request, then someone else approves
//! or rejects), and settlement files pasted in for reconciliation. Same store calls and rules
//! as the JSON API (`/api/v1/refunds`, `/api/v1/recon/{rail}`).

use super::parts::{ident, isolate, pk_time, see_other};
use super::session::{ConsoleForm, ConsoleSession};
use crate::api::refunds::RefundsView;
use crate::error::ApiError;
use crate::i18n::{self, money, tr, trf};
use crate::AppState;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{header::CONTENT_TYPE, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use efine_core::auth::Action;
use efine_core::payment::Rail;
use efine_core::refund::RefundState;
use efine_core::Money;
use efine_service::{refunds, ServiceError};
use efine_store::ops::recon::{self, Imported, Item};
use maud::{html, Markup};
use serde::Deserialize;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/finance", get(page))
        .route("/staff/finance/refunds", post(request))
        .route("/staff/finance/refunds/decide", post(decide))
        .route(
            "/staff/finance/recon",
            post(reconcile).layer(DefaultBodyLimit::max(SETTLEMENT_BODY_LIMIT)),
        )
        .route("/staff/finance/recon/{id}", get(import_page))
        .route("/staff/finance/cash", get(cash_page).post(record_cash))
}

/// A settlement file is uploaded whole: the rail's own CSV of a busy day runs to a few MB
/// (about 60 bytes a line). Only this route reads bodies this large.
pub const SETTLEMENT_BODY_LIMIT: usize = 16 * 1024 * 1024;

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
        h2 id="recon" { (tr(l, "finance.recon")) }
        form method="post" action="/staff/finance/recon" class="box" enctype="multipart/form-data" {
            (s.csrf_field())
            label for="rail" { (tr(l, "finance.rail")) }
            select id="rail" name="rail" {
                @for r in [Rail::OneBill, Rail::Jazzcash, Rail::Easypaisa, Rail::Card] {
                    option value=(r.as_str()) { (r.label()) }
                }
            }
            label for="upload" { (tr(l, "finance.upload")) }
            input id="upload" name="upload" type="file" accept=".csv,text/csv,text/plain" aria-describedby="file-hint";
            p.hint id="file-hint" { (tr(l, "finance.upload_hint")) }
            details {
                summary { (tr(l, "finance.paste_instead")) }
                label for="file" { (tr(l, "finance.file")) }
                textarea id="file" name="file" rows="6" dir="ltr" {}
            }
            p { button type="submit" { (tr(l, "finance.reconcile")) } }
        }
    }
}

/// Lines that need attention shown on one page; a file of thousands of unknown lines would
/// otherwise make a page no phone can open.
const SHOWN_LINES: usize = 500;

/// An outcome code as a sentence for people; the code stays on the row for scripts.
fn outcome_label(l: i18n::Lang, code: &str) -> &'static str {
    match code {
        "matched" => tr(l, "finance.outcome_matched"),
        "corrected" => tr(l, "finance.outcome_corrected"),
        "missing_here" => tr(l, "finance.outcome_missing_here"),
        "missing_there" => tr(l, "finance.outcome_missing_there"),
        "amount_differs" => tr(l, "finance.outcome_amount_differs"),
        "duplicate" => tr(l, "finance.outcome_duplicate"),
        _ => tr(l, "finance.outcome_other"),
    }
}

/// The lines that need attention, each with its challan linked where it is known. The table
/// turns into one card per line on a phone.
fn items_table(l: i18n::Lang, items: &[(Item, Option<String>)]) -> Markup {
    let shown = &items[..items.len().min(SHOWN_LINES)];
    html! {
        @if items.len() > SHOWN_LINES {
            p.hint { (trf(l, "finance.first_lines", &[
                ("shown", &i18n::number(l, SHOWN_LINES as i64)),
                ("all", &i18n::number(l, items.len() as i64)),
            ])) }
        }
        table.stack id="exceptions" {
            thead {
                tr {
                    th scope="col" { (tr(l, "finance.line")) }
                    th scope="col" { (tr(l, "finance.outcome")) }
                    th scope="col" { (tr(l, "portal.challan")) }
                    th scope="col" { (tr(l, "finance.txn")) }
                    th scope="col" { (tr(l, "finance.amount")) }
                }
            }
            tbody {
                @for (x, challan) in shown {
                    tr data-outcome=(x.outcome) {
                        td data-label=(tr(l, "finance.line")) { @if let Some(n) = x.line { (i18n::digits(l, &n.to_string())) } @else { "-" } }
                        td data-label=(tr(l, "finance.outcome")) {
                            strong { (outcome_label(l, &x.outcome)) }
                            br;
                            span.hint { (x.detail) }
                        }
                        td data-label=(tr(l, "portal.challan")) {
                            @if let Some(c) = challan {
                                a href={ "/staff/challans/" (c) } { (ident(c)) }
                            } @else { "-" }
                        }
                        td data-label=(tr(l, "finance.txn")) { (ident(&x.rail_txn_id)) }
                        td data-label=(tr(l, "finance.amount")) { (money(l, x.amount)) }
                    }
                }
            }
        }
    }
}

fn report_sentence(l: i18n::Lang, f: &Imported) -> String {
    // Every line not simply matched, and every payment of ours the file lacks.
    let attention = f.lines - f.matched + f.missing_there;
    trf(
        l,
        "finance.report",
        &[
            ("lines", &i18n::number(l, f.lines)),
            ("matched", &i18n::number(l, f.matched)),
            ("exceptions", &i18n::number(l, attention)),
        ],
    )
}

fn history_table(l: i18n::Lang, files: &[Imported]) -> Markup {
    html! {
        h2 id="imports" { (tr(l, "finance.history")) }
        @if files.is_empty() {
            p { (tr(l, "finance.no_imports")) }
        } @else {
            table.stack id="import-history" {
                thead {
                    tr {
                        th scope="col" { (tr(l, "finance.file_name")) }
                        th scope="col" { (tr(l, "finance.rail")) }
                        th scope="col" { (tr(l, "finance.imported")) }
                        th scope="col" { (tr(l, "finance.found")) }
                        th scope="col" { (tr(l, "finance.settled")) }
                    }
                }
                tbody {
                    @for f in files {
                        tr id={ "import-" (f.id) } {
                            td data-label=(tr(l, "finance.file_name")) { a href={ "/staff/finance/recon/" (f.id) } { (ident(&f.name)) } }
                            td data-label=(tr(l, "finance.rail")) { (Rail::parse(&f.rail).map(|r| r.label()).unwrap_or(&f.rail)) }
                            td data-label=(tr(l, "finance.imported")) { (pk_time(l, f.imported_at)) " · " (ident(&f.imported_by)) }
                            td data-label=(tr(l, "finance.found")) { (report_sentence(l, f)) }
                            td data-label=(tr(l, "finance.settled")) { (money(l, f.settled)) }
                        }
                    }
                }
            }
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
    let history = match state.store.read(|tx| recon::history(tx, 30)).await {
        Ok(h) => h,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let body = html! {
        nav.chips aria-label=(tr(l, "finance.title")) {
            a href="#liabilities" { (tr(l, "finance.liabilities")) }
            a href="#refunds" { (tr(l, "finance.refunds")) }
            @if s.may(Action::Reconcile) { a href="#recon" { (tr(l, "finance.recon")) } }
            a href="#imports" { (tr(l, "finance.history")) }
            a href="/staff/finance/cash" { (tr(l, "cash.title")) }
        }
        h2 { (tr(l, "finance.liabilities")) }
        div {
            table.stack id="liabilities" {
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
                            td data-label="#" { (x.id) }
                            td data-label=(tr(l, "portal.challan")) { a href={ "/staff/challans/" (x.challan_number) } { (ident(&x.challan_number)) } }
                            td data-label=(tr(l, "finance.rail")) { (x.rail) }
                            td data-label=(tr(l, "finance.amount")) { (rupees(x.amount, l)) }
                            td data-label=(tr(l, "finance.reason")) { (x.reason) }
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
        div {
            table.stack id="refunds" {
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
                            td data-label="#" { (r.id) }
                            td data-label=(tr(l, "portal.challan")) { a href={ "/staff/challans/" (r.challan_number) } { (ident(&r.challan_number)) } }
                            td data-label=(tr(l, "finance.amount")) { (rupees(r.amount, l)) }
                            td data-label=(tr(l, "portal.status")) { (r.state) }
                            td data-label=(tr(l, "finance.requested_by")) { (ident(&r.requested_by)) }
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
        (history_table(l, &history))
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

#[derive(Deserialize, Default)]
pub struct ReconForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    rail: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    file: String,
}

/// The settlement form as `multipart/form-data` (the page: a file, or text pasted instead) or
/// URL-encoded (a script, or a page from before uploads). `None` when the body cannot be read.
async fn read_recon(req: Request) -> Result<ReconForm, StatusCode> {
    let multipart = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    if !multipart {
        let body = axum::body::to_bytes(req.into_body(), SETTLEMENT_BODY_LIMIT)
            .await
            .map_err(|_| StatusCode::PAYLOAD_TOO_LARGE)?;
        return serde_urlencoded::from_bytes(&body).map_err(|_| StatusCode::BAD_REQUEST);
    }
    let mut form = Multipart::from_request(req, &())
        .await
        .map_err(|_| StatusCode::BAD_REQUEST)?;
    let mut f = ReconForm::default();
    let mut uploaded = String::new();
    while let Some(field) = form.next_field().await.map_err(|e| e.status())? {
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let bytes = field.bytes().await.map_err(|e| e.status())?;
        // A file that is not UTF-8 text is refused by the import, which names the problem.
        let text = String::from_utf8_lossy(&bytes).into_owned();
        match name.as_str() {
            "csrf" => f.csrf = text,
            "rail" => f.rail = text,
            "file" => f.file = text,
            "upload" => {
                if let Some(n) = file_name.filter(|n| !n.is_empty()) {
                    // Older browsers send the whole path.
                    f.name = n.rsplit(['/', '\\']).next().unwrap_or_default().to_string();
                }
                uploaded = text;
            }
            _ => {}
        }
    }
    if !uploaded.trim().is_empty() {
        f.file = uploaded;
    }
    Ok(f)
}

/// `POST /staff/finance/recon`: imports an uploaded (or pasted) settlement file and shows what
/// it found, with readable outcomes and links to the challans.
pub async fn reconcile(State(state): State<AppState>, s: ConsoleSession, req: Request) -> Response {
    let l = s.lang;
    let f = match read_recon(req).await {
        Ok(f) => f,
        Err(StatusCode::PAYLOAD_TOO_LARGE) => {
            return problem(
                &s,
                ApiError {
                    status: StatusCode::PAYLOAD_TOO_LARGE,
                    ..ApiError::invalid("upload", tr(l, "finance.too_large"))
                },
            )
        }
        Err(_) => return problem(&s, ApiError::invalid("upload", tr(l, "finance.unreadable"))),
    };
    if !s.check_csrf(&f.csrf) {
        return s.status_page(
            StatusCode::FORBIDDEN,
            "/staff/finance",
            tr(l, "staff.expired_form"),
            html! { p { a href="/staff/finance" { (tr(l, "finance.title")) } } },
        );
    }
    if let Err(r) = s.require(Action::Reconcile) {
        return r;
    }
    let Some(rail) = Rail::parse(&f.rail).filter(|r| *r != Rail::Counter) else {
        return problem(
            &s,
            ApiError::invalid("rail", "1bill, jazzcash, easypaisa or card"),
        );
    };
    if f.file.trim().is_empty() {
        return problem(&s, ApiError::invalid("upload", tr(l, "finance.no_file")));
    }
    let name = match crate::extract::opt_free_text(
        "name",
        Some(&f.name),
        efine_core::text::TextKind::Name,
        200,
    ) {
        Ok(n) => n.unwrap_or_else(|| "pasted.csv".to_string()),
        Err(e) => return problem(&s, e),
    };
    let text = f.file.replace("\r\n", "\n");
    let by = s.principal.username.clone();
    let now = state.store.now();
    let done = state
        .store
        .write(move |tx| {
            let report = recon::import(tx, rail, &name, &text, &by, now)?;
            // Each line that needs attention with its challan, where one of our attempts is known.
            let mut items = Vec::with_capacity(report.exceptions.len());
            for x in &report.exceptions {
                let challan = match &x.reference {
                    Some(r) => efine_store::ops::payments::attempt_by_reference(tx, r)?
                        .map(|a| a.challan_number),
                    None => None,
                };
                items.push((x.clone(), challan));
            }
            let head = recon::history(tx, 1)?;
            Ok((head, items))
        })
        .await;
    let (head, items) = match done {
        Ok(v) => v,
        Err(e) => return problem(&s, e.into()),
    };
    let body = html! {
        @if let Some(f) = head.first() {
            div.ok id="report" role="status" { p { (report_sentence(l, f)) } }
            p { a href={ "/staff/finance/recon/" (f.id) } { (tr(l, "finance.open_import")) } }
        }
        @if !items.is_empty() {
            (items_table(l, &items))
        }
        p { a href="/staff/finance#imports" { (tr(l, "finance.history")) } }
    };
    s.page("/staff/finance", tr(l, "finance.recon"), body)
}

/// `GET /staff/finance/recon/{id}`: one import: what it found, and each line that needs
/// attention.
pub async fn import_page(
    State(state): State<AppState>,
    s: ConsoleSession,
    uri: Uri,
    Path(id): Path<i64>,
) -> Response {
    if let Err(r) = s.require(Action::ReadRefunds) {
        return r;
    }
    let l = s.lang;
    let found = match state.store.read(move |tx| recon::exceptions(tx, id)).await {
        Ok(v) => v,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let Some((f, items)) = found else {
        return problem(&s, ApiError::not_found("settlement file"));
    };
    let body = html! {
        div.ok id="report" { p { (report_sentence(l, &f)) } }
        p.hint {
            (Rail::parse(&f.rail).map(|r| r.label()).unwrap_or(&f.rail)) " · "
            (pk_time(l, f.imported_at)) " · " (ident(&f.imported_by)) " · "
            (tr(l, "finance.settled")) " " (money(l, f.settled))
        }
        @if f.missing_there > 0 {
            p { (trf(l, "finance.missing_there_note", &[("n", &i18n::number(l, f.missing_there))])) }
        }
        @if items.is_empty() {
            p { (tr(l, "finance.all_matched")) }
        } @else {
            (items_table(l, &items))
        }
        p { a href="/staff/finance#imports" { (tr(l, "finance.history")) } }
    };
    s.page(
        &i18n::here(&uri),
        &format!("{}: {}", tr(l, "finance.recon"), isolate(&f.name)),
        body,
    )
}

#[derive(Deserialize, Default)]
pub struct CashQuery {
    date: Option<String>,
    receipt: Option<String>,
    challan: Option<String>,
}

/// `GET /staff/finance/cash`: counter cash (finance) and the day's cash-up (finance, auditors,
/// admins), the same service calls as `/api/v1/challans/{n}/cash-payments` and `/api/v1/cash-up`.
pub async fn cash_page(
    State(state): State<AppState>,
    s: ConsoleSession,
    uri: Uri,
    Query(q): Query<CashQuery>,
) -> Response {
    if let Err(r) = s.require(Action::ReadCashUp) {
        return r;
    }
    let l = s.lang;
    let today = efine_core::clock::karachi_date(state.store.now());
    let day = q
        .date
        .as_deref()
        .and_then(|d| {
            time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).ok()
        })
        .unwrap_or(today);
    let (totals, receipts) = match efine_service::cash::cash_up(&state.ctx, &s.principal, day).await
    {
        Ok(v) => v,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let total = totals
        .iter()
        .try_fold(Money::ZERO, |a, t| a.checked_add(t.total))
        .unwrap_or(Money::ZERO);
    let count: i64 = totals.iter().map(|t| t.count).sum();
    let done = match (&q.receipt, &q.challan) {
        (Some(r), Some(c)) => Some(trf(
            l,
            "cash.done",
            &[("receipt", &isolate(r)), ("number", &isolate(c))],
        )),
        _ => None,
    };
    let body = html! {
        @if let Some(m) = &done {
            p.ok role="status" id="result" { (m) }
        }
        @if s.may(Action::RecordCounterCash) {
            h2 { (tr(l, "cash.record")) }
            form method="post" action="/staff/finance/cash" class="box" {
                (s.csrf_field())
                label for="challan" { (tr(l, "portal.challan_number")) }
                input id="challan" name="challan" dir="ltr" required maxlength="40" autocomplete="off";
                label for="rupees" { (tr(l, "cash.amount")) }
                input id="rupees" name="rupees" dir="ltr" inputmode="decimal" required class="w10" placeholder="1,200";
                p.hint { (tr(l, "cash.amount_hint")) }
                p { button type="submit" { (tr(l, "cash.submit")) } }
            }
        }
        h2 id="cash-up" { (tr(l, "cash.cash_up")) }
        form method="get" action="/staff/finance/cash" class="row" {
            label for="date" class="inline" { (tr(l, "cash.day")) }
            input id="date" name="date" type="date" value=(day.to_string()) class="auto";
            button type="submit" class="secondary compact" { (tr(l, "dashboard.apply")) }
        }
        p id="cash-total" {
            (trf(l, "cash.total", &[
                ("day", &i18n::date(l, day)),
                ("count", &i18n::number(l, count)),
                ("total", &money(l, total)),
            ]))
        }
        @if !totals.is_empty() {
            table.stack id="by-cashier" {
                thead { tr {
                    th scope="col" { (tr(l, "cash.cashier")) }
                    th scope="col" { (tr(l, "cash.count")) }
                    th scope="col" { (tr(l, "finance.amount")) }
                } }
                tbody {
                    @for t in &totals {
                        tr {
                            td data-label=(tr(l, "cash.cashier")) { (ident(&t.cashier)) }
                            td data-label=(tr(l, "cash.count")) { (i18n::number(l, t.count)) }
                            td data-label=(tr(l, "finance.amount")) { (money(l, t.total)) }
                        }
                    }
                }
            }
            table.stack id="receipts" {
                thead { tr {
                    th scope="col" { (tr(l, "cash.receipt")) }
                    th scope="col" { (tr(l, "portal.challan")) }
                    th scope="col" { (tr(l, "finance.amount")) }
                    th scope="col" { (tr(l, "console.when")) }
                } }
                tbody {
                    @for r in &receipts {
                        tr {
                            td data-label=(tr(l, "cash.receipt")) { a href={ "/payments/" (r.number) "/receipt.pdf" } { (ident(&r.number)) } }
                            td data-label=(tr(l, "portal.challan")) { a href={ "/staff/challans/" (r.challan_number) } { (ident(&r.challan_number)) } }
                            td data-label=(tr(l, "finance.amount")) { (money(l, r.amount)) }
                            td data-label=(tr(l, "console.when")) { (pk_time(l, r.paid_at)) }
                        }
                    }
                }
            }
        }
    };
    s.page(&i18n::here(&uri), tr(l, "cash.title"), body)
}

#[derive(Deserialize)]
pub struct CashForm {
    #[serde(default)]
    challan: String,
    #[serde(default)]
    rupees: String,
}

/// `POST /staff/finance/cash`: records cash taken at the counter for the full amount due today.
pub async fn record_cash(State(state): State<AppState>, f: ConsoleForm<CashForm>) -> Response {
    let s = f.session;
    let l = s.lang;
    if let Err(r) = s.require(Action::RecordCounterCash) {
        return r;
    }
    let back = |e: ApiError| {
        if e.status.is_server_error() {
            return e.into_response();
        }
        s.status_page(
            e.status,
            "/staff/finance/cash",
            tr(l, "staff.bad_input"),
            html! {
                p.bad role="alert" id="problem" { (e.message) }
                p { a href="/staff/finance/cash" { (tr(l, "cash.title")) } }
            },
        )
    };
    let Ok(number) = efine_core::ChallanNumber::parse(f.form.challan.trim()) else {
        return back(ApiError::invalid("challan", tr(l, "cash.bad_challan")));
    };
    let Ok(amount) = Money::parse(&f.form.rupees) else {
        return back(ApiError::invalid("amount", tr(l, "queues.bad_rupees")));
    };
    match efine_service::cash::record(&state.ctx, &s.principal, number, amount).await {
        Ok(r) => {
            let q = serde_urlencoded::to_string([
                ("receipt", r.number.as_str()),
                ("challan", r.challan_number.as_str()),
            ])
            .unwrap_or_default();
            see_other(&format!("/staff/finance/cash?{q}#result"))
        }
        Err(e) => back(e.into()),
    }
}
