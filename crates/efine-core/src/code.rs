//! Catalogue codes: lowercase slugs such as `traffic-police`, `peshawar`, `no-helmet`.

use crate::ParseError;
use serde::{Deserialize, Serialize};
use std::fmt;

fn check_slug(kind: &str, s: &str) -> Result<String, ParseError> {
    let t = s.trim().to_ascii_lowercase();
    let ok = !t.is_empty()
        && t.len() <= 64
        && t.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if ok {
        Ok(t)
    } else {
        Err(ParseError::new(format!(
            "'{s}' is not a {kind} code (lowercase letters, digits and single dashes, e.g. traffic-police)"
        )))
    }
}

macro_rules! slug_type {
    ($name:ident, $kind:literal) => {
        #[doc = concat!("A ", $kind, " code: a lowercase slug.")]
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, ParseError> {
                check_slug($kind, s).map($name)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ParseError;
            fn try_from(s: String) -> Result<Self, ParseError> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(c: $name) -> String {
                c.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

slug_type!(DepartmentCode, "department");
slug_type!(DistrictCode, "district");
slug_type!(OffenceCode, "offence");
slug_type!(ServiceCode, "service");

/// Three upper-case letters that stand for a department or district inside a challan number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Abbr(String);

impl Abbr {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let t = s.trim().to_ascii_uppercase();
        if t.len() == 3 && t.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Abbr(t))
        } else {
            Err(ParseError::new(format!(
                "'{s}' is not a three-letter abbreviation"
            )))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Abbr {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Self::parse(&s)
    }
}

impl From<Abbr> for String {
    fn from(c: Abbr) -> String {
        c.0
    }
}

impl fmt::Display for Abbr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(
            DepartmentCode::parse(" Traffic-Police ").unwrap().as_str(),
            "traffic-police"
        );
        assert!(DistrictCode::parse("dera ismail khan").is_err());
        assert!(DistrictCode::parse("-swat").is_err());
        assert!(DistrictCode::parse("swat--upper").is_err());
        assert!(OffenceCode::parse("").is_err());
        assert_eq!(Abbr::parse("psh").unwrap().as_str(), "PSH");
        assert!(Abbr::parse("PS1").is_err());
    }
}
