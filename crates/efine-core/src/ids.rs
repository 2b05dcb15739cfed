//! Identifiers from the field: CNIC, mobile number, vehicle number, challan number.
//! Each accepts what people actually type and keeps one normalised form.

use crate::code::Abbr;
use crate::ParseError;
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! string_serde {
    ($name:ident) => {
        impl TryFrom<String> for $name {
            type Error = ParseError;
            fn try_from(s: String) -> Result<Self, ParseError> {
                $name::parse(&s)
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.to_string()
            }
        }
    };
}

/// Computerised National Identity Card number: 13 digits, printed 5-7-1 (`17301-1234567-1`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cnic(String);

impl Cnic {
    /// Accepts `1730112345671` or `17301-1234567-1` (spaces also tolerated).
    pub fn parse(s: &str) -> Result<Cnic, ParseError> {
        let t = s.trim();
        let digits: String = t.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
        let dashed_ok = if t.contains('-') {
            let parts: Vec<&str> = t.split('-').map(str::trim).collect();
            parts.len() == 3 && parts[0].len() == 5 && parts[1].len() == 7 && parts[2].len() == 1
        } else {
            true
        };
        if digits.len() != 13 || !digits.bytes().all(|b| b.is_ascii_digit()) || !dashed_ok {
            return Err(ParseError::new("a CNIC is 13 digits, e.g. 17301-1234567-1"));
        }
        if digits.starts_with('0') {
            return Err(ParseError::new("a CNIC does not start with 0"));
        }
        Ok(Cnic(digits))
    }

    /// The 13 digits without dashes: the stored and compared form.
    pub fn digits(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Cnic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", &self.0[..5], &self.0[5..12], &self.0[12..])
    }
}
string_serde!(Cnic);

/// A Pakistani mobile number, stored as E.164 (`+923001234567`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MobileNumber(String);

impl MobileNumber {
    /// Accepts `03001234567`, `0300-1234567`, `+923001234567`, `923001234567`, `00923001234567`.
    pub fn parse(s: &str) -> Result<MobileNumber, ParseError> {
        let t: String = s
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
            .collect();
        let national = if let Some(r) = t.strip_prefix("+92") {
            r.to_string()
        } else if let Some(r) = t.strip_prefix("0092") {
            r.to_string()
        } else if t.len() == 12 && t.starts_with("92") {
            t[2..].to_string()
        } else if let Some(r) = t.strip_prefix('0') {
            r.to_string()
        } else {
            t.clone()
        };
        if national.len() != 10
            || !national.starts_with('3')
            || !national.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(ParseError::new(
                "a mobile number is 03XXXXXXXXX (or +923XXXXXXXXX)",
            ));
        }
        Ok(MobileNumber(format!("+92{national}")))
    }

    pub fn e164(&self) -> &str {
        &self.0
    }

    /// `0300-1234567`, as printed on a notice.
    pub fn local(&self) -> String {
        format!("0{}-{}", &self.0[3..6], &self.0[6..])
    }
}

impl fmt::Display for MobileNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
string_serde!(MobileNumber);

/// A vehicle registration number, normalised: upper case, separators removed, one dash between
/// each run of letters and run of digits (`pes 1234`, `PES1234` and `PES-1234` are one plate).
/// Unusual plates are accepted, not rejected: only the characters are checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VehicleNumber(String);

impl VehicleNumber {
    pub fn parse(s: &str) -> Result<VehicleNumber, ParseError> {
        let mut out = String::new();
        let mut last_alpha: Option<bool> = None;
        let mut count = 0;
        for c in s.trim().chars() {
            if matches!(c, ' ' | '-' | '.' | '/' | '_') {
                continue;
            }
            if !c.is_ascii_alphanumeric() {
                return Err(ParseError::new(format!(
                    "'{s}' is not a vehicle number: use the letters and digits on the plate"
                )));
            }
            let alpha = c.is_ascii_alphabetic();
            if let Some(prev) = last_alpha {
                if prev != alpha {
                    out.push('-');
                }
            }
            out.push(c.to_ascii_uppercase());
            last_alpha = Some(alpha);
            count += 1;
        }
        if !(2..=15).contains(&count) {
            return Err(ParseError::new(format!(
                "'{s}' is not a vehicle number: 2 to 15 letters and digits"
            )));
        }
        Ok(VehicleNumber(out))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for VehicleNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
string_serde!(VehicleNumber);

/// A challan number as printed and typed: department, district, year and sequence,
/// `TRF-PSH-2026-004219`. The sequence is gap-free per department, district and year.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ChallanNumber {
    department: Abbr,
    district: Abbr,
    year: i32,
    seq: u64,
}

impl ChallanNumber {
    pub fn new(department: Abbr, district: Abbr, year: i32, seq: u64) -> ChallanNumber {
        ChallanNumber {
            department,
            district,
            year,
            seq,
        }
    }

