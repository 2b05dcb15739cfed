//! The settings of a run, loaded and checked once at start-up: built-in defaults, then
//! `efine.toml` (from `--config` or `EFINE_CONFIG`, else the data directory's own if it has
//! one), then `EFINE_*` variables, then flags. Secrets come only from the file or the
//! environment and are held as `SecretString`, which never prints. A wrong value stops the run
//! with a message that names the setting as the operator wrote it.

mod flags;
mod layers;
mod rails;
mod raw;

pub use flags::{DbFlags, NotifyFlags, RailFlags, ServeFlags};
pub use layers::{refuse_secret_flags, Flags};

use anyhow::Result;
use efine_store::{Location, StoreOptions};
use figment::Figment;
use layers::{Environment, File, Names};
use secrecy::{ExposeSecret, SecretString};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The file read when neither `--config` nor `EFINE_CONFIG` names one.
pub const FILE_NAME: &str = "efine.toml";

/// Everything a command may need, checked.
pub struct Settings {
    pub db: DbSettings,
    pub serve: ServeSettings,
    pub rails: RailSettings,
    pub notify: NotifySettings,
    /// How log lines are written (`log_format`).
    pub log_format: LogFormat,
    names: Names,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// JSON when the log stream (standard error) is not a terminal, text when it is.
    Auto,
    /// One JSON object per line.
    Json,
    /// Human-readable lines; colour only on a terminal.
    Text,
}

pub struct DbSettings {
    /// Where the SQLite file and the signing keys live.
    pub data_dir: PathBuf,
    /// The database: the SQLite file in the data directory unless a URL says otherwise. Not
    /// `Debug`-printed anywhere: a PostgreSQL URL may carry a password.
    pub location: Location,
    /// A catalogue file to load at first start instead of the built-in KP catalogue.
    pub catalogue: Option<PathBuf>,
    /// How long to wait for the database: connect, statement and lock timeouts (PostgreSQL),
    /// busy timeout (SQLite).
    pub options: StoreOptions,
    /// Where the key-encryption key comes from.
    pub kek: KekSource,
}

/// Where the key that seals the signing keys in the database comes from. Every node sharing a
/// database must have the same one.
pub enum KekSource {
    /// `EFINE_KEY_ENCRYPTION_KEY` (or `key_encryption_key` in efine.toml), checked at start-up.
    Value(efine_store::keys::Kek),
    /// `EFINE_KEY_ENCRYPTION_KEY_FILE`: read when needed; must be owner-only.
    File(PathBuf),
    /// Neither: `<data dir>/key-encryption-key`, made on first use. Fine for one node; several
    /// nodes on one PostgreSQL database must be given the same key.
    DataDir(PathBuf),
}

impl DbSettings {
    /// The key-encryption key, from wherever it is configured.
    pub fn kek(&self) -> Result<efine_store::keys::Kek> {
        use anyhow::Context;
        use efine_store::keys::Kek;
        match &self.kek {
            KekSource::Value(k) => Ok(k.clone()),
            KekSource::File(p) => Kek::read_file(p).with_context(|| {
                format!(
                    "the key-encryption key file {} (EFINE_KEY_ENCRYPTION_KEY_FILE)",
                    p.display()
                )
            }),
            KekSource::DataDir(p) => {
                if matches!(self.location, Location::Postgres { .. }) && !p.exists() {
                    tracing::warn!(
                        path = %p.display(),
                        "no key-encryption key configured: making one in the data directory; \
                         every node sharing this database needs the same one \
                         (EFINE_KEY_ENCRYPTION_KEY or EFINE_KEY_ENCRYPTION_KEY_FILE)"
                    );
                }
                Kek::load_or_create_file(p)
                    .with_context(|| format!("the key-encryption key file {}", p.display()))
            }
        }
    }
}

pub struct ServeSettings {
    pub listen: String,
    /// Where citizens reach this server, without a trailing slash.
    pub public_url: String,
    pub token_hours: i64,
    pub appeal_window_days: u16,
    pub public_lookups_per_minute: u32,
    /// Failed logins that cost nothing, the lock threshold and the lock's length
    /// (`efine_core::auth::throttle::Policy`).
    pub login_free_failures: u32,
    pub login_lock_after: u32,
    pub login_lock_minutes: i64,
    /// A console session unused this long is over.
    pub console_idle_minutes: i64,
    pub escalation_minutes: u64,
    pub poll_early_minutes: u64,
    pub poll_min_age_minutes: i64,
    pub poll_late_hours: u64,
    pub trusted_proxies: Vec<efine_web::ratelimit::IpNet>,
    pub views_per_minute: u32,
    pub checkouts_per_minute: u32,
    pub open_attempts_per_challan: u32,
    /// The bearer token `/metrics` asks of a scraper; `None`: `/metrics` is off.
    pub metrics_token: Option<SecretString>,
}

