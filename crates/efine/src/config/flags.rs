//! The command-line flags for settings, by group. Each flag overrides its `EFINE_*` variable and
//! its key in `efine.toml`; a flag left out leaves them alone. Secrets have no flags.

use clap::Args;
use serde::Serialize;
use std::path::PathBuf;

fn is_false(b: &bool) -> bool {
    !*b
}

/// Where the data lives.
#[derive(Args, Clone, Default, Serialize)]
pub struct DbFlags {
    /// Where the embedded database and signing keys live (EFINE_DATA_DIR; default
    /// ./efine-data).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// `postgres://...` to use PostgreSQL instead of the embedded SQLite file
    /// (EFINE_DATABASE_URL, which is also where a URL with a password goes).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// A catalogue file to load at first start instead of the built-in KP catalogue
    /// (EFINE_CATALOGUE).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalogue: Option<PathBuf>,
    /// PostgreSQL: seconds to make a connection (TCP, start-up, login) before giving up and
    /// naming host, port, database and cause (EFINE_DB_CONNECT_TIMEOUT_SECONDS; default 10).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db_connect_timeout_seconds: Option<u64>,
    /// PostgreSQL: seconds after which the server cancels a statement
    /// (EFINE_DB_STATEMENT_TIMEOUT_SECONDS; default 60; migrations are exempt).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db_statement_timeout_seconds: Option<u64>,
    /// PostgreSQL: seconds a statement waits for a lock (EFINE_DB_LOCK_TIMEOUT_SECONDS;
    /// default 30).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db_lock_timeout_seconds: Option<u64>,
    /// SQLite: seconds a statement waits for another connection's lock
    /// (EFINE_SQLITE_BUSY_TIMEOUT_SECONDS; default 10).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sqlite_busy_timeout_seconds: Option<u64>,
}

/// The server's own settings.
#[derive(Args, Clone, Default, Serialize)]
pub struct ServeFlags {
    /// Address to listen on (EFINE_LISTEN; default 127.0.0.1:8080).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// Lifetime of staff bearer tokens, in hours (EFINE_TOKEN_HOURS; default 12).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_hours: Option<i64>,
    /// How often to ask the rails about young open payment attempts, in minutes
    /// (EFINE_POLL_EARLY_MINUTES; default 15).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poll_early_minutes: Option<u64>,
    /// Attempts between this many minutes old and twice that are young (asked often); older
    /// ones are asked once a day (EFINE_POLL_MIN_AGE_MINUTES; default 15).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poll_min_age_minutes: Option<i64>,
    /// How often to ask about every older open attempt, in hours (EFINE_POLL_LATE_HOURS;
    /// default 24).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poll_late_hours: Option<u64>,
    /// How often the escalation job records surcharges and enforcement stages, in minutes
    /// (EFINE_ESCALATION_MINUTES; default 60).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalation_minutes: Option<u64>,
    /// Days after the issue day within which a citizen may appeal a challan
    /// (EFINE_APPEAL_WINDOW_DAYS; default 30).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appeal_window_days: Option<u16>,
    /// Public lookups (by vehicle or CNIC) allowed per minute from one address
    /// (EFINE_PUBLIC_LOOKUPS_PER_MINUTE; default 30).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_lookups_per_minute: Option<u32>,
    /// Where citizens reach this server: QR codes carry `<public URL>/v/<token>`, and the
    /// payment rails send payers back here (EFINE_PUBLIC_URL; default `http://<listen
    /// address>`).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Comma-separated addresses or CIDR ranges of the reverse proxies in front of this server,
    /// whose X-Forwarded-For is believed (EFINE_TRUSTED_PROXIES; default: none).
    #[arg(long, value_delimiter = ',')]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trusted_proxies: Vec<String>,
    /// Public challan and QR views per client address per minute (EFINE_VIEWS_PER_MINUTE;
    /// default 120).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub views_per_minute: Option<u32>,
    /// Checkouts per client address per minute (EFINE_CHECKOUTS_PER_MINUTE; default 20).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkouts_per_minute: Option<u32>,
    /// Online payment attempts that may be open at once for one challan
    /// (EFINE_OPEN_ATTEMPTS_PER_CHALLAN; default 5).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_attempts_per_challan: Option<u32>,
}

