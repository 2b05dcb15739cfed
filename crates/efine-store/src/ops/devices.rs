//! Officers' devices: enrolment by a one-time code, revocation, and the sync of the challans a
//! device issued offline (idempotent per device and counter). The rules are
//! `efine_core::device`; this module reads and writes the rows and appends the events.

use crate::ops::challans::{self, FromDevice, NewChallan};
use crate::ops::{catalogue, counters, events};
use crate::sql::Tx;
use crate::{params, StoreError};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use efine_core::auth::{Principal, Role};
use efine_core::challan::Location;
use efine_core::clock::{from_micros, to_micros};
use efine_core::device::{self, Item, Refusal};
use efine_core::qr::{KeyId, KeyRing};
use efine_core::{ChallanNumber, DepartmentCode, DistrictCode, MobileNumber, OffenceCode};
use efine_core::{Psid, VehicleNumber};
use rand::RngCore;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

/// How long an enrolment code works.
pub const CODE_LIFETIME: Duration = Duration::hours(24);
/// Largest photo accepted (bytes, decoded); the phone compresses to well under this.
pub const MAX_PHOTO_BYTES: usize = 400 * 1024;

/// An enrolled device as the console and the key set show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// `TRF-PSH-007`: department and district abbreviations and the slot.
    pub id: String,
    pub kid: String,
    /// 32 bytes, base64url without padding.
    pub public_key: String,
    pub officer_id: i64,
    pub officer: String,
    pub department: DepartmentCode,
    pub district: DistrictCode,
    pub slot: u16,
    pub enrolled_by: String,
    pub valid_from: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
    pub revoked_by: Option<String>,
    pub last_counter: u32,
    pub last_sync_at: Option<OffsetDateTime>,
}

const COLS: &str = "id, kid, public_key, officer_id, officer, department, district, slot, \
     enrolled_by, valid_from, revoked_at, revoked_by, last_counter, last_sync_at";

fn row(r: &crate::sql::Row) -> Result<Device, StoreError> {
    let num = |i: usize| -> Result<i64, StoreError> { r.i64(i) };
    Ok(Device {
        id: r.text(0)?,
        kid: r.text(1)?,
        public_key: r.text(2)?,
        officer_id: num(3)?,
        officer: r.text(4)?,
        department: DepartmentCode::parse(&r.text(5)?)?,
        district: DistrictCode::parse(&r.text(6)?)?,
        slot: u16::try_from(num(7)?).map_err(|_| StoreError::Corrupt("device slot".into()))?,
        enrolled_by: r.text(8)?,
        valid_from: from_micros(num(9)?),
        revoked_at: r.opt_i64(10)?.map(from_micros),
        revoked_by: r.opt_text(11)?,
        last_counter: u32::try_from(num(12)?)
            .map_err(|_| StoreError::Corrupt("device counter".into()))?,
        last_sync_at: r.opt_i64(13)?.map(from_micros),
    })
}

impl Device {
    /// The device's verifying key.
    pub fn verifying_key(&self) -> Result<ed25519_dalek::VerifyingKey, StoreError> {
        let bytes: [u8; 32] = URL_SAFE_NO_PAD
            .decode(&self.public_key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| StoreError::Corrupt(format!("device {} public key", self.id)))?;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map_err(|_| StoreError::Corrupt(format!("device {} public key", self.id)))
    }

    /// A key ring holding only this device's key, with its revocation.
    pub fn ring(&self) -> Result<KeyRing, StoreError> {
        let mut ring = KeyRing::new();
        let key = self.verifying_key()?;
        match self.revoked_at {
            Some(at) => ring.add_revoked(key, at),
            None => ring.add(key),
        };
        Ok(ring)
    }
}

fn code_hash(code: &str) -> String {
    let digits: String = code.chars().filter(char::is_ascii_digit).collect();
    hex::encode(Sha256::digest(
        format!("efine-device-code\0{digits}").as_bytes(),
    ))
}

