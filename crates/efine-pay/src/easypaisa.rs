//! Easypaisa (Easypay) hosted checkout: the fields the payer's browser posts to Easypaisa's
//! hosted page, the postback Easypaisa sends the browser back with, and the REST
//! `inquire-transaction` call that confirms it.
//!
//! The postback is not signed, so it is never trusted on its own: it only names the order to ask
//! about. Crediting happens only from the answer to `inquire-transaction`, sent with the store's
//! `Credentials` header ([`credentials_header`]) over TLS.
//!
//! `merchantHashedReq`: base64 of AES-128-ECB with PKCS#7 padding, keyed with the store's 16-byte
//! hash key, over `amount=..&orderRefNum=..&paymentMethod=..&postBackURL=..&storeId=..&timeStamp=..`
//! (see [`hashed_request_plaintext`]).

use crate::RailOutcome;
use aes::cipher::{generic_array::GenericArray, BlockEncrypt, KeyInit};
use aes::Aes128;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use efine_core::{Money, ParseError};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use subtle::ConstantTimeEq;

pub type Fields = BTreeMap<String, String>;

/// The REST path of the transaction inquiry, under the configured Easypaisa host.
pub const INQUIRE_PATH: &str = "/easypay-service/rest/v4/inquire-transaction";
/// The header carrying [`credentials_header`] on REST calls.
pub const CREDENTIALS_HEADER: &str = "Credentials";
/// `responseCode` of a REST call that succeeded.
pub const RESPONSE_OK: &str = "0000";

/// A store's AES-128 hash key: the configured string's bytes, exactly 16 of them.
#[derive(Clone, PartialEq, Eq)]
pub struct HashKey([u8; 16]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the Easypaisa hash key must be exactly 16 bytes (AES-128), got {0}")]
pub struct BadHashKey(pub usize);

impl HashKey {
    /// The key as configured (e.g. `EFINE_EASYPAISA_HASH_KEY`). Refused, rather than padded or cut
    /// as some integrations do, when it is not 16 bytes: a wrong key should fail at start-up, not
    /// at the first payment.
    pub fn new(configured: &str) -> Result<HashKey, BadHashKey> {
        let b = configured.as_bytes();
        <[u8; 16]>::try_from(b)
            .map(HashKey)
            .map_err(|_| BadHashKey(b.len()))
    }
}

impl std::fmt::Debug for HashKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HashKey(..)")
    }
}

/// A store's settings (from `EFINE_EASYPAISA_*`).
#[derive(Clone)]
pub struct Store {
    pub store_id: String,
    pub hash_key: HashKey,
    /// REST credentials, sent as `Credentials: base64(username:password)`.
    pub username: String,
    pub password: String,
    /// The store's own account number, sent as `accountNum` on inquiries where the store was
    /// given one.
    pub account_num: Option<String>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("store_id", &self.store_id)
            .finish_non_exhaustive()
    }
}

/// `Credentials` header value: `base64(username:password)`.
pub fn credentials_header(s: &Store) -> String {
    B64.encode(format!("{}:{}", s.username, s.password))
}

// ----- amounts -----

/// Rupees with two decimals, as Easypaisa writes amounts: 100_000 paisa is `"1000.00"`.
pub fn format_amount(m: Money) -> String {
    format!("{}.{:02}", m.paisa() / 100, m.paisa() % 100)
}

/// An Easypaisa amount: digits, optionally `.` and one or two digits (`1000`, `1000.5`,
/// `1000.50`). Exact: anything else (more decimals, signs, exponents, separators) is refused
/// rather than rounded.
pub fn parse_amount(s: &str) -> Result<Money, ParseError> {
    let bad = || ParseError::new(format!("'{s}' is not an amount with at most two decimals"));
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty()
        || whole.len() > 11
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || (s.contains('.') && frac.is_empty())
        || frac.len() > 2
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().map_err(|_| bad())? * 10,
        _ => frac.parse::<i64>().map_err(|_| bad())?,
    };
    Money::from_paisa(whole * 100 + frac)
}

// ----- hosted checkout -----

/// How the payer pays on the hosted page (`paymentMethod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentMethod {
    /// Easypaisa mobile account.
    MobileAccount,
    /// Over the counter at an Easypaisa shop: a voucher, paid later (pending until then).
    OverTheCounter,
    /// Debit or credit card.
    Card,
}

