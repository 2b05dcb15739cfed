//! The Khyber Pakhtunkhwa catalogue shipped with E-Fine (`data/kp-catalogue.toml`), and the parser
//! for catalogue files an administrator supplies instead.

use crate::StoreError;
use efine_core::catalogue::{Catalogue, CatalogueSeed};

/// The KP reference catalogue, compiled in so a fresh `efine serve` needs no other file.
pub const KP: &str = include_str!("../../../data/kp-catalogue.toml");

pub fn parse(text: &str) -> Result<Catalogue, StoreError> {
    let seed: CatalogueSeed =
        toml::from_str(text).map_err(|e| StoreError::invalid("catalogue", e.to_string()))?;
    seed.check()
        .map_err(|e| StoreError::invalid("catalogue", e.0))
}

#[cfg(test)]
mod tests {
    #[test]
    fn kp_catalogue_is_valid() {
        let c = super::parse(super::KP).unwrap();
        assert_eq!(c.districts.len(), 38);
        assert!(c.departments.len() >= 8);
        let psh = c
            .districts
            .iter()
            .find(|d| d.code.as_str() == "peshawar")
            .unwrap();
        assert_eq!(psh.abbr.as_str(), "PSH");
        let trf = c
            .departments
            .iter()
            .find(|d| d.code.as_str() == "traffic-police")
            .unwrap();
        assert_eq!(trf.abbr.as_str(), "TRF");
        let terms = |code: &str| {
            &c.offences
                .iter()
                .find(|o| o.code.as_str() == code)
                .unwrap()
                .penalty
        };
        assert_eq!(terms("no-helmet").escalation.len(), 3);
        assert_eq!(
            terms("wrong-parking").discount.map(|d| d.basis_points),
            Some(2000)
        );
        assert_eq!(
            terms("token-tax-late").surcharge,
            efine_core::penalty::Surcharge::Percent { basis_points: 1000 }
        );
        for d in &c.departments {
            assert!(
                c.offences.iter().filter(|o| o.department == d.code).count() >= 4,
                "{} has fewer than 4 offences",
                d.code
            );
        }
    }
}
