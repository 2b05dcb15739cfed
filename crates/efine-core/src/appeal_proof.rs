//! Proof that the person lodging an appeal is the person charged: a one-time code sent to the
//! challan's mobile, or, where the challan has no mobile to send it to, the CNIC on the challan.
//!
//! Challan numbers are sequential and printed on paper, so without a proof anyone could use up
//! a citizen's only appeal. A code is 6 digits drawn from the operating system's generator
//! (the caller draws it; this module has no IO), stored only as a salted SHA-256, valid for
//! [`CODE_TTL`], void after [`MAX_TRIES`] wrong tries; a challan gets at most [`CODES_PER_DAY`]
//! codes a day, [`RESEND_AFTER`] apart. So a guesser has at most 5 x 5 = 25 tries a day against
//! 1,000,000 codes (odds 1 in 40,000 a day), and every code costs the citizen an SMS they see.
//! A CNIC is compared, never echoed, and at most [`CNIC_FAILURES_PER_DAY`] wrong ones a day are
//! accepted for a challan.

use crate::ParseError;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

/// Digits in a code.
pub const CODE_DIGITS: usize = 6;
/// How long a code is valid after it is sent.
pub const CODE_TTL: Duration = Duration::minutes(10);
/// Wrong tries after which a code is void.
pub const MAX_TRIES: i64 = 5;
/// Codes a challan may be sent in 24 hours.
pub const CODES_PER_DAY: usize = 5;
/// The least time between two codes for one challan.
pub const RESEND_AFTER: Duration = Duration::seconds(60);
/// Wrong CNICs accepted for a challan in 24 hours; more are refused until the day has passed.
pub const CNIC_FAILURES_PER_DAY: i64 = 5;

/// A code as typed: 6 digits (spaces and dashes between them are dropped).
#[derive(Clone, PartialEq, Eq)]
pub struct Code(String);

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Code(******)")
    }
}

impl Code {
    pub fn parse(s: &str) -> Result<Code, ParseError> {
        let digits: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if digits.len() == CODE_DIGITS && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Code(digits))
        } else {
            Err(ParseError::new("the code is the 6 digits in the SMS"))
        }
    }

    /// A code from a number below 1,000,000 (drawn by the caller from the OS generator).
    pub fn from_number(n: u32) -> Code {
        Code(format!("{:06}", n % 1_000_000))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What is stored: SHA-256 over the challan number, the row's random salt and the code,
    /// hex. The challan number binds a code to its challan.
    pub fn hash(&self, challan: &str, salt: &str) -> String {
        let mut h = Sha256::new();
        for part in [
            b"efine-appeal-code-v1".as_slice(),
            challan.as_bytes(),
            salt.as_bytes(),
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        h.update(self.0.as_bytes());
        hex::encode(h.finalize())
    }
}

/// Compares two strings in time that does not depend on where they differ.
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Why no code is sent now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotNow {
    /// One was sent less than [`RESEND_AFTER`] ago: wait this many seconds.
    TooSoon { wait_seconds: i64 },
    /// [`CODES_PER_DAY`] were sent in the last 24 hours.
    TooMany,
}

/// Whether a challan whose codes were sent at `sent` (any order) may be sent another at `now`.
pub fn may_send(sent: &[OffsetDateTime], now: OffsetDateTime) -> Result<(), NotNow> {
    let day: Vec<&OffsetDateTime> = sent.iter().filter(|t| **t > now - Duration::DAY).collect();
    if day.len() >= CODES_PER_DAY {
        return Err(NotNow::TooMany);
    }
    if let Some(last) = day.iter().max() {
        let next = **last + RESEND_AFTER;
        if next > now {
            return Err(NotNow::TooSoon {
                wait_seconds: (next - now).whole_seconds().max(1),
            });
        }
    }
    Ok(())
}

/// Why a proof was not accepted. The messages never repeat what was typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofError {
    /// The challan has a mobile and no code was given, or none was ever sent.
    CodeRequired,
    /// The latest code has expired or was used: ask for a new one.
    CodeExpired,
    /// Too many wrong tries: the code is void; ask for a new one.
    CodeVoid,
    /// Wrong code; this many tries are left.
    CodeWrong { tries_left: i64 },
    /// The challan has no mobile: the CNIC on it is the proof.
    CnicRequired,
    /// The CNIC given is not the one on the challan.
    CnicWrong,
    /// Too many wrong CNICs for this challan today.
    CnicLocked,
    /// The challan has neither a mobile nor a CNIC: appeal at the department's office.
    NoProofPossible,
}

