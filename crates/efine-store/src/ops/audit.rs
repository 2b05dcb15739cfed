//! `efine audit verify`: recompute the hash chain, then check that every challan row still says
//! what its events say.
//!
//! Everything here only reads, in pages (keyset on `seq` or `id`) so memory stays bounded at any
//! size. Run it inside `Store::read_snapshot`: the rows and their events must come from one
//! instant, or a payment committed between two reads looks like an edited row. `verify` with a
//! `Since` checks the chain only after a head an earlier run verified, and only the records its
//! new events touch.

use crate::ops::{challans, events};
use crate::sql::{Row, Tx};
use crate::{params, StoreError};
use efine_core::audit::{event_hash, ChainVerifier, EventRecord, Hash, GENESIS};
use efine_core::challan::Challan;
use efine_core::challan::{transition, ChallanEvent, ChallanStatus};
use efine_core::penalty::{Adjustments, Stage};
use efine_core::ChallanNumber;
use std::collections::{BTreeSet, HashMap};

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

/// How far a run has got, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Events chained so far, of how many the snapshot holds after the starting point.
    Events {
        done: u64,
        total: u64,
    },
    Challans(u64),
    Requests(u64),
}

/// Where a run starts: after event `seq`, an earlier run's verified head. With `hash`, event
/// `seq` must still carry it; without, its stored hash is taken as it stands (and the report
/// says so).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Since {
    pub seq: i64,
    pub hash: Option<Hash>,
}

/// What an intact run checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub events: u64,
    pub challans: u64,
    pub requests: u64,
    /// The head verified: the last event's sequence and hash (hex), for the next `--since`.
    pub head_seq: i64,
    pub head_hash: String,
    /// The starting point, if not the genesis.
    pub since: Option<Since>,
}

const PAGE: i64 = 2000;
const CHALLAN_PAGE: i64 = 500;

/// Verifies the chain in pages. Stops at the first break: everything after it is suspect.
pub fn verify_chain(
    tx: &mut dyn Tx,
    progress: &mut dyn FnMut(u64),
) -> Result<Result<u64, Finding>, StoreError> {
    let run = chain_after(tx, 0, GENESIS, None, &mut |s| {
        if let Step::Events { done, .. } = s {
            progress(done)
        }
    })?;
    Ok(run.map(|(events, _)| events))
}

/// What the events after a starting point touch: the records a `--since` run checks.
#[derive(Default)]
struct Touched {
    subjects: BTreeSet<String>,
    cancellations: BTreeSet<i64>,
    appeals: BTreeSet<i64>,
}

impl Touched {
    fn note(&mut self, kind: &str, subject: &str, payload: &str) {
        self.subjects.insert(subject.to_string());
        if kind.starts_with("cancellation.") || kind.starts_with("appeal.") {
            let p: serde_json::Value = serde_json::from_str(payload).unwrap_or_default();
            if let Some(id) = p["cancellation_id"].as_i64() {
                self.cancellations.insert(id);
            }
            if let Some(id) = p["appeal_id"].as_i64() {
                self.appeals.insert(id);
            }
        }
    }
}

/// Chains the events after `seq` (whose hash is `prev`) up to the recorded head: (events
/// chained, head hash). Notes what they touch when asked to.
fn chain_after(
    tx: &mut dyn Tx,
    seq: i64,
    prev: Hash,
    mut touched: Option<&mut Touched>,
    progress: &mut dyn FnMut(Step),
) -> Result<Result<(u64, String), Finding>, StoreError> {
    let (head_seq, head_hash) = events::head(tx)?;
    let total = u64::try_from(head_seq - seq).unwrap_or(0);
    let mut v = if seq == 0 {
        ChainVerifier::default()
    } else {
        ChainVerifier::after(seq, prev)
    };
    let mut after = seq;
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
            if let Some(t) = touched.as_deref_mut() {
                t.note(&e.kind, &e.subject, &e.payload);
            }
            after = e.seq;
        }
        progress(Step::Events {
            done: v.count(),
            total,
        });
    }
    if head_seq != after || head_hash != hex::encode(v.head()) {
        return Ok(Err(Finding::Head {
            reason: format!(
                "says event {head_seq} is last but the log ends at {after}: events were removed or the head was edited"
            ),
        }));
    }
    Ok(Ok((v.count(), head_hash)))
}

