//! Message delivery: a provider interface, the HTTP provider that speaks to an SMS (and e-mail)
//! gateway, and the sandbox provider that records what it was given.
//!
//! The HTTP provider posts `{"to", "channel", "sender", "text", "reference"}` as JSON with HTTP
//! basic credentials; `reference` is the message's unique key, so a gateway that deduplicates
//! on it never sends twice even if a node dies between sending and recording. A 2xx answer is
//! accepted (its JSON `id`, if any, is kept as the provider's reference); 408, 429, 5xx and
//! network errors are tried again later; any other answer is a refusal and final.

use efine_core::notify::Channel;
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A message as handed to a provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outgoing {
    pub to: String,
    pub channel: Channel,
    pub text: String,
    pub reference: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth trying again later.
    Temporary(String),
    /// Refused: trying again will not help.
    Refused(String),
}

pub type Sending<'a> = Pin<Box<dyn Future<Output = Result<String, SendError>> + Send + 'a>>;

/// Sends one message; answers the provider's reference for it.
pub trait Provider: Send + Sync {
    fn name(&self) -> &'static str;
    fn send<'a>(&'a self, m: &'a Outgoing) -> Sending<'a>;
}

/// Records every message instead of sending it (the default, and `--demo`'s).
#[derive(Debug, Clone, Default)]
pub struct SandboxProvider {
    sent: Arc<Mutex<Vec<Outgoing>>>,
}

impl SandboxProvider {
    /// What it was given, oldest first.
    pub fn sent(&self) -> Vec<Outgoing> {
        self.sent.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Provider for SandboxProvider {
    fn name(&self) -> &'static str {
        "sandbox"
    }
    fn send<'a>(&'a self, m: &'a Outgoing) -> Sending<'a> {
        Box::pin(async move {
            let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
            sent.push(m.clone());
            Ok(format!("sandbox-{}", sent.len()))
        })
    }
}

/// An SMS / e-mail gateway over HTTP.
#[derive(Clone)]
pub struct HttpProvider {
    url: String,
    username: Option<String>,
    password: Option<String>,
    sender: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for HttpProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpProvider")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "(set)"))
            .field("sender", &self.sender)
            .finish()
    }
}

impl HttpProvider {
    /// Checks the settings: an http(s) URL without credentials in it, and a username and
    /// password together or neither.
    pub fn new(
        url: &str,
        username: Option<String>,
        password: Option<String>,
        sender: &str,
    ) -> Result<HttpProvider, String> {
        super::registry::check_url(url).map_err(|e| format!("EFINE_SMS_URL: {e}"))?;
        if username.is_some() != password.is_some() {
            return Err("set both EFINE_SMS_USERNAME and EFINE_SMS_PASSWORD, or neither".into());
        }
        if sender.trim().is_empty() {
            return Err("EFINE_SMS_SENDER must not be empty".into());
        }
        Ok(HttpProvider {
            url: url.to_string(),
            username,
            password,
            sender: sender.to_string(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .map_err(|e| format!("HTTP client: {e}"))?,
        })
    }
}

impl Provider for HttpProvider {
    fn name(&self) -> &'static str {
        "http"
    }
    fn send<'a>(&'a self, m: &'a Outgoing) -> Sending<'a> {
        Box::pin(async move {
            let mut rq = self.http.post(&self.url).json(&serde_json::json!({
                "to": m.to,
                "channel": m.channel,
                "sender": self.sender,
                "text": m.text,
                "reference": m.reference,
            }));
            if let (Some(u), Some(p)) = (&self.username, &self.password) {
                rq = rq.basic_auth(u, Some(p));
            }
            let r = rq
                .send()
                .await
                .map_err(|e| SendError::Temporary(e.without_url().to_string()))?;
            let status = r.status().as_u16();
            match status {
                200..=299 => {
                    let body: serde_json::Value = r.json().await.unwrap_or_default();
                    Ok(body
                        .get("id")
                        .map(|v| v.to_string().trim_matches('"').to_string())
                        .unwrap_or_else(|| format!("http-{status}")))
                }
                408 | 429 | 500..=599 => Err(SendError::Temporary(format!("HTTP {status}"))),
                _ => Err(SendError::Refused(format!("HTTP {status}"))),
            }
        })
    }
}
