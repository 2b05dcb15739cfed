//! Officers' enrolled devices: the challan numbers a device allocates itself with no network,
//! what it signs, and the rules a synced challan must meet.
//!
//! **Numbering.** A challan number is `DEP-DIS-YEAR-SEQ` wherever it is issued. The server's own
//! sequences stay below [`DEVICE_SEQ_BASE`] (900,000,000); a device's numbers are
//! `9 SSS CCCCC`: the device's slot (1 to 999, unique within its department and district, given
//! at enrolment) and the device's counter (1 to 99,999, rising by one with every challan the
//! device issues, never reused). So `TRF-PSH-2026-900700042` is device 7 of traffic police in
//! Peshawar, its 42nd challan. Two devices, or a device and the server, can never allocate the
//! same number; the PSID follows from the number as for every challan (`Psid::for_challan`), so a
//! bank can take it as soon as the challan is synced; and a missing counter is a torn-up slip the
//! dashboard shows ([`counter_gaps`]). A device whose counter runs out is enrolled again (a new
//! slot).
//!
//! **Signing.** The device signs each challan twice with its own Ed25519 key (made in the phone,
//! never leaving it): the QR token, in exactly the format of [`crate::qr`] (its key id is the
//! device key's), so a verifier checks both kinds with the same rules; and the sync item, the
//! exact JSON text it sends, under [`ITEM_DOMAIN`] ([`verify_item`]). The server keeps the text's
//! hash, so the same item sent again is recognised and a different item under a used counter is
//! refused.

use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

/// The first sequence number that belongs to devices; the server's own numbers stay below it.
pub const DEVICE_SEQ_BASE: u64 = 900_000_000;
/// Slots per department and district.
pub const MAX_SLOT: u16 = 999;
/// Challans per device.
pub const MAX_COUNTER: u32 = 99_999;
/// A sync item's signature is over this followed by the item's JSON text.
pub const ITEM_DOMAIN: &[u8] = b"efine-device-item-v1\0";
/// How far ahead of the server's clock a device's issue time may be (phones' clocks drift).
pub const CLOCK_SLACK: Duration = Duration::minutes(10);
/// A challan synced this long after it was issued is flagged on the dashboard.
pub const LONG_DELAY: Duration = Duration::hours(48);

/// What a device signs and sends for one challan: the JSON text of this, exactly as signed.
/// Positions are micro-degrees and accuracy metres (whole numbers); the time is the phone's,
/// milliseconds since the epoch.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub counter: u32,
    pub number: String,
    pub issued_at_ms: i64,
    pub offence: String,
    pub amount_paisa: i64,
    #[serde(default)]
    pub vehicle: Option<String>,
    #[serde(default)]
    pub mobile: Option<String>,
    #[serde(default)]
    pub lat_micro: Option<i64>,
    #[serde(default)]
    pub lon_micro: Option<i64>,
    #[serde(default)]
    pub accuracy_m: Option<i64>,
    #[serde(default)]
    pub place: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
    /// SHA-256 (hex) of each photo sent with the item, in order; at most [`MAX_PHOTOS`].
    #[serde(default)]
    pub photos: Vec<String>,
    /// The QR token printed on the slip, signed by the device key.
    pub token: String,
}

/// Photos per challan.
pub const MAX_PHOTOS: usize = 3;

impl Item {
    /// Parses an item's text and checks what needs no database: the photo count and hashes'
    /// form, the position's range.
    pub fn parse(body: &str) -> Result<Item, Refusal> {
        let item: Item = serde_json::from_str(body)
            .map_err(|e| Refusal::Invalid(format!("the item cannot be read: {e}")))?;
        if item.photos.len() > MAX_PHOTOS {
            return Err(Refusal::Invalid(format!(
                "at most {MAX_PHOTOS} photos per challan"
            )));
        }
        if item
            .photos
            .iter()
            .any(|h| h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(Refusal::Invalid("a photo hash is 64 hex digits".into()));
        }
        let lat_ok = item
            .lat_micro
            .is_none_or(|v| (-90_000_000..=90_000_000).contains(&v));
        let lon_ok = item
            .lon_micro
            .is_none_or(|v| (-180_000_000..=180_000_000).contains(&v));
        if !lat_ok || !lon_ok || item.lat_micro.is_some() != item.lon_micro.is_some() {
            return Err(Refusal::Invalid("the position is out of range".into()));
        }
        Ok(item)
    }

    /// The issue time, to the millisecond.
    pub fn issued_at(&self) -> Result<OffsetDateTime, Refusal> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.issued_at_ms) * 1_000_000)
            .map_err(|_| Refusal::Invalid("the issue time is out of range".into()))
    }
}

