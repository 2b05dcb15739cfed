//! `efine audit verify`: recompute the event hash chain and check every record against its
//! events, all in one read snapshot so that a server taking payments meanwhile cannot make an
//! intact record look altered.

use crate::config::{DbFlags, Settings};
use anyhow::{bail, Result};
use clap::Subcommand;
use efine_store::ops::audit::{self, Since, Step};
use std::io::IsTerminal;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Recompute the event hash chain and check every challan against its events. Exits 0 when
    /// intact, 1 naming the first altered record otherwise. Prints the head it verified.
    Verify {
        /// Check only the chain after this event (a head an earlier run printed) and the
        /// records its new events touch.
        #[arg(long, value_name = "SEQ")]
        since: Option<i64>,
        /// The hash an earlier run verified for event SEQ (64 hex digits); without it, the
        /// hash stored with event SEQ is taken as it stands.
        #[arg(long, value_name = "HEX", requires = "since")]
        hash: Option<String>,
        #[command(flatten)]
        db: DbFlags,
    },
}

impl AuditCommand {
    pub fn db(&self) -> &DbFlags {
        match self {
            AuditCommand::Verify { db, .. } => db,
        }
    }
}

pub async fn run(settings: &Settings, cmd: AuditCommand) -> Result<ExitCode> {
    let AuditCommand::Verify { since, hash, .. } = cmd;
    let since = match since {
        None => None,
        Some(seq) if seq < 0 => bail!("--since takes an event sequence number, 0 or more"),
        Some(seq) => Some(Since {
            seq,
            hash: hash.as_deref().map(parse_hash).transpose()?,
        }),
    };
    let store = super::connect(&settings.db).await?;
    verify(&store, since).await
}

fn parse_hash(s: &str) -> Result<efine_core::audit::Hash> {
    let s = s.trim();
    let mut h = [0u8; 32];
    if s.len() != 64 || !s.is_ascii() {
        bail!("--hash takes the 64 hex digits a previous run printed");
    }
    for (i, b) in h.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| {
            anyhow::anyhow!("--hash takes the 64 hex digits a previous run printed")
        })?;
    }
    Ok(h)
}

pub async fn verify(store: &efine_store::Store, since: Option<Since>) -> Result<ExitCode> {
    // A bar only for a person watching: in a log or a pipe it would be noise.
    let bar = if std::io::stdout().is_terminal() {
        indicatif::ProgressBar::new(0)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} {wide_bar} {pos}/{len}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message("verifying the event chain");
    let b = bar.clone();
    let outcome = store
        .read_snapshot(move |tx| {
            audit::verify(tx, since, &mut |step| match step {
                Step::Events { done, total } => {
                    b.set_length(total);
                    b.set_position(done);
                }
                Step::Challans(n) => {
                    b.set_style(indicatif::ProgressStyle::default_spinner());
                    b.set_message(format!("{n} challans checked"));
                    b.tick();
                }
                Step::Requests(n) => {
                    b.set_message(format!("{n} cancellation requests and appeals checked"));
                    b.tick();
                }
            })
        })
        .await?;
    bar.finish_and_clear();
    match outcome {
        Ok(r) => {
            let what = format!(
                "{} events chained, {} challans match their events, and {} cancellation requests \
                 and appeals match theirs",
                r.events, r.challans, r.requests
            );
            match r.since {
                None => println!("intact: {what}"),
                Some(s) => {
                    println!("intact since event {}: {what}", s.seq);
                    if s.hash.is_none() && s.seq > 0 {
                        println!(
                            "(event {}'s hash was read from the log, not checked against one \
                             verified before: pass --hash to check it)",
                            s.seq
                        );
                    }
                }
            }
            println!("verified head: event {}, hash {}", r.head_seq, r.head_hash);
            println!(
                "next run: efine audit verify --since {} --hash {}",
                r.head_seq, r.head_hash
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(f) => {
            println!("TAMPERED: {f}");
            Ok(ExitCode::from(1))
        }
    }
}
