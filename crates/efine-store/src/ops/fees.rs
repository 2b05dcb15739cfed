//! Fees a citizen starts: the service catalogue (versioned like the offence schedule), the
//! vouchers citizens ask for, their expiry, and their use at a department's counter.
//!
//! A voucher is a challan of kind `fee` issued under the portal's account
//! ([`efine_core::fees::PORTAL_ACCOUNT`]) with the voucher's terms (no surcharge; due date = the
//! last day of its validity), plus a `fee_vouchers` row. So the rails, receipts, QR codes, the
//! ledger and the one credit path treat it as they treat every challan.

use crate::ops::challans::{self, VoucherTerms};
use crate::ops::{catalogue, events};
use crate::sql::{Row, Tx};
use crate::{params, StoreError};
use efine_core::auth::{Action, Principal, Role, Scope};
use efine_core::challan::{self as ch, Challan, ChallanEvent, ChallanStatus, Location};
use efine_core::clock::{from_micros, karachi_date, to_micros};
use efine_core::fees::{self, Applicant, FeeChoice, Service, ServicesSeed};
use efine_core::{
    ChallanNumber, Cnic, DepartmentCode, DistrictCode, Offence, OffenceCode, OffenceKind, Psid,
    ServiceCode,
};
use std::collections::{HashMap, HashSet};
use time::OffsetDateTime;

/// The KP service catalogue shipped with E-Fine.
pub const KP_SERVICES: &str = include_str!("../../../../data/kp-services.toml");

/// Parses a service catalogue file (checked against a schedule later, when loaded).
pub fn parse_services(text: &str) -> Result<Vec<Service>, StoreError> {
    let seed: ServicesSeed =
        toml::from_str(text).map_err(|e| StoreError::invalid("services", e.to_string()))?;
    Ok(seed.services)
}

/// The fees of the schedule in force, as services name them.
fn active_fees(tx: &mut dyn Tx) -> Result<HashSet<(DepartmentCode, OffenceCode)>, StoreError> {
    Ok(catalogue::offences(tx, None)?
        .into_iter()
        .filter(|o| o.kind == OffenceKind::Fee)
        .map(|o| (o.department, o.code))
        .collect())
}

/// Loads the shipped services when the database has none: each service whose fees the
/// schedule has (a catalogue other than KP's keeps only the services it can charge). Returns
/// how many were loaded; the caller records the event.
pub(crate) fn seed_if_empty(tx: &mut dyn Tx, at: OffsetDateTime) -> Result<usize, StoreError> {
    let n = tx
        .query_one("SELECT COUNT(*) FROM fee_services", &[])?
        .i64(0)?;
    if n > 0 {
        return Ok(0);
    }
    let fees = active_fees(tx)?;
    let mut loaded = 0;
    for s in parse_services(KP_SERVICES)? {
        if s.check(&fees).is_ok() {
            insert(tx, &s, 1, true, "system", at)?;
            loaded += 1;
        }
    }
    Ok(loaded)
}

fn insert(
    tx: &mut dyn Tx,
    s: &Service,
    version: i64,
    active: bool,
    actor: &str,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    let definition =
        serde_json::to_string(s).map_err(|e| StoreError::Corrupt(format!("service: {e}")))?;
    tx.exec(
        "INSERT INTO fee_services (department, code, version, definition, active, effective_from,
                                   changed_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        params![
            s.department.as_str(),
            s.code.as_str(),
            version,
            definition,
            i64::from(active),
            to_micros(at),
            actor
        ],
    )?;
    Ok(())
}

/// A service in force as citizens are offered it: its version, its department's names, and
/// for each choice the fee of the schedule in force (whose amount the voucher charges).
#[derive(Debug, Clone)]
pub struct Offered {
    pub service: Service,
    pub version: i64,
    pub department_en: String,
    pub department_ur: String,
    pub choices: Vec<(FeeChoice, Offence)>,
}

