//! `efine recon`: import a rail's settlement file and reconcile it against the ledger, or write
//! the file a rail's sandbox would send.

use crate::config::{DbFlags, Settings};
use anyhow::{Context, Result};
use clap::Subcommand;
use efine_store::ops::recon;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum ReconCommand {
    /// Import a settlement file (CSV: rail_txn_id,reference,amount_paisa,settled_on) and print
    /// the reconciliation. Exits 1 when anything needs attention.
    Import {
        #[command(flatten)]
        db: DbFlags,
        file: PathBuf,
        /// 1bill, jazzcash, easypaisa or card.
        #[arg(long)]
        rail: String,
    },
    /// Write the settlement file a rail's sandbox would send for a day (to try reconciliation).
    SandboxFile {
        #[command(flatten)]
        db: DbFlags,
        #[arg(long)]
        rail: String,
        /// Local day, YYYY-MM-DD.
        #[arg(long)]
        date: String,
    },
}

impl ReconCommand {
    pub fn db(&self) -> &DbFlags {
        match self {
            ReconCommand::Import { db, .. } | ReconCommand::SandboxFile { db, .. } => db,
        }
    }
}

fn rail_arg(rail: &str) -> Result<efine_core::payment::Rail> {
    efine_core::payment::Rail::parse(rail)
        .filter(|r| *r != efine_core::payment::Rail::Counter)
        .with_context(|| format!("--rail {rail}: use 1bill, jazzcash, easypaisa or card"))
}

pub async fn run(settings: &Settings, cmd: ReconCommand) -> Result<ExitCode> {
    match cmd {
        ReconCommand::Import { file, rail, .. } => {
            let rail = rail_arg(&rail)?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let store = super::connect(&settings.db).await?;
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
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        ReconCommand::SandboxFile { rail, date, .. } => {
            let rail = rail_arg(&rail)?;
            let day = time::Date::parse(
                &date,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .context("--date must be YYYY-MM-DD")?;
            let store = super::connect(&settings.db).await?;
            let text = store
                .read(move |tx| recon::sandbox_file(tx, rail, day))
                .await?;
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
