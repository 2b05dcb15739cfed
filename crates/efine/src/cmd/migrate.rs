//! `efine migrate`: apply pending migrations and load the catalogue, then exit.

use crate::config::Settings;
use anyhow::Result;
use std::process::ExitCode;

pub async fn run(settings: &Settings) -> Result<ExitCode> {
    let store = super::open(&settings.db).await?;
    super::stats::rebuild_if_empty(&store).await?;
    println!("database is up to date ({} backend)", store.backend());
    Ok(ExitCode::SUCCESS)
}
