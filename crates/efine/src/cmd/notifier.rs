//! The notifications worker from the settings, for `serve` and `outbox run`.

use crate::config::NotifySettings;
use anyhow::{bail, Context, Result};
use efine_service::notify::{self, provider, registry};
use efine_store::Store;
use secrecy::ExposeSecret;
use std::sync::Arc;

/// Builds the worker, refusing incomplete settings by name. Secrets are never printed.
pub fn build(s: &NotifySettings, store: &Store) -> Result<notify::Notifier> {
    let texts = match &s.notify_texts {
        Some(path) => {
            let t = std::fs::read_to_string(path)
                .with_context(|| format!("reading EFINE_NOTIFY_TEXTS {}", path.display()))?;
            notify::parse_texts(&t)
                .map_err(|e| anyhow::anyhow!("EFINE_NOTIFY_TEXTS {}: {e}", path.display()))?
        }
        None => notify::parse_texts(efine_core::notify::DEFAULT_TEXTS)
            .map_err(|e| anyhow::anyhow!("shipped message texts: {e}"))?,
    };
    let password = s
        .sms_password
        .as_ref()
        .map(|p| p.expose_secret().to_string());
    let provider: Arc<dyn provider::Provider> = match &s.sms_url {
        Some(url) => Arc::new(
            provider::HttpProvider::new(url, s.sms_username.clone(), password, &s.sms_sender)
                .map_err(|e| anyhow::anyhow!(e))?,
        ),
        None => {
            if s.sms_username.is_some() || password.is_some() {
                bail!("EFINE_SMS_USERNAME / EFINE_SMS_PASSWORD are set but EFINE_SMS_URL is not");
            }
            Arc::new(provider::SandboxProvider::default())
        }
    };
    let token = s
        .registry_token
        .as_ref()
        .map(|t| t.expose_secret().to_string());
    let registry: Arc<dyn registry::Registry> = match &s.registry_url {
        Some(url) => Arc::new(
            registry::HttpRegistry::new(url, token)
                .map_err(|e| anyhow::anyhow!("EFINE_REGISTRY_URL: {}", e.0))?,
        ),
        None => {
            if token.is_some() {
                bail!("EFINE_REGISTRY_TOKEN is set but EFINE_REGISTRY_URL is not");
            }
            Arc::new(registry::SandboxRegistry::shipped())
        }
    };
    tracing::info!(
        provider = provider.name(),
        registry = if s.registry_url.is_some() {
            "http"
        } else {
            "sandbox"
        },
        "notifications"
    );
    Ok(notify::Notifier::new(
        store.clone(),
        texts,
        registry,
        provider,
        notify::node_name(),
        notify::NotifyConfig {
            every: std::time::Duration::from_secs(s.notify_every_seconds),
            ..Default::default()
        },
    ))
}
