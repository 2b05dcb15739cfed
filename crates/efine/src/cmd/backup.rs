//! `efine backup` and `efine restore`: an online, checked copy of the embedded SQLite database,
//! and putting one back. On PostgreSQL both print how to do it with `pg_dump` / `pg_restore`
//! and exit 3 (nothing copied).

use crate::config::{DbFlags, KekSource, Settings};
use anyhow::{Context, Result};
use clap::Args;
use efine_store::backup::{self, Summary};
use efine_store::{Location, StoreError};
use std::path::PathBuf;
use std::process::ExitCode;

/// The exit status of `backup` and `restore` on PostgreSQL: nothing was copied, the output says
/// how to do it with PostgreSQL's tools.
const POSTGRES: u8 = 3;

#[derive(Args)]
pub struct BackupArgs {
    /// The new file to write the copy to (never overwritten).
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,
    #[command(flatten)]
    pub db: DbFlags,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// A file written by `efine backup`.
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
    /// Replace a database that already holds records. A database another process has open is
    /// refused even so: stop every server using it first.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub db: DbFlags,
}

fn describe(s: &Summary) -> String {
    format!(
        "{} events (chain head {}), {} challans, {} receipts, {} accounts, schema version {}",
        s.events, s.head_seq, s.challans, s.receipts, s.users, s.schema_version
    )
}

pub async fn backup(settings: &Settings, args: BackupArgs) -> Result<ExitCode> {
    let db = match &settings.db.location {
        Location::Sqlite(path) => path.clone(),
        Location::Postgres { url, .. } => {
            print!("{}", backup::postgres_instructions(url, &args.to)?);
            return Ok(ExitCode::from(POSTGRES));
        }
    };
    let to = args.to.clone();
    let busy = settings.db.options.sqlite_busy_timeout;
    let summary = tokio::task::spawn_blocking(move || backup::backup(&db, &to, busy))
        .await?
        .with_context(|| format!("backing up to {}", args.to.display()))?;
    println!(
        "backed up to {} (integrity checked): {}",
        args.to.display(),
        describe(&summary)
    );
    // The signing keys are in the copy, sealed: without the key that seals them, a restored
    // database verifies what was signed but cannot sign again.
    let kek = match &settings.db.kek {
        KekSource::Value(_) => "EFINE_KEY_ENCRYPTION_KEY".to_string(),
        KekSource::File(p) | KekSource::DataDir(p) => p.display().to_string(),
    };
    println!(
        "the signing keys are in the backup, sealed: keep their key-encryption key ({kek}) safe \
         as well, apart from the backup"
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn restore(settings: &Settings, args: RestoreArgs) -> Result<ExitCode> {
    let db = match &settings.db.location {
        Location::Sqlite(path) => path.clone(),
        Location::Postgres { url, .. } => {
            print!("{}", backup::postgres_instructions(url, &args.from)?);
            return Ok(ExitCode::from(POSTGRES));
        }
    };
    let from = args.from.clone();
    let force = args.force;
    let target = db.clone();
    let restored =
        tokio::task::spawn_blocking(move || backup::restore(&from, &target, force)).await?;
    let summary = match restored {
        Ok(s) => s,
        Err(StoreError::Refused { message, .. }) => {
            eprintln!("error: {message}");
            return Ok(ExitCode::from(1));
        }
        Err(e) => {
            return Err(e).with_context(|| format!("restoring {}", args.from.display()));
        }
    };
    println!(
        "restored {} into {}: {}",
        args.from.display(),
        db.display(),
        describe(&summary)
    );
    // Opening applies any migration the backup predates; then the record is checked as an
    // auditor would.
    let store = super::connect(&settings.db).await?;
    super::audit::verify(&store, None).await
}
