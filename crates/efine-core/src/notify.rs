//! Notifications: why a message is sent, its texts (from a file translators edit), when the
//! reminder falls due, and how long to wait before trying a failed delivery again.

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
        let t = self
            .texts
            .get(reason.template())
            .ok_or_else(|| ParseError::new(format!("no [{}] message", reason.template())))?;
        Ok(format!("{}\n{}", fill(&t.en, vars)?, fill(&t.ur, vars)?))
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

fn fill(s: &str, vars: &[(&str, String)]) -> Result<String, ParseError> {
    let mut out = String::with_capacity(s.len() + 32);
    let mut rest = s;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let j = after
            .find('}')
            .ok_or_else(|| ParseError::new(format!("unclosed {{ in {s:?}")))?;
        let name = &after[..j];
        let v = vars
            .iter()
            .find(|(k, _)| *k == name)
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
                &[("amount", "1,000".into()), ("d", "x".into())]
            )
            .unwrap(),
            "Pay 1,000 by x"
        );
        assert!(fill("{nope}", &[]).is_err());
        assert_eq!(placeholders("a {b} c {d}").unwrap(), vec!["b", "d"]);
    }
}
