//! The escalation job: at an interval, records for every overdue unpaid challan that its
//! surcharge applies and each enforcement stage it has reached (`challan.surcharged`,
//! `challan.escalated`). Safe on several nodes at once: each run is one write transaction that
//! re-reads what it changes under the chain-head lock, so a transition is recorded once.

use efine_store::ops::enforcement::{self, EscalationRun};
use efine_store::{Store, StoreError};
use std::time::Duration;

/// Challans looked at per transaction; a run repeats until a pass records nothing new.
const BATCH: i64 = 2000;

/// One run over every overdue unpaid challan, as of the store's clock.
pub async fn run_once(store: &Store) -> Result<EscalationRun, StoreError> {
    let mut total = EscalationRun::default();
    let mut after_id = 0;
    loop {
        let at = store.now();
        let (run, last) = store
            .write(move |tx| enforcement::escalate(tx, at, after_id, BATCH))
            .await?;
        total.examined += run.examined;
        total.surcharged += run.surcharged;
        total.escalated += run.escalated;
        match last {
            Some(id) => after_id = id,
            None => break,
        }
    }
    Ok(total)
}

/// Runs the job every `every` until the process stops (the first run at start-up).
pub fn spawn(store: Store, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match run_once(&store).await {
                Ok(r) if r.surcharged + r.escalated > 0 => tracing::info!(
                    examined = r.examined,
                    surcharged = r.surcharged,
                    escalated = r.escalated,
                    "escalation run"
                ),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "escalation run failed"),
            }
        }
    });
}
