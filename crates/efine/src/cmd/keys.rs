//! `efine keys`: the QR signing keys, kept in the data directory, owner-only.

use crate::config::{DataDirFlag, Settings};
use anyhow::{Context, Result};
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Add a new signing key. Old keys keep verifying the tokens they signed; restart the servers
    /// to sign with the new one.
    Rotate {
        #[command(flatten)]
        dir: DataDirFlag,
    },
    /// Print the public key set (the same JSON as `/.well-known/efine-keys.json`).
    Public {
        #[command(flatten)]
        dir: DataDirFlag,
    },
}

impl KeysCommand {
    pub fn dir(&self) -> &DataDirFlag {
        match self {
            KeysCommand::Rotate { dir } | KeysCommand::Public { dir } => dir,
        }
    }
}

pub fn run(settings: &Settings, cmd: KeysCommand) -> Result<ExitCode> {
    let data_dir = &settings.db.data_dir;
    match cmd {
        KeysCommand::Rotate { .. } => {
            let kid = efine_store::keys::rotate(data_dir, time::OffsetDateTime::now_utc())
                .context("rotating the QR signing key")?;
            println!(
                "new signing key {kid} in {}; older keys still verify. Restart the servers to sign with it.",
                data_dir.join(efine_store::keys::FILE_NAME).display()
            );
        }
        KeysCommand::Public { .. } => {
            let keys = efine_store::keys::load_or_create(data_dir, time::OffsetDateTime::now_utc())
                .context("QR signing keys")?;
            println!("{}", serde_json::to_string_pretty(&keys.published)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}
