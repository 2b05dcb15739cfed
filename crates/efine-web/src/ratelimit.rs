//! Anti-automation on the public endpoints: a fixed-window rate limit per client address for
//! lookups by vehicle or CNIC (enough for a citizen, too little to walk through the register),
//! public challan and QR views, and checkouts; and the client address itself.
//!
//! # The client address
//! Behind a reverse proxy every request comes from the proxy, so a limit by peer address would
//! put every citizen in one budget. `X-Forwarded-For` is honoured only when the peer is one of
//! the configured trusted proxies (`trusted_proxies`, addresses or CIDR ranges); the client is
//! then the rightmost hop that is not itself a trusted proxy (hops to its left could be written
//! by the client). From any other peer the header is ignored: a client cannot pick its own
//! budget by sending one. [`limit_public`] puts the result in the request as [`ClientAddr`].
//!
//! # What is limited
//! | requests | setting (per minute per client address) |
//! |---|---|
//! | `POST /api/v1/public/lookup`, the portal's vehicle and CNIC search, appeals | `public_lookups_per_minute` |
//! | `GET /api/v1/public/challans/{key}`, `/api/v1/public/verify/{token}`, `/c/{n}`, `/challans/{n}`, `/v/{token}` | `views_per_minute` |
//! | `POST /api/v1/public/challans/{n}/checkout`, `POST /c/{n}/pay` | `checkouts_per_minute` |
//!
//! A refusal is a 429 with `Retry-After` (a page in the reader's language for browsers).
//! Checkouts are also bounded per challan, whoever starts them: see
//! `efine_service::checkout::start` (`open_attempts_per_challan`).

use crate::i18n::lang::{tr, trf, Lang};
use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct RateLimiter {
    per_window: u32,
    window: Duration,
    seen: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(per_window: u32, window: Duration) -> Self {
        RateLimiter {
            per_window,
            window,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Whether this address may make another request now; if not, how long until it may.
    pub fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() > 100_000 {
            let window = self.window;
            seen.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = seen.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.per_window {
            return Err(self.window.saturating_sub(now.duration_since(entry.0)));
        }
        entry.1 += 1;
        Ok(())
    }
}

/// An address or a CIDR range (`10.0.0.0/8`, `fd00::/8`, `192.0.2.7`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn parse(s: &str) -> Result<IpNet, String> {
        let s = s.trim();
        let (a, p) = s.split_once('/').unwrap_or((s, ""));
        let addr: IpAddr = a
            .parse()
            .map_err(|_| format!("'{s}' is not an IP address or CIDR range"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = if p.is_empty() {
            max
        } else {
            p.parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("'{s}': the prefix length must be 0 to {max}"))?
        };
        Ok(IpNet { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// The client's address as this server judges it (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// The client address of a request from `peer` carrying these `X-Forwarded-For` values.
pub fn client_addr<'a>(
    peer: IpAddr,
    forwarded_for: impl Iterator<Item = &'a str>,
    trusted: &[IpNet],
) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded_for
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        // A hop we cannot read ends the walk: what lies left of it cannot be trusted either.
        let Ok(ip) = hop.parse::<IpAddr>() else {
            break;
        };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

/// Which limit, if any, a request counts against.
fn limiter_for<'a>(state: &'a AppState, method: &Method, path: &str) -> Option<&'a RateLimiter> {
    let seg: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method, seg.as_slice()) {
        (&Method::GET, ["api", "v1", "public", "challans", _])
        | (&Method::GET, ["api", "v1", "public", "verify", _])
        | (&Method::GET, ["c", _])
        | (&Method::GET, ["challans", _])
        | (&Method::GET, ["v", _]) => Some(state.view_limiter.as_ref()),
        (&Method::POST, ["api", "v1", "public", "challans", _, "checkout"])
        | (&Method::POST, ["c", _, "pay"])
        // A fee voucher takes a PSID: asking for one counts like a checkout.
        | (&Method::POST, ["api", "v1", "public", "fees"])
        | (&Method::POST, ["fees", _, _]) => Some(state.checkout_limiter.as_ref()),
        _ => None,
    }
}

/// A 429 with `Retry-After`: a page in the reader's language for browsers, JSON otherwise.
pub fn too_many(wait: Duration, html_page: Option<Lang>) -> Response {
    let secs = wait.as_secs().max(1);
    let mut resp = match html_page {
        Some(lang) => {
            let text = trf(lang, "limit.body", &[("seconds", &secs.to_string())]);
            let page = crate::pages::shell::page(
                lang,
                "/",
                tr(lang, "limit.title"),
                maud::html! { p { (text) } },
            );
            (StatusCode::TOO_MANY_REQUESTS, Html(page.into_string())).into_response()
        }
        None => crate::error::ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests from your address; try again in {secs} seconds"),
        )
        .into_response(),
    };
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// Middleware: works out the [`ClientAddr`] and applies the view and checkout limits.
pub async fn limit_public(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let forwarded = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok());
    let ip = client_addr(peer, forwarded, &state.config.trusted_proxies);
    parts.extensions.insert(ClientAddr(ip));
    if let Some(limiter) = limiter_for(&state, &parts.method, parts.uri.path()) {
        if let Err(wait) = limiter.check(ip) {
            let lang = match Lang::from_request_parts(&mut parts, &()).await {
                Ok(l) => l,
                Err(never) => match never {},
            };
            let html = !parts.uri.path().starts_with("/api/")
                && parts
                    .headers
                    .get(header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|a| a.contains("text/html"));
            return too_many(wait, html.then_some(lang));
        }
    }
    next.run(Request::from_parts(parts, body)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_address_behind_trusted_proxies() {
        let trusted = [
            IpNet::parse("10.0.0.0/8").unwrap(),
            IpNet::parse("192.0.2.1").unwrap(),
        ];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // An untrusted peer: the header is ignored.
        assert_eq!(
            client_addr(ip("203.0.113.9"), ["1.2.3.4"].into_iter(), &trusted),
            ip("203.0.113.9")
        );
        // A trusted proxy: the rightmost untrusted hop, whatever the client prepended.
        assert_eq!(
            client_addr(
                ip("10.1.2.3"),
                ["6.6.6.6, 198.51.100.7, 192.0.2.1"].into_iter(),
                &trusted
            ),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_addr(ip("10.1.2.3"), std::iter::empty(), &trusted),
            ip("10.1.2.3")
        );
        assert!(IpNet::parse("10.0.0.0/33").is_err());
        assert!(IpNet::parse("10.0.0.0/8")
            .unwrap()
            .contains(ip("::ffff:10.9.9.9")));
        assert!(IpNet::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
    }

    #[test]
    fn limits_per_address() {
        let l = RateLimiter::new(2, Duration::from_secs(60));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(l.check(a).is_ok());
        assert!(l.check(a).is_ok());
        assert!(l.check(a).is_err());
        assert!(l.check(b).is_ok());
    }
}