/// The hash a `--since` run starts from: event `since.seq`'s, checked against the given one.
fn starting_hash(tx: &mut dyn Tx, since: Since) -> Result<Result<Hash, Finding>, StoreError> {
    if since.seq == 0 {
        return Ok(match since.hash {
            Some(h) if h != GENESIS => Err(Finding::Chain {
                seq: 0,
                reason: "the chain starts from zeros, not the given hash".into(),
            }),
            _ => Ok(GENESIS),
        });
    }
    let Some(e) = events::page(tx, since.seq - 1, 1)?
        .into_iter()
        .find(|e| e.seq == since.seq)
    else {
        let (last, _) = events::head(tx)?;
        return Ok(Err(Finding::Chain {
            seq: since.seq,
            reason: format!(
                "it is not in the log, which ends at event {last}: events were removed, or no \
                 run verified a head there"
            ),
        }));
    };
    let own = event_hash(
        &e.prev_hash,
        e.seq,
        e.at_micros,
        &e.kind,
        &e.subject,
        &e.actor,
        &e.payload,
    );
    if own != e.hash {
        return Ok(Err(Finding::Chain {
            seq: e.seq,
            reason: "its contents do not match its hash: the row was altered".into(),
        }));
    }
    if since.hash.is_some_and(|h| h != e.hash) {
        return Ok(Err(Finding::Chain {
            seq: e.seq,
            reason: "its hash is not the one verified before: the log was rewritten".into(),
        }));
    }
    Ok(Ok(e.hash))
}

/// The whole audit, for `efine audit verify`: the chain (from the genesis, or after `since`),
/// then every challan, cancellation request and appeal (or, after `since`, those its new events
/// touch) against its events. Call it inside `Store::read_snapshot`.
pub fn verify(
    tx: &mut dyn Tx,
    since: Option<Since>,
    progress: &mut dyn FnMut(Step),
) -> Result<Result<Report, Finding>, StoreError> {
    let start = match since {
        Some(s) => match starting_hash(tx, s)? {
            Ok(h) => (s.seq, h),
            Err(f) => return Ok(Err(f)),
        },
        None => (0, GENESIS),
    };
    let mut touched = Touched::default();
    let (events, head_hash) =
        match chain_after(tx, start.0, start.1, since.map(|_| &mut touched), progress)? {
            Ok(r) => r,
            Err(f) => return Ok(Err(f)),
        };
    let head_seq = start.0 + i64::try_from(events).unwrap_or(i64::MAX);
    let counts = match since {
        None => verify_challans(tx, &mut |n| progress(Step::Challans(n)))?,
        Some(_) => touched_challans(tx, &touched, progress)?,
    };
    let challans = match counts {
        Ok(c) => c,
        Err(f) => return Ok(Err(f)),
    };
    let requests = requests_in_pages(tx, since.map(|_| &touched), progress)?;
    Ok(requests.map(|requests| Report {
        events,
        challans,
        requests,
        head_seq,
        head_hash,
        since,
    }))
}

/// Checks the challans whose subjects the new events name.
fn touched_challans(
    tx: &mut dyn Tx,
    touched: &Touched,
    progress: &mut dyn FnMut(Step),
) -> Result<Result<u64, Finding>, StoreError> {
    let mut count = 0;
    for subject in &touched.subjects {
        let Ok(number) = ChallanNumber::parse(subject) else {
            continue;
        };
        let Some(c) = challans::by_number(tx, &number)? else {
            continue;
        };
        if let Some(f) = check_challan(tx, &c)? {
            return Ok(Err(f));
        }
        count += 1;
        if count % CHALLAN_PAGE as u64 == 0 {
            progress(Step::Challans(count));
        }
    }
    Ok(Ok(count))
}

/// Checks each challan row against its `challan.issued` snapshot and the status its events give.
pub fn verify_challans(
    tx: &mut dyn Tx,
    progress: &mut dyn FnMut(u64),
) -> Result<Result<u64, Finding>, StoreError> {
    let mut after = 0;
    let mut count = 0;
    loop {
        let page = challans::page(tx, after, CHALLAN_PAGE)?;
        if page.is_empty() {
            break;
        }
        let last = page.last().map_or(after, |(id, _)| *id);
        let evs = events::for_challan_page(tx, after, last)?;
        let mut by_subject: HashMap<&str, Vec<&EventRecord>> = HashMap::new();
        for e in &evs {
            by_subject.entry(e.subject.as_str()).or_default().push(e);
        }
        for (id, c) in &page {
            after = *id;
            count += 1;
            let own = by_subject
                .get(c.number.to_string().as_str())
                .map_or(&[][..], Vec::as_slice);
            if let Some(f) = check_against(c, own)? {
                return Ok(Err(f));
            }
        }
        progress(count);
    }
    Ok(Ok(count))
}

/// One challan row against its events, read on their own.
fn check_challan(tx: &mut dyn Tx, c: &Challan) -> Result<Option<Finding>, StoreError> {
    let evs = events::for_subject(tx, &c.number.to_string())?;
    check_against(c, &evs.iter().collect::<Vec<_>>())
}

