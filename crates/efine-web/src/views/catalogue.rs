//! The catalogue as the API shows it: departments, districts, offences and fees.

use efine_core::{Department, District, Offence};
use serde::Serialize;
use utoipa::ToSchema;

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
