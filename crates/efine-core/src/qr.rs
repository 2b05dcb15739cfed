//! Signed QR tokens: how anyone tells a genuine challan or receipt from a forged one.
//!
//! A token is `base64url(payload || signature)` without padding. The payload is compact binary so
//! the QR code stays small enough for a 58 mm thermal print:
//!
//! ```text
//! version (1) = 1
//! kind    (1) = b'C' challan | b'R' receipt
//! key id  (4)   first 4 bytes of SHA-256 of the Ed25519 public key
//! number        u8 length + ASCII (challan number or receipt number)
//! amount  (8)   paisa, big-endian (challan: amount issued; receipt: amount paid)
//! department    u8 length + ASCII slug
//! district      u8 length + ASCII slug
//! at      (8)   Unix seconds, big-endian (challan: issued; receipt: paid)
//! signature (64) Ed25519 over DOMAIN || payload
//! ```
//!
//! Keys are plain bytes here: creating, storing and rotating them is IO and lives outside the
//! core. Several verifying keys can be known at once, so a rotated-out key still verifies the
//! tokens it signed.

use crate::{DepartmentCode, DistrictCode, Money};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use time::OffsetDateTime;

/// Signed bytes start with this, so an E-Fine signature can never be replayed as another
/// protocol's (or another version's).
const DOMAIN: &[u8] = b"efine-qr-v1\0";
const VERSION: u8 = 1;
const SIG_LEN: usize = 64;
/// Longest token accepted before any decoding (a real one is under 200 characters).
pub const MAX_TOKEN_CHARS: usize = 512;

/// What a token vouches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    Challan,
    Receipt,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Challan => "challan",
            TokenKind::Receipt => "receipt",
        }
    }
    fn byte(self) -> u8 {
        match self {
            TokenKind::Challan => b'C',
            TokenKind::Receipt => b'R',
        }
    }
    fn from_byte(b: u8) -> Option<TokenKind> {
        match b {
            b'C' => Some(TokenKind::Challan),
            b'R' => Some(TokenKind::Receipt),
            _ => None,
        }
    }
}

/// Names a verifying key: the first 4 bytes of SHA-256 of the public key, shown as 8 hex digits.
/// Derived from the key itself, so two nodes can never hand out the same id for different keys
/// by accident, and a published key set can be checked against its ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId([u8; 4]);

impl KeyId {
    pub fn of(key: &VerifyingKey) -> KeyId {
        let d = Sha256::digest(key.as_bytes());
        KeyId([d[0], d[1], d[2], d[3]])
    }
    pub fn parse(s: &str) -> Result<KeyId, crate::ParseError> {
        let bytes = hex::decode(s.trim())
            .ok()
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .ok_or_else(|| crate::ParseError::new("a key id is 8 hex digits"))?;
        Ok(KeyId(bytes))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// What a token says, once its signature has been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPayload {
    pub kind: TokenKind,
    /// Challan number (`TRF-PSH-2026-004219`) or receipt number, as printed.
    pub number: String,
    pub amount: Money,
    pub department: DepartmentCode,
    pub district: DistrictCode,
    /// Issued (challan) or paid (receipt), to the second.
    pub at: OffsetDateTime,
}

impl TokenPayload {
    /// Whether a challan on record is the one this token was signed for. A token that verifies
    /// but names another amount, place or time than the record means one of them was altered.
    /// Returns the first field that differs.
    pub fn check_challan(&self, c: &crate::challan::Challan) -> Result<(), &'static str> {
        if self.kind != TokenKind::Challan {
            return Err("kind");
        }
        if self.number != c.number.to_string() {
            return Err("number");
        }
        if self.amount != c.amount {
            return Err("amount");
        }
        if self.department != c.department {
            return Err("department");
        }
        if self.district != c.district {
            return Err("district");
        }
        if self.at.unix_timestamp() != c.issued_at.unix_timestamp() {
            return Err("issued time");
        }
        Ok(())
    }
}

