//! The answer to a scanned QR code, and the published verification keys.

use super::*;
use efine_core::challan::Challan;
use efine_core::clock::karachi_date;
use serde::Serialize;
use time::Date;
use utoipa::ToSchema;

/// The answer of `/api/v1/public/verify/{qr_token}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationView {
    /// True only when the signature holds, the key is known, and the record exists and matches.
    pub genuine: bool,
    /// One sentence for people, e.g. "Genuine challan TRF-PSH-2026-004219: unpaid, Rs 500 due by
    /// 2026-12-09."
    pub summary: String,
    /// Why not genuine: `malformed`, `unknown_key`, `bad_signature`, `revoked_key`,
    /// `no_such_record`, `not_yet_synced` (signed by an officer's device, not synced yet) or
    /// `record_mismatch`.
    pub reason_code: Option<String>,
    pub reason: Option<String>,
    /// `challan` or `receipt`, when the signature held.
    pub kind: Option<String>,
    /// The challan or receipt number the token was signed for.
    pub number: Option<String>,
    /// The signing key (see `/.well-known/efine-keys.json`).
    pub key_id: Option<String>,
    /// Paisa, as signed (the challan's scheduled amount or the amount paid).
    pub signed_amount: Option<i64>,
    /// Issued or paid, as signed.
    pub signed_at: Option<String>,
    /// The record's current state, personal data masked.
    pub challan: Option<PublicChallanView>,
    /// Issued offline on an officer's device: the device, its officer and when it was synced.
    pub device: Option<DeviceOriginView>,
}

/// Where a challan issued offline came from.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceOriginView {
    /// `TRF-PSH-007`
    pub device: String,
    pub officer: String,
    /// The device's counter for this challan.
    pub counter: u32,
    /// When the device issued it (RFC 3339).
    pub issued_at: String,
    /// When the server received it (RFC 3339).
    pub synced_at: String,
}

impl From<&efine_store::ops::devices::Provenance> for DeviceOriginView {
    fn from(p: &efine_store::ops::devices::Provenance) -> Self {
        DeviceOriginView {
            device: p.device.clone(),
            officer: p.officer.clone(),
            counter: p.counter,
            issued_at: rfc3339(p.issued_at),
            synced_at: rfc3339(p.received_at),
        }
    }
}

impl VerificationView {
    pub fn new(v: crate::verify::Verdict, today: Date) -> Self {
        use crate::verify::Verdict;
        match v {
            Verdict::GenuineReceipt {
                key_id,
                payload,
                receipt,
                challan,
                names,
            } => {
                let summary = format!(
                    "Genuine receipt {}: {} paid on {} by {} for challan {}.",
                    receipt.number,
                    receipt.amount,
                    karachi_date(receipt.paid_at),
                    receipt.rail.label(),
                    receipt.challan_number
                );
                VerificationView {
                    genuine: true,
                    summary,
                    reason_code: None,
                    reason: None,
                    kind: Some(payload.kind.as_str().into()),
                    number: Some(payload.number),
                    key_id: Some(key_id.to_string()),
                    signed_amount: Some(payload.amount.paisa()),
                    signed_at: Some(rfc3339(payload.at)),
                    challan: Some(PublicChallanView::new(
                        *challan,
                        names,
                        Some(receipt),
                        today,
                    )),
                    device: None,
                }
            }
            Verdict::GenuineChallan {
                key_id,
                payload,
                challan,
                names,
                paid,
                device,
            } => {
                let mut summary = genuine_summary(&challan, paid.as_ref(), today);
                if let Some(d) = &device {
                    summary.push_str(&format!(
                        " Issued offline by device {}, officer {}, synced at {}.",
                        d.device,
                        d.officer,
                        rfc3339(d.received_at)
                    ));
                }
                VerificationView {
                    genuine: true,
                    summary,
                    reason_code: None,
                    reason: None,
                    kind: Some(payload.kind.as_str().into()),
                    number: Some(payload.number),
                    key_id: Some(key_id.to_string()),
                    signed_amount: Some(payload.amount.paisa()),
                    signed_at: Some(rfc3339(payload.at)),
                    challan: Some(PublicChallanView::new(*challan, names, paid, today)),
                    device: device.as_ref().map(Into::into),
                }
            }
            Verdict::NotGenuine {
                code,
                reason,
                payload,
            } => VerificationView {
                genuine: false,
                summary: format!("NOT GENUINE: {reason}."),
                reason_code: Some(code.into()),
                reason: Some(reason),
                kind: payload.as_ref().map(|(_, p)| p.kind.as_str().into()),
                number: payload.as_ref().map(|(_, p)| p.number.clone()),
                key_id: payload.as_ref().map(|(k, _)| k.to_string()),
                signed_amount: payload.as_ref().map(|(_, p)| p.amount.paisa()),
                signed_at: payload.as_ref().map(|(_, p)| rfc3339(p.at)),
                challan: None,
                device: None,
            },
        }
    }
}