/// Makes a one-time enrolment code (12 digits, shown `1234-5678-9012`) for an active officer in
/// the maker's reach. Only its hash is kept.
pub fn create_code(
    tx: &mut dyn Tx,
    by: &Principal,
    officer: &str,
    now: OffsetDateTime,
) -> Result<String, StoreError> {
    let who = tx
        .query_opt(
            "SELECT id, username, role, department, district, active FROM users
             WHERE username = $1",
            params![officer],
        )?
        .ok_or_else(|| StoreError::invalid("officer", format!("no account {officer}")))?;
    let p = crate::ops::users::principal(&who, 0)?;
    let (Some(dep), Some(dis)) = (&p.department, &p.district) else {
        return Err(StoreError::invalid(
            "officer",
            "the account has no department and district",
        ));
    };
    if p.role != Role::Officer || who.i64(5)? != 1 {
        return Err(StoreError::invalid(
            "officer",
            format!("{officer} is not an active officer"),
        ));
    }
    let _ = dis;
    if !device::may_manage(by, dep) {
        return Err(StoreError::Forbidden(
            "devices are enrolled by an admin, or a department admin for their own department"
                .into(),
        ));
    }
    let mut n = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut n);
    let digits = format!("{:012}", u64::from_be_bytes(n) % 1_000_000_000_000);
    let code = format!("{}-{}-{}", &digits[..4], &digits[4..8], &digits[8..]);
    tx.exec(
        "INSERT INTO device_enrolment_codes (code_hash, officer_id, created_by, created_at,
            expires_at) VALUES ($1, $2, $3, $4, $5)",
        params![
            code_hash(&code),
            p.user_id,
            by.username.as_str(),
            to_micros(now),
            to_micros(now + CODE_LIFETIME)
        ],
    )?;
    events::append(
        tx,
        now,
        "device.code_created",
        &format!("user:{}", p.username),
        &by.username,
        &serde_json::json!({ "officer": p.username, "expires_at": to_micros(now + CODE_LIFETIME) }),
    )?;
    Ok(code)
}

/// Enrols the phone's public key with a one-time code: the device gets the next free slot of
/// its officer's department and district.
pub fn enrol(
    tx: &mut dyn Tx,
    code: &str,
    public_key: &[u8; 32],
    now: OffsetDateTime,
) -> Result<Device, StoreError> {
    let bad_code = || StoreError::invalid("code", "the code is wrong, used or expired");
    let found = tx
        .query_opt(
            "SELECT c.officer_id, c.created_by, c.expires_at, c.used_at, u.id, u.username,
                    u.role, u.department, u.district, u.active
             FROM device_enrolment_codes c JOIN users u ON u.id = c.officer_id
             WHERE c.code_hash = $1",
            params![code_hash(code)],
        )?
        .ok_or_else(bad_code)?;
    if found.opt_i64(3)?.is_some() || found.i64(2)? <= to_micros(now) || found.i64(9)? != 1 {
        return Err(bad_code());
    }
    let created_by = found.text(1)?;
    let officer = crate::ops::users::principal(&found, 4)?;
    let (Some(dep), Some(dis)) = (officer.department.clone(), officer.district.clone()) else {
        return Err(bad_code());
    };
    let key = ed25519_dalek::VerifyingKey::from_bytes(public_key)
        .map_err(|_| StoreError::invalid("public_key", "not an Ed25519 public key"))?;
    let kid = KeyId::of(&key).to_string();
    let taken = tx
        .query_opt(
            "SELECT id FROM devices WHERE kid = $1",
            params![kid.as_str()],
        )?
        .is_some()
        || tx
            .query_opt(
                "SELECT n FROM signing_keys WHERE kid = $1",
                params![kid.as_str()],
            )?
            .is_some();
    if taken {
        return Err(StoreError::invalid(
            "public_key",
            "this key is already enrolled: make a new key",
        ));
    }
    let department = catalogue::department_by_code(tx, &dep)?
        .ok_or_else(|| StoreError::Corrupt(format!("department {dep}")))?;
    let district = catalogue::district_by_code(tx, &dis)?
        .ok_or_else(|| StoreError::Corrupt(format!("district {dis}")))?;
    let slot = counters::next(
        tx,
        &format!("device-slot:{}-{}", department.abbr, district.abbr),
    )?;
    let slot = u16::try_from(slot)
        .ok()
        .filter(|s| *s <= device::MAX_SLOT)
        .ok_or_else(|| {
            StoreError::conflict(
                "slots_exhausted",
                "every device slot of this department and district is taken",
            )
        })?;
    let id = format!("{}-{}-{slot:03}", department.abbr, district.abbr);
    tx.exec(
        &format!(
            "INSERT INTO devices ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL,
                NULL, 0, NULL)"
        ),
        params![
            id.as_str(),
            kid.as_str(),
            URL_SAFE_NO_PAD.encode(public_key),
            officer.user_id,
            officer.username.as_str(),
            dep.as_str(),
            dis.as_str(),
            i64::from(slot),
            created_by.as_str(),
            to_micros(now)
        ],
    )?;
    tx.exec(
        "UPDATE device_enrolment_codes SET used_at = $1, device_id = $2 WHERE code_hash = $3",
        params![to_micros(now), id.as_str(), code_hash(code)],
    )?;
    events::append(
        tx,
        now,
        "device.enrolled",
        &format!("device:{id}"),
        &officer.username,
        &serde_json::json!({ "device": id, "kid": kid, "officer": officer.username,
                             "enrolled_by": created_by }),
    )?;
    by_id(tx, &id)?.ok_or_else(|| StoreError::Corrupt(format!("device {id} not written")))
}

