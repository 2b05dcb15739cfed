//! `efine keys`: the signing keys, kept in the database, sealed under the key-encryption key.

use crate::config::{DbFlags, Settings};
use anyhow::{Context, Result};
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Add a new signing key. Old keys keep verifying the tokens they signed; running servers
    /// sign with the new one within a minute, without a restart.
    Rotate {
        #[command(flatten)]
        db: DbFlags,
    },
    /// Print the public key set (the same JSON as `/.well-known/efine-keys.json`).
    Public {
        #[command(flatten)]
        db: DbFlags,
    },
}

impl KeysCommand {
    pub fn db(&self) -> &DbFlags {
        match self {
            KeysCommand::Rotate { db } | KeysCommand::Public { db } => db,
        }
    }
}

pub async fn run(settings: &Settings, cmd: KeysCommand) -> Result<ExitCode> {
    let store = super::connect(&settings.db).await?;
    // Opening loads (or on first use creates or imports) the keys and checks that the
    // key-encryption key opens them.
    let keys =
        efine_store::keys::Keys::open(&store, settings.db.kek()?, Some(&settings.db.data_dir))
            .await
            .context("signing keys")?;
    match cmd {
        KeysCommand::Rotate { .. } => {
            let kid = keys.rotate().await.context("rotating the signing key")?;
            println!(
                "new signing key {kid}; older keys still verify. Running servers sign with it \
                 within a minute."
            );
        }
        KeysCommand::Public { .. } => {
            println!(
                "{}",
                serde_json::to_string_pretty(&keys.current().published)?
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