impl TokenPayload {
    /// Checks a receipt token against the receipt on record (and its challan's department and
    /// district); names the first field that differs.
    pub fn check_receipt(
        &self,
        number: &str,
        amount: Money,
        department: &DepartmentCode,
        district: &DistrictCode,
        paid_at: OffsetDateTime,
    ) -> Result<(), &'static str> {
        if self.kind != TokenKind::Receipt {
            return Err("kind");
        }
        if self.number != number {
            return Err("number");
        }
        if self.amount != amount {
            return Err("amount");
        }
        if &self.department != department {
            return Err("department");
        }
        if &self.district != district {
            return Err("district");
        }
        if self.at.unix_timestamp() != paid_at.unix_timestamp() {
            return Err("payment time");
        }
        Ok(())
    }
}

/// Why a token is not genuine. The messages are meant for the person holding the paper.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("this is not an E-Fine code: it cannot be read ({0})")]
    Malformed(&'static str),
    #[error("signed with a key E-Fine does not know (key id {0})")]
    UnknownKey(KeyId),
    #[error("the signature does not match: the code has been altered or forged")]
    BadSignature,
    #[error("signed by a device key (key id {0}) after the device was revoked")]
    Revoked(KeyId),
}

impl TokenError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::Malformed(_) => "malformed",
            TokenError::UnknownKey(_) => "unknown_key",
            TokenError::BadSignature => "bad_signature",
            TokenError::Revoked(_) => "revoked_key",
        }
    }
}

