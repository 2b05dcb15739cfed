//! The catalogue: loaded from seed data at first start, read by everyone. Every change bumps the
//! catalogue version (a row of `counters`) in its own transaction; the writer holds the catalogue
//! in force in memory and reloads it when that version moves (see `crate::writer`), so issuing
//! reads no catalogue row.

use crate::catalogue_cache::Current;
use crate::ops::events;
use crate::sql::{Row, Tx};
use crate::{params, StoreError};
use efine_core::catalogue::{Catalogue, Department, District, Offence, OffenceKind};
use efine_core::clock::to_micros;
use efine_core::code::Abbr;
use efine_core::penalty::PenaltySchedule;
use efine_core::{DepartmentCode, DistrictCode, Money, OffenceCode};
use time::OffsetDateTime;

/// The `counters` row holding the catalogue version. A database that predates it reads as 0.
pub(crate) const VERSION_COUNTER: &str = "catalogue";

/// Moves the catalogue version, in the transaction that changes the catalogue. Every process's
/// writer compares it at the start of each batch and reloads when it moved; within this batch,
/// the operations after this one read the database instead of the batch's copy.
pub(crate) fn bump_version(tx: &mut dyn Tx) -> Result<(), StoreError> {
    tx.exec(
        "INSERT INTO counters (name, value) VALUES ($1, 1)
         ON CONFLICT (name) DO UPDATE SET value = counters.value + 1",
        params![VERSION_COUNTER],
    )?;
    if let Some(batch) = tx.batch_state() {
        batch.catalogue = None;
    }
    Ok(())
}

/// Reads the whole catalogue in force: three queries, run only when its version moved.
pub(crate) fn load_current(tx: &mut dyn Tx) -> Result<Current, StoreError> {
    let mut current = Current::default();
    for d in districts(tx)? {
        current.districts.insert(d.code.clone(), d);
    }
    for d in departments(tx)? {
        current.departments.insert(d.code.clone(), d);
    }
    // In version order, so the last active version of each offence wins, as in
    // `current_offence`.
    let rows = tx.query(
        &format!("SELECT {OFFENCE_COLS} FROM offences WHERE active = 1 ORDER BY version"),
        &[],
    )?;
    for r in &rows {
        let (id, o) = offence(r)?;
        current
            .offences
            .insert((o.department.clone(), o.code.clone()), (id, o));
    }
    Ok(current)
}

/// What issuing needs from the catalogue (each `None` when there is no such thing).
pub(crate) struct ForIssue {
    pub district: Option<District>,
    pub department: Option<Department>,
    /// The offence in force, with its row id.
    pub offence: Option<(i64, Offence)>,
}

/// Looks up what issuing needs: from the writer's copy inside a write batch, else from the
/// database.
pub(crate) fn for_issue(
    tx: &mut dyn Tx,
    district: &DistrictCode,
    department: &DepartmentCode,
    offence: &OffenceCode,
) -> Result<ForIssue, StoreError> {
    if let Some(c) = tx.batch_state().and_then(|b| b.catalogue.clone()) {
        return Ok(ForIssue {
            district: c.districts.get(district).cloned(),
            department: c.departments.get(department).cloned(),
            offence: c
                .offences
                .get(&(department.clone(), offence.clone()))
                .cloned(),
        });
    }
    Ok(ForIssue {
        district: district_by_code(tx, district)?,
        department: department_by_code(tx, department)?,
        offence: current_offence(tx, department, offence)?,
    })
}

/// Loads the catalogue if the database has none yet. Returns whether it loaded.
pub fn load_if_empty(
    tx: &mut dyn Tx,
    catalogue: &Catalogue,
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    let n = tx
        .query_one("SELECT COUNT(*) FROM departments", &[])?
        .i64(0)?;
    if n > 0 {
        // A database from before the service catalogue gets the shipped services once.
        let services = crate::ops::fees::seed_if_empty(tx, at)?;
        if services > 0 {
            events::append(
                tx,
                at,
                "catalogue.services_loaded",
                "catalogue",
                "system",
                &serde_json::json!({ "services": services }),
            )?;
        }
        return Ok(false);
    }
    for d in &catalogue.districts {
        tx.exec(
            "INSERT INTO districts (code, abbr, number, name_en, name_ur, division)
             VALUES ($1, $2, $3, $4, $5, $6)",
            params![
                d.code.as_str(),
                d.abbr.as_str(),
                i64::from(d.number),
                d.name_en.as_str(),
                d.name_ur.as_str(),
                d.division.as_str()
            ],
        )?;
    }
    for d in &catalogue.departments {
        tx.exec(
            "INSERT INTO departments (code, abbr, number, name_en, name_ur)
             VALUES ($1, $2, $3, $4, $5)",
            params![
                d.code.as_str(),
                d.abbr.as_str(),
                i64::from(d.number),
                d.name_en.as_str(),
                d.name_ur.as_str()
            ],
        )?;
    }
    for o in &catalogue.offences {
        insert_offence(tx, o, at)?;
    }
    let services = crate::ops::fees::seed_if_empty(tx, at)?;
    bump_version(tx)?;
    events::append(
        tx,
        at,
        "catalogue.loaded",
        "catalogue",
        "system",
        &serde_json::json!({
            "districts": catalogue.districts.len(),
            "departments": catalogue.departments.len(),
            "offences": catalogue.offences.len(),
            "services": services,
        }),
    )?;
    Ok(true)
}

