//! `efine stats rebuild`, and the one-off rebuild `serve` and `migrate` do for a database from
//! before the statistics tables existed.

use crate::config::{DbFlags, Settings};
use anyhow::{Context, Result};
use clap::Subcommand;
use efine_store::ops::stats;
use efine_store::Store;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum StatsCommand {
    /// Recount every statistics table from the record (challans, receipts, cancellations,
    /// appeals) in one transaction, replacing what is there. Servers keep running; their writes
    /// wait for it. `serve` and `migrate` do this by themselves when the statistics are empty
    /// but challans exist (a database upgraded from before the statistics were added).
    Rebuild {
        #[command(flatten)]
        db: DbFlags,
    },
}

impl StatsCommand {
    pub fn db(&self) -> &DbFlags {
        match self {
            StatsCommand::Rebuild { db } => db,
        }
    }
}

pub async fn run(settings: &Settings, cmd: StatsCommand) -> Result<ExitCode> {
    let StatsCommand::Rebuild { .. } = cmd;
    let store = super::open(&settings.db).await?;
    rebuild(&store).await?;
    Ok(ExitCode::SUCCESS)
}

/// A database that held challans before the statistics tables were added starts with empty
/// statistics: count them once from the record, so its dashboard and transparency page are right
/// without an operator step.
pub async fn rebuild_if_empty(store: &Store) -> Result<()> {
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

async fn rebuild(store: &Store) -> Result<()> {
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