impl ProofError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ProofError::CodeRequired => "code_required",
            ProofError::CodeExpired => "code_expired",
            ProofError::CodeVoid => "code_void",
            ProofError::CodeWrong { .. } => "code_wrong",
            ProofError::CnicRequired => "cnic_required",
            ProofError::CnicWrong => "cnic_wrong",
            ProofError::CnicLocked => "cnic_locked",
            ProofError::NoProofPossible => "no_proof_possible",
        }
    }

    /// The field the caller should correct.
    pub fn field(&self) -> &'static str {
        match self {
            ProofError::CnicRequired | ProofError::CnicWrong | ProofError::CnicLocked => "cnic",
            _ => "code",
        }
    }
}

impl std::fmt::Display for ProofError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProofError::CodeRequired => f.write_str(
                "a code sent to the challan's mobile is needed: request one, then send it with the appeal",
            ),
            ProofError::CodeExpired => {
                f.write_str("the code has expired or was used: request a new one")
            }
            ProofError::CodeVoid => {
                f.write_str("too many wrong codes: this code no longer works; request a new one")
            }
            ProofError::CodeWrong { tries_left } => {
                write!(f, "the code is not right; {tries_left} tries left")
            }
            ProofError::CnicRequired => {
                f.write_str("this challan has no mobile number: give the CNIC on the challan")
            }
            ProofError::CnicWrong => f.write_str("the CNIC does not match the challan"),
            ProofError::CnicLocked => f.write_str(
                "too many wrong CNICs for this challan today: try again tomorrow or appeal at the department's office",
            ),
            ProofError::NoProofPossible => f.write_str(
                "this challan has no mobile number or CNIC to prove who you are: appeal at the department's office",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn codes_parse_as_six_digits_and_never_print() {
        assert_eq!(Code::parse(" 123 456 ").unwrap().as_str(), "123456");
        assert_eq!(Code::parse("123-456").unwrap().as_str(), "123456");
        for bad in ["12345", "1234567", "12345a", "", "١٢٣٤٥٦"] {
            assert!(Code::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Code::from_number(42).as_str(), "000042");
        assert!(!format!("{:?}", Code::parse("123456").unwrap()).contains("123456"));
    }

    #[test]
    fn a_hash_binds_challan_salt_and_code() {
        let c = Code::parse("123456").unwrap();
        let h = c.hash("TRF-PSH-2026-000001", "salt");
        assert_eq!(h.len(), 64);
        assert!(!h.contains("123456"));
        assert_ne!(h, c.hash("TRF-PSH-2026-000002", "salt"));
        assert_ne!(h, c.hash("TRF-PSH-2026-000001", "other"));
        assert_ne!(
            h,
            Code::parse("123457")
                .unwrap()
                .hash("TRF-PSH-2026-000001", "salt")
        );
        assert!(same(&h, &c.hash("TRF-PSH-2026-000001", "salt")));
        assert!(!same(&h, &h[1..]));
    }

    #[test]
    fn codes_are_limited_per_challan() {
        let t = datetime!(2026-11-24 05:00 UTC);
        assert_eq!(may_send(&[], t), Ok(()));
        assert_eq!(
            may_send(&[t - Duration::seconds(20)], t),
            Err(NotNow::TooSoon { wait_seconds: 40 })
        );
        assert_eq!(may_send(&[t - Duration::seconds(60)], t), Ok(()));
        let five: Vec<_> = (1..=5).map(|i| t - Duration::hours(i)).collect();
        assert_eq!(may_send(&five, t), Err(NotNow::TooMany));
        // Five in the day, one of them just outside it: a sixth may go.
        let mut edge = five.clone();
        edge[4] = t - Duration::hours(24);
        assert_eq!(may_send(&edge, t), Ok(()));
        let older: Vec<_> = (1..=5).map(|i| t - Duration::hours(24 + i)).collect();
        assert_eq!(may_send(&older, t), Ok(()));
    }
}
