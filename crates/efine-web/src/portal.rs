//! The citizen portal: server-rendered pages that work without JavaScript, in English and Urdu
//! (built on [`crate::i18n`]).
//!
//! - `GET /`: one search box (challan number, PSID or vehicle number) and a separate form for
//!   the CNIC. Both are POSTed, so a vehicle number or CNIC never appears in a URL or a log.
//! - `POST /search`: a challan number or PSID goes to its challan page; a vehicle number lists
//!   its challans. `POST /search/cnic` lists a person's challans. Lists are rate-limited per
//!   address like the JSON lookup.
//! - `GET /c/{number}`: the challan: amount due today and after the due date, QR code, PDF,
//!   pay button; the payment when paid.
//! - `GET /c/{number}/pay`: one question, how to pay; `POST` starts the attempt (the same
//!   checkout as the JSON API) and shows one button that posts the signed form to the rail.
//! - `GET /c/{number}/appeal`: why the challan is contested, with an optional evidence file
//!   (a `multipart/form-data` form); `POST` lodges the appeal like the JSON API.

use crate::api::appeals::{self as appeals_c, EvidenceProblem};
use crate::api::cancellations::text_field;
use crate::api::checkout;
use crate::error::ApiError;
use crate::i18n::{self, date, esc, ltr, money, tr, trf, Lang};
use crate::views::{today, PublicChallanView};
use crate::AppState;
use axum::extract::{ConnectInfo, FromRequest, Multipart, Path, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use efine_core::{ChallanNumber, Cnic, Money, Psid, VehicleNumber};
use efine_store::ops::appeals::MAX_EVIDENCE_BYTES;
use efine_store::ops::{catalogue, challans, payments};
use serde::Deserialize;
use std::net::SocketAddr;

/// The body of "payment received": amount and challan when known, the receipt number, and
/// links to the receipt.
pub fn paid_body(lang: Lang, receipt: &str, detail: Option<(Money, &str)>) -> String {
    let mut b = String::from("<div class=ok>");
    if let Some((amount, challan)) = detail {
        b.push_str(&format!(
            "<p>{}</p>",
            trf(
                lang,
                "pay.received_body",
                &[
                    ("amount", &esc(&money(lang, amount))),
                    ("challan", &ltr(challan))
                ]
            )
        ));
    }
    b.push_str(&format!(
        "<p>{}: <strong class=big id=receipt-number>{}</strong></p></div>",
        tr(lang, "pay.receipt_number"),
        ltr(receipt)
    ));
    b.push_str(&format!(
        "<p><a class=button href=\"/payments/{r}/receipt.pdf\">{}</a></p>",
        tr(lang, "pay.receipt_pdf"),
        r = esc(receipt)
    ));
    if let Some((_, challan)) = detail {
        b.push_str(&format!(
            "<p><a href=\"/c/{}\">{}</a></p>",
            esc(challan),
            tr(lang, "pay.back_to_challan")
        ));
    }
    b
}

fn html(status: StatusCode, body: String) -> Response {
    let mut r = (status, Html(body)).into_response();
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn message_page(lang: Lang, status: StatusCode, here: &str, title: &str, msg: &str) -> Response {
    html(
        status,
        i18n::page(
            lang,
            here,
            title,
            &format!(
                "<p class=bad role=alert>{}</p><p><a href=\"/\">{}</a></p>",
                esc(msg),
                tr(lang, "site.home")
            ),
        ),
    )
}

fn search_forms(lang: Lang, error: Option<&str>) -> String {
    let err = error
        .map(|e| format!("<p class=bad role=alert id=search-error>{}</p>", esc(e)))
        .unwrap_or_default();
    format!(
        "<p>{intro}</p>{err}\
         <form method=post action=\"/search\" class=box>\
         <label for=q>{label}</label><p class=hint id=q-hint>{hint} <bdi dir=ltr class=id>TRF-PSH-2026-004219 &middot; 2601380000000013 &middot; PES-1234</bdi></p>\
         <input id=q name=q required maxlength=64 autocomplete=off dir=ltr aria-describedby=q-hint>\
         <p><button type=submit>{search}</button></p></form>\
         <form method=post action=\"/search/cnic\" class=box>\
         <h2>{cnic_title}</h2>\
         <label for=cnic>{cnic_label}</label><p class=hint id=cnic-hint>{cnic_hint}</p>\
         <input id=cnic name=cnic required maxlength=15 inputmode=numeric autocomplete=off dir=ltr aria-describedby=cnic-hint>\
         <p><button type=submit>{cnic_search}</button></p></form>\
         <p class=hint>{verify}</p>",
        intro = tr(lang, "portal.intro"),
        label = tr(lang, "portal.search_label"),
        hint = esc(tr(lang, "portal.search_hint")),
        search = tr(lang, "portal.search"),
        cnic_title = tr(lang, "portal.cnic_title"),
        cnic_label = tr(lang, "portal.cnic_label"),
        cnic_hint = tr(lang, "portal.cnic_hint"),
        cnic_search = tr(lang, "portal.cnic_search"),
        verify = tr(lang, "portal.verify_hint"),
    )
}

/// `GET /`
pub async fn home(lang: Lang, uri: Uri) -> Response {
    html(
        StatusCode::OK,
        i18n::page(
            lang,
            &i18n::here(&uri),
            tr(lang, "portal.title"),
            &search_forms(lang, None),
        ),
    )
}

fn home_with_error(lang: Lang, status: StatusCode, error: &str) -> Response {
    html(
        status,
        i18n::page(
            lang,
            "/",
            tr(lang, "portal.title"),
            &search_forms(lang, Some(error)),
        ),
    )
}

fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

#[derive(Deserialize)]
pub struct SearchForm {
    #[serde(default)]
    q: String,
}

#[derive(Deserialize)]
pub struct CnicForm {
    #[serde(default)]
    cnic: String,
}

enum Found {
    One(String),
    None,
}

/// `POST /search`
pub async fn search(
    State(state): State<AppState>,
    lang: Lang,
    peer: ConnectInfo<SocketAddr>,
    Form(f): Form<SearchForm>,
) -> Response {
    let q = f.q.trim().to_string();
    if q.is_empty() {
        return home_with_error(
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            tr(lang, "portal.empty"),
        );
    }
    let digits_only = q
        .chars()
        .all(|c| c.is_ascii_digit() || c == ' ' || c == '-');
    let key: Result<Result<ChallanNumber, Psid>, VehicleNumber> = if digits_only {
        match Psid::parse(&q) {
            Ok(p) => Ok(Err(p)),
            Err(_) => {
                return home_with_error(
                    lang,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    tr(lang, "portal.not_understood"),
                )
            }
        }
    } else if let Ok(n) = ChallanNumber::parse(&q) {
        Ok(Ok(n))
    } else if let Ok(v) = VehicleNumber::parse(&q) {
        Err(v)
    } else {
        return home_with_error(
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            tr(lang, "portal.not_understood"),
        );
    };
    match key {
        Ok(k) => {
            let found = state
                .store
                .read(move |tx| {
                    let c = match &k {
                        Ok(n) => challans::by_number(tx, n)?,
                        Err(p) => challans::by_psid(tx, p)?,
                    };
                    Ok(match c {
                        Some(c) => Found::One(c.number.to_string()),
                        None => Found::None,
                    })
                })
                .await;
            match found {
                Ok(Found::One(n)) => see_other(&format!("/c/{n}")),
                Ok(Found::None) => home_with_error(
                    lang,
                    StatusCode::NOT_FOUND,
                    tr(lang, "portal.not_found_body"),
                ),
                Err(e) => ApiError::from(e).into_response(),
            }
        }
        Err(v) => list(&state, lang, peer.0, Ok(v)).await,
    }
}

/// `POST /search/cnic`
pub async fn search_cnic(
    State(state): State<AppState>,
    lang: Lang,
    peer: ConnectInfo<SocketAddr>,
    Form(f): Form<CnicForm>,
) -> Response {
    match Cnic::parse(f.cnic.trim()) {
        Ok(c) => list(&state, lang, peer.0, Err(c)).await,
        Err(_) => home_with_error(
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            tr(lang, "portal.not_understood"),
        ),
    }
}

fn status_label(lang: Lang, status: &str) -> &'static str {
    match status {
        "paid" => tr(lang, "portal.paid"),
        "cancelled" => tr(lang, "portal.cancelled_status"),
        _ => tr(lang, "portal.unpaid"),
    }
}

async fn list(
    state: &AppState,
    lang: Lang,
    peer: SocketAddr,
    by: Result<VehicleNumber, Cnic>,
) -> Response {
    if state.lookup_limiter.check(peer.ip()).is_err() {
        return home_with_error(
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            tr(lang, "portal.too_many"),
        );
    }
    let found = state
        .store
        .read(move |tx| {
            let list = match &by {
                Ok(v) => challans::by_vehicle(tx, v, 100)?,
                Err(c) => challans::by_cnic(tx, c, 100)?,
            };
            list.into_iter()
                .map(|c| {
                    let n = catalogue::names_for(tx, &c)?;
                    let paid = payments::receipt_for_challan(tx, &c.number.to_string())?;
                    Ok((c, n, paid))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await;
    let found = match found {
        Ok(f) => f,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let day = today(state.store.now());
    let views: Vec<PublicChallanView> = found
        .into_iter()
        .map(|(c, n, paid)| PublicChallanView::new(c, n, paid, day))
        .collect();
    if views.is_empty() {
        return home_with_error(lang, StatusCode::OK, tr(lang, "portal.none_found"));
    }
    let total = views
        .iter()
        .filter(|v| v.status == "unpaid")
        .filter_map(|v| Money::from_paisa(v.amount_due).ok())
        .try_fold(Money::ZERO, |a, m| a.checked_add(m))
        .unwrap_or(Money::ZERO);
    let mut body = format!(
        "<p class=box>{}: <strong class=big>{}</strong></p><div class=scroll><table><thead><tr>\
         <th scope=col>{}</th><th scope=col>{}</th><th scope=col>{}</th><th scope=col>{}</th></tr></thead><tbody>",
        tr(lang, "portal.total_due"),
        esc(&money(lang, total)),
        tr(lang, "portal.challan"),
        tr(lang, "portal.offence"),
        tr(lang, "portal.status"),
        tr(lang, "portal.amount_due_today"),
    );
    for v in &views {
        let due = Money::from_paisa(v.amount_due).unwrap_or(Money::ZERO);
        body.push_str(&format!(
            "<tr><td><a href=\"/c/{n}\">{id}</a></td><td>{off}</td><td>{st}</td><td>{amt}</td></tr>",
            n = esc(&v.challan_number),
            id = ltr(&v.challan_number),
            off = esc(lang.pick(&v.offence_name_en, &v.offence_name_ur)),
            st = status_label(lang, &v.status),
            amt = esc(&money(lang, due)),
        ));
    }
    body.push_str("</tbody></table></div>");
    html(
        StatusCode::OK,
        i18n::page(lang, "/", tr(lang, "portal.results"), &body),
    )
}

/// The QR code as inline SVG (dark modules as one path), about 2-4 KB.
fn qr_svg(data: &str, label: &str) -> String {
    let Ok(code) = qrcode::QrCode::with_error_correction_level(data, qrcode::EcLevel::M) else {
        return String::new();
    };
    let w = code.width();
    let colors = code.to_colors();
    let mut path = String::new();
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            path.push_str(&format!("M{} {}h1v1h-1z", i % w + 4, i / w + 4));
        }
    }
    let size = w + 8;
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" width=\"200\" height=\"200\" role=img aria-label=\"{label}\" shape-rendering=crispEdges><rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>",
        label = esc(label)
    )
}

struct ChallanData {
    view: PublicChallanView,
    due_date: time::Date,
    token: String,
}

async fn load(state: &AppState, number: ChallanNumber) -> Result<Option<ChallanData>, ApiError> {
    let found = state
        .store
        .read(move |tx| match challans::by_number(tx, &number)? {
            Some(c) => {
                let names = catalogue::names_for(tx, &c)?;
                let paid = payments::receipt_for_challan(tx, &c.number.to_string())?;
                Ok(Some((c, names, paid)))
            }
            None => Ok(None),
        })
        .await?;
    Ok(found.map(|(c, names, paid)| {
        let token = state.keys.signer.sign_challan(&c);
        let due_date = c.due_date;
        ChallanData {
            view: PublicChallanView::new(c, names, paid, today(state.store.now())),
            due_date,
            token,
        }
    }))
}

async fn challan_or_page(
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

/// `GET /c/{number}`
pub async fn challan(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    Path(number): Path<String>,
) -> Response {
    let here = i18n::here(&uri);
    let d = match challan_or_page(&state, lang, &here, &number).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let v = &d.view;
    let l = lang;
    let m = |p: i64| esc(&money(l, Money::from_paisa(p).unwrap_or(Money::ZERO)));
    let n = esc(&v.challan_number);
    let mut body = String::new();
    match (&v.paid, v.status.as_str()) {
        (Some(p), _) => {
            body.push_str(&format!(
                "<div class=ok><p class=big>&#10004; {}</p><p>{}: <strong>{}</strong><br>{}: {}<br>{}: {}<br>{}: {}</p></div>\
                 <p><a class=button href=\"/payments/{r}/receipt.pdf\">{}</a></p>",
                tr(l, "portal.paid_title"),
                tr(l, "portal.amount_paid"),
                m(p.amount),
                tr(l, "portal.paid_on"),
                esc(&p.paid_on),
                tr(l, "portal.paid_by"),
                esc(&p.rail_label),
                tr(l, "pay.receipt_number"),
                ltr(&p.receipt_number),
                tr(l, "pay.receipt_pdf"),
                r = esc(&p.receipt_number),
            ));
        }
        (None, "cancelled") => {
            body.push_str(&format!("<p class=ok>{}</p>", tr(l, "portal.cancelled")));
        }
        _ => {
            body.push_str(&format!(
                "<div class=box><p>{}</p><p class=big id=amount-due>{}</p>\
                 <p>{}: <strong>{}</strong><br>{}: <strong>{}</strong></p><p class=hint>{}</p>\
                 <p><a class=button id=pay href=\"/c/{n}/pay\">{}</a></p></div>",
                tr(l, "portal.amount_due_today"),
                m(v.amount_due),
                tr(l, "portal.due_date"),
                esc(&date(l, d.due_date)),
                tr(l, "portal.amount_after"),
                m(v.amount_after_due_date),
                tr(l, "portal.doubles"),
                tr(l, "portal.pay_now"),
            ));
            body.push_str(&format!(
                "<p class=hint>{}</p><p><a href=\"/c/{n}/appeal\">{}</a></p>",
                trf(l, "portal.onebill", &[("psid", &ltr(&v.psid))]),
                tr(l, "appeal.link"),
            ));
        }
    }
    let mut rows: Vec<(&str, String)> = vec![
        (tr(l, "portal.challan_number"), ltr(&v.challan_number)),
        (tr(l, "portal.psid"), ltr(&v.psid)),
        (tr(l, "portal.status"), status_label(l, &v.status).into()),
        (
            tr(l, "portal.offence"),
            esc(l.pick(&v.offence_name_en, &v.offence_name_ur)),
        ),
        (
            tr(l, "portal.department"),
            esc(l.pick(&v.department_name_en, &v.department_name_ur)),
        ),
        (
            tr(l, "portal.district"),
            esc(l.pick(&v.district_name_en, &v.district_name_ur)),
        ),
    ];
    if let Some(veh) = &v.vehicle_number {
        rows.push((tr(l, "portal.vehicle"), ltr(veh)));
    }
    if let Some(name) = &v.name {
        rows.push((tr(l, "portal.name"), ltr(name)));
    }
    body.push_str("<table>");
    for (k, val) in rows {
        body.push_str(&format!("<tr><th scope=row>{k}</th><td>{val}</td></tr>"));
    }
    body.push_str("</table>");
    let url = crate::verify::verify_url(&state, &d.token);
    body.push_str(&format!(
        "<div class=row><div>{}</div><div><p><a href=\"/challans/{n}/receipt.pdf\">{}</a></p>\
         <p><a href=\"/challans/{n}/receipt.pdf?paper=58mm\">{}</a></p></div></div>",
        qr_svg(&url, tr(l, "portal.qr_alt")),
        tr(l, "portal.download"),
        tr(l, "portal.download_slip"),
    ));
    let title = format!(
        "{} {}",
        tr(l, "portal.challan"),
        i18n::ltr_text(&v.challan_number)
    );
    html(StatusCode::OK, i18n::page(l, &here, &title, &body))
}

fn configured(state: &AppState) -> Vec<(&'static str, &'static str)> {
    let mut m = Vec::new();
    if state.payments.jazzcash.is_some() {
        m.push(("jazzcash", "portal.method_jazzcash"));
    }
    if state.payments.easypaisa.is_some() {
        m.push(("easypaisa", "portal.method_easypaisa"));
    }
    if state.payments.card.is_some() {
        m.push(("card", "portal.method_card"));
    }
    m
}

fn pay_question(state: &AppState, lang: Lang, d: &ChallanData, error: Option<&str>) -> String {
    let v = &d.view;
    let amount = money(lang, Money::from_paisa(v.amount_due).unwrap_or(Money::ZERO));
    let err = error
        .map(|e| format!("<p class=bad role=alert>{}</p>", esc(e)))
        .unwrap_or_default();
    let mut options = String::new();
    for (i, (code, key)) in configured(state).iter().enumerate() {
        options.push_str(&format!(
            "<p><input type=radio name=method id=m-{code} value={code}{checked} style=\"width:auto\"> \
             <label for=m-{code} style=\"display:inline\">{}</label></p>",
            tr(lang, key),
            checked = if i == 0 { " required" } else { "" },
        ));
    }
    format!(
        "<p class=big>{}</p>{err}<form method=post action=\"/c/{n}/pay\">\
         <fieldset class=box><legend>{}</legend>{options}</fieldset>\
         <p><button type=submit>{}</button></p></form><p class=hint>{}</p>",
        esc(&trf(lang, "portal.pay_amount", &[("amount", &amount)])),
        tr(lang, "portal.how_to_pay"),
        tr(lang, "portal.continue"),
        trf(lang, "portal.onebill", &[("psid", &ltr(&v.psid))]),
        n = esc(&v.challan_number),
    )
}

/// `GET /c/{number}/pay`: the one question, how to pay.
pub async fn pay_get(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    Path(number): Path<String>,
) -> Response {
    let here = i18n::here(&uri);
    let d = match challan_or_page(&state, lang, &here, &number).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    if d.view.status != "unpaid" {
        return see_other(&format!("/c/{}", d.view.challan_number));
    }
    html(
        StatusCode::OK,
        i18n::page(
            lang,
            &here,
            tr(lang, "portal.how_to_pay"),
            &pay_question(&state, lang, &d, None),
        ),
    )
}

#[derive(Deserialize)]
pub struct PayForm {
    #[serde(default)]
    method: String,
}

/// `POST /c/{number}/pay`: starts the attempt and shows the button that takes the payer to
/// the rail with the signed form.
pub async fn pay_post(
    State(state): State<AppState>,
    lang: Lang,
    Path(number): Path<String>,
    Form(f): Form<PayForm>,
) -> Response {
    let here = format!("/c/{}/pay", esc(&number));
    let d = match challan_or_page(&state, lang, &here, &number).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    if !configured(&state).iter().any(|(c, _)| *c == f.method) {
        return html(
            StatusCode::UNPROCESSABLE_ENTITY,
            i18n::page(
                lang,
                &here,
                tr(lang, "portal.how_to_pay"),
                &pay_question(&state, lang, &d, Some(tr(lang, "portal.choose_method"))),
            ),
        );
    }
    let Ok(n) = ChallanNumber::parse(&number) else {
        return see_other("/");
    };
    let co = match checkout::start(&state, n, &f.method, Some(lang)).await {
        Ok(co) => co,
        Err(e) if e.status == StatusCode::CONFLICT => {
            return message_page(
                lang,
                StatusCode::CONFLICT,
                &format!("/c/{}", d.view.challan_number),
                tr(lang, "portal.cannot_pay"),
                &e.message,
            )
        }
        Err(e) => return e.into_response(),
    };
    let rail = match f.method.as_str() {
        "jazzcash" => "JazzCash",
        "easypaisa" => "Easypaisa",
        _ => tr(lang, "portal.method_card"),
    };
    let amount = money(lang, Money::from_paisa(co.amount).unwrap_or(Money::ZERO));
    let hidden: String = co
        .fields
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=hidden name=\"{}\" value=\"{}\">",
                esc(k),
                esc(v)
            )
        })
        .collect();
    let go = esc(&trf(lang, "portal.go_to", &[("rail", rail)]));
    let form = if co.http_method == "GET" {
        format!(
            "<p><a class=button id=go href=\"{}\">{go}</a></p>",
            esc(&co.gateway_url)
        )
    } else {
        format!(
            "<form method=post action=\"{}\">{hidden}<p><button type=submit id=go>{go}</button></p></form>",
            esc(&co.gateway_url)
        )
    };
    let body = format!(
        "<p>{}</p>{form}",
        esc(&trf(
            lang,
            "portal.go_to_body",
            &[("amount", &amount), ("rail", rail)]
        )),
    );
    html(
        StatusCode::OK,
        i18n::page(
            lang,
            &format!("/c/{}", d.view.challan_number),
            &trf(lang, "portal.go_to", &[("rail", rail)]),
            &body,
        ),
    )
}

fn appeal_form(lang: Lang, number: &str, error: Option<&str>, reason: &str) -> String {
    let err = error
        .map(|e| format!("<p class=bad role=alert id=appeal-error>{}</p>", esc(e)))
        .unwrap_or_default();
    // The types by content type and by extension: some phones offer only files whose
    // extension matches.
    let accept = format!(
        "{},.jpg,.jpeg,.png,.pdf",
        appeals_c::EVIDENCE_TYPES.join(",")
    );
    format!(
        "<p>{}</p>{err}<form method=post action=\"/c/{n}/appeal\" enctype=\"multipart/form-data\">\
         <label for=reason>{}</label><p class=hint id=reason-hint>{}</p>\
         <textarea id=reason name=reason rows=5 required maxlength=500 aria-describedby=reason-hint>{reason}</textarea>\
         <label for=evidence>{}</label><p class=hint id=evidence-hint>{}</p>\
         <input type=file id=evidence name=evidence accept=\"{accept}\" aria-describedby=evidence-hint>\
         <p><button type=submit>{}</button></p></form>",
        tr(lang, "appeal.intro"),
        tr(lang, "appeal.reason"),
        tr(lang, "appeal.reason_hint"),
        tr(lang, "appeal.evidence"),
        tr(lang, "appeal.evidence_hint"),
        tr(lang, "appeal.submit"),
        n = esc(number),
        reason = esc(reason),
        accept = esc(&accept),
    )
}

/// `GET /c/{number}/appeal`: one question, why the challan is contested, and an optional
/// evidence file.
pub async fn appeal_get(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    Path(number): Path<String>,
) -> Response {
    let here = i18n::here(&uri);
    let d = match challan_or_page(&state, lang, &here, &number).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    html(
        StatusCode::OK,
        i18n::page(
            lang,
            &here,
            tr(lang, "appeal.title"),
            &appeal_form(lang, &d.view.challan_number, None, ""),
        ),
    )
}

/// The largest request `POST /c/{number}/appeal` reads (set on that route in the router).
/// Far above the 1 MiB evidence limit so that a phone photo of a few MB is read and refused
/// with a message on the form instead of the connection being cut. Only the first
/// [`MAX_EVIDENCE_BYTES`] + 1 bytes of the file are kept in memory.
pub const APPEAL_FORM_BODY_LIMIT: usize = 8 * 1024 * 1024;

/// The reason is at most 500 characters, so at most 2,000 bytes of UTF-8.
const REASON_MAX_BYTES: usize = 500 * 4;

/// A form posted without a file (`application/x-www-form-urlencoded`) is read up to this.
const PLAIN_FORM_MAX_BYTES: usize = 64 * 1024;

#[derive(Deserialize)]
pub struct AppealForm {
    #[serde(default)]
    reason: String,
}

/// What the appeal form sent.
#[derive(Default)]
struct AppealSubmission {
    reason: String,
    /// The reason field was longer than any valid reason.
    reason_too_long: bool,
    /// File name and declared content type as the browser sent them, and the first
    /// `MAX_EVIDENCE_BYTES + 1` bytes (enough to tell that a file is too large).
    file: Option<(String, String, Vec<u8>)>,
}

/// Why the form could not be read at all.
enum Unreadable {
    /// The request was larger than [`APPEAL_FORM_BODY_LIMIT`].
    TooLarge,
    /// Not a form, or a broken multipart body.
    Malformed,
}

/// Reads a multipart field's first `cap + 1` bytes at most; the rest is skipped by the next
/// `next_field` (still counted against the body limit).
async fn read_capped(
    field: &mut axum::extract::multipart::Field<'_>,
    cap: usize,
) -> Result<Vec<u8>, axum::extract::multipart::MultipartError> {
    let mut kept = Vec::new();
    while let Some(chunk) = field.chunk().await? {
        let room = (cap + 1).saturating_sub(kept.len());
        kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if kept.len() > cap {
            break;
        }
    }
    Ok(kept)
}

/// The form as `multipart/form-data` (what the page sends) or URL-encoded (a form posted from
/// a page served before evidence could be attached, or by a script).
async fn read_submission(req: Request) -> Result<AppealSubmission, Unreadable> {
    let multipart = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    let mut sub = AppealSubmission::default();
    if !multipart {
        // The page's textarea holds 500 characters: a larger plain form is not from it.
        let body = axum::body::to_bytes(req.into_body(), PLAIN_FORM_MAX_BYTES)
            .await
            .map_err(|_| Unreadable::Malformed)?;
        let f: AppealForm =
            serde_urlencoded::from_bytes(&body).map_err(|_| Unreadable::Malformed)?;
        sub.reason = f.reason;
        return Ok(sub);
    }
    let mut form = Multipart::from_request(req, &())
        .await
        .map_err(|_| Unreadable::Malformed)?;
    let problem = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Unreadable::TooLarge
        } else {
            Unreadable::Malformed
        }
    };
    while let Some(mut field) = form.next_field().await.map_err(problem)? {
        match field.name() {
            Some("reason") => {
                let b = read_capped(&mut field, REASON_MAX_BYTES)
                    .await
                    .map_err(problem)?;
                sub.reason_too_long = b.len() > REASON_MAX_BYTES;
                sub.reason = String::from_utf8_lossy(&b).into_owned();
            }
            // The first file only: the form has one file input.
            Some("evidence") if sub.file.is_none() => {
                // Older browsers send the whole path; the API refuses slashes in names.
                let name = field
                    .file_name()
                    .unwrap_or_default()
                    .rsplit(['/', '\\'])
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let ctype = field.content_type().unwrap_or_default().to_string();
                let bytes = read_capped(&mut field, MAX_EVIDENCE_BYTES)
                    .await
                    .map_err(problem)?;
                // A file input left empty is sent as a part with no name and no bytes.
                if !name.is_empty() || !bytes.is_empty() {
                    sub.file = Some((name, ctype, bytes));
                }
            }
            _ => {}
        }
    }
    Ok(sub)
}