/// Who may enrol and revoke officers' devices: an admin, or a department admin for the officers
/// of their own department.
pub fn may_manage(by: &crate::auth::Principal, department: &crate::DepartmentCode) -> bool {
    use crate::auth::Role;
    match by.role {
        Role::Admin => true,
        Role::DepartmentAdmin => by.department.as_ref() == Some(department),
        _ => false,
    }
}

/// The sequence part of the challan number a device allocates for its `counter`.
pub fn device_seq(slot: u16, counter: u32) -> Option<u64> {
    if slot == 0 || slot > MAX_SLOT || counter == 0 || counter > MAX_COUNTER {
        return None;
    }
    Some(DEVICE_SEQ_BASE + u64::from(slot) * 100_000 + u64::from(counter))
}

/// The slot and counter of a device-allocated sequence; `None` for the server's own numbers.
pub fn split_seq(seq: u64) -> Option<(u16, u32)> {
    if !(DEVICE_SEQ_BASE..1_000_000_000).contains(&seq) {
        return None;
    }
    let rest = seq - DEVICE_SEQ_BASE;
    let slot = u16::try_from(rest / 100_000).ok()?;
    let counter = u32::try_from(rest % 100_000).ok()?;
    device_seq(slot, counter).map(|_| (slot, counter))
}

/// The signed message of a sync item.
pub fn item_message(body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(ITEM_DOMAIN.len() + body.len());
    m.extend_from_slice(ITEM_DOMAIN);
    m.extend_from_slice(body);
    m
}

/// A vehicle check from the device (online, read-only) is signed over this and its JSON text
/// (`{"vehicle": ..., "at_ms": ...}`); the server takes it within [`CHECK_FRESH`] of its clock.
pub const CHECK_DOMAIN: &[u8] = b"efine-device-check-v1\0";
/// How old (or how far ahead) a signed vehicle check may be.
pub const CHECK_FRESH: Duration = Duration::minutes(5);

/// Checks a device's signature over a vehicle check's text.
pub fn verify_check(key: &VerifyingKey, body: &[u8], signature: &[u8]) -> Result<(), Refusal> {
    let sig: [u8; 64] = signature.try_into().map_err(|_| Refusal::BadSignature)?;
    let mut m = Vec::with_capacity(CHECK_DOMAIN.len() + body.len());
    m.extend_from_slice(CHECK_DOMAIN);
    m.extend_from_slice(body);
    key.verify_strict(&m, &Signature::from_bytes(&sig))
        .map_err(|_| Refusal::BadSignature)
}

/// SHA-256 of an item's text, hex: what recognises the same item sent again.
pub fn item_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// Checks a device's signature (64 bytes) over an item's text.
pub fn verify_item(key: &VerifyingKey, body: &[u8], signature: &[u8]) -> Result<(), Refusal> {
    let sig: [u8; 64] = signature.try_into().map_err(|_| Refusal::BadSignature)?;
    key.verify_strict(&item_message(body), &Signature::from_bytes(&sig))
        .map_err(|_| Refusal::BadSignature)
}

/// Why a synced item is refused. The text is shown on the officer's phone next to the challan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the item is not signed by this device's key")]
    BadSignature,
    #[error("the device was revoked before this challan was issued")]
    Revoked,
    #[error("issued before the device was enrolled")]
    BeforeEnrolment,
    #[error("the issue time is in the future")]
    InFuture,
    #[error("counter {0} is already used by another challan of this device")]
    CounterReused(u32),
    #[error("the challan number does not match the device and counter (expected {0})")]
    WrongNumber(String),
    #[error("the QR code does not match the challan: {0}")]
    TokenMismatch(String),
    #[error("{0}")]
    Invalid(String),
}

impl Refusal {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::BadSignature => "bad_signature",
            Refusal::Revoked => "revoked",
            Refusal::BeforeEnrolment => "before_enrolment",
            Refusal::InFuture => "in_future",
            Refusal::CounterReused(_) => "counter_reused",
            Refusal::WrongNumber(_) => "wrong_number",
            Refusal::TokenMismatch(_) => "token_mismatch",
            Refusal::Invalid(_) => "invalid",
        }
    }
}

