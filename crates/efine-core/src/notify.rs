//! Notifications: why a message is sent, its texts (from a file translators edit), when the
//! reminder falls due, and how long to wait before trying a failed delivery again.

use crate::i18n::Lang;
use crate::ParseError;
use std::collections::BTreeMap;
use time::{Date, Duration};

/// The texts shipped with E-Fine (`data/notifications.toml`).
pub const DEFAULT_TEXTS: &str = include_str!("../../../data/notifications.toml");

/// Days before the surcharge starts that the reminder goes out.
pub const REMINDER_DAYS: i64 = 3;

/// Deliveries tried before a message is given up as failed.
pub const MAX_ATTEMPTS: u32 = 8;

/// An event older than this when it is read gives no message: news weeks late confuses more than
/// it tells (and a database loaded with history does not message it all at once).
pub const STALE_AFTER: Duration = Duration::days(3);

/// How an SMS travels: GSM 03.38 7-bit when every character is in its alphabet, UCS-2 (UTF-16)
/// otherwise (any Urdu letter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsEncoding {
    Gsm7,
    Ucs2,
}

/// What an SMS costs: its encoding, its length in that encoding's units (septets, or UTF-16
/// code units), and the parts (segments) it is sent and billed as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsSize {
    pub encoding: SmsEncoding,
    pub units: usize,
    pub parts: usize,
}

/// The GSM 03.38 default alphabet (one septet each).
const GSM7: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡\
ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// Its extension table (an escape and the character: two septets each).
const GSM7_EXT: &str = "^{}\\[~]|€\x0C";

/// The size of `text` as an SMS: 160 septets or 70 UTF-16 units in one part; longer messages
/// are split into parts of 153 or 67 (the rest carries the concatenation header).
pub fn sms_size(text: &str) -> SmsSize {
    let septets = text.chars().try_fold(0usize, |n, c| {
        if GSM7.contains(c) {
            Some(n + 1)
        } else if GSM7_EXT.contains(c) {
            Some(n + 2)
        } else {
            None
        }
    });
    let (encoding, units, single, part) = match septets {
        Some(n) => (SmsEncoding::Gsm7, n, 160, 153),
        None => (SmsEncoding::Ucs2, text.encode_utf16().count(), 70, 67),
    };
    let parts = if units <= single {
        1
    } else {
        units.div_ceil(part)
    };
    SmsSize {
        encoding,
        units,
        parts,
    }
}

/// Why a message is sent. Together with the challan and the channel it is the message's unique
/// key: one message per challan, reason and channel, ever.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    Issued,
    Reminder,
    Surcharged,
    Escalated {
        stage: String,
    },
    Paid,
    AppealDecided {
        appeal: String,
    },
    /// The `n`th one-time code for lodging an appeal against the challan (`appeal_proof`).
    AppealCode {
        n: i64,
    },
}

impl Reason {
    /// The template that renders it.
    pub fn template(&self) -> &'static str {
        match self {
            Reason::Issued => "issued",
            Reason::Reminder => "reminder",
            Reason::Surcharged => "surcharged",
            Reason::Escalated { .. } => "escalated",
            Reason::Paid => "paid",
            Reason::AppealDecided { .. } => "appeal_decided",
            Reason::AppealCode { .. } => "appeal_code",
        }
    }

    /// As stored: `issued`, `escalated:impound`, `appeal_decided:17`.
    pub fn as_key(&self) -> String {
        match self {
            Reason::Escalated { stage } => format!("escalated:{stage}"),
            Reason::AppealDecided { appeal } => format!("appeal_decided:{appeal}"),
            Reason::AppealCode { n } => format!("appeal_code:{n}"),
            r => r.template().to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Sms,
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
        }
    }
    pub fn parse(s: &str) -> Option<Channel> {
        match s {
            "sms" => Some(Channel::Sms),
            "email" => Some(Channel::Email),
            _ => None,
        }
    }
}

/// A message's unique key.
pub fn message_key(challan: &str, reason: &Reason, channel: Channel) -> String {
    format!("{challan}:{}:{}", reason.as_key(), channel.as_str())
}

