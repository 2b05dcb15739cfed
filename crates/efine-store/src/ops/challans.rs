//! Issuing and reading challans.

use crate::ops::{catalogue, events, stats};
use crate::sql::{Row, Tx};
use crate::{params, StoreError};
use efine_core::auth::{Action, Principal, Scope};
use efine_core::challan::{self, Challan, ChallanEvent, ChallanStatus, Location};
use efine_core::clock::{from_micros, karachi_date, to_micros};
use efine_core::penalty::{Adjustments, Stage};
use efine_core::{
    ChallanNumber, Cnic, DepartmentCode, DistrictCode, MobileNumber, Money, OffenceCode,
    OffenceKind, Psid, VehicleNumber,
};
use time::OffsetDateTime;

/// What an officer supplies. The amount is not here: it comes from the catalogue.
#[derive(Debug, Clone)]
pub struct NewChallan {
    pub department: DepartmentCode,
    pub offence: OffenceCode,
    pub district: DistrictCode,
    pub vehicle: Option<VehicleNumber>,
    pub vehicle_authority: Option<String>,
    pub cnic: Option<Cnic>,
    pub mobile: Option<MobileNumber>,
    pub name: Option<String>,
    pub location: Location,
    pub notes: Option<String>,
}

/// An `Idempotency-Key` header with the hash of the request body it came with.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub key: String,
    pub request_hash: String,
}

#[derive(Debug, Clone)]
pub enum IssueOutcome {
    Issued {
        challan: Box<Challan>,
        status: u16,
        body: String,
    },
    /// The same key and body were seen before: the first response, unchanged.
    Replayed { status: u16, body: String },
}

/// Renders the response to store with an idempotency key.
pub type Render<'a> = &'a (dyn Fn(&Challan) -> (u16, String) + Send + Sync);

pub fn issue(
    tx: &mut dyn Tx,
    officer: &Principal,
    new: &NewChallan,
    at: OffsetDateTime,
    idempotency: Option<&IdempotencyKey>,
    render: Render<'_>,
) -> Result<IssueOutcome, StoreError> {
    if let Some(k) = idempotency {
        if let Some(r) = tx.query_opt(
            "SELECT request_hash, response_status, response_body FROM idempotency_keys
             WHERE user_id = $1 AND key = $2",
            params![officer.user_id, k.key.as_str()],
        )? {
            if r.text(0)? != k.request_hash {
                return Err(StoreError::conflict(
                    "idempotency_key_reused",
                    "this Idempotency-Key was already used with a different request body",
                ));
            }
            return Ok(IssueOutcome::Replayed {
                status: u16::try_from(r.i64(1)?).unwrap_or(201),
                body: r.text(2)?,
            });
        }
    }

    let district = catalogue::district_by_code(tx, &new.district)?
        .ok_or_else(|| StoreError::invalid("district", format!("no district {}", new.district)))?;
    let department = catalogue::department_by_code(tx, &new.department)?.ok_or_else(|| {
        StoreError::invalid("department", format!("no department {}", new.department))
    })?;
    if officer
        .may(
            Action::IssueChallan,
            &Scope::of(&new.department, &new.district),
        )
        .is_err()
    {
        return Err(StoreError::Forbidden(format!(
            "you may issue only for your own department and district, not {} in {}",
            new.department, new.district
        )));
    }
    let (offence_id, offence) = catalogue::current_offence(tx, &new.department, &new.offence)?
        .ok_or_else(|| {
            StoreError::invalid(
                "offence_code",
                format!("{} has no offence or fee {}", new.department, new.offence),
            )
        })?;

    let issued_on = karachi_date(at);
    let year = issued_on.year();
    let counter = format!("challan:{}-{}-{year}", department.abbr, district.abbr);
    let seq = tx
        .query_one(
            "INSERT INTO counters (name, value) VALUES ($1, 1)
             ON CONFLICT (name) DO UPDATE SET value = counters.value + 1
             RETURNING value",
            params![counter.as_str()],
        )?
        .i64(0)?;
    let seq = u64::try_from(seq)
        .ok()
        .filter(|s| *s < 1_000_000_000)
        .ok_or_else(|| StoreError::conflict("sequence_exhausted", "challan numbers exhausted"))?;
    let number = ChallanNumber::new(department.abbr.clone(), district.abbr.clone(), year, seq);
    let psid = Psid::for_challan(year, department.number, district.number, seq);
    let c = Challan {
        number,
        psid,
        department: new.department.clone(),
        district: new.district.clone(),
        offence: offence.code.clone(),
        offence_version: offence.version,
        kind: offence.kind,
        amount: offence.amount,
        issued_at: efine_core::clock::from_micros(to_micros(at)),
        due_date: challan::due_date(issued_on, offence.days_to_pay),
        officer: officer.username.clone(),
        vehicle: new.vehicle.clone(),
        vehicle_authority: new.vehicle_authority.clone(),
        cnic: new.cnic.clone(),
        mobile: new.mobile.clone(),
        name: new.name.clone(),
        location: new.location.clone(),
        notes: new.notes.clone(),
        penalty: offence.penalty.clone(),
        status: challan::transition(None, ChallanEvent::Issued)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        adjustments: Default::default(),
    };
    tx.exec(
        "INSERT INTO challans (number, psid, department, district, year, seq, offence_id,
            offence_code, offence_version, kind, amount_paisa, issued_at, due_date, officer_id,
            officer, vehicle, vehicle_authority, cnic, mobile, name, lat_micro, lon_micro,
            location_text, notes, status, penalty)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                 $18, $19, $20, $21, $22, $23, $24, $25, $26)",
        params![
            c.number.to_string(),
            c.psid.as_str(),
            c.department.as_str(),
            c.district.as_str(),
            i64::from(year),
            seq as i64,
            offence_id,
            c.offence.as_str(),
            c.offence_version,
            c.kind.as_str(),
            c.amount.paisa(),
            to_micros(c.issued_at),
            c.due_date.to_string(),
            officer.user_id,
            officer.username.as_str(),
            c.vehicle.as_ref().map(|v| v.as_str()),
            c.vehicle_authority.clone(),
            c.cnic.as_ref().map(|v| v.digits()),
            c.mobile.as_ref().map(|v| v.e164()),
            c.name.clone(),
            c.location.lat_micro,
            c.location.lon_micro,
            c.location.text.clone(),
            c.notes.clone(),
            c.status.as_str(),
            catalogue::penalty_json(&c.penalty)
        ],
    )?;
    stats::on_issued(tx, &c)?;
    events::append(
        tx,
        at,
        ChallanEvent::Issued.kind(),
        &c.number.to_string(),
        &officer.username,
        &serde_json::json!({ "challan": snapshot(&c) }),
    )?;
    let (status, body) = render(&c);
    if let Some(k) = idempotency {
        tx.exec(
            "INSERT INTO idempotency_keys (user_id, key, request_hash, response_status, response_body, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            params![
                officer.user_id,
                k.key.as_str(),
                k.request_hash.as_str(),
                i64::from(status),
                body.as_str(),
                to_micros(at)
            ],
        )?;
    }
    Ok(IssueOutcome::Issued {
        challan: Box::new(c),
        status,
        body,
    })
}