fn genuine_summary(
    c: &Challan,
    paid: Option<&efine_store::ops::payments::Receipt>,
    today: Date,
) -> String {
    if let Some(r) = paid {
        return format!(
            "Genuine challan {}: paid on {} by {}, receipt {}.",
            c.number,
            karachi_date(r.paid_at),
            r.rail.label(),
            r.number
        );
    }
    use efine_core::ChallanStatus;
    let what = match c.kind {
        efine_core::OffenceKind::Fee => "fee voucher",
        _ => "challan",
    };
    match c.status {
        ChallanStatus::Unpaid => {
            let due = c.amount_due(today);
            let due_date = c.terms().effective_due_date();
            if c.adjustments.paused_since.is_some() {
                format!(
                    "Genuine {what} {}: unpaid, under appeal, {due} due.",
                    c.number
                )
            } else if today <= due_date {
                format!(
                    "Genuine {what} {}: unpaid, {due} due by {} ({} from the day after).",
                    c.number,
                    due_date,
                    after_due(c)
                )
            } else {
                format!(
                    "Genuine {what} {}: unpaid and overdue since {}, {due} due now.",
                    c.number, due_date
                )
            }
        }
        other => format!("Genuine {what} {}: {}.", c.number, other.as_str()),
    }
}

/// One verification key as published.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicKeyView {
    /// 8 hex digits: the first 4 bytes of SHA-256 of the public key.
    pub kid: String,
    /// `Ed25519`.
    pub alg: String,
    /// The 32-byte public key, base64url without padding.
    pub public_key: String,
    pub created_at: String,
    /// Signs new tokens; the others still verify the tokens they signed.
    pub active: bool,
    /// An officer's device key (`TRF-PSH-007`); absent for the server's keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// The device's officer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub officer: Option<String>,
    /// When the device was enrolled (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    /// When the device was revoked: what it signed for a later time is not genuine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

/// `/.well-known/efine-keys.json`: every key that verifies E-Fine QR tokens. Save it and run
/// `efine qr verify TOKEN --keys FILE` to check a token with no network.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeySetView {
    pub keys: Vec<PublicKeyView>,
}

impl From<&efine_store::keys::PublishedKeys> for KeySetView {
    fn from(p: &efine_store::keys::PublishedKeys) -> Self {
        KeySetView {
            keys: p
                .keys
                .iter()
                .map(|k| PublicKeyView {
                    kid: k.kid.clone(),
                    alg: k.alg.clone(),
                    public_key: k.public_key.clone(),
                    created_at: rfc3339(k.created_at),
                    active: k.active,
                    device: k.device.clone(),
                    officer: k.officer.clone(),
                    valid_from: k.valid_from.map(rfc3339),
                    revoked_at: k.revoked_at.map(rfc3339),
                })
                .collect(),
        }
    }
}

/// One published head of the event log: the last event's sequence and hash, signed.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogHeadView {
    /// The sequence number of the last event when the head was published.
    pub seq: i64,
    /// That event's hash, 64 hex digits.
    pub hash: String,
    /// When it was published (RFC 3339, to the second; the signature covers it).
    pub published_at: String,
    /// The key that signed it (`/.well-known/efine-keys.json`).
    pub kid: String,
    /// Ed25519, base64url without padding, over `efine-log-head-v1\0`, the sequence (8 bytes,
    /// big-endian), the hash (32 bytes) and the publication time (Unix seconds, 8 bytes,
    /// big-endian).
    pub signature: String,
}

impl From<efine_store::ops::log_heads::LogHead> for LogHeadView {
    fn from(h: efine_store::ops::log_heads::LogHead) -> Self {
        LogHeadView {
            seq: h.seq,
            hash: h.hash,
            published_at: rfc3339(h.published_at),
            kid: h.kid,
            signature: h.signature,
        }
    }
}

/// Every published head, oldest first. Save it: `efine audit verify --against FILE` later
/// proves the database still holds each of them, so a rewritten log is caught.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogHeadsView {
    pub heads: Vec<LogHeadView>,
    /// Where the keys that verify the signatures are published.
    pub keys: String,
}
