//! `efine outbox`: list the notifications outbox, or run one round of notifications now.

use crate::config::{DbFlags, NotifyFlags, Settings};
use anyhow::{bail, Result};
use clap::Subcommand;
use efine_store::ops::notify as ob;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum OutboxCommand {
    /// List messages, newest first. Recipients are masked.
    List {
        #[command(flatten)]
        db: DbFlags,
        /// pending, sent or failed.
        #[arg(long)]
        status: Option<String>,
        /// Only this challan's messages.
        #[arg(long)]
        challan: Option<String>,
        /// issued, reminder, surcharged, escalated, paid or appeal_decided.
        #[arg(long)]
        reason: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Also print each message's text.
        #[arg(long)]
        text: bool,
    },
    /// Derive, remind and deliver once now, with the configured provider, then exit.
    Run {
        #[command(flatten)]
        db: DbFlags,
        #[command(flatten)]
        notify: NotifyFlags,
    },
}

impl OutboxCommand {
    /// The flags that are settings, for the command-line layer.
    pub fn flags(&self) -> crate::config::Flags {
        match self {
            OutboxCommand::List { db, .. } => crate::config::Flags::default().with(db),
            OutboxCommand::Run { db, notify } => {
                crate::config::Flags::default().with(db).with(notify)
            }
        }
    }
}

pub async fn run(settings: &Settings, cmd: OutboxCommand) -> Result<ExitCode> {
    match cmd {
        OutboxCommand::List {
            status,
            challan,
            reason,
            limit,
            text,
            ..
        } => {
            if let Some(s) = &status {
                if !["pending", "sent", "failed"].contains(&s.as_str()) {
                    bail!("--status is pending, sent or failed, not {s:?}");
                }
            }
            let challan = challan
                .map(|c| efine_core::ChallanNumber::parse(&c).map(|c| c.to_string()))
                .transpose()
                .map_err(|e| anyhow::anyhow!("--challan: {e}"))?;
            let store = super::open(&settings.db).await?;
            let f = ob::Filter {
                status,
                challan,
                reason,
                limit: limit.clamp(1, 10_000),
            };
            let rows = store.read(move |tx| ob::list(tx, &f)).await?;
            println!(
                "{:>6}  {:<16}  {:<7}  {:>3}  {:<26}  {:<20}  {:<5}  to",
                "id", "queued (PKT)", "status", "try", "reason", "challan", "via"
            );
            let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
            for m in &rows {
                let to = match m.channel {
                    efine_core::notify::Channel::Sms => {
                        efine_core::MobileNumber::parse(&m.recipient)
                            .map(|n| efine_core::mask::mobile(&n))
                            .unwrap_or_else(|_| "***".into())
                    }
                    efine_core::notify::Channel::Email => efine_core::mask::email(&m.recipient),
                };
                println!(
                    "{:>6}  {:<16}  {:<7}  {:>3}  {:<26}  {:<20}  {:<5}  {}",
                    m.id,
                    m.created_at
                        .to_offset(efine_core::clock::KARACHI)
                        .format(fmt)
                        .unwrap_or_default(),
                    m.status,
                    m.attempts,
                    m.reason,
                    m.challan_number,
                    m.channel.as_str(),
                    to
                );
                if text {
                    for line in m.body.lines() {
                        println!("        {line}");
                    }
                }
            }
            println!("{} message(s)", rows.len());
            Ok(ExitCode::SUCCESS)
        }
        OutboxCommand::Run { .. } => {
            let store = super::open(&settings.db).await?;
            let n = super::notifier::build(&settings.notify, &store)?;
            let r = n.run_once().await?;
            println!(
                "queued {}, reminders {}, sent {}, to retry {}, failed {} ({} provider)",
                r.queued,
                r.reminders,
                r.sent,
                r.retrying,
                r.failed,
                n.provider_name()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