/// Whether the "3 days before the surcharge" reminder is due on `today`, for a surcharge that
/// starts on `surcharge_from`: from three days before it until the day before.
pub fn reminder_due(surcharge_from: Date, today: Date) -> bool {
    today >= surcharge_from - Duration::days(REMINDER_DAYS) && today < surcharge_from
}

/// The wait before delivery attempt `failed + 1`, after `failed` failures: 30 s, doubling, at
/// most an hour.
pub fn backoff(failed: u32) -> Duration {
    let doublings = failed.saturating_sub(1).min(7);
    Duration::seconds(30 * (1i64 << doublings)).min(Duration::hours(1))
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct Text {
    en: String,
    ur: String,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct Words {
    #[serde(default)]
    en: BTreeMap<String, String>,
    #[serde(default)]
    ur: BTreeMap<String, String>,
}

/// One table of the texts file: a message's texts, or the `words` table.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(untagged)]
pub enum Entry {
    Text(Text),
    Words(Words),
}

/// The file's shape, for deserialising with any serde format (the binary reads TOML).
pub type TextsFile = BTreeMap<String, Entry>;

/// The placeholders each template may use.
const ALLOWED: &[(&str, &[&str])] = &[
    (
        "issued",
        &[
            "challan",
            "psid",
            "amount",
            "due_date",
            "late_amount",
            "offence",
            "offence_ur",
        ],
    ),
    (
        "reminder",
        &["challan", "psid", "amount", "due_date", "late_amount"],
    ),
    ("surcharged", &["challan", "psid", "amount"]),
    ("escalated", &["challan", "psid", "stage", "stage_ur"]),
    ("paid", &["challan", "paid_amount", "receipt"]),
    (
        "appeal_decided",
        &["challan", "psid", "outcome", "outcome_ur", "amount"],
    ),
    ("appeal_code", &["challan", "code", "minutes"]),
];

/// Checked message texts, ready to render.
#[derive(Debug, Clone)]
pub struct Texts {
    texts: BTreeMap<String, Text>,
    words: Words,
}

impl Texts {
    /// Checks a parsed file: every message present in both languages, with no placeholder it
    /// cannot fill.
    pub fn check(file: TextsFile) -> Result<Texts, ParseError> {
        let mut texts = BTreeMap::new();
        let mut words = Words {
            en: BTreeMap::new(),
            ur: BTreeMap::new(),
        };
        for (name, entry) in file {
            match entry {
                Entry::Words(w) if name == "words" => words = w,
                Entry::Text(t) => {
                    texts.insert(name, t);
                }
                Entry::Words(_) => {
                    return Err(ParseError::new(format!("[{name}] needs en and ur texts")))
                }
            }
        }
        for (name, allowed) in ALLOWED {
            let t = texts
                .get(*name)
                .ok_or_else(|| ParseError::new(format!("no [{name}] message")))?;
            for (lang, s) in [("en", &t.en), ("ur", &t.ur)] {
                if s.trim().is_empty() {
                    return Err(ParseError::new(format!("[{name}] {lang} is empty")));
                }
                for p in placeholders(s)? {
                    if !allowed.contains(&p.as_str()) {
                        return Err(ParseError::new(format!(
                            "[{name}] {lang} uses {{{p}}}, which this message does not have"
                        )));
                    }
                }
            }
        }
        Ok(Texts { texts, words })
    }

    /// The English word for a stage or outcome code (the code itself, spaced, if unlisted).
    pub fn word_en(&self, code: &str) -> String {
        self.words
            .en
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.replace('_', " "))
    }

    pub fn word_ur(&self, code: &str) -> String {
        self.words
            .ur
            .get(code)
            .cloned()
            .unwrap_or_else(|| self.word_en(code))
    }

    /// The message for `reason`, English then Urdu, with `vars` filled in.
    pub fn render(&self, reason: &Reason, vars: &[(&str, String)]) -> Result<String, ParseError> {
        self.render_in(reason, vars, None)
    }

    /// The message for `reason` in the recipient's language, or English then Urdu when it is
    /// not known. A value written differently in Urdu (a date) is given as `name@ur` beside
    /// `name`; the Urdu text uses it for `{name}`.
    pub fn render_in(
        &self,
        reason: &Reason,
        vars: &[(&str, String)],
        lang: Option<Lang>,
    ) -> Result<String, ParseError> {
        let t = self
            .texts
            .get(reason.template())
            .ok_or_else(|| ParseError::new(format!("no [{}] message", reason.template())))?;
        Ok(match lang {
            Some(Lang::En) => fill(&t.en, vars, Lang::En)?,
            Some(Lang::Ur) => fill(&t.ur, vars, Lang::Ur)?,
            None => format!(
                "{}\n{}",
                fill(&t.en, vars, Lang::En)?,
                fill(&t.ur, vars, Lang::Ur)?
            ),
        })
    }
}

fn placeholders(s: &str) -> Result<Vec<String>, ParseError> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find('{') {
        let after = &rest[i + 1..];
        let j = after
            .find('}')
            .ok_or_else(|| ParseError::new(format!("unclosed {{ in {s:?}")))?;
        out.push(after[..j].to_string());
        rest = &after[j + 1..];
    }
    Ok(out)
}

