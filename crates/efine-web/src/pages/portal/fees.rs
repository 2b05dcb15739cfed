//! Fees a citizen starts, on the portal (no script needed):
//!
//! - `GET /fees` (`?q=` searches): the services, by department, with their fees.
//! - `GET /fees/{department}/{service}`: the form: the choice (licence category...), the district,
//!   CNIC, mobile, name and what else the service asks for. `POST` makes the voucher (the same
//!   checks and cap as `POST /api/v1/public/fees`) and answers 303 to the voucher's page.
//! - `GET /fees/v/{number}`: the voucher: number, PSID, amount, validity, QR, its PDF, and every
//!   way to pay (the challan's pay page and rails; a voucher is paid like a challan).
//!
//! Asking counts against the checkout rate limit per address; a form field no person sees
//! (`website`) catches simple form-filling robots; at most
//! [`efine_core::fees::MAX_OPEN_VOUCHERS`] unpaid vouchers per CNIC and per mobile.

use super::common::{message_page, respond, see_other, status_label};
use crate::api::fees::{voucher_request, voucher_view, VoucherView};
use crate::error::ApiError;
use crate::i18n::{self, date, money, tr, trf, Lang};
use crate::pages::shell::{self, ltr, ltr_text};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Form;
use efine_core::catalogue::District;
use efine_core::fees::{ApplicantField, ApplicantInput, FieldError};
use efine_core::{ChallanNumber, Money};
use efine_store::ops::catalogue;
use efine_store::ops::fees::{self, Offered};
use efine_store::StoreError;
use maud::{html, Markup};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
}

/// The fee of a service as a line: one amount, or "from" the lowest.
fn fee_line(l: Lang, o: &Offered) -> String {
    let amounts: Vec<Money> = o.choices.iter().map(|(_, off)| off.amount).collect();
    let low = amounts.iter().min().copied().unwrap_or(Money::ZERO);
    let high = amounts.iter().max().copied().unwrap_or(Money::ZERO);
    if low == high {
        money(l, low)
    } else {
        trf(
            l,
            "fees.range",
            &[("low", &money(l, low)), ("high", &money(l, high))],
        )
    }
}

/// `GET /fees`
pub async fn list(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    Query(q): Query<ListQuery>,
) -> Response {
    let l = lang;
    let all = match state.store.read(fees::offered).await {
        Ok(a) => a,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let q = q.q.trim().chars().take(64).collect::<String>();
    let shown: Vec<&Offered> = all
        .iter()
        .filter(|o| crate::api::fees::matches(o, &q))
        .collect();
    let mut departments: Vec<(&str, &str)> = Vec::new();
    for o in &shown {
        let d = (o.department_en.as_str(), o.department_ur.as_str());
        if !departments.contains(&d) {
            departments.push(d);
        }
    }
    let body = html! {
        p { (tr(l, "fees.intro")) }
        form method="get" action="/fees" class="box" role="search" {
            label for="fq" { (tr(l, "fees.search_label")) }
            input id="fq" name="q" value=(q) maxlength="64" autocomplete="off";
            p { button type="submit" { (tr(l, "fees.search")) } }
        }
        @if shown.is_empty() {
            p class="bad" role="alert" id="no-services" { (tr(l, "fees.none")) }
        }
        @for (en, ur) in &departments {
            section {
                h2 { (l.pick(en, ur)) }
                ul {
                    @for o in shown.iter().filter(|o| o.department_en == *en) {
                        li {
                            a href={ "/fees/" (o.service.department) "/" (o.service.code) } {
                                (l.pick(&o.service.name_en, &o.service.name_ur))
                            }
                            " · " (fee_line(l, o))
                            @if o.service.indicative {
                                " " span class="hint" { "(" (tr(l, "fees.indicative")) ")" }
                            }
                        }
                    }
                }
            }
        }
    };
    respond(
        StatusCode::OK,
        shell::page(l, &i18n::here(&uri), tr(l, "fees.title"), body),
    )
}

#[derive(Deserialize, Default)]
pub struct VoucherForm {
    #[serde(default)]
    choice: Option<String>,
    #[serde(default)]
    district: String,
    #[serde(default)]
    cnic: String,
    #[serde(default)]
    mobile: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    vehicle_number: Option<String>,
    #[serde(default)]
    business_name: Option<String>,
    /// Not shown to people: a robot that fills every field fills this one too.
    #[serde(default)]
    website: String,
}

/// The message for a refused field, in the page's language.
fn field_message(l: Lang, e: &FieldError) -> String {
    if e.key.starts_with("text.") {
        let label = tr(l, label_key(e.field));
        trf(l, e.key, &[("field", label)])
    } else {
        tr(l, e.key).to_string()
    }
}

fn label_key(field: &str) -> &'static str {
    match field {
        "name" => "fees.name",
        "business_name" => "fees.business",
        "vehicle_number" => "fees.vehicle",
        "cnic" => "fees.cnic",
        "mobile" => "fees.mobile",
        "district" => "fees.district",
        _ => "fees.choice_default",
    }
}

