//! The `efine` command: serve the API, run migrations, manage staff, verify the audit chain,
//! and generate load. A thin layer over `efine-store` and `efine-web`.

mod bank;
mod bulk;
mod demo;
mod loadgen;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use efine_core::auth::Role;
use efine_core::{DepartmentCode, DistrictCode};
use efine_store::ops::{audit, catalogue, users};
use efine_store::{catalogue_seed, Location, Store};
use std::io::Read;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "efine",
    version,
    about = "E-Fine: issue, collect, verify and account for government fines and fees"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct DbArgs {
    /// Where the embedded database and signing keys live.
    #[arg(long, env = "EFINE_DATA_DIR", default_value = "./efine-data")]
    data_dir: PathBuf,
    /// `postgres://...` to use PostgreSQL instead of the embedded SQLite file.
    #[arg(long, env = "EFINE_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// A catalogue file to load at first start instead of the built-in KP catalogue.
    #[arg(long, env = "EFINE_CATALOGUE")]
    catalogue: Option<PathBuf>,
}

// Parsed once per run: the size difference between subcommands costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        #[command(flatten)]
        db: DbArgs,
        /// Address to listen on.
        #[arg(long, env = "EFINE_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Also load demo data that follows the KP pilot (once; later starts keep it).
        #[arg(long)]
        demo: bool,
        /// Lifetime of staff bearer tokens, in hours.
        #[arg(long, env = "EFINE_TOKEN_HOURS", default_value_t = 12)]
        token_hours: i64,
        #[command(flatten)]
        rails: RailArgs,
        /// How often to ask the rails about young open payment attempts, in minutes.
        #[arg(long, env = "EFINE_POLL_EARLY_MINUTES", default_value_t = 15)]
        poll_early_minutes: u64,
        /// Attempts between this many minutes old and twice that are young (asked often); older
        /// ones are asked once a day.
        #[arg(long, env = "EFINE_POLL_MIN_AGE_MINUTES", default_value_t = 15)]
        poll_min_age_minutes: i64,
        /// How often to ask about every older open attempt, in hours.
        #[arg(long, env = "EFINE_POLL_LATE_HOURS", default_value_t = 24)]
        poll_late_hours: u64,
        /// How often the escalation job records surcharges and enforcement stages, in minutes.
        #[arg(long, env = "EFINE_ESCALATION_MINUTES", default_value_t = 60)]
        escalation_minutes: u64,
        /// Days after the issue day within which a citizen may appeal a challan.
        #[arg(long, env = "EFINE_APPEAL_WINDOW_DAYS", default_value_t = 30)]
        appeal_window_days: u16,
        /// Where citizens reach this server: QR codes carry `<public URL>/v/<token>`, and the
        /// payment rails send payers back here (default: `http://<listen address>`).
        #[arg(long, env = "EFINE_PUBLIC_URL")]
        public_url: Option<String>,
        #[command(flatten)]
        notify: NotifyArgs,
    },
    /// Apply pending database migrations and load the catalogue, then exit.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Run the escalation job once now (`efine serve` runs it at an interval): record surcharges
    /// and enforcement stages reached by overdue unpaid challans.
    Escalate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Staff accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The tamper-evident record.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// QR signing keys (kept in the data directory, owner-only).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Signed QR tokens.
    Qr {
        #[command(subcommand)]
        command: QrCommand,
    },
    /// Issue challans over HTTP as fast as a number of clients can, and report latency.
    Loadgen(loadgen::LoadgenArgs),
    /// Fill a database with synthetic challans for measurements (never in production).
    BulkIssue {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        bulk: bulk::BulkArgs,
    },
    /// Act as a bank on the 1Bill biller API.
    Bank {
        #[command(subcommand)]
        command: bank::BankCommand,
    },
    /// Reconcile rails' settlement files against the ledger.
    Recon {
        #[command(subcommand)]
        command: ReconCommand,
    },
    /// The double-entry ledger.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// The notifications outbox (SMS and e-mail).
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// The statistics behind the dashboard and the transparency page.
    Stats {
        #[command(subcommand)]
        command: StatsCommand,
    },
}

