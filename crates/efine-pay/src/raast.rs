//! Raast, the State Bank of Pakistan's instant payment system: the dynamic merchant-presented QR
//! a payer's bank app scans, and the biller's bank's word that a payment arrived (a signed
//! notification, and a status inquiry for notifications that never came).
//!
//! The QR follows the Pakistan QR standard, which is EMVCo merchant-presented mode: fields of a
//! two-digit id, a two-digit length and the value, closed by a CRC-16/CCITT-FALSE. Which fields
//! follow the published specification and which are assumptions until onboarding with a bank is
//! written in `docs/payments.md`; in short, the QR layout is the standard's, the notification and
//! inquiry formats are this project's own (the bank's arrive with onboarding) and live here only.
//!
//! Notifications are signed like the card gateway's: `Efine-Raast-Signature: t=<unix>,v1=<hex>`,
//! HMAC-SHA256 of `<t>.<raw body>` with any current secret (rotation), within a tolerance.

use crate::card::{verify_signature, SignatureError};
use crate::RailOutcome;
use efine_core::Money;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::Date;

/// The header carrying a notification's signatures.
pub const SIGNATURE_HEADER: &str = "Efine-Raast-Signature";
/// Raast's application identifier in the merchant account template.
pub const RAAST_AID: &str = "A000000736";
/// The merchant account template Raast uses.
pub const ACCOUNT_TEMPLATE_ID: &str = "28";
/// Pakistani rupee, ISO 4217 numeric.
pub const CURRENCY_PKR: &str = "586";
/// The longest payload the standard allows.
pub const MAX_PAYLOAD: usize = 512;

/// The biller's Raast identity and its bank's connection (from `EFINE_RAAST_*`).
#[derive(Clone)]
pub struct Biller {
    /// The biller's IBAN as its bank issued it: `PK`, two check digits, 20 more characters.
    pub iban: String,
    /// At most 25 characters, printable ASCII (what bank apps display).
    pub name: String,
    /// At most 15 characters, printable ASCII.
    pub city: String,
    /// Merchant category code, 4 digits (`0000` where none is assigned).
    pub mcc: String,
    /// Notification signing secrets currently accepted (new and old during a rotation).
    pub notification_secrets: Vec<String>,
    pub tolerance_secs: i64,
}

impl std::fmt::Debug for Biller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Biller")
            .field("iban", &self.iban)
            .field("name", &self.name)
            .field("city", &self.city)
            .field("mcc", &self.mcc)
            .field("notification_secrets", &self.notification_secrets.len())
            .field("tolerance_secs", &self.tolerance_secs)
            .finish()
    }
}

/// Why a biller's settings or a QR could not be made or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    #[error("{field} is not valid: {why}")]
    Field {
        field: &'static str,
        why: &'static str,
    },
    #[error("the payload is {0} characters, more than the 512 allowed")]
    TooLong(usize),
    #[error("the payload is malformed at character {0}")]
    Malformed(usize),
    #[error("the CRC is {found}, the payload's is {computed}")]
    Crc { found: String, computed: String },
}

fn field(field: &'static str, why: &'static str) -> QrError {
    QrError::Field { field, why }
}

fn printable_ascii(s: &str) -> bool {
    s.bytes().all(|b| (0x20..0x7f).contains(&b))
}

impl Biller {
    /// Checks the settings once, at start-up, so a QR can never be refused later for them.
    pub fn validate(&self) -> Result<(), QrError> {
        validate_iban(&self.iban)?;
        if self.name.trim().is_empty() || self.name.len() > 25 || !printable_ascii(&self.name) {
            return Err(field("name", "1 to 25 printable ASCII characters"));
        }
        if self.city.trim().is_empty() || self.city.len() > 15 || !printable_ascii(&self.city) {
            return Err(field("city", "1 to 15 printable ASCII characters"));
        }
        if self.mcc.len() != 4 || !self.mcc.bytes().all(|b| b.is_ascii_digit()) {
            return Err(field("mcc", "4 digits"));
        }
        Ok(())
    }
}

