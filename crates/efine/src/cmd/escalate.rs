//! `efine escalate`: the escalation job once, now (`efine serve` runs it at an interval).

use crate::config::Settings;
use anyhow::Result;
use std::process::ExitCode;

pub async fn run(settings: &Settings) -> Result<ExitCode> {
    let store = super::open(&settings.db).await?;
    let started = std::time::Instant::now();
    let run = efine_service::escalation::run_once(&store).await?;
    println!(
        "escalation: {} overdue challans examined, {} surcharges and {} stages recorded, {} fee \
         vouchers expired in {:.2} s",
        run.examined,
        run.surcharged,
        run.escalated,
        run.expired,
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
