//! Issuing and reading challans (staff): the issue request, parsed into core types, and the
//! full record with its events.

use super::*;
use crate::error::ApiError;
use efine_core::auth::Principal;
use efine_core::challan::{Challan, Location};
use efine_core::clock::karachi_date;
use efine_core::text::TextKind;
use efine_core::{Cnic, DepartmentCode, DistrictCode, MobileNumber, OffenceCode, VehicleNumber};
use efine_store::ops::catalogue::Names;
use efine_store::NewChallan;
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

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

fn opt_text(
    field: &str,
    v: Option<String>,
    kind: efine_core::text::TextKind,
    max: usize,
) -> Result<Option<String>, ApiError> {
    crate::extract::opt_free_text(field, v.as_deref(), kind, max)
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
        let name = opt_text("name", self.name, TextKind::Name, 100)?;
        let vehicle_authority = opt_text(
            "vehicle_authority",
            self.vehicle_authority,
            TextKind::Line,
            20,
        )?;
        let notes = opt_text("notes", self.notes, TextKind::Lines, 1000)?;
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
                    text: opt_text("location.text", l.text, TextKind::Line, 200)?,
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
pub fn due_now(c: &Challan, today: Date) -> efine_core::Money {
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