/// Why a payload cannot be signed (a field does not fit its length prefix).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot sign: {0}")]
pub struct SignError(&'static str);

fn put_str(out: &mut Vec<u8>, s: &str, what: &'static str) -> Result<(), SignError> {
    let len = u8::try_from(s.len()).map_err(|_| SignError(what))?;
    if !s.is_ascii() {
        return Err(SignError(what));
    }
    out.push(len);
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

fn encode(p: &TokenPayload, kid: KeyId) -> Result<Vec<u8>, SignError> {
    let mut out = Vec::with_capacity(128);
    out.push(VERSION);
    out.push(p.kind.byte());
    out.extend_from_slice(&kid.0);
    put_str(&mut out, &p.number, "the number is not short ASCII")?;
    out.extend_from_slice(&p.amount.paisa().to_be_bytes());
    put_str(&mut out, p.department.as_str(), "department")?;
    put_str(&mut out, p.district.as_str(), "district")?;
    out.extend_from_slice(&p.at.unix_timestamp().to_be_bytes());
    Ok(out)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], TokenError> {
        if self.0.len() < n {
            return Err(TokenError::Malformed("too short"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn byte(&mut self) -> Result<u8, TokenError> {
        Ok(self.take(1)?[0])
    }
    fn i64(&mut self) -> Result<i64, TokenError> {
        let b: [u8; 8] = self.take(8)?.try_into().expect("8 bytes");
        Ok(i64::from_be_bytes(b))
    }
    fn str(&mut self) -> Result<&'a str, TokenError> {
        let n = self.byte()? as usize;
        let b = self.take(n)?;
        if !b.is_ascii() {
            return Err(TokenError::Malformed("text is not ASCII"));
        }
        std::str::from_utf8(b).map_err(|_| TokenError::Malformed("text is not ASCII"))
    }
}

fn decode(body: &[u8]) -> Result<(KeyId, TokenPayload), TokenError> {
    let mut r = Reader(body);
    if r.byte()? != VERSION {
        return Err(TokenError::Malformed("unknown version"));
    }
    let kind = TokenKind::from_byte(r.byte()?).ok_or(TokenError::Malformed("unknown kind"))?;
    let kid = KeyId(r.take(4)?.try_into().expect("4 bytes"));
    let number = r.str()?.to_string();
    let amount =
        Money::from_paisa(r.i64()?).map_err(|_| TokenError::Malformed("amount out of range"))?;
    let department =
        DepartmentCode::parse(r.str()?).map_err(|_| TokenError::Malformed("bad department"))?;
    let district =
        DistrictCode::parse(r.str()?).map_err(|_| TokenError::Malformed("bad district"))?;
    let at = OffsetDateTime::from_unix_timestamp(r.i64()?)
        .map_err(|_| TokenError::Malformed("time out of range"))?;
    if !r.0.is_empty() {
        return Err(TokenError::Malformed("trailing bytes"));
    }
    Ok((
        kid,
        TokenPayload {
            kind,
            number,
            amount,
            department,
            district,
            at,
        },
    ))
}

fn signed_message(body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(DOMAIN.len() + body.len());
    m.extend_from_slice(DOMAIN);
    m.extend_from_slice(body);
    m
}

/// Signs tokens with one private key.
pub struct TokenSigner {
    key: SigningKey,
    kid: KeyId,
}

impl fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret.
        write!(f, "TokenSigner({})", self.kid)
    }
}

impl TokenSigner {
    /// From the 32 secret bytes of an Ed25519 key (the caller draws them from the OS).
    pub fn from_secret(secret: &[u8; 32]) -> TokenSigner {
        let key = SigningKey::from_bytes(secret);
        let kid = KeyId::of(&key.verifying_key());
        TokenSigner { key, kid }
    }
    pub fn key_id(&self) -> KeyId {
        self.kid
    }
    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The token for a payload. The time is kept to the second.
    pub fn sign(&self, p: &TokenPayload) -> Result<String, SignError> {
        let mut body = encode(p, self.kid)?;
        let sig = self.key.sign(&signed_message(&body));
        body.extend_from_slice(&sig.to_bytes());
        Ok(URL_SAFE_NO_PAD.encode(body))
    }

    /// The token printed on a challan. Cannot fail: a challan number is short ASCII and codes are
    /// ASCII slugs of at most 64 bytes, by construction.
    pub fn sign_challan(&self, c: &crate::challan::Challan) -> String {
        self.sign(&TokenPayload {
            kind: TokenKind::Challan,
            number: c.number.to_string(),
            amount: c.amount,
            department: c.department.clone(),
            district: c.district.clone(),
            at: c.issued_at,
        })
        .expect("challan numbers and codes are short ASCII by construction")
    }

    /// The token printed on a payment receipt: the receipt number, the amount paid and when.
    pub fn sign_receipt(
        &self,
        receipt_number: &str,
        amount_paid: Money,
        department: &DepartmentCode,
        district: &DistrictCode,
        paid_at: OffsetDateTime,
    ) -> Result<String, SignError> {
        self.sign(&TokenPayload {
            kind: TokenKind::Receipt,
            number: receipt_number.to_string(),
            amount: amount_paid,
            department: department.clone(),
            district: district.clone(),
            at: paid_at,
        })
    }
}

/// Signed log heads start with this: a head signature can never pass as a token's, nor a
/// token's as a head's.
const HEAD_DOMAIN: &[u8] = b"efine-log-head-v1\0";

/// What a published log head's signature covers: the sequence of the last event, its hash and
/// when the head was published (Unix seconds), each fixed-width.
fn head_message(seq: i64, hash: &[u8; 32], published_at: i64) -> Vec<u8> {
    let mut m = Vec::with_capacity(HEAD_DOMAIN.len() + 48);
    m.extend_from_slice(HEAD_DOMAIN);
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(hash);
    m.extend_from_slice(&published_at.to_be_bytes());
    m
}

impl TokenSigner {
    /// Signs a head of the event log (see `KeyRing::verify_log_head`).
    pub fn sign_log_head(&self, seq: i64, hash: &[u8; 32], published_at: i64) -> [u8; SIG_LEN] {
        self.key
            .sign(&head_message(seq, hash, published_at))
            .to_bytes()
    }
}

/// The public keys a verifier trusts, by id.
#[derive(Debug, Clone, Default)]
pub struct KeyRing {
    keys: BTreeMap<KeyId, VerifyingKey>,
    /// Keys that sign only what was made before an instant: an officer's device key from its
    /// revocation on (`crate::device`).
    revoked: BTreeMap<KeyId, OffsetDateTime>,
}

impl KeyRing {
    pub fn new() -> KeyRing {
        KeyRing::default()
    }

    /// Adds a key; returns its id.
    pub fn add(&mut self, key: VerifyingKey) -> KeyId {
        let kid = KeyId::of(&key);
        self.keys.insert(kid, key);
        kid
    }

    /// Adds a key that vouches only for tokens whose time is before `revoked_at` (a revoked
    /// device's key: what it signed before still verifies, nothing later).
    pub fn add_revoked(&mut self, key: VerifyingKey, revoked_at: OffsetDateTime) -> KeyId {
        let kid = self.add(key);
        self.revoked.insert(kid, revoked_at);
        kid
    }

    /// When a key stopped vouching, if it did.
    pub fn revoked_at(&self, kid: KeyId) -> Option<OffsetDateTime> {
        self.revoked.get(&kid).copied()
    }

    /// Adds a key from its 32 public bytes.
    pub fn add_bytes(&mut self, public: &[u8; 32]) -> Result<KeyId, crate::ParseError> {
        let key = VerifyingKey::from_bytes(public)
            .map_err(|_| crate::ParseError::new("not an Ed25519 public key"))?;
        Ok(self.add(key))
    }

    pub fn keys(&self) -> impl Iterator<Item = (KeyId, &VerifyingKey)> {
        self.keys.iter().map(|(k, v)| (*k, v))
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Checks the signature of a published log head made by key `kid`.
    pub fn verify_log_head(
        &self,
        kid: KeyId,
        seq: i64,
        hash: &[u8; 32],
        published_at: i64,
        signature: &[u8],
    ) -> Result<(), TokenError> {
        let key = self.keys.get(&kid).ok_or(TokenError::UnknownKey(kid))?;
        let sig: [u8; SIG_LEN] = signature
            .try_into()
            .map_err(|_| TokenError::Malformed("a signature is 64 bytes"))?;
        key.verify_strict(
            &head_message(seq, hash, published_at),
            &Signature::from_bytes(&sig),
        )
        .map_err(|_| TokenError::BadSignature)
    }

    /// Checks a token and returns what it says, with the id of the key that signed it.
    pub fn verify(&self, token: &str) -> Result<(KeyId, TokenPayload), TokenError> {
        let token = token.trim();
        if token.len() > MAX_TOKEN_CHARS {
            return Err(TokenError::Malformed("too long"));
        }
        let raw = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| TokenError::Malformed("not base64url"))?;
        if raw.len() < SIG_LEN {
            return Err(TokenError::Malformed("too short"));
        }
        let (body, sig) = raw.split_at(raw.len() - SIG_LEN);
        let (kid, payload) = decode(body)?;
        let key = self.keys.get(&kid).ok_or(TokenError::UnknownKey(kid))?;
        let sig = Signature::from_bytes(sig.try_into().expect("64 bytes"));
        key.verify_strict(&signed_message(body), &sig)
            .map_err(|_| TokenError::BadSignature)?;
        if let Some(r) = self.revoked.get(&kid) {
            if payload.at >= *r {
                return Err(TokenError::Revoked(kid));
            }
        }
        Ok((kid, payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_head_signature_covers_sequence_hash_and_time() {
        let signer = TokenSigner::from_secret(&[7u8; 32]);
        let mut ring = KeyRing::new();
        ring.add(signer.verifying_key());
        let kid = signer.key_id();
        let hash = [3u8; 32];
        let sig = signer.sign_log_head(42, &hash, 1_795_000_000);
        assert_eq!(
            ring.verify_log_head(kid, 42, &hash, 1_795_000_000, &sig),
            Ok(())
        );
        let bad = Err(TokenError::BadSignature);
        assert_eq!(
            ring.verify_log_head(kid, 43, &hash, 1_795_000_000, &sig),
            bad
        );
        assert_eq!(
            ring.verify_log_head(kid, 42, &[4u8; 32], 1_795_000_000, &sig),
            bad
        );
        assert_eq!(
            ring.verify_log_head(kid, 42, &hash, 1_795_000_001, &sig),
            bad
        );
        let other = TokenSigner::from_secret(&[8u8; 32]).key_id();
        assert_eq!(
            ring.verify_log_head(other, 42, &hash, 1_795_000_000, &sig),
            Err(TokenError::UnknownKey(other))
        );
    }

    fn payload() -> TokenPayload {
        TokenPayload {
            kind: TokenKind::Challan,
            number: "TRF-PSH-2026-004219".into(),
            amount: Money::from_rupees(500).unwrap(),
            department: DepartmentCode::parse("traffic-police").unwrap(),
            district: DistrictCode::parse("peshawar").unwrap(),
            at: OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap(),
        }
    }

    fn signer(seed: u8) -> TokenSigner {
        TokenSigner::from_secret(&[seed; 32])
    }

    fn ring(signers: &[&TokenSigner]) -> KeyRing {
        let mut r = KeyRing::new();
        for s in signers {
            r.add(s.verifying_key());
        }
        r
    }

    #[test]
    fn round_trip() {
        let s = signer(1);
        let t = s.sign(&payload()).unwrap();
        assert!(t.len() < 200, "token is {} chars", t.len());
        let (kid, p) = ring(&[&s]).verify(&t).unwrap();
        assert_eq!(kid, s.key_id());
        assert_eq!(p, payload());
    }

    #[test]
    fn receipt_kind_round_trips() {
        let s = signer(1);
        let t = s
            .sign_receipt(
                "RCP-2026-00000042",
                Money::from_rupees(1000).unwrap(),
                &DepartmentCode::parse("traffic-police").unwrap(),
                &DistrictCode::parse("swat").unwrap(),
                OffsetDateTime::from_unix_timestamp(1_795_100_000).unwrap(),
            )
            .unwrap();
        let (_, p) = ring(&[&s]).verify(&t).unwrap();
        assert_eq!(p.kind, TokenKind::Receipt);
        assert_eq!(p.number, "RCP-2026-00000042");
        assert_eq!(p.amount.paisa(), 100_000);
        assert_eq!(p.district.as_str(), "swat");
    }

    #[test]
    fn every_altered_byte_is_rejected() {
        let s = signer(1);
        let r = ring(&[&s]);
        let raw = URL_SAFE_NO_PAD.decode(s.sign(&payload()).unwrap()).unwrap();
        for i in 0..raw.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut bad = raw.clone();
                bad[i] ^= flip;
                let res = r.verify(&URL_SAFE_NO_PAD.encode(&bad));
                assert!(res.is_err(), "byte {i} xor {flip:#x} accepted");
            }
        }
    }

    #[test]
    fn every_altered_character_is_rejected() {
        let s = signer(1);
        let r = ring(&[&s]);
        let t = s.sign(&payload()).unwrap();
        for i in 0..t.len() {
            let mut chars: Vec<char> = t.chars().collect();
            chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
            let bad: String = chars.into_iter().collect();
            assert!(
                r.verify(&bad).is_err(),
                "character {i} changed and accepted"
            );
        }
    }

    #[test]
    fn unknown_key_is_named() {
        let s = signer(1);
        let other = signer(2);
        let t = s.sign(&payload()).unwrap();
        assert_eq!(
            ring(&[&other]).verify(&t),
            Err(TokenError::UnknownKey(s.key_id()))
        );
    }

    #[test]
    fn a_signature_from_another_key_with_a_known_id_fails() {
        // Forge: payload names key 1, signature made by key 2.
        let real = signer(1);
        let forger = signer(2);
        let body = encode(&payload(), real.key_id()).unwrap();
        let mut raw = body.clone();
        raw.extend_from_slice(&forger.key.sign(&signed_message(&body)).to_bytes());
        assert_eq!(
            ring(&[&real]).verify(&URL_SAFE_NO_PAD.encode(raw)),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn rotation_keeps_old_tokens_valid() {
        let old = signer(1);
        let new = signer(2);
        let old_token = old.sign(&payload()).unwrap();
        let new_token = new.sign(&payload()).unwrap();
        let r = ring(&[&old, &new]);
        assert_eq!(r.verify(&old_token).unwrap().0, old.key_id());
        assert_eq!(r.verify(&new_token).unwrap().0, new.key_id());
        assert_ne!(old.key_id(), new.key_id());
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        let r = ring(&[&signer(1)]);
        for t in ["", "!!!", "AAAA", &"A".repeat(600), "aGVsbG8"] {
            assert!(matches!(r.verify(t), Err(TokenError::Malformed(_))), "{t}");
        }
    }

    fn challan() -> crate::challan::Challan {
        crate::challan::Challan {
            number: crate::ChallanNumber::parse("TRF-PSH-2026-004219").unwrap(),
            psid: crate::Psid::for_challan(2026, 1, 38, 4219),
            department: DepartmentCode::parse("traffic-police").unwrap(),
            district: DistrictCode::parse("peshawar").unwrap(),
            offence: crate::OffenceCode::parse("no-helmet").unwrap(),
            offence_version: 1,
            kind: crate::OffenceKind::Fine,
            amount: Money::from_rupees(500).unwrap(),
            // Sub-second part: the token keeps seconds, and still matches.
            issued_at: OffsetDateTime::from_unix_timestamp_nanos(1_795_000_000_123_456_000)
                .unwrap(),
            due_date: time::macros::date!(2026 - 12 - 09),
            officer: "officer".into(),
            vehicle: None,
            vehicle_authority: None,
            cnic: None,
            mobile: None,
            name: None,
            location: Default::default(),
            notes: None,
            penalty: Default::default(),
            status: crate::ChallanStatus::Unpaid,
            adjustments: Default::default(),
        }
    }

    #[test]
    fn a_challan_token_matches_its_record_and_names_what_differs() {
        let s = signer(1);
        let c = challan();
        let (_, p) = ring(&[&s]).verify(&s.sign_challan(&c)).unwrap();
        assert_eq!(p.check_challan(&c), Ok(()));
        let mut other = c.clone();
        other.amount = Money::from_rupees(50).unwrap();
        assert_eq!(p.check_challan(&other), Err("amount"));
        let mut other = c.clone();
        other.district = DistrictCode::parse("swat").unwrap();
        assert_eq!(p.check_challan(&other), Err("district"));
        let mut other = c;
        other.issued_at += time::Duration::seconds(1);
        assert_eq!(p.check_challan(&other), Err("issued time"));
    }

    #[test]
    fn a_revoked_key_vouches_only_for_what_it_signed_before() {
        let s = signer(4);
        let mut r = KeyRing::new();
        let at = payload().at;
        r.add_revoked(s.verifying_key(), at + time::Duration::seconds(1));
        assert!(r.verify(&s.sign(&payload()).unwrap()).is_ok());
        let mut later = payload();
        later.at = at + time::Duration::seconds(1);
        assert_eq!(
            r.verify(&s.sign(&later).unwrap()),
            Err(TokenError::Revoked(s.key_id()))
        );
    }

    #[test]
    fn key_id_round_trips() {
        let s = signer(3);
        let kid = s.key_id();
        assert_eq!(KeyId::parse(&kid.to_string()).unwrap(), kid);
        assert!(KeyId::parse("xyz").is_err());
    }
}
