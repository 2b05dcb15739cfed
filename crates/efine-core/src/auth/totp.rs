//! Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP, HMAC-SHA-1, 6 digits, 30-second
//! steps): the second factor of staff whose role approves or reads everything
//! ([`super::Role::needs_second_factor`]), and the one-time recovery codes that stand in for it.
//! Pure: the secret's and the codes' randomness comes from the caller.

use hmac::{Hmac, Mac};
use sha2::Digest;

/// Seconds per step.
pub const STEP: i64 = 30;
/// Steps either side of now that are still accepted (clock drift between phone and server).
pub const WINDOW: i64 = 1;

/// A shared TOTP secret: 20 bytes (160 bits, RFC 4226's recommendation).
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret([u8; 20]);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(..)")
    }
}

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buf = (buf << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            out.push(B32[((buf >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(B32[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

impl TotpSecret {
    pub fn from_bytes(bytes: [u8; 20]) -> TotpSecret {
        TotpSecret(bytes)
    }

    /// The secret as authenticator apps take it (RFC 4648 base32, no padding): 32 characters.
    pub fn base32(&self) -> String {
        base32(&self.0)
    }

    /// Reads [`TotpSecret::base32`] back (case and spaces ignored).
    pub fn parse_base32(s: &str) -> Option<TotpSecret> {
        let mut out = Vec::with_capacity(20);
        let (mut buf, mut bits) = (0u32, 0u32);
        for c in s.chars().filter(|c| !c.is_whitespace() && *c != '=') {
            let v = B32
                .iter()
                .position(|&b| b == c.to_ascii_uppercase() as u8)? as u32;
            buf = (buf << 5) | v;
            bits += 5;
            if bits >= 8 {
                out.push((buf >> (bits - 8)) as u8);
                bits -= 8;
                buf &= (1 << bits) - 1;
            }
        }
        <[u8; 20]>::try_from(out.as_slice()).ok().map(TotpSecret)
    }

    /// The `otpauth://` URI an authenticator app reads from the enrolment QR code.
    pub fn uri(&self, issuer: &str, account: &str) -> String {
        let enc = |s: &str| -> String {
            s.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect()
        };
        format!(
            "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period=30",
            enc(issuer),
            enc(account),
            self.base32(),
            enc(issuer)
        )
    }

    /// The code of the step that contains `unix` (seconds since the epoch).
    pub fn code_at(&self, unix: i64) -> String {
        format!("{:06}", hotp(&self.0, unix.div_euclid(STEP) as u64, 6))
    }

    /// The step whose code `code` is, within [`WINDOW`] steps of `unix`; `None` if none.
    /// Every step of the window is compared, so the time taken does not say which one matched.
    pub fn verify(&self, code: &str, unix: i64) -> Option<i64> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let now = unix.div_euclid(STEP);
        let mut found = None;
        for step in now - WINDOW..=now + WINDOW {
            let expected = format!("{:06}", hotp(&self.0, step as u64, 6));
            if subtle_eq(expected.as_bytes(), code.as_bytes()) && found.is_none() {
                found = Some(step);
            }
        }
        found
    }
}

/// Compares two byte strings without stopping at the first difference.
fn subtle_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// RFC 4226 HOTP with HMAC-SHA-1, `digits` decimal digits.
pub fn hotp(key: &[u8], counter: u64, digits: u32) -> u32 {
    let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = (h[19] & 0x0f) as usize;
    let bin = (u32::from(h[off]) & 0x7f) << 24
        | u32::from(h[off + 1]) << 16
        | u32::from(h[off + 2]) << 8
        | u32::from(h[off + 3]);
    bin % 10u32.pow(digits)
}

/// How many recovery codes an enrolment gives.
pub const RECOVERY_CODES: usize = 10;

/// A recovery code as shown to the user, from 15 random bytes: 24 base32 characters (120 bits)
/// in four groups (`ABCDEF-GHIJKL-MNOPQR-STUVWX`).
pub fn recovery_code(random: [u8; 15]) -> String {
    let s = base32(&random);
    s.as_bytes()
        .chunks(6)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("-")
}

/// What is stored of a recovery code: SHA-256 of its normal form (upper case, no dashes or
/// spaces). 120 random bits need no slow hash: no list of guesses reaches them.
pub fn recovery_code_hash(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    hex::encode(sha2::Sha256::digest(
        format!("efine-recovery:{normal}").as_bytes(),
    ))
}

/// Whether what was typed looks like a recovery code rather than a 6-digit code.
pub fn looks_like_recovery_code(s: &str) -> bool {
    s.chars().filter(|c| c.is_ascii_alphanumeric()).count() == 24
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_KEY: &[u8; 20] = b"12345678901234567890";

    #[test]
    fn rfc4226_hotp_vectors() {
        let expected = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (i, e) in expected.iter().enumerate() {
            assert_eq!(hotp(RFC_KEY, i as u64, 6), *e, "counter {i}");
        }
    }

    #[test]
    fn rfc6238_sha1_vectors() {
        // Appendix B, SHA-1 column, 8 digits.
        for (t, e) in [
            (59i64, 94287082u32),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ] {
            assert_eq!(hotp(RFC_KEY, (t / 30) as u64, 8), e, "time {t}");
        }
        let s = TotpSecret::from_bytes(*RFC_KEY);
        assert_eq!(s.code_at(59), "287082");
        assert_eq!(s.code_at(1111111109), "081804");
    }

    #[test]
    fn verify_accepts_one_step_either_side_and_nothing_else() {
        let s = TotpSecret::from_bytes(*RFC_KEY);
        let t = 1_234_567_890;
        assert_eq!(s.verify(&s.code_at(t), t), Some(t / 30));
        assert_eq!(s.verify(&s.code_at(t - 30), t), Some(t / 30 - 1));
        assert_eq!(s.verify(&s.code_at(t + 30), t), Some(t / 30 + 1));
        assert_eq!(s.verify(&s.code_at(t - 90), t), None);
        assert_eq!(s.verify("12345", t), None);
        assert_eq!(s.verify("abcdef", t), None);
    }

    #[test]
    fn base32_round_trip_and_uri() {
        let s = TotpSecret::from_bytes(*RFC_KEY);
        assert_eq!(s.base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(
            TotpSecret::parse_base32(&s.base32().to_lowercase()),
            Some(s.clone())
        );
        assert_eq!(TotpSecret::parse_base32("GEZDG"), None);
        assert!(s
            .uri("E-Fine KP", "demo.admin")
            .starts_with("otpauth://totp/E-Fine%20KP:demo.admin?secret=GEZDGNBVGY3TQOJQ"));
    }

    #[test]
    fn recovery_codes_normalise() {
        let c = recovery_code([7; 15]);
        assert_eq!(c.len(), 27);
        assert!(looks_like_recovery_code(&c));
        assert_eq!(
            recovery_code_hash(&c),
            recovery_code_hash(&c.replace('-', " ").to_lowercase())
        );
        assert!(!looks_like_recovery_code("123456"));
    }
}