/// A Pakistani IBAN: `PK`, 2 check digits, a 4-letter bank code and 16 digits, with a valid
/// ISO 13616 checksum (mod 97 = 1).
pub fn validate_iban(iban: &str) -> Result<(), QrError> {
    let b = iban.as_bytes();
    let shape = b.len() == 24
        && iban.starts_with("PK")
        && b[2..4].iter().all(u8::is_ascii_digit)
        && b[4..8].iter().all(u8::is_ascii_uppercase)
        && b[8..].iter().all(u8::is_ascii_digit);
    if !shape {
        return Err(field(
            "iban",
            "PK, 2 check digits, a 4-letter bank code and 16 digits",
        ));
    }
    // Move the first four characters to the end, letters as 10..35, then mod 97.
    let mut rem: u32 = 0;
    for &c in b[4..].iter().chain(&b[..4]) {
        let v = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A') + 10
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    if rem != 1 {
        return Err(field("iban", "the check digits do not match"));
    }
    Ok(())
}

/// CRC-16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, no reflection, no final XOR.
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &byte in data {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

fn tlv(out: &mut String, id: &str, value: &str) -> Result<(), QrError> {
    if value.len() > 99 {
        return Err(field("tlv", "a value longer than 99 characters"));
    }
    out.push_str(id);
    out.push_str(&format!("{:02}", value.len()));
    out.push_str(value);
    Ok(())
}

/// Rupees with two decimals, as field 54 wants them: 120000 paisa is `1200.00`.
pub fn amount_text(m: Money) -> String {
    format!("{}.{:02}", m.paisa() / 100, m.paisa() % 100)
}

fn parse_amount(s: &str) -> Option<Money> {
    let (whole, frac) = s.split_once('.')?;
    if whole.is_empty()
        || frac.len() != 2
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let paisa = whole.parse::<i64>().ok()?.checked_mul(100)? + frac.parse::<i64>().ok()?;
    Money::from_paisa(paisa).ok()
}

/// One payable item as its QR presents it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bill {
    /// The PSID: what the biller's bank reports back as the bill reference.
    pub psid: String,
    /// The amount due today (the QR is dynamic: one fixed amount).
    pub amount: Money,
    /// The due date and the amount after it, where the item has them (Pakistani billers' QRs
    /// carry both in field 62).
    pub due: Option<(Date, Money)>,
    /// A short label the payer's app shows, e.g. the challan number (at most 25 characters).
    pub label: Option<String>,
}

/// The QR's payload for `bill`, CRC included.
pub fn encode(biller: &Biller, bill: &Bill) -> Result<String, QrError> {
    if bill.psid.is_empty()
        || bill.psid.len() > 25
        || !bill.psid.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(field("psid", "1 to 25 digits"));
    }
    if bill.amount.paisa() <= 0 {
        return Err(field("amount", "more than zero"));
    }
    let mut account = String::new();
    tlv(&mut account, "00", RAAST_AID)?;
    tlv(&mut account, "01", &biller.iban)?;
    let mut extra = String::new();
    tlv(&mut extra, "01", &bill.psid)?;
    if let Some(label) = &bill.label {
        if label.len() > 25 || !printable_ascii(label) {
            return Err(field("label", "at most 25 printable ASCII characters"));
        }
        tlv(&mut extra, "05", label)?;
    }
    if let Some((date, after)) = bill.due {
        let d = format!(
            "{:02}{:02}{:04}",
            date.day(),
            u8::from(date.month()),
            date.year()
        );
        tlv(&mut extra, "50", &d)?;
        tlv(&mut extra, "51", &amount_text(after))?;
    }
    let amount = amount_text(bill.amount);
    if amount.len() > 13 {
        return Err(field("amount", "at most 13 characters"));
    }
    let mut p = String::with_capacity(200);
    tlv(&mut p, "00", "01")?;
    tlv(&mut p, "01", "12")?;
    tlv(&mut p, ACCOUNT_TEMPLATE_ID, &account)?;
    tlv(&mut p, "52", &biller.mcc)?;
    tlv(&mut p, "53", CURRENCY_PKR)?;
    tlv(&mut p, "54", &amount)?;
    tlv(&mut p, "58", "PK")?;
    tlv(&mut p, "59", &biller.name)?;
    tlv(&mut p, "60", &biller.city)?;
    tlv(&mut p, "62", &extra)?;
    p.push_str("6304");
    let crc = crc16(p.as_bytes());
    p.push_str(&format!("{crc:04X}"));
    if p.len() > MAX_PAYLOAD {
        return Err(QrError::TooLong(p.len()));
    }
    Ok(p)
}

