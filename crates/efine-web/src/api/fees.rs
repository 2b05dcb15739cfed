//! Fees a citizen starts: the public service catalogue, a voucher asked for by a citizen (or a
//! department's website on their behalf), and the department's side: paid vouchers, verifying
//! one at the counter and marking it used once.

use crate::auth::Staff;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::views::rfc3339;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use efine_core::auth::Principal;
use efine_core::fees::{ApplicantInput, FieldError};
use efine_core::{mask, ServiceCode};
use efine_core::{ChallanNumber, ChallanStatus, Cnic, DepartmentCode, DistrictCode, Psid};
use efine_store::ops::fees::{self, FindVoucher, Offered, Voucher, VoucherRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct FeeChoiceView {
    pub choice: String,
    pub label_en: String,
    pub label_ur: String,
    /// The fee of the department's schedule this choice charges.
    pub fee_code: String,
    pub amount: i64,
    pub amount_display: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceView {
    pub department: String,
    pub department_name_en: String,
    pub department_name_ur: String,
    pub service: String,
    pub version: i64,
    pub name_en: String,
    pub name_ur: String,
    /// Besides cnic, mobile and name: `vehicle`, `business`.
    pub applicant_fields: Vec<String>,
    /// Days the voucher stays payable after the day it is made.
    pub validity_days: u16,
    pub legal_reference: String,
    /// The amounts are placeholders to confirm against the notified rate.
    pub indicative: bool,
    pub choice_en: Option<String>,
    pub choice_ur: Option<String>,
    pub choices: Vec<FeeChoiceView>,
}

impl From<&Offered> for ServiceView {
    fn from(o: &Offered) -> Self {
        let s = &o.service;
        ServiceView {
            department: s.department.to_string(),
            department_name_en: o.department_en.clone(),
            department_name_ur: o.department_ur.clone(),
            service: s.code.to_string(),
            version: o.version,
            name_en: s.name_en.clone(),
            name_ur: s.name_ur.clone(),
            applicant_fields: s.applicant.iter().map(|f| f.as_str().into()).collect(),
            validity_days: s.validity_days,
            legal_reference: s.legal_reference.clone(),
            indicative: s.indicative,
            choice_en: s.choice_en.clone(),
            choice_ur: s.choice_ur.clone(),
            choices: o
                .choices
                .iter()
                .map(|(f, off)| FeeChoiceView {
                    choice: f.choice.to_string(),
                    label_en: f.label_en.clone(),
                    label_ur: f.label_ur.clone(),
                    fee_code: f.fee.to_string(),
                    amount: off.amount.paisa(),
                    amount_display: off.amount.to_string(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServicesView {
    pub services: Vec<ServiceView>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServicesQuery {
    /// Words to look for in the service's or the department's name (English or Urdu).
    pub q: Option<String>,
}

/// Whether `o` matches every word of `q` (case-insensitive, either language).
pub(crate) fn matches(o: &Offered, q: &str) -> bool {
    let hay = format!(
        "{} {} {} {} {} {}",
        o.service.name_en,
        o.service.name_ur,
        o.department_en,
        o.department_ur,
        o.service.code,
        o.choices
            .iter()
            .map(|(f, _)| format!("{} {}", f.label_en, f.label_ur))
            .collect::<Vec<_>>()
            .join(" ")
    )
    .to_lowercase();
    q.split_whitespace()
        .all(|w| hay.contains(&w.to_lowercase()))
}

/// The services whose fee a citizen can start paying online, with their fees today.
#[utoipa::path(get, path = "/api/v1/public/fees", tag = "fees",
    params(ServicesQuery),
    responses((status = 200, body = ServicesView)))]
pub async fn list_services(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ServicesQuery>,
) -> ApiResult<Json<ServicesView>> {
    let q = q.q.unwrap_or_default();
    let all = state.store.read(fees::offered).await?;
    Ok(Json(ServicesView {
        services: all
            .iter()
            .filter(|o| matches(o, &q))
            .map(Into::into)
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoucherRequestBody {
    /// Department code, e.g. `traffic-police`.
    pub department: String,
    /// Service code within the department, e.g. `driving-licence`.
    pub service: String,
    /// The choice (e.g. `motorcar`); may be left out when the service has one fee.
    pub choice: Option<String>,
    /// The district whose office the applicant will visit, e.g. `peshawar`.
    pub district: String,
    /// 13 digits, dashes allowed.
    pub cnic: String,
    /// Pakistani mobile number, e.g. `0300 1234567`.
    pub mobile: String,
    pub name: String,
    /// Required when the service asks for `vehicle`.
    pub vehicle_number: Option<String>,
    /// Required when the service asks for `business`.
    pub business_name: Option<String>,
}

/// Checks what was typed and builds the request (the portal's form goes through the same).
pub(crate) fn voucher_request(
    department: &str,
    service: &str,
    choice: Option<&str>,
    district: &str,
    input: &ApplicantInput<'_>,
    services: &[Offered],
    channel: &'static str,
) -> Result<VoucherRequest, FieldError> {
    let not_offered = || FieldError::new("service", "fees.not_offered", "no such service");
    let department = DepartmentCode::parse(department.trim()).map_err(|_| not_offered())?;
    let code = ServiceCode::parse(service.trim()).map_err(|_| not_offered())?;
    let offered = services
        .iter()
        .find(|o| o.service.department == department && o.service.code == code)
        .ok_or_else(not_offered)?;
    let chosen = offered.service.choice(choice)?;
    let district = DistrictCode::parse(district.trim())
        .map_err(|_| FieldError::new("district", "fees.bad_district", "choose a district"))?;
    let applicant = offered.service.applicant(input)?;
    Ok(VoucherRequest {
        department,
        service: code,
        choice: Some(chosen.choice.to_string()),
        district,
        applicant,
        channel,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VoucherView {
    /// The voucher's number (a challan number: it is paid like one).
    pub voucher_number: String,
    pub psid: String,
    pub department: String,
    pub district: String,
    pub service: String,
    pub service_version: i64,
    pub service_name_en: String,
    pub service_name_ur: String,
    pub choice: String,
    pub fee_code: String,
    /// Paisa; a voucher's amount never changes.
    pub amount: i64,
    pub amount_display: String,
    /// The last local day it can be paid; unpaid after it, it expires.
    pub valid_until: String,
    /// `unpaid`, `paid`, `expired` or `cancelled`.
    pub status: String,
    pub issued_at: String,
    /// Masked.
    pub name: Option<String>,
    /// Masked.
    pub cnic: Option<String>,
    /// Masked.
    pub mobile: Option<String>,
    pub vehicle_number: Option<String>,
    pub business_name: Option<String>,
    /// When the department used it (once).
    pub consumed_at: Option<String>,
    pub consumed_by: Option<String>,
    /// The signed token in the voucher's QR code, and the page that checks it.
    pub qr_token: String,
    pub verify_url: String,
    /// The voucher as a PDF (A4; `?paper=58mm` for a thermal slip).
    pub pdf_url: String,
    /// The portal page with every way to pay.
    pub pay_url: String,
    /// The Raast QR's text for the amount due, when Raast is configured and it is payable.
    pub raast_qr: Option<String>,
}

pub(crate) fn voucher_view(state: &AppState, v: &Voucher, full: bool) -> VoucherView {
    let c = &v.challan;
    let token = state.keys.current().signer.sign_challan(c);
    let number = c.number.to_string();
    // The same QR as the pay page and the printed voucher.
    let raast_qr = (c.status == ChallanStatus::Unpaid)
        .then(|| {
            efine_service::raast::qr_payload(
                &state.ctx,
                &c.psid,
                &number,
                c.amount_due(crate::views::today(state.store.now())),
                Some((c.terms().effective_due_date(), c.amount_after_due_date())),
            )
        })
        .flatten();
    let person = |s: Option<String>, masked: Option<String>| if full { s } else { masked };
    VoucherView {
        psid: c.psid.as_str().into(),
        department: c.department.to_string(),
        district: c.district.to_string(),
        service: v.service.to_string(),
        service_version: v.service_version,
        service_name_en: v.service_en.clone(),
        service_name_ur: v.service_ur.clone(),
        choice: v.choice.clone(),
        fee_code: c.offence.to_string(),
        amount: c.amount.paisa(),
        amount_display: c.amount.to_string(),
        valid_until: v.valid_until().to_string(),
        status: c.status.as_str().into(),
        issued_at: rfc3339(c.issued_at),
        name: person(c.name.clone(), c.name.as_deref().map(mask::name)),
        cnic: person(
            c.cnic.as_ref().map(|x| x.digits().to_string()),
            c.cnic.as_ref().map(mask::cnic),
        ),
        mobile: person(
            c.mobile.as_ref().map(|m| m.local()),
            c.mobile.as_ref().map(mask::mobile),
        ),
        vehicle_number: c.vehicle.as_ref().map(|x| x.as_str().into()),
        business_name: v.business_name.clone(),
        consumed_at: v.consumed_at.map(rfc3339),
        consumed_by: v.consumed_by.clone(),
        verify_url: crate::verify::verify_url(state, &token),
        qr_token: token,
        pdf_url: format!("/challans/{number}/receipt.pdf"),
        pay_url: format!("/c/{number}/pay"),
        raast_qr,
        voucher_number: number,
    }
}

fn field_error(e: FieldError) -> ApiError {
    ApiError::invalid(e.field, e.message)
}

/// Asks for a payable voucher for a service: checks the service, the choice and the
/// applicant's details, and the cap of open (unpaid, unexpired) vouchers per CNIC and per
/// mobile. The answer carries the PSID, the amount, the validity and the QR. Rate-limited per
/// client address like checkouts.
#[utoipa::path(post, path = "/api/v1/public/fees", tag = "fees",
    request_body = VoucherRequestBody,
    responses(
        (status = 201, body = VoucherView),
        (status = 409, description = "`too_many_open_vouchers`", body = ErrorBody),
        (status = 422, description = "a field is missing or not valid (`field` names it)", body = ErrorBody),
        (status = 429, description = "too many requests from this address; see Retry-After", body = ErrorBody),
    ))]
pub async fn request_voucher(
    State(state): State<AppState>,
    body: ApiJson<VoucherRequestBody>,
) -> ApiResult<(StatusCode, Json<VoucherView>)> {
    let b = body.value;
    let services = state.store.read(fees::offered).await?;
    let input = ApplicantInput {
        cnic: Some(&b.cnic),
        mobile: Some(&b.mobile),
        name: Some(&b.name),
        vehicle: b.vehicle_number.as_deref(),
        business: b.business_name.as_deref(),
    };
    let req = voucher_request(
        &b.department,
        &b.service,
        b.choice.as_deref(),
        &b.district,
        &input,
        &services,
        "api",
    )
    .map_err(field_error)?;
    let now = state.store.now();
    let v = state
        .store
        .write(move |tx| fees::request(tx, &req, now))
        .await?;
    Ok((StatusCode::CREATED, Json(voucher_view(&state, &v, false))))
}

/// A voucher as the public sees it (masked), by its number.
#[utoipa::path(get, path = "/api/v1/public/fees/vouchers/{voucher_number}", tag = "fees",
    params(("voucher_number" = String, Path)),
    responses(
        (status = 200, body = VoucherView),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn public_voucher(
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> ApiResult<Json<VoucherView>> {
    let n = ChallanNumber::parse(&number).map_err(|e| ApiError::invalid("voucher_number", e.0))?;
    let v = state
        .store
        .read(move |tx| fees::by_number(tx, &n))
        .await?
        .ok_or_else(|| ApiError::not_found("voucher"))?;
    Ok(Json(voucher_view(&state, &v, false)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VouchersView {
    pub vouchers: Vec<VoucherView>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PaidQuery {
    /// `true`: only those used at the counter; `false`: only those not used yet.
    pub used: Option<bool>,
    /// For admins: one department's (others always see their own department's).
    pub department: Option<String>,
}

/// Paid vouchers for the services of the caller's department, newest first (at most 500).
#[utoipa::path(get, path = "/api/v1/fees/vouchers", tag = "fees",
    params(PaidQuery),
    responses((status = 200, body = VouchersView), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn paid_vouchers(
    State(state): State<AppState>,
    Staff(who): Staff,
    ApiQuery(q): ApiQuery<PaidQuery>,
) -> ApiResult<Json<VouchersView>> {
    let dep = q
        .department
        .as_deref()
        .filter(|d| !d.trim().is_empty())
        .map(|d| DepartmentCode::parse(d.trim()).map_err(|e| ApiError::invalid("department", e.0)))
        .transpose()?;
    let list = state
        .store
        .read(move |tx| fees::paid(tx, &who, dep.as_ref(), q.used, 500))
        .await?;
    Ok(Json(VouchersView {
        vouchers: list.iter().map(|v| voucher_view(&state, v, true)).collect(),
    }))
}

/// What a counter typed or scanned: a voucher number, a PSID, a CNIC, or the QR's text (the
/// verification link or its token).
pub(crate) async fn find_key(state: &AppState, q: &str) -> ApiResult<FindVoucher> {
    let q = q.trim();
    if q.is_empty() {
        return Err(ApiError::invalid(
            "q",
            "give a voucher number, PSID, CNIC or QR",
        ));
    }
    let digits: String = q.chars().filter(|c| c.is_ascii_digit()).collect();
    let only_digits = q
        .chars()
        .all(|c| c.is_ascii_digit() || c == ' ' || c == '-');
    if only_digits && digits.len() == 13 {
        return Cnic::parse(q)
            .map(FindVoucher::Cnic)
            .map_err(|e| ApiError::invalid("q", e.0));
    }
    if only_digits {
        return Psid::parse(q)
            .map(FindVoucher::Psid)
            .map_err(|e| ApiError::invalid("q", e.0));
    }
    if let Ok(n) = ChallanNumber::parse(q) {
        return Ok(FindVoucher::Number(n));
    }
    // The QR: a verification link (…/v/TOKEN) or the token itself.
    let token = q.rsplit_once("/v/").map(|(_, t)| t).unwrap_or(q);
    let token = token.split(['?', '#']).next().unwrap_or(token);
    match crate::verify::check(state, token).await? {
        crate::verify::Verdict::GenuineChallan { challan, .. }
        | crate::verify::Verdict::GenuineReceipt { challan, .. } => {
            Ok(FindVoucher::Number(challan.number))
        }
        crate::verify::Verdict::NotGenuine { reason, .. } => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_genuine",
            format!("the QR code is not genuine: {reason}"),
        )
        .field("q")),
    }
}

pub(crate) async fn find_for(state: &AppState, who: Principal, q: &str) -> ApiResult<Vec<Voucher>> {
    let key = find_key(state, q).await?;
    Ok(state
        .store
        .read(move |tx| fees::find(tx, &who, &key))
        .await?)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    /// A voucher number, PSID, CNIC, or the text of the voucher's or receipt's QR code. In the
    /// body, so a CNIC never lands in a URL or a log.
    pub q: String,
}

/// Verifies vouchers at the counter: those of the caller's department that the number, PSID,
/// CNIC or QR names, in full, with whether each is paid and used.
#[utoipa::path(post, path = "/api/v1/fees/vouchers/verify", tag = "fees",
    request_body = VerifyBody,
    responses(
        (status = 200, body = VouchersView),
        (status = 403, body = ErrorBody),
        (status = 422, description = "not a number, PSID, CNIC or genuine QR", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn verify_vouchers(
    State(state): State<AppState>,
    Staff(who): Staff,
    body: ApiJson<VerifyBody>,
) -> ApiResult<Json<VouchersView>> {
    who.may(
        efine_core::auth::Action::ConsumeVoucher,
        &efine_core::auth::Scope::ANY,
    )
    .map_err(|e| ApiError::forbidden(e.to_string()))?;
    let list = find_for(&state, who, &body.value.q).await?;
    Ok(Json(VouchersView {
        vouchers: list.iter().map(|v| voucher_view(&state, v, true)).collect(),
    }))
}

/// Marks a paid voucher used for its service (`fee.voucher_consumed`), once: a second time is
/// 409 `voucher_used`, an unpaid or expired one 409 `voucher_unpaid` / `voucher_expired`.
#[utoipa::path(post, path = "/api/v1/fees/vouchers/{voucher_number}/consume", tag = "fees",
    params(("voucher_number" = String, Path)),
    responses(
        (status = 200, body = VoucherView),
        (status = 403, body = ErrorBody),
        (status = 404, description = "no such voucher of your department", body = ErrorBody),
        (status = 409, description = "`voucher_used`, `voucher_unpaid`, `voucher_expired`, `voucher_cancelled`", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn consume_voucher(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(number): Path<String>,
) -> ApiResult<Json<VoucherView>> {
    let n = ChallanNumber::parse(&number).map_err(|e| ApiError::invalid("voucher_number", e.0))?;
    let now = state.store.now();
    let v = state
        .store
        .write(move |tx| fees::consume(tx, &who, &n, now))
        .await?;
    Ok(Json(voucher_view(&state, &v, true)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceCountView {
    pub department: String,
    pub service: String,
    pub name_en: String,
    pub name_ur: String,
    pub vouchers: i64,
    pub paid: i64,
    pub used: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceCountsView {
    pub services: Vec<ServiceCountView>,
}

pub(crate) fn count_views(rows: Vec<fees::ServiceCount>) -> Vec<ServiceCountView> {
    rows.into_iter()
        .map(
            |(department, service, name_en, name_ur, vouchers, paid, used)| ServiceCountView {
                department,
                service,
                name_en,
                name_ur,
                vouchers,
                paid,
                used,
            },
        )
        .collect()
}

/// Citizens' fee vouchers by service: made, paid, used (the caller's department, or every
/// department for province-wide roles). Public totals are on `/transparency`.
#[utoipa::path(get, path = "/api/v1/stats/fees", tag = "statistics",
    responses((status = 200, body = ServiceCountsView), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn fee_counts(
    State(state): State<AppState>,
    Staff(who): Staff,
) -> ApiResult<Json<ServiceCountsView>> {
    who.may(
        efine_core::auth::Action::ReadStatistics,
        &efine_core::auth::Scope::ANY,
    )
    .map_err(|e| ApiError::forbidden(e.to_string()))?;
    let dep = who.reach().department.cloned();
    let rows = state
        .store
        .read(move |tx| fees::counts_by_service(tx, dep.as_ref()))
        .await?;
    Ok(Json(ServiceCountsView {
        services: count_views(rows),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChoiceBody {
    /// A slug naming the choice, e.g. `motorcar`.
    pub choice: String,
    /// A fee of the department's schedule (its amount is what the voucher charges).
    pub fee_code: String,
    pub label_en: String,
    pub label_ur: String,
}

/// A service as a department admin writes it: the whole service, which becomes its next
/// version.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceChangeBody {
    pub name_en: String,
    pub name_ur: String,
    /// Besides cnic, mobile and name: `vehicle`, `business`.
    #[serde(default)]
    pub applicant_fields: Vec<String>,
    /// 1 to 30.
    pub validity_days: u16,
    pub legal_reference: String,
    #[serde(default)]
    pub indicative: bool,
    pub choice_en: Option<String>,
    pub choice_ur: Option<String>,
    pub choices: Vec<ChoiceBody>,
    /// `false` withdraws the service from the portal (its vouchers stay valid).
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceChangedView {
    pub department: String,
    pub service: String,
    pub version: i64,
    pub active: bool,
}

/// Adds or changes a service: the next version, in force from now (department admins of the
/// department, admins). Vouchers already made keep their version.
#[utoipa::path(put, path = "/api/v1/fees/services/{department}/{service}", tag = "fees",
    params(("department" = String, Path), ("service" = String, Path)),
    request_body = ServiceChangeBody,
    responses(
        (status = 200, body = ServiceChangedView),
        (status = 403, body = ErrorBody),
        (status = 422, description = "a fee that is not in the department's schedule, a bad validity...", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn change_service(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path((department, service)): Path<(String, String)>,
    body: ApiJson<ServiceChangeBody>,
) -> ApiResult<Json<ServiceChangedView>> {
    use efine_core::fees::{ApplicantField, FeeChoice, Service};
    let b = body.value;
    let department =
        DepartmentCode::parse(&department).map_err(|e| ApiError::invalid("department", e.0))?;
    let code = ServiceCode::parse(&service).map_err(|e| ApiError::invalid("service", e.0))?;
    let applicant = b
        .applicant_fields
        .iter()
        .map(|f| match f.as_str() {
            "vehicle" => Ok(ApplicantField::Vehicle),
            "business" => Ok(ApplicantField::Business),
            other => Err(ApiError::invalid(
                "applicant_fields",
                format!("'{other}' is not vehicle or business"),
            )),
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let fees = b
        .choices
        .into_iter()
        .map(|c| {
            Ok(FeeChoice {
                choice: ServiceCode::parse(&c.choice)
                    .map_err(|e| ApiError::invalid("choices", e.0))?,
                fee: efine_core::OffenceCode::parse(&c.fee_code)
                    .map_err(|e| ApiError::invalid("choices", e.0))?,
                label_en: c.label_en,
                label_ur: c.label_ur,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let s = Service {
        department,
        code,
        name_en: b.name_en,
        name_ur: b.name_ur,
        applicant,
        validity_days: b.validity_days,
        legal_reference: b.legal_reference,
        indicative: b.indicative,
        choice_en: b.choice_en,
        choice_ur: b.choice_ur,
        fees,
    };
    let active = b.active;
    let now = state.store.now();
    let view_of = (s.department.to_string(), s.code.to_string());
    let version = state
        .store
        .write(move |tx| fees::change_service(tx, &who, &s, active, now))
        .await?;
    Ok(Json(ServiceChangedView {
        department: view_of.0,
        service: view_of.1,
        version,
        active,
    }))
}

pub fn routes() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::router::OpenApiRouter;
    use utoipa_axum::routes;
    OpenApiRouter::new()
        .routes(routes!(list_services, request_voucher))
        .routes(routes!(public_voucher))
        .routes(routes!(paid_vouchers))
        .routes(routes!(verify_vouchers))
        .routes(routes!(consume_voucher))
        .routes(routes!(fee_counts))
        .routes(routes!(change_service))
}
