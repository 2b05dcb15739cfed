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
    /// Issue challans over HTTP as fast as a number of clients can, and report latency.
    Loadgen(loadgen::LoadgenArgs),
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
        } => {
            if !(1..=24 * 30).contains(&token_hours) {
                bail!("EFINE_TOKEN_HOURS / --token-hours must be between 1 and 720");
            }
            let store = db.open().await?;
            if demo {
                demo::load(&store).await?;
            }
            let state = efine_web::AppState::new(
                store.clone(),
                efine_web::WebConfig {
                    token_ttl: time::Duration::hours(token_hours),
                    ..Default::default()
                },
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
        Command::Loadgen(args) => {
            loadgen::run(args).await?;
            Ok(ExitCode::SUCCESS)
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