fn form_page(
    l: Lang,
    o: &Offered,
    districts: &[District],
    f: &VoucherForm,
    error: Option<(&str, String)>,
) -> Markup {
    let s = &o.service;
    let action = format!("/fees/{}/{}", s.department, s.code);
    let err_for = |field: &str| {
        error
            .as_ref()
            .filter(|(f, _)| *f == field)
            .map(|(_, m)| m.clone())
    };
    let input = |id: &str,
                 key: &'static str,
                 value: &str,
                 hint: Option<(&'static str, &'static str)>,
                 mode: &str,
                 max: u32,
                 ltr_dir: bool| {
        let e = err_for(id);
        html! {
            label for=(id) { (tr(l, key)) }
            @if let Some((h, example)) = hint {
                p class="hint" id={ (id) "-hint" } { (tr(l, h)) " " (ltr(example)) }
            }
            @if let Some(m) = &e {
                p class="bad" role="alert" id={ (id) "-error" } { (m) }
            }
            input id=(id) name=(id) value=(value) required maxlength=(max) inputmode=(mode)
                autocomplete="off" dir=[ltr_dir.then_some("ltr")]
                aria-invalid=[e.as_ref().map(|_| "true")]
                aria-describedby=[hint.map(|_| format!("{id}-hint"))];
        }
    };
    html! {
        p { (l.pick(&o.department_en, &o.department_ur)) }
        @if let Some((field, m)) = &error {
            @if !matches!(*field, "cnic" | "mobile" | "name" | "vehicle_number" | "business_name") {
                p class="bad" role="alert" id="form-error" { (m) }
            }
        }
        form method="post" action=(action) class="box" {
            @if s.fees.len() > 1 {
                fieldset {
                    legend { (l.pick(s.choice_en.as_deref().unwrap_or(""), s.choice_ur.as_deref().unwrap_or(""))) }
                    @for (c, off) in &o.choices {
                        p {
                            input type="radio" name="choice" id={ "c-" (c.choice) } value=(c.choice)
                                required class="auto"
                                checked[f.choice.as_deref() == Some(c.choice.as_str())];
                            " "
                            label for={ "c-" (c.choice) } class="inline" {
                                (l.pick(&c.label_en, &c.label_ur)) ": " (money(l, off.amount))
                            }
                        }
                    }
                }
            } @else {
                @if let Some((c, off)) = o.choices.first() {
                    p {
                        (l.pick(&c.label_en, &c.label_ur)) ": "
                        strong id="fee-amount" { (money(l, off.amount)) }
                    }
                }
            }
            @if s.indicative {
                p class="hint" { (tr(l, "fees.indicative_note")) }
            }
            p class="hint" { (trf(l, "fees.valid_days", &[("days", &s.validity_days.to_string())])) }
            label for="district" { (tr(l, "fees.district")) }
            select id="district" name="district" required {
                option value="" { (tr(l, "fees.choose_district")) }
                @for d in districts {
                    option value=(d.code) selected[f.district == d.code.as_str()] {
                        (l.pick(&d.name_en, &d.name_ur))
                    }
                }
            }
            (input("cnic", "fees.cnic", &f.cnic, Some(("fees.cnic_hint", "17301-1234567-1")), "numeric", 15, true))
            (input("mobile", "fees.mobile", &f.mobile, Some(("fees.mobile_hint", "0300 1234567")), "tel", 16, true))
            (input("name", "fees.name", &f.name, None, "text", 80, false))
            @if s.asks(ApplicantField::Vehicle) {
                (input("vehicle_number", "fees.vehicle", f.vehicle_number.as_deref().unwrap_or(""), Some(("fees.vehicle_hint", "PES-1234")), "text", 16, true))
            }
            @if s.asks(ApplicantField::Business) {
                (input("business_name", "fees.business", f.business_name.as_deref().unwrap_or(""), None, "text", 120, false))
            }
            div class="sr" aria-hidden="true" {
                label for="website" { (tr(l, "fees.leave_empty")) }
                input id="website" name="website" tabindex="-1" autocomplete="off";
            }
            p class="hint" { (tr(l, "fees.privacy")) }
            p { button type="submit" id="get-voucher" { (tr(l, "fees.get_voucher")) } }
        }
        p class="hint" { (tr(l, "fees.legal")) ": " (s.legal_reference) }
        p { a href="/fees" { (tr(l, "fees.all_services")) } }
    }
}