/// Payment rails. Which combinations are complete is checked when a server builds its rails
/// (`payments`), since `bank pay` reads the 1Bill pair as a bank's credentials instead.
pub struct RailSettings {
    pub sandbox: bool,
    pub onebill_username: Option<String>,
    pub onebill_password: Option<SecretString>,
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
    pub card_webhook_secrets: Vec<SecretString>,
    pub raast_iban: Option<String>,
    pub raast_name: Option<String>,
    pub raast_city: Option<String>,
    pub raast_mcc: String,
    pub raast_notification_secrets: Vec<SecretString>,
    pub raast_api_url: Option<String>,
    pub raast_api_username: Option<String>,
    pub raast_api_password: Option<SecretString>,
}

/// Notifications. Without `sms_url` messages go to the sandbox provider, which records them as
/// sent without sending; without `registry_url` owners come from the registry sandbox.
pub struct NotifySettings {
    pub sms_url: Option<String>,
    pub sms_username: Option<String>,
    pub sms_password: Option<SecretString>,
    pub sms_sender: String,
    pub registry_url: Option<String>,
    pub registry_token: Option<SecretString>,
    pub notify_texts: Option<PathBuf>,
    pub notify_every_seconds: u64,
}

impl Settings {
    /// Layers the sources and checks every value. `config` is `--config` / `EFINE_CONFIG`.
    pub fn load(config: Option<&Path>, flags: Flags) -> Result<Settings> {
        let file = match config {
            Some(path) => Some(File::read(path, "--config / EFINE_CONFIG")?),
            None => {
                let default = data_dir_before_file(&flags).join(FILE_NAME);
                if default.is_file() {
                    Some(File::read(&default, "the data directory's efine.toml")?)
                } else {
                    None
                }
            }
        };
        let path = file.as_ref().map(|f| f.path.clone());
        let mut figment = Figment::new();
        if let Some(file) = file {
            figment = figment.merge(file);
        }
        let figment = figment.merge(Environment).merge(flags);
        // Lossy: the environment's values are strings, read as numbers or booleans where the
        // field wants one ("12", "true", "1").
        let raw: raw::Raw = figment
            .extract_lossy()
            .map_err(|e| layers::describe(e, path.as_deref()))?;
        check(raw, Names::new(figment))
    }

    /// A wrong value found after loading (e.g. a rail configured by halves), named as written.
    pub fn invalid(&self, key: &str, problem: impl std::fmt::Display) -> anyhow::Error {
        self.names.invalid(key, problem)
    }
}

/// The data directory as far as the flags and the environment say, to find its `efine.toml`
/// (the file cannot move the directory it is found in).
fn data_dir_before_file(flags: &Flags) -> PathBuf {
    if let Some(figment::value::Value::String(_, dir)) = flags.get("data_dir") {
        return PathBuf::from(dir);
    }
    std::env::var_os(layers::env_name("data_dir"))
        .filter(|d| !d.is_empty())
        .map_or_else(|| PathBuf::from(raw::DEFAULT_DATA_DIR), PathBuf::from)
}