/// Whether a challan the device says it issued at `issued_at` may be accepted: not before the
/// device was enrolled, not after it was revoked, not ahead of the server's clock (beyond
/// [`CLOCK_SLACK`]).
pub fn check_issue_time(
    issued_at: OffsetDateTime,
    valid_from: OffsetDateTime,
    revoked_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<(), Refusal> {
    if let Some(r) = revoked_at {
        if issued_at >= r {
            return Err(Refusal::Revoked);
        }
    }
    if issued_at + CLOCK_SLACK < valid_from {
        return Err(Refusal::BeforeEnrolment);
    }
    if issued_at > now + CLOCK_SLACK {
        return Err(Refusal::InFuture);
    }
    Ok(())
}

/// The missing counters below the highest one received: each run as (first, last). A challan
/// issued but never synced, or a slip torn up, shows here.
pub fn counter_gaps(received: &[u32]) -> Vec<(u32, u32)> {
    let mut sorted: Vec<u32> = received.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut gaps = Vec::new();
    let mut expect = 1u32;
    for c in sorted {
        if c > expect {
            gaps.push((expect, c - 1));
        }
        expect = c.saturating_add(1);
    }
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    #[test]
    fn device_numbers_never_meet_the_servers_or_each_other() {
        assert_eq!(device_seq(7, 42), Some(900_700_042));
        assert_eq!(split_seq(900_700_042), Some((7, 42)));
        assert_eq!(device_seq(999, 99_999), Some(999_999_999));
        assert_eq!(device_seq(0, 1), None);
        assert_eq!(device_seq(1, 0), None);
        assert_eq!(device_seq(1000, 1), None);
        assert_eq!(device_seq(1, 100_000), None);
        assert_eq!(split_seq(899_999_999), None);
        assert_eq!(split_seq(4219), None);
        assert_eq!(split_seq(900_000_001), None, "slot 0 is no device");
        assert_eq!(split_seq(900_100_000), None, "counter 0 is never issued");
        let n = crate::ChallanNumber::new(
            crate::code::Abbr::parse("TRF").unwrap(),
            crate::code::Abbr::parse("PSH").unwrap(),
            2026,
            device_seq(7, 42).unwrap(),
        );
        assert_eq!(n.to_string(), "TRF-PSH-2026-900700042");
        assert_eq!(
            crate::ChallanNumber::parse("trf psh 2026 900700042").unwrap(),
            n
        );
        let p = crate::Psid::for_challan(2026, 1, 38, 900_700_042);
        assert_eq!(&p.as_str()[..15], "260138900700042");
    }

    #[test]
    fn every_slot_and_counter_round_trips() {
        for slot in [1u16, 2, 500, 999] {
            for counter in [1u32, 9, 10, 99_999] {
                let s = device_seq(slot, counter).unwrap();
                assert_eq!(split_seq(s), Some((slot, counter)));
            }
        }
    }

    #[test]
    fn an_item_signature_covers_every_byte() {
        let key = SigningKey::from_bytes(&[5u8; 32]);
        let body = br#"{"counter":1,"number":"TRF-PSH-2026-900100001"}"#;
        let sig = key.sign(&item_message(body)).to_bytes();
        assert_eq!(verify_item(&key.verifying_key(), body, &sig), Ok(()));
        let mut other = body.to_vec();
        other[12] = b'2';
        assert_eq!(
            verify_item(&key.verifying_key(), &other, &sig),
            Err(Refusal::BadSignature)
        );
        let stranger = SigningKey::from_bytes(&[6u8; 32]);
        assert_eq!(
            verify_item(&stranger.verifying_key(), body, &sig),
            Err(Refusal::BadSignature)
        );
        assert_eq!(
            verify_item(&key.verifying_key(), body, &sig[..63]),
            Err(Refusal::BadSignature)
        );
    }

    #[test]
    fn issue_time_rules() {
        let t = |s: i64| OffsetDateTime::from_unix_timestamp(1_795_000_000 + s).unwrap();
        let from = t(0);
        let now = t(10_000);
        assert_eq!(check_issue_time(t(100), from, None, now), Ok(()));
        assert_eq!(
            check_issue_time(t(100), from, Some(t(200)), now),
            Ok(()),
            "issued before the revocation: still good"
        );
        assert_eq!(
            check_issue_time(t(200), from, Some(t(200)), now),
            Err(Refusal::Revoked)
        );
        assert_eq!(
            check_issue_time(t(-3600), from, None, now),
            Err(Refusal::BeforeEnrolment)
        );
        assert_eq!(
            check_issue_time(t(10_000 + 3600), from, None, now),
            Err(Refusal::InFuture)
        );
        assert_eq!(check_issue_time(t(10_000 + 60), from, None, now), Ok(()));
    }

    #[test]
    fn gaps_are_the_missing_runs() {
        assert_eq!(counter_gaps(&[]), vec![]);
        assert_eq!(counter_gaps(&[1, 2, 3]), vec![]);
        assert_eq!(counter_gaps(&[3, 1, 2, 2]), vec![]);
        assert_eq!(counter_gaps(&[2]), vec![(1, 1)]);
        assert_eq!(counter_gaps(&[1, 4, 5, 9]), vec![(2, 3), (6, 8)]);
    }
}
