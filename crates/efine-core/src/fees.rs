//! Fees a citizen starts: the public service catalogue (`data/kp-services.toml`) and what an
//! applicant must give for a service.
//!
//! A service belongs to a department and charges one of the department's fees (a `fee` of its
//! schedule), or one of several chosen by the applicant (a licence category, a duration). The
//! voucher a citizen gets is a challan of kind `fee` issued to them by the portal: the same
//! payable item every rail, the receipt and the QR already handle. What is particular to it is
//! here: the applicant's details, its validity (after which an unpaid voucher expires), the cap
//! on open vouchers, and that a department uses a paid one once.

use crate::code::{DepartmentCode, OffenceCode, ServiceCode};
use crate::ids::{Cnic, MobileNumber, VehicleNumber};
use crate::penalty::{PenaltySchedule, Surcharge};
use crate::text::{FreeText, TextKind};
use crate::{Money, ParseError};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Open (unpaid, not expired) vouchers one CNIC or one mobile number may hold at once, so that
/// nobody fills the PSID space or a department's lists by asking again and again.
pub const MAX_OPEN_VOUCHERS: i64 = 3;

/// The username vouchers are issued under (an inactive account without a password, made with
/// the first voucher).
pub const PORTAL_ACCOUNT: &str = "citizen-portal";

/// The longest validity a service may give its vouchers.
pub const MAX_VALIDITY_DAYS: u16 = 30;

/// What an applicant gives beyond CNIC, mobile and name (which every service asks for).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApplicantField {
    /// A vehicle's registration number.
    Vehicle,
    /// A business or premises name.
    Business,
}

impl ApplicantField {
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicantField::Vehicle => "vehicle",
            ApplicantField::Business => "business",
        }
    }
}

/// One choice of a service and the schedule fee it charges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeChoice {
    pub choice: ServiceCode,
    pub fee: OffenceCode,
    pub label_en: String,
    pub label_ur: String,
}

/// One version of a service as citizens see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub department: DepartmentCode,
    pub code: ServiceCode,
    pub name_en: String,
    pub name_ur: String,
    #[serde(default)]
    pub applicant: Vec<ApplicantField>,
    pub validity_days: u16,
    pub legal_reference: String,
    /// The amounts are placeholders to confirm against the notified rate.
    #[serde(default)]
    pub indicative: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice_en: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice_ur: Option<String>,
    pub fees: Vec<FeeChoice>,
}

/// The seed file's shape.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServicesSeed {
    pub services: Vec<Service>,
}

impl Service {
    /// Checks one service against the fees of the schedule (`fees`: department and code of every
    /// active fee).
    pub fn check(&self, fees: &HashSet<(DepartmentCode, OffenceCode)>) -> Result<(), ParseError> {
        let at = format!("service {}/{}", self.department, self.code);
        for (what, v) in [
            ("name_en", &self.name_en),
            ("name_ur", &self.name_ur),
            ("legal_reference", &self.legal_reference),
        ] {
            FreeText::parse(what, v, TextKind::Name, 200)
                .map_err(|e| ParseError::new(format!("{at}: {e}")))?;
        }
        if !(1..=MAX_VALIDITY_DAYS).contains(&self.validity_days) {
            return Err(ParseError::new(format!(
                "{at}: validity_days must be 1 to {MAX_VALIDITY_DAYS}"
            )));
        }
        if self.fees.is_empty() {
            return Err(ParseError::new(format!("{at}: no fee")));
        }
        if self.fees.len() > 1 && (self.choice_en.is_none() || self.choice_ur.is_none()) {
            return Err(ParseError::new(format!(
                "{at}: several fees need choice_en and choice_ur (the question they answer)"
            )));
        }
        let mut seen = HashSet::new();
        for f in &self.fees {
            if !seen.insert(&f.choice) {
                return Err(ParseError::new(format!("{at}: choice {} twice", f.choice)));
            }
            if !fees.contains(&(self.department.clone(), f.fee.clone())) {
                return Err(ParseError::new(format!(
                    "{at}: {} is not an active fee of {}",
                    f.fee, self.department
                )));
            }
        }
        let mut fields = HashSet::new();
        if !self.applicant.iter().all(|f| fields.insert(*f)) {
            return Err(ParseError::new(format!("{at}: an applicant field twice")));
        }
        Ok(())
    }

