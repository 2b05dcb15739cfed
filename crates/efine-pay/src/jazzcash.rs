//! JazzCash hosted checkout: the `pp_` fields we send the payer's browser with, and the signed
//! fields JazzCash posts back to our return URL.
//!
//! `pp_SecureHash`: every field whose name starts with `pp` except `pp_SecureHash`, sorted by
//! name (ASCII), empty values dropped, values joined with `&`, the integrity salt and `&` in
//! front; HMAC-SHA256 keyed with the integrity salt; hex. Compared case-insensitively, in constant
//! time.

use crate::RailOutcome;
use efine_core::Money;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::BTreeMap;

pub type Fields = BTreeMap<String, String>;

/// A merchant account's credentials (from `EFINE_JAZZCASH_*`).
#[derive(Clone)]
pub struct Merchant {
    pub merchant_id: String,
    pub password: String,
    pub integrity_salt: String,
}

impl std::fmt::Debug for Merchant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Merchant")
            .field("merchant_id", &self.merchant_id)
            .finish_non_exhaustive()
    }
}

fn mac(salt: &str, fields: &Fields) -> Hmac<Sha256> {
    let mut message = String::from(salt);
    for (k, v) in fields {
        if k.starts_with("pp") && k != "pp_SecureHash" && !v.is_empty() {
            message.push('&');
            message.push_str(v);
        }
    }
    let mut m = Hmac::<Sha256>::new_from_slice(salt.as_bytes()).expect("HMAC takes any key length");
    m.update(message.as_bytes());
    m
}

/// The `pp_SecureHash` of a set of fields, upper-case hex.
pub fn secure_hash(salt: &str, fields: &Fields) -> String {
    hex::encode_upper(mac(salt, fields).finalize().into_bytes())
}

/// Whether `pp_SecureHash` in `fields` is the hash of the other fields. Constant time.
pub fn verify(salt: &str, fields: &Fields) -> bool {
    let Some(given) = fields.get("pp_SecureHash") else {
        return false;
    };
    let Ok(bytes) = hex::decode(given.trim()) else {
        return false;
    };
    mac(salt, fields).verify_slice(&bytes).is_ok()
}

fn stamp(t: time::PrimitiveDateTime) -> String {
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// What to ask JazzCash for.
#[derive(Debug, Clone)]
pub struct Checkout<'a> {
    /// Our attempt reference (`pp_TxnRefNo`), unique per attempt.
    pub reference: &'a str,
    pub amount: Money,
    /// The challan number (`pp_BillReference`).
    pub bill_reference: &'a str,
    pub description: &'a str,
    pub return_url: &'a str,
    /// Local (Asia/Karachi) time of the request.
    pub at_local: time::PrimitiveDateTime,
    /// How long the payer has to complete it.
    pub valid_for: time::Duration,
    /// Goes in `ppmpf_1`: the PSID, for JazzCash's own records.
    pub psid: &'a str,
}

/// The signed fields to post to JazzCash's hosted form.
pub fn checkout_fields(m: &Merchant, c: &Checkout<'_>) -> Fields {
    let mut f = Fields::new();
    let mut put = |k: &str, v: &str| {
        f.insert(k.to_string(), v.to_string());
    };
    put("pp_Version", "1.1");
    put("pp_TxnType", "MWALLET");
    put("pp_Language", "EN");
    put("pp_MerchantID", &m.merchant_id);
    put("pp_SubMerchantID", "");
    put("pp_Password", &m.password);
    put("pp_BankID", "");
    put("pp_ProductID", "");
    put("pp_TxnRefNo", c.reference);
    put("pp_Amount", &c.amount.paisa().to_string());
    put("pp_TxnCurrency", "PKR");
    put("pp_TxnDateTime", &stamp(c.at_local));
    put("pp_TxnExpiryDateTime", &stamp(c.at_local + c.valid_for));
    put("pp_BillReference", c.bill_reference);
    put("pp_Description", c.description);
    put("pp_ReturnURL", c.return_url);
    put("ppmpf_1", c.psid);
    let hash = secure_hash(&m.integrity_salt, &f);
    f.insert("pp_SecureHash".into(), hash);
    f
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnError {
    #[error("pp_SecureHash does not match the fields")]
    BadSignature,
    #[error("pp_MerchantID is not ours")]
    WrongMerchant,
    #[error("{0} is missing or malformed")]
    Field(&'static str),
}

/// A return (or IPN) message whose signature holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnMessage {
    pub reference: String,
    pub bill_reference: String,
    pub amount: Money,
    pub response_code: String,
    pub response_message: String,
    pub outcome: RailOutcome,
}

/// Verifies and reads what JazzCash posted back. The caller still checks the reference and amount
/// against the attempt it created.
pub fn parse_return(m: &Merchant, fields: &Fields) -> Result<ReturnMessage, ReturnError> {
    if !verify(&m.integrity_salt, fields) {
        return Err(ReturnError::BadSignature);
    }
    let get = |k: &'static str| fields.get(k).map(|v| v.trim().to_string());
    if get("pp_MerchantID").as_deref() != Some(m.merchant_id.as_str()) {
        return Err(ReturnError::WrongMerchant);
    }
    let reference = get("pp_TxnRefNo")
        .filter(|r| !r.is_empty())
        .ok_or(ReturnError::Field("pp_TxnRefNo"))?;
    let amount = get("pp_Amount")
        .and_then(|a| a.parse::<i64>().ok())
        .and_then(|p| Money::from_paisa(p).ok())
        .ok_or(ReturnError::Field("pp_Amount"))?;
    let code = get("pp_ResponseCode").ok_or(ReturnError::Field("pp_ResponseCode"))?;
    let message = get("pp_ResponseMessage").unwrap_or_default();
    let rrn = get("pp_RetreivalReferenceNo")
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| reference.clone());
    let outcome = match code.as_str() {
        "000" | "121" => RailOutcome::Confirmed {
            amount,
            rail_txn_id: rrn,
        },
        "124" | "157" => RailOutcome::Pending,
        _ => RailOutcome::Failed {
            reason: format!("{code} {message}").trim().to_string(),
        },
    };
    Ok(ReturnMessage {
        reference,
        bill_reference: get("pp_BillReference").unwrap_or_default(),
        amount,
        response_code: code,
        response_message: message,
        outcome,
    })
}

