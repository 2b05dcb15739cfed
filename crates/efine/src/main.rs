//! The `efine` command: serve the API, run migrations, manage staff, verify the audit chain,
//! and generate load. A thin layer over `efine-store` and `efine-web`.

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
        /// Where citizens reach this server: QR codes carry `<public URL>/v/<token>`.
        #[arg(
            long,
            env = "EFINE_PUBLIC_URL",
            default_value = "http://127.0.0.1:8080"
        )]
        public_url: String,
    },
    /// Apply pending database migrations and load the catalogue, then exit.
    Migrate {
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
            public_url,
        } => {
            if !(1..=24 * 30).contains(&token_hours) {
                bail!("EFINE_TOKEN_HOURS / --token-hours must be between 1 and 720");
            }
            let public_url = public_url.trim().trim_end_matches('/').to_string();
            if !(public_url.starts_with("http://") || public_url.starts_with("https://"))
                || public_url.contains(char::is_whitespace)
            {
                bail!("EFINE_PUBLIC_URL / --public-url must be an http:// or https:// URL, e.g. https://efine.kp.gov.pk");
            }
            let keys =
                efine_store::keys::load_or_create(&db.data_dir, time::OffsetDateTime::now_utc())
                    .context("QR signing keys")?;
            tracing::info!(key = %keys.signer.key_id(), "QR signing key loaded");
            let store = db.open().await?;
            if demo {
                demo::load(&store).await?;
            }
            let state = efine_web::AppState::new(
                store.clone(),
                efine_web::WebConfig {
                    token_ttl: time::Duration::hours(token_hours),
                    public_url,
                    ..Default::default()
                },
                keys,
            )?;
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .with_context(|| format!("cannot listen on {listen} (EFINE_LISTEN / --listen)"))?;
            let addr = listener.local_addr()?;
            tracing::info!(backend = store.backend(), "listening on http://{addr}");
            println!(
                "E-Fine listening on http://{addr} ({} backend)",
                store.backend()
            );
            efine_web::serve(listener, state, shutdown_signal()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate { db } => {
            let store = db.open().await?;
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
        Command::Loadgen(args) => {
            loadgen::run(args).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
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
    bar.finish_and_clear();
    match challans {
        Ok(c) => {
            println!("intact: {events} events chained, {c} challans match their events");
            Ok(ExitCode::SUCCESS)
        }
        Err(f) => {
            println!("TAMPERED: {f}");
            Ok(ExitCode::from(1))
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