impl Offered {
    pub fn choice(&self, c: &FeeChoice) -> Option<&Offence> {
        self.choices
            .iter()
            .find(|(f, _)| f.choice == c.choice)
            .map(|(_, o)| o)
    }
}

/// Every active service in force (the latest version of each), with its fees; services whose
/// fee has left the schedule are not offered. In department, then English name, order.
pub fn offered(tx: &mut dyn Tx) -> Result<Vec<Offered>, StoreError> {
    let rows = tx.query(
        "SELECT s.department, s.code, s.version, s.definition, s.active, d.name_en, d.name_ur
         FROM fee_services s JOIN departments d ON d.code = s.department
         WHERE s.version = (SELECT MAX(version) FROM fee_services t
                            WHERE t.department = s.department AND t.code = s.code)
         ORDER BY d.name_en, s.code",
        &[],
    )?;
    let fees: HashMap<(DepartmentCode, OffenceCode), Offence> = catalogue::offences(tx, None)?
        .into_iter()
        .filter(|o| o.kind == OffenceKind::Fee)
        .map(|o| ((o.department.clone(), o.code.clone()), o))
        .collect();
    let mut out = Vec::new();
    for r in &rows {
        if r.i64(4)? == 0 {
            continue;
        }
        let service = definition(r)?;
        let choices: Option<Vec<_>> = service
            .fees
            .iter()
            .map(|f| {
                fees.get(&(service.department.clone(), f.fee.clone()))
                    .map(|o| (f.clone(), o.clone()))
            })
            .collect();
        let Some(choices) = choices else { continue };
        out.push(Offered {
            service,
            version: r.i64(2)?,
            department_en: r.text(5)?,
            department_ur: r.text(6)?,
            choices,
        });
    }
    out.sort_by(|a, b| {
        (&a.department_en, &a.service.name_en).cmp(&(&b.department_en, &b.service.name_en))
    });
    Ok(out)
}

fn definition(r: &Row) -> Result<Service, StoreError> {
    let text = r.text(3)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("service: {e}")))
}

/// One service in force, if offered.
pub fn service(
    tx: &mut dyn Tx,
    department: &DepartmentCode,
    code: &ServiceCode,
) -> Result<Option<Offered>, StoreError> {
    Ok(offered(tx)?
        .into_iter()
        .find(|o| &o.service.department == department && &o.service.code == code))
}

/// A department admin's (or an admin's) change to a service, or a new service: a new version
/// in force from now; vouchers already made keep the version they were made under.
pub fn change_service(
    tx: &mut dyn Tx,
    who: &Principal,
    service: &Service,
    active: bool,
    at: OffsetDateTime,
) -> Result<i64, StoreError> {
    who.may(
        Action::ChangeSchedule,
        &Scope::department(&service.department),
    )
    .map_err(|e| StoreError::Forbidden(e.to_string()))?;
    service
        .check(&active_fees(tx)?)
        .map_err(|e| StoreError::invalid("service", e.0))?;
    let version = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM fee_services WHERE department = $1 AND code = $2",
            params![service.department.as_str(), service.code.as_str()],
        )?
        .i64(0)?
        + 1;
    insert(tx, service, version, active, &who.username, at)?;
    events::append(
        tx,
        at,
        "catalogue.service_changed",
        &format!("service:{}/{}", service.department, service.code),
        &who.username,
        &serde_json::json!({ "version": version, "active": active, "service": service }),
    )?;
    Ok(version)
}

/// What a citizen (or a department's website) asks for.
#[derive(Debug, Clone)]
pub struct VoucherRequest {
    pub department: DepartmentCode,
    pub service: ServiceCode,
    pub choice: Option<String>,
    pub district: DistrictCode,
    pub applicant: Applicant,
    /// `portal` or `api`.
    pub channel: &'static str,
}

