//! `efine audit verify`: recompute the event hash chain and check every record against its
//! events.

use crate::config::{DbFlags, Settings};
use anyhow::Result;
use clap::Subcommand;
use efine_store::ops::audit;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Recompute the event hash chain and check every challan against its events. Exits 0 when
    /// intact, 1 naming the first altered record otherwise.
    Verify {
        #[command(flatten)]
        db: DbFlags,
    },
}

impl AuditCommand {
    pub fn db(&self) -> &DbFlags {
        match self {
            AuditCommand::Verify { db } => db,
        }
    }
}

pub async fn run(settings: &Settings, cmd: AuditCommand) -> Result<ExitCode> {
    let AuditCommand::Verify { .. } = cmd;
    let store = super::connect(&settings.db).await?;
    verify(&store).await
}

async fn verify(store: &efine_store::Store) -> Result<ExitCode> {
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
