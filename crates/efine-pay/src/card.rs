//! The bank's hosted card gateway: the signed redirect that sends the payer to the hosted card
//! page, and the signed notification (webhook) the gateway sends when a payment settles.
//!
//! Notifications carry `Efine-Card-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]`, each
//! `v1` being HMAC-SHA256 of `<t>.<raw body bytes>` keyed with a signing secret. The gateway signs
//! with every secret it currently holds, so during a key rotation we accept a notification when any
//! `v1` matches any of our current secrets (compared in constant time) and `t` is within the
//! tolerance (300 s by default) of our clock, either way. The tolerance bounds replays; the event
//! id and the gateway's transaction id let the store credit once.

use crate::RailOutcome;
use efine_core::Money;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::BTreeMap;

pub type Fields = BTreeMap<String, String>;

/// The header carrying the notification's signatures.
pub const SIGNATURE_HEADER: &str = "Efine-Card-Signature";
/// How far `t` may be from our clock, in seconds, unless configured otherwise.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

/// The merchant's settings with the card gateway (from `EFINE_CARD_*`).
#[derive(Clone)]
pub struct Gateway {
    pub merchant_id: String,
    /// The hosted card page the payer is redirected to.
    pub checkout_url: String,
    /// Keys the `sig` on checkout redirects.
    pub session_secret: String,
    /// The notification signing secrets currently accepted: during a rotation, the new and the
    /// old.
    pub webhook_secrets: Vec<String>,
    /// How far a notification's `t` may be from our clock, in seconds.
    pub tolerance_secs: i64,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("merchant_id", &self.merchant_id)
            .field("checkout_url", &self.checkout_url)
            .field("webhook_secrets", &self.webhook_secrets.len())
            .field("tolerance_secs", &self.tolerance_secs)
            .finish_non_exhaustive()
    }
}

fn hmac(key: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length")
}

// ----- notification signatures -----

fn notification_mac(secret: &str, t: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut m = hmac(secret.as_bytes());
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// One `v1` signature: lower-case hex HMAC-SHA256 of `<t>.<body>` keyed with `secret`.
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    hex::encode(notification_mac(secret, t, body).finalize().into_bytes())
}

/// The header value for a timestamp and its signatures: `t=<t>,v1=<sig>,v1=<sig>...`.
pub fn signature_header(t: i64, signatures: &[String]) -> String {
    let mut h = format!("t={t}");
    for s in signatures {
        h.push_str(",v1=");
        h.push_str(s);
    }
    h
}

/// Why a notification's signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no {SIGNATURE_HEADER} header")]
    MissingHeader,
    #[error("{SIGNATURE_HEADER} is malformed: {0}")]
    Malformed(&'static str),
    #[error("no signature matches any current secret")]
    NoMatchingSignature,
    #[error("signed {age} s ago, more than the {tolerance} s allowed")]
    TooOld { age: i64, tolerance: i64 },
    #[error("signed {ahead} s in the future, more than the {tolerance} s allowed")]
    InFuture { ahead: i64, tolerance: i64 },
}

/// A parsed signature header: the timestamp and the `v1` signatures (other schemes ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    pub t: i64,
    pub v1: Vec<Vec<u8>>,
}

pub fn parse_signature_header(header: &str) -> Result<SignatureHeader, SignatureError> {
    let mut t = None;
    let mut v1 = Vec::new();
    for part in header.split(',') {
        let (k, v) = part
            .trim()
            .split_once('=')
            .ok_or(SignatureError::Malformed("expected key=value pairs"))?;
        match k.trim() {
            "t" => {
                let v = v.trim();
                if t.is_some() {
                    return Err(SignatureError::Malformed("more than one t"));
                }
                if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(SignatureError::Malformed("t is not unix seconds"));
                }
                t = Some(
                    v.parse::<i64>()
                        .map_err(|_| SignatureError::Malformed("t is not unix seconds"))?,
                );
            }
            "v1" => {
                let sig = hex::decode(v.trim())
                    .ok()
                    .filter(|s| s.len() == 32)
                    .ok_or(SignatureError::Malformed("v1 is not 64 hex digits"))?;
                v1.push(sig);
            }
            // Other schemes (a future v2, a test v0) are not ours to check.
            _ => {}
        }
    }
    let t = t.ok_or(SignatureError::Malformed("no t"))?;
    if v1.is_empty() {
        return Err(SignatureError::Malformed("no v1 signature"));
    }
    Ok(SignatureHeader { t, v1 })
}