/// A voucher: its challan and what was asked for.
#[derive(Debug, Clone)]
pub struct Voucher {
    pub challan: Challan,
    pub service: ServiceCode,
    pub service_version: i64,
    pub choice: String,
    pub business_name: Option<String>,
    pub channel: String,
    pub consumed_at: Option<OffsetDateTime>,
    pub consumed_by: Option<String>,
    /// The service's names in the version the voucher was made under.
    pub service_en: String,
    pub service_ur: String,
}

impl Voucher {
    /// The last local day it can be paid (its validity), whatever its status.
    pub fn valid_until(&self) -> time::Date {
        self.challan.due_date
    }
}

/// Makes a voucher: checks the service, the choice, the district and the cap on open vouchers
/// per CNIC and per mobile, then issues its challan and records what was asked for.
pub fn request(
    tx: &mut dyn Tx,
    req: &VoucherRequest,
    at: OffsetDateTime,
) -> Result<Voucher, StoreError> {
    let offered = service(tx, &req.department, &req.service)?.ok_or_else(|| {
        StoreError::invalid(
            "service",
            format!("{} offers no service {}", req.department, req.service),
        )
    })?;
    let choice = offered
        .service
        .choice(req.choice.as_deref())
        .map_err(|e| StoreError::invalid(e.field, e.message))?
        .clone();
    let open = tx
        .query_one(
            "SELECT COUNT(*) FROM challans c JOIN fee_vouchers v ON v.challan_number = c.number
             WHERE c.status = 'unpaid' AND (c.cnic = $1 OR c.mobile = $2)",
            params![req.applicant.cnic.digits(), req.applicant.mobile.e164()],
        )?
        .i64(0)?;
    if open >= fees::MAX_OPEN_VOUCHERS {
        return Err(StoreError::conflict(
            "too_many_open_vouchers",
            format!(
                "this CNIC or mobile number already has {open} unpaid vouchers (at most {}): \
                 pay one, or wait until one expires",
                fees::MAX_OPEN_VOUCHERS
            ),
        ));
    }
    let portal = portal_account(tx, at)?;
    let new = challans::NewChallan {
        department: req.department.clone(),
        offence: choice.fee.clone(),
        district: req.district.clone(),
        vehicle: req.applicant.vehicle.clone(),
        vehicle_authority: None,
        cnic: Some(req.applicant.cnic.clone()),
        mobile: Some(req.applicant.mobile.clone()),
        name: Some(req.applicant.name.clone()),
        location: Location::default(),
        notes: None,
    };
    let c = challans::issue_voucher(
        tx,
        &portal,
        &new,
        at,
        VoucherTerms {
            penalty: fees::voucher_terms(),
            validity_days: offered.service.validity_days,
        },
    )?;
    let number = c.number.to_string();
    tx.exec(
        "INSERT INTO fee_vouchers (challan_number, department, service_code, service_version,
                                   choice, business_name, channel, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        params![
            number.as_str(),
            req.department.as_str(),
            req.service.as_str(),
            offered.version,
            choice.choice.as_str(),
            req.applicant.business.clone(),
            req.channel,
            to_micros(at)
        ],
    )?;
    events::append(
        tx,
        at,
        "fee.voucher_requested",
        &number,
        fees::PORTAL_ACCOUNT,
        &serde_json::json!({
            "service": format!("{}/{}", req.department, req.service),
            "service_version": offered.version,
            "choice": choice.choice.as_str(),
            "business_name": req.applicant.business,
            "channel": req.channel,
            "valid_until": c.due_date.to_string(),
        }),
    )?;
    Ok(Voucher {
        challan: c,
        service: req.service.clone(),
        service_version: offered.version,
        choice: choice.choice.to_string(),
        business_name: req.applicant.business.clone(),
        channel: req.channel.to_string(),
        consumed_at: None,
        consumed_by: None,
        service_en: offered.service.name_en.clone(),
        service_ur: offered.service.name_ur.clone(),
    })
}

