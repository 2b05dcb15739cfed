//! Every setting exactly as an operator writes it: one flat set of keys shared by `efine.toml`
//! (the key), the environment (`EFINE_` and the key in capitals) and the command line (`--` and
//! the key with dashes). Values are only typed here; ranges and cross-checks are in `super`.

use secrecy::SecretString;
use serde::{Deserialize, Deserializer};
use std::net::IpAddr;
use std::path::PathBuf;

/// Every key, in the order the README lists them. The environment is read for these names only,
/// so other `EFINE_*` variables (the log filter, the test database) are left alone.
pub const KEYS: &[&str] = &[
    "data_dir",
    "database_url",
    "catalogue",
    "db_connect_timeout_seconds",
    "db_statement_timeout_seconds",
    "db_lock_timeout_seconds",
    "sqlite_busy_timeout_seconds",
    "listen",
    "public_url",
    "token_hours",
    "appeal_window_days",
    "public_lookups_per_minute",
    "escalation_minutes",
    "poll_early_minutes",
    "poll_min_age_minutes",
    "poll_late_hours",
    "sandbox",
    "1bill_username",
    "1bill_password",
    "1bill_allow",
    "jazzcash_merchant_id",
    "jazzcash_password",
    "jazzcash_integrity_salt",
    "jazzcash_url",
    "jazzcash_api_url",
    "easypaisa_store_id",
    "easypaisa_hash_key",
    "easypaisa_username",
    "easypaisa_password",
    "easypaisa_url",
    "easypaisa_api_url",
    "card_merchant_id",
    "card_url",
    "card_session_secret",
    "card_webhook_secrets",
    "raast_iban",
    "raast_name",
    "raast_city",
    "raast_mcc",
    "raast_notification_secrets",
    "raast_api_url",
    "raast_api_username",
    "raast_api_password",
    "sms_url",
    "sms_username",
    "sms_password",
    "sms_sender",
    "registry_url",
    "registry_token",
    "notify_texts",
    "notify_every_seconds",
    "trusted_proxies",
    "views_per_minute",
    "checkouts_per_minute",
    "open_attempts_per_challan",
    "metrics_token",
    "log_format",
    "login_free_failures",
    "login_lock_after",
    "login_lock_minutes",
    "console_idle_minutes",
    "key_encryption_key",
    "key_encryption_key_file",
];

/// Keys whose values are secrets: taken from the environment or the file only, never from a
/// flag (other users of the machine can read a process's arguments), and never printed.
pub const SECRETS: &[&str] = &[
    "1bill_password",
    "jazzcash_password",
    "jazzcash_integrity_salt",
    "easypaisa_hash_key",
    "easypaisa_password",
    "card_session_secret",
    "card_webhook_secrets",
    "raast_notification_secrets",
    "raast_api_password",
    "sms_password",
    "registry_token",
    "metrics_token",
    "key_encryption_key",
];

/// The settings as layered, typed but not yet checked.
#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Raw {
    pub data_dir: PathBuf,
    /// Held as a secret: a PostgreSQL URL may carry a password.
    pub database_url: Option<SecretString>,
    pub catalogue: Option<PathBuf>,
    pub db_connect_timeout_seconds: u64,
    pub db_statement_timeout_seconds: u64,
    pub db_lock_timeout_seconds: u64,
    pub sqlite_busy_timeout_seconds: u64,
    pub listen: String,
    pub public_url: Option<String>,
    pub token_hours: i64,
    pub appeal_window_days: u16,
    pub public_lookups_per_minute: u32,
    pub login_free_failures: u32,
    pub login_lock_after: u32,
    pub login_lock_minutes: i64,
    pub console_idle_minutes: i64,
    pub escalation_minutes: u64,
    pub poll_early_minutes: u64,
    pub poll_min_age_minutes: i64,
    pub poll_late_hours: u64,
    pub sandbox: bool,
    #[serde(rename = "1bill_username")]
    pub onebill_username: Option<String>,
    #[serde(rename = "1bill_password")]
    pub onebill_password: Option<SecretString>,
    #[serde(rename = "1bill_allow", deserialize_with = "ip_list")]
    pub onebill_allow: Vec<IpAddr>,
    pub jazzcash_merchant_id: Option<String>,
    pub jazzcash_password: Option<SecretString>,
    pub jazzcash_integrity_salt: Option<SecretString>,
    pub jazzcash_url: Option<String>,
    pub jazzcash_api_url: Option<String>,
    pub easypaisa_store_id: Option<String>,
    pub easypaisa_hash_key: Option<SecretString>,
    pub easypaisa_username: Option<String>,
    pub easypaisa_password: Option<SecretString>,
    pub easypaisa_url: Option<String>,
    pub easypaisa_api_url: Option<String>,
    pub card_merchant_id: Option<String>,
    pub card_url: Option<String>,
    pub card_session_secret: Option<SecretString>,
    #[serde(deserialize_with = "secret_list")]
    pub card_webhook_secrets: Vec<SecretString>,
    pub raast_iban: Option<String>,
    pub raast_name: Option<String>,
    pub raast_city: Option<String>,
    pub raast_mcc: String,
    #[serde(deserialize_with = "secret_list")]
    pub raast_notification_secrets: Vec<SecretString>,
    pub raast_api_url: Option<String>,
    pub raast_api_username: Option<String>,
    pub raast_api_password: Option<SecretString>,
    pub sms_url: Option<String>,
    pub sms_username: Option<String>,
    pub sms_password: Option<SecretString>,
    pub sms_sender: String,
    pub registry_url: Option<String>,
    pub registry_token: Option<SecretString>,
    pub notify_texts: Option<PathBuf>,
    pub notify_every_seconds: u64,
    #[serde(deserialize_with = "string_list")]
    pub trusted_proxies: Vec<String>,
    pub views_per_minute: u32,
    pub checkouts_per_minute: u32,
    pub open_attempts_per_challan: u32,
    /// The bearer token a Prometheus scraper sends to `/metrics`; unset, `/metrics` is off.
    pub metrics_token: Option<SecretString>,
    /// `auto` (JSON when the log is not a terminal), `json` or `text`.
    pub log_format: String,
    /// Seals the signing keys in the database: 64 hex digits or base64 of 32 bytes.
    pub key_encryption_key: Option<SecretString>,
    /// A file (owner-only) holding the key-encryption key, in place of the value itself.
    pub key_encryption_key_file: Option<PathBuf>,
}