    /// The choice `choice` names; a service with one fee takes it whatever is asked (or
    /// nothing).
    pub fn choice(&self, choice: Option<&str>) -> Result<&FeeChoice, FieldError> {
        if let [only] = self.fees.as_slice() {
            return Ok(only);
        }
        let c = choice.map(str::trim).unwrap_or("");
        if c.is_empty() {
            return Err(FieldError::new(
                "choice",
                "fees.choose",
                "choose one of the options",
            ));
        }
        self.fees
            .iter()
            .find(|f| f.choice.as_str() == c)
            .ok_or_else(|| FieldError::new("choice", "fees.choose", "not one of the options"))
    }

    pub fn asks(&self, field: ApplicantField) -> bool {
        self.applicant.contains(&field)
    }

    /// Checks what the applicant typed against what this service asks for.
    pub fn applicant(&self, input: &ApplicantInput<'_>) -> Result<Applicant, FieldError> {
        let cnic = Cnic::parse(input.cnic.unwrap_or("").trim())
            .map_err(|e| FieldError::new("cnic", "fees.bad_cnic", &e.0))?;
        let mobile = MobileNumber::parse(input.mobile.unwrap_or("").trim())
            .map_err(|e| FieldError::new("mobile", "fees.bad_mobile", &e.0))?;
        let name = FreeText::parse("name", input.name.unwrap_or(""), TextKind::Name, 80)
            .map_err(|e| FieldError::new("name", e.refusal.key(), &e.to_string()))?
            .into_string();
        let vehicle = match (self.asks(ApplicantField::Vehicle), input.vehicle) {
            (true, v) => Some(
                VehicleNumber::parse(v.unwrap_or("").trim())
                    .map_err(|e| FieldError::new("vehicle_number", "fees.bad_vehicle", &e.0))?,
            ),
            (false, _) => None,
        };
        let business = match self.asks(ApplicantField::Business) {
            true => Some(
                FreeText::parse(
                    "business_name",
                    input.business.unwrap_or(""),
                    TextKind::Name,
                    120,
                )
                .map_err(|e| FieldError::new("business_name", e.refusal.key(), &e.to_string()))?
                .into_string(),
            ),
            false => None,
        };
        Ok(Applicant {
            cnic,
            mobile,
            name,
            vehicle,
            business,
        })
    }
}

impl ServicesSeed {
    /// Every service checked, and no service twice.
    pub fn check(
        self,
        fees: &HashSet<(DepartmentCode, OffenceCode)>,
    ) -> Result<Vec<Service>, ParseError> {
        let mut seen = HashSet::new();
        for s in &self.services {
            if !seen.insert((&s.department, &s.code)) {
                return Err(ParseError::new(format!(
                    "service {}/{} twice",
                    s.department, s.code
                )));
            }
            s.check(fees)?;
        }
        Ok(self.services)
    }
}

/// What an applicant typed (absent fields are `None`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApplicantInput<'a> {
    pub cnic: Option<&'a str>,
    pub mobile: Option<&'a str>,
    pub name: Option<&'a str>,
    pub vehicle: Option<&'a str>,
    pub business: Option<&'a str>,
}

/// An applicant's checked details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applicant {
    pub cnic: Cnic,
    pub mobile: MobileNumber,
    pub name: String,
    pub vehicle: Option<VehicleNumber>,
    pub business: Option<String>,
}

/// Why an applicant's input was refused: the field, the translation key of the message shown on
/// pages, and an English message for the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: &'static str,
    pub key: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, key: &'static str, message: &str) -> FieldError {
        FieldError {
            field,
            key,
            message: message.to_string(),
        }
    }
}

