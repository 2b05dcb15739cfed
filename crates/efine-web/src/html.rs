//! HTML escaping, and the bare page the payment sandboxes' hosted pages use (they stand in for
//! the provider's own site). E-Fine's own pages use the shell in [`crate::pages::shell`].

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A small, self-contained page: no scripts or assets needed to read it.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{t} - E-Fine</title><style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}button{{font-size:1rem;padding:.6rem 1rem;margin:.3rem 0}}</style></head><body><h1>{t}</h1>{body}</body></html>",
        t = escape(title)
    )
}