async fn load_form(
    state: &AppState,
    department: String,
    service: String,
) -> Result<Option<(Offered, Vec<District>)>, ApiError> {
    Ok(state
        .store
        .read(move |tx| {
            let found = fees::offered(tx)?.into_iter().find(|o| {
                o.service.department.as_str() == department && o.service.code.as_str() == service
            });
            Ok(match found {
                Some(o) => Some((o, catalogue::districts(tx)?)),
                None => None,
            })
        })
        .await?)
}

fn not_offered(l: Lang, here: &str) -> Response {
    message_page(
        l,
        StatusCode::NOT_FOUND,
        here,
        tr(l, "fees.title"),
        tr(l, "fees.not_offered"),
    )
}

/// `GET /fees/{department}/{service}`
pub async fn form(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    Path((department, service)): Path<(String, String)>,
) -> Response {
    let here = i18n::here(&uri);
    match load_form(&state, department, service).await {
        Ok(Some((o, districts))) => {
            let title = lang
                .pick(&o.service.name_en, &o.service.name_ur)
                .to_string();
            let body = form_page(lang, &o, &districts, &VoucherForm::default(), None);
            respond(StatusCode::OK, shell::page(lang, &here, &title, body))
        }
        Ok(None) => not_offered(lang, &here),
        Err(e) => e.into_response(),
    }
}