/// Verifies a notification's signature header against the raw body. Accepts when any `v1`
/// matches any of `secrets` (each compared in constant time) and `|now - t| <= tolerance_secs`.
/// Returns `t`.
pub fn verify_signature(
    secrets: &[String],
    body: &[u8],
    header: Option<&str>,
    now: i64,
    tolerance_secs: i64,
) -> Result<i64, SignatureError> {
    let header = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(SignatureError::MissingHeader)?;
    let h = parse_signature_header(header)?;
    let mut matched = false;
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        let mac = notification_mac(secret, h.t, body);
        for sig in &h.v1 {
            // `verify_slice` compares in constant time; every pair is tried, match or not.
            matched |= mac.clone().verify_slice(sig).is_ok();
        }
    }
    if !matched {
        return Err(SignatureError::NoMatchingSignature);
    }
    let tolerance = tolerance_secs.max(0);
    let diff = i128::from(now) - i128::from(h.t);
    let clamp = |d: i128| i64::try_from(d).unwrap_or(i64::MAX);
    if diff > i128::from(tolerance) {
        return Err(SignatureError::TooOld {
            age: clamp(diff),
            tolerance,
        });
    }
    if -diff > i128::from(tolerance) {
        return Err(SignatureError::InFuture {
            ahead: clamp(-diff),
            tolerance,
        });
    }
    Ok(h.t)
}

// ----- notification body -----

/// The notification's event types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "payment.succeeded")]
    Succeeded,
    #[serde(rename = "payment.failed")]
    Failed,
    #[serde(rename = "payment.pending")]
    Pending,
}

/// The notification body, as the gateway sends it (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationBody {
    /// The event's id: the same event delivered again has the same id.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub order_ref: String,
    pub amount_paisa: i64,
    pub currency: String,
    #[serde(default)]
    pub gateway_txn_id: Option<String>,
}

/// A notification whose signature held and whose body makes sense.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub event_id: String,
    pub kind: EventType,
    pub order_ref: String,
    pub amount: Money,
    pub gateway_txn_id: Option<String>,
    /// The caller still checks `order_ref` and the confirmed amount against its attempt.
    pub outcome: RailOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotificationError {
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error("the notification body is not valid: {0}")]
    Body(String),
    #[error("{0} is missing or malformed")]
    Field(&'static str),
}

/// Reads a notification body. Only call it on a body whose signature held: see
/// [`verify_notification`].
pub fn parse_notification(body: &[u8]) -> Result<Notification, NotificationError> {
    let b: NotificationBody =
        serde_json::from_slice(body).map_err(|e| NotificationError::Body(e.to_string()))?;
    let nonempty = |s: String| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let event_id = nonempty(b.id).ok_or(NotificationError::Field("id"))?;
    let order_ref = nonempty(b.order_ref).ok_or(NotificationError::Field("order_ref"))?;
    if b.currency != "PKR" {
        return Err(NotificationError::Field("currency"));
    }
    let amount =
        Money::from_paisa(b.amount_paisa).map_err(|_| NotificationError::Field("amount_paisa"))?;
    let gateway_txn_id = b.gateway_txn_id.and_then(nonempty);
    let outcome = match b.kind {
        EventType::Succeeded => RailOutcome::Confirmed {
            amount,
            rail_txn_id: gateway_txn_id
                .clone()
                .ok_or(NotificationError::Field("gateway_txn_id"))?,
        },
        EventType::Pending => RailOutcome::Pending,
        EventType::Failed => RailOutcome::Failed {
            reason: format!("card payment failed (event {event_id})"),
        },
    };
    Ok(Notification {
        event_id,
        kind: b.kind,
        order_ref,
        amount,
        gateway_txn_id,
        outcome,
    })
}