pub(crate) fn insert_offence(
    tx: &mut dyn Tx,
    o: &Offence,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    tx.exec(
        "INSERT INTO offences (department, code, version, kind, name_en, name_ur, amount_paisa,
                               days_to_pay, legal_reference, active, effective_from, penalty)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        params![
            o.department.as_str(),
            o.code.as_str(),
            o.version,
            o.kind.as_str(),
            o.name_en.as_str(),
            o.name_ur.as_str(),
            o.amount.paisa(),
            i64::from(o.days_to_pay),
            o.legal_reference.as_str(),
            i64::from(o.active),
            to_micros(at),
            penalty_json(&o.penalty)
        ],
    )?;
    Ok(())
}

/// A change to an offence or fee: a new version takes effect now; challans already issued keep
/// the version they were issued under.
pub struct ScheduleChange {
    pub department: DepartmentCode,
    pub code: OffenceCode,
    pub amount: Money,
    pub days_to_pay: u16,
}

pub fn change_offence(
    tx: &mut dyn Tx,
    change: &ScheduleChange,
    actor: &str,
    at: OffsetDateTime,
) -> Result<Offence, StoreError> {
    let (_, current) = current_offence(tx, &change.department, &change.code)?
        .ok_or_else(|| StoreError::invalid("offence_code", "no such offence in this department"))?;
    let next = Offence {
        version: current.version + 1,
        amount: change.amount,
        days_to_pay: change.days_to_pay,
        ..current.clone()
    };
    insert_offence(tx, &next, at)?;
    bump_version(tx)?;
    events::append(
        tx,
        at,
        "catalogue.offence_changed",
        &format!("offence:{}/{}", next.department, next.code),
        actor,
        &serde_json::json!({
            "version": next.version,
            "amount_paisa": next.amount.paisa(),
            "previous_amount_paisa": current.amount.paisa(),
            "days_to_pay": next.days_to_pay,
        }),
    )?;
    Ok(next)
}

pub(crate) fn penalty_json(p: &PenaltySchedule) -> String {
    serde_json::to_string(p).unwrap_or_default()
}

pub(crate) fn parse_penalty(s: &str) -> Result<PenaltySchedule, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("penalty terms {s}: {e}")))
}

fn district(r: &Row) -> Result<District, StoreError> {
    Ok(District {
        code: DistrictCode::parse(&r.text(0)?)?,
        abbr: Abbr::parse(&r.text(1)?)?,
        number: u8::try_from(r.i64(2)?)
            .map_err(|_| StoreError::Corrupt("district number".into()))?,
        name_en: r.text(3)?,
        name_ur: r.text(4)?,
        division: r.text(5)?,
    })
}

fn department(r: &Row) -> Result<Department, StoreError> {
    Ok(Department {
        code: DepartmentCode::parse(&r.text(0)?)?,
        abbr: Abbr::parse(&r.text(1)?)?,
        number: u8::try_from(r.i64(2)?)
            .map_err(|_| StoreError::Corrupt("department number".into()))?,
        name_en: r.text(3)?,
        name_ur: r.text(4)?,
    })
}

const OFFENCE_COLS: &str = "id, department, code, version, kind, name_en, name_ur, amount_paisa, \
                            days_to_pay, legal_reference, active, penalty";

fn offence(r: &Row) -> Result<(i64, Offence), StoreError> {
    Ok((
        r.i64(0)?,
        Offence {
            department: DepartmentCode::parse(&r.text(1)?)?,
            code: OffenceCode::parse(&r.text(2)?)?,
            version: r.i64(3)?,
            kind: OffenceKind::parse(&r.text(4)?)?,
            name_en: r.text(5)?,
            name_ur: r.text(6)?,
            amount: Money::from_paisa(r.i64(7)?)?,
            days_to_pay: u16::try_from(r.i64(8)?)
                .map_err(|_| StoreError::Corrupt("days_to_pay".into()))?,
            legal_reference: r.text(9)?,
            active: r.i64(10)? != 0,
            penalty: parse_penalty(&r.text(11)?)?,
        },
    ))
}

