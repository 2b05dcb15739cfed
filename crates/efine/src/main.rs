//! The `efine` command: serve the API, run migrations, manage staff, verify the audit chain,
//! and generate load. A thin layer over `efine-store` and `efine-web`.
//!
//! This file parses the command line, loads the settings once (`config`) and hands each command
//! to its module under `cmd`.

mod bulk;
mod cmd;
mod config;
mod demo;
mod import;
mod loadgen;

use anyhow::Result;
use clap::{Parser, Subcommand};
use cmd::{audit, bank, keys, ledger, outbox, qr, recon, serve, stats, user};
use config::{DbFlags, Flags, LogFormat, Settings};
use std::path::PathBuf;
use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "efine",
    version,
    about = "E-Fine: issue, collect, verify and account for government fines and fees"
)]
struct Cli {
    /// The settings file (default: efine.toml in the data directory, if there is one).
    #[arg(long, global = true, env = "EFINE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

// Parsed once per run: the size difference between subcommands costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(serve::ServeArgs),
    /// Apply pending database migrations and load the catalogue, then exit.
    Migrate {
        #[command(flatten)]
        db: DbFlags,
    },
    /// Run the escalation job once now (`efine serve` runs it at an interval): record surcharges
    /// and enforcement stages reached by overdue unpaid challans.
    Escalate {
        #[command(flatten)]
        db: DbFlags,
    },
    /// Staff accounts.
    User {
        #[command(subcommand)]
        command: user::UserCommand,
    },
    /// Copy the embedded SQLite database to a file while servers keep running, and check the
    /// copy (PostgreSQL: prints how to use pg_dump, exits 3).
    Backup(cmd::backup::BackupArgs),
    /// Put a backup in place of the database (refuses one that holds records unless --force),
    /// then verify it (PostgreSQL: prints how to use pg_restore, exits 3).
    Restore(cmd::backup::RestoreArgs),
    /// The tamper-evident record.
    Audit {
        #[command(subcommand)]
        command: audit::AuditCommand,
    },
    /// Signing keys (kept in the database, sealed under the key-encryption key).
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
    /// Signed QR tokens.
    Qr {
        #[command(subcommand)]
        command: qr::QrCommand,
    },
    /// Issue challans over HTTP as fast as a number of clients can, and report latency.
    Loadgen(loadgen::LoadgenArgs),
    /// Fill a database with synthetic challans for measurements (never in production).
    BulkIssue {
        #[command(flatten)]
        db: DbFlags,
        #[command(flatten)]
        bulk: bulk::BulkArgs,
    },
    /// Import challans and their payments from an earlier system's CSV file (resumes after an
    /// interruption; --generate writes a synthetic file).
    Import {
        #[command(flatten)]
        db: DbFlags,
        #[command(flatten)]
        import: import::ImportArgs,
    },
    /// Act as a bank on the 1Bill biller API.
    Bank {
        #[command(subcommand)]
        command: bank::BankCommand,
    },
    /// Reconcile rails' settlement files against the ledger.
    Recon {
        #[command(subcommand)]
        command: recon::ReconCommand,
    },
    /// The double-entry ledger.
    Ledger {
        #[command(subcommand)]
        command: ledger::LedgerCommand,
    },
    /// The notifications outbox (SMS and e-mail).
    Outbox {
        #[command(subcommand)]
        command: outbox::OutboxCommand,
    },
    /// The statistics behind the dashboard and the transparency page.
    Stats {
        #[command(subcommand)]
        command: stats::StatsCommand,
    },
}

impl Command {
    /// The flags given that are settings: the top layer of the configuration.
    fn flags(&self) -> Flags {
        let f = Flags::default();
        match self {
            Command::Serve(a) => f.with(&a.db).with(&a.serve).with(&a.rails).with(&a.notify),
            Command::Migrate { db }
            | Command::Escalate { db }
            | Command::BulkIssue { db, .. }
            | Command::Import { db, .. } => f.with(db),
            Command::User { command } => f.with(command.db()),
            Command::Audit { command } => f.with(command.db()),
            Command::Backup(a) => f.with(&a.db),
            Command::Restore(a) => f.with(&a.db),
            Command::Keys { command } => f.with(command.db()),
            Command::Recon { command } => f.with(command.db()),
            Command::Ledger { command } => f.with(command.db()),
            Command::Stats { command } => f.with(command.db()),
            Command::Outbox { command } => command.flags(),
            Command::Qr { .. } | Command::Loadgen(_) | Command::Bank { .. } => f,
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().collect();
    if let Err(e) = config::refuse_secret_flags(&args) {
        eprintln!("error: {e:#}");
        return ExitCode::from(2);
    }
    let cli = Cli::parse_from(args);
    let config = cli.config.as_deref().filter(|p| !p.as_os_str().is_empty());
    let settings = match Settings::load(config, cli.command.flags()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    init_logging(settings.log_format);
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run(&settings, cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Log lines go to standard error, filtered by `EFINE_LOG` (default `info`). JSON, one object a
/// line, when asked (`log_format = "json"`) or, by default, when standard error is not a
/// terminal (a service manager, a container, a file); colour codes only on a terminal (and not
/// with `NO_COLOR` set).
fn init_logging(format: LogFormat) {
    use std::io::IsTerminal;
    let terminal = std::io::stderr().is_terminal();
    let json = match format {
        LogFormat::Auto => !terminal,
        LogFormat::Json => true,
        LogFormat::Text => false,
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("EFINE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder
            .json()
            .with_ansi(false)
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        let colour = terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        builder.with_ansi(colour).init();
    }
}

async fn run(settings: &Settings, command: Command) -> Result<ExitCode> {
    match command {
        Command::Serve(args) => serve::run(settings, args.demo).await,
        Command::Migrate { .. } => cmd::migrate::run(settings).await,
        Command::Escalate { .. } => cmd::escalate::run(settings).await,
        Command::User { command } => user::run(settings, command).await,
        Command::Audit { command } => audit::run(settings, command).await,
        Command::Backup(args) => cmd::backup::backup(settings, args).await,
        Command::Restore(args) => cmd::backup::restore(settings, args).await,
        Command::Keys { command } => keys::run(settings, command).await,
        Command::Qr { command } => qr::run(command),
        Command::BulkIssue { bulk, .. } => {
            let store = cmd::open(&settings.db).await?;
            bulk::run(&store, &bulk).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { import, .. } => {
            if let Some(n) = import.generate {
                let out = std::io::stdout().lock();
                import::generate::write(
                    out,
                    n,
                    import.seed,
                    import.years,
                    import.paid_percent,
                    time::OffsetDateTime::now_utc(),
                )?;
                return Ok(ExitCode::SUCCESS);
            }
            let options = efine_store::StoreOptions {
                sqlite_bulk_cache_mib: Some(import.sqlite_cache_mib),
                ..settings.db.options.clone()
            };
            let store = cmd::open_with(&settings.db, options).await?;
            import::run(&store, &import).await
        }
        Command::Loadgen(args) => {
            loadgen::run(args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bank { command } => bank::run(settings, command).await,
        Command::Recon { command } => recon::run(settings, command).await,
        Command::Outbox { command } => outbox::run(settings, command).await,
        Command::Stats { command } => stats::run(settings, command).await,
        Command::Ledger { command } => ledger::run(settings, command).await,
    }
}
