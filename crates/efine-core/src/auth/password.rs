//! One password policy for every way an account gets a password: `efine user add` and
//! `reset-password`, the admin console, and anything else that sets one. A password is at least
//! [`MIN_CHARS`] characters, is not one of the commonly used passwords shipped in
//! `data/common-passwords.txt` (also with digits and symbols added before or after one), and
//! does not contain the username.

use std::collections::HashSet;
use std::sync::OnceLock;

/// The shortest password accepted, in characters.
pub const MIN_CHARS: usize = 12;
/// The longest, in bytes (Argon2 hashes anything, but a megabyte of password is an attack).
pub const MAX_BYTES: usize = 1024;

/// The 10,000 most common passwords of Mozilla's list of the 50,000 most common ones
/// (see `data/common-passwords.SOURCE.md`), one a line, lower case.
const COMMON_LIST: &str = include_str!("../../../../data/common-passwords.txt");

fn common() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON_LIST
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    })
}

/// Why a password was refused. The message is safe to show to the person who typed it; pages
/// show the translation under [`Weak::key`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Weak {
    #[error("the password must be at least 12 characters")]
    TooShort,
    #[error("the password must be at most 1024 bytes")]
    TooLong,
    #[error("the password is one of the most commonly used passwords")]
    Common,
    #[error("the password must not contain the username")]
    ContainsUsername,
}

impl Weak {
    /// The translation key of the message.
    pub fn key(self) -> &'static str {
        match self {
            Weak::TooShort => "password.too_short",
            Weak::TooLong => "password.too_long",
            Weak::Common => "password.common",
            Weak::ContainsUsername => "password.contains_username",
        }
    }
}

/// Checks `password` for the account `username` against the policy.
pub fn check(username: &str, password: &str) -> Result<(), Weak> {
    if password.chars().count() < MIN_CHARS {
        return Err(Weak::TooShort);
    }
    if password.len() > MAX_BYTES {
        return Err(Weak::TooLong);
    }
    let lower = password.to_lowercase();
    let user = username.trim().to_lowercase();
    if user.chars().count() >= 3 && lower.contains(&user) {
        return Err(Weak::ContainsUsername);
    }
    if is_common(&lower) {
        return Err(Weak::Common);
    }
    Ok(())
}

/// A common password as typed, or one with digits and symbols put before or after it
/// (`sunshine2024!`), or a short piece repeated (`passwordpassword`, `abcabcabcabc`), or
/// fewer than four different characters.
fn is_common(lower: &str) -> bool {
    let set = common();
    if set.contains(lower) {
        return true;
    }
    let core = lower.trim_matches(|c: char| !c.is_alphabetic());
    if core.chars().count() >= 6 && set.contains(core) {
        return true;
    }
    let chars: Vec<char> = lower.chars().collect();
    let n = chars.len();
    if (1..=n / 2).any(|k| n.is_multiple_of(k) && chars.chunks(k).all(|c| c == &chars[..k])) {
        return true;
    }
    let mut distinct = chars;
    distinct.sort_unstable();
    distinct.dedup();
    distinct.len() < 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_shipped_and_large() {
        assert!(common().len() >= 9_000, "{}", common().len());
        assert!(common().contains("123456789012"));
    }

    #[test]
    fn the_passwords_of_the_report_are_refused() {
        assert_eq!(check("ops", "aaaaaaaaaa"), Err(Weak::TooShort));
        assert_eq!(check("ops", "password12"), Err(Weak::TooShort));
        assert_eq!(check("ops", "123456789012"), Err(Weak::Common));
        assert_eq!(check("ops", "aaaaaaaaaaaa"), Err(Weak::Common));
        assert_eq!(check("ops", "Sunshine2024!"), Err(Weak::Common));
        assert_eq!(check("ops", "PASSWORDPASSWORD"), Err(Weak::Common));
        assert_eq!(check("ops", "abababababab"), Err(Weak::Common));
    }

    #[test]
    fn the_username_is_not_reused() {
        assert_eq!(
            check("demo.admin", "my-Demo.Admin-pass"),
            Err(Weak::ContainsUsername)
        );
    }

    #[test]
    fn long_uncommon_passwords_pass() {
        assert_eq!(check("ops", "correct horse battery"), Ok(()));
        assert_eq!(check("ops", "tarbela-dam-at-dawn"), Ok(()));
        assert_eq!(check("ops", &"x".repeat(2000)), Err(Weak::TooLong));
        // Characters, not bytes: twelve Urdu letters are enough.
        assert_eq!(check("ops", "پشاورکاقلعہبالا"), Ok(()));
    }
}