/// The portal's account, under which vouchers are issued: made with the first voucher,
/// inactive and without a password, so it can never sign in.
fn portal_account(tx: &mut dyn Tx, at: OffsetDateTime) -> Result<Principal, StoreError> {
    let made = tx.query_opt(
        "INSERT INTO users (username, password_hash, role, active, created_at)
         VALUES ($1, '!', 'officer', 0, $2)
         ON CONFLICT (username) DO NOTHING RETURNING id",
        params![fees::PORTAL_ACCOUNT, to_micros(at)],
    )?;
    if made.is_some() {
        events::append(
            tx,
            at,
            "auth.system_account_added",
            &format!("user:{}", fees::PORTAL_ACCOUNT),
            "system",
            &serde_json::json!({
                "role": "officer",
                "active": false,
                "purpose": "issues the fee vouchers citizens ask for",
            }),
        )?;
    }
    let id = tx
        .query_one(
            "SELECT id FROM users WHERE username = $1",
            params![fees::PORTAL_ACCOUNT],
        )?
        .i64(0)?;
    Ok(Principal {
        user_id: id,
        username: fees::PORTAL_ACCOUNT.into(),
        role: Role::Officer,
        department: None,
        district: None,
    })
}

fn voucher_select(clause: &str) -> String {
    format!(
        "SELECT {}, v.service_code, v.service_version, v.choice, v.business_name, v.channel,
                v.consumed_at, v.consumed_by, s.definition
         FROM fee_vouchers v
         JOIN challans c ON c.number = v.challan_number
         LEFT JOIN fee_services s ON s.department = v.department AND s.code = v.service_code
                                 AND s.version = v.service_version
         WHERE {clause}",
        crate::ops::challan_row::cols_as("c")
    )
}

fn voucher(r: &Row) -> Result<Voucher, StoreError> {
    let n = challans::NCOLS;
    let (service_en, service_ur) = match r.opt_text(n + 7)? {
        Some(d) => {
            let s: Service = serde_json::from_str(&d)
                .map_err(|e| StoreError::Corrupt(format!("service: {e}")))?;
            (s.name_en, s.name_ur)
        }
        None => (String::new(), String::new()),
    };
    Ok(Voucher {
        challan: challans::row(r)?,
        service: ServiceCode::parse(&r.text(n)?)?,
        service_version: r.i64(n + 1)?,
        choice: r.text(n + 2)?,
        business_name: r.opt_text(n + 3)?,
        channel: r.text(n + 4)?,
        consumed_at: r.opt_i64(n + 5)?.map(from_micros),
        consumed_by: r.opt_text(n + 6)?,
        service_en,
        service_ur,
    })
}

/// How a counter looks a voucher up.
#[derive(Debug, Clone)]
pub enum FindVoucher {
    Number(ChallanNumber),
    Psid(Psid),
    /// The applicant's vouchers, newest first.
    Cnic(Cnic),
}

/// A voucher by number (anyone may see its public view; the caller masks).
pub fn by_number(tx: &mut dyn Tx, n: &ChallanNumber) -> Result<Option<Voucher>, StoreError> {
    tx.query_opt(
        &voucher_select("v.challan_number = $1"),
        params![n.to_string()],
    )?
    .map(|r| voucher(&r))
    .transpose()
}

/// The vouchers `find` names that `who` may use up (their department's; every department's for
/// an admin), newest first, at most 50.
pub fn find(
    tx: &mut dyn Tx,
    who: &Principal,
    find: &FindVoucher,
) -> Result<Vec<Voucher>, StoreError> {
    let (clause, key) = match find {
        FindVoucher::Number(n) => ("v.challan_number = $1", n.to_string()),
        FindVoucher::Psid(p) => ("c.psid = $1", p.as_str().to_string()),
        FindVoucher::Cnic(c) => ("c.cnic = $1", c.digits().to_string()),
    };
    let rows = tx.query(
        &format!(
            "{} ORDER BY v.created_at DESC LIMIT 50",
            voucher_select(clause)
        ),
        params![key],
    )?;
    let mut out = Vec::new();
    for r in &rows {
        let v = voucher(r)?;
        if may_use(who, &v.challan) {
            out.push(v);
        }
    }
    Ok(out)
}

