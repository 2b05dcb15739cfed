//! The catalogue in force as the writer holds it in memory (see `ops::catalogue::load_current`):
//! a plain value, so the transaction types can carry it without importing the operations.

use efine_core::catalogue::{Department, District, Offence};
use efine_core::{DepartmentCode, DistrictCode, OffenceCode};
use std::collections::HashMap;

/// The catalogue in force, held in memory by the writer: what issuing looks up.
#[derive(Debug, Default)]
pub(crate) struct Current {
    pub(crate) districts: HashMap<DistrictCode, District>,
    pub(crate) departments: HashMap<DepartmentCode, Department>,
    /// The version of each offence in force, with its row id.
    pub(crate) offences: HashMap<(DepartmentCode, OffenceCode), (i64, Offence)>,
}