impl PaymentMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::MobileAccount => "MA_PAYMENT_METHOD",
            PaymentMethod::OverTheCounter => "OTC_PAYMENT_METHOD",
            PaymentMethod::Card => "CC_PAYMENT_METHOD",
        }
    }

    pub fn parse(s: &str) -> Option<PaymentMethod> {
        [
            PaymentMethod::MobileAccount,
            PaymentMethod::OverTheCounter,
            PaymentMethod::Card,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
    }
}

/// What to ask Easypaisa for.
#[derive(Debug, Clone)]
pub struct Checkout<'a> {
    /// Our attempt reference (`orderRefNum`), unique per attempt; also the inquiry's `orderId`.
    pub order_ref: &'a str,
    pub amount: Money,
    /// Where Easypaisa sends the payer's browser back (`postBackURL`).
    pub post_back_url: &'a str,
    /// Local (Asia/Karachi) time of the request.
    pub at_local: time::PrimitiveDateTime,
    /// How long the payer has to complete it (`expiryDate`).
    pub valid_for: time::Duration,
    pub payment_method: PaymentMethod,
    /// Optional: pre-fills the payer's mobile account number on the hosted page (`mobileNum`).
    pub mobile_num: Option<&'a str>,
    /// Optional: the payer's e-mail address (`emailAddr`).
    pub email: Option<&'a str>,
}

