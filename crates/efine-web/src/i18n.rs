//! Languages and the page shell every HTML page is built on (English and Urdu).
//!
//! # Strings
//! Translations live in `crates/efine-web/i18n/en.toml` and `ur.toml`, which a translator edits
//! directly; both are embedded at compile time and must have the same keys (a unit test checks,
//! so a missing Urdu string fails CI rather than showing English). Keys are `section.name`:
//!
//! ```ignore
//! tr(lang, "pay.received")                                   // &'static str
//! trf(lang, "pay.received_body", &[("amount", &a), ("challan", &n)])  // fills {amount}, {challan}
//! ```
//! A key that is missing from both files renders as the key itself (and the test fails).
//!
//! # Language of a request
//! Take [`Lang`] as an extractor: `?lang=ur` / `?lang=en` wins, then the `efine_lang` cookie,
//! then English. [`remember_lang`] (a middleware on the whole router) sets the cookie whenever
//! a request carries `?lang=`, so the choice sticks for the following pages.
//!
//! # Numbers, money, dates
//! [`digits`] writes ASCII digits as Urdu (Extended Arabic-Indic) digits for Urdu readers;
//! [`money`] gives `Rs 1,200` or `۱٬۲۰۰ روپے`; [`date`] gives `24 Nov 2026` or `۲۴ نومبر ۲۰۲۶`.
//! Identifiers a citizen types elsewhere (challan number, PSID, vehicle, CNIC) stay in ASCII:
//! wrap them with [`ltr`] so they read left to right inside Urdu text.
//!
//! # Page shell
//! [`page`] wraps a body in the shared shell: `<html lang dir>`, one small inline stylesheet
//! (mobile first, AA contrast, visible focus), a header with the language switch, the `<h1>`,
//! and a footer. Every value passed in `title` is escaped; `body` is HTML the caller built with
//! [`esc`] around every value. `here` is the path (and query) that the language switch reloads
//! with the other language: pass [`here`]`(&uri)` from a GET handler, or a safe page (e.g. `/`)
//! from a POST handler. [`page_with`] adds a navigation bar (the staff console uses it);
//! [`page_custom`] also takes extra `<head>` content and a wide layout (dashboard, transparency).

use axum::extract::{FromRequestParts, Request};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Uri};
use axum::middleware::Next;
use axum::response::Response;
use efine_core::Money;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::OnceLock;

pub use crate::html::escape as esc;

/// The reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Ur,
}

/// The cookie that remembers the language.
pub const LANG_COOKIE: &str = "efine_lang";

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

fn query_lang(query: Option<&str>) -> Option<Lang> {
    query?.split('&').find_map(|kv| match kv {
        "lang=ur" => Some(Lang::Ur),
        "lang=en" => Some(Lang::En),
        _ => None,
    })
}

fn cookie_lang(parts: &axum::http::HeaderMap) -> Option<Lang> {
    parts
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(
            |c| match c.trim().strip_prefix(LANG_COOKIE)?.strip_prefix('=') {
                Some("ur") => Some(Lang::Ur),
                Some("en") => Some(Lang::En),
                _ => None,
            },
        )
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Lang, Infallible> {
        Ok(query_lang(parts.uri.query())
            .or_else(|| cookie_lang(&parts.headers))
            .unwrap_or_default())
    }
}

/// Middleware: a request with `?lang=en|ur` gets a cookie remembering it for a year.
pub async fn remember_lang(req: Request, next: Next) -> Response {
    let chosen = query_lang(req.uri().query());
    let mut resp = next.run(req).await;
    if let Some(l) = chosen {
        let v = format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            l.code()
        );
        if let Ok(v) = HeaderValue::from_str(&v) {
            resp.headers_mut().append(SET_COOKIE, v);
        }
    }
    resp
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

/// [`tr`] with `{name}` placeholders filled. Values are inserted as given: escape them first
/// when the result goes into HTML.
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

/// An identifier (challan number, PSID, vehicle) escaped and kept left to right in any page.
pub fn ltr(s: &str) -> String {
    format!("<bdi dir=ltr class=id>{}</bdi>", esc(s))
}

/// An identifier isolated left to right inside plain text (titles, `<title>`): wrapped in the
/// Unicode LRI and PDI marks. Escape the result when it goes into HTML.
pub fn ltr_text(s: &str) -> String {
    format!("\u{2066}{s}\u{2069}")
}

/// The path and query of a GET request, for [`page`]'s language switch.
pub fn here(uri: &Uri) -> String {
    uri.path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into())
}

/// `here` with `lang=<lang>` in place of any `lang=` it had.
pub fn with_lang(here: &str, lang: Lang) -> String {
    let (path, query) = here.split_once('?').unwrap_or((here, ""));
    let mut q: Vec<&str> = query
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.starts_with("lang="))
        .collect();
    let l = format!("lang={}", lang.code());
    q.push(&l);
    format!("{path}?{}", q.join("&"))
}

