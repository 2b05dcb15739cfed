//! `efine audit verify`: recompute the hash chain, then check that every challan row still says
//! what its events say.

use crate::ops::{challans, events};
use crate::sql::Tx;
use crate::StoreError;
use efine_core::audit::ChainVerifier;
use efine_core::challan::{transition, ChallanEvent, ChallanStatus};
use efine_core::penalty::{Adjustments, Stage};

/// Applies one event to the appeal and enforcement projection, as the writing code did.
fn replay_adjustment(adj: &mut Adjustments, kind: &str, payload: &str) -> Result<(), String> {
    if !matches!(
        kind,
        "challan.surcharged" | "challan.escalated" | "appeal.lodged" | "appeal.decided"
    ) {
        return Ok(());
    }
    let p: serde_json::Value =
        serde_json::from_str(payload).map_err(|_| "payload is not JSON".to_string())?;
    let bad = || format!("{kind} payload is not as written");
    match kind {
        "challan.surcharged" => adj.surcharged = true,
        "challan.escalated" => {
            let s = p["stage"].as_str().and_then(Stage::parse).ok_or_else(bad)?;
            adj.stage = adj.stage.max(Some(s));
        }
        "appeal.lodged" => {
            let d = p["paused_since"].as_str().ok_or_else(bad)?;
            adj.paused_since = Some(
                time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]"))
                    .map_err(|_| bad())?,
            );
        }
        _ => {
            let days = p["paused_days"].as_u64().ok_or_else(bad)?;
            adj.paused_days += u32::try_from(days).map_err(|_| bad())?;
            adj.paused_since = None;
            if let Some(r) = p["reduced_amount"].as_i64() {
                adj.reduced_amount = Some(efine_core::Money::from_paisa(r).map_err(|_| bad())?);
            }
        }
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The event log itself was altered: `seq` is the first event that fails.
    Chain { seq: i64, reason: String },
    /// The chain is intact but its head row disagrees with the last event.
    Head { reason: String },
    /// A challan row differs from its recorded events.
    Challan { number: String, reason: String },
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::Chain { seq, reason } => write!(f, "event {seq}: {reason}"),
            Finding::Head { reason } => write!(f, "chain head: {reason}"),
            Finding::Challan { number, reason } => write!(f, "challan {number}: {reason}"),
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct Progress {
    pub events: u64,
    pub challans: u64,
}

const PAGE: i64 = 2000;

/// Verifies the chain in pages. Stops at the first break: everything after it is suspect.
pub fn verify_chain(
    tx: &mut dyn Tx,
    progress: &mut dyn FnMut(u64),
) -> Result<Result<u64, Finding>, StoreError> {
    let mut v = ChainVerifier::default();
    let mut after = 0;
    loop {
        let page = events::page(tx, after, PAGE)?;
        if page.is_empty() {
            break;
        }
        for e in &page {
            if let Err(b) = v.push(e) {
                return Ok(Err(Finding::Chain {
                    seq: b.seq,
                    reason: b.reason,
                }));
            }
            after = e.seq;
        }
        progress(v.count());
    }
    let (head_seq, head_hash) = events::head(tx)?;
    if head_seq != after || head_hash != hex::encode(v.head()) {
        return Ok(Err(Finding::Head {
            reason: format!(
                "says event {head_seq} is last but the log ends at {after}: events were removed or the head was edited"
            ),
        }));
    }
    Ok(Ok(v.count()))
}

/// Checks each challan row against its `challan.issued` snapshot and the status its events give.
pub fn verify_challans(
    tx: &mut dyn Tx,
    progress: &mut dyn FnMut(u64),
) -> Result<Result<u64, Finding>, StoreError> {
    let mut after = 0;
    let mut count = 0;
    loop {
        let page = challans::page(tx, after, 500)?;
        if page.is_empty() {
            break;
        }
        for (id, c) in &page {
            after = *id;
            count += 1;
            let number = c.number.to_string();
            let evs = events::for_subject(tx, &number)?;
            let mut status: Option<ChallanStatus> = None;
            let mut adj = Adjustments::default();
            for e in &evs {
                if let Err(reason) = replay_adjustment(&mut adj, &e.kind, &e.payload) {
                    return Ok(Err(Finding::Challan {
                        number,
                        reason: format!("event {}: {reason}", e.seq),
                    }));
                }
                let ev = match e.kind.as_str() {
                    "challan.issued" => ChallanEvent::Issued,
                    "challan.paid" => ChallanEvent::PaymentConfirmed,
                    "challan.cancelled" => ChallanEvent::CancellationApproved,
                    _ => continue,
                };
                if ev == ChallanEvent::Issued {
                    let payload: serde_json::Value = serde_json::from_str(&e.payload)
                        .map_err(|_| StoreError::Corrupt(format!("event {} payload", e.seq)))?;
                    if payload.get("challan") != Some(&challans::snapshot(c)) {
                        return Ok(Err(Finding::Challan {
                            number,
                            reason: format!(
                                "the row differs from what event {} recorded at issue",
                                e.seq
                            ),
                        }));
                    }
                }
                status = match transition(status, ev) {
                    Ok(s) => Some(s),
                    Err(err) => {
                        return Ok(Err(Finding::Challan {
                            number,
                            reason: format!("event {}: {err}", e.seq),
                        }))
                    }
                };
            }
            match status {
                None => {
                    return Ok(Err(Finding::Challan {
                        number,
                        reason: "no challan.issued event records it".into(),
                    }))
                }
                Some(s) if s != c.status => {
                    return Ok(Err(Finding::Challan {
                        number,
                        reason: format!(
                            "the row says {} but its events say {}",
                            c.status.as_str(),
                            s.as_str()
                        ),
                    }))
                }
                Some(_) => {}
            }
            if adj != c.adjustments {
                return Ok(Err(Finding::Challan {
                    number,
                    reason: format!(
                        "the row's appeal or enforcement columns ({:?}) differ from what its events say ({adj:?})",
                        c.adjustments
                    ),
                }));
            }
        }
        progress(count);
    }
    Ok(Ok(count))
}

/// Checks every cancellation request and appeal row against the events that record it: who
/// asked and why, and the decision (status, who decided, outcome, reduced amount).
pub fn verify_requests(tx: &mut dyn Tx) -> Result<Result<u64, Finding>, StoreError> {
    let mut count = 0;
    let rows = tx.query(
        "SELECT id, challan_number, reason, requested_by, status, decided_by FROM cancellations
         ORDER BY id",
        &[],
    )?;
    for r in &rows {
        count += 1;
        let (id, number) = (r.i64(0)?, r.text(1)?);
        let mut expect: (Option<String>, Option<String>, String, Option<String>) =
            (None, None, "missing".into(), None);
        for e in events::for_subject(tx, &number)? {
            let p: serde_json::Value = serde_json::from_str(&e.payload).unwrap_or_default();
            if p["cancellation_id"].as_i64() != Some(id) {
                continue;
            }
            match e.kind.as_str() {
                "cancellation.requested" => {
                    expect.0 = p["reason"].as_str().map(str::to_string);
                    expect.1 = Some(e.actor.clone());
                    expect.2 = "pending".into();
                }
                "cancellation.approved" => {
                    expect.2 = "approved".into();
                    expect.3 = Some(e.actor.clone());
                }
                "cancellation.rejected" => {
                    expect.2 = "rejected".into();
                    expect.3 = Some(e.actor.clone());
                }
                _ => {}
            }
        }
        let row = (
            Some(r.text(2)?),
            Some(r.text(3)?),
            r.text(4)?,
            r.opt_text(5)?,
        );
        if row != expect {
            return Ok(Err(Finding::Challan {
                number,
                reason: format!("cancellation request {id} differs from its events"),
            }));
        }
    }
    let rows = tx.query(
        "SELECT id, challan_number, reason, evidence_sha256, status, outcome,
                decided_amount_paisa, decided_by
         FROM appeals ORDER BY id",
        &[],
    )?;
    for r in &rows {
        count += 1;
        let (id, number) = (r.i64(0)?, r.text(1)?);
        let mut expect = (
            None::<String>,
            None::<String>,
            "missing".to_string(),
            None::<String>,
            None::<i64>,
            None::<String>,
        );
        for e in events::for_subject(tx, &number)? {
            let p: serde_json::Value = serde_json::from_str(&e.payload).unwrap_or_default();
            if p["appeal_id"].as_i64() != Some(id) {
                continue;
            }
            match e.kind.as_str() {
                "appeal.lodged" => {
                    expect.0 = p["reason"].as_str().map(str::to_string);
                    expect.1 = p["evidence_sha256"].as_str().map(str::to_string);
                    expect.2 = "pending".into();
                }
                "appeal.closed" => expect.2 = "closed".into(),
                "appeal.decided" => {
                    expect.2 = "decided".into();
                    expect.3 = p["outcome"].as_str().map(str::to_string);
                    expect.4 = p["reduced_amount"].as_i64();
                    expect.5 = Some(e.actor.clone());
                }
                _ => {}
            }
        }
        let row = (
            Some(r.text(2)?),
            r.opt_text(3)?,
            r.text(4)?,
            r.opt_text(5)?,
            r.opt_i64(6)?,
            r.opt_text(7)?,
        );
        if row != expect {
            return Ok(Err(Finding::Challan {
                number,
                reason: format!("appeal {id} differs from its events"),
            }));
        }
    }
    Ok(Ok(count))
}