/// Payment rails, all but their secrets (EFINE_1BILL_PASSWORD, EFINE_JAZZCASH_PASSWORD,
/// EFINE_JAZZCASH_INTEGRITY_SALT, EFINE_EASYPAISA_HASH_KEY, EFINE_EASYPAISA_PASSWORD,
/// EFINE_CARD_SESSION_SECRET, EFINE_CARD_WEBHOOK_SECRETS, or their keys in efine.toml). With
/// `--demo` (or `EFINE_SANDBOX=1`) every rail not configured uses E-Fine's own sandbox.
#[derive(Args, Clone, Default, Serialize)]
pub struct RailFlags {
    /// Serve the rails' sandboxes from this server (EFINE_SANDBOX; on with --demo).
    #[arg(long)]
    #[serde(skip_serializing_if = "is_false")]
    pub sandbox: bool,
    /// The 1Bill caller's user name (EFINE_1BILL_USERNAME).
    #[arg(long)]
    #[serde(rename = "1bill_username", skip_serializing_if = "Option::is_none")]
    pub onebill_username: Option<String>,
    /// Comma-separated addresses allowed to call the 1Bill API (EFINE_1BILL_ALLOW; default:
    /// any).
    #[arg(long, value_delimiter = ',')]
    #[serde(rename = "1bill_allow", skip_serializing_if = "Vec::is_empty")]
    pub onebill_allow: Vec<String>,
    /// EFINE_JAZZCASH_MERCHANT_ID.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jazzcash_merchant_id: Option<String>,
    /// JazzCash's hosted checkout form URL (EFINE_JAZZCASH_URL).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jazzcash_url: Option<String>,
    /// JazzCash's REST API base URL, for status inquiries (EFINE_JAZZCASH_API_URL).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jazzcash_api_url: Option<String>,
    /// EFINE_EASYPAISA_STORE_ID.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub easypaisa_store_id: Option<String>,
    /// EFINE_EASYPAISA_USERNAME.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub easypaisa_username: Option<String>,
    /// Easypaisa's hosted checkout URL (EFINE_EASYPAISA_URL).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub easypaisa_url: Option<String>,
    /// Easypaisa's REST API base URL, for inquiries (EFINE_EASYPAISA_API_URL).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub easypaisa_api_url: Option<String>,
    /// EFINE_CARD_MERCHANT_ID.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card_merchant_id: Option<String>,
    /// The card gateway's hosted payment page (EFINE_CARD_URL).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card_url: Option<String>,
}

/// Notifications, all but their secrets (EFINE_SMS_PASSWORD, EFINE_REGISTRY_TOKEN, or their
/// keys in efine.toml). Without an SMS URL messages go to the sandbox provider, which records
/// them as sent without sending; without a registry URL owners come from the registry sandbox.
#[derive(Args, Clone, Default, Serialize)]
pub struct NotifyFlags {
    /// The SMS (and e-mail) gateway's URL: messages are POSTed to it as JSON (EFINE_SMS_URL).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_url: Option<String>,
    /// EFINE_SMS_USERNAME.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_username: Option<String>,
    /// The sender name (mask) the gateway shows (EFINE_SMS_SENDER; default EFINE-KP).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_sender: Option<String>,
    /// The vehicle registration authority's owner-lookup URL (EFINE_REGISTRY_URL).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry_url: Option<String>,
    /// A message texts file to use instead of the shipped one, data/notifications.toml
    /// (EFINE_NOTIFY_TEXTS).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify_texts: Option<PathBuf>,
    /// Seconds between notification rounds in `efine serve` (EFINE_NOTIFY_EVERY_SECONDS;
    /// default 5).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify_every_seconds: Option<u64>,
}