/// Splits a TLV string into its fields, in order. `offset` is where `s` starts in the payload
/// (for error positions).
pub fn fields(s: &str, offset: usize) -> Result<Vec<(String, String)>, QrError> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let head = b.get(i..i + 4).ok_or(QrError::Malformed(offset + i))?;
        if !head.iter().all(u8::is_ascii_digit) {
            return Err(QrError::Malformed(offset + i));
        }
        let id = std::str::from_utf8(&head[..2]).map_err(|_| QrError::Malformed(offset + i))?;
        let len: usize = std::str::from_utf8(&head[2..])
            .ok()
            .and_then(|l| l.parse().ok())
            .ok_or(QrError::Malformed(offset + i))?;
        let value = s
            .get(i + 4..i + 4 + len)
            .ok_or(QrError::Malformed(offset + i))?;
        out.push((id.to_string(), value.to_string()));
        i += 4 + len;
    }
    Ok(out)
}

/// A QR read back: every top-level field and the sub-fields of the account template and of the
/// additional data, the CRC checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub fields: BTreeMap<String, String>,
    pub account: BTreeMap<String, String>,
    pub extra: BTreeMap<String, String>,
}

impl Decoded {
    pub fn psid(&self) -> Option<&str> {
        self.extra.get("01").map(String::as_str)
    }
    pub fn amount(&self) -> Option<Money> {
        self.fields.get("54").and_then(|a| parse_amount(a))
    }
    pub fn iban(&self) -> Option<&str> {
        self.account.get("01").map(String::as_str)
    }
}

/// Reads a payload: structure, CRC (last field, over everything before its value), and the
/// sub-fields of `28` and `62`.
pub fn decode(payload: &str) -> Result<Decoded, QrError> {
    if payload.len() > MAX_PAYLOAD {
        return Err(QrError::TooLong(payload.len()));
    }
    let top = fields(payload, 0)?;
    let Some((last_id, crc_found)) = top.last() else {
        return Err(QrError::Malformed(0));
    };
    if last_id != "63" || crc_found.len() != 4 {
        return Err(field("63", "the payload does not end with a 4-digit CRC"));
    }
    let signed = &payload[..payload.len() - 4];
    let computed = format!("{:04X}", crc16(signed.as_bytes()));
    if !computed.eq_ignore_ascii_case(crc_found) {
        return Err(QrError::Crc {
            found: crc_found.clone(),
            computed,
        });
    }
    let mut map = BTreeMap::new();
    for (id, v) in &top {
        if map.insert(id.clone(), v.clone()).is_some() {
            return Err(field("tlv", "a field appears twice"));
        }
    }
    let sub = |id: &str| -> Result<BTreeMap<String, String>, QrError> {
        match map.get(id) {
            Some(v) => Ok(fields(v, 0)?.into_iter().collect()),
            None => Ok(BTreeMap::new()),
        }
    };
    Ok(Decoded {
        account: sub(ACCOUNT_TEMPLATE_ID)?,
        extra: sub("62")?,
        fields: map,
    })
}

// ----- the biller's bank: notification and inquiry -----

/// A payment as the biller's bank reports it, in a notification or an inquiry's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentReport {
    /// Raast's own transaction id (unique per payment): what makes a repeat a repeat.
    pub raast_txn_id: String,
    /// Field 62-01 of the QR the payer scanned: the PSID.
    pub bill_reference: String,
    pub amount_paisa: i64,
    pub currency: String,
    /// When the payer's bank executed the payment (RFC 3339).
    pub paid_at: String,
    /// The payer's bank, as the biller's bank names it (e.g. `MEZN`).
    #[serde(default)]
    pub payer_bank: Option<String>,
    /// `credited` (money is in the biller's account) or `returned` (the bank sent it back).
    pub status: String,
}

/// The notification body: one event about one payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationBody {
    /// The event's id: the same event delivered again has the same id.
    pub id: String,
    pub payment: PaymentReport,
}