#[derive(Subcommand)]
enum StatsCommand {
    /// Recount every statistics table from the record (challans, receipts, cancellations,
    /// appeals) in one transaction, replacing what is there. Servers keep running; their writes
    /// wait for it. `serve` and `migrate` do this by themselves when the statistics are empty
    /// but challans exist (a database upgraded from before the statistics were added).
    Rebuild {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum OutboxCommand {
    /// List messages, newest first. Recipients are masked.
    List {
        #[command(flatten)]
        db: DbArgs,
        /// pending, sent or failed.
        #[arg(long)]
        status: Option<String>,
        /// Only this challan's messages.
        #[arg(long)]
        challan: Option<String>,
        /// issued, reminder, surcharged, escalated, paid or appeal_decided.
        #[arg(long)]
        reason: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Also print each message's text.
        #[arg(long)]
        text: bool,
    },
    /// Derive, remind and deliver once now, with the configured provider, then exit.
    Run {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        notify: NotifyArgs,
    },
}

/// Notification settings. Without EFINE_SMS_URL messages go to the sandbox provider, which
/// records them as sent without sending; without EFINE_REGISTRY_URL owners come from the
/// registry sandbox.
#[derive(Args, Clone)]
struct NotifyArgs {
    /// The SMS (and e-mail) gateway's URL: messages are POSTed to it as JSON.
    #[arg(long, env = "EFINE_SMS_URL")]
    sms_url: Option<String>,
    #[arg(long, env = "EFINE_SMS_USERNAME")]
    sms_username: Option<String>,
    #[arg(long, env = "EFINE_SMS_PASSWORD", hide_env_values = true)]
    sms_password: Option<String>,
    /// The sender name (mask) the gateway shows.
    #[arg(long, env = "EFINE_SMS_SENDER", default_value = "EFINE-KP")]
    sms_sender: String,
    /// The vehicle registration authority's owner-lookup URL.
    #[arg(long, env = "EFINE_REGISTRY_URL")]
    registry_url: Option<String>,
    #[arg(long, env = "EFINE_REGISTRY_TOKEN", hide_env_values = true)]
    registry_token: Option<String>,
    /// A message texts file to use instead of the shipped one (data/notifications.toml).
    #[arg(long, env = "EFINE_NOTIFY_TEXTS")]
    notify_texts: Option<PathBuf>,
    /// Seconds between notification rounds in `efine serve`.
    #[arg(long, env = "EFINE_NOTIFY_EVERY_SECONDS", default_value_t = 5)]
    notify_every_seconds: u64,
}

impl NotifyArgs {
    /// Builds the worker, refusing wrong settings by name. Secrets are never printed.
    fn notifier(&self, store: &Store) -> Result<efine_service::notify::Notifier> {
        use efine_service::notify::{self, provider, registry};
        use std::sync::Arc;
        if self.notify_every_seconds == 0 || self.notify_every_seconds > 3600 {
            bail!("EFINE_NOTIFY_EVERY_SECONDS must be between 1 and 3600");
        }
        let texts = match &self.notify_texts {
            Some(path) => {
                let t = std::fs::read_to_string(path)
                    .with_context(|| format!("reading EFINE_NOTIFY_TEXTS {}", path.display()))?;
                notify::parse_texts(&t)
                    .map_err(|e| anyhow::anyhow!("EFINE_NOTIFY_TEXTS {}: {e}", path.display()))?
            }
            None => notify::parse_texts(efine_core::notify::DEFAULT_TEXTS)
                .map_err(|e| anyhow::anyhow!("shipped message texts: {e}"))?,
        };
        let provider: Arc<dyn provider::Provider> = match &self.sms_url {
            Some(url) => Arc::new(
                provider::HttpProvider::new(
                    url,
                    self.sms_username.clone(),
                    self.sms_password.clone(),
                    &self.sms_sender,
                )
                .map_err(|e| anyhow::anyhow!(e))?,
            ),
            None => {
                if self.sms_username.is_some() || self.sms_password.is_some() {
                    bail!(
                        "EFINE_SMS_USERNAME / EFINE_SMS_PASSWORD are set but EFINE_SMS_URL is not"
                    );
                }
                Arc::new(provider::SandboxProvider::default())
            }
        };
        let registry: Arc<dyn registry::Registry> = match &self.registry_url {
            Some(url) => Arc::new(
                registry::HttpRegistry::new(url, self.registry_token.clone())
                    .map_err(|e| anyhow::anyhow!("EFINE_REGISTRY_URL: {}", e.0))?,
            ),
            None => {
                if self.registry_token.is_some() {
                    bail!("EFINE_REGISTRY_TOKEN is set but EFINE_REGISTRY_URL is not");
                }
                Arc::new(registry::SandboxRegistry::shipped())
            }
        };
        tracing::info!(
            provider = provider.name(),
            registry = if self.registry_url.is_some() {
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
                every: std::time::Duration::from_secs(self.notify_every_seconds),
                ..Default::default()
            },
        ))
    }
}

#[derive(Subcommand)]
enum ReconCommand {
    /// Import a settlement file (CSV: rail_txn_id,reference,amount_paisa,settled_on) and print
    /// the reconciliation. Exits 1 when anything needs attention.
    Import {
        #[command(flatten)]
        db: DbArgs,
        file: PathBuf,
        /// 1bill, jazzcash, easypaisa or card.
        #[arg(long)]
        rail: String,
    },
    /// Write the settlement file a rail's sandbox would send for a day (to try reconciliation).
    SandboxFile {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        rail: String,
        /// Local day, YYYY-MM-DD.
        #[arg(long)]
        date: String,
    },
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Print the trial balance; exit 1 if any journal or the whole ledger does not balance.
    Balance {
        #[command(flatten)]
        db: DbArgs,
    },
}

/// Payment rail settings. With `--demo` (or `EFINE_SANDBOX=1`) every rail not configured here
/// uses E-Fine's own sandbox, with sandbox credentials.
#[derive(Args, Clone)]
struct RailArgs {
    /// Serve the rails' sandboxes from this server (on with --demo).
    #[arg(long, env = "EFINE_SANDBOX")]
    sandbox: bool,
    #[arg(long, env = "EFINE_1BILL_USERNAME")]
    onebill_username: Option<String>,
    #[arg(long, env = "EFINE_1BILL_PASSWORD", hide_env_values = true)]
    onebill_password: Option<String>,
    /// Comma-separated addresses allowed to call the 1Bill API (default: any).
    #[arg(long, env = "EFINE_1BILL_ALLOW", value_delimiter = ',')]
    onebill_allow: Vec<std::net::IpAddr>,
    #[arg(long, env = "EFINE_JAZZCASH_MERCHANT_ID")]
    jazzcash_merchant_id: Option<String>,
    #[arg(long, env = "EFINE_JAZZCASH_PASSWORD", hide_env_values = true)]
    jazzcash_password: Option<String>,
    #[arg(long, env = "EFINE_JAZZCASH_INTEGRITY_SALT", hide_env_values = true)]
    jazzcash_integrity_salt: Option<String>,
    /// JazzCash's hosted checkout form URL.
    #[arg(long, env = "EFINE_JAZZCASH_URL")]
    jazzcash_url: Option<String>,
    /// JazzCash's REST API base URL (status inquiries).
    #[arg(long, env = "EFINE_JAZZCASH_API_URL")]
    jazzcash_api_url: Option<String>,
    #[arg(long, env = "EFINE_EASYPAISA_STORE_ID")]
    easypaisa_store_id: Option<String>,
    /// The store's 16-character hash key (AES-128).
    #[arg(long, env = "EFINE_EASYPAISA_HASH_KEY", hide_env_values = true)]
    easypaisa_hash_key: Option<String>,
    #[arg(long, env = "EFINE_EASYPAISA_USERNAME")]
    easypaisa_username: Option<String>,
    #[arg(long, env = "EFINE_EASYPAISA_PASSWORD", hide_env_values = true)]
    easypaisa_password: Option<String>,
    /// Easypaisa's hosted checkout URL.
    #[arg(long, env = "EFINE_EASYPAISA_URL")]
    easypaisa_url: Option<String>,
    /// Easypaisa's REST API base URL (inquiries).
    #[arg(long, env = "EFINE_EASYPAISA_API_URL")]
    easypaisa_api_url: Option<String>,
    #[arg(long, env = "EFINE_CARD_MERCHANT_ID")]
    card_merchant_id: Option<String>,
    /// The card gateway's hosted payment page.
    #[arg(long, env = "EFINE_CARD_URL")]
    card_url: Option<String>,
    #[arg(long, env = "EFINE_CARD_SESSION_SECRET", hide_env_values = true)]
    card_session_secret: Option<String>,
    /// Notification signing secrets, comma-separated: the new and the old during a rotation.
    #[arg(
        long,
        env = "EFINE_CARD_WEBHOOK_SECRETS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    card_webhook_secrets: Vec<String>,
}

impl RailArgs {
    fn config(&self, public_url: &str, demo: bool) -> Result<efine_web::payments::PaymentsConfig> {
        use efine_web::payments::{JazzcashConfig, OneBillConfig, PaymentsConfig};
        let public_url = public_url.to_string();
        let mut cfg = if demo || self.sandbox {
            efine_web::payments::sandbox(&public_url)
        } else {
            PaymentsConfig {
                public_url: public_url.clone(),
                ..Default::default()
            }
        };
        match (&self.onebill_username, &self.onebill_password) {
            (Some(u), Some(p)) => {
                cfg.onebill = Some(OneBillConfig {
                    username: u.clone(),
                    password: p.clone(),
                    allow: None,
                })
            }
            (None, None) => {}
            _ => bail!("set both EFINE_1BILL_USERNAME and EFINE_1BILL_PASSWORD, or neither"),
        }
        if !self.onebill_allow.is_empty() {
            if let Some(o) = cfg.onebill.as_mut() {
                o.allow = Some(self.onebill_allow.clone());
            }
        }
        match (
            &self.jazzcash_merchant_id,
            &self.jazzcash_password,
            &self.jazzcash_integrity_salt,
        ) {
            (Some(m), Some(p), Some(s)) => {
                let url = self.jazzcash_url.clone().context(
                    "EFINE_JAZZCASH_URL (JazzCash's hosted form URL) is required with a JazzCash merchant",
                )?;
                cfg.jazzcash = Some(JazzcashConfig {
                    merchant: efine_pay::jazzcash::Merchant {
                        merchant_id: m.clone(),
                        password: p.clone(),
                        integrity_salt: s.clone(),
                    },
                    gateway_url: url,
                    api_base: self.jazzcash_api_url.clone().context(
                        "EFINE_JAZZCASH_API_URL (JazzCash's REST API base) is required with a JazzCash merchant",
                    )?,
                })
            }
            (None, None, None) => {}
            _ => bail!(
                "set all of EFINE_JAZZCASH_MERCHANT_ID, EFINE_JAZZCASH_PASSWORD and EFINE_JAZZCASH_INTEGRITY_SALT, or none"
            ),
        }
        let ep = [
            &self.easypaisa_store_id,
            &self.easypaisa_hash_key,
            &self.easypaisa_username,
            &self.easypaisa_password,
            &self.easypaisa_url,
            &self.easypaisa_api_url,
        ];
        if ep.iter().all(|v| v.is_some()) {
            let get = |v: &Option<String>| v.clone().unwrap_or_default();
            cfg.easypaisa = Some(efine_web::payments::EasypaisaConfig {
                store: efine_pay::easypaisa::Store {
                    store_id: get(&self.easypaisa_store_id),
                    hash_key: efine_pay::easypaisa::HashKey::new(&get(&self.easypaisa_hash_key))
                        .map_err(|_| {
                            anyhow::anyhow!("EFINE_EASYPAISA_HASH_KEY must be exactly 16 bytes")
                        })?,
                    username: get(&self.easypaisa_username),
                    password: get(&self.easypaisa_password),
                    account_num: None,
                },
                checkout_url: get(&self.easypaisa_url),
                api_base: get(&self.easypaisa_api_url),
            });
        } else if ep.iter().any(|v| v.is_some()) {
            bail!("set all of EFINE_EASYPAISA_STORE_ID, _HASH_KEY, _USERNAME, _PASSWORD, _URL and _API_URL, or none");
        }
        let card_set = [
            &self.card_merchant_id,
            &self.card_url,
            &self.card_session_secret,
        ];
        if card_set.iter().all(|v| v.is_some()) && !self.card_webhook_secrets.is_empty() {
            let get = |v: &Option<String>| v.clone().unwrap_or_default();
            cfg.card = Some(efine_web::payments::CardConfig {
                gateway: efine_pay::card::Gateway {
                    merchant_id: get(&self.card_merchant_id),
                    checkout_url: get(&self.card_url),
                    session_secret: get(&self.card_session_secret),
                    webhook_secrets: self.card_webhook_secrets.clone(),
                    tolerance_secs: efine_pay::card::DEFAULT_TOLERANCE_SECS,
                },
            });
        } else if card_set.iter().any(|v| v.is_some()) || !self.card_webhook_secrets.is_empty() {
            bail!("set all of EFINE_CARD_MERCHANT_ID, EFINE_CARD_URL, EFINE_CARD_SESSION_SECRET and EFINE_CARD_WEBHOOK_SECRETS, or none");
        }
        Ok(cfg)
    }
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add a new signing key. Old keys keep verifying the tokens they signed; restart the servers
    /// to sign with the new one.
    Rotate {
        /// The data directory that holds `signing-keys.json`.
        #[arg(long, env = "EFINE_DATA_DIR", default_value = "./efine-data")]
        data_dir: PathBuf,
    },
    /// Print the public key set (the same JSON as `/.well-known/efine-keys.json`).
    Public {
        #[arg(long, env = "EFINE_DATA_DIR", default_value = "./efine-data")]
        data_dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum QrCommand {
    /// Check a token's signature with no network. Exits 0 if genuine, 1 if not. Whether the
    /// record still exists and what its status is needs the server (`/v/TOKEN`).
    Verify {
        /// The token, or the whole URL from the QR code (`.../v/TOKEN`).
        token: String,
        /// A saved copy of `/.well-known/efine-keys.json`.
        #[arg(long)]
        keys: PathBuf,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a member of staff. The password is read from standard input.
    Add {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        username: String,
        /// officer, supervisor, department_admin, finance, auditor or admin.
        #[arg(long)]
        role: String,
        /// Department code (officer, supervisor, department_admin).
        #[arg(long)]
        department: Option<String>,
        /// District code (officer; optional for others).
        #[arg(long)]
        district: Option<String>,
        /// Read the password from standard input (the only way: never on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the event hash chain and check every challan against its events. Exits 0 when
    /// intact, 1 naming the first altered record otherwise.
    Verify {
        #[command(flatten)]
        db: DbArgs,
    },
}

impl DbArgs {
    fn location(&self) -> Location {
        match &self.database_url {
            Some(url) => Location::from_url(url),
            None => Location::Sqlite(self.data_dir.join("efine.db")),
        }
    }

    /// Opens the store, migrated, with the catalogue loaded.
    async fn open(&self) -> Result<Store> {
        let location = self.location();
        let store = Store::open(location.clone())
            .await
            .with_context(|| match &location {
                Location::Sqlite(p) => format!("opening the database {}", p.display()),
                Location::Postgres { .. } => "opening the PostgreSQL database".to_string(),
            })?;
        let text = match &self.catalogue {
            Some(path) => std::fs::read_to_string(path)
                .with_context(|| format!("reading catalogue {}", path.display()))?,
            None => catalogue_seed::KP.to_string(),
        };
        let cat = catalogue_seed::parse(&text).context("the catalogue file is not valid")?;
        let now = store.now();
        let loaded = store
            .write(move |tx| catalogue::load_if_empty(tx, &cat, now))
            .await?;
        if loaded {
            tracing::info!("catalogue loaded");
        }
        Ok(store)
    }
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("EFINE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> Result<std::process::ExitCode> {
    use std::process::ExitCode;
    match cli.command {
        Command::Serve {
            db,
            listen,
            demo,
            token_hours,
            rails,
            public_url,
            poll_early_minutes,
            poll_min_age_minutes,
            poll_late_hours,
            notify,
            escalation_minutes,
            appeal_window_days,
        } => {
            if !(1..=7 * 24 * 60).contains(&escalation_minutes) {
                bail!(
                    "EFINE_ESCALATION_MINUTES / --escalation-minutes must be between 1 and 10080"
                );
            }
            if !(1..=365).contains(&appeal_window_days) {
                bail!("EFINE_APPEAL_WINDOW_DAYS / --appeal-window-days must be between 1 and 365");
            }
            if poll_early_minutes == 0
                || poll_late_hours == 0
                || !(1..=24 * 60).contains(&poll_min_age_minutes)
            {
                bail!("the poll intervals (EFINE_POLL_*) must be at least 1, and the minimum age at most a day");
            }
            if !(1..=24 * 30).contains(&token_hours) {
                bail!("EFINE_TOKEN_HOURS / --token-hours must be between 1 and 720");
            }
            let public_url = public_url
                .unwrap_or_else(|| format!("http://{listen}"))
                .trim()
                .trim_end_matches('/')
                .to_string();
            if !(public_url.starts_with("http://") || public_url.starts_with("https://"))
                || public_url.contains(char::is_whitespace)
            {
                bail!("EFINE_PUBLIC_URL / --public-url must be an http:// or https:// URL, e.g. https://efine.kp.gov.pk");
            }
            let payments = rails.config(&public_url, demo)?;
            let keys =
                efine_store::keys::load_or_create(&db.data_dir, time::OffsetDateTime::now_utc())
                    .context("QR signing keys")?;
            tracing::info!(key = %keys.signer.key_id(), "QR signing key loaded");
            let store = db.open().await?;
            rebuild_stats_if_empty(&store).await?;
            let notifier = notify.notifier(&store)?;
            if demo {
                demo::load(&store, &payments).await?;
            }
            let jobs = efine_service::jobs::Jobs::new();
            let state = efine_web::AppState::new(
                store.clone(),
                efine_web::WebConfig {
                    token_ttl: time::Duration::hours(token_hours),
                    public_url,
                    appeal_window_days,
                    ..Default::default()
                },
                payments,
                keys,
            )?
            .with_jobs(&jobs);
            std::sync::Arc::new(notifier).spawn(&jobs);
            // The pending poller: young attempts often, older ones daily.
            let young = (
                time::Duration::minutes(poll_min_age_minutes),
                time::Duration::minutes(2 * poll_min_age_minutes),
            );
            for (name, every, min_age, max_age) in [
                (
                    "early poll",
                    poll_early_minutes * 60,
                    young.0,
                    Some(young.1),
                ),
                ("daily poll", poll_late_hours * 3600, young.1, None),
            ] {
                let state = state.clone();
                jobs.spawn_every(name, std::time::Duration::from_secs(every), move |_| {
                    let state = state.clone();
                    async move {
                        efine_web::poller::poll_once(&state, min_age, max_age)
                            .await
                            .map(|_| ())
                    }
                });
            }
            efine_service::escalation::spawn(
                &jobs,
                store.clone(),
                std::time::Duration::from_secs(escalation_minutes * 60),
            );
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .with_context(|| format!("cannot listen on {listen} (EFINE_LISTEN / --listen)"))?;
            let addr = listener.local_addr()?;
            tracing::info!(backend = store.backend(), "listening on http://{addr}");
            println!(
                "E-Fine listening on http://{addr} ({} backend)",
                store.backend()
            );
            // On the signal the jobs are told to stop at once, so they wind down while requests
            // drain (and the live statistics streams end rather than hold the drain open); once
            // the last request is answered, wait for the jobs.
            let stopping = jobs.token();
            let served = efine_web::serve(listener, state, async move {
                shutdown_signal().await;
                stopping.cancel();
            })
            .await;
            jobs.shutdown().await;
            served?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Escalate { db } => {
            let store = db.open().await?;
            let started = std::time::Instant::now();
            let run = efine_service::escalation::run_once(&store).await?;
            println!(
                "escalation: {} overdue challans examined, {} surcharges and {} stages recorded \
                 in {:.2} s",
                run.examined,
                run.surcharged,
                run.escalated,
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate { db } => {
            let store = db.open().await?;
            rebuild_stats_if_empty(&store).await?;
            println!("database is up to date ({} backend)", store.backend());
            Ok(ExitCode::SUCCESS)
        }
        Command::User {
            command:
                UserCommand::Add {
                    db,
                    username,
                    role,
                    department,
                    district,
                    password_stdin: _,
                },
        } => {
            let role = Role::parse(&role).with_context(|| {
                format!("--role {role}: use officer, supervisor, department_admin, finance, auditor or admin")
            })?;
            let department = department
                .map(|d| DepartmentCode::parse(&d))
                .transpose()
                .context("--department")?;
            let district = district
                .map(|d| DistrictCode::parse(&d))
                .transpose()
                .context("--district")?;
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']).to_string();
            if password.chars().count() < 10 {
                bail!("the password must be at least 10 characters");
            }
            let store = db.open().await?;
            let hash =
                tokio::task::spawn_blocking(move || users::hash_password(&password)).await??;
            let new = users::NewUser {
                username,
                password_hash: hash,
                role,
                department,
                district,
            };
            let now = store.now();
            let p = store
                .write(move |tx| users::add(tx, &new, "cli", now))
                .await?;
            println!(
                "added {} ({}{}{})",
                p.username,
                p.role.as_str(),
                p.department.map(|d| format!(", {d}")).unwrap_or_default(),
                p.district.map(|d| format!(", {d}")).unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            command: AuditCommand::Verify { db },
        } => {
            let store = Store::open(db.location()).await?;
            audit_verify(&store).await
        }
        Command::Keys {
            command: KeysCommand::Rotate { data_dir },
        } => {
            let kid = efine_store::keys::rotate(&data_dir, time::OffsetDateTime::now_utc())
                .context("rotating the QR signing key")?;
            println!(
                "new signing key {kid} in {}; older keys still verify. Restart the servers to sign with it.",
                data_dir.join(efine_store::keys::FILE_NAME).display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys {
            command: KeysCommand::Public { data_dir },
        } => {
            let keys =
                efine_store::keys::load_or_create(&data_dir, time::OffsetDateTime::now_utc())
                    .context("QR signing keys")?;
            println!("{}", serde_json::to_string_pretty(&keys.published)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Qr {
            command: QrCommand::Verify { token, keys },
        } => qr_verify(&token, &keys),
        Command::BulkIssue { db, bulk } => {
            let store = db.open().await?;
            bulk::run(&store, &bulk).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Loadgen(args) => {
            loadgen::run(args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bank { command } => bank::run(command).await,
        Command::Recon { command } => recon(command).await,
        Command::Outbox { command } => outbox(command).await,
        Command::Stats {
            command: StatsCommand::Rebuild { db },
        } => {
            let store = db.open().await?;
            stats_rebuild(&store).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Ledger {
            command: LedgerCommand::Balance { db },
        } => {
            let store = Store::open(db.location()).await?;
            ledger_balance(&store).await
        }
    }
}

/// A database that held challans before the statistics tables were added starts with empty
/// statistics: count them once from the record, so its dashboard and transparency page are right
/// without an operator step.
async fn rebuild_stats_if_empty(store: &Store) -> Result<()> {
    use efine_store::ops::stats;
    if !store.read(stats::need_rebuild).await? {
        return Ok(());
    }
    tracing::info!(
        "the statistics are empty but challans exist (a database from before they were added): \
         rebuilding them from the record, once"
    );
    let started = std::time::Instant::now();
    let rebuilt = store
        .write(|tx| stats::rebuild_if_empty(tx, &mut |_, _| {}))
        .await
        .context("rebuilding the statistics")?;
    if let Some(r) = rebuilt {
        tracing::info!(
            challans = r.challans,
            payments = r.payments,
            rows = r.rows,
            seconds = format!("{:.2}", started.elapsed().as_secs_f64()),
            "statistics rebuilt from the record"
        );
    }
    Ok(())
}

async fn stats_rebuild(store: &Store) -> Result<()> {
    use efine_store::ops::stats;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_message("counting challans");
    let b = bar.clone();
    let started = std::time::Instant::now();
    let r = store
        .write(move |tx| {
            stats::rebuild(tx, &mut |done, total| {
                b.set_length(total);
                b.set_position(done);
            })
        })
        .await
        .context("rebuilding the statistics (nothing was changed)")?;
    bar.finish_and_clear();
    println!(
        "statistics rebuilt from {} challans, {} payments, {} cancellation requests, {} \
         cancellations and {} reductions: {} rows in {:.2} s",
        r.challans,
        r.payments,
        r.cancellation_requests,
        r.cancelled,
        r.reductions,
        r.rows,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn qr_verify(token: &str, keys: &std::path::Path) -> Result<std::process::ExitCode> {
    use std::process::ExitCode;
    let text =
        std::fs::read_to_string(keys).with_context(|| format!("reading {}", keys.display()))?;
    let set: efine_store::keys::PublishedKeys = serde_json::from_str(&text)
        .with_context(|| format!("{} is not an efine-keys.json key set", keys.display()))?;
    let ring = set
        .ring()
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("{}", keys.display()))?;
    // Accept the whole URL from the QR code as well as the bare token.
    let token = token.trim();
    let token = token.rsplit_once("/v/").map_or(token, |(_, t)| t);
    let token = token.split(['?', '#']).next().unwrap_or(token);
    match ring.verify(token) {
        Ok((kid, p)) => {
            println!(
                "GENUINE signature: {} {}, {}, {} / {}, {} {}, key {kid}",
                p.kind.as_str(),
                p.number,
                p.amount,
                p.department,
                p.district,
                match p.kind {
                    efine_core::qr::TokenKind::Challan => "issued",
                    efine_core::qr::TokenKind::Receipt => "paid",
                },
                p.at.to_offset(efine_core::clock::KARACHI)
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
            );
            println!("(the record's current status needs the server: open the QR code's URL)");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("NOT GENUINE: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

async fn audit_verify(store: &Store) -> Result<std::process::ExitCode> {
    use std::process::ExitCode;
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message("verifying the event chain");
    let b = bar.clone();
    let chain = store
        .read(move |tx| {
            audit::verify_chain(tx, &mut |n| b.set_message(format!("{n} events verified")))
        })
        .await?;
    let events = match chain {
        Ok(n) => n,
        Err(f) => {
            bar.finish_and_clear();
            println!("TAMPERED: {f}");
            return Ok(ExitCode::from(1));
        }
    };
    let b = bar.clone();
    let challans = store
        .read(move |tx| {
            audit::verify_challans(tx, &mut |n| b.set_message(format!("{n} challans checked")))
        })
        .await?;
    let checked = match challans {
        Ok(c) => store.read(audit::verify_requests).await?.map(|r| (c, r)),
        Err(f) => Err(f),
    };
    bar.finish_and_clear();
    match checked {
        Ok((c, r)) => {
            println!(
                "intact: {events} events chained, {c} challans match their events, and {r} \
                 cancellation requests and appeals match theirs"
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(f) => {
            println!("TAMPERED: {f}");
            Ok(ExitCode::from(1))
        }
    }
}

fn rail_arg(rail: &str) -> Result<efine_core::payment::Rail> {
    efine_core::payment::Rail::parse(rail)
        .filter(|r| *r != efine_core::payment::Rail::Counter)
        .with_context(|| format!("--rail {rail}: use 1bill, jazzcash, easypaisa or card"))
}

async fn recon(cmd: ReconCommand) -> Result<std::process::ExitCode> {
    use efine_store::ops::recon;
    match cmd {
        ReconCommand::Import { db, file, rail } => {
            let rail = rail_arg(&rail)?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let store = Store::open(db.location()).await?;
            let now = store.now();
            let r = store
                .write(move |tx| recon::import(tx, rail, &name, &text, "cli", now))
                .await?;
            println!(
                "{} lines: {} matched, {} corrected, {} missing here, {} missing there, {} amount differs; settled {}",
                r.lines, r.matched, r.corrected, r.missing_here, r.missing_there, r.amount_differs, r.settled
            );
            for e in &r.exceptions {
                println!(
                    "  {:<15} line {:>5}  {}  {}  {}",
                    e.outcome,
                    e.line.map(|l| l.to_string()).unwrap_or_else(|| "-".into()),
                    e.reference.as_deref().unwrap_or(&e.rail_txn_id),
                    e.amount,
                    e.detail
                );
            }
            let clean = r.exceptions.iter().all(|e| e.outcome == "corrected");
            Ok(if clean {
                std::process::ExitCode::SUCCESS
            } else {
                std::process::ExitCode::from(1)
            })
        }
        ReconCommand::SandboxFile { db, rail, date } => {
            let rail = rail_arg(&rail)?;
            let day = time::Date::parse(
                &date,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .context("--date must be YYYY-MM-DD")?;
            let store = Store::open(db.location()).await?;
            let text = store
                .read(move |tx| recon::sandbox_file(tx, rail, day))
                .await?;
            print!("{text}");
            Ok(std::process::ExitCode::SUCCESS)
        }
    }
}

async fn ledger_balance(store: &Store) -> Result<std::process::ExitCode> {
    use efine_core::Money;
    use efine_store::ops::ledger;
    use std::process::ExitCode;
    let (rows, bad) = store
        .read(|tx| Ok((ledger::trial_balance(tx)?, ledger::unbalanced_journals(tx)?)))
        .await?;
    let rs = |p: i64| {
        Money::from_paisa(p)
            .map(|m| m.to_string())
            .unwrap_or_else(|_| format!("{p} paisa"))
    };
    println!("{:<48} {:>18} {:>18}", "account", "debit", "credit");
    let (mut d, mut c) = (0i128, 0i128);
    for r in &rows {
        println!("{:<48} {:>18} {:>18}", r.account, rs(r.debit), rs(r.credit));
        d += r.debit as i128;
        c += r.credit as i128;
    }
    let total = |v: i128| {
        i64::try_from(v)
            .map(rs)
            .unwrap_or_else(|_| format!("{v} paisa"))
    };
    println!("{:<48} {:>18} {:>18}", "total", total(d), total(c));
    for (id, kind) in &bad {
        println!("UNBALANCED: journal {id} ({kind})");
    }
    if d != c || !bad.is_empty() {
        println!("the ledger does NOT balance");
        return Ok(ExitCode::from(1));
    }
    println!("balanced: debits equal credits in every journal and in total");
    Ok(ExitCode::SUCCESS)
}

async fn outbox(cmd: OutboxCommand) -> Result<std::process::ExitCode> {
    use efine_store::ops::notify as ob;
    match cmd {
        OutboxCommand::List {
            db,
            status,
            challan,
            reason,
            limit,
            text,
        } => {
            if let Some(s) = &status {
                if !["pending", "sent", "failed"].contains(&s.as_str()) {
                    bail!("--status is pending, sent or failed, not {s:?}");
                }
            }
            let challan = challan
                .map(|c| efine_core::ChallanNumber::parse(&c).map(|c| c.to_string()))
                .transpose()
                .map_err(|e| anyhow::anyhow!("--challan: {e}"))?;
            let store = db.open().await?;
            let f = ob::Filter {
                status,
                challan,
                reason,
                limit: limit.clamp(1, 10_000),
            };
            let rows = store.read(move |tx| ob::list(tx, &f)).await?;
            println!(
                "{:>6}  {:<16}  {:<7}  {:>3}  {:<26}  {:<20}  {:<5}  to",
                "id", "queued (PKT)", "status", "try", "reason", "challan", "via"
            );
            let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
            for m in &rows {
                let to = match m.channel {
                    efine_core::notify::Channel::Sms => {
                        efine_core::MobileNumber::parse(&m.recipient)
                            .map(|n| efine_core::mask::mobile(&n))
                            .unwrap_or_else(|_| "***".into())
                    }
                    efine_core::notify::Channel::Email => efine_core::mask::email(&m.recipient),
                };
                println!(
                    "{:>6}  {:<16}  {:<7}  {:>3}  {:<26}  {:<20}  {:<5}  {}",
                    m.id,
                    m.created_at
                        .to_offset(efine_core::clock::KARACHI)
                        .format(fmt)
                        .unwrap_or_default(),
                    m.status,
                    m.attempts,
                    m.reason,
                    m.challan_number,
                    m.channel.as_str(),
                    to
                );
                if text {
                    for line in m.body.lines() {
                        println!("        {line}");
                    }
                }
            }
            println!("{} message(s)", rows.len());
            Ok(std::process::ExitCode::SUCCESS)
        }
        OutboxCommand::Run { db, notify } => {
            let store = db.open().await?;
            let n = notify.notifier(&store)?;
            let r = n.run_once().await?;
            println!(
                "queued {}, reminders {}, sent {}, to retry {}, failed {} ({} provider)",
                r.queued,
                r.reminders,
                r.sent,
                r.retrying,
                r.failed,
                n.provider_name()
            );
            Ok(std::process::ExitCode::SUCCESS)
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
