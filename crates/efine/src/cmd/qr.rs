//! `efine qr verify`: check a signed QR token offline against a saved key set.

use anyhow::{Context, Result};
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum QrCommand {
    /// Check a token's signature with no network. Exits 0 if genuine, 1 if not. Whether the
    /// record still exists and what its status is needs the server (`/v/TOKEN`).
    Verify {
        /// The token, or the whole URL from the QR code (`.../v/TOKEN`).
        token: String,
        /// A saved copy of `/.well-known/efine-keys.json`.
        #[arg(long)]
        keys: std::path::PathBuf,
    },
}

pub fn run(cmd: QrCommand) -> Result<ExitCode> {
    let QrCommand::Verify { token, keys } = cmd;
    verify(&token, &keys)
}

fn verify(token: &str, keys: &std::path::Path) -> Result<ExitCode> {
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
            if let Some(k) = set.keys.iter().find(|k| k.kid == kid.to_string()) {
                if let (Some(d), Some(o)) = (&k.device, &k.officer) {
                    println!("issued offline by device {d}, officer {o}");
                }
            }
            println!("(the record's current status needs the server: open the QR code's URL)");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("NOT GENUINE: {e}");
            Ok(ExitCode::from(1))
        }
    }
}