pub fn by_id(tx: &mut dyn Tx, id: &str) -> Result<Option<Device>, StoreError> {
    tx.query_opt(
        &format!("SELECT {COLS} FROM devices WHERE id = $1"),
        params![id],
    )?
    .map(|r| row(&r))
    .transpose()
}

pub fn by_kid(tx: &mut dyn Tx, kid: &str) -> Result<Option<Device>, StoreError> {
    tx.query_opt(
        &format!("SELECT {COLS} FROM devices WHERE kid = $1"),
        params![kid],
    )?
    .map(|r| row(&r))
    .transpose()
}

/// Whether the officer's account is active (a disabled officer's phone may not look up
/// vehicles).
pub fn officer_active(tx: &mut dyn Tx, officer_id: i64) -> Result<bool, StoreError> {
    Ok(tx
        .query_opt(
            "SELECT active FROM users WHERE id = $1",
            params![officer_id],
        )?
        .map(|r| r.i64(0))
        .transpose()?
        == Some(1))
}

/// Every device, in enrolment order (the key set publishes them all, revoked ones too).
pub fn all(tx: &mut dyn Tx) -> Result<Vec<Device>, StoreError> {
    tx.query(
        &format!("SELECT {COLS} FROM devices ORDER BY valid_from, id"),
        &[],
    )?
    .iter()
    .map(row)
    .collect()
}

/// Revokes a device: from now on its key vouches for nothing new, and challans it says it issued
/// from now on are refused at sync.
pub fn revoke(
    tx: &mut dyn Tx,
    by: &Principal,
    id: &str,
    now: OffsetDateTime,
) -> Result<Device, StoreError> {
    let d = by_id(tx, id)?.ok_or_else(|| StoreError::NotFound("device".into()))?;
    if !device::may_manage(by, &d.department) {
        return Err(StoreError::NotFound("device".into()));
    }
    if d.revoked_at.is_some() {
        return Ok(d);
    }
    tx.exec(
        "UPDATE devices SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL",
        params![to_micros(now), by.username.as_str(), id],
    )?;
    events::append(
        tx,
        now,
        "device.revoked",
        &format!("device:{id}"),
        &by.username,
        &serde_json::json!({ "device": id, "kid": d.kid, "officer": d.officer }),
    )?;
    by_id(tx, id)?.ok_or_else(|| StoreError::Corrupt(format!("device {id}")))
}

/// A photo sent with an item: its type and bytes (base64 as sent).
#[derive(Debug, Clone)]
pub struct PhotoIn {
    pub content_type: String,
    pub data_base64: String,
}

/// The answer for one synced item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Recorded now.
    Accepted { number: ChallanNumber, psid: Psid },
    /// Recorded by an earlier sync: the same item again.
    AlreadyHad { number: ChallanNumber, psid: Psid },
    /// Not recorded; the reason is for the officer.
    Refused { code: &'static str, reason: String },
}

fn refused(r: Refusal) -> Outcome {
    Outcome::Refused {
        code: r.code(),
        reason: r.to_string(),
    }
}

/// Syncs one item a device signed: idempotent per (device, counter). An item without the
/// device's signature is refused and nothing is written; any other refusal of a signed item is
/// recorded as a `device.item_refused` event (so a doubtful item leaves a trace) and answered,
/// never an error; errors are only the database's.
pub fn sync_item(
    tx: &mut dyn Tx,
    device: &Device,
    body: &str,
    signature: &[u8],
    photos: &[PhotoIn],
    now: OffsetDateTime,
) -> Result<Outcome, StoreError> {
    // Not the device's signature: answered, nothing written (anyone can post to the endpoint,
    // and only what the device itself sent belongs in the log).
    if let Err(r) = device::verify_item(&device.verifying_key()?, body.as_bytes(), signature) {
        return Ok(refused(r));
    }
    let hash = device::item_hash(body.as_bytes());
    let outcome = match check_and_issue(tx, device, body, &hash, photos, now)? {
        Ok(o) => o,
        Err(r) => {
            events::append(
                tx,
                now,
                "device.item_refused",
                &format!("device:{}", device.id),
                &device.officer,
                &serde_json::json!({ "device": device.id, "item_hash": hash,
                                     "code": r.code(), "reason": r.to_string() }),
            )?;
            refused(r)
        }
    };
    tx.exec(
        "UPDATE devices SET last_sync_at = $1 WHERE id = $2",
        params![to_micros(now), device.id.as_str()],
    )?;
    Ok(outcome)
}