/// The status inquiry's path under JazzCash's REST API base.
pub const INQUIRY_PATH: &str = "/ApplicationAPI/API/PaymentInquiry/Inquire";

/// A signed status inquiry for one of our references.
pub fn inquiry_request(m: &Merchant, reference: &str) -> Fields {
    let mut f = Fields::new();
    f.insert("pp_Version".into(), "1.1".into());
    f.insert("pp_TxnRefNo".into(), reference.into());
    f.insert("pp_MerchantID".into(), m.merchant_id.clone());
    f.insert("pp_Password".into(), m.password.clone());
    let hash = secure_hash(&m.integrity_salt, &f);
    f.insert("pp_SecureHash".into(), hash);
    f
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InquiryError {
    #[error("pp_SecureHash does not match the fields")]
    BadSignature,
    #[error("the inquiry was refused: {0}")]
    Refused(String),
    #[error("the answer is about another transaction")]
    WrongReference,
    #[error("{0} is missing or malformed")]
    Field(&'static str),
}

/// Reads JazzCash's signed answer to a status inquiry. `pp_ResponseCode` says whether the
/// inquiry itself worked; `pp_PaymentResponseCode` what happened to the payment. An inquiry that
/// did not work is an error, never a failed payment: the attempt stays open.
pub fn parse_inquiry(
    m: &Merchant,
    reference: &str,
    fields: &Fields,
) -> Result<RailOutcome, InquiryError> {
    if !verify(&m.integrity_salt, fields) {
        return Err(InquiryError::BadSignature);
    }
    let get = |k: &'static str| fields.get(k).map(|v| v.trim().to_string());
    let code = get("pp_ResponseCode").ok_or(InquiryError::Field("pp_ResponseCode"))?;
    if code != "000" {
        return Err(InquiryError::Refused(format!(
            "{code} {}",
            get("pp_ResponseMessage").unwrap_or_default()
        )));
    }
    if get("pp_TxnRefNo").as_deref() != Some(reference) {
        return Err(InquiryError::WrongReference);
    }
    let pay = get("pp_PaymentResponseCode").ok_or(InquiryError::Field("pp_PaymentResponseCode"))?;
    Ok(match pay.as_str() {
        "000" | "121" => {
            let amount = get("pp_Amount")
                .and_then(|a| a.parse::<i64>().ok())
                .and_then(|p| Money::from_paisa(p).ok())
                .ok_or(InquiryError::Field("pp_Amount"))?;
            let rrn = get("pp_RetreivalReferenceNo")
                .filter(|r| !r.is_empty())
                .ok_or(InquiryError::Field("pp_RetreivalReferenceNo"))?;
            RailOutcome::Confirmed {
                amount,
                rail_txn_id: rrn,
            }
        }
        "124" | "157" => RailOutcome::Pending,
        _ => RailOutcome::Failed {
            reason: format!(
                "{pay} {}",
                get("pp_PaymentResponseMessage").unwrap_or_default()
            )
            .trim()
            .to_string(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn merchant() -> Merchant {
        Merchant {
            merchant_id: "MC12345".into(),
            password: "pw".into(),
            integrity_salt: "salt123".into(),
        }
    }

    #[test]
    fn hash_is_over_sorted_non_empty_pp_values() {
        let mut f = Fields::new();
        f.insert("pp_B".into(), "2".into());
        f.insert("pp_A".into(), "1".into());
        f.insert("pp_C".into(), "".into());
        f.insert("ppmpf_1".into(), "x".into());
        f.insert("other".into(), "ignored".into());
        // Sorted by name: pp_A, pp_B, ppmpf_1 ("pp_" sorts before "ppm").
        let mut m = Hmac::<Sha256>::new_from_slice(b"salt123").unwrap();
        m.update(b"salt123&1&2&x");
        assert_eq!(
            secure_hash("salt123", &f),
            hex::encode_upper(m.finalize().into_bytes())
        );
    }

    #[test]
    fn checkout_fields_verify_and_tampering_fails() {
        let m = merchant();
        let f = checkout_fields(
            &m,
            &Checkout {
                reference: "T1",
                amount: Money::from_rupees(500).unwrap(),
                bill_reference: "TRF-PSH-2026-000001",
                description: "Challan",
                return_url: "http://x/payments/jazzcash/return",
                at_local: datetime!(2026-11-24 10:00),
                valid_for: time::Duration::hours(1),
                psid: "2601380000000013",
            },
        );
        assert_eq!(f["pp_Amount"], "50000");
        assert_eq!(f["pp_TxnExpiryDateTime"], "20261124110000");
        assert!(verify(&m.integrity_salt, &f));
        let mut lower = f.clone();
        let h = lower["pp_SecureHash"].to_lowercase();
        lower.insert("pp_SecureHash".into(), h);
        assert!(
            verify(&m.integrity_salt, &lower),
            "hash compare is case-insensitive"
        );
        let mut t = f.clone();
        t.insert("pp_Amount".into(), "100".into());
        assert!(!verify(&m.integrity_salt, &t));
        assert!(!verify("other-salt", &f));
    }

    #[test]
    fn inquiry_round_trip_and_tampering() {
        let m = merchant();
        let req = inquiry_request(&m, "EF1");
        assert!(verify(&m.integrity_salt, &req));
        let known = Some((
            crate::sandbox::Choice::Success,
            Money::from_rupees(500).unwrap(),
            "RRN9".to_string(),
        ));
        let ans = crate::sandbox::jazzcash_inquiry(&m, &req, known.clone()).unwrap();
        assert_eq!(
            parse_inquiry(&m, "EF1", &ans),
            Ok(RailOutcome::Confirmed {
                amount: Money::from_rupees(500).unwrap(),
                rail_txn_id: "RRN9".into()
            })
        );
        assert_eq!(
            parse_inquiry(&m, "EF2", &ans),
            Err(InquiryError::WrongReference)
        );
        let mut t = ans.clone();
        t.insert("pp_Amount".into(), "1".into());
        assert_eq!(
            parse_inquiry(&m, "EF1", &t),
            Err(InquiryError::BadSignature)
        );
        let unknown = crate::sandbox::jazzcash_inquiry(&m, &req, None).unwrap();
        assert!(matches!(
            parse_inquiry(&m, "EF1", &unknown),
            Err(InquiryError::Refused(_))
        ));
        let pending = crate::sandbox::jazzcash_inquiry(
            &m,
            &req,
            Some((
                crate::sandbox::Choice::Pending,
                Money::from_rupees(500).unwrap(),
                String::new(),
            )),
        )
        .unwrap();
        assert_eq!(parse_inquiry(&m, "EF1", &pending), Ok(RailOutcome::Pending));
        let mut bad_req = req.clone();
        bad_req.insert("pp_Password".into(), "guess".into());
        assert!(crate::sandbox::jazzcash_inquiry(&m, &bad_req, known).is_err());
    }

    #[test]
    fn return_codes_map_to_outcomes() {
        let m = merchant();
        let mut f = Fields::new();
        for (k, v) in [
            ("pp_MerchantID", "MC12345"),
            ("pp_TxnRefNo", "T1"),
            ("pp_Amount", "50000"),
            ("pp_ResponseCode", "000"),
            ("pp_RetreivalReferenceNo", "RRN1"),
        ] {
            f.insert(k.into(), v.into());
        }
        let sign = |f: &mut Fields| {
            let h = secure_hash("salt123", f);
            f.insert("pp_SecureHash".into(), h);
        };
        let mut ok = f.clone();
        sign(&mut ok);
        assert!(matches!(
            parse_return(&m, &ok).unwrap().outcome,
            RailOutcome::Confirmed { ref rail_txn_id, .. } if rail_txn_id == "RRN1"
        ));
        let mut pending = f.clone();
        pending.insert("pp_ResponseCode".into(), "124".into());
        sign(&mut pending);
        assert_eq!(
            parse_return(&m, &pending).unwrap().outcome,
            RailOutcome::Pending
        );
        let mut failed = f.clone();
        failed.insert("pp_ResponseCode".into(), "199".into());
        sign(&mut failed);
        assert!(matches!(
            parse_return(&m, &failed).unwrap().outcome,
            RailOutcome::Failed { .. }
        ));
        let mut unsigned = f.clone();
        unsigned.insert("pp_SecureHash".into(), "00".into());
        assert_eq!(parse_return(&m, &unsigned), Err(ReturnError::BadSignature));
        let mut other = f;
        other.insert("pp_MerchantID".into(), "MC999".into());
        sign(&mut other);
        assert_eq!(parse_return(&m, &other), Err(ReturnError::WrongMerchant));
    }
}
