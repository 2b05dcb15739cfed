//! Masking of personal data for public views: enough for the owner to recognise, not enough for
//! anyone else to learn.

use crate::ids::{Cnic, MobileNumber};

/// `17301-1234567-1` becomes `*****-****567-*`.
pub fn cnic(c: &Cnic) -> String {
    let d = c.digits();
    format!("*****-****{}-*", &d[9..12])
}

/// `+923001234567` becomes `0300-*****67`.
pub fn mobile(m: &MobileNumber) -> String {
    let local = m.local();
    format!("{}-*****{}", &local[..4], &local[local.len() - 2..])
}

/// `Muhammad Asif Khan` becomes `M******* A*** K***`.
pub fn name(n: &str) -> String {
    n.split_whitespace()
        .map(|w| {
            let mut cs = w.chars();
            match cs.next() {
                Some(first) => {
                    let rest = cs.count();
                    format!("{first}{}", "*".repeat(rest))
                }
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `asif.khan@example.pk` becomes `a***@example.pk`.
pub fn email(e: &str) -> String {
    match e.split_once('@') {
        Some((user, domain)) => {
            let first = user.chars().next().map(String::from).unwrap_or_default();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        let c = Cnic::parse("17301-1234567-1").unwrap();
        assert_eq!(cnic(&c), "*****-****567-*");
        let m = MobileNumber::parse("03001234567").unwrap();
        assert_eq!(mobile(&m), "0300-*****67");
        assert_eq!(name("Muhammad  Asif Khan"), "M******* A*** K***");
        assert_eq!(name("عمران خان"), "ع**** خ**");
        assert_eq!(email("asif.khan@example.pk"), "a***@example.pk");
    }
}