fn check_and_issue(
    tx: &mut dyn Tx,
    device: &Device,
    body: &str,
    hash: &str,
    photos: &[PhotoIn],
    now: OffsetDateTime,
) -> Result<Result<Outcome, Refusal>, StoreError> {
    let item = match Item::parse(body) {
        Ok(i) => i,
        Err(r) => return Ok(Err(r)),
    };
    if let Some(had) = tx.query_opt(
        "SELECT item_hash, challan_number FROM device_challans WHERE device_id = $1 AND counter = $2",
        params![device.id.as_str(), i64::from(item.counter)],
    )? {
        if had.text(0)? == hash {
            let number = ChallanNumber::parse(&had.text(1)?)?;
            let c = challans::by_number(tx, &number)?
                .ok_or_else(|| StoreError::Corrupt(format!("device challan {number}")))?;
            return Ok(Ok(Outcome::AlreadyHad {
                number: c.number,
                psid: c.psid,
            }));
        }
        return Ok(Err(Refusal::CounterReused(item.counter)));
    }
    let issued_at = match item.issued_at() {
        Ok(t) => t,
        Err(r) => return Ok(Err(r)),
    };
    if let Err(r) = device::check_issue_time(issued_at, device.valid_from, device.revoked_at, now) {
        return Ok(Err(r));
    }
    let Some(seq) = device::device_seq(device.slot, item.counter) else {
        return Ok(Err(Refusal::Invalid(format!(
            "counter {} is out of range",
            item.counter
        ))));
    };
    let department = catalogue::department_by_code(tx, &device.department)?
        .ok_or_else(|| StoreError::Corrupt(format!("department {}", device.department)))?;
    let district = catalogue::district_by_code(tx, &device.district)?
        .ok_or_else(|| StoreError::Corrupt(format!("district {}", device.district)))?;
    let year = efine_core::clock::karachi_date(issued_at).year();
    let expected = ChallanNumber::new(department.abbr.clone(), district.abbr.clone(), year, seq);
    if ChallanNumber::parse(&item.number).ok().as_ref() != Some(&expected) {
        return Ok(Err(Refusal::WrongNumber(expected.to_string())));
    }
    if photos.len() != item.photos.len() {
        return Ok(Err(Refusal::Invalid(format!(
            "the item names {} photos but {} were sent",
            item.photos.len(),
            photos.len()
        ))));
    }
    let mut decoded = Vec::with_capacity(photos.len());
    for (p, want) in photos.iter().zip(&item.photos) {
        if !matches!(
            p.content_type.as_str(),
            "image/jpeg" | "image/webp" | "image/png"
        ) {
            return Ok(Err(Refusal::Invalid("a photo is JPEG, WebP or PNG".into())));
        }
        let Ok(bytes) = STANDARD.decode(p.data_base64.as_bytes()) else {
            return Ok(Err(Refusal::Invalid("a photo is not base64".into())));
        };
        if bytes.is_empty() || bytes.len() > MAX_PHOTO_BYTES {
            return Ok(Err(Refusal::Invalid(format!(
                "a photo is 1 byte to {} KB",
                MAX_PHOTO_BYTES / 1024
            ))));
        }
        if &hex::encode(Sha256::digest(&bytes)) != want {
            return Ok(Err(Refusal::Invalid(
                "a photo differs from the one the device signed".into(),
            )));
        }
        decoded.push(p);
    }
    let field = |what: &str, e: efine_core::ParseError| Refusal::Invalid(format!("{what}: {e}"));
    let offence = match OffenceCode::parse(&item.offence) {
        Ok(o) => o,
        Err(e) => return Ok(Err(field("offence", e))),
    };
    let vehicle = match item.vehicle.as_deref().filter(|v| !v.trim().is_empty()) {
        Some(v) => match VehicleNumber::parse(v) {
            Ok(v) => Some(v),
            Err(e) => return Ok(Err(field("vehicle", e))),
        },
        None => None,
    };
    let mobile = match item.mobile.as_deref().filter(|v| !v.trim().is_empty()) {
        Some(v) => match MobileNumber::parse(v) {
            Ok(v) => Some(v),
            Err(e) => return Ok(Err(field("mobile", e))),
        },
        None => None,
    };
    let text = |s: &Option<String>, max: usize| -> Result<Option<String>, Refusal> {
        match s.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) if t.chars().count() > max => Err(Refusal::Invalid(format!(
                "a text is at most {max} characters"
            ))),
            Some(t) => Ok(Some(t.to_string())),
            None => Ok(None),
        }
    };
    let (place, notes) = match (text(&item.place, 200), text(&item.notes, 500)) {
        (Ok(p), Ok(n)) => (p, n),
        (Err(r), _) | (_, Err(r)) => return Ok(Err(r)),
    };
    let current = catalogue::current_offence(tx, &device.department, &offence)?;
    let Some((_, o)) = current else {
        return Ok(Err(Refusal::Invalid(format!(
            "{} has no offence {offence}",
            device.department
        ))));
    };
    if o.amount.paisa() != item.amount_paisa {
        return Ok(Err(Refusal::Invalid(format!(
            "the amount differs from the schedule in force ({}): the phone's catalogue is out of \
             date",
            o.amount
        ))));
    }
    // The QR token printed on the slip: the device's key, and the fields of this challan.
    let ring = device.ring()?;
    let payload = match ring.verify(&item.token) {
        Ok((_, p)) => p,
        Err(e) => return Ok(Err(Refusal::TokenMismatch(e.to_string()))),
    };
    let token_ok = payload.kind == efine_core::qr::TokenKind::Challan
        && payload.number == expected.to_string()
        && payload.amount.paisa() == item.amount_paisa
        && payload.department == device.department
        && payload.district == device.district
        && payload.at.unix_timestamp() == issued_at.unix_timestamp();
    if !token_ok {
        return Ok(Err(Refusal::TokenMismatch(
            "it names another number, amount, place or time".into(),
        )));
    }
    let officer = tx
        .query_one(
            "SELECT id, username, role, department, district FROM users WHERE id = $1",
            params![device.officer_id],
        )
        .and_then(|r| crate::ops::users::principal(&r, 0))?;
    let new = NewChallan {
        department: device.department.clone(),
        offence,
        district: device.district.clone(),
        vehicle,
        vehicle_authority: None,
        cnic: None,
        mobile,
        name: None,
        location: Location {
            lat_micro: item.lat_micro,
            lon_micro: item.lon_micro,
            text: place,
        },
        notes,
    };
    let from = FromDevice {
        seq,
        issued_at,
        device: serde_json::json!({
            "device": device.id, "counter": item.counter, "kid": device.kid,
            "issued_at": to_micros(issued_at), "received_at": to_micros(now),
            "accuracy_m": item.accuracy_m, "item_hash": hash,
        }),
    };
    let c = match challans::issue_with(tx, &officer, &new, now, Some(&from)) {
        Ok(c) => c,
        Err(StoreError::Invalid { field, message }) => {
            return Ok(Err(Refusal::Invalid(format!("{field}: {message}"))))
        }
        Err(StoreError::Forbidden(m)) => return Ok(Err(Refusal::Invalid(m))),
        Err(e) => return Err(e),
    };
    if let Err(f) = payload.check_challan(&c) {
        return Err(StoreError::Corrupt(format!(
            "device challan {} differs from its token in {f}",
            c.number
        )));
    }
    tx.exec(
        "INSERT INTO device_challans (device_id, counter, challan_number, item_hash, issued_at,
            received_at, accuracy_m) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        params![
            device.id.as_str(),
            i64::from(item.counter),
            c.number.to_string(),
            hash,
            to_micros(issued_at),
            to_micros(now),
            item.accuracy_m
        ],
    )?;
    for (n, p) in decoded.iter().enumerate() {
        let mut id = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut id);
        tx.exec(
            "INSERT INTO challan_photos (id, challan_number, n, content_type, sha256,
                data_base64, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            params![
                hex::encode(id),
                c.number.to_string(),
                n as i64,
                p.content_type.as_str(),
                item.photos[n].as_str(),
                p.data_base64.as_str(),
                to_micros(now)
            ],
        )?;
    }
    tx.exec(
        "UPDATE devices SET last_counter = $1 WHERE id = $2 AND last_counter < $1",
        params![i64::from(item.counter), device.id.as_str()],
    )?;
    Ok(Ok(Outcome::Accepted {
        number: c.number,
        psid: c.psid,
    }))
}

