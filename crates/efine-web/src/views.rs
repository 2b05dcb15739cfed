//! Request and response bodies of the JSON API. Money is always integer paisa (`amount_*`),
//! with a `*_display` string in rupees beside it for people; dates are local `YYYY-MM-DD`;
//! instants are RFC 3339 in UTC.

use crate::error::ApiError;
use efine_core::auth::Principal;
use efine_core::challan::{Challan, Location};
use efine_core::clock::karachi_date;
use efine_core::{
    mask, Cnic, Department, DepartmentCode, District, DistrictCode, MobileNumber, Offence,
    OffenceCode, VehicleNumber,
};
use efine_store::ops::catalogue::Names;
use efine_store::NewChallan;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
    pub backend: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DepartmentView {
    pub code: String,
    pub abbr: String,
    pub name_en: String,
    pub name_ur: String,
}

impl From<Department> for DepartmentView {
    fn from(d: Department) -> Self {
        DepartmentView {
            code: d.code.to_string(),
            abbr: d.abbr.to_string(),
            name_en: d.name_en,
            name_ur: d.name_ur,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DistrictView {
    pub code: String,
    pub abbr: String,
    pub name_en: String,
    pub name_ur: String,
    pub division: String,
}

impl From<District> for DistrictView {
    fn from(d: District) -> Self {
        DistrictView {
            code: d.code.to_string(),
            abbr: d.abbr.to_string(),
            name_en: d.name_en,
            name_ur: d.name_ur,
            division: d.division,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OffenceView {
    pub department: String,
    pub code: String,
    /// Schedule version: a change of amount or terms is a new version.
    pub version: i64,
    /// `fine` or `fee`.
    pub kind: String,
    pub name_en: String,
    pub name_ur: String,
    /// Paisa.
    pub amount: i64,
    pub amount_display: String,
    pub days_to_pay: u16,
    pub legal_reference: String,
    /// Surcharge after the due date, early-payment discount, enforcement stages.
    #[schema(value_type = Object)]
    pub penalty: serde_json::Value,
}

impl From<Offence> for OffenceView {
    fn from(o: Offence) -> Self {
        OffenceView {
            department: o.department.to_string(),
            code: o.code.to_string(),
            version: o.version,
            kind: o.kind.as_str().into(),
            name_en: o.name_en,
            name_ur: o.name_ur,
            amount: o.amount.paisa(),
            amount_display: o.amount.to_string(),
            days_to_pay: o.days_to_pay,
            legal_reference: o.legal_reference,
            penalty: serde_json::to_value(&o.penalty).unwrap_or_default(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: String,
    pub username: String,
    pub role: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationInput {
    /// Degrees, -90 to 90.
    pub lat: Option<f64>,
    /// Degrees, -180 to 180.
    pub lon: Option<f64>,
    /// Where, in words (e.g. "University Road near Board Bazaar").
    pub text: Option<String>,
}

/// An officer's challan. The amount is not sent: it comes from the catalogue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueChallanRequest {
    /// Offence or fee code from `/api/v1/catalogue/offences`.
    pub offence_code: String,
    /// Defaults to the officer's district.
    pub district: Option<String>,
    /// Defaults to the officer's department.
    pub department: Option<String>,
    pub vehicle_number: Option<String>,
    /// Registering authority of the plate (e.g. `KP`, `ICT`, `Punjab`).
    pub vehicle_authority: Option<String>,
    pub cnic: Option<String>,
    pub mobile: Option<String>,
    pub name: Option<String>,
    pub location: Option<LocationInput>,
    pub notes: Option<String>,
}

fn opt_text(field: &str, v: Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    match v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) {
        Some(s) if s.chars().count() > max => Err(ApiError::invalid(
            field,
            format!("at most {max} characters"),
        )),
        Some(s) if s.chars().any(|c| c.is_control() && c != '\n') => Err(ApiError::invalid(
            field,
            "control characters are not allowed",
        )),
        other => Ok(other),
    }
}

fn opt_parse<T>(
    field: &str,
    v: &Option<String>,
    parse: impl Fn(&str) -> Result<T, efine_core::ParseError>,
) -> Result<Option<T>, ApiError> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => parse(s)
            .map(Some)
            .map_err(|e| ApiError::invalid(field, e.0)),
        None => Ok(None),
    }
}

fn micro(field: &str, v: Option<f64>, limit: f64) -> Result<Option<i64>, ApiError> {
    match v {
        None => Ok(None),
        Some(x) if x.is_finite() && x.abs() <= limit => Ok(Some((x * 1e6).round() as i64)),
        Some(_) => Err(ApiError::invalid(
            field,
            format!("must be a number between -{limit} and {limit}"),
        )),
    }
}

impl IssueChallanRequest {
    /// Parses every field into domain types, naming the first that does not fit.
    pub fn into_new(self, officer: &Principal) -> Result<NewChallan, ApiError> {
        let department = match &self.department {
            Some(d) => {
                DepartmentCode::parse(d).map_err(|e| ApiError::invalid("department", e.0))?
            }
            None => officer
                .department
                .clone()
                .ok_or_else(|| ApiError::invalid("department", "give the department"))?,
        };
        let district = match &self.district {
            Some(d) => DistrictCode::parse(d).map_err(|e| ApiError::invalid("district", e.0))?,
            None => officer
                .district
                .clone()
                .ok_or_else(|| ApiError::invalid("district", "give the district"))?,
        };
        let offence = OffenceCode::parse(&self.offence_code)
            .map_err(|e| ApiError::invalid("offence_code", e.0))?;
        let vehicle = opt_parse("vehicle_number", &self.vehicle_number, VehicleNumber::parse)?;
        let cnic = opt_parse("cnic", &self.cnic, Cnic::parse)?;
        let mobile = opt_parse("mobile", &self.mobile, MobileNumber::parse)?;
        let name = opt_text("name", self.name, 100)?;
        let vehicle_authority = opt_text("vehicle_authority", self.vehicle_authority, 20)?;
        let notes = opt_text("notes", self.notes, 1000)?;
        if vehicle.is_none() && cnic.is_none() && mobile.is_none() && name.is_none() {
            return Err(ApiError::invalid(
                "vehicle_number",
                "give at least one of vehicle_number, cnic, mobile or name",
            ));
        }
        let location = match self.location {
            None => Location::default(),
            Some(l) => {
                let lat = micro("location.lat", l.lat, 90.0)?;
                let lon = micro("location.lon", l.lon, 180.0)?;
                if lat.is_some() != lon.is_some() {
                    return Err(ApiError::invalid(
                        "location",
                        "give both lat and lon, or neither",
                    ));
                }
                Location {
                    lat_micro: lat,
                    lon_micro: lon,
                    text: opt_text("location.text", l.text, 200)?,
                }
            }
        };
        Ok(NewChallan {
            department,
            offence,
            district,
            vehicle,
            vehicle_authority,
            cnic,
            mobile,
            name,
            location,
            notes,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedChallanView {
    pub challan_number: String,
    /// The consumer number for banks, ATMs and wallets (1Bill).
    pub psid: String,
    pub department: String,
    pub district: String,
    pub offence_code: String,
    /// Paisa due if paid today.
    pub amount_due: i64,
    pub amount_due_display: String,
    /// Paisa due from the day after the due date.
    pub amount_after_due_date: i64,
    /// Last local day to pay without surcharge.
    pub due_date: String,
    pub status: String,
    pub issued_at: String,
    /// Signed token (Ed25519, base64url) for the QR code; check it at
    /// `/api/v1/public/verify/{qr_token}`.
    pub qr_token: String,
    /// What the QR code carries: `<public URL>/v/<qr_token>`.
    pub verify_url: String,
}

impl IssuedChallanView {
    pub fn new(c: &Challan, today: Date, qr_token: String, verify_url: String) -> Self {
        let due = c.amount_due(today);
        IssuedChallanView {
            challan_number: c.number.to_string(),
            psid: c.psid.to_string(),
            department: c.department.to_string(),
            district: c.district.to_string(),
            offence_code: c.offence.to_string(),
            amount_due: due.paisa(),
            amount_due_display: due.to_string(),
            amount_after_due_date: after_due(c).paisa(),
            due_date: c.due_date.to_string(),
            status: c.status.as_str().into(),
            issued_at: rfc3339(c.issued_at),
            qr_token,
            verify_url,
        }
    }
}

/// What is owed today: nothing once paid or cancelled.
fn due_now(c: &Challan, today: Date) -> efine_core::Money {
    match c.status {
        efine_core::ChallanStatus::Unpaid => c.amount_due(today),
        _ => efine_core::Money::ZERO,
    }
}

pub fn after_due(c: &Challan) -> efine_core::Money {
    c.amount_after_due_date()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub seq: i64,
    pub at: String,
    pub kind: String,
    pub actor: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LocationView {
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub text: Option<String>,
}

/// The full record, for staff within scope.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChallanView {
    pub challan_number: String,
    pub psid: String,
    pub department: String,
    pub department_name: String,
    pub district: String,
    pub district_name: String,
    pub offence_code: String,
    pub offence_version: i64,
    pub offence_name_en: String,
    pub offence_name_ur: String,
    pub legal_reference: String,
    pub kind: String,
    /// The scheduled amount, in paisa.
    pub amount: i64,
    pub amount_due: i64,
    pub amount_due_display: String,
    pub amount_after_due_date: i64,
    /// Last local day to pay without surcharge (moved on by days spent under appeal).
    pub due_date: String,
    /// The penalty terms in force at issue: surcharge, early-payment discount, escalation.
    #[schema(value_type = Object)]
    pub penalty: serde_json::Value,
    pub schedule_text: String,
    /// An appeal is open: the surcharge clock stands still.
    pub under_appeal: bool,
    /// The amount an appeal reduced the challan to, in paisa.
    pub reduced_amount: Option<i64>,
    /// The enforcement stage reached today.
    pub stage: Option<String>,
    pub status: String,
    pub issued_at: String,
    pub officer: String,
    pub vehicle_number: Option<String>,
    pub vehicle_authority: Option<String>,
    pub cnic: Option<String>,
    pub mobile: Option<String>,
    pub name: Option<String>,
    pub location: LocationView,
    pub notes: Option<String>,
    /// Present once paid.
    pub paid: Option<PaidView>,
    /// Every recorded event about this challan, oldest first.
    pub events: Vec<EventView>,
}

impl ChallanView {
    pub fn new(
        c: Challan,
        names: Names,
        paid: Option<efine_store::ops::payments::Receipt>,
        events: Vec<efine_core::audit::EventRecord>,
        today: Date,
    ) -> Self {
        let due = due_now(&c, today);
        let terms = c.terms();
        let open = c.status == efine_core::ChallanStatus::Unpaid;
        ChallanView {
            penalty: serde_json::to_value(&c.penalty).unwrap_or_default(),
            schedule_text: if open {
                schedule_text(&efine_core::penalty::steps(&terms))
            } else {
                format!("nothing to pay: {}", c.status.as_str())
            },
            under_appeal: c.adjustments.paused_since.is_some(),
            reduced_amount: c.adjustments.reduced_amount.map(|m| m.paisa()),
            stage: if open {
                terms
                    .stage_on(today)
                    .max(c.adjustments.stage)
                    .map(|s| s.as_str().to_string())
            } else {
                None
            },
            paid: paid.map(Into::into),
            challan_number: c.number.to_string(),
            psid: c.psid.to_string(),
            department: c.department.to_string(),
            department_name: names.department_en,
            district: c.district.to_string(),
            district_name: names.district_en,
            offence_code: c.offence.to_string(),
            offence_version: c.offence_version,
            offence_name_en: names.offence_en,
            offence_name_ur: names.offence_ur,
            legal_reference: names.legal_reference,
            kind: c.kind.as_str().into(),
            amount: c.amount.paisa(),
            amount_due: due.paisa(),
            amount_due_display: due.to_string(),
            amount_after_due_date: after_due(&c).paisa(),
            due_date: terms.effective_due_date().to_string(),
            status: c.status.as_str().into(),
            issued_at: rfc3339(c.issued_at),
            officer: c.officer.clone(),
            vehicle_number: c.vehicle.map(|v| v.to_string()),
            vehicle_authority: c.vehicle_authority,
            cnic: c.cnic.map(|v| v.to_string()),
            mobile: c.mobile.map(|m| m.local()),
            name: c.name,
            location: LocationView {
                lat: c.location.lat_micro.map(|v| v as f64 / 1e6),
                lon: c.location.lon_micro.map(|v| v as f64 / 1e6),
                text: c.location.text,
            },
            notes: c.notes,
            events: events
                .into_iter()
                .map(|e| EventView {
                    seq: e.seq,
                    at: rfc3339(efine_core::clock::from_micros(e.at_micros)),
                    kind: e.kind,
                    actor: e.actor,
                    payload: serde_json::from_str(&e.payload).unwrap_or(serde_json::Value::Null),
                })
                .collect(),
        }
    }
}

/// How a paid challan was paid.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaidView {
    pub receipt_number: String,
    /// `1bill`, `jazzcash`, `easypaisa`, `card` or `counter`.
    pub rail: String,
    /// How a citizen would name the rail (e.g. "JazzCash", "bank / 1Bill").
    pub rail_label: String,
    pub amount: i64,
    pub amount_display: String,
    pub paid_at: String,
    /// The local (Asia/Karachi) day it was paid, as printed on the receipt.
    pub paid_on: String,
}

impl From<efine_store::ops::payments::Receipt> for PaidView {
    fn from(r: efine_store::ops::payments::Receipt) -> Self {
        PaidView {
            receipt_number: r.number,
            rail: r.rail.as_str().into(),
            rail_label: r.rail.label().into(),
            amount: r.amount.paisa(),
            amount_display: r.amount.to_string(),
            paid_at: rfc3339(r.paid_at),
            paid_on: karachi_date(r.paid_at).to_string(),
        }
    }
}

/// What a citizen may see: personal data masked, the plate shown (it is on the vehicle).
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicChallanView {
    pub challan_number: String,
    pub psid: String,
    pub department: String,
    pub department_name_en: String,
    pub department_name_ur: String,
    pub district: String,
    pub district_name_en: String,
    pub district_name_ur: String,
    pub offence_code: String,
    pub offence_name_en: String,
    pub offence_name_ur: String,
    pub kind: String,
    /// Paisa due if paid today (Asia/Karachi).
    pub amount_due: i64,
    pub amount_due_display: String,
    /// Paisa due from the day after the due date.
    pub amount_after_due_date: i64,
    pub amount_after_due_date_display: String,
    /// Last local day to pay without surcharge (moved on by days spent under appeal).
    pub due_date: String,
    /// The local day `amount_due` is for: today, or the `on` asked for.
    pub on: String,
    /// What the challan costs by when, e.g. "pay by 14 Dec 2026: Rs 1,000; from 15 Dec 2026:
    /// Rs 2,000".
    pub schedule_text: String,
    pub schedule: Vec<ScheduleStepView>,
    /// An appeal is open: the surcharge clock stands still.
    pub under_appeal: bool,
    /// The enforcement stage reached on `on`: `impound_eligible`, `licence_suspended` or
    /// `transfer_blocked`.
    pub stage: Option<String>,
    pub status: String,
    pub issued_at: String,
    pub vehicle_number: Option<String>,
    /// Masked, e.g. `M******* A***`.
    pub name: Option<String>,
    /// Masked, e.g. `*****-****567-*`.
    pub cnic: Option<String>,
    /// Masked, e.g. `0300-*****67`.
    pub mobile: Option<String>,
    /// Present once paid.
    pub paid: Option<PaidView>,
}

impl PublicChallanView {
    pub fn new(
        c: Challan,
        names: Names,
        paid: Option<efine_store::ops::payments::Receipt>,
        today: Date,
    ) -> Self {
        let due = due_now(&c, today);
        let after = after_due(&c);
        let terms = c.terms();
        let steps = efine_core::penalty::steps(&terms);
        let open = c.status == efine_core::ChallanStatus::Unpaid;
        PublicChallanView {
            on: today.to_string(),
            schedule_text: if open {
                schedule_text(&steps)
            } else {
                format!("nothing to pay: {}", c.status.as_str())
            },
            schedule: if open {
                steps.iter().map(ScheduleStepView::from).collect()
            } else {
                Vec::new()
            },
            under_appeal: c.adjustments.paused_since.is_some(),
            stage: if open {
                terms.stage_on(today).map(|s| s.as_str().to_string())
            } else {
                None
            },
            paid: paid.map(Into::into),
            challan_number: c.number.to_string(),
            psid: c.psid.to_string(),
            department: c.department.to_string(),
            department_name_en: names.department_en,
            department_name_ur: names.department_ur,
            district: c.district.to_string(),
            district_name_en: names.district_en,
            district_name_ur: names.district_ur,
            offence_code: c.offence.to_string(),
            offence_name_en: names.offence_en,
            offence_name_ur: names.offence_ur,
            kind: c.kind.as_str().into(),
            amount_due: due.paisa(),
            amount_due_display: due.to_string(),
            amount_after_due_date: after.paisa(),
            amount_after_due_date_display: after.to_string(),
            due_date: terms.effective_due_date().to_string(),
            status: c.status.as_str().into(),
            issued_at: rfc3339(c.issued_at),
            vehicle_number: c.vehicle.clone().map(|v| v.to_string()),
            name: c.name.as_deref().map(mask::name),
            cnic: c.cnic.as_ref().map(mask::cnic),
            mobile: c.mobile.as_ref().map(mask::mobile),
        }
    }
}

/// One line of the payment schedule.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleStepView {
    /// First local day of this amount (absent: from issue).
    pub from: Option<String>,
    /// Last local day of this amount (absent: with no end).
    pub until: Option<String>,
    pub amount: i64,
    pub amount_display: String,
}

impl From<&efine_core::penalty::Step> for ScheduleStepView {
    fn from(s: &efine_core::penalty::Step) -> Self {
        ScheduleStepView {
            from: s.from.map(|d| d.to_string()),
            until: s.until.map(|d| d.to_string()),
            amount: s.amount.paisa(),
            amount_display: s.amount.to_string(),
        }
    }
}

fn day_month(d: Date) -> String {
    d.format(time::macros::format_description!(
        "[day padding:none] [month repr:short] [year]"
    ))
    .unwrap_or_else(|_| d.to_string())
}

/// "pay by 14 Dec 2026: Rs 1,000; from 15 Dec 2026: Rs 2,000".
pub fn schedule_text(steps: &[efine_core::penalty::Step]) -> String {
    steps
        .iter()
        .map(|s| match (s.from, s.until) {
            (None, None) => format!("{} while the appeal is decided", s.amount),
            (_, Some(u)) => format!("pay by {}: {}", day_month(u), s.amount),
            (Some(f), None) => format!("from {}: {}", day_month(f), s.amount),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Exactly one of `vehicle` or `cnic`. Personal identifiers go in the body, never in a URL.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupRequest {
    pub vehicle: Option<String>,
    pub cnic: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LookupResponse {
    pub count: usize,
    /// Paisa due today over the unpaid challans found.
    pub total_due: i64,
    pub total_due_display: String,
    /// Newest first, at most 100.
    pub challans: Vec<PublicChallanView>,
}

pub fn today(now: OffsetDateTime) -> Date {
    karachi_date(now)
}

/// The answer of `/api/v1/public/verify/{qr_token}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationView {
    /// True only when the signature holds, the key is known, and the record exists and matches.
    pub genuine: bool,
    /// One sentence for people, e.g. "Genuine challan TRF-PSH-2026-004219: unpaid, Rs 500 due by
    /// 2026-12-09."
    pub summary: String,
    /// Why not genuine: `malformed`, `unknown_key`, `bad_signature`, `no_such_record` or
    /// `record_mismatch`.
    pub reason_code: Option<String>,
    pub reason: Option<String>,
    /// `challan` or `receipt`, when the signature held.
    pub kind: Option<String>,
    /// The challan or receipt number the token was signed for.
    pub number: Option<String>,
    /// The signing key (see `/.well-known/efine-keys.json`).
    pub key_id: Option<String>,
    /// Paisa, as signed (the challan's scheduled amount or the amount paid).
    pub signed_amount: Option<i64>,
    /// Issued or paid, as signed.
    pub signed_at: Option<String>,
    /// The record's current state, personal data masked.
    pub challan: Option<PublicChallanView>,
}

impl VerificationView {
    pub fn new(v: crate::verify::Verdict, today: Date) -> Self {
        use crate::verify::Verdict;
        match v {
            Verdict::GenuineReceipt {
                key_id,
                payload,
                receipt,
                challan,
                names,
            } => {
                let summary = format!(
                    "Genuine receipt {}: {} paid on {} by {} for challan {}.",
                    receipt.number,
                    receipt.amount,
                    karachi_date(receipt.paid_at),
                    receipt.rail.label(),
                    receipt.challan_number
                );
                VerificationView {
                    genuine: true,
                    summary,
                    reason_code: None,
                    reason: None,
                    kind: Some(payload.kind.as_str().into()),
                    number: Some(payload.number),
                    key_id: Some(key_id.to_string()),
                    signed_amount: Some(payload.amount.paisa()),
                    signed_at: Some(rfc3339(payload.at)),
                    challan: Some(PublicChallanView::new(
                        *challan,
                        names,
                        Some(receipt),
                        today,
                    )),
                }
            }
            Verdict::GenuineChallan {
                key_id,
                payload,
                challan,
                names,
                paid,
            } => {
                let summary = genuine_summary(&challan, paid.as_ref(), today);
                VerificationView {
                    genuine: true,
                    summary,
                    reason_code: None,
                    reason: None,
                    kind: Some(payload.kind.as_str().into()),
                    number: Some(payload.number),
                    key_id: Some(key_id.to_string()),
                    signed_amount: Some(payload.amount.paisa()),
                    signed_at: Some(rfc3339(payload.at)),
                    challan: Some(PublicChallanView::new(*challan, names, paid, today)),
                }
            }
            Verdict::NotGenuine {
                code,
                reason,
                payload,
            } => VerificationView {
                genuine: false,
                summary: format!("NOT GENUINE: {reason}."),
                reason_code: Some(code.into()),
                reason: Some(reason),
                kind: payload.as_ref().map(|(_, p)| p.kind.as_str().into()),
                number: payload.as_ref().map(|(_, p)| p.number.clone()),
                key_id: payload.as_ref().map(|(k, _)| k.to_string()),
                signed_amount: payload.as_ref().map(|(_, p)| p.amount.paisa()),
                signed_at: payload.as_ref().map(|(_, p)| rfc3339(p.at)),
                challan: None,
            },
        }
    }
}

fn genuine_summary(
    c: &Challan,
    paid: Option<&efine_store::ops::payments::Receipt>,
    today: Date,
) -> String {
    if let Some(r) = paid {
        return format!(
            "Genuine challan {}: paid on {} by {}, receipt {}.",
            c.number,
            karachi_date(r.paid_at),
            r.rail.label(),
            r.number
        );
    }
    use efine_core::ChallanStatus;
    let what = match c.kind {
        efine_core::OffenceKind::Fee => "fee voucher",
        _ => "challan",
    };
    match c.status {
        ChallanStatus::Unpaid => {
            let due = c.amount_due(today);
            let due_date = c.terms().effective_due_date();
            if c.adjustments.paused_since.is_some() {
                format!(
                    "Genuine {what} {}: unpaid, under appeal, {due} due.",
                    c.number
                )
            } else if today <= due_date {
                format!(
                    "Genuine {what} {}: unpaid, {due} due by {} ({} from the day after).",
                    c.number,
                    due_date,
                    after_due(c)
                )
            } else {
                format!(
                    "Genuine {what} {}: unpaid and overdue since {}, {due} due now.",
                    c.number, due_date
                )
            }
        }
        other => format!("Genuine {what} {}: {}.", c.number, other.as_str()),
    }
}

/// One verification key as published.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicKeyView {
    /// 8 hex digits: the first 4 bytes of SHA-256 of the public key.
    pub kid: String,
    /// `Ed25519`.
    pub alg: String,
    /// The 32-byte public key, base64url without padding.
    pub public_key: String,
    pub created_at: String,
    /// Signs new tokens; the others still verify the tokens they signed.
    pub active: bool,
}

/// `/.well-known/efine-keys.json`: every key that verifies E-Fine QR tokens. Save it and run
/// `efine qr verify TOKEN --keys FILE` to check a token with no network.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeySetView {
    pub keys: Vec<PublicKeyView>,
}

impl From<&efine_store::keys::PublishedKeys> for KeySetView {
    fn from(p: &efine_store::keys::PublishedKeys) -> Self {
        KeySetView {
            keys: p
                .keys
                .iter()
                .map(|k| PublicKeyView {
                    kid: k.kid.clone(),
                    alg: k.alg.clone(),
                    public_key: k.public_key.clone(),
                    created_at: rfc3339(k.created_at),
                    active: k.active,
                })
                .collect(),
        }
    }
}

/// What a challan's printed documents show. Personal data is masked: the document URLs are
/// public. Times are local (Asia/Karachi).
pub fn challan_document(
    c: &Challan,
    names: Names,
    verify_url: String,
) -> efine_docs::ChallanDocument {
    let local = c.issued_at.to_offset(efine_core::clock::KARACHI);
    let issued_at = format!("{} {:02}:{:02}", local.date(), local.hour(), local.minute());
    efine_docs::ChallanDocument {
        challan_number: c.number.to_string(),
        psid: c.psid.to_string(),
        department_en: names.department_en,
        department_ur: names.department_ur,
        district_en: names.district_en,
        district_ur: names.district_ur,
        offence_en: names.offence_en,
        offence_ur: names.offence_ur,
        kind: c.kind.as_str().into(),
        // The base amount (a reduced amount after an appeal); an early-payment discount is
        // applied at payment, not printed as the amount.
        amount_by_due_date: c.terms().base().to_string(),
        amount_after_due_date: after_due(c).to_string(),
        due_date: c.terms().effective_due_date().to_string(),
        surcharge_from: c
            .terms()
            .effective_due_date()
            .next_day()
            .unwrap_or(c.due_date)
            .to_string(),
        issued_at,
        status: c.status.as_str().into(),
        vehicle: c.vehicle.as_ref().map(|v| v.to_string()),
        name: c.name.as_deref().map(mask::name),
        verify_url,
    }
}

/// What a payment receipt's printed documents show. Times are local (Asia/Karachi).
pub fn receipt_document(
    r: &efine_store::ops::payments::Receipt,
    c: &Challan,
    names: Names,
    verify_url: String,
) -> efine_docs::ReceiptDocument {
    let local = r.paid_at.to_offset(efine_core::clock::KARACHI);
    efine_docs::ReceiptDocument {
        receipt_number: r.number.clone(),
        challan_number: c.number.to_string(),
        psid: c.psid.to_string(),
        department_en: names.department_en,
        department_ur: names.department_ur,
        district_en: names.district_en,
        district_ur: names.district_ur,
        offence_en: names.offence_en,
        offence_ur: names.offence_ur,
        amount_paid: r.amount.to_string(),
        paid_at: format!("{} {:02}:{:02}", local.date(), local.hour(), local.minute()),
        paid_by: r.rail.label().to_string(),
        verify_url,
    }
}