pub fn districts(tx: &mut dyn Tx) -> Result<Vec<District>, StoreError> {
    tx.query(
        "SELECT code, abbr, number, name_en, name_ur, division FROM districts ORDER BY name_en",
        &[],
    )?
    .iter()
    .map(district)
    .collect()
}

pub fn departments(tx: &mut dyn Tx) -> Result<Vec<Department>, StoreError> {
    tx.query(
        "SELECT code, abbr, number, name_en, name_ur FROM departments ORDER BY name_en",
        &[],
    )?
    .iter()
    .map(department)
    .collect()
}

pub fn district_by_code(
    tx: &mut dyn Tx,
    code: &DistrictCode,
) -> Result<Option<District>, StoreError> {
    tx.query_opt(
        "SELECT code, abbr, number, name_en, name_ur, division FROM districts WHERE code = $1",
        params![code.as_str()],
    )?
    .map(|r| district(&r))
    .transpose()
}

pub fn district_by_abbr(tx: &mut dyn Tx, abbr: &Abbr) -> Result<Option<District>, StoreError> {
    tx.query_opt(
        "SELECT code, abbr, number, name_en, name_ur, division FROM districts WHERE abbr = $1",
        params![abbr.as_str()],
    )?
    .map(|r| district(&r))
    .transpose()
}

pub fn department_by_code(
    tx: &mut dyn Tx,
    code: &DepartmentCode,
) -> Result<Option<Department>, StoreError> {
    tx.query_opt(
        "SELECT code, abbr, number, name_en, name_ur FROM departments WHERE code = $1",
        params![code.as_str()],
    )?
    .map(|r| department(&r))
    .transpose()
}

/// The current (latest active) version of every offence, optionally of one department.
pub fn offences(
    tx: &mut dyn Tx,
    department: Option<&DepartmentCode>,
) -> Result<Vec<Offence>, StoreError> {
    let rows = tx.query(
        &format!(
            "SELECT {OFFENCE_COLS} FROM offences o
             WHERE active = 1
               AND ($1 = '' OR department = $1)
               AND version = (SELECT MAX(version) FROM offences p
                              WHERE p.department = o.department AND p.code = o.code)
             ORDER BY department, code"
        ),
        params![department.map(|d| d.as_str()).unwrap_or("")],
    )?;
    rows.iter().map(|r| offence(r).map(|(_, o)| o)).collect()
}

/// The version of an offence in force now, with its row id.
pub fn current_offence(
    tx: &mut dyn Tx,
    department: &DepartmentCode,
    code: &OffenceCode,
) -> Result<Option<(i64, Offence)>, StoreError> {
    tx.query_opt(
        &format!(
            "SELECT {OFFENCE_COLS} FROM offences
             WHERE department = $1 AND code = $2 AND active = 1
             ORDER BY version DESC LIMIT 1"
        ),
        params![department.as_str(), code.as_str()],
    )?
    .map(|r| offence(&r))
    .transpose()
}

/// Names of a department, district and offence version, for showing a challan.
#[derive(Debug, Clone)]
pub struct Names {
    pub department_en: String,
    pub department_ur: String,
    pub district_en: String,
    pub district_ur: String,
    pub offence_en: String,
    pub offence_ur: String,
    pub legal_reference: String,
}

pub fn names_for(tx: &mut dyn Tx, c: &efine_core::challan::Challan) -> Result<Names, StoreError> {
    let r = tx.query_one(
        "SELECT d.name_en, d.name_ur, s.name_en, s.name_ur, o.name_en, o.name_ur, o.legal_reference
         FROM offences o
         JOIN departments d ON d.code = o.department
         JOIN districts s ON s.code = $4
         WHERE o.department = $1 AND o.code = $2 AND o.version = $3",
        params![
            c.department.as_str(),
            c.offence.as_str(),
            c.offence_version,
            c.district.as_str()
        ],
    )?;
    Ok(Names {
        department_en: r.text(0)?,
        department_ur: r.text(1)?,
        district_en: r.text(2)?,
        district_ur: r.text(3)?,
        offence_en: r.text(4)?,
        offence_ur: r.text(5)?,
        legal_reference: r.text(6)?,
    })
}
