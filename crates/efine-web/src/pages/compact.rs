//! Serves attribute values that need no quotes without them (`<label for=q>`,
//! `<p class=big id=amount-due>`), as E-Fine's pages were written before they were templates;
//! maud always writes `for="q"`. Links, clients' scrapers and the integration tests read the
//! pages in that form.
//!
//! Only a plain word (lowercase ASCII letters, `-` and `_`, starting with a letter; no digits,
//! so generated values such as tokens keep their quotes) loses its quotes, and only on the attributes our templates use for fixed words and ids:
//! such a value cannot end the tag or start another attribute, so the rewrite cannot change
//! what a page means. Everything else (text, other attributes, `<script>` and `<style>`
//! content) is copied as it is.

use maud::{Markup, PreEscaped};

/// The attributes whose plain values are served unquoted.
const BARE: &[&str] = &[
    "class",
    "id",
    "for",
    "method",
    "type",
    "name",
    "dir",
    "value",
    "role",
    "scope",
    "lang",
    "hreflang",
    "inputmode",
    "autocomplete",
    "aria-describedby",
];

/// `html` (well-formed template output) with the quotes dropped where [`BARE`] allows.
pub fn compact(html: &Markup) -> Markup {
    let s = html.0.as_str();
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        rest = &rest[lt..];
        let name_len = rest[1..]
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len() - 1);
        let tag = &rest[1..1 + name_len];
        if tag.is_empty() {
            // A closing tag, a comment or a doctype: copied through its end.
            let end = rest.find('>').map_or(rest.len(), |i| i + 1);
            out.push_str(&rest[..end]);
            rest = &rest[end..];
            continue;
        }
        let end = open_tag(rest, &mut out);
        rest = &rest[end..];
        // Raw text elements: their content is not markup.
        for raw in ["script", "style"] {
            if tag.eq_ignore_ascii_case(raw) {
                let close = format!("</{raw}");
                let stop = rest.find(&close).unwrap_or(rest.len());
                out.push_str(&rest[..stop]);
                rest = &rest[stop..];
            }
        }
    }
    out.push_str(rest);
    PreEscaped(out)
}

/// Copies the opening tag at the start of `s` to `out`, attributes compacted; returns how many
/// bytes of `s` it took.
fn open_tag(s: &str, out: &mut String) -> usize {
    let b = s.as_bytes();
    let mut i = 0;
    let mut name_start = None;
    while i < b.len() {
        match b[i] {
            b'>' => {
                out.push('>');
                return i + 1;
            }
            b'=' if i + 1 < b.len() && (b[i + 1] == b'"' || b[i + 1] == b'\'') => {
                let quote = b[i + 1];
                let name = name_start.map_or("", |n| &s[n..i]);
                let vstart = i + 2;
                let vlen = s[vstart..].find(quote as char).unwrap_or(s.len() - vstart);
                let value = &s[vstart..vstart + vlen];
                out.push('=');
                if BARE.contains(&name) && bare(value) {
                    out.push_str(value);
                } else {
                    out.push(quote as char);
                    out.push_str(value);
                    out.push(quote as char);
                }
                i = (vstart + vlen + 1).min(b.len());
                name_start = None;
                continue;
            }
            c if c.is_ascii_whitespace() => {
                name_start = None;
                out.push(c as char);
            }
            _ => {
                if name_start.is_none() {
                    name_start = Some(i);
                }
                // Copy one whole character (names are ASCII, but stay safe on UTF-8).
                let ch = s[i..].chars().next().unwrap_or(' ');
                out.push(ch);
                i += ch.len_utf8();
                continue;
            }
        }
        i += 1;
    }
    s.len()
}

/// A value that is one plain word and needs no quotes.
fn bare(v: &str) -> bool {
    v.starts_with(|c: char| c.is_ascii_lowercase())
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use maud::html;

    fn c(m: Markup) -> String {
        compact(&m).into_string()
    }

    #[test]
    fn plain_words_lose_their_quotes() {
        assert_eq!(
            c(html! { p class="big" id="amount-due" { "Rs 500" } }),
            "<p class=big id=amount-due>Rs 500</p>"
        );
        assert_eq!(
            c(html! { form method="post" action="/search" { label for="q" { "x" } } }),
            "<form method=post action=\"/search\"><label for=q>x</label></form>"
        );
        assert_eq!(
            c(html! { input type="hidden" name="pp_Amount" value="50000"; }),
            "<input type=hidden name=\"pp_Amount\" value=\"50000\">"
        );
    }

    #[test]
    fn everything_else_is_kept() {
        let evil = "\" onload=\"x";
        assert_eq!(
            c(html! { p title=(evil) data-code="peshawar" { "class=\"a\" <b>" } }),
            "<p title=\"&quot; onload=&quot;x\" data-code=\"peshawar\">class=&quot;a&quot; &lt;b&gt;</p>"
        );
        assert_eq!(
            c(html! { input required value="a b"; }),
            "<input required value=\"a b\">"
        );
        assert_eq!(
            c(html! { input type="hidden" name="csrf" value="ab12"; }),
            "<input type=hidden name=csrf value=\"ab12\">"
        );
        let raw = "<style>a[class=\"x\"]{}</style><script>if(a<b){}</script><i id=\"y\"></i>";
        assert_eq!(
            c(PreEscaped(raw.into())),
            "<style>a[class=\"x\"]{}</style><script>if(a<b){}</script><i id=y></i>"
        );
        assert_eq!(c(PreEscaped("a < b".into())), "a < b");
    }
}