/// Where a device-issued challan came from: the device, and when it was issued and received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    pub device: String,
    pub officer: String,
    pub counter: u32,
    pub issued_at: OffsetDateTime,
    pub received_at: OffsetDateTime,
    pub accuracy_m: Option<i64>,
}

pub fn provenance(
    tx: &mut dyn Tx,
    number: &ChallanNumber,
) -> Result<Option<Provenance>, StoreError> {
    tx.query_opt(
        "SELECT d.id, d.officer, c.counter, c.issued_at, c.received_at, c.accuracy_m
         FROM device_challans c JOIN devices d ON d.id = c.device_id
         WHERE c.challan_number = $1",
        params![number.to_string()],
    )?
    .map(|r| {
        Ok(Provenance {
            device: r.text(0)?,
            officer: r.text(1)?,
            counter: u32::try_from(r.i64(2)?)
                .map_err(|_| StoreError::Corrupt("device counter".into()))?,
            issued_at: from_micros(r.i64(3)?),
            received_at: from_micros(r.i64(4)?),
            accuracy_m: r.opt_i64(5)?,
        })
    })
    .transpose()
}

/// A challan's photos: (unguessable id, content type), in order.
pub fn photos_of(
    tx: &mut dyn Tx,
    number: &ChallanNumber,
) -> Result<Vec<(String, String)>, StoreError> {
    tx.query(
        "SELECT id, content_type FROM challan_photos WHERE challan_number = $1 ORDER BY n",
        params![number.to_string()],
    )?
    .iter()
    .map(|r| Ok((r.text(0)?, r.text(1)?)))
    .collect()
}

