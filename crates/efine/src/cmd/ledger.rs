//! `efine ledger balance`: the trial balance of the double-entry ledger.

use crate::config::{DbFlags, Settings};
use anyhow::Result;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum LedgerCommand {
    /// Print the trial balance; exit 1 if any journal or the whole ledger does not balance.
    Balance {
        #[command(flatten)]
        db: DbFlags,
    },
}

impl LedgerCommand {
    pub fn db(&self) -> &DbFlags {
        match self {
            LedgerCommand::Balance { db } => db,
        }
    }
}

pub async fn run(settings: &Settings, cmd: LedgerCommand) -> Result<ExitCode> {
    let LedgerCommand::Balance { .. } = cmd;
    let store = super::connect(&settings.db).await?;
    balance(&store).await
}

async fn balance(store: &efine_store::Store) -> Result<ExitCode> {
    use efine_core::Money;
    use efine_store::ops::ledger;
    // One snapshot: journals committed between the two reads would otherwise show in one and
    // not the other.
    let (rows, bad) = store
        .read_snapshot(|tx| Ok((ledger::trial_balance(tx)?, ledger::unbalanced_journals(tx)?)))
        .await?;
    let rs = |p: i64| {
        Money::from_paisa(p)
            .map(|m| m.to_string())
            .unwrap_or_else(|_| format!("{p} paisa"))
    };
    println!("{:<48} {:>18} {:>18}", "account", "debit", "credit");
    let (mut d, mut c) = (0i128, 0i128);
    for r in &rows {
        println!("{:<48} {:>18} {:>18}", r.account, rs(r.debit), rs(r.credit));
        d += r.debit as i128;
        c += r.credit as i128;
    }
    let total = |v: i128| {
        i64::try_from(v)
            .map(rs)
            .unwrap_or_else(|_| format!("{v} paisa"))
    };
    println!("{:<48} {:>18} {:>18}", "total", total(d), total(c));
    for (id, kind) in &bad {
        println!("UNBALANCED: journal {id} ({kind})");
    }
    if d != c || !bad.is_empty() {
        println!("the ledger does NOT balance");
        return Ok(ExitCode::from(1));
    }
    println!("balanced: debits equal credits in every journal and in total");
    Ok(ExitCode::SUCCESS)
}
