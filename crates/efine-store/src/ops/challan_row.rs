//! A `challans` row as read back: the columns every challan query selects, and their parsing
//! into the domain type. Shared by the challan operations and the statistics rebuild.

use crate::ops::catalogue;
use crate::sql::Row;
use crate::StoreError;
use efine_core::challan::{Challan, ChallanStatus, Location};
use efine_core::clock::from_micros;
use efine_core::penalty::{Adjustments, Stage};
use efine_core::{
    ChallanNumber, Cnic, DepartmentCode, DistrictCode, MobileNumber, Money, OffenceCode,
    OffenceKind, Psid, VehicleNumber,
};

pub(crate) const COLS: &str =
    "number, psid, department, district, offence_code, offence_version, kind, \
    amount_paisa, issued_at, due_date, officer, vehicle, vehicle_authority, cnic, mobile, name, \
    lat_micro, lon_micro, location_text, notes, status, penalty, paused_days, paused_since, \
    reduced_amount_paisa, stage, surcharged";

/// Column count of `COLS`: extra selected columns start here.
pub(crate) const NCOLS: usize = 27;

/// `COLS` qualified with a table alias, for joins.
pub(crate) fn cols_as(alias: &str) -> String {
    COLS.split(',')
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_date(s: &str) -> Result<time::Date, StoreError> {
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| StoreError::Corrupt(format!("date {s}")))
}

pub(crate) fn row(r: &Row) -> Result<Challan, StoreError> {
    let status = r.text(20)?;
    let due = r.text(9)?;
    Ok(Challan {
        number: ChallanNumber::parse(&r.text(0)?)?,
        psid: Psid::parse(&r.text(1)?)?,
        department: DepartmentCode::parse(&r.text(2)?)?,
        district: DistrictCode::parse(&r.text(3)?)?,
        offence: OffenceCode::parse(&r.text(4)?)?,
        offence_version: r.i64(5)?,
        kind: OffenceKind::parse(&r.text(6)?)?,
        amount: Money::from_paisa(r.i64(7)?)?,
        issued_at: from_micros(r.i64(8)?),
        due_date: time::Date::parse(
            &due,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map_err(|_| StoreError::Corrupt(format!("due date {due}")))?,
        officer: r.text(10)?,
        vehicle: r
            .opt_text(11)?
            .map(|v| VehicleNumber::parse(&v))
            .transpose()?,
        vehicle_authority: r.opt_text(12)?,
        cnic: r.opt_text(13)?.map(|v| Cnic::parse(&v)).transpose()?,
        mobile: r
            .opt_text(14)?
            .map(|v| MobileNumber::parse(&v))
            .transpose()?,
        name: r.opt_text(15)?,
        location: Location {
            lat_micro: r.opt_i64(16)?,
            lon_micro: r.opt_i64(17)?,
            text: r.opt_text(18)?,
        },
        notes: r.opt_text(19)?,
        status: ChallanStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("status {status}")))?,
        penalty: catalogue::parse_penalty(&r.text(21)?)?,
        adjustments: Adjustments {
            paused_days: u32::try_from(r.i64(22)?)
                .map_err(|_| StoreError::Corrupt("paused_days".into()))?,
            paused_since: r.opt_text(23)?.map(|d| parse_date(&d)).transpose()?,
            reduced_amount: r.opt_i64(24)?.map(Money::from_paisa).transpose()?,
            stage: r
                .opt_text(25)?
                .map(|s| Stage::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("stage {s}"))))
                .transpose()?,
            surcharged: r.i64(26)? != 0,
        },
    })
}