fn may_use(who: &Principal, c: &Challan) -> bool {
    who.may(Action::ConsumeVoucher, &Scope::department(&c.department))
        .is_ok()
}

/// Paid vouchers for the services of `who`'s department (every department for an admin, or
/// the one named), newest first: `used` none, only used, or only not used yet.
pub fn paid(
    tx: &mut dyn Tx,
    who: &Principal,
    department: Option<&DepartmentCode>,
    used: Option<bool>,
    limit: i64,
) -> Result<Vec<Voucher>, StoreError> {
    who.may(Action::ConsumeVoucher, &Scope::ANY)
        .map_err(|e| StoreError::Forbidden(e.to_string()))?;
    let dept = who
        .department
        .as_ref()
        .or(department)
        .map(|d| d.as_str().to_string())
        .unwrap_or_default();
    let used_clause = match used {
        None => "",
        Some(true) => " AND v.consumed_at IS NOT NULL",
        Some(false) => " AND v.consumed_at IS NULL",
    };
    let rows = tx.query(
        &format!(
            "{} ORDER BY v.created_at DESC LIMIT $2",
            voucher_select(&format!(
                "c.status = 'paid' AND ($1 = '' OR v.department = $1){used_clause}"
            ))
        ),
        params![dept, limit],
    )?;
    rows.iter().map(voucher).collect()
}

/// Marks a paid voucher used at the counter (`fee.voucher_consumed`): once. A voucher of
/// another department is "not found" for this user.
pub fn consume(
    tx: &mut dyn Tx,
    who: &Principal,
    number: &ChallanNumber,
    at: OffsetDateTime,
) -> Result<Voucher, StoreError> {
    who.may(Action::ConsumeVoucher, &Scope::ANY)
        .map_err(|e| StoreError::Forbidden(e.to_string()))?;
    let v = by_number(tx, number)?
        .filter(|v| may_use(who, &v.challan))
        .ok_or_else(|| StoreError::NotFound("voucher".into()))?;
    match v.challan.status {
        ChallanStatus::Paid => {}
        ChallanStatus::Unpaid => {
            return Err(StoreError::conflict(
                "voucher_unpaid",
                format!("voucher {number} is not paid yet"),
            ))
        }
        ChallanStatus::Expired => {
            return Err(StoreError::conflict(
                "voucher_expired",
                format!("voucher {number} expired unpaid"),
            ))
        }
        ChallanStatus::Cancelled => {
            return Err(StoreError::conflict(
                "voucher_cancelled",
                format!("voucher {number} was cancelled"),
            ))
        }
    }
    if let (Some(when), Some(by)) = (v.consumed_at, &v.consumed_by) {
        return Err(StoreError::conflict(
            "voucher_used",
            format!(
                "voucher {number} was already used on {} by {by}",
                karachi_date(when)
            ),
        ));
    }
    let changed = tx
        .query_opt(
            "UPDATE fee_vouchers SET consumed_at = $1, consumed_by = $2
             WHERE challan_number = $3 AND consumed_at IS NULL RETURNING challan_number",
            params![to_micros(at), who.username.as_str(), number.to_string()],
        )?
        .is_some();
    if !changed {
        return Err(StoreError::conflict(
            "voucher_used",
            format!("voucher {number} was already used"),
        ));
    }
    events::append(
        tx,
        at,
        "fee.voucher_consumed",
        &number.to_string(),
        &who.username,
        &serde_json::json!({
            "challan_number": number.to_string(),
            "service": format!("{}/{}", v.challan.department, v.service),
        }),
    )?;
    Ok(Voucher {
        consumed_at: Some(from_micros(to_micros(at))),
        consumed_by: Some(who.username.clone()),
        ..v
    })
}

