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
//! Pages are built on [`crate::pages::shell`] (maud templates: body and navigation as `Markup`,
//! every value escaped when the page is built).

pub mod lang;

pub use lang::{
    date, digits, here, money, number, percent, remember_lang, tr, trf, with_lang, Lang,
    LANG_COOKIE,
};