/// The answer to `GET {api_base}/bills/{psid}/payments`: every payment the bank holds for the
/// bill reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InquiryAnswer {
    pub bill_reference: String,
    pub payments: Vec<PaymentReport>,
}

/// A report that makes sense: the money, the PSID it names, when, and what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub raast_txn_id: String,
    pub psid: String,
    pub amount: Money,
    pub paid_at: time::OffsetDateTime,
    pub payer_bank: Option<String>,
    pub outcome: RailOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error("the message is not valid JSON of the expected shape: {0}")]
    Body(String),
    #[error("{0} is missing or malformed")]
    Field(&'static str),
}

/// Checks one payment report's fields.
pub fn read_report(r: &PaymentReport) -> Result<Payment, ReportError> {
    let txn = r.raast_txn_id.trim();
    if txn.is_empty() || txn.len() > 64 || !printable_ascii(txn) {
        return Err(ReportError::Field("raast_txn_id"));
    }
    let psid = r.bill_reference.trim();
    if psid.is_empty() || psid.len() > 25 || !psid.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ReportError::Field("bill_reference"));
    }
    if r.currency != "PKR" {
        return Err(ReportError::Field("currency"));
    }
    let amount = Money::from_paisa(r.amount_paisa)
        .ok()
        .filter(|m| m.paisa() > 0)
        .ok_or(ReportError::Field("amount_paisa"))?;
    let paid_at =
        time::OffsetDateTime::parse(&r.paid_at, &time::format_description::well_known::Rfc3339)
            .map_err(|_| ReportError::Field("paid_at"))?;
    let payer_bank = r
        .payer_bank
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(|b| {
            if b.len() <= 16 && printable_ascii(b) {
                Ok(b.to_string())
            } else {
                Err(ReportError::Field("payer_bank"))
            }
        })
        .transpose()?;
    let outcome = match r.status.as_str() {
        "credited" => RailOutcome::Confirmed {
            amount,
            rail_txn_id: txn.to_string(),
        },
        "returned" => RailOutcome::Failed {
            reason: format!("Raast payment {txn} was returned by the bank"),
        },
        _ => return Err(ReportError::Field("status")),
    };
    Ok(Payment {
        raast_txn_id: txn.to_string(),
        psid: psid.to_string(),
        amount,
        paid_at,
        payer_bank,
        outcome,
    })
}

/// Verifies a notification (raw body, the [`SIGNATURE_HEADER`] value, our clock in unix
/// seconds) with the biller's current secrets and tolerance, then reads it. Returns the event id
/// and the payment.
pub fn verify_notification(
    b: &Biller,
    body: &[u8],
    header: Option<&str>,
    now: i64,
) -> Result<(String, Payment), ReportError> {
    verify_signature(&b.notification_secrets, body, header, now, b.tolerance_secs)?;
    let n: NotificationBody =
        serde_json::from_slice(body).map_err(|e| ReportError::Body(e.to_string()))?;
    let id = n.id.trim();
    if id.is_empty() || id.len() > 64 || !printable_ascii(id) {
        return Err(ReportError::Field("id"));
    }
    Ok((id.to_string(), read_report(&n.payment)?))
}

