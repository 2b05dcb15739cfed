//! Issuing and reading challans.

pub(crate) use crate::ops::challan_row::{row, COLS, NCOLS};
use crate::ops::{catalogue, counters, events, stats};
use crate::sql::Tx;
use crate::{params, StoreError};
use efine_core::auth::{Action, Principal, Scope};
use efine_core::challan::{self, Challan, ChallanEvent, ChallanStatus, Location};
use efine_core::clock::{karachi_date, to_micros, KARACHI};
use efine_core::{
    ChallanNumber, Cnic, DepartmentCode, DistrictCode, MobileNumber, OffenceCode, Psid,
    VehicleNumber,
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

/// Issues a challan: the amount, version and due date of the offence in force in this
/// transaction, the next gap-free number, its statistics and its `challan.issued` event.
pub fn issue(
    tx: &mut dyn Tx,
    officer: &Principal,
    new: &NewChallan,
    at: OffsetDateTime,
) -> Result<Challan, StoreError> {
    issue_with(tx, officer, new, at, None)
}

/// A number a device allocated itself, and what the event records of the device
/// (`efine_core::device`).
#[derive(Debug, Clone)]
pub struct FromDevice {
    /// The sequence part of the number (`efine_core::device::device_seq`).
    pub seq: u64,
    /// When the device issued it: due dates and penalties count from here.
    pub issued_at: OffsetDateTime,
    /// Recorded in the `challan.issued` event under `device`.
    pub device: serde_json::Value,
}

/// [`issue`], or with `from_device` the issue of a challan a device made offline: its number and
/// issue time are the device's, the event is recorded at `at` (when the server received it).
pub fn issue_with(
    tx: &mut dyn Tx,
    officer: &Principal,
    new: &NewChallan,
    at: OffsetDateTime,
    from_device: Option<&FromDevice>,
) -> Result<Challan, StoreError> {
    issue_full(tx, officer, new, at, from_device, None, None)
}

/// A fee voucher's own terms, which replace the schedule's: its penalty terms and the days it
/// stays payable.
pub(crate) struct VoucherTerms {
    pub penalty: efine_core::penalty::PenaltySchedule,
    pub validity_days: u16,
}

/// A fee voucher a citizen asked for, issued under the portal's account for any district (so
/// the officer's scope is not asked) with the voucher's terms instead of the schedule's.
pub(crate) fn issue_voucher(
    tx: &mut dyn Tx,
    portal: &Principal,
    new: &NewChallan,
    at: OffsetDateTime,
    terms: VoucherTerms,
) -> Result<Challan, StoreError> {
    issue_full(tx, portal, new, at, None, Some(terms), None)
}

/// What an earlier system recorded of a challan it issued, for `ops::import`: its own number
/// when that fits E-Fine's (the sequence part), the instant it was issued, the amount it charged
/// and its due date. Recorded in the `challan.issued` event under `import`, with `source`.
pub(crate) struct Imported {
    pub seq: Option<u64>,
    pub issued_at: OffsetDateTime,
    pub amount: efine_core::Money,
    pub due_date: Option<time::Date>,
    pub source: serde_json::Value,
}

/// An imported challan, issued under the importing account for any department and district:
/// the terms in force for its offence, but the earlier system's number (or the next free one),
/// issue time, amount and due date. Its event carries the issue time.
pub(crate) fn issue_imported(
    tx: &mut dyn Tx,
    importer: &Principal,
    new: &NewChallan,
    imported: &Imported,
) -> Result<Challan, StoreError> {
    issue_full(
        tx,
        importer,
        new,
        imported.issued_at,
        None,
        None,
        Some(imported),
    )
}

fn issue_full(
    tx: &mut dyn Tx,
    officer: &Principal,
    new: &NewChallan,
    at: OffsetDateTime,
    from_device: Option<&FromDevice>,
    voucher: Option<VoucherTerms>,
    imported: Option<&Imported>,
) -> Result<Challan, StoreError> {
    let found = catalogue::for_issue(tx, &new.district, &new.department, &new.offence)?;
    let district = found
        .district
        .ok_or_else(|| StoreError::invalid("district", format!("no district {}", new.district)))?;
    let department = found.department.ok_or_else(|| {
        StoreError::invalid("department", format!("no department {}", new.department))
    })?;
    if voucher.is_none()
        && imported.is_none()
        && officer
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
    let (offence_id, offence) = found.offence.ok_or_else(|| {
        StoreError::invalid(
            "offence_code",
            format!("{} has no offence or fee {}", new.department, new.offence),
        )
    })?;
    let (days_to_pay, penalty) = match voucher {
        Some(v) => (v.validity_days, v.penalty),
        None => (offence.days_to_pay, offence.penalty.clone()),
    };

    let issued_at = from_device.map_or(at, |d| d.issued_at);
    let issued_on = karachi_date(issued_at);
    let year = issued_on.year();
    let counter = format!("challan:{}-{}-{year}", department.abbr, district.abbr);
    let seq = match (from_device, imported.and_then(|i| i.seq)) {
        (Some(d), _) => d.seq,
        (None, Some(seq)) => {
            // The earlier system's number: numbers issued from now on come after it.
            tx.exec(
                "INSERT INTO counters (name, value) VALUES ($1, $2)
                 ON CONFLICT (name) DO UPDATE SET value = CASE
                     WHEN counters.value < excluded.value THEN excluded.value
                     ELSE counters.value END",
                params![counter.as_str(), seq as i64],
            )?;
            seq
        }
        (None, None) => {
            let seq = counters::next(tx, &counter)?;
            // The numbers from DEVICE_SEQ_BASE up belong to officers' devices.
            u64::try_from(seq)
                .ok()
                .filter(|s| *s < efine_core::device::DEVICE_SEQ_BASE)
                .ok_or_else(|| {
                    StoreError::conflict("sequence_exhausted", "challan numbers exhausted")
                })?
        }
    };
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
        amount: imported.map_or(offence.amount, |i| i.amount),
        issued_at: efine_core::clock::from_micros(to_micros(issued_at)),
        due_date: imported
            .and_then(|i| i.due_date)
            .unwrap_or_else(|| challan::due_date(issued_on, days_to_pay)),
        officer: officer.username.clone(),
        vehicle: new.vehicle.clone(),
        vehicle_authority: new.vehicle_authority.clone(),
        cnic: new.cnic.clone(),
        mobile: new.mobile.clone(),
        name: new.name.clone(),
        location: new.location.clone(),
        notes: new.notes.clone(),
        penalty,
        status: challan::transition(None, ChallanEvent::Issued)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        adjustments: Default::default(),
    };
    // The statistics' repeat-plate figure (`stats::on_issued`) is answered by the INSERT itself,
    // in the same round trip: is there an earlier challan with this plate, by this officer,
    // issued on or after the local day this one was? The new row is left out by its number
    // (PostgreSQL's sub-select does not see it anyway; SQLite's may). `issued_at + 0`: the
    // plate's rows for this officer, found by `challans_plate_officer`, are few; no planner,
    // whatever its statistics, may instead range over everything issued today through
    // `challans_issued_at`. A challan without a plate is never a repeat (NULL matches nothing).
    let day_start = to_micros(
        issued_on
            .with_time(time::Time::MIDNIGHT)
            .assume_offset(KARACHI),
    );
    let repeat = tx
        .query_one(
            "INSERT INTO challans (number, psid, department, district, year, seq, offence_id,
                offence_code, offence_version, kind, amount_paisa, issued_at, due_date,
                officer_id, officer, vehicle, vehicle_authority, cnic, mobile, name, lat_micro,
                lon_micro, location_text, notes, status, penalty, next_step_on)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                     $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)
             RETURNING EXISTS (SELECT 1 FROM challans p
                               WHERE p.vehicle = $16 AND p.officer = $15
                                 AND p.issued_at + 0 >= $28 AND p.number <> $1)",
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
                catalogue::penalty_json(&c.penalty),
                c.next_step_on().map(|d| d.to_string()),
                day_start
            ],
        )?
        .i64(0)?
        != 0;
    stats::on_issued(tx, &c, repeat)?;
    events::append(
        tx,
        at,
        ChallanEvent::Issued.kind(),
        &c.number.to_string(),
        &officer.username,
        &match (from_device, imported) {
            (Some(d), _) => serde_json::json!({ "challan": snapshot(&c), "device": d.device }),
            (None, Some(i)) => serde_json::json!({ "challan": snapshot(&c), "import": i.source }),
            (None, None) => serde_json::json!({ "challan": snapshot(&c) }),
        },
    )?;
    Ok(c)
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