/// The terms of a voucher: the amount never grows (no surcharge, no discount, no enforcement
/// stage); past its validity it expires instead.
pub fn voucher_terms() -> PenaltySchedule {
    PenaltySchedule {
        surcharge: Surcharge::Fixed {
            amount: Money::ZERO,
        },
        discount: None,
        escalation: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(applicant: Vec<ApplicantField>, fees: &[&str]) -> Service {
        Service {
            department: DepartmentCode::parse("traffic-police").unwrap(),
            code: ServiceCode::parse("driving-licence").unwrap(),
            name_en: "Driving licence".into(),
            name_ur: "ڈرائیونگ لائسنس".into(),
            applicant,
            validity_days: 7,
            legal_reference: "PMVO 1965".into(),
            indicative: true,
            choice_en: Some("Category".into()),
            choice_ur: Some("قسم".into()),
            fees: fees
                .iter()
                .map(|f| FeeChoice {
                    choice: ServiceCode::parse(f).unwrap(),
                    fee: OffenceCode::parse(&format!("licence-fee-{f}")).unwrap(),
                    label_en: f.to_string(),
                    label_ur: f.to_string(),
                })
                .collect(),
        }
    }

    fn schedule() -> HashSet<(DepartmentCode, OffenceCode)> {
        ["motorcycle", "motorcar"]
            .iter()
            .map(|f| {
                (
                    DepartmentCode::parse("traffic-police").unwrap(),
                    OffenceCode::parse(&format!("licence-fee-{f}")).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn a_service_names_fees_of_its_schedule() {
        assert!(service(vec![], &["motorcycle", "motorcar"])
            .check(&schedule())
            .is_ok());
        let e = service(vec![], &["ltv"]).check(&schedule()).unwrap_err();
        assert!(e.0.contains("licence-fee-ltv is not an active fee"), "{e}");
        let mut s = service(vec![], &["motorcycle"]);
        s.validity_days = 0;
        assert!(s.check(&schedule()).is_err());
        s.validity_days = 31;
        assert!(s.check(&schedule()).is_err());
        let mut s = service(vec![], &["motorcycle", "motorcar"]);
        s.choice_ur = None;
        assert!(s.check(&schedule()).is_err());
    }

    #[test]
    fn choices() {
        let s = service(vec![], &["motorcycle", "motorcar"]);
        assert_eq!(
            s.choice(Some("motorcar")).unwrap().fee.as_str(),
            "licence-fee-motorcar"
        );
        assert_eq!(s.choice(None).unwrap_err().field, "choice");
        assert_eq!(s.choice(Some("boat")).unwrap_err().field, "choice");
        let one = service(vec![], &["motorcycle"]);
        assert_eq!(one.choice(None).unwrap().choice.as_str(), "motorcycle");
    }

    #[test]
    fn applicant_fields() {
        let s = service(vec![ApplicantField::Vehicle], &["motorcycle"]);
        let good = ApplicantInput {
            cnic: Some("17301-1234567-1"),
            mobile: Some("0300 1234567"),
            name: Some(" Amina Khan "),
            vehicle: Some("pes 1234"),
            business: Some("ignored"),
        };
        let a = s.applicant(&good).unwrap();
        assert_eq!(a.cnic.digits(), "1730112345671");
        assert_eq!(a.mobile.e164(), "+923001234567");
        assert_eq!(a.name, "Amina Khan");
        assert_eq!(a.vehicle.unwrap().as_str(), "PES-1234");
        assert_eq!(a.business, None);
        for (field, input) in [
            (
                "cnic",
                ApplicantInput {
                    cnic: Some("123"),
                    ..good
                },
            ),
            (
                "mobile",
                ApplicantInput {
                    mobile: None,
                    ..good
                },
            ),
            (
                "name",
                ApplicantInput {
                    name: Some("  "),
                    ..good
                },
            ),
            (
                "name",
                ApplicantInput {
                    name: Some("a\u{202e}b"),
                    ..good
                },
            ),
            (
                "vehicle_number",
                ApplicantInput {
                    vehicle: None,
                    ..good
                },
            ),
        ] {
            assert_eq!(s.applicant(&input).unwrap_err().field, field);
        }
        let b = service(vec![ApplicantField::Business], &["motorcycle"]);
        assert_eq!(
            b.applicant(&ApplicantInput {
                business: None,
                ..good
            })
            .unwrap_err()
            .field,
            "business_name"
        );
    }
}
