//! Money as integer paisa (1 rupee = 100 paisa). No floats anywhere near money.

use crate::ParseError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount of Pakistani rupees in paisa. Never negative: debts and credits are told apart by
/// the ledger side, not by sign.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(try_from = "i64", into = "i64")]
pub struct Money(i64);

/// The largest amount the system accepts: the 1Bill wire carries 13 digits of paisa.
pub const MAX_PAISA: i64 = 9_999_999_999_999;

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn from_paisa(paisa: i64) -> Result<Money, ParseError> {
        if !(0..=MAX_PAISA).contains(&paisa) {
            return Err(ParseError::new(format!(
                "amount must be between 0 and {MAX_PAISA} paisa"
            )));
        }
        Ok(Money(paisa))
    }

    pub fn from_rupees(rupees: i64) -> Result<Money, ParseError> {
        rupees
            .checked_mul(100)
            .ok_or_else(|| ParseError::new("amount too large"))
            .and_then(Money::from_paisa)
    }

    pub fn paisa(self) -> i64 {
        self.0
    }

    /// Parses a rupee amount as people write it: `1200`, `1,200`, `1200.5`, `Rs 1,200.50`.
    /// At most two decimals; anything else is refused rather than rounded.
    pub fn parse(s: &str) -> Result<Money, ParseError> {
        let t = s.trim();
        let t = t
            .strip_prefix("Rs.")
            .or_else(|| t.strip_prefix("Rs"))
            .or_else(|| t.strip_prefix("PKR"))
            .unwrap_or(t)
            .trim();
        let cleaned: String = t.chars().filter(|c| *c != ',').collect();
        let (whole, frac) = match cleaned.split_once('.') {
            Some((w, f)) => (w, f),
            None => (cleaned.as_str(), ""),
        };
        if whole.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || frac.len() > 2
            || whole.len() > 11
        {
            return Err(ParseError::new(format!(
                "'{s}' is not an amount in rupees (e.g. 1200 or 1200.50)"
            )));
        }
        let whole: i64 = whole
            .parse()
            .map_err(|_| ParseError::new("amount too large"))?;
        let frac: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().unwrap_or(0) * 10,
            _ => frac.parse::<i64>().unwrap_or(0),
        };
        Money::from_paisa(whole * 100 + frac)
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0
            .checked_add(other.0)
            .and_then(|p| Money::from_paisa(p).ok())
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0
            .checked_sub(other.0)
            .and_then(|p| Money::from_paisa(p).ok())
    }

    /// Multiplies by a whole factor (e.g. 2 for the doubled surcharge).
    pub fn checked_mul(self, factor: i64) -> Option<Money> {
        self.0
            .checked_mul(factor)
            .and_then(|p| Money::from_paisa(p).ok())
    }

    /// `self * numerator / denominator`, rounded half up to the paisa. Used for percentage
    /// surcharges and discounts expressed in basis points.
    pub fn mul_ratio(self, numerator: i64, denominator: i64) -> Option<Money> {
        if denominator <= 0 || numerator < 0 {
            return None;
        }
        let n = (self.0 as i128) * (numerator as i128);
        let q = (n + (denominator as i128) / 2) / denominator as i128;
        i64::try_from(q)
            .ok()
            .and_then(|p| Money::from_paisa(p).ok())
    }

    /// `Rs 1,200` or `Rs 1,200.50`: rupees with thousands separators, paisa only when present.
    pub fn display(self) -> String {
        self.to_string()
    }
}

impl TryFrom<i64> for Money {
    type Error = ParseError;
    fn try_from(p: i64) -> Result<Self, Self::Error> {
        Money::from_paisa(p)
    }
}

impl From<Money> for i64 {
    fn from(m: Money) -> i64 {
        m.0
    }
}

fn group_thousands(mut n: i64) -> String {
    let mut parts = Vec::new();
    loop {
        if n < 1000 {
            parts.push(n.to_string());
            break;
        }
        parts.push(format!("{:03}", n % 1000));
        n /= 1000;
    }
    parts.reverse();
    parts.join(",")
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rupees = self.0 / 100;
        let paisa = self.0 % 100;
        if paisa == 0 {
            write!(f, "Rs {}", group_thousands(rupees))
        } else {
            write!(f, "Rs {}.{:02}", group_thousands(rupees), paisa)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_common_forms() {
        assert_eq!(Money::parse("1200").unwrap().paisa(), 120_000);
        assert_eq!(Money::parse("1,200").unwrap().paisa(), 120_000);
        assert_eq!(Money::parse("Rs 1,200.5").unwrap().paisa(), 120_050);
        assert_eq!(Money::parse("Rs. 0.05").unwrap().paisa(), 5);
        assert!(Money::parse("-5").is_err());
        assert!(Money::parse("1.234").is_err());
        assert!(Money::parse("").is_err());
        assert!(Money::parse("12e3").is_err());
        assert!(Money::from_paisa(-1).is_err());
    }

    #[test]
    fn displays_with_separators() {
        assert_eq!(Money::from_paisa(120_000).unwrap().to_string(), "Rs 1,200");
        assert_eq!(
            Money::from_paisa(100_000_050).unwrap().to_string(),
            "Rs 1,000,000.50"
        );
        assert_eq!(Money::from_paisa(7).unwrap().to_string(), "Rs 0.07");
    }

    #[test]
    fn ratio_rounds_half_up() {
        let m = Money::from_paisa(101).unwrap();
        assert_eq!(m.mul_ratio(1, 2).unwrap().paisa(), 51);
        assert_eq!(m.mul_ratio(15_000, 10_000).unwrap().paisa(), 152);
    }

    proptest! {
        #[test]
        fn display_parse_roundtrip(p in 0i64..=MAX_PAISA) {
            let m = Money::from_paisa(p).unwrap();
            prop_assert_eq!(Money::parse(&m.to_string()).unwrap(), m);
        }

        #[test]
        fn json_roundtrip(p in 0i64..=MAX_PAISA) {
            let m = Money::from_paisa(p).unwrap();
            let s = serde_json::to_string(&m).unwrap();
            prop_assert_eq!(s.clone(), p.to_string());
            prop_assert_eq!(serde_json::from_str::<Money>(&s).unwrap(), m);
        }
    }
}
