//! The reader's language on the request side (the [`Lang`] extractor, the cookie that
//! remembers it, the language switch's link) and the core's strings, numbers, money and dates
//! for that language.

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::Uri;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use efine_core::i18n as core;
use efine_core::Money;
use std::convert::Infallible;

/// The reader's language: the core's two languages, taken from a request (see the module
/// docs). A type of this crate, so that it can be an axum extractor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Ur,
}

impl From<Lang> for core::Lang {
    fn from(l: Lang) -> core::Lang {
        match l {
            Lang::En => core::Lang::En,
            Lang::Ur => core::Lang::Ur,
        }
    }
}

impl From<core::Lang> for Lang {
    fn from(l: core::Lang) -> Lang {
        match l {
            core::Lang::En => Lang::En,
            core::Lang::Ur => Lang::Ur,
        }
    }
}

/// The cookie that remembers the language.
pub const LANG_COOKIE: &str = "efine_lang";

impl Lang {
    /// `ur` is Urdu; anything else (or nothing) is English.
    pub fn parse(s: Option<&str>) -> Lang {
        core::Lang::parse(s).into()
    }
    /// The BCP 47 code: `en` or `ur`.
    pub fn code(self) -> &'static str {
        core::Lang::from(self).code()
    }
    /// Text direction: `ltr` or `rtl`.
    pub fn dir(self) -> &'static str {
        core::Lang::from(self).dir()
    }
    /// The language the switch link offers.
    pub fn other(self) -> Lang {
        core::Lang::from(self).other().into()
    }
    /// Picks the English or the Urdu value of a pair (catalogue names come in both).
    pub fn pick<'a>(self, en: &'a str, ur: &'a str) -> &'a str {
        core::Lang::from(self).pick(en, ur)
    }
}

/// `efine_core::i18n::tr`: the string for `key` in `lang`.
pub fn tr(lang: Lang, key: &'static str) -> &'static str {
    core::tr(lang.into(), key)
}

/// `efine_core::i18n::trf`: [`tr`] with `{name}` placeholders filled (plain text).
pub fn trf(lang: Lang, key: &'static str, args: &[(&str, &str)]) -> String {
    core::trf(lang.into(), key, args)
}

/// `efine_core::i18n::digits`: Urdu digits for Urdu readers.
pub fn digits(lang: Lang, s: &str) -> String {
    core::digits(lang.into(), s)
}

/// `efine_core::i18n::money`: `Rs 1,200` or `۱٬۲۰۰ روپے`.
pub fn money(lang: Lang, m: Money) -> String {
    core::money(lang.into(), m)
}

/// `efine_core::i18n::number`: `1,500,000` or `۱٬۵۰۰٬۰۰۰`.
pub fn number(lang: Lang, n: i64) -> String {
    core::number(lang.into(), n)
}

/// `efine_core::i18n::percent`: `99.6%` or `۹۹٫۶٪`.
pub fn percent(lang: Lang, v: f64) -> String {
    core::percent(lang.into(), v)
}

/// `efine_core::i18n::date`: `24 Nov 2026` or `۲۴ نومبر ۲۰۲۶`.
pub fn date(lang: Lang, d: time::Date) -> String {
    core::date(lang.into(), d)
}

fn query_lang(query: Option<&str>) -> Option<Lang> {
    query?.split('&').find_map(|kv| match kv {
        "lang=ur" => Some(Lang::Ur),
        "lang=en" => Some(Lang::En),
        _ => None,
    })
}

/// The language cookie under either name (`__Host-` prefixed when the site is on https).
fn cookie_lang(headers: &axum::http::HeaderMap) -> Option<Lang> {
    let jar = CookieJar::from_headers(headers);
    let host = crate::headers::cookie_name(true, LANG_COOKIE);
    match jar.get(&host).or_else(|| jar.get(LANG_COOKIE))?.value() {
        "ur" => Some(Lang::Ur),
        "en" => Some(Lang::En),
        _ => None,
    }
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
/// On an https site the cookie is `__Host-efine_lang` and `Secure`.
pub async fn remember_lang(https: bool, req: Request, next: Next) -> Response {
    let chosen = query_lang(req.uri().query());
    let resp = next.run(req).await;
    match chosen {
        // Lax, not Strict: a link from another site should still open in the chosen language.
        Some(l) => {
            let c = Cookie::build((crate::headers::cookie_name(https, LANG_COOKIE), l.code()))
                .path("/")
                .secure(https)
                .max_age(time::Duration::days(365))
                .same_site(SameSite::Lax);
            (CookieJar::new().add(c), resp).into_response()
        }
        None => resp,
    }
}

/// The path and query of a GET request, for the shell's language switch.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_from_query_then_cookie() {
        assert_eq!(query_lang(Some("a=1&lang=ur")), Some(Lang::Ur));
        assert_eq!(query_lang(Some("lang=urx")), None);
        let mut h = axum::http::HeaderMap::new();
        h.insert(
            axum::http::header::COOKIE,
            axum::http::HeaderValue::from_static("x=1; efine_lang=ur"),
        );
        assert_eq!(cookie_lang(&h), Some(Lang::Ur));
        assert_eq!(with_lang("/c/X?lang=en&q=1", Lang::Ur), "/c/X?q=1&lang=ur");
    }

    #[test]
    fn strings_come_from_the_core_tables() {
        let m = Money::from_rupees(1200).unwrap();
        assert_eq!(money(Lang::Ur, m), "۱٬۲۰۰ روپے");
        assert_eq!(tr(Lang::En, "site.name"), "E-Fine");
        assert_eq!(Lang::Ur.other(), Lang::En);
        assert_eq!(Lang::Ur.dir(), "rtl");
    }
}