/// One challan row against its events, oldest first; `None` when they agree.
fn check_against(c: &Challan, evs: &[&EventRecord]) -> Result<Option<Finding>, StoreError> {
    let number = c.number.to_string();
    let found = |reason: String| {
        Ok(Some(Finding::Challan {
            number: number.clone(),
            reason,
        }))
    };
    let mut status: Option<ChallanStatus> = None;
    let mut adj = Adjustments::default();
    for e in evs {
        if let Err(reason) = replay_adjustment(&mut adj, &e.kind, &e.payload) {
            return found(format!("event {}: {reason}", e.seq));
        }
        let ev = match e.kind.as_str() {
            "challan.issued" => ChallanEvent::Issued,
            "challan.paid" => ChallanEvent::PaymentConfirmed,
            "challan.cancelled" => ChallanEvent::CancellationApproved,
            "challan.expired" => ChallanEvent::ValidityEnded,
            _ => continue,
        };
        if ev == ChallanEvent::Issued {
            let payload: serde_json::Value = serde_json::from_str(&e.payload)
                .map_err(|_| StoreError::Corrupt(format!("event {} payload", e.seq)))?;
            if payload.get("challan") != Some(&challans::snapshot(c)) {
                return found(format!(
                    "the row differs from what event {} recorded at issue",
                    e.seq
                ));
            }
        }
        status = match transition(status, ev) {
            Ok(s) => Some(s),
            Err(err) => return found(format!("event {}: {err}", e.seq)),
        };
    }
    match status {
        None => return found("no challan.issued event records it".into()),
        Some(s) if s != c.status => {
            return found(format!(
                "the row says {} but its events say {}",
                c.status.as_str(),
                s.as_str()
            ))
        }
        Some(_) => {}
    }
    if adj != c.adjustments {
        return found(format!(
            "the row's appeal or enforcement columns ({:?}) differ from what its events say ({adj:?})",
            c.adjustments
        ));
    }
    Ok(None)
}

/// Checks every cancellation request and appeal row against the events that record it: who
/// asked and why, and the decision (status, who decided, outcome, reduced amount).
pub fn verify_requests(tx: &mut dyn Tx) -> Result<Result<u64, Finding>, StoreError> {
    requests_in_pages(tx, None, &mut |_| {})
}

const CANCELLATION_COLS: &str = "id, challan_number, reason, requested_by, status, decided_by";
const APPEAL_COLS: &str = "id, challan_number, reason, evidence_sha256, status, outcome,
                           decided_amount_paisa, decided_by";

type CheckRow = fn(&mut dyn Tx, &Row) -> Result<Option<Finding>, StoreError>;

/// The cancellation requests and appeals in pages by id; with `only`, just those the new events
/// name.
fn requests_in_pages(
    tx: &mut dyn Tx,
    only: Option<&Touched>,
    progress: &mut dyn FnMut(Step),
) -> Result<Result<u64, Finding>, StoreError> {
    let mut count = 0;
    let tables: [(&str, &str, Option<&BTreeSet<i64>>, CheckRow); 2] = [
        (
            "cancellations",
            CANCELLATION_COLS,
            only.map(|t| &t.cancellations),
            check_cancellation,
        ),
        (
            "appeals",
            APPEAL_COLS,
            only.map(|t| &t.appeals),
            check_appeal,
        ),
    ];
    for (table, cols, ids, check) in tables {
        if let Some(ids) = ids {
            let sql = format!("SELECT {cols} FROM {table} WHERE id = $1");
            for id in ids {
                if let Some(r) = tx.query_opt(&sql, params![*id])? {
                    count += 1;
                    if let Some(f) = check(tx, &r)? {
                        return Ok(Err(f));
                    }
                }
            }
            continue;
        }
        let sql = format!("SELECT {cols} FROM {table} WHERE id > $1 ORDER BY id LIMIT $2");
        let mut after = 0;
        loop {
            let page = tx.query(&sql, params![after, CHALLAN_PAGE])?;
            let Some(last) = page.last() else { break };
            after = last.i64(0)?;
            for r in &page {
                count += 1;
                if let Some(f) = check(tx, r)? {
                    return Ok(Err(f));
                }
            }
            progress(Step::Requests(count));
        }
    }
    Ok(Ok(count))
}

fn check_cancellation(tx: &mut dyn Tx, r: &Row) -> Result<Option<Finding>, StoreError> {
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
    Ok((row != expect).then(|| Finding::Challan {
        number,
        reason: format!("cancellation request {id} differs from its events"),
    }))
}

fn check_appeal(tx: &mut dyn Tx, r: &Row) -> Result<Option<Finding>, StoreError> {
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
    Ok((row != expect).then(|| Finding::Challan {
        number,
        reason: format!("appeal {id} differs from its events"),
    }))
}
