//! The pending poller: asks the rails about attempts left open (money may have been taken with
//! no callback). Early and often for young attempts (every 15 minutes for those 15 to 30 minutes
//! old), then daily; what the rail says is applied as its own event through the same path as a
//! callback. Safe on several nodes at once: applying an outcome twice changes nothing.

use crate::outcome::{self, Applied, RailMessage};
use crate::rails::inquiry;
use crate::Context;
use efine_core::payment::{AttemptEvent, AttemptState, Rail};
use efine_store::ops::payments;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct PollerConfig {
    /// How often to look at young attempts.
    pub early_every: Duration,
    /// Attempts whose age falls in this window are young.
    pub early_window: (time::Duration, time::Duration),
    /// How often to look at every older open attempt.
    pub late_every: Duration,
}

impl Default for PollerConfig {
    fn default() -> Self {
        PollerConfig {
            early_every: Duration::from_secs(15 * 60),
            early_window: (time::Duration::minutes(15), time::Duration::minutes(30)),
            late_every: Duration::from_secs(24 * 3600),
        }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PollReport {
    pub asked: usize,
    pub paid: usize,
    pub failed: usize,
    pub still_pending: usize,
    pub unanswered: usize,
    /// Rails with no status inquiry here: left for reconciliation.
    pub skipped: usize,
}

/// Polls open attempts whose age is within `[min_age, max_age)`.
pub async fn poll_once(
    ctx: &Context,
    min_age: time::Duration,
    max_age: Option<time::Duration>,
) -> Result<PollReport, efine_store::StoreError> {
    let now = ctx.store.now();
    let open = ctx
        .store
        .read(|tx| {
            let mut v = Vec::new();
            for s in [
                AttemptState::Initiated,
                AttemptState::Pending,
                AttemptState::Unknown,
            ] {
                v.extend(payments::attempts_in_state(tx, s, 1000)?);
            }
            Ok(v)
        })
        .await?;
    let mut report = PollReport::default();
    for a in open {
        let age = now - a.created_at;
        if age < min_age || max_age.is_some_and(|m| age >= m) {
            continue;
        }
        let answer = match a.rail {
            Rail::Easypaisa => match &ctx.payments.easypaisa {
                Some(cfg) => Some(inquiry::easypaisa(&ctx.http, cfg, &a.reference).await),
                None => None,
            },
            Rail::Jazzcash => match &ctx.payments.jazzcash {
                Some(cfg) => Some(inquiry::jazzcash(&ctx.http, cfg, &a.reference).await),
                None => None,
            },
            // The card gateway has no status inquiry: its notifications are retried by the
            // gateway, and the settlement file settles the rest.
            _ => None,
        };
        let Some(answer) = answer else {
            report.skipped += 1;
            continue;
        };
        report.asked += 1;
        match answer {
            Ok((outcome, raw)) => {
                let msg = RailMessage {
                    rail: a.rail,
                    kind: "inquiry",
                    reference: a.reference.clone(),
                    outcome,
                    claims: None,
                    raw,
                    actor: "poller",
                };
                match outcome::apply(ctx, msg).await? {
                    Applied::Paid(_) | Applied::RefundOwed => report.paid += 1,
                    Applied::Failed => report.failed += 1,
                    Applied::Pending => report.still_pending += 1,
                    Applied::Refused(_) => report.unanswered += 1,
                }
            }
            Err(e) => {
                report.unanswered += 1;
                tracing::warn!(reference = %a.reference, error = %e, "status inquiry failed");
                let at = ctx.store.now();
                let why = e.to_string();
                ctx.store
                    .write(move |tx| {
                        let Some(a) = payments::attempt_by_reference(tx, &a.reference)? else {
                            return Ok(());
                        };
                        if !a.state.is_terminal() {
                            payments::mark(
                                tx,
                                &a,
                                AttemptEvent::InquiryFailed,
                                serde_json::json!({"error": why}),
                                "poller",
                                at,
                            )?;
                        }
                        Ok(())
                    })
                    .await?;
            }
        }
    }
    Ok(report)
}

/// Runs the poller until `shutdown` is cancelled: young attempts at `early_every`, older ones at
/// `late_every`. A round in progress when the token is cancelled finishes (each attempt's outcome
/// is one write); no new round starts after it.
pub fn spawn(
    ctx: Context,
    config: PollerConfig,
    shutdown: CancellationToken,
) -> Vec<tokio::task::JoinHandle<()>> {
    let early = (ctx.clone(), config.clone(), shutdown.clone());
    vec![
        tokio::spawn(async move {
            let (ctx, c, shutdown) = early;
            every(c.early_every, &shutdown, || async {
                if let Err(e) = poll_once(&ctx, c.early_window.0, Some(c.early_window.1)).await {
                    tracing::error!(error = %e, "early poll failed");
                }
            })
            .await
        }),
        tokio::spawn(async move {
            every(config.late_every, &shutdown, || async {
                if let Err(e) = poll_once(&ctx, config.early_window.1, None).await {
                    tracing::error!(error = %e, "daily poll failed");
                }
            })
            .await
        }),
    ]
}

/// Runs `round` at once and then every `period`, until `shutdown` is cancelled between rounds.
async fn every<F, Fut>(period: Duration, shutdown: &CancellationToken, mut round: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut tick = tokio::time::interval(period);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => round().await,
        }
    }
}