/// Sets the challan's `next_step_on` (see [`Challan::next_step_on`]) from its row as it stands
/// now in this transaction. Call after a change to its status or terms that is not plainly the
/// end of its steps.
pub(crate) fn refresh_next_step(tx: &mut dyn Tx, n: &ChallanNumber) -> Result<(), StoreError> {
    let c = by_number(tx, n)?
        .ok_or_else(|| StoreError::Corrupt(format!("no challan {n} to refresh")))?;
    set_next_step(tx, &c)
}

/// Writes `c.next_step_on()` into the challan's row.
pub(crate) fn set_next_step(tx: &mut dyn Tx, c: &Challan) -> Result<(), StoreError> {
    tx.exec(
        "UPDATE challans SET next_step_on = $1 WHERE number = $2",
        params![
            c.next_step_on().map(|d| d.to_string()),
            c.number.to_string()
        ],
    )?;
    Ok(())
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

/// Which challans a public reader asks for.
#[derive(Debug, Clone)]
pub enum Find {
    Number(ChallanNumber),
    Psid(Psid),
    /// A vehicle's challans, newest first.
    Vehicle(VehicleNumber),
    /// A person's challans, newest first.
    Cnic(Cnic),
}

/// A challan with the names it is shown with and its receipt, if paid.
pub type Detailed = (
    Challan,
    catalogue::Names,
    Option<crate::ops::payments::Receipt>,
);

/// The challans `find` names (at most `limit`), each with its catalogue names and receipt, in
/// one query, whatever their number: what the public view, lookup and search pages show.
pub fn detailed(tx: &mut dyn Tx, find: &Find, limit: i64) -> Result<Vec<Detailed>, StoreError> {
    let (clause, key) = match find {
        Find::Number(n) => ("c.number = $1", n.to_string()),
        Find::Psid(p) => ("c.psid = $1", p.as_str().to_string()),
        Find::Vehicle(v) => ("c.vehicle = $1", v.as_str().to_string()),
        Find::Cnic(c) => ("c.cnic = $1", c.digits().to_string()),
    };
    let rows = tx.query(
        &format!(
            "SELECT {}, d.name_en, d.name_ur, s.name_en, s.name_ur, o.name_en, o.name_ur,
                    o.legal_reference, {}
             FROM challans c
             JOIN offences o ON o.department = c.department AND o.code = c.offence_code
                            AND o.version = c.offence_version
             JOIN departments d ON d.code = c.department
             JOIN districts s ON s.code = c.district
             LEFT JOIN receipts r ON r.challan_number = c.number
             LEFT JOIN payment_attempts a ON a.id = r.attempt_id
             WHERE {clause} ORDER BY c.issued_at DESC, c.id DESC LIMIT $2",
            crate::ops::challan_row::cols_as("c"),
            crate::ops::payments::RECEIPT_COLS,
        ),
        params![key, limit],
    )?;
    rows.iter()
        .map(|r| {
            let n = NCOLS;
            let names = catalogue::Names {
                department_en: r.text(n)?,
                department_ur: r.text(n + 1)?,
                district_en: r.text(n + 2)?,
                district_ur: r.text(n + 3)?,
                offence_en: r.text(n + 4)?,
                offence_ur: r.text(n + 5)?,
                legal_reference: r.text(n + 6)?,
            };
            let receipt = match r.opt_text(n + 7)? {
                Some(_) => Some(crate::ops::payments::receipt(&crate::sql::Row(
                    r.0[n + 7..].to_vec(),
                ))?),
                None => None,
            };
            Ok((row(r)?, names, receipt))
        })
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

/// The numbers of a district's newest challans in a status, newest first.
pub fn newest_in_status(
    tx: &mut dyn Tx,
    district: &DistrictCode,
    status: ChallanStatus,
    limit: i64,
) -> Result<Vec<ChallanNumber>, StoreError> {
    tx.query(
        "SELECT number FROM challans WHERE status = $1 AND district = $2
         ORDER BY id DESC LIMIT $3",
        params![status.as_str(), district.as_str(), limit],
    )?
    .iter()
    .map(|r| Ok(ChallanNumber::parse(&r.text(0)?)?))
    .collect()
}