/// The issue-time record of a challan as written into its `challan.issued` event: every field
/// but the status, which later events change.
pub fn snapshot(c: &Challan) -> serde_json::Value {
    let mut v = serde_json::to_value(c).unwrap_or(serde_json::Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    v
}

pub(crate) const COLS: &str =
    "number, psid, department, district, offence_code, offence_version, kind, \
    amount_paisa, issued_at, due_date, officer, vehicle, vehicle_authority, cnic, mobile, name, \
    lat_micro, lon_micro, location_text, notes, status, penalty, paused_days, paused_since, \
    reduced_amount_paisa, stage, surcharged";

/// Column count of `COLS`: extra selected columns start here.
pub(crate) const NCOLS: usize = 27;

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

pub fn by_number(tx: &mut dyn Tx, n: &ChallanNumber) -> Result<Option<Challan>, StoreError> {
    tx.query_opt(
        &format!("SELECT {COLS} FROM challans WHERE number = $1"),
        params![n.to_string()],
    )?
    .map(|r| row(&r))
    .transpose()
}

pub fn by_psid(tx: &mut dyn Tx, p: &Psid) -> Result<Option<Challan>, StoreError> {
    tx.query_opt(
        &format!("SELECT {COLS} FROM challans WHERE psid = $1"),
        params![p.as_str()],
    )?
    .map(|r| row(&r))
    .transpose()
}

/// A vehicle's challans, newest first.
pub fn by_vehicle(
    tx: &mut dyn Tx,
    v: &VehicleNumber,
    limit: i64,
) -> Result<Vec<Challan>, StoreError> {
    tx.query(
        &format!("SELECT {COLS} FROM challans WHERE vehicle = $1 ORDER BY issued_at DESC, id DESC LIMIT $2"),
        params![v.as_str(), limit],
    )?
    .iter()
    .map(row)
    .collect()
}

/// A person's challans, newest first.
pub fn by_cnic(tx: &mut dyn Tx, c: &Cnic, limit: i64) -> Result<Vec<Challan>, StoreError> {
    tx.query(
        &format!(
            "SELECT {COLS} FROM challans WHERE cnic = $1 ORDER BY issued_at DESC, id DESC LIMIT $2"
        ),
        params![c.digits(), limit],
    )?
    .iter()
    .map(row)
    .collect()
}

/// Challans in id order after `after_id`, for audits and exports: (id, challan).
pub fn page(tx: &mut dyn Tx, after_id: i64, limit: i64) -> Result<Vec<(i64, Challan)>, StoreError> {
    tx.query(
        &format!("SELECT {COLS}, id FROM challans WHERE id > $1 ORDER BY id LIMIT $2"),
        params![after_id, limit],
    )?
    .iter()
    .map(|r| Ok((r.i64(NCOLS)?, row(r)?)))
    .collect()
}