/// `timeStamp`: `YYYY-MM-DDTHH:MM:SS`.
pub fn format_timestamp(t: time::PrimitiveDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `expiryDate`: `YYYYMMDD HHMMSS`, as public integrations send it.
pub fn format_expiry(t: time::PrimitiveDateTime) -> String {
    format!(
        "{:04}{:02}{:02} {:02}{:02}{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The fields covered by `merchantHashedReq`, in the order they are joined.
pub const HASHED_FIELDS: [&str; 6] = [
    "amount",
    "orderRefNum",
    "paymentMethod",
    "postBackURL",
    "storeId",
    "timeStamp",
];

/// The plain text `merchantHashedReq` encrypts:
/// `amount=..&orderRefNum=..&paymentMethod=..&postBackURL=..&storeId=..&timeStamp=..`, raw values
/// (not URL-encoded), in that order. `None` when one of them is missing.
///
/// Public sources disagree on whether `postBackURL` is inside the hashed request; it is included
/// here, since leaving it out would let anyone who sees a checkout redirect the postback of a
/// validly hashed request elsewhere. (Some integrations instead hash every posted field sorted by
/// name, which would add `expiryDate`, `mobileNum`, `emailAddr`...) If the specification given at
/// onboarding says otherwise, [`HASHED_FIELDS`] is the one place to change.
pub fn hashed_request_plaintext(fields: &Fields) -> Option<String> {
    let mut parts = Vec::with_capacity(HASHED_FIELDS.len());
    for k in HASHED_FIELDS {
        parts.push(format!("{k}={}", fields.get(k)?));
    }
    Some(parts.join("&"))
}

/// AES-128-ECB with PKCS#7 padding (a whole block of padding when the text fills its blocks).
/// ECB is what Easypaisa specifies; it is used only as a keyed digest of a request the payer can
/// see anyway, never to hide anything.
fn aes128_ecb_pkcs7(key: &HashKey, plain: &[u8]) -> Vec<u8> {
    let cipher = Aes128::new(GenericArray::from_slice(&key.0));
    let pad = 16 - plain.len() % 16;
    let mut data = Vec::with_capacity(plain.len() + pad);
    data.extend_from_slice(plain);
    data.extend(std::iter::repeat_n(pad as u8, pad));
    for block in data.chunks_exact_mut(16) {
        cipher.encrypt_block(GenericArray::from_mut_slice(block));
    }
    data
}

/// `merchantHashedReq` of a set of checkout fields; `None` when a hashed field is missing.
pub fn merchant_hashed_req(key: &HashKey, fields: &Fields) -> Option<String> {
    let plain = hashed_request_plaintext(fields)?;
    Some(B64.encode(aes128_ecb_pkcs7(key, plain.as_bytes())))
}

/// The fields the payer's browser posts to Easypaisa's hosted page (`Index.jsf`).
pub fn checkout_fields(s: &Store, c: &Checkout<'_>) -> Fields {
    let mut f = Fields::new();
    let mut put = |k: &str, v: &str| {
        f.insert(k.to_string(), v.to_string());
    };
    put("storeId", &s.store_id);
    put("amount", &format_amount(c.amount));
    put("postBackURL", c.post_back_url);
    put("orderRefNum", c.order_ref);
    put("expiryDate", &format_expiry(c.at_local + c.valid_for));
    put("paymentMethod", c.payment_method.as_str());
    put("timeStamp", &format_timestamp(c.at_local));
    if let Some(m) = c.mobile_num {
        put("mobileNum", m);
    }
    if let Some(e) = c.email {
        put("emailAddr", e);
    }
    let hashed = merchant_hashed_req(&s.hash_key, &f).expect("every hashed field was just set");
    f.insert("merchantHashedReq".into(), hashed);
    f
}

/// Whether `merchantHashedReq` in `fields` is the store's hash of the other fields, as Easypaisa
/// checks it. Constant time.
pub fn verify_hashed_request(s: &Store, fields: &Fields) -> bool {
    let Some(given) = fields.get("merchantHashedReq") else {
        return false;
    };
    let Ok(given) = B64.decode(given.trim()) else {
        return false;
    };
    let Some(plain) = hashed_request_plaintext(fields) else {
        return false;
    };
    let expected = aes128_ecb_pkcs7(&s.hash_key, plain.as_bytes());
    expected.ct_eq(&given).into()
}

// ----- postback -----

/// What Easypaisa sends the payer's browser back to `postBackURL` with. Unsigned: it only says
/// which order to ask about; [`parse_inquiry`] decides what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Postback {
    pub order_ref: String,
    /// Easypaisa's status code (`0000` when the payer completed the page).
    pub status: String,
    pub desc: String,
}

impl Postback {
    /// Whether Easypaisa *claims* success: enough to tell the payer "confirming your payment",
    /// never enough to credit.
    pub fn claims_success(&self) -> bool {
        self.status == RESPONSE_OK
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostbackError {
    #[error("{0} is missing or empty")]
    Field(&'static str),
}

/// Reads the postback's query fields: `orderRefNumber` (some versions: `orderRefNum`), `status`,
/// `desc`.
pub fn parse_postback(fields: &Fields) -> Result<Postback, PostbackError> {
    let get = |k: &str| {
        fields
            .get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let order_ref = get("orderRefNumber")
        .or_else(|| get("orderRefNum"))
        .ok_or(PostbackError::Field("orderRefNumber"))?;
    let status = get("status").ok_or(PostbackError::Field("status"))?;
    Ok(Postback {
        order_ref,
        status,
        desc: get("desc").unwrap_or_default(),
    })
}

// ----- inquire-transaction -----

/// The JSON body of `inquire-transaction`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InquiryRequest {
    #[serde(rename = "orderId")]
    pub order_id: String,
    #[serde(rename = "storeId")]
    pub store_id: String,
    #[serde(
        rename = "accountNum",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub account_num: Option<String>,
}

/// The inquiry for one of our attempts (`order_ref` is the checkout's `orderRefNum`).
pub fn inquiry_request(s: &Store, order_ref: &str) -> InquiryRequest {
    InquiryRequest {
        order_id: order_ref.to_string(),
        store_id: s.store_id.clone(),
        account_num: s.account_num.clone(),
    }
}

/// A JSON string or number, kept as its exact text: Easypaisa sends some ids and amounts as
/// numbers, and going through `f64` could change an amount.
fn exact_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let raw: Option<Box<serde_json::value::RawValue>> = Option::deserialize(d)?;
    let Some(raw) = raw else { return Ok(None) };
    let text = raw.get();
    if text.starts_with('"') {
        serde_json::from_str::<String>(text)
            .map(Some)
            .map_err(serde::de::Error::custom)
    } else if text == "null" {
        Ok(None)
    } else if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        Ok(Some(text.to_string()))
    } else {
        Err(serde::de::Error::custom("expected a string or a number"))
    }
}

/// Easypaisa's answer to `inquire-transaction`, in its field names. Fields Easypaisa adds that
/// are not listed here are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InquiryResponse {
    pub response_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_desc: Option<String>,
    #[serde(default, deserialize_with = "exact_text")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(default, deserialize_with = "exact_text")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_id: Option<String>,
    #[serde(default, deserialize_with = "exact_text")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_num: Option<String>,
    /// `PAID`, `PENDING`, `FAILED`, `EXPIRED`, `BLOCKED`, `REVERSED`...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_status: Option<String>,
    /// Rupees, two decimals (`"1000.00"`).
    #[serde(default, deserialize_with = "exact_text")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_amount: Option<String>,
    #[serde(default, deserialize_with = "exact_text")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_date_time: Option<String>,
    /// `MA`, `OTC`, `CC`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_mode: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InquiryError {
    #[error("the inquiry response is not valid JSON for inquire-transaction: {0}")]
    Json(String),
    /// The inquiry itself failed (credentials, unknown order, Easypaisa down): says nothing about
    /// the payment; ask again later.
    #[error("Easypaisa refused the inquiry: {code} {desc}")]
    Refused { code: String, desc: String },
    #[error("the response is about order {got:?}, not {expected:?}")]
    WrongOrder { expected: String, got: String },
    #[error("the response is about store {0:?}, not ours")]
    WrongStore(String),
    #[error("transactionStatus {0:?} is not one we know")]
    UnknownStatus(String),
    #[error("{0} is missing or malformed")]
    Field(&'static str),
}

/// An inquiry answer that holds together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inquiry {
    pub order_ref: String,
    pub status: String,
    /// The amount Easypaisa reports, where it reports one.
    pub amount: Option<Money>,
    pub transaction_id: Option<String>,
    pub outcome: RailOutcome,
}

/// Reads Easypaisa's answer to the inquiry for `order_ref`: the only message an Easypaisa credit
/// is made from. The caller still checks the confirmed amount against the attempt it created.
///
/// `PAID` is `Confirmed` (and needs an exact `transactionAmount` and a `transactionId`);
/// `PENDING` and `INITIATED` are `Pending`; `FAILED`, `EXPIRED`, `BLOCKED`, `REVERSED`, `DROPPED`
/// are `Failed`. A refused inquiry or an unknown status is an error, never a failure: the payment
/// may still have gone through, so the attempt stays open for the next poll.
pub fn parse_inquiry(s: &Store, order_ref: &str, body: &[u8]) -> Result<Inquiry, InquiryError> {
    let r: InquiryResponse =
        serde_json::from_slice(body).map_err(|e| InquiryError::Json(e.to_string()))?;
    if r.response_code.trim() != RESPONSE_OK {
        return Err(InquiryError::Refused {
            code: r.response_code.trim().to_string(),
            desc: r.response_desc.unwrap_or_default().trim().to_string(),
        });
    }
    let got = r.order_id.as_deref().map(str::trim).unwrap_or_default();
    if got != order_ref {
        return Err(InquiryError::WrongOrder {
            expected: order_ref.to_string(),
            got: got.to_string(),
        });
    }
    if let Some(store) = r.store_id.as_deref().map(str::trim) {
        if store != s.store_id {
            return Err(InquiryError::WrongStore(store.to_string()));
        }
    }
    let amount = match r.transaction_amount.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(a) => Some(parse_amount(a).map_err(|_| InquiryError::Field("transactionAmount"))?),
    };
    let transaction_id = r
        .transaction_id
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    let status = r
        .transaction_status
        .map(|t| t.trim().to_ascii_uppercase())
        .filter(|t| !t.is_empty())
        .ok_or(InquiryError::Field("transactionStatus"))?;
    let outcome = match status.as_str() {
        "PAID" => RailOutcome::Confirmed {
            amount: amount.ok_or(InquiryError::Field("transactionAmount"))?,
            rail_txn_id: transaction_id
                .clone()
                .ok_or(InquiryError::Field("transactionId"))?,
        },
        "PENDING" | "INITIATED" => RailOutcome::Pending,
        "FAILED" | "EXPIRED" | "BLOCKED" | "REVERSED" | "DROPPED" => RailOutcome::Failed {
            reason: format!(
                "Easypaisa: {status} {}",
                r.response_desc.unwrap_or_default().trim()
            )
            .trim()
            .to_string(),
        },
        _ => return Err(InquiryError::UnknownStatus(status)),
    };
    Ok(Inquiry {
        order_ref: order_ref.to_string(),
        status,
        amount,
        transaction_id,
        outcome,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    fn store() -> Store {
        Store {
            store_id: "43210".into(),
            hash_key: HashKey::new("0123456789ABCDEF").unwrap(),
            username: "efine".into(),
            password: "s3cret".into(),
            account_num: Some("654321".into()),
        }
    }

    fn checkout() -> Checkout<'static> {
        Checkout {
            order_ref: "EF-2026-000001-1",
            amount: Money::from_rupees(1000).unwrap(),
            post_back_url: "https://efine.kp.gov.pk/payments/easypaisa/postback",
            at_local: datetime!(2026-11-24 10:05:09),
            valid_for: time::Duration::hours(1),
            payment_method: PaymentMethod::MobileAccount,
            mobile_num: None,
            email: None,
        }
    }

    #[test]
    fn aes_128_matches_fips_197() {
        // FIPS-197 appendix C.1: one block, so ECB is the raw cipher (plus a padding block).
        let key = HashKey(
            hex::decode("000102030405060708090a0b0c0d0e0f").unwrap()[..]
                .try_into()
                .unwrap(),
        );
        let plain = hex::decode("00112233445566778899aabbccddeeff").unwrap();
        let out = aes128_ecb_pkcs7(&key, &plain);
        assert_eq!(
            out.len(),
            32,
            "a full block of padding follows a full block"
        );
        assert_eq!(hex::encode(&out[..16]), "69c4e0d86a7b0430d8cdb78070b4c55a");
        // PKCS#7: 5 bytes of text take 11 bytes of padding, one block in all.
        assert_eq!(aes128_ecb_pkcs7(&key, b"hello").len(), 16);
    }

    #[test]
    fn hash_key_must_be_16_bytes() {
        assert!(HashKey::new("0123456789ABCDEF").is_ok());
        assert_eq!(HashKey::new("short"), Err(BadHashKey(5)));
        assert_eq!(HashKey::new("0123456789ABCDEF0"), Err(BadHashKey(17)));
    }

    #[test]
    fn debug_hides_secrets() {
        let d = format!("{:?}", store());
        assert!(d.contains("43210"));
        assert!(!d.contains("0123456789ABCDEF"));
        assert!(!d.contains("s3cret"));
    }

    #[test]
    fn credentials_are_base64_of_user_colon_password() {
        assert_eq!(credentials_header(&store()), "ZWZpbmU6czNjcmV0");
    }

    #[test]
    fn checkout_fields_are_as_easypaisa_expects() {
        let f = checkout_fields(&store(), &checkout());
        assert_eq!(f["storeId"], "43210");
        assert_eq!(f["amount"], "1000.00");
        assert_eq!(f["orderRefNum"], "EF-2026-000001-1");
        assert_eq!(f["paymentMethod"], "MA_PAYMENT_METHOD");
        assert_eq!(f["timeStamp"], "2026-11-24T10:05:09");
        assert_eq!(f["expiryDate"], "20261124 110509");
        assert!(!f.contains_key("mobileNum"));
        assert_eq!(
            hashed_request_plaintext(&f).unwrap(),
            "amount=1000.00&orderRefNum=EF-2026-000001-1&paymentMethod=MA_PAYMENT_METHOD\
             &postBackURL=https://efine.kp.gov.pk/payments/easypaisa/postback&storeId=43210\
             &timeStamp=2026-11-24T10:05:09"
        );
        // Decrypting gives the plain text back: the hash is what it says it is.
        let enc = B64.decode(&f["merchantHashedReq"]).unwrap();
        assert_eq!(enc.len() % 16, 0);
        use aes::cipher::BlockDecrypt;
        let cipher = Aes128::new(GenericArray::from_slice(b"0123456789ABCDEF"));
        let mut dec = enc.clone();
        for b in dec.chunks_exact_mut(16) {
            cipher.decrypt_block(GenericArray::from_mut_slice(b));
        }
        let pad = *dec.last().unwrap() as usize;
        dec.truncate(dec.len() - pad);
        assert_eq!(
            String::from_utf8(dec).unwrap(),
            hashed_request_plaintext(&f).unwrap()
        );
    }

    #[test]
    fn hashed_request_verifies_and_every_tamper_fails() {
        let s = store();
        let mut c = checkout();
        c.mobile_num = Some("03001234567");
        let f = checkout_fields(&s, &c);
        assert_eq!(f["mobileNum"], "03001234567");
        assert!(verify_hashed_request(&s, &f));
        for (k, v) in [
            ("amount", "1.00"),
            ("amount", "1000.0"),
            ("orderRefNum", "EF-2026-000002-1"),
            ("postBackURL", "https://evil.example/postback"),
            ("storeId", "99999"),
            ("paymentMethod", "OTC_PAYMENT_METHOD"),
            ("timeStamp", "2026-11-24T10:05:10"),
            ("merchantHashedReq", "not base64!"),
            ("merchantHashedReq", ""),
        ] {
            let mut t = f.clone();
            t.insert(k.into(), v.into());
            assert!(
                !verify_hashed_request(&s, &t),
                "tampered {k} still verified"
            );
        }
        for k in ["amount", "postBackURL", "merchantHashedReq"] {
            let mut t = f.clone();
            t.remove(k);
            assert!(!verify_hashed_request(&s, &t), "missing {k} still verified");
        }
        let mut other = s.clone();
        other.hash_key = HashKey::new("FEDCBA9876543210").unwrap();
        assert!(!verify_hashed_request(&other, &f), "wrong key verified");
    }

    #[test]
    fn amounts_format_and_parse_exactly() {
        let m = |p| Money::from_paisa(p).unwrap();
        assert_eq!(format_amount(m(0)), "0.00");
        assert_eq!(format_amount(m(5)), "0.05");
        assert_eq!(format_amount(m(120_050)), "1200.50");
        assert_eq!(
            format_amount(m(efine_core::money::MAX_PAISA)),
            "99999999999.99"
        );
        assert_eq!(parse_amount("1000.00").unwrap(), m(100_000));
        assert_eq!(parse_amount("1000.5").unwrap(), m(100_050));
        assert_eq!(parse_amount("1000").unwrap(), m(100_000));
        assert_eq!(parse_amount("0.07").unwrap(), m(7));
        for bad in [
            "1000.001",
            "1000.",
            ".50",
            "-1.00",
            "+1.00",
            "1e3",
            "1,000.00",
            " 1.00",
            "",
            "Rs 1.00",
            "100000000000.00",
            "NaN",
        ] {
            assert!(parse_amount(bad).is_err(), "{bad:?} parsed");
        }
    }

    proptest! {
        #[test]
        fn amount_roundtrip(p in 0i64..=efine_core::money::MAX_PAISA) {
            let m = Money::from_paisa(p).unwrap();
            let s = format_amount(m);
            let (_, frac) = s.split_once('.').unwrap();
            prop_assert_eq!(frac.len(), 2);
            prop_assert_eq!(parse_amount(&s).unwrap(), m);
        }

        #[test]
        fn more_than_two_decimals_refused(p in 0i64..=efine_core::money::MAX_PAISA, d in 0u8..=9) {
            let s = format!("{}{d}", format_amount(Money::from_paisa(p).unwrap()));
            prop_assert!(parse_amount(&s).is_err());
        }
    }

    #[test]
    fn postback_parses_but_only_claims() {
        let mut f = Fields::new();
        f.insert("orderRefNumber".into(), "EF-1".into());
        f.insert("status".into(), "0000".into());
        f.insert("desc".into(), "SUCCESS".into());
        let p = parse_postback(&f).unwrap();
        assert_eq!(p.order_ref, "EF-1");
        assert!(p.claims_success());
        let mut old = Fields::new();
        old.insert("orderRefNum".into(), "EF-2".into());
        old.insert("status".into(), "0001".into());
        let p = parse_postback(&old).unwrap();
        assert_eq!(p.order_ref, "EF-2");
        assert!(!p.claims_success());
        f.remove("status");
        assert_eq!(parse_postback(&f), Err(PostbackError::Field("status")));
        assert_eq!(
            parse_postback(&Fields::new()),
            Err(PostbackError::Field("orderRefNumber"))
        );
    }

    #[test]
    fn inquiry_request_body() {
        let body = serde_json::to_value(inquiry_request(&store(), "EF-1")).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"orderId": "EF-1", "storeId": "43210", "accountNum": "654321"})
        );
        let mut s = store();
        s.account_num = None;
        let body = serde_json::to_value(inquiry_request(&s, "EF-1")).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"orderId": "EF-1", "storeId": "43210"})
        );
    }

    fn answer(v: serde_json::Value) -> Result<Inquiry, InquiryError> {
        parse_inquiry(&store(), "EF-1", v.to_string().as_bytes())
    }

    #[test]
    fn inquiry_statuses_map_to_outcomes() {
        let paid = serde_json::json!({
            "responseCode": "0000", "responseDesc": "SUCCESS", "orderId": "EF-1",
            "storeId": 43210, "transactionStatus": "PAID", "transactionAmount": "1000.50",
            "transactionId": 11223344, "paymentMode": "MA", "somethingNew": [1, 2]
        });
        let i = answer(paid.clone()).unwrap();
        assert_eq!(
            i.outcome,
            RailOutcome::Confirmed {
                amount: Money::from_paisa(100_050).unwrap(),
                rail_txn_id: "11223344".into()
            }
        );
        // Numbers are read from their exact text, not through f64.
        let mut n = paid.clone();
        n["transactionAmount"] = serde_json::json!(1000.5);
        assert_eq!(answer(n).unwrap().amount, Money::from_paisa(100_050).ok());
        let mut n = paid.clone();
        n["transactionAmount"] = serde_json::json!(99999999999.99_f64);
        assert_eq!(
            answer(n).unwrap().amount,
            Money::from_paisa(9_999_999_999_999).ok()
        );

        for (status, pending) in [("PENDING", true), ("INITIATED", true)] {
            let mut p = paid.clone();
            p["transactionStatus"] = status.into();
            assert_eq!(answer(p).unwrap().outcome == RailOutcome::Pending, pending);
        }
        for status in ["FAILED", "EXPIRED", "BLOCKED", "REVERSED", "failed"] {
            let mut p = paid.clone();
            p["transactionStatus"] = status.into();
            assert!(matches!(
                answer(p).unwrap().outcome,
                RailOutcome::Failed { .. }
            ));
        }
        let mut p = paid.clone();
        p["transactionStatus"] = "SOMETHING".into();
        assert_eq!(
            answer(p),
            Err(InquiryError::UnknownStatus("SOMETHING".into()))
        );
    }

    #[test]
    fn inquiry_tampering_and_gaps_never_credit() {
        let paid = serde_json::json!({
            "responseCode": "0000", "orderId": "EF-1", "storeId": "43210",
            "transactionStatus": "PAID", "transactionAmount": "1000.00", "transactionId": "T1"
        });
        let with = |k: &str, v: serde_json::Value| {
            let mut p = paid.clone();
            p[k] = v;
            answer(p)
        };
        assert!(matches!(
            with("orderId", "EF-2".into()),
            Err(InquiryError::WrongOrder { .. })
        ));
        assert_eq!(
            with("storeId", "1".into()),
            Err(InquiryError::WrongStore("1".into()))
        );
        assert!(matches!(
            with("responseCode", "0001".into()),
            Err(InquiryError::Refused { .. })
        ));
        for bad in ["1000.001", "-5.00", "1e3", "abc"] {
            assert_eq!(
                with("transactionAmount", bad.into()),
                Err(InquiryError::Field("transactionAmount"))
            );
        }
        assert_eq!(
            with("transactionAmount", serde_json::Value::Null),
            Err(InquiryError::Field("transactionAmount"))
        );
        assert_eq!(
            with("transactionId", "".into()),
            Err(InquiryError::Field("transactionId"))
        );
        assert!(matches!(
            with("transactionAmount", serde_json::json!(true)),
            Err(InquiryError::Json(_))
        ));
        let mut no_order = paid.clone();
        no_order.as_object_mut().unwrap().remove("orderId");
        assert!(matches!(
            answer(no_order),
            Err(InquiryError::WrongOrder { .. })
        ));
        assert!(matches!(
            parse_inquiry(&store(), "EF-1", b"<html>"),
            Err(InquiryError::Json(_))
        ));
    }
}