/// Reads an inquiry's answer for `psid`: every report must name that PSID.
pub fn read_inquiry(psid: &str, body: &[u8]) -> Result<Vec<Payment>, ReportError> {
    let a: InquiryAnswer =
        serde_json::from_slice(body).map_err(|e| ReportError::Body(e.to_string()))?;
    if a.bill_reference != psid {
        return Err(ReportError::Field("bill_reference"));
    }
    a.payments
        .iter()
        .map(|r| {
            let p = read_report(r)?;
            if p.psid != psid {
                return Err(ReportError::Field("payments.bill_reference"));
            }
            Ok(p)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn biller() -> Biller {
        Biller {
            iban: "PK36SCBL0000001123456702".into(),
            name: "GOVT OF KP E-FINE".into(),
            city: "PESHAWAR".into(),
            mcc: "9399".into(),
            notification_secrets: vec!["raast-secret".into()],
            tolerance_secs: 300,
        }
    }

    #[test]
    fn crc_matches_the_standard_check_value() {
        // CRC-16/CCITT-FALSE's published check value for "123456789".
        assert_eq!(crc16(b"123456789"), 0x29B1);
    }

    #[test]
    fn iban_checksum() {
        assert!(validate_iban("PK36SCBL0000001123456702").is_ok());
        assert!(validate_iban("PK37SCBL0000001123456702").is_err());
        assert!(validate_iban("PK36SCBL000000112345670").is_err());
        assert!(validate_iban("GB36SCBL0000001123456702").is_err());
    }

    #[test]
    fn encodes_every_field_and_reads_back() {
        let bill = Bill {
            psid: "10261000000810".into(),
            amount: Money::from_rupees(1200).unwrap(),
            due: Some((
                Date::from_calendar_date(2026, time::Month::December, 15).unwrap(),
                Money::from_rupees(2400).unwrap(),
            )),
            label: Some("TRF-PSH-2026-000081".into()),
        };
        let p = encode(&biller(), &bill).unwrap();
        assert!(p.starts_with("000201010212"), "{p}");
        assert!(p.contains("5303586"), "{p}");
        assert!(p.contains("54071200.00"), "{p}");
        assert!(p.contains("5802PK"), "{p}");
        let d = decode(&p).unwrap();
        assert_eq!(d.fields["00"], "01");
        assert_eq!(d.fields["01"], "12");
        assert_eq!(d.account["00"], RAAST_AID);
        assert_eq!(d.iban(), Some("PK36SCBL0000001123456702"));
        assert_eq!(d.fields["52"], "9399");
        assert_eq!(d.fields["59"], "GOVT OF KP E-FINE");
        assert_eq!(d.fields["60"], "PESHAWAR");
        assert_eq!(d.psid(), Some("10261000000810"));
        assert_eq!(d.amount(), Some(Money::from_rupees(1200).unwrap()));
        assert_eq!(d.extra["05"], "TRF-PSH-2026-000081");
        assert_eq!(d.extra["50"], "15122026");
        assert_eq!(d.extra["51"], "2400.00");
        assert_eq!(d.fields["63"].len(), 4);
    }

    #[test]
    fn one_changed_character_fails_the_crc() {
        let bill = Bill {
            psid: "10261000000810".into(),
            amount: Money::from_paisa(50_050).unwrap(),
            due: None,
            label: None,
        };
        let p = encode(&biller(), &bill).unwrap();
        assert!(p.contains("5406500.50"), "{p}");
        let tampered = p.replacen("500.50", "100.50", 1);
        assert!(matches!(decode(&tampered), Err(QrError::Crc { .. })));
    }

    #[test]
    fn refuses_what_a_bank_app_would_refuse() {
        let mut b = biller();
        b.name = "A NAME THAT IS FAR TOO LONG FOR ANY APP".into();
        assert!(b.validate().is_err());
        let bill = Bill {
            psid: "12ab".into(),
            amount: Money::from_rupees(1).unwrap(),
            due: None,
            label: None,
        };
        assert!(encode(&biller(), &bill).is_err());
    }

    #[test]
    fn notification_signature_and_fields() {
        let body = serde_json::to_vec(&NotificationBody {
            id: "evt-1".into(),
            payment: PaymentReport {
                raast_txn_id: "RST20261201000001".into(),
                bill_reference: "10261000000810".into(),
                amount_paisa: 120_000,
                currency: "PKR".into(),
                paid_at: "2026-12-01T10:42:00+05:00".into(),
                payer_bank: Some("MEZN".into()),
                status: "credited".into(),
            },
        })
        .unwrap();
        let now = 1_800_000_000;
        let sig = crate::card::sign("raast-secret", now, &body);
        let header = crate::card::signature_header(now, &[sig]);
        let (id, p) = verify_notification(&biller(), &body, Some(&header), now).unwrap();
        assert_eq!(id, "evt-1");
        assert_eq!(p.psid, "10261000000810");
        assert_eq!(
            p.outcome,
            RailOutcome::Confirmed {
                amount: Money::from_rupees(1200).unwrap(),
                rail_txn_id: "RST20261201000001".into()
            }
        );
        let mut altered = body.clone();
        let i = altered.iter().position(|&b| b == b'1').unwrap();
        altered[i] = b'2';
        assert!(verify_notification(&biller(), &altered, Some(&header), now).is_err());
        assert!(verify_notification(&biller(), &body, None, now).is_err());
    }
}
