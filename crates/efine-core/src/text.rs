//! Free text that people type: reasons, notes, names, file names, usernames, search strings and
//! the text fields of the rails' messages.
//!
//! Whatever its field, such text never carries NUL or another control character: PostgreSQL
//! refuses NUL outright, SQLite would store it into the hash-chained events, and control
//! characters make logs, receipts and CSV exports lie about what was typed. Tab and line breaks
//! are allowed only where a field is written on several lines ([`TextKind::Lines`]). A name
//! (of a person, a user, a file) also refuses the bidirectional embeddings, overrides and
//! isolates (U+202A..U+202E, U+2066..U+2069), which can make `gpj.exe` read as `exe.jpg` or put
//! a different name on screen than the one stored; Urdu and English names need none of them.

use crate::ParseError;

/// What a field holds, which decides the characters it may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// One line: no control character at all.
    Line,
    /// Several lines (a reason, a note, an uploaded CSV): tab, line feed and carriage return
    /// are allowed, no other control character.
    Lines,
    /// A name (person, user, file): one line, and no bidirectional override or isolate.
    Name,
}

/// Why a piece of text was refused, without echoing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A NUL character (U+0000).
    Nul,
    /// Another control character (or a line break in a one-line field).
    Control,
    /// A bidirectional override, embedding or isolate in a name.
    Bidi,
    /// Empty after trimming where a value is required.
    Empty,
    /// Longer than the field allows.
    TooLong,
}

impl Refusal {
    /// A short English sentence naming the problem; safe to show (it never repeats the value).
    pub fn message(self, field: &str, max_chars: usize) -> String {
        match self {
            Refusal::Nul => format!("{field} contains a NUL character"),
            Refusal::Control => format!("{field} contains a control character"),
            Refusal::Bidi => {
                format!("{field} contains a bidirectional override or isolate character")
            }
            Refusal::Empty => format!("give a {field}"),
            Refusal::TooLong => format!("{field} is longer than {max_chars} characters"),
        }
    }

    /// The key of the translated message shown on pages (`text.<key>` in the i18n files).
    pub fn key(self) -> &'static str {
        match self {
            Refusal::Nul => "text.nul",
            Refusal::Control => "text.control",
            Refusal::Bidi => "text.bidi",
            Refusal::Empty => "text.empty",
            Refusal::TooLong => "text.too_long",
        }
    }
}

/// Whether `c` reorders the text around it: LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Checks the characters of `value` for a field of this kind (no length, no trimming).
pub fn check(value: &str, kind: TextKind) -> Result<(), Refusal> {
    for c in value.chars() {
        if c == '\0' {
            return Err(Refusal::Nul);
        }
        if c.is_control() {
            let allowed = kind == TextKind::Lines && matches!(c, '\t' | '\n' | '\r');
            if !allowed {
                return Err(Refusal::Control);
            }
        }
        // Line and paragraph separators break a line as surely as `\n` does.
        if matches!(c, '\u{2028}' | '\u{2029}') && kind != TextKind::Lines {
            return Err(Refusal::Control);
        }
        if kind == TextKind::Name && is_bidi_control(c) {
            return Err(Refusal::Bidi);
        }
    }
    Ok(())
}

/// Free text that passed [`check`] for its kind: trimmed, not empty, at most `max_chars`
/// characters. The field is private: a `FreeText` holds no NUL and no forbidden character.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FreeText(String);

impl FreeText {
    /// Trims `value` and checks it; `field` names it in the error.
    pub fn parse(
        field: &str,
        value: &str,
        kind: TextKind,
        max_chars: usize,
    ) -> Result<FreeText, TextError> {
        let v = value.trim();
        let refuse = |refusal| TextError {
            field: field.to_string(),
            refusal,
            max_chars,
        };
        check(v, kind).map_err(refuse)?;
        if v.is_empty() {
            return Err(refuse(Refusal::Empty));
        }
        if v.chars().count() > max_chars {
            return Err(refuse(Refusal::TooLong));
        }
        Ok(FreeText(v.to_string()))
    }

    /// Like [`FreeText::parse`], but an absent or blank value is `None`.
    pub fn parse_optional(
        field: &str,
        value: Option<&str>,
        kind: TextKind,
        max_chars: usize,
    ) -> Result<Option<FreeText>, TextError> {
        match value {
            None => Ok(None),
            Some(v) if v.trim().is_empty() => {
                // Blank but with a forbidden character is still refused.
                check(v, kind).map_err(|refusal| TextError {
                    field: field.to_string(),
                    refusal,
                    max_chars,
                })?;
                Ok(None)
            }
            Some(v) => FreeText::parse(field, v, kind, max_chars).map(Some),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for FreeText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for FreeText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A refused field: which one, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextError {
    pub field: String,
    pub refusal: Refusal,
    pub max_chars: usize,
}

impl std::fmt::Display for TextError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.refusal.message(&self.field, self.max_chars))
    }
}

impl std::error::Error for TextError {}

impl From<TextError> for ParseError {
    fn from(e: TextError) -> Self {
        ParseError(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_nul_and_controls() {
        assert_eq!(check("a\0b", TextKind::Lines), Err(Refusal::Nul));
        assert_eq!(check("a\u{7}b", TextKind::Lines), Err(Refusal::Control));
        assert_eq!(check("a\u{9b}b", TextKind::Line), Err(Refusal::Control));
        assert_eq!(check("a\u{7f}b", TextKind::Name), Err(Refusal::Control));
        assert_eq!(check("a\nb", TextKind::Line), Err(Refusal::Control));
        assert_eq!(check("a\u{2028}b", TextKind::Name), Err(Refusal::Control));
        assert_eq!(check("a\r\n\tb", TextKind::Lines), Ok(()));
    }

    #[test]
    fn refuses_bidi_only_in_names() {
        assert_eq!(check("gpj\u{202E}exe", TextKind::Name), Err(Refusal::Bidi));
        assert_eq!(check("x\u{2066}y", TextKind::Name), Err(Refusal::Bidi));
        assert_eq!(check("x\u{202E}y", TextKind::Lines), Ok(()));
        // Urdu names and the marks Urdu text legitimately carries are fine.
        assert_eq!(check("محمد علی", TextKind::Name), Ok(()));
        assert_eq!(check("علی\u{200F} Khan", TextKind::Name), Ok(()));
    }

    #[test]
    fn parse_trims_and_bounds() {
        let t = FreeText::parse("reason", "  wrong plate \n", TextKind::Lines, 12).unwrap();
        assert_eq!(t.as_str(), "wrong plate");
        let e = FreeText::parse("reason", "   ", TextKind::Lines, 10).unwrap_err();
        assert_eq!(e.refusal, Refusal::Empty);
        let e = FreeText::parse("reason", "abcdefghijk", TextKind::Lines, 10).unwrap_err();
        assert_eq!(e.refusal, Refusal::TooLong);
        assert_eq!(e.to_string(), "reason is longer than 10 characters");
        let e = FreeText::parse("username", "a\0b", TextKind::Name, 10).unwrap_err();
        assert_eq!((e.field.as_str(), e.refusal), ("username", Refusal::Nul));
        assert_eq!(
            FreeText::parse_optional("note", Some("  "), TextKind::Lines, 10),
            Ok(None)
        );
        assert!(FreeText::parse_optional("note", Some(" \0 "), TextKind::Lines, 10).is_err());
    }
}