/// One photo by its id: (content type, bytes).
pub fn photo(tx: &mut dyn Tx, id: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    tx.query_opt(
        "SELECT content_type, data_base64 FROM challan_photos WHERE id = $1",
        params![id],
    )?
    .map(|r| {
        let bytes = STANDARD
            .decode(r.text(1)?.as_bytes())
            .map_err(|_| StoreError::Corrupt("photo is not base64".into()))?;
        Ok((r.text(0)?, bytes))
    })
    .transpose()
}

/// Something about a device's challans a supervisor should look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anomaly {
    /// Counters below the device's highest that never arrived: (first, last).
    Gap {
        device: String,
        officer: String,
        first: u32,
        last: u32,
    },
    /// A challan synced more than `efine_core::device::LONG_DELAY` after it was issued.
    LongDelay {
        device: String,
        officer: String,
        number: String,
        hours: i64,
    },
}

/// The anomalies of the devices in `scope` (gaps, and the newest long delays).
pub fn anomalies(
    tx: &mut dyn Tx,
    department: Option<&DepartmentCode>,
    district: Option<&DistrictCode>,
) -> Result<Vec<Anomaly>, StoreError> {
    let rows = tx.query(
        "SELECT d.id, d.officer, c.counter, c.challan_number, c.issued_at, c.received_at
         FROM device_challans c JOIN devices d ON d.id = c.device_id
         WHERE ($1 = '' OR d.department = $1) AND ($2 = '' OR d.district = $2)
         ORDER BY d.id, c.counter",
        params![
            department.map_or("", |d| d.as_str()),
            district.map_or("", |d| d.as_str())
        ],
    )?;
    let mut out = Vec::new();
    let mut per: std::collections::BTreeMap<String, (String, Vec<u32>)> = Default::default();
    for r in &rows {
        let (id, officer) = (r.text(0)?, r.text(1)?);
        let counter =
            u32::try_from(r.i64(2)?).map_err(|_| StoreError::Corrupt("device counter".into()))?;
        let delay = from_micros(r.i64(5)?) - from_micros(r.i64(4)?);
        if delay > device::LONG_DELAY {
            out.push(Anomaly::LongDelay {
                device: id.clone(),
                officer: officer.clone(),
                number: r.text(3)?,
                hours: delay.whole_hours(),
            });
        }
        per.entry(id)
            .or_insert_with(|| (officer, Vec::new()))
            .1
            .push(counter);
    }
    for (id, (officer, counters)) in per {
        for (first, last) in device::counter_gaps(&counters) {
            out.push(Anomaly::Gap {
                device: id.clone(),
                officer: officer.clone(),
                first,
                last,
            });
        }
    }
    Ok(out)
}
