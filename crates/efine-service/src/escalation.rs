//! The escalation job: at an interval, records for every overdue unpaid challan that its
//! surcharge applies and each enforcement stage it has reached (`challan.surcharged`,
//! `challan.escalated`), and expires citizens' fee vouchers past their validity unpaid
//! (`challan.expired`). Safe on several nodes at once: each page is one write transaction that
//! re-reads what it changes under the chain-head lock, so a transition is recorded once.

use crate::jobs::Jobs;
use efine_store::ops::enforcement::{self, EscalationRun};
use efine_store::{Store, StoreError};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Challans looked at per transaction; a run repeats until a pass records nothing new.
const BATCH: i64 = 2000;

/// One run over every overdue unpaid challan, as of the store's clock.
pub async fn run_once(store: &Store) -> Result<EscalationRun, StoreError> {
    run(store, &CancellationToken::new()).await
}

/// A run that stops between pages once `stop` is cancelled. Each page is committed whole, and
/// the next run starts again from the first page, so an abandoned run loses nothing.
pub async fn run(store: &Store, stop: &CancellationToken) -> Result<EscalationRun, StoreError> {
    let mut total = EscalationRun::default();
    // Vouchers past their validity expire first: an expired voucher has no surcharge to record.
    while !stop.is_cancelled() {
        let at = store.now();
        let n = store
            .write(move |tx| efine_store::ops::fees::expire(tx, at, BATCH))
            .await?;
        total.expired += n;
        if n < BATCH as u64 {
            break;
        }
    }
    let mut after_id = 0;
    while !stop.is_cancelled() {
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

/// Runs the job under `jobs` every `every` (the first run at once) until shutdown.
pub fn spawn(jobs: &Jobs, store: Store, every: Duration) {
    jobs.spawn_every("escalation", every, move |stop| {
        let store = store.clone();
        async move {
            let r = run(&store, &stop).await?;
            if r.surcharged + r.escalated + r.expired > 0 {
                tracing::info!(
                    examined = r.examined,
                    expired = r.expired,
                    surcharged = r.surcharged,
                    escalated = r.escalated,
                    "escalation run"
                );
            }
            Ok::<_, StoreError>(())
        }
    });
}
