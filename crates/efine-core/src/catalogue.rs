//! The catalogue: districts, departments, and each department's schedule of offences and fees.
//! Shipped as editable seed data (`data/kp-catalogue.toml`) and checked here before it is loaded.

use crate::code::{Abbr, DepartmentCode, DistrictCode, OffenceCode};
use crate::money::Money;
use crate::penalty::PenaltySchedule;
use crate::ParseError;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct District {
    pub code: DistrictCode,
    pub abbr: Abbr,
    /// Stable number used inside PSIDs; never reused.
    pub number: u8,
    pub name_en: String,
    pub name_ur: String,
    pub division: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    pub code: DepartmentCode,
    pub abbr: Abbr,
    pub number: u8,
    pub name_en: String,
    pub name_ur: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OffenceKind {
    Fine,
    Fee,
}

impl OffenceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OffenceKind::Fine => "fine",
            OffenceKind::Fee => "fee",
        }
    }
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s {
            "fine" => Ok(OffenceKind::Fine),
            "fee" => Ok(OffenceKind::Fee),
            _ => Err(ParseError::new(format!("'{s}' is not fine or fee"))),
        }
    }
}

/// One version of an offence or fee in a department's schedule. A change of amount or terms is
/// a new version; a challan keeps the version in force when it was issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offence {
    pub department: DepartmentCode,
    pub code: OffenceCode,
    pub version: i64,
    pub kind: OffenceKind,
    pub name_en: String,
    pub name_ur: String,
    pub amount: Money,
    pub days_to_pay: u16,
    pub legal_reference: String,
    pub active: bool,
    /// Surcharge, early-payment discount and escalation stages after the due date.
    pub penalty: PenaltySchedule,
}

/// The seed file's shape for an offence (amounts as rupee strings, for people editing it).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OffenceSeed {
    pub department: DepartmentCode,
    pub code: OffenceCode,
    pub kind: OffenceKind,
    pub name_en: String,
    pub name_ur: String,
    pub amount: String,
    pub days_to_pay: u16,
    pub legal_reference: String,
    /// This offence's own terms; without it, the catalogue's default for its kind.
    #[serde(default)]
    pub penalty: Option<PenaltySchedule>,
}

/// The catalogue's default penalty terms for fines and for fees.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PenaltyDefaults {
    #[serde(default)]
    pub fine: PenaltySchedule,
    #[serde(default)]
    pub fee: PenaltySchedule,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CatalogueSeed {
    pub districts: Vec<District>,
    pub departments: Vec<Department>,
    pub offences: Vec<OffenceSeed>,
    #[serde(default)]
    pub penalty_defaults: PenaltyDefaults,
}

/// A checked catalogue, ready to load.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub districts: Vec<District>,
    pub departments: Vec<Department>,
    pub offences: Vec<Offence>,
}

impl CatalogueSeed {
    /// Checks uniqueness of codes, abbreviations and numbers, references, and amounts.
    pub fn check(self) -> Result<Catalogue, ParseError> {
        fn unique<T: std::fmt::Debug>(
            what: &str,
            items: impl Iterator<Item = T>,
        ) -> Result<(), ParseError> {
            let mut seen = HashSet::new();
            for i in items {
                if !seen.insert(format!("{i:?}")) {
                    return Err(ParseError::new(format!("duplicate {what}: {i:?}")));
                }
            }
            Ok(())
        }
        unique("district code", self.districts.iter().map(|d| &d.code))?;
        unique("district abbr", self.districts.iter().map(|d| &d.abbr))?;
        unique("district number", self.districts.iter().map(|d| d.number))?;
        unique("department code", self.departments.iter().map(|d| &d.code))?;
        unique("department abbr", self.departments.iter().map(|d| &d.abbr))?;
        unique(
            "department number",
            self.departments.iter().map(|d| d.number),
        )?;
        unique(
            "offence",
            self.offences.iter().map(|o| (&o.department, &o.code)),
        )?;
        for n in self
            .districts
            .iter()
            .map(|d| d.number)
            .chain(self.departments.iter().map(|d| d.number))
        {
            if !(1..=99).contains(&n) {
                return Err(ParseError::new(format!("number {n} is outside 1..99")));
            }
        }
        let depts: HashSet<&DepartmentCode> = self.departments.iter().map(|d| &d.code).collect();
        let mut offences = Vec::with_capacity(self.offences.len());
        for o in self.offences {
            if !depts.contains(&o.department) {
                return Err(ParseError::new(format!(
                    "offence {} names unknown department {}",
                    o.code, o.department
                )));
            }
            let amount = Money::parse(&o.amount).map_err(|e| {
                ParseError::new(format!("offence {}/{}: {e}", o.department, o.code))
            })?;
            if amount == Money::ZERO {
                return Err(ParseError::new(format!(
                    "offence {}/{} has a zero amount",
                    o.department, o.code
                )));
            }
            if !(1..=365).contains(&o.days_to_pay) {
                return Err(ParseError::new(format!(
                    "offence {}/{}: days_to_pay must be 1..365",
                    o.department, o.code
                )));
            }
            let penalty = o.penalty.unwrap_or_else(|| match o.kind {
                OffenceKind::Fine => self.penalty_defaults.fine.clone(),
                OffenceKind::Fee => self.penalty_defaults.fee.clone(),
            });
            penalty.check().map_err(|e| {
                ParseError::new(format!("offence {}/{}: {e}", o.department, o.code))
            })?;
            offences.push(Offence {
                department: o.department,
                code: o.code,
                version: 1,
                kind: o.kind,
                name_en: o.name_en,
                name_ur: o.name_ur,
                amount,
                days_to_pay: o.days_to_pay,
                legal_reference: o.legal_reference,
                active: true,
                penalty,
            });
        }
        Ok(Catalogue {
            districts: self.districts,
            departments: self.departments,
            offences,
        })
    }
}