fn check(raw: raw::Raw, names: Names) -> Result<Settings> {
    // The upper bounds of the poll intervals are far beyond any sensible setting; they keep
    // the conversion to a duration from overflowing.
    let checks: [(&str, i128, i128); 19] = [
        ("views_per_minute", raw.views_per_minute.into(), 100_000),
        (
            "checkouts_per_minute",
            raw.checkouts_per_minute.into(),
            100_000,
        ),
        (
            "open_attempts_per_challan",
            raw.open_attempts_per_challan.into(),
            1000,
        ),
        (
            "db_connect_timeout_seconds",
            raw.db_connect_timeout_seconds.into(),
            3600,
        ),
        (
            "db_statement_timeout_seconds",
            raw.db_statement_timeout_seconds.into(),
            24 * 3600,
        ),
        (
            "db_lock_timeout_seconds",
            raw.db_lock_timeout_seconds.into(),
            24 * 3600,
        ),
        (
            "sqlite_busy_timeout_seconds",
            raw.sqlite_busy_timeout_seconds.into(),
            3600,
        ),
        ("token_hours", raw.token_hours.into(), 24 * 30),
        ("login_free_failures", raw.login_free_failures.into(), 100),
        ("login_lock_after", raw.login_lock_after.into(), 1000),
        ("login_lock_minutes", raw.login_lock_minutes.into(), 24 * 60),
        (
            "console_idle_minutes",
            raw.console_idle_minutes.into(),
            24 * 60,
        ),
        ("appeal_window_days", raw.appeal_window_days.into(), 365),
        (
            "public_lookups_per_minute",
            raw.public_lookups_per_minute.into(),
            1_000_000,
        ),
        (
            "escalation_minutes",
            raw.escalation_minutes.into(),
            7 * 24 * 60,
        ),
        (
            "poll_early_minutes",
            raw.poll_early_minutes.into(),
            7 * 24 * 60,
        ),
        (
            "poll_min_age_minutes",
            raw.poll_min_age_minutes.into(),
            24 * 60,
        ),
        ("poll_late_hours", raw.poll_late_hours.into(), 366 * 24),
        (
            "notify_every_seconds",
            raw.notify_every_seconds.into(),
            3600,
        ),
    ];
    for (key, value, max) in checks {
        if !(1..=max).contains(&value) {
            return Err(names.invalid(key, format_args!("must be between 1 and {max}")));
        }
    }

    let location = match &raw.database_url {
        None => Location::Sqlite(raw.data_dir.join("efine.db")),
        Some(url) => {
            let url = url.expose_secret();
            if names.given_as_flag("database_url") && has_password(url) {
                return Err(names.invalid(
                    "database_url",
                    "carries a password, which other users of the machine can read on the \
                     command line: give the URL in EFINE_DATABASE_URL or `database_url` in \
                     efine.toml",
                ));
            }
            Location::from_url(url).map_err(|e| names.invalid("database_url", e))?
        }
    };

    let public_url = raw
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", raw.listen))
        .trim()
        .trim_end_matches('/')
        .to_string();
    if !(public_url.starts_with("http://") || public_url.starts_with("https://"))
        || public_url.contains(char::is_whitespace)
    {
        return Err(names.invalid(
            "public_url",
            "must be an http:// or https:// URL, e.g. https://efine.kp.gov.pk",
        ));
    }

    let trusted_proxies = raw
        .trusted_proxies
        .iter()
        .map(|p| efine_web::ratelimit::IpNet::parse(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| names.invalid("trusted_proxies", e))?;
    let log_format = match raw.log_format.trim().to_ascii_lowercase().as_str() {
        "auto" | "" => LogFormat::Auto,
        "json" => LogFormat::Json,
        "text" => LogFormat::Text,
        _ => return Err(names.invalid("log_format", "must be auto, json or text")),
    };
    if raw
        .metrics_token
        .as_ref()
        .is_some_and(|t| t.expose_secret().trim().len() < 16)
    {
        return Err(names.invalid(
            "metrics_token",
            "must be at least 16 characters (e.g. `openssl rand -hex 32`)",
        ));
    }
    let kek = match (&raw.key_encryption_key, raw.key_encryption_key_file) {
        (Some(_), Some(_)) => {
            return Err(names.invalid(
                "key_encryption_key",
                "is given together with key_encryption_key_file: give one of them",
            ))
        }
        (Some(k), None) => KekSource::Value(
            efine_store::keys::Kek::parse(k.expose_secret())
                .map_err(|e| names.invalid("key_encryption_key", e))?,
        ),
        (None, Some(p)) => KekSource::File(p),
        (None, None) => KekSource::DataDir(raw.data_dir.join(efine_store::keys::KEK_FILE_NAME)),
    };

    Ok(Settings {
        log_format,
        db: DbSettings {
            data_dir: raw.data_dir,
            location,
            catalogue: raw.catalogue,
            options: StoreOptions {
                sqlite_busy_timeout: secs(raw.sqlite_busy_timeout_seconds),
                pg_connect_timeout: secs(raw.db_connect_timeout_seconds),
                pg_statement_timeout: secs(raw.db_statement_timeout_seconds),
                pg_lock_timeout: secs(raw.db_lock_timeout_seconds),
                ..StoreOptions::default()
            },
            kek,
        },
        serve: ServeSettings {
            listen: raw.listen,
            public_url,
            token_hours: raw.token_hours,
            appeal_window_days: raw.appeal_window_days,
            public_lookups_per_minute: raw.public_lookups_per_minute,
            login_free_failures: raw.login_free_failures,
            login_lock_after: raw.login_lock_after,
            login_lock_minutes: raw.login_lock_minutes,
            console_idle_minutes: raw.console_idle_minutes,
            escalation_minutes: raw.escalation_minutes,
            poll_early_minutes: raw.poll_early_minutes,
            poll_min_age_minutes: raw.poll_min_age_minutes,
            poll_late_hours: raw.poll_late_hours,
            trusted_proxies,
            views_per_minute: raw.views_per_minute,
            checkouts_per_minute: raw.checkouts_per_minute,
            open_attempts_per_challan: raw.open_attempts_per_challan,
            metrics_token: raw.metrics_token,
        },
        rails: RailSettings {
            sandbox: raw.sandbox,
            onebill_username: raw.onebill_username,
            onebill_password: raw.onebill_password,
            onebill_allow: raw.onebill_allow,
            jazzcash_merchant_id: raw.jazzcash_merchant_id,
            jazzcash_password: raw.jazzcash_password,
            jazzcash_integrity_salt: raw.jazzcash_integrity_salt,
            jazzcash_url: raw.jazzcash_url,
            jazzcash_api_url: raw.jazzcash_api_url,
            easypaisa_store_id: raw.easypaisa_store_id,
            easypaisa_hash_key: raw.easypaisa_hash_key,
            easypaisa_username: raw.easypaisa_username,
            easypaisa_password: raw.easypaisa_password,
            easypaisa_url: raw.easypaisa_url,
            easypaisa_api_url: raw.easypaisa_api_url,
            card_merchant_id: raw.card_merchant_id,
            card_url: raw.card_url,
            card_session_secret: raw.card_session_secret,
            card_webhook_secrets: raw.card_webhook_secrets,
            raast_iban: raw.raast_iban,
            raast_name: raw.raast_name,
            raast_city: raw.raast_city,
            raast_mcc: raw.raast_mcc,
            raast_notification_secrets: raw.raast_notification_secrets,
            raast_api_url: raw.raast_api_url,
            raast_api_username: raw.raast_api_username,
            raast_api_password: raw.raast_api_password,
        },
        notify: NotifySettings {
            sms_url: raw.sms_url,
            sms_username: raw.sms_username,
            sms_password: raw.sms_password,
            sms_sender: raw.sms_sender,
            registry_url: raw.registry_url,
            registry_token: raw.registry_token,
            notify_texts: raw.notify_texts,
            notify_every_seconds: raw.notify_every_seconds,
        },
        names,
    })
}

fn secs(n: u64) -> std::time::Duration {
    std::time::Duration::from_secs(n)
}

/// Whether a URL's authority carries `user:password@`.
fn has_password(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| userinfo.contains(':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_a_field_and_every_secret_a_key() {
        for key in raw::KEYS {
            let dict = figment::util::map![key.to_string() => figment::value::Value::from("x")];
            let e = Figment::from(figment::providers::Serialized::defaults(dict))
                .extract::<raw::Raw>()
                .err();
            let unknown = e
                .into_iter()
                .flatten()
                .any(|e| matches!(e.kind, figment::error::Kind::UnknownField(..)));
            assert!(!unknown, "{key} is listed but not a field");
        }
        for s in raw::SECRETS {
            assert!(raw::KEYS.contains(s), "{s}");
            assert!(layers::flag_name(s).is_none());
        }
    }

    #[test]
    fn names_follow_the_key() {
        assert_eq!(layers::env_name("1bill_allow"), "EFINE_1BILL_ALLOW");
        assert_eq!(
            layers::flag_name("1bill_username").as_deref(),
            Some("--onebill-username")
        );
        assert_eq!(
            layers::flag_name("poll_min_age_minutes").as_deref(),
            Some("--poll-min-age-minutes")
        );
    }

    #[test]
    fn passwords_in_urls_are_seen() {
        assert!(has_password("postgres://efine:pw@db:5432/efine"));
        assert!(!has_password("postgres://efine@db:5432/efine"));
        assert!(!has_password("postgres://db/efine?user=a@b"));
        assert!(!has_password("/var/lib/efine/efine.db"));
    }

    #[test]
    fn secret_flags_are_refused_without_their_value() {
        let args = |a: &[&str]| a.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        let e = refuse_secret_flags(&args(&["efine", "serve", "--sms-password=hunter22"]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("--sms-password") && e.contains("EFINE_SMS_PASSWORD"),
            "{e}"
        );
        assert!(!e.contains("hunter22"), "{e}");
        assert!(
            refuse_secret_flags(&args(&["efine", "bank", "pay", "1", "--password", "x"])).is_err()
        );
        assert!(refuse_secret_flags(&args(&["efine", "user", "add", "--password-stdin"])).is_ok());
        assert!(refuse_secret_flags(&args(&["efine", "user", "add", "--password", "x"])).is_ok());
    }
}