/// Verifies a notification (raw body, the [`SIGNATURE_HEADER`] value, our clock in unix
/// seconds) with the gateway's current secrets and tolerance, then reads it.
pub fn verify_notification(
    g: &Gateway,
    body: &[u8],
    header: Option<&str>,
    now: i64,
) -> Result<Notification, NotificationError> {
    verify_signature(&g.webhook_secrets, body, header, now, g.tolerance_secs)?;
    parse_notification(body)
}

// ----- checkout redirect -----

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes a query component (`%XX`, and `+` as a space). `None` when malformed or not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = b.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The signed parameters, in the order they are signed.
const SESSION_FIELDS: [&str; 4] = ["amount", "merchant", "order_ref", "return_url"];

/// `amount=..&merchant=..&order_ref=..&return_url=..`, values percent-encoded: the text `sig` is
/// the HMAC of, and the query it signs.
fn session_canonical(f: &Fields) -> Option<String> {
    let mut parts = Vec::with_capacity(SESSION_FIELDS.len());
    for k in SESSION_FIELDS {
        parts.push(format!("{k}={}", percent_encode(f.get(k)?)));
    }
    Some(parts.join("&"))
}

/// Where to send the payer for the hosted card page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRequest {
    /// `checkout_url?amount=..&merchant=..&order_ref=..&return_url=..&sig=..`
    pub url: String,
    /// The same parameters, for a form post instead of a redirect.
    pub fields: Fields,
}

/// The signed redirect to the hosted card page. `amount` is in paisa; `sig` is hex HMAC-SHA256,
/// keyed with the session secret, of the query before it.
pub fn session_request(
    g: &Gateway,
    order_ref: &str,
    amount: Money,
    return_url: &str,
) -> SessionRequest {
    let mut f = Fields::new();
    f.insert("amount".into(), amount.paisa().to_string());
    f.insert("merchant".into(), g.merchant_id.clone());
    f.insert("order_ref".into(), order_ref.into());
    f.insert("return_url".into(), return_url.into());
    let canonical = session_canonical(&f).expect("every signed field was just set");
    let mut m = hmac(g.session_secret.as_bytes());
    m.update(canonical.as_bytes());
    let sig = hex::encode(m.finalize().into_bytes());
    let sep = if g.checkout_url.contains('?') {
        '&'
    } else {
        '?'
    };
    let url = format!("{}{sep}{canonical}&sig={sig}", g.checkout_url);
    f.insert("sig".into(), sig);
    SessionRequest { url, fields: f }
}

/// A checkout redirect the gateway accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub order_ref: String,
    pub amount: Money,
    pub return_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("the query is malformed")]
    Malformed,
    #[error("sig does not match the parameters")]
    BadSignature,
    #[error("merchant is not this one")]
    WrongMerchant,
    #[error("{0} is missing or malformed")]
    Field(&'static str),
}

