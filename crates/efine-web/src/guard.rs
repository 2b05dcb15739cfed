//! The first check every request meets: no NUL or other control character in the path, the
//! query string, or the text of a JSON, form or CSV body (`efine_core::text`). It sits in front
//! of every route (API, pages, the rails' callbacks, the sandboxes), so no handler, however it
//! reads its input, can pass such a character to the database or the event log.
//!
//! A refusal is a 422 naming the field (`path`, the query or form field's name, the JSON path such as
//! `location.text`, the form field, or `body`): JSON for the API and callers that do not ask for
//! HTML, a short page in the reader's language for browsers. Multi-line text (tab, line feed,
//! carriage return) passes here; fields that must be one line, and names (which also refuse
//! bidirectional overrides), are checked again by their handler with
//! [`efine_core::text::FreeText`]. Multipart bodies (evidence uploads) carry binary files and
//! are left to their handler, which checks each text part the same way.

use crate::error::ApiError;
use crate::i18n::lang::{tr, trf, Lang};
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Request};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use efine_core::text::{check, Refusal, TextKind};
use maud::html;

/// Bodies larger than this are not buffered here: every route that takes JSON, a form or text
/// allows less (the largest, an appeal with evidence in base64, 1.5 MiB), so its own body
/// limit refuses them (413).
const SCAN_LIMIT: usize = 2 * 1024 * 1024;

/// A refused field and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub field: String,
    pub refusal: Refusal,
}

/// Decodes `%XX` escapes (and `+` as space when `plus` is set); bytes that are not valid UTF-8
/// are replaced, which never hides a control character.
fn percent_decode(s: &str, plus: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The path and query string of a request.
pub fn check_uri(uri: &axum::http::Uri) -> Result<(), Refused> {
    check(&percent_decode(uri.path(), false), TextKind::Line).map_err(|refusal| Refused {
        field: "path".into(),
        refusal,
    })?;
    if let Some(q) = uri.query() {
        check_form(q, "")?;
    }
    Ok(())
}

/// Every name and value of a URL-encoded form or query string.
fn check_form(encoded: &str, prefix: &str) -> Result<(), Refused> {
    for pair in encoded.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = percent_decode(k, true);
        let v = percent_decode(v, true);
        let field = |k: &str| {
            let name: String = k
                .chars()
                .filter(|c| !c.is_control())
                .take(64)
                .collect::<String>();
            format!("{prefix}{name}")
        };
        check(&k, TextKind::Line).map_err(|refusal| Refused {
            field: field(&k),
            refusal,
        })?;
        check(&v, TextKind::Lines).map_err(|refusal| Refused {
            field: field(&k),
            refusal,
        })?;
    }
    Ok(())
}

/// Every key and string of a JSON value; the field is the path (`evidence[0].file_name`).
pub fn check_json(v: &serde_json::Value, path: &str) -> Result<(), Refused> {
    use serde_json::Value;
    let at = |p: &str| {
        if p.is_empty() {
            "body".to_string()
        } else {
            p.to_string()
        }
    };
    match v {
        Value::String(s) => check(s, TextKind::Lines).map_err(|refusal| Refused {
            field: at(path),
            refusal,
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| check_json(item, &format!("{}[{i}]", at(path)))),
        Value::Object(map) => map.iter().try_for_each(|(k, item)| {
            let sub = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            check(k, TextKind::Line).map_err(|refusal| Refused {
                field: at(path),
                refusal,
            })?;
            check_json(item, &sub)
        }),
        _ => Ok(()),
    }
}

fn check_body(content_type: &str, bytes: &Bytes) -> Result<(), Refused> {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime == "application/json" || mime.ends_with("+json") {
        // Malformed JSON is the handler's to refuse (400); only well-formed text is checked.
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) {
            return check_json(&v, "");
        }
        return match std::str::from_utf8(bytes) {
            Ok(s) if s.contains('\0') => Err(Refused {
                field: "body".into(),
                refusal: Refusal::Nul,
            }),
            _ => Ok(()),
        };
    }
    if mime == "application/x-www-form-urlencoded" {
        return check_form(&String::from_utf8_lossy(bytes), "");
    }
    if mime.starts_with("text/") {
        return check(&String::from_utf8_lossy(bytes), TextKind::Lines).map_err(|refusal| {
            Refused {
                field: "body".into(),
                refusal,
            }
        });
    }
    Ok(())
}

fn wants_html(req_path: &str, headers: &axum::http::HeaderMap) -> bool {
    !req_path.starts_with("/api/")
        && headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
}

/// The 422 for a refused field: a page in the reader's language for browsers, JSON otherwise.
pub fn refusal_response(refused: &Refused, html_page: Option<Lang>) -> Response {
    match html_page {
        Some(lang) => {
            let text = trf(lang, refused.refusal.key(), &[("field", &refused.field)]);
            let page = crate::pages::shell::page(
                lang,
                "/",
                tr(lang, "text.title"),
                html! { p { (text) } },
            );
            (StatusCode::UNPROCESSABLE_ENTITY, Html(page.into_string())).into_response()
        }
        None => ApiError::invalid(&refused.field, refused.refusal.message(&refused.field, 0))
            .into_response(),
    }
}

/// Middleware: refuses a request whose path, query or text body carries a control character.
pub async fn refuse_control_characters(req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let lang = match Lang::from_request_parts(&mut parts, &()).await {
        Ok(l) => l,
        Err(never) => match never {},
    };
    let html_page = wants_html(parts.uri.path(), &parts.headers).then_some(lang);
    if let Err(r) = check_uri(&parts.uri) {
        return refusal_response(&r, html_page);
    }
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let declared_len = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mime = content_type.to_ascii_lowercase();
    let scanned = mime.starts_with("application/json")
        || mime.contains("+json")
        || mime.starts_with("application/x-www-form-urlencoded")
        || mime.starts_with("text/");
    if !scanned || declared_len.is_some_and(|l| l > SCAN_LIMIT) || declared_len == Some(0) {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let bytes = match axum::body::to_bytes(body, SCAN_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is too large",
            )
            .into_response()
        }
    };
    if let Err(r) = check_body(&content_type, &bytes) {
        return refusal_response(&r, html_page);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_finds() {
        assert_eq!(percent_decode("a%00b", false), "a\0b");
        assert_eq!(percent_decode("a+b%2", true), "a b%2");
        assert_eq!(percent_decode("%", true), "%");
        let uri: axum::http::Uri = "/api/v1/public/challans/a%00b".parse().unwrap();
        assert_eq!(check_uri(&uri).unwrap_err().field, "path");
        let uri: axum::http::Uri = "/x?q=a%07b&lang=ur".parse().unwrap();
        assert_eq!(check_uri(&uri).unwrap_err().field, "q");
        let v = serde_json::json!({"a": 1, "location": {"text": "x\u{0}y"}});
        let r = check_json(&v, "").unwrap_err();
        assert_eq!(
            (r.field.as_str(), r.refusal),
            ("location.text", Refusal::Nul)
        );
        let v = serde_json::json!({"items": ["ok", "line\nbreak", "bell\u{7}"]});
        assert_eq!(check_json(&v, "").unwrap_err().field, "items[2]");
        assert!(check_form("reason=two%0Alines&x=1", "").is_ok());
        assert_eq!(check_form("reason=nul%00", "").unwrap_err().field, "reason");
    }
}