/// Expires, as of `at`, up to `limit` unpaid vouchers whose validity ended before today
/// (`challan.expired`; the status `expired`, which every rail refuses). Returns how many.
pub fn expire(tx: &mut dyn Tx, at: OffsetDateTime, limit: i64) -> Result<u64, StoreError> {
    let today = karachi_date(at);
    let rows = tx.query(
        &format!(
            // Driven from the vouchers (few) rather than the challans (millions): as a join,
            // SQLite walked every challan in id order.
            "SELECT {} FROM challans c
             WHERE c.number IN (SELECT challan_number FROM fee_vouchers)
               AND c.status = 'unpaid' AND c.due_date < $1 ORDER BY c.id LIMIT $2",
            crate::ops::challan_row::cols_as("c")
        ),
        params![today.to_string(), limit],
    )?;
    let mut n = 0;
    for r in &rows {
        let c = challans::row(r)?;
        let to = ch::transition(Some(c.status), ChallanEvent::ValidityEnded)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let number = c.number.to_string();
        tx.exec(
            "UPDATE challans SET status = $1, next_step_on = NULL WHERE number = $2",
            params![to.as_str(), number.as_str()],
        )?;
        events::append(
            tx,
            at,
            ChallanEvent::ValidityEnded.kind(),
            &number,
            "system",
            &serde_json::json!({
                "challan_number": number,
                "valid_until": c.due_date.to_string(),
            }),
        )?;
        n += 1;
    }
    Ok(n)
}

/// Counts of vouchers by service, for the figures: (department, service code, English name,
/// Urdu name, made, paid, used).
pub type ServiceCount = (String, String, String, String, i64, i64, i64);

/// Vouchers made, paid and used per service (department limited to `department` when given).
pub fn counts_by_service(
    tx: &mut dyn Tx,
    department: Option<&DepartmentCode>,
) -> Result<Vec<ServiceCount>, StoreError> {
    let rows = tx.query(
        "SELECT v.department, v.service_code, COUNT(*),
                SUM(CASE WHEN c.status = 'paid' THEN 1 ELSE 0 END),
                SUM(CASE WHEN v.consumed_at IS NOT NULL THEN 1 ELSE 0 END)
         FROM fee_vouchers v JOIN challans c ON c.number = v.challan_number
         WHERE ($1 = '' OR v.department = $1)
         GROUP BY v.department, v.service_code ORDER BY v.department, v.service_code",
        params![department.map(|d| d.as_str()).unwrap_or("")],
    )?;
    let names: HashMap<(String, String), (String, String)> = offered(tx)?
        .into_iter()
        .map(|o| {
            (
                (o.service.department.to_string(), o.service.code.to_string()),
                (o.service.name_en, o.service.name_ur),
            )
        })
        .collect();
    rows.iter()
        .map(|r| {
            let key = (r.text(0)?, r.text(1)?);
            let (en, ur) = names
                .get(&key)
                .cloned()
                .unwrap_or_else(|| (key.1.clone(), key.1.clone()));
            Ok((key.0, key.1, en, ur, r.i64(2)?, r.i64(3)?, r.i64(4)?))
        })
        .collect()
}

/// Whether the challan `number` is a voucher (a fee a citizen started).
pub fn is_voucher(tx: &mut dyn Tx, number: &ChallanNumber) -> Result<bool, StoreError> {
    Ok(tx
        .query_opt(
            "SELECT 1 FROM fee_vouchers WHERE challan_number = $1",
            params![number.to_string()],
        )?
        .is_some())
}

/// The PSIDs of unpaid vouchers, oldest first (at most `limit`): every voucher's Raast QR was
/// shown when it was made, so the poller asks the biller's bank about each while it is payable.
pub fn open_psids(tx: &mut dyn Tx, limit: i64) -> Result<Vec<Psid>, StoreError> {
    tx.query(
        "SELECT c.psid FROM fee_vouchers v JOIN challans c ON c.number = v.challan_number
         WHERE c.status = 'unpaid' ORDER BY v.created_at LIMIT $1",
        params![limit],
    )?
    .iter()
    .map(|r| Ok(Psid::parse(&r.text(0)?)?))
    .collect()
}
