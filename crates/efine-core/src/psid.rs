//! PSID: the numeric consumer number banks, ATMs and wallets use to pay a challan.
//!
//! Layout (16 digits): `YY DD dd SSSSSSSSS C`: year, department number, district number, the
//! challan's sequence within them, and a Damm check digit. The Damm check catches every single
//! mistyped digit and every swap of two adjacent digits, so a mistyped PSID is refused before
//! any lookup.

use crate::ParseError;
use serde::{Deserialize, Serialize};
use std::fmt;

const DAMM: [[u8; 10]; 10] = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
    [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
    [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
    [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
    [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
    [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
    [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
    [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
    [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

fn damm_interim(digits: &[u8]) -> u8 {
    digits
        .iter()
        .fold(0u8, |state, d| DAMM[state as usize][*d as usize])
}

/// A PSID whose check digit holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Psid(String);

/// The longest consumer number 1Bill carries.
pub const MAX_LEN: usize = 18;

impl Psid {
    /// Accepts digits with optional spaces or dashes between groups.
    pub fn parse(s: &str) -> Result<Psid, ParseError> {
        let digits: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if digits.len() < 2 || digits.len() > MAX_LEN || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(ParseError::new(format!(
                "a PSID is 2 to {MAX_LEN} digits; '{s}' is not"
            )));
        }
        let ds: Vec<u8> = digits.bytes().map(|b| b - b'0').collect();
        if damm_interim(&ds) != 0 {
            return Err(ParseError::new(
                "this PSID's check digit does not match: please check for a mistyped digit",
            ));
        }
        Ok(Psid(digits))
    }

    /// Builds the PSID for a challan. `seq` must fit nine digits.
    pub fn for_challan(year: i32, department_no: u8, district_no: u8, seq: u64) -> Psid {
        assert!(department_no < 100 && district_no < 100 && seq < 1_000_000_000);
        let body = format!(
            "{:02}{:02}{:02}{:09}",
            year.rem_euclid(100),
            department_no,
            district_no,
            seq
        );
        Psid::with_check_digit(&body)
    }

    fn with_check_digit(body: &str) -> Psid {
        let ds: Vec<u8> = body.bytes().map(|b| b - b'0').collect();
        let check = damm_interim(&ds);
        Psid(format!("{body}{check}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Psid {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Psid::parse(&s)
    }
}

impl From<Psid> for String {
    fn from(p: Psid) -> String {
        p.0
    }
}

impl fmt::Display for Psid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn layout() {
        let p = Psid::for_challan(2026, 1, 38, 4219);
        assert_eq!(p.as_str().len(), 16);
        assert!(p.as_str().starts_with("260138000004219"));
        assert_eq!(Psid::parse(p.as_str()).unwrap(), p);
        assert!(Psid::parse("12ab").is_err());
        assert!(Psid::parse("1234567890123456789").is_err());
    }

    proptest! {
        #[test]
        fn every_single_digit_error_is_caught(
            year in 2000i32..2100, dept in 0u8..100, dist in 0u8..100, seq in 0u64..1_000_000_000,
            pos in 0usize..16, delta in 1u8..10,
        ) {
            let p = Psid::for_challan(year, dept, dist, seq);
            let mut bytes = p.as_str().as_bytes().to_vec();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let typo = String::from_utf8(bytes).unwrap();
            prop_assert!(Psid::parse(&typo).is_err());
        }

        #[test]
        fn every_adjacent_swap_is_caught(
            year in 2000i32..2100, dept in 0u8..100, dist in 0u8..100, seq in 0u64..1_000_000_000,
            pos in 0usize..15,
        ) {
            let p = Psid::for_challan(year, dept, dist, seq);
            let mut bytes = p.as_str().as_bytes().to_vec();
            prop_assume!(bytes[pos] != bytes[pos + 1]);
            bytes.swap(pos, pos + 1);
            let typo = String::from_utf8(bytes).unwrap();
            prop_assert!(Psid::parse(&typo).is_err());
        }

        #[test]
        fn spaced_input_parses(year in 2000i32..2100, seq in 0u64..1_000_000_000) {
            let p = Psid::for_challan(year, 3, 7, seq);
            let s = p.as_str();
            let spaced = format!("{} {}-{}", &s[..4], &s[4..10], &s[10..]);
            prop_assert_eq!(Psid::parse(&spaced).unwrap(), p);
        }
    }
}