fn fill(s: &str, vars: &[(&str, String)], lang: Lang) -> Result<String, ParseError> {
    let mut out = String::with_capacity(s.len() + 32);
    let mut rest = s;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let j = after
            .find('}')
            .ok_or_else(|| ParseError::new(format!("unclosed {{ in {s:?}")))?;
        let name = &after[..j];
        let own = format!("{name}@{}", lang.code());
        let v = vars
            .iter()
            .find(|(k, _)| *k == own)
            .or_else(|| vars.iter().find(|(k, _)| *k == name))
            .ok_or_else(|| ParseError::new(format!("no value for {{{name}}}")))?;
        out.push_str(&v.1);
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn shipped_texts_are_complete_and_render() {
        let file: TextsFile = toml::from_str(DEFAULT_TEXTS).unwrap();
        let t = Texts::check(file).unwrap();
        let m = t
            .render(
                &Reason::Paid,
                &[
                    ("challan", "TRF-PSH-2026-000001".into()),
                    ("paid_amount", "1,000".into()),
                    ("receipt", "RCT-2026-0000001".into()),
                ],
            )
            .unwrap();
        assert!(m.starts_with(
            "E-Fine: Rs 1,000 received for challan TRF-PSH-2026-000001. Receipt RCT-2026-0000001."
        ));
        assert!(m.contains("رسید نمبر RCT-2026-0000001"));
        assert_eq!(t.word_ur("impound"), "گاڑی ضبطی");
        assert_eq!(t.word_en("some_stage"), "some stage");
    }

    #[test]
    fn a_text_with_an_unknown_placeholder_is_refused() {
        let bad = DEFAULT_TEXTS.replace("Receipt {receipt}", "Receipt {reciept}");
        let file: TextsFile = toml::from_str(&bad).unwrap();
        let e = Texts::check(file).unwrap_err();
        assert!(e.0.contains("{reciept}"), "{e}");
    }

    #[test]
    fn reminder_window_is_three_days_before_the_surcharge() {
        let from = date!(2026 - 12 - 09);
        assert!(!reminder_due(from, date!(2026 - 12 - 05)));
        assert!(reminder_due(from, date!(2026 - 12 - 06)));
        assert!(reminder_due(from, date!(2026 - 12 - 08)));
        assert!(!reminder_due(from, date!(2026 - 12 - 09)));
    }

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(3), Duration::seconds(120));
        assert_eq!(backoff(8), Duration::hours(1));
        assert_eq!(backoff(50), Duration::hours(1));
    }

    #[test]
    fn keys_name_challan_reason_and_channel() {
        let r = Reason::Escalated {
            stage: "impound".into(),
        };
        assert_eq!(
            message_key("TRF-PSH-2026-000001", &r, Channel::Sms),
            "TRF-PSH-2026-000001:escalated:impound:sms"
        );
    }

    #[test]
    fn fills_placeholders_and_refuses_unknown_ones() {
        assert_eq!(
            fill(
                "Pay {amount} by {d}",
                &[("amount", "1,000".into()), ("d", "x".into())],
                Lang::En
            )
            .unwrap(),
            "Pay 1,000 by x"
        );
        assert_eq!(
            fill(
                "{d}",
                &[("d", "9 Dec".into()), ("d@ur", "۹ دسمبر".into())],
                Lang::Ur
            )
            .unwrap(),
            "۹ دسمبر"
        );
        assert!(fill("{nope}", &[], Lang::En).is_err());
        assert_eq!(placeholders("a {b} c {d}").unwrap(), vec!["b", "d"]);
    }

    #[test]
    fn sms_sizes_by_encoding() {
        let s = sms_size(&"a".repeat(160));
        assert_eq!((s.encoding, s.units, s.parts), (SmsEncoding::Gsm7, 160, 1));
        assert_eq!(sms_size(&"a".repeat(161)).parts, 2);
        assert_eq!(sms_size(&"a".repeat(306)).parts, 2);
        assert_eq!(sms_size(&"a".repeat(307)).parts, 3);
        // An extension character takes two septets.
        assert_eq!(sms_size("{}").units, 4);
        let u = sms_size(&"ی".repeat(70));
        assert_eq!((u.encoding, u.units, u.parts), (SmsEncoding::Ucs2, 70, 1));
        assert_eq!(sms_size(&"ی".repeat(71)).parts, 2);
        assert_eq!(sms_size(&"ی".repeat(134)).parts, 2);
        assert_eq!(sms_size(&"ی".repeat(135)).parts, 3);
        // One Urdu letter makes the whole message UCS-2.
        assert_eq!(sms_size(&format!("{}ی", "a".repeat(100))).parts, 2);
    }

    /// The shipped messages with typical values: parts when both languages go together and
    /// when one does (`cargo test -p efine-core sms_parts -- --nocapture` prints the table).
    #[test]
    fn sms_parts_of_the_shipped_messages() {
        let file: TextsFile = toml::from_str(DEFAULT_TEXTS).unwrap();
        let t = Texts::check(file).unwrap();
        let vars: Vec<(&str, String)> = vec![
            ("challan", "TRF-PSH-2026-000081".into()),
            ("psid", "2601380000000813".into()),
            ("amount", "1,000".into()),
            ("paid_amount", "1,000".into()),
            ("late_amount", "2,000".into()),
            ("due_date", "16 Sep 2026".into()),
            (
                "due_date@ur",
                crate::i18n::date(Lang::Ur, date!(2026 - 09 - 16)),
            ),
            ("offence", "Riding a motorcycle without a helmet".into()),
            ("offence_ur", "ہیلمٹ کے بغیر موٹر سائیکل چلانا".into()),
            ("stage", "licence suspension".into()),
            ("stage_ur", t.word_ur("licence_suspended")),
            ("outcome", "reduced".into()),
            ("outcome_ur", t.word_ur("reduce")),
            ("receipt", "RCT-2026-0000123".into()),
            ("code", "123456".into()),
            ("minutes", "10".into()),
        ];
        let reasons = [
            Reason::Issued,
            Reason::Reminder,
            Reason::Surcharged,
            Reason::Escalated { stage: "x".into() },
            Reason::Paid,
            Reason::AppealDecided { appeal: "1".into() },
            Reason::AppealCode { n: 1 },
        ];
        for r in &reasons {
            let both = sms_size(&t.render_in(r, &vars, None).unwrap());
            let en = sms_size(&t.render_in(r, &vars, Some(Lang::En)).unwrap());
            let ur = t.render_in(r, &vars, Some(Lang::Ur)).unwrap();
            // The Urdu text carries the Urdu date, never the English one.
            assert!(!ur.contains("Sep"), "{ur}");
            let ur = sms_size(&ur);
            println!(
                "{:<16} both: {:>3} units {} parts | en: {:>3} septets {} parts | ur: {:>3} units {} parts",
                r.template(),
                both.units,
                both.parts,
                en.units,
                en.parts,
                ur.units,
                ur.parts
            );
            assert_eq!(en.encoding, SmsEncoding::Gsm7, "{}", r.template());
            assert!(
                en.parts <= 1,
                "{}: English in {} parts",
                r.template(),
                en.parts
            );
            assert!(ur.parts < both.parts, "{}", r.template());
        }
    }
}