impl Default for Raw {
    fn default() -> Raw {
        Raw {
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            database_url: None,
            catalogue: None,
            db_connect_timeout_seconds: 10,
            db_statement_timeout_seconds: 60,
            db_lock_timeout_seconds: 30,
            sqlite_busy_timeout_seconds: 10,
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            token_hours: 12,
            appeal_window_days: 30,
            public_lookups_per_minute: 30,
            login_free_failures: 3,
            login_lock_after: 10,
            login_lock_minutes: 15,
            console_idle_minutes: 30,
            escalation_minutes: 60,
            poll_early_minutes: 15,
            poll_min_age_minutes: 15,
            poll_late_hours: 24,
            sandbox: false,
            onebill_username: None,
            onebill_password: None,
            onebill_allow: Vec::new(),
            jazzcash_merchant_id: None,
            jazzcash_password: None,
            jazzcash_integrity_salt: None,
            jazzcash_url: None,
            jazzcash_api_url: None,
            easypaisa_store_id: None,
            easypaisa_hash_key: None,
            easypaisa_username: None,
            easypaisa_password: None,
            easypaisa_url: None,
            easypaisa_api_url: None,
            card_merchant_id: None,
            card_url: None,
            card_session_secret: None,
            card_webhook_secrets: Vec::new(),
            raast_iban: None,
            raast_name: None,
            raast_city: None,
            raast_mcc: "0000".into(),
            raast_notification_secrets: Vec::new(),
            raast_api_url: None,
            raast_api_username: None,
            raast_api_password: None,
            sms_url: None,
            sms_username: None,
            sms_password: None,
            sms_sender: "EFINE-KP".into(),
            registry_url: None,
            registry_token: None,
            notify_texts: None,
            notify_every_seconds: 5,
            trusted_proxies: Vec::new(),
            views_per_minute: 120,
            checkouts_per_minute: 20,
            open_attempts_per_challan: 5,
            metrics_token: None,
            log_format: "auto".into(),
            key_encryption_key: None,
            key_encryption_key_file: None,
        }
    }
}

pub const DEFAULT_DATA_DIR: &str = "./efine-data";

/// A list is an array in `efine.toml`, or one comma-separated string (as in the environment).
#[derive(Deserialize)]
#[serde(untagged)]
enum List {
    One(String),
    Many(Vec<String>),
}

impl List {
    fn items(self) -> Vec<String> {
        match self {
            List::One(s) => s
                .split(',')
                .map(|i| i.trim().to_string())
                .filter(|i| !i.is_empty())
                .collect(),
            List::Many(v) => v,
        }
    }
}

fn ip_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpAddr>, D::Error> {
    List::deserialize(d)?
        .items()
        .iter()
        .map(|a| {
            a.parse()
                .map_err(|_| serde::de::Error::custom(format!("{a:?} is not an IP address")))
        })
        .collect()
}

fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let list = List::deserialize(d)
        .map_err(|_| serde::de::Error::custom("expected a string or an array of strings"))?;
    Ok(list.items())
}

fn secret_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<SecretString>, D::Error> {
    // The untagged enum's own message would not show the value, but say what is expected.
    let list = List::deserialize(d)
        .map_err(|_| serde::de::Error::custom("expected a string or an array of strings"))?;
    Ok(list.items().into_iter().map(SecretString::from).collect())
}