/// `POST /c/{number}/appeal`: lodges the appeal with its optional evidence file (the same
/// checks and the same store call as the JSON API, rate-limited per address like it); the
/// surcharge clock stops until a supervisor decides. Any problem re-shows the form with the
/// reason as typed, and nothing is written.
pub async fn appeal_post(
    State(state): State<AppState>,
    lang: Lang,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(number): Path<String>,
    req: Request,
) -> Response {
    let Ok(n) = ChallanNumber::parse(&number) else {
        return see_other("/");
    };
    let here = format!("/c/{}/appeal", n);
    let again = |status: StatusCode, error: &str, reason: &str| {
        html(
            status,
            i18n::page(
                lang,
                &here,
                tr(lang, "appeal.title"),
                &appeal_form(lang, &n.to_string(), Some(error), reason),
            ),
        )
    };
    // An appeal stops the surcharge clock and may carry a file: limited like the JSON route,
    // before the body is read.
    if state.lookup_limiter.check(peer.ip()).is_err() {
        return again(
            StatusCode::TOO_MANY_REQUESTS,
            tr(lang, "portal.too_many"),
            "",
        );
    }
    let sub = match read_submission(req).await {
        Ok(s) => s,
        Err(Unreadable::TooLarge) => {
            return again(
                StatusCode::PAYLOAD_TOO_LARGE,
                tr(lang, "appeal.evidence_size"),
                "",
            )
        }
        Err(Unreadable::Malformed) => {
            return again(StatusCode::BAD_REQUEST, tr(lang, "appeal.unreadable"), "")
        }
    };
    let typed = if sub.reason_too_long {
        ""
    } else {
        sub.reason.as_str()
    };
    let reason = match text_field("reason", &sub.reason) {
        Ok(r) if !sub.reason_too_long => r,
        _ => {
            return again(
                StatusCode::UNPROCESSABLE_ENTITY,
                tr(lang, "appeal.reason_hint"),
                typed,
            )
        }
    };
    let evidence = match sub.file {
        None => None,
        Some((name, ctype, bytes)) => match appeals_c::check_evidence(&name, &ctype, bytes) {
            Ok(e) => Some(e),
            Err(p) => {
                let msg = match p {
                    EvidenceProblem::FileName => "appeal.evidence_name",
                    EvidenceProblem::ContentType => "appeal.evidence_type",
                    EvidenceProblem::Size => "appeal.evidence_size",
                };
                return again(StatusCode::UNPROCESSABLE_ENTITY, tr(lang, msg), typed);
            }
        },
    };
    let window = state.config.appeal_window_days;
    let now = state.store.now();
    let num = n.clone();
    let lodged_reason = reason.clone();
    match state
        .store
        .write(move |tx| {
            efine_store::ops::appeals::lodge(
                tx,
                &num,
                &lodged_reason,
                evidence.as_ref(),
                window,
                now,
            )
        })
        .await
    {
        Ok(a) => {
            let file = match (&a.evidence_name, &a.evidence_sha256) {
                (Some(name), Some(sha)) => format!(
                    "<p id=appeal-evidence>{}</p>",
                    trf(
                        lang,
                        "appeal.evidence_received",
                        &[("name", &ltr(name)), ("sha256", &ltr(sha))]
                    )
                ),
                _ => String::new(),
            };
            html(
                StatusCode::CREATED,
                i18n::page(
                    lang,
                    &format!("/c/{n}"),
                    tr(lang, "appeal.lodged"),
                    &format!(
                        "<div class=ok><p id=appeal-lodged>{}</p>{file}</div><p><a href=\"/c/{n}\">{}</a></p>",
                        trf(
                            lang,
                            "appeal.lodged_body",
                            &[
                                ("id", &i18n::digits(lang, &a.id.to_string())),
                                ("challan", &ltr(&a.challan_number))
                            ]
                        ),
                        tr(lang, "pay.back_to_challan"),
                    ),
                ),
            )
        }
        Err(e) => {
            let e = ApiError::from(e);
            if e.status.is_server_error() {
                return e.into_response();
            }
            again(e.status, &e.message, &reason)
        }
    }
}