/// `POST /fees/{department}/{service}`
pub async fn submit(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    Path((department, service)): Path<(String, String)>,
    Form(f): Form<VoucherForm>,
) -> Response {
    let l = lang;
    let here = i18n::here(&uri);
    let (o, districts) = match load_form(&state, department.clone(), service.clone()).await {
        Ok(Some(x)) => x,
        Ok(None) => return not_offered(l, &here),
        Err(e) => return e.into_response(),
    };
    let title = l.pick(&o.service.name_en, &o.service.name_ur).to_string();
    let again = |status: StatusCode, field: &str, msg: String| {
        respond(
            status,
            shell::page(
                l,
                &here,
                &title,
                form_page(l, &o, &districts, &f, Some((field, msg))),
            ),
        )
    };
    if !f.website.trim().is_empty() {
        return again(
            StatusCode::UNPROCESSABLE_ENTITY,
            "website",
            tr(l, "fees.robot").to_string(),
        );
    }
    if !districts
        .iter()
        .any(|d| d.code.as_str() == f.district.trim())
    {
        return again(
            StatusCode::UNPROCESSABLE_ENTITY,
            "district",
            tr(l, "fees.bad_district").to_string(),
        );
    }
    let input = ApplicantInput {
        cnic: Some(&f.cnic),
        mobile: Some(&f.mobile),
        name: Some(&f.name),
        vehicle: f.vehicle_number.as_deref(),
        business: f.business_name.as_deref(),
    };
    let req = match voucher_request(
        &department,
        &service,
        f.choice.as_deref(),
        &f.district,
        &input,
        std::slice::from_ref(&o),
        "portal",
    ) {
        Ok(r) => r,
        Err(e) => {
            let m = field_message(l, &e);
            return again(StatusCode::UNPROCESSABLE_ENTITY, e.field, m);
        }
    };
    let now = state.store.now();
    match state
        .store
        .write(move |tx| fees::request(tx, &req, now))
        .await
    {
        Ok(v) => see_other(&format!("/fees/v/{}", v.challan.number)),
        Err(StoreError::Conflict { code, .. }) if code == "too_many_open_vouchers" => again(
            StatusCode::CONFLICT,
            "cap",
            trf(
                l,
                "fees.too_many",
                &[("max", &efine_core::fees::MAX_OPEN_VOUCHERS.to_string())],
            ),
        ),
        Err(StoreError::Invalid { field, .. }) if field == "choice" => again(
            StatusCode::UNPROCESSABLE_ENTITY,
            "choice",
            tr(l, "fees.choose").to_string(),
        ),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// `GET /fees/v/{number}`
pub async fn voucher(
    State(state): State<AppState>,
    lang: Lang,
    uri: Uri,
    Path(number): Path<String>,
) -> Response {
    let l = lang;
    let here = i18n::here(&uri);
    let Ok(n) = ChallanNumber::parse(&number) else {
        return message_page(
            l,
            StatusCode::UNPROCESSABLE_ENTITY,
            &here,
            tr(l, "portal.not_found"),
            tr(l, "portal.bad_number"),
        );
    };
    let found = state
        .store
        .read(move |tx| {
            let Some(v) = fees::by_number(tx, &n)? else {
                return Ok(None);
            };
            let receipt =
                efine_store::ops::payments::receipt_for_challan(tx, &v.challan.number.to_string())?;
            let names = catalogue::names_for(tx, &v.challan)?;
            Ok(Some((v, receipt, names)))
        })
        .await;
    let (v, receipt, names) = match found {
        Ok(Some(x)) => x,
        Ok(None) => {
            return message_page(
                l,
                StatusCode::NOT_FOUND,
                &here,
                tr(l, "portal.not_found"),
                tr(l, "portal.not_found_body"),
            )
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    let view: VoucherView = voucher_view(&state, &v, false);
    let n = &view.voucher_number;
    let amount = money(l, v.challan.amount);
    let status = view.status.as_str();
    let mut rows: Vec<(&str, Markup)> = vec![
        (tr(l, "fees.voucher_number"), ltr(n)),
        (tr(l, "portal.psid"), ltr(&view.psid)),
        (
            tr(l, "portal.status"),
            html! { (voucher_status(l, status, &v)) },
        ),
        (
            tr(l, "fees.service"),
            html! { (l.pick(&view.service_name_en, &view.service_name_ur)) },
        ),
        (
            tr(l, "fees.fee"),
            html! { (l.pick(&names.offence_en, &names.offence_ur)) },
        ),
        (
            tr(l, "portal.department"),
            html! { (l.pick(&names.department_en, &names.department_ur)) },
        ),
        (
            tr(l, "portal.district"),
            html! { (l.pick(&names.district_en, &names.district_ur)) },
        ),
        (tr(l, "fees.amount"), html! { (amount) }),
        (
            tr(l, "fees.valid_until"),
            html! { (date(l, v.valid_until())) },
        ),
    ];
    if let Some(name) = &view.name {
        rows.push((tr(l, "portal.name"), ltr(name)));
    }
    if let Some(c) = &view.cnic {
        rows.push((tr(l, "fees.cnic"), ltr(c)));
    }
    if let Some(veh) = &view.vehicle_number {
        rows.push((tr(l, "portal.vehicle"), ltr(veh)));
    }
    if let Some(b) = &view.business_name {
        rows.push((tr(l, "fees.business"), html! { (b) }));
    }
    let body = html! {
        @match (&receipt, status) {
            (Some(r), _) => {
                div class="ok" id="voucher-paid" {
                    p class="big" { (tr(l, "fees.paid_title")) }
                    p {
                        (tr(l, "portal.amount_paid")) ": " strong { (money(l, r.amount)) } br;
                        (tr(l, "pay.receipt_number")) ": " (ltr(&r.number))
                    }
                    p { (tr(l, "fees.show_receipt")) }
                }
                p {
                    a class="button" href={ "/payments/" (r.number) "/receipt.pdf" } {
                        (tr(l, "pay.receipt_pdf"))
                    }
                }
            }
            (None, "expired") => {
                p class="bad" id="voucher-expired" { (tr(l, "fees.expired")) }
            }
            (None, "cancelled") => {
                p class="ok" { (tr(l, "portal.cancelled")) }
            }
            _ => {
                div class="box" {
                    p { (tr(l, "fees.ready")) }
                    p class="big" id="amount-due" { (amount) }
                    p {
                        (tr(l, "fees.valid_until")) ": " strong id="valid-until" { (date(l, v.valid_until())) }
                    }
                    p class="hint" { (tr(l, "fees.no_surcharge")) }
                }
                (super::pay::how_to_pay(&state, l, n, &view.psid, true))
            }
        }
        table {
            @for (k, val) in &rows {
                tr { th scope="row" { (k) } td { (val) } }
            }
        }
        div class="row" {
            div { (super::challan::qr_svg(&view.verify_url, tr(l, "portal.qr_alt"))) }
            div {
                p { a href=(view.pdf_url) id="voucher-pdf" { (tr(l, "fees.download")) } }
                p {
                    a href={ (view.pdf_url) "?paper=58mm" } { (tr(l, "portal.download_slip")) }
                }
            }
        }
        p { a href="/fees" { (tr(l, "fees.all_services")) } }
    };
    let title = format!("{} {}", tr(l, "fees.voucher"), ltr_text(n));
    respond(StatusCode::OK, shell::page(l, &here, &title, body))
}

fn voucher_status(l: Lang, status: &str, v: &fees::Voucher) -> String {
    match (status, v.consumed_at) {
        ("paid", Some(at)) => trf(
            l,
            "fees.used",
            &[("date", &date(l, efine_core::clock::karachi_date(at)))],
        ),
        ("paid", None) => format!("{} · {}", status_label(l, status), tr(l, "fees.not_used")),
        _ => status_label(l, status).to_string(),
    }
}

/// Citizens' fee vouchers by service (made, paid, used): a section of the dashboard and the
/// public transparency page, beside the fines. Counts only, no personal data.
pub(crate) fn by_service(l: Lang, counts: &[fees::ServiceCount]) -> Markup {
    html! {
        section id="fees-by-service" {
            h2 { (tr(l, "fees.by_service")) }
            @if counts.is_empty() {
                p { (tr(l, "fees.none_made")) }
            } @else {
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
                            @for (_, _, en, ur, made, paid, used) in counts {
                                tr {
                                    td { (l.pick(en, ur)) }
                                    td { (i18n::digits(l, &made.to_string())) }
                                    td { (i18n::digits(l, &paid.to_string())) }
                                    td { (i18n::digits(l, &used.to_string())) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
