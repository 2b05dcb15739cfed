//! The page shell every HTML page is built on, and the small partials all pages share.
//!
//! Pages are maud templates: `(value)` is escaped when the page is built, so text from a
//! request, the database or the translation tables can never become markup. `PreEscaped` is
//! used for our own fixed markup only (the stylesheet, the QR code's SVG path).
//!
//! [`page`] wraps a body in the shared shell: `<html lang dir>`, one small stylesheet
//! (mobile first, AA contrast, visible focus), a header with the language switch, the `<h1>`,
//! and a footer. `here` is the path (and query) that the language switch reloads with the other
//! language: pass [`crate::i18n::here`]`(&uri)` from a GET handler, or a safe page (e.g. `/`)
//! from a POST handler. [`page_with`] adds a navigation bar (the staff console uses it);
//! [`page_custom`] also takes extra `<head>` content and a wide layout (dashboard, transparency).

use crate::i18n::lang::{tr, with_lang, Lang};
use maud::{html, Markup, PreEscaped, Render, DOCTYPE};

/// The one stylesheet, served from `/assets/` under its content hash (about 2 KB): mobile first, system fonts for
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
main:not(.wide) td .id,.big .id{white-space:nowrap}\
.row{display:flex;flex-wrap:wrap;gap:.5rem}\
.verdict{padding:1rem;border-radius:.5rem;font-size:1.6rem;font-weight:bold;text-align:center}\
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}.sr:focus{position:static;width:auto;height:auto;clip-path:none}\
input[type=radio]{width:1.5rem;height:1.5rem;vertical-align:middle;margin:0 .25rem}.inline{display:inline}.auto{width:auto}.w5{max-width:5rem}.w8{max-width:8rem}.w10{max-width:10rem}\
.compact{margin:0;padding:.2rem .6rem}\
@media(min-width:48rem){h1{font-size:1.9rem}.filters{display:grid;grid-template-columns:repeat(3,1fr);gap:0 1rem;align-items:end}}";

/// A whole page in the shared shell. See the module docs.
pub fn page(lang: Lang, here: &str, title: &str, body: Markup) -> Markup {
    page_with(lang, here, title, html! {}, body)
}

/// [`page`] with extra header navigation (e.g. the console's links); a page with navigation
/// uses the wide layout.
pub fn page_with(lang: Lang, here: &str, title: &str, nav: Markup, body: Markup) -> Markup {
    let wide = !nav.0.is_empty();
    page_custom(lang, here, title, nav, html! {}, body, wide)
}

/// The shell with everything open: `head` is added to `<head>` (e.g. a page's own `<style>`),
/// and `wide` lets `<main>` use up to 72 rem (tables, charts) instead of 44.
pub fn page_custom(
    lang: Lang,
    here: &str,
    title: &str,
    nav: Markup,
    head: Markup,
    body: Markup,
    wide: bool,
) -> Markup {
    let other = lang.other();
    let site = tr(lang, "site.name");
    let shown = html! {
        body {
            a class="sr" href="#main" { (tr(lang, "site.skip")) }
            header {
                a href="/" { (site) }
                nav {
                    (nav)
                    a href=(with_lang(here, other)) lang=(other.code()) hreflang=(other.code()) {
                        (tr(lang, "site.switch"))
                    }
                }
            }
            main id="main" class=[wide.then_some("wide")] {
                h1 { (title) }
                (body)
            }
            footer { p { (tr(lang, "site.footer")) } }
        }
    };
    html! {
        (DOCTYPE)
        html lang=(lang.code()) dir=(lang.dir()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width,initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) " - " (site) }
                link rel="stylesheet" href=(crate::pages::assets::site_css());
                (head)
            }
            (shown)
        }
    }
}

/// An identifier (challan number, PSID, vehicle, receipt) kept left to right in any page.
pub fn ltr(s: &str) -> Markup {
    html! { bdi dir="ltr" class="id" { (s) } }
}

/// An identifier isolated left to right inside plain text (titles, `<title>`): wrapped in the
/// Unicode LRI and PDI marks. Plain text, escaped where a template puts it.
pub fn ltr_text(s: &str) -> String {
    format!("\u{2066}{s}\u{2069}")
}

/// A translation whose `{name}` placeholders are filled with markup (e.g. an identifier in
/// [`ltr`]): the translated text around them is escaped like any value, and each argument is
/// markup a template built.
pub fn trf_html(lang: Lang, key: &'static str, args: &[(&str, Markup)]) -> Markup {
    let mut out = String::new();
    let mut rest = tr(lang, key);
    while let Some(open) = rest.find('{') {
        let Some(len) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + len];
        rest[..open].render_to(&mut out);
        match args.iter().find(|(k, _)| *k == name) {
            Some((_, m)) => out.push_str(&m.0),
            None => rest[open..=open + len].render_to(&mut out),
        }
        rest = &rest[open + len + 1..];
    }
    rest.render_to(&mut out);
    PreEscaped(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_is_rtl_in_urdu_and_escapes_the_title() {
        let p = page(Lang::Ur, "/?lang=ur", "<x>", html! {}).into_string();
        assert!(p.contains("<html lang=\"ur\" dir=\"rtl\">"), "{p}");
        assert!(p.contains("&lt;x&gt;"));
        assert!(!p.contains("<x>"));
        assert!(p.contains("href=\"/?lang=en\""), "{p}");
        assert!(p.len() < 100 * 1024);
    }

    #[test]
    fn translation_arguments_are_markup_and_the_text_is_escaped() {
        let m = trf_html(
            Lang::En,
            "pay.received_body",
            &[("amount", html! { "<b>" }), ("challan", ltr("X\"<"))],
        )
        .into_string();
        assert_eq!(
            m,
            "Paid &lt;b&gt; for challan <bdi dir=\"ltr\" class=\"id\">X&quot;&lt;</bdi>."
        );
    }
}
