//! The one translation source: every English and Urdu string that pages, documents and
//! dashboard sentences show.
//!
//! A translator edits `crates/efine-core/i18n/en.toml` and `ur.toml` and nothing else. Both are
//! embedded at compile time and must have the same keys (a unit test checks, so a missing Urdu
//! string fails CI rather than showing English). Keys are `section.name`:
//!
//! ```
//! use efine_core::i18n::{tr, trf, Lang};
//! assert_eq!(tr(Lang::En, "pay.received"), "Payment received");
//! assert_eq!(
//!     trf(Lang::En, "pay.received_body", &[("amount", "Rs 5"), ("challan", "X")]),
//!     "Paid Rs 5 for challan X."
//! );
//! ```
//! A key that is missing from both files comes back as the key itself (and the test fails).
//!
//! [`digits`] writes ASCII digits as Urdu (Extended Arabic-Indic) digits for Urdu readers;
//! [`money`] gives `Rs 1,200` or `۱٬۲۰۰ روپے`; [`date`] gives `24 Nov 2026` or `۲۴ نومبر ۲۰۲۶`.
//!
//! Parsing text embedded in the binary is not IO, so this stays in the core; which language a
//! request asks for is the web layer's business.

use crate::Money;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Ur,
}

impl Lang {
    /// `ur` is Urdu; anything else (or nothing) is English.
    pub fn parse(s: Option<&str>) -> Lang {
        match s {
            Some("ur") => Lang::Ur,
            _ => Lang::En,
        }
    }
    /// The BCP 47 code: `en` or `ur`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ur => "ur",
        }
    }
    /// Text direction: `ltr` or `rtl`.
    pub fn dir(self) -> &'static str {
        match self {
            Lang::En => "ltr",
            Lang::Ur => "rtl",
        }
    }
    /// The language the switch link offers.
    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Ur,
            Lang::Ur => Lang::En,
        }
    }
    /// Picks the English or the Urdu value of a pair (catalogue names come in both).
    pub fn pick<'a>(self, en: &'a str, ur: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::Ur => ur,
        }
    }
}

type Table = HashMap<String, String>;

fn flatten(prefix: &str, v: &toml::Value, out: &mut Table) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        toml::Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

fn load(src: &str) -> Table {
    let mut out = Table::new();
    // The files are embedded and checked by the unit tests, so a parse error is a build defect.
    let v: toml::Value = toml::from_str(src).expect("translation file is valid TOML");
    flatten("", &v, &mut out);
    out
}

fn table(lang: Lang) -> &'static Table {
    static EN: OnceLock<Table> = OnceLock::new();
    static UR: OnceLock<Table> = OnceLock::new();
    match lang {
        Lang::En => EN.get_or_init(|| load(include_str!("../i18n/en.toml"))),
        Lang::Ur => UR.get_or_init(|| load(include_str!("../i18n/ur.toml"))),
    }
}

/// The string for `key` in `lang` (English if Urdu lacks it, the key itself if both do).
pub fn tr(lang: Lang, key: &'static str) -> &'static str {
    table(lang)
        .get(key)
        .or_else(|| table(Lang::En).get(key))
        .map(|s| s.as_str())
        .unwrap_or(key)
}

/// [`tr`] with `{name}` placeholders filled. Values are inserted as given: the result is plain
/// text, which an HTML template escapes like any other value.
pub fn trf(lang: Lang, key: &'static str, args: &[(&str, &str)]) -> String {
    let mut s = tr(lang, key).to_string();
    for (k, v) in args {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

/// ASCII digits as the reader writes them: unchanged in English, Urdu digits (and the Arabic
/// thousands separator) in Urdu.
pub fn digits(lang: Lang, s: &str) -> String {
    match lang {
        Lang::En => s.to_string(),
        Lang::Ur => s
            .chars()
            .map(|c| match c {
                '0'..='9' => char::from_u32(0x06F0 + (c as u32 - '0' as u32)).unwrap_or(c),
                ',' => '\u{066C}',
                '.' => '\u{066B}',
                c => c,
            })
            .collect(),
    }
}

/// A whole number with thousands separators in the reader's digits: `1,500,000` or
/// `۱٬۵۰۰٬۰۰۰`.
pub fn number(lang: Lang, n: i64) -> String {
    let raw = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(raw.len() + raw.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in raw.chars().enumerate() {
        if i > 0 && (raw.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    digits(lang, &out)
}

/// A percentage with one decimal in the reader's digits: `99.6%` or `۹۹٫۶٪`.
pub fn percent(lang: Lang, v: f64) -> String {
    let s = digits(lang, &format!("{v:.1}"));
    match lang {
        Lang::En => format!("{s}%"),
        Lang::Ur => format!("{s}\u{066A}"),
    }
}

/// An amount for the reader: `Rs 1,200` or `۱٬۲۰۰ روپے`.
pub fn money(lang: Lang, m: Money) -> String {
    let s = m.to_string();
    let amount = s.strip_prefix("Rs ").unwrap_or(&s);
    trf(lang, "money.rupees", &[("amount", &digits(lang, amount))])
}

/// A calendar date for the reader: `24 Nov 2026` or `۲۴ نومبر ۲۰۲۶`.
pub fn date(lang: Lang, d: time::Date) -> String {
    const KEYS: [&str; 12] = [
        "month.1", "month.2", "month.3", "month.4", "month.5", "month.6", "month.7", "month.8",
        "month.9", "month.10", "month.11", "month.12",
    ];
    let m = tr(lang, KEYS[u8::from(d.month()) as usize - 1]);
    digits(lang, &format!("{} {m} {}", d.day(), d.year()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_in_the_readers_digits() {
        assert_eq!(number(Lang::En, 1_500_000), "1,500,000");
        assert_eq!(number(Lang::En, 999), "999");
        assert_eq!(number(Lang::En, -1234), "-1,234");
        assert_eq!(number(Lang::Ur, 4201), "۴٬۲۰۱");
        assert_eq!(percent(Lang::En, 99.57), "99.6%");
        assert_eq!(percent(Lang::Ur, 60.0), "۶۰٫۰٪");
    }

    #[test]
    fn both_languages_have_the_same_keys() {
        let en: std::collections::BTreeSet<_> = table(Lang::En).keys().collect();
        let ur: std::collections::BTreeSet<_> = table(Lang::Ur).keys().collect();
        let only_en: Vec<_> = en.difference(&ur).collect();
        let only_ur: Vec<_> = ur.difference(&en).collect();
        assert!(only_en.is_empty(), "missing in ur.toml: {only_en:?}");
        assert!(only_ur.is_empty(), "missing in en.toml: {only_ur:?}");
        for (k, v) in table(Lang::Ur) {
            assert!(!v.trim().is_empty(), "empty Urdu string for {k}");
        }
    }

    #[test]
    fn numbers_money_and_dates_for_the_reader() {
        let m = Money::from_rupees(1200).unwrap();
        assert_eq!(money(Lang::En, m), "Rs 1,200");
        assert_eq!(money(Lang::Ur, m), "۱٬۲۰۰ روپے");
        let d = time::macros::date!(2026 - 11 - 24);
        assert_eq!(date(Lang::En, d), "24 Nov 2026");
        assert_eq!(date(Lang::Ur, d), "۲۴ نومبر ۲۰۲۶");
        assert_eq!(
            trf(
                Lang::En,
                "pay.received_body",
                &[("amount", "Rs 5"), ("challan", "X")]
            ),
            "Paid Rs 5 for challan X."
        );
        assert_eq!(tr(Lang::Ur, "no.such.key"), "no.such.key");
    }
}