/// The one stylesheet, inlined in every page (about 2 KB): mobile first, system fonts for
/// English, Nastaliq (then Naskh) for Urdu, AA contrast, a visible focus ring.
pub const STYLE: &str = "\
*{box-sizing:border-box}\
html{font-size:100%;-webkit-text-size-adjust:100%}\
body{margin:0;font-family:system-ui,'Noto Sans','DejaVu Sans',sans-serif;line-height:1.5;color:#111;background:#fff}\
[lang=ur] body,body[lang=ur]{font-family:'Noto Nastaliq Urdu','Jameel Noori Nastaleeq','Noto Naskh Arabic','Noto Sans Arabic',serif;line-height:2.1}\
.id,[lang=en],input,code{font-family:system-ui,'Noto Sans','DejaVu Sans',sans-serif;line-height:1.5}\
header{background:#0b4a2a;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:space-between}\
header a{color:#fff;font-weight:bold}\
header nav{display:flex;flex-wrap:wrap;gap:.25rem 1rem}\
main{max-width:44rem;margin:0 auto;padding:1rem}\
main.wide{max-width:72rem}\
footer{max-width:44rem;margin:2rem auto 1rem;padding:0 1rem;font-size:.9rem;color:#444}\
h1{font-size:1.5rem;margin:.5rem 0 1rem}h2{font-size:1.2rem}\
a{color:#0a4fb3}a:hover{text-decoration-thickness:2px}\
:focus-visible{outline:3px solid #c25100;outline-offset:2px}\
label{display:block;font-weight:bold;margin:.75rem 0 .25rem}\
input,select,textarea{font-size:1rem;padding:.6rem;width:100%;max-width:28rem;border:2px solid #555;border-radius:.3rem;background:#fff;color:#111}\
button,.button{display:inline-block;font-family:inherit;font-size:1rem;font-weight:bold;padding:.65rem 1.2rem;margin:.5rem 0;border:0;border-radius:.3rem;background:#0b5d1e;color:#fff;text-decoration:none;cursor:pointer}\
button.secondary,.button.secondary{background:#fff;color:#0b5d1e;border:2px solid #0b5d1e}\
button.danger{background:#a11212}\
.hint{color:#444;font-size:.9rem;margin:.25rem 0}\
.box{border:1px solid #bbb;border-radius:.4rem;padding:1rem;margin:1rem 0}\
.ok{background:#e3f4e6;border:2px solid #11691f;color:#0b4a15;padding:1rem;border-radius:.4rem}\
.bad{background:#fbe3e3;border:2px solid #a11212;color:#6e0a0a;padding:1rem;border-radius:.4rem}\
.big{font-size:1.6rem;font-weight:bold}\
table{border-collapse:collapse;width:100%;margin:1rem 0}\
th,td{text-align:start;padding:.4rem;border-bottom:1px solid #ccc;vertical-align:top}\
.scroll{overflow-x:auto}code{overflow-wrap:anywhere;font-size:.85rem}\
.id{direction:ltr;unicode-bidi:isolate;overflow-wrap:anywhere}\
.row{display:flex;flex-wrap:wrap;gap:.5rem}\
.verdict{padding:1rem;border-radius:.5rem;font-size:1.6rem;font-weight:bold;text-align:center}\
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}.sr:focus{position:static;width:auto;height:auto;clip-path:none}\
@media(min-width:48rem){h1{font-size:1.9rem}.filters{display:grid;grid-template-columns:repeat(3,1fr);gap:0 1rem;align-items:end}}";

/// A whole page in the shared shell. See the module docs.
pub fn page(lang: Lang, here: &str, title: &str, body: &str) -> String {
    page_with(lang, here, title, "", body)
}

/// [`page`] with extra header navigation (`nav` is trusted HTML, e.g. the console's links).
pub fn page_with(lang: Lang, here: &str, title: &str, nav: &str, body: &str) -> String {
    page_custom(lang, here, title, nav, "", body, !nav.is_empty())
}

/// The shell with everything open: `head` is trusted HTML added to `<head>` (e.g. a page's own
/// `<style>`), and `wide` lets `<main>` use up to 72 rem (tables, charts) instead of 44.
pub fn page_custom(
    lang: Lang,
    here: &str,
    title: &str,
    nav: &str,
    head: &str,
    body: &str,
    wide: bool,
) -> String {
    let other = lang.other();
    let switch = format!(
        "<a href=\"{}\" lang={} hreflang={}>{}</a>",
        esc(&with_lang(here, other)),
        other.code(),
        other.code(),
        tr(lang, "site.switch"),
    );
    format!(
        "<!doctype html><html lang=\"{code}\" dir=\"{dir}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\">\
         <title>{t} - {site}</title><style>{STYLE}</style>{head}</head><body>\
         <a class=sr href=\"#main\">{skip}</a>\
         <header><a href=\"/\">{site}</a><nav>{nav}{switch}</nav></header>\
         <main id=main{wide}><h1>{t}</h1>{body}</main>\
         <footer><p>{footer}</p></footer></body></html>",
        code = lang.code(),
        dir = lang.dir(),
        t = esc(title),
        site = tr(lang, "site.name"),
        skip = tr(lang, "site.skip"),
        footer = tr(lang, "site.footer"),
        wide = if wide { " class=wide" } else { "" },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn language_from_query_then_cookie() {
        assert_eq!(query_lang(Some("a=1&lang=ur")), Some(Lang::Ur));
        assert_eq!(query_lang(Some("lang=urx")), None);
        let mut h = axum::http::HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_static("x=1; efine_lang=ur"));
        assert_eq!(cookie_lang(&h), Some(Lang::Ur));
        assert_eq!(with_lang("/c/X?lang=en&q=1", Lang::Ur), "/c/X?q=1&lang=ur");
    }

    #[test]
    fn shell_is_rtl_in_urdu_and_escapes_the_title() {
        let p = page(Lang::Ur, "/?lang=ur", "<x>", "");
        assert!(p.contains("<html lang=\"ur\" dir=\"rtl\">"));
        assert!(p.contains("&lt;x&gt;"));
        assert!(p.contains("href=\"/?lang=en\""));
        assert!(p.len() < 100 * 1024);
    }
}
