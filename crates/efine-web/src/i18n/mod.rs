//! The reader's language on the request side, over the one translation source in
//! `efine_core::i18n` (English and Urdu strings: `crates/efine-core/i18n/{en,ur}.toml`).
//!
//! # Language of a request
//! Take [`Lang`] as an extractor: `?lang=ur` / `?lang=en` wins, then the `efine_lang` cookie,
//! then English. [`remember_lang`] (a middleware on the whole router) sets the cookie whenever
//! a request carries `?lang=`, so the choice sticks for the following pages. [`here`] and
//! [`with_lang`] build the language switch's link.
//!
//! # Strings, numbers, money, dates
//! [`tr`], [`trf`], [`digits`], [`money`] and [`date`] are the core's, taking this crate's
//! [`Lang`]: `tr(lang, "pay.received")`, `trf(lang, "pay.received_body", &[("amount", &a)])`.
//! Their results are plain text; a page template escapes them like any other value.
//!
//! # Page shell
//! The shell is [`crate::pages::shell`] (maud: body and navigation as `Markup`). [`page`],
//! [`page_with`], [`page_custom`], [`esc`], [`ltr`] and [`ltr_text`] here are its string-based
//! forms for the pages still built with `format!` (the staff console, the dashboard and the
//! payment returns): they go when the last of those passes `Markup` to the shell.

pub mod lang;

pub use crate::html::escape as esc;
pub use crate::pages::shell::{ltr_text, STYLE};
pub use lang::{date, digits, here, money, remember_lang, tr, trf, with_lang, Lang, LANG_COOKIE};

/// An identifier escaped and kept left to right, as a string of HTML for pages still built
/// with `format!`; templates use [`crate::pages::shell::ltr`].
pub fn ltr(s: &str) -> String {
    format!("<bdi dir=ltr class=id>{}</bdi>", esc(s))
}

/// [`crate::pages::shell::page`] for a body that is a string of HTML the caller escaped.
pub fn page(lang: Lang, here: &str, title: &str, body: &str) -> String {
    page_with(lang, here, title, "", body)
}

/// [`crate::pages::shell::page_with`] for a navigation bar and body that are strings of HTML.
pub fn page_with(lang: Lang, here: &str, title: &str, nav: &str, body: &str) -> String {
    page_custom(lang, here, title, nav, "", body, !nav.is_empty())
}

/// [`crate::pages::shell::page_custom`] for navigation, extra `<head>` content and body that
/// are strings of HTML.
pub fn page_custom(
    lang: Lang,
    here: &str,
    title: &str,
    nav: &str,
    head: &str,
    body: &str,
    wide: bool,
) -> String {
    use maud::PreEscaped;
    crate::pages::shell::page_custom(
        lang,
        here,
        title,
        PreEscaped(nav.to_string()),
        PreEscaped(head.to_string()),
        PreEscaped(body.to_string()),
        wide,
    )
    .into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_pages_escape_markup() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(ltr("<b>"), "<bdi dir=ltr class=id>&lt;b&gt;</bdi>");
        let p = page(Lang::En, "/", "<t>", "<p class=\"x\">body</p>");
        assert!(
            p.contains("<h1>&lt;t&gt;</h1><p class=\"x\">body</p>"),
            "{p}"
        );
    }
}
