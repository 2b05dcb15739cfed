//! The pending poller: asks the rails about attempts left open (money may have been taken with
//! no callback). Early and often for young attempts (every 15 minutes for those 15 to 30 minutes
//! old), then daily; what the rail says is applied as its own event through the same path as a
//! callback. The daily round also asks Raast's biller bank about every unpaid fee voucher
//! ([`raast_vouchers`]). Safe on several nodes at once: applying an outcome twice changes nothing.

use crate::jobs::Jobs;
use crate::outcome::{self, Applied, RailMessage};
use crate::rails::inquiry;
use crate::Context;
use efine_core::payment::{AttemptEvent, AttemptState, Rail};
use efine_store::ops::payments;
use std::time::Duration;

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
                ctx.metrics.rail_error(a.rail, "inquiry");
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

/// Raast has no attempt to poll: a payer scans the QR and pays. Asks the biller's bank about
/// every unpaid fee voucher (each showed its Raast QR when it was made), so a payment whose
/// notification was lost is still credited, once. Returns (asked, credited).
pub async fn raast_vouchers(ctx: &Context) -> Result<(usize, usize), efine_store::StoreError> {
    if ctx.payments.raast.is_none() {
        return Ok((0, 0));
    }
    let psids = ctx
        .store
        .read(|tx| efine_store::ops::fees::open_psids(tx, 5000))
        .await?;
    let (mut asked, mut credited) = (0, 0);
    for psid in psids {
        asked += 1;
        match crate::raast::inquire(ctx, &psid).await {
            Ok(n) => credited += n,
            Err(e) => {
                ctx.metrics.rail_error(Rail::Raast, "inquiry");
                tracing::warn!(error = %e, "Raast status inquiry failed");
            }
        }
    }
    Ok((asked, credited))
}

/// Runs the poller under `jobs` until they shut down: young attempts at `early_every` ("early
/// poll"), older ones at `late_every` ("daily poll"). A round in progress at shutdown finishes
/// (each attempt's outcome is one write); no new round starts after it.
pub fn spawn(jobs: &Jobs, ctx: Context, config: PollerConfig) {
    let young = config.early_window;
    for (name, every, min_age, max_age) in [
        ("early poll", config.early_every, young.0, Some(young.1)),
        ("daily poll", config.late_every, young.1, None),
    ] {
        let ctx = ctx.clone();
        let daily = max_age.is_none();
        jobs.spawn_every(name, every, move |_| {
            let ctx = ctx.clone();
            async move {
                poll_once(&ctx, min_age, max_age).await?;
                if daily {
                    raast_vouchers(&ctx).await?;
                }
                Ok::<_, efine_store::StoreError>(())
            }
        });
    }
}