    /// Accepts any case, and spaces or slashes in place of dashes: `trf psh 2026 4219`.
    pub fn parse(s: &str) -> Result<ChallanNumber, ParseError> {
        let err = || {
            ParseError::new(format!(
                "'{s}' is not a challan number (e.g. TRF-PSH-2026-004219)"
            ))
        };
        let parts: Vec<&str> = s
            .trim()
            .split(['-', ' ', '/'])
            .filter(|p| !p.is_empty())
            .collect();
        if parts.len() != 4 {
            return Err(err());
        }
        let department = Abbr::parse(parts[0]).map_err(|_| err())?;
        let district = Abbr::parse(parts[1]).map_err(|_| err())?;
        if parts[2].len() != 4 || !parts[2].bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        if parts[3].is_empty()
            || parts[3].len() > 9
            || !parts[3].bytes().all(|b| b.is_ascii_digit())
        {
            return Err(err());
        }
        let year: i32 = parts[2].parse().map_err(|_| err())?;
        let seq: u64 = parts[3].parse().map_err(|_| err())?;
        if seq == 0 || year < 2000 {
            return Err(err());
        }
        Ok(ChallanNumber::new(department, district, year, seq))
    }

    pub fn department(&self) -> &Abbr {
        &self.department
    }
    pub fn district(&self) -> &Abbr {
        &self.district
    }
    pub fn year(&self) -> i32 {
        self.year
    }
    pub fn seq(&self) -> u64 {
        self.seq
    }
}

impl fmt::Display for ChallanNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}-{}-{:06}",
            self.department, self.district, self.year, self.seq
        )
    }
}
string_serde!(ChallanNumber);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cnic_forms() {
        let a = Cnic::parse("17301-1234567-1").unwrap();
        let b = Cnic::parse("1730112345671").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "17301-1234567-1");
        assert!(Cnic::parse("1730-11234567-1").is_err());
        assert!(Cnic::parse("173011234567").is_err());
        assert!(Cnic::parse("0730112345671").is_err());
    }

    #[test]
    fn mobile_forms() {
        let want = "+923001234567";
        for s in [
            "03001234567",
            "0300-1234567",
            "+923001234567",
            "923001234567",
            "00923001234567",
        ] {
            assert_eq!(MobileNumber::parse(s).unwrap().e164(), want, "{s}");
        }
        assert_eq!(
            MobileNumber::parse("03001234567").unwrap().local(),
            "0300-1234567"
        );
        assert!(MobileNumber::parse("0421234567").is_err());
        assert!(MobileNumber::parse("0300123456").is_err());
    }

    #[test]
    fn vehicle_forms() {
        let want = "PES-1234";
        for s in ["pes 1234", "PES-1234", "PES1234", " p.e.s 12-34 "] {
            assert_eq!(VehicleNumber::parse(s).unwrap().as_str(), want, "{s}");
        }
        assert_eq!(
            VehicleNumber::parse("ict ab 123").unwrap().as_str(),
            "ICTAB-123"
        );
        assert_eq!(VehicleNumber::parse("1234").unwrap().as_str(), "1234");
        assert!(VehicleNumber::parse("P").is_err());
        assert!(VehicleNumber::parse("PES#1234").is_err());
    }

    #[test]
    fn challan_number_forms() {
        let n = ChallanNumber::parse("trf psh 2026 4219").unwrap();
        assert_eq!(n.to_string(), "TRF-PSH-2026-004219");
        assert_eq!(ChallanNumber::parse("TRF-PSH-2026-004219").unwrap(), n);
        assert_eq!(
            ChallanNumber::parse("TRF-PSH-2026-1234567")
                .unwrap()
                .to_string(),
            "TRF-PSH-2026-1234567"
        );
        assert!(ChallanNumber::parse("TRF-PSH-26-004219").is_err());
        assert!(ChallanNumber::parse("TRF-PSH-2026-000000").is_err());
        assert!(ChallanNumber::parse("TRF-PSH-2026").is_err());
    }

    proptest! {
        #[test]
        fn vehicle_normalisation_is_idempotent(s in "[A-Za-z0-9 -]{2,20}") {
            if let Ok(v) = VehicleNumber::parse(&s) {
                prop_assert_eq!(VehicleNumber::parse(v.as_str()).unwrap(), v);
            }
        }

        #[test]
        fn cnic_roundtrip(d in "[1-9][0-9]{12}") {
            let c = Cnic::parse(&d).unwrap();
            prop_assert_eq!(Cnic::parse(&c.to_string()).unwrap(), c.clone());
            prop_assert_eq!(c.digits(), d.as_str());
        }

        #[test]
        fn mobile_roundtrip(d in "3[0-9]{9}") {
            let m = MobileNumber::parse(&format!("0{d}")).unwrap();
            prop_assert_eq!(MobileNumber::parse(m.e164()).unwrap(), m.clone());
            prop_assert_eq!(MobileNumber::parse(&m.local()).unwrap(), m);
        }

        #[test]
        fn challan_number_roundtrip(dep in "[A-Z]{3}", dis in "[A-Z]{3}", year in 2000i32..=9999, seq in 1u64..1_000_000_000) {
            let n = ChallanNumber::new(Abbr::parse(&dep).unwrap(), Abbr::parse(&dis).unwrap(), year, seq);
            prop_assert_eq!(ChallanNumber::parse(&n.to_string()).unwrap(), n.clone());
            prop_assert_eq!(ChallanNumber::parse(&n.to_string().to_lowercase()).unwrap(), n);
        }

        #[test]
        fn parsers_never_panic(s in "\\PC{0,40}") {
            let _ = Cnic::parse(&s);
            let _ = MobileNumber::parse(&s);
            let _ = VehicleNumber::parse(&s);
            let _ = ChallanNumber::parse(&s);
            let _ = crate::Psid::parse(&s);
            let _ = crate::Money::parse(&s);
        }
    }
}