/// The gateway's check of a checkout redirect: `query` is the URL's query (with or without the
/// URL and `?` before it). A signed parameter given twice is refused; unsigned ones are ignored.
pub fn verify_session(g: &Gateway, query: &str) -> Result<Session, SessionError> {
    let query = query.split_once('?').map_or(query, |(_, q)| q);
    let mut f = Fields::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').ok_or(SessionError::Malformed)?;
        let k = percent_decode(k).ok_or(SessionError::Malformed)?;
        let v = percent_decode(v).ok_or(SessionError::Malformed)?;
        if !(SESSION_FIELDS.contains(&k.as_str()) || k == "sig") {
            // Not signed, so it carries nothing (e.g. the page's own `lang`).
            continue;
        }
        if f.insert(k, v).is_some() {
            return Err(SessionError::Malformed);
        }
    }
    let sig = f
        .get("sig")
        .and_then(|s| hex::decode(s).ok())
        .ok_or(SessionError::BadSignature)?;
    let canonical = session_canonical(&f).ok_or(SessionError::BadSignature)?;
    let mut m = hmac(g.session_secret.as_bytes());
    m.update(canonical.as_bytes());
    m.verify_slice(&sig)
        .map_err(|_| SessionError::BadSignature)?;
    if f["merchant"] != g.merchant_id {
        return Err(SessionError::WrongMerchant);
    }
    let amount = Some(f["amount"].as_str())
        .filter(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|a| a.parse::<i64>().ok())
        .and_then(|p| Money::from_paisa(p).ok())
        .ok_or(SessionError::Field("amount"))?;
    Ok(Session {
        order_ref: f["order_ref"].clone(),
        amount,
        return_url: f["return_url"].clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gateway() -> Gateway {
        Gateway {
            merchant_id: "EFINE-KP".into(),
            checkout_url: "https://cards.bank.example/pay".into(),
            session_secret: "session-secret".into(),
            webhook_secrets: vec!["whsec_new".into(), "whsec_old".into()],
            tolerance_secs: DEFAULT_TOLERANCE_SECS,
        }
    }

    const NOW: i64 = 1_795_000_000;

    #[test]
    fn hmac_sha256_known_answer() {
        // RFC 4231 test case 2, through the same construction (`<t>.` is the message prefix).
        let mut m = hmac(b"Jefe");
        m.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(m.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let mut m = hmac(b"k");
        m.update(b"12.{}");
        assert_eq!(sign("k", 12, b"{}"), hex::encode(m.finalize().into_bytes()));
    }

    #[test]
    fn debug_hides_secrets() {
        let d = format!("{:?}", gateway());
        assert!(d.contains("EFINE-KP"));
        assert!(!d.contains("session-secret"));
        assert!(!d.contains("whsec"));
    }

    fn signed(secrets: &[&str], t: i64, body: &[u8]) -> String {
        let sigs: Vec<String> = secrets.iter().map(|s| sign(s, t, body)).collect();
        signature_header(t, &sigs)
    }

    #[test]
    fn signature_checks_each_say_what_failed() {
        let secrets = gateway().webhook_secrets;
        let body = br#"{"id":"evt_1"}"#;
        let verify =
            |h: Option<&str>, b: &[u8], now: i64| verify_signature(&secrets, b, h, now, 300);
        let h = signed(&["whsec_new"], NOW, body);
        assert_eq!(verify(Some(&h), body, NOW), Ok(NOW));
        assert_eq!(verify(None, body, NOW), Err(SignatureError::MissingHeader));
        assert_eq!(
            verify(Some("  "), body, NOW),
            Err(SignatureError::MissingHeader)
        );
        // Tampered body, wrong secret.
        assert_eq!(
            verify(Some(&h), br#"{"id":"evt_2"}"#, NOW),
            Err(SignatureError::NoMatchingSignature)
        );
        let wrong = signed(&["whsec_guess"], NOW, body);
        assert_eq!(
            verify(Some(&wrong), body, NOW),
            Err(SignatureError::NoMatchingSignature)
        );
        // The timestamp is signed: moving it breaks the signature.
        let moved = h.replacen(&format!("t={NOW}"), &format!("t={}", NOW + 1), 1);
        assert_eq!(
            verify(Some(&moved), body, NOW),
            Err(SignatureError::NoMatchingSignature)
        );
        // Tolerance, both ways, at the edge.
        let at = |t: i64| signed(&["whsec_new"], t, body);
        assert_eq!(verify(Some(&at(NOW - 300)), body, NOW), Ok(NOW - 300));
        assert_eq!(verify(Some(&at(NOW + 300)), body, NOW), Ok(NOW + 300));
        assert_eq!(
            verify(Some(&at(NOW - 301)), body, NOW),
            Err(SignatureError::TooOld {
                age: 301,
                tolerance: 300
            })
        );
        assert_eq!(
            verify(Some(&at(NOW + 301)), body, NOW),
            Err(SignatureError::InFuture {
                ahead: 301,
                tolerance: 300
            })
        );
        // Configurable tolerance.
        assert!(verify_signature(&secrets, body, Some(&at(NOW - 301)), NOW, 600).is_ok());
        assert!(matches!(
            verify_signature(&secrets, body, Some(&at(NOW - 61)), NOW, 60),
            Err(SignatureError::TooOld { .. })
        ));
        // No secrets configured: nothing verifies.
        assert_eq!(
            verify_signature(&[], body, Some(&h), NOW, 300),
            Err(SignatureError::NoMatchingSignature)
        );
    }

    #[test]
    fn rotation_accepts_any_current_secret() {
        let body = b"{}";
        let both = signed(&["whsec_new", "whsec_old"], NOW, body);
        let old_only = signed(&["whsec_old"], NOW, body);
        let current = vec!["whsec_new".to_string(), "whsec_old".to_string()];
        assert!(verify_signature(&current, body, Some(&both), NOW, 300).is_ok());
        assert!(verify_signature(&current, body, Some(&old_only), NOW, 300).is_ok());
        // Once the old secret is retired, what it signed alone is refused; the gateway's
        // double-signed notification still passes on the new one.
        let retired = vec!["whsec_new".to_string()];
        assert_eq!(
            verify_signature(&retired, body, Some(&old_only), NOW, 300),
            Err(SignatureError::NoMatchingSignature)
        );
        assert!(verify_signature(&retired, body, Some(&both), NOW, 300).is_ok());
        // A garbage v1 beside a good one does not spoil it (order does not matter).
        let mixed = format!(
            "t={NOW},v1={},v1={}",
            "00".repeat(32),
            sign("whsec_new", NOW, body)
        );
        assert!(verify_signature(&retired, body, Some(&mixed), NOW, 300).is_ok());
    }

    #[test]
    fn malformed_headers() {
        let good = sign("s", NOW, b"");
        for (h, why) in [
            (format!("v1={good}"), "no t"),
            (format!("t={NOW}"), "no v1 signature"),
            (format!("t={NOW},v0={good}"), "no v1 signature"),
            (format!("t=abc,v1={good}"), "t is not unix seconds"),
            (format!("t=-5,v1={good}"), "t is not unix seconds"),
            (
                format!("t=99999999999999999999,v1={good}"),
                "t is not unix seconds",
            ),
            (format!("t={NOW},t={NOW},v1={good}"), "more than one t"),
            (format!("t={NOW},v1=zz"), "v1 is not 64 hex digits"),
            (
                format!("t={NOW},v1={}", &good[..62]),
                "v1 is not 64 hex digits",
            ),
            (format!("t={NOW};v1={good}"), "t is not unix seconds"),
            ("garbage".to_string(), "expected key=value pairs"),
        ] {
            assert_eq!(
                parse_signature_header(&h),
                Err(SignatureError::Malformed(why)),
                "{h}"
            );
        }
        // Spaces and upper-case hex are tolerated; unknown schemes ignored.
        let h = format!(" t={NOW} , v2=xyz, v1={} ", good.to_uppercase());
        assert_eq!(parse_signature_header(&h).unwrap().v1.len(), 1);
    }

    fn body(kind: &str, amount: i64, currency: &str, txn: Option<&str>) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "id": "evt_1", "type": kind, "order_ref": "EF-1", "amount_paisa": amount,
            "currency": currency, "gateway_txn_id": txn
        }))
        .unwrap()
    }

    #[test]
    fn notification_bodies_map_to_outcomes() {
        let n = parse_notification(&body("payment.succeeded", 50_075, "PKR", Some("G1"))).unwrap();
        assert_eq!(n.order_ref, "EF-1");
        assert_eq!(n.amount.paisa(), 50_075);
        assert_eq!(
            n.outcome,
            RailOutcome::Confirmed {
                amount: n.amount,
                rail_txn_id: "G1".into()
            }
        );
        let n = parse_notification(&body("payment.pending", 1, "PKR", None)).unwrap();
        assert_eq!(n.outcome, RailOutcome::Pending);
        let n = parse_notification(&body("payment.failed", 1, "PKR", None)).unwrap();
        assert!(matches!(n.outcome, RailOutcome::Failed { .. }));
        assert_eq!(
            parse_notification(&body("payment.succeeded", 1, "PKR", None)),
            Err(NotificationError::Field("gateway_txn_id"))
        );
        assert_eq!(
            parse_notification(&body("payment.succeeded", 1, "USD", Some("G"))),
            Err(NotificationError::Field("currency"))
        );
        assert_eq!(
            parse_notification(&body("payment.succeeded", -1, "PKR", Some("G"))),
            Err(NotificationError::Field("amount_paisa"))
        );
        assert!(matches!(
            parse_notification(&body("payment.refunded", 1, "PKR", Some("G"))),
            Err(NotificationError::Body(_))
        ));
        assert!(matches!(
            parse_notification(br#"{"id":"e","type":"payment.succeeded","order_ref":"x","amount_paisa":1.5,"currency":"PKR","gateway_txn_id":"g"}"#),
            Err(NotificationError::Body(_))
        ));
    }

    #[test]
    fn verify_notification_needs_signature_first() {
        let g = gateway();
        let b = body("payment.succeeded", 100, "PKR", Some("G1"));
        let h = signed(&["whsec_new"], NOW, &b);
        assert!(verify_notification(&g, &b, Some(&h), NOW).is_ok());
        let tampered = body("payment.succeeded", 100_000, "PKR", Some("G1"));
        assert_eq!(
            verify_notification(&g, &tampered, Some(&h), NOW),
            Err(NotificationError::Signature(
                SignatureError::NoMatchingSignature
            ))
        );
    }

    #[test]
    fn percent_coding_round_trips() {
        let s = "https://efine.kp.gov.pk/ret?a=1&b=ç d+e%";
        let e = percent_encode(s);
        assert!(e
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
        assert_eq!(percent_decode(&e).as_deref(), Some(s));
        assert_eq!(percent_decode("a+b").as_deref(), Some("a b"));
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%FF"), None);
    }

    #[test]
    fn session_request_is_signed_and_tamper_evident() {
        let g = gateway();
        let r = session_request(
            &g,
            "EF-1",
            Money::from_paisa(123_456).unwrap(),
            "https://efine.kp.gov.pk/payments/card/return?x=1",
        );
        assert!(r.url.starts_with(
            "https://cards.bank.example/pay?amount=123456&merchant=EFINE-KP&order_ref=EF-1\
             &return_url=https%3A%2F%2Fefine.kp.gov.pk%2Fpayments%2Fcard%2Freturn%3Fx%3D1&sig="
        ));
        assert_eq!(r.fields["amount"], "123456");
        let s = verify_session(&g, &r.url).unwrap();
        assert_eq!(s.amount.paisa(), 123_456);
        assert_eq!(s.order_ref, "EF-1");
        assert_eq!(
            s.return_url,
            "https://efine.kp.gov.pk/payments/card/return?x=1"
        );
        for (from, to) in [
            ("amount=123456", "amount=100"),
            ("order_ref=EF-1", "order_ref=EF-2"),
            ("return_url=https", "return_url=http"),
        ] {
            assert_eq!(
                verify_session(&g, &r.url.replace(from, to)),
                Err(SessionError::BadSignature),
                "{to}"
            );
        }
        let mut other = g.clone();
        other.session_secret = "guess".into();
        assert_eq!(
            verify_session(&other, &r.url),
            Err(SessionError::BadSignature)
        );
        let mut other = g.clone();
        other.merchant_id = "SOMEONE".into();
        assert_eq!(
            verify_session(&other, &r.url),
            Err(SessionError::WrongMerchant)
        );
        assert_eq!(
            verify_session(&g, &format!("{}&amount=1", r.url)),
            Err(SessionError::Malformed)
        );
        assert_eq!(verify_session(&g, &format!("{}&extra=1", r.url)), Ok(s));
        let with_q = Gateway {
            checkout_url: "https://x/pay?lang=en".into(),
            ..g
        };
        let r = session_request(&with_q, "EF-1", Money::ZERO, "r");
        assert!(r.url.starts_with("https://x/pay?lang=en&amount=0&"));
        assert_eq!(verify_session(&with_q, &r.url).unwrap().amount, Money::ZERO);
    }
}
