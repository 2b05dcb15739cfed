//! The notifications outbox: messages derived from the event log (and a daily scan for
//! reminders), claimed by one node at a time under a lease, and every delivery attempt.
//!
//! Derivation reads events after a cursor and advances the cursor in the same transaction as the
//! messages it enqueues, with a compare-and-set: a node whose view of the cursor is stale writes
//! nothing. Each message has a unique key (challan, reason, channel) and is inserted with
//! `ON CONFLICT DO NOTHING`, so whatever races, a message is queued once.

use crate::ops::{catalogue, challans, events};
use crate::sql::{Row, Tx};
use crate::{params, StoreError};
use efine_core::audit::EventRecord;
use efine_core::challan::{Challan, ChallanStatus};
use efine_core::clock::{from_micros, karachi_date, to_micros};
use efine_core::i18n::Lang;
use efine_core::notify::{self, message_key, Channel, Reason, Texts};
use efine_core::{ChallanNumber, Money};
use serde::Serialize;
use std::collections::HashMap;
use time::{Date, Duration, OffsetDateTime};

/// Whom a challan's messages go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// `challan` (the mobile written on it), `registry` (the registered owner), `none`.
    pub source: String,
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub owner_name: Option<String>,
    pub owner_cnic: Option<String>,
}

impl Recipient {
    pub fn nobody() -> Recipient {
        Recipient {
            source: "none".into(),
            mobile: None,
            email: None,
            owner_name: None,
            owner_cnic: None,
        }
    }
}

pub fn recipient(tx: &mut dyn Tx, challan: &str) -> Result<Option<Recipient>, StoreError> {
    tx.query_opt(
        "SELECT source, mobile, email, owner_name, owner_cnic FROM notify_recipients
         WHERE challan_number = $1",
        params![challan],
    )?
    .map(|r| recipient_row(&r, 0))
    .transpose()
}

fn recipient_row(r: &Row, at: usize) -> Result<Recipient, StoreError> {
    Ok(Recipient {
        source: r.text(at)?,
        mobile: r.opt_text(at + 1)?,
        email: r.opt_text(at + 2)?,
        owner_name: r.opt_text(at + 3)?,
        owner_cnic: r.opt_text(at + 4)?,
    })
}

/// The language a challan's messages are written in, when known.
pub fn language(tx: &mut dyn Tx, challan: &str) -> Result<Option<Lang>, StoreError> {
    Ok(tx
        .query_opt(
            "SELECT lang FROM challan_languages WHERE challan_number = $1",
            params![challan],
        )?
        .map(|r| r.text(0))
        .transpose()?
        .map(|l| Lang::parse(Some(&l))))
}

/// Who told us the language of a challan's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LanguageSource {
    /// The officer asked at issue.
    Officer,
    /// The citizen used the portal in it for this challan.
    Portal,
}

/// Records the language of a challan's messages (the latest answer wins), with its event; a
/// language already recorded writes nothing. Unknown challan: `NotFound`.
pub fn record_language(
    tx: &mut dyn Tx,
    number: &ChallanNumber,
    lang: Lang,
    source: LanguageSource,
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    let n = number.to_string();
    if challans::by_number(tx, number)?.is_none() {
        return Err(StoreError::NotFound("challan".into()));
    }
    if language(tx, &n)? == Some(lang) {
        return Ok(false);
    }
    let source = match source {
        LanguageSource::Officer => "officer",
        LanguageSource::Portal => "portal",
    };
    tx.exec(
        "INSERT INTO challan_languages (challan_number, lang, source, recorded_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (challan_number) DO UPDATE
             SET lang = excluded.lang, source = excluded.source, recorded_at = excluded.recorded_at",
        params![n.as_str(), lang.code(), source, to_micros(at)],
    )?;
    events::append(
        tx,
        at,
        "challan.language",
        &n,
        if source == "officer" {
            "officer"
        } else {
            "citizen"
        },
        &serde_json::json!({"challan_number": n, "lang": lang.code(), "source": source}),
    )?;
    Ok(true)
}

/// Records whom a challan's messages go to (once: a later answer is ignored).
pub fn add_recipient(
    tx: &mut dyn Tx,
    challan: &str,
    r: &Recipient,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    tx.exec(
        "INSERT INTO notify_recipients (challan_number, source, mobile, email, owner_name,
             owner_cnic, looked_up_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (challan_number) DO NOTHING",
        params![
            challan,
            r.source.as_str(),
            r.mobile.clone(),
            r.email.clone(),
            r.owner_name.clone(),
            r.owner_cnic.clone(),
            to_micros(at)
        ],
    )?;
    Ok(())
}

/// Records whom each of several challans' messages go to (once: a later answer is ignored), in
/// a few multi-row statements: the notification job records a page of challans at a time, in
/// the writer's batch beside the issues it is catching up with.
pub fn add_recipients(
    tx: &mut dyn Tx,
    found: &[(String, Recipient)],
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    let at = to_micros(at);
    crate::deferred::insert_rows(
        tx,
        "INSERT INTO notify_recipients (challan_number, source, mobile, email, owner_name,
             owner_cnic, looked_up_at)
         VALUES ",
        " ON CONFLICT (challan_number) DO NOTHING",
        7,
        found,
        |(n, r), p| {
            p.extend([
                crate::sql::Value::from(n),
                crate::sql::Value::from(&r.source),
                crate::sql::Value::from(r.mobile.clone()),
                crate::sql::Value::from(r.email.clone()),
                crate::sql::Value::from(r.owner_name.clone()),
                crate::sql::Value::from(r.owner_cnic.clone()),
                crate::sql::Value::from(at),
            ])
        },
    )
}

/// The last event turned into messages.
pub fn cursor(tx: &mut dyn Tx) -> Result<i64, StoreError> {
    tx.query_one("SELECT seq FROM notify_cursors WHERE name = 'events'", &[])?
        .i64(0)
}

/// The challan an event is about, if it is one that gives a message.
pub fn challan_of(e: &EventRecord) -> Option<ChallanNumber> {
    reason_of(e)?;
    let payload: serde_json::Value = serde_json::from_str(&e.payload).ok()?;
    payload
        .get("challan_number")
        .and_then(|v| v.as_str())
        .and_then(|s| ChallanNumber::parse(s).ok())
        .or_else(|| ChallanNumber::parse(&e.subject).ok())
}

fn reason_of(e: &EventRecord) -> Option<Reason> {
    let payload: serde_json::Value = serde_json::from_str(&e.payload).unwrap_or_default();
    let text = |k: &str| payload.get(k).and_then(|v| v.as_str()).map(str::to_string);
    match e.kind.as_str() {
        "challan.issued" => Some(Reason::Issued),
        "challan.paid" => Some(Reason::Paid),
        "challan.surcharged" => Some(Reason::Surcharged),
        "challan.escalated" => Some(Reason::Escalated {
            stage: text("stage").unwrap_or_else(|| format!("event-{}", e.seq)),
        }),
        "appeal.decided" => Some(Reason::AppealDecided {
            appeal: payload
                .get("appeal_id")
                .or_else(|| payload.get("appeal"))
                .map(|v| v.to_string().trim_matches('"').to_string())
                .unwrap_or_else(|| format!("event-{}", e.seq)),
        }),
        _ => None,
    }
}

fn rupees(m: Money) -> String {
    m.to_string().trim_start_matches("Rs ").to_string()
}

fn day(d: Date) -> String {
    d.format(time::macros::format_description!(
        "[day padding:none] [month repr:short] [year]"
    ))
    .unwrap_or_else(|_| d.to_string())
}

/// The first day the surcharge applies, by the challan's penalty terms (`None` while the clock
/// stands still under appeal).
pub fn surcharge_from(c: &Challan) -> Option<Date> {
    c.terms().surcharge_from()
}

fn render(
    tx: &mut dyn Tx,
    texts: &Texts,
    c: &Challan,
    reason: &Reason,
    payload: &serde_json::Value,
    today: Date,
    lang: Option<Lang>,
) -> Result<String, StoreError> {
    let number = c.number.to_string();
    let psid = c.psid.as_str().to_string();
    let paisa = |k: &str| {
        payload
            .get(k)
            .and_then(|v| v.as_i64())
            .and_then(|p| Money::from_paisa(p).ok())
    };
    let due_today = c.amount_due(today);
    let late = c.amount_after_due_date();
    let vars: Vec<(&str, String)> = match reason {
        Reason::Issued | Reason::Reminder => {
            let names = catalogue::names_for(tx, c)?;
            vec![
                ("challan", number),
                ("psid", psid),
                ("amount", rupees(c.amount)),
                ("due_date", day(c.due_date)),
                // The Urdu text writes the date in Urdu (month name and digits).
                (
                    "due_date@ur",
                    efine_core::i18n::date(efine_core::i18n::Lang::Ur, c.due_date),
                ),
                ("late_amount", rupees(late)),
                ("offence", names.offence_en),
                ("offence_ur", names.offence_ur),
            ]
        }
        Reason::Surcharged => vec![
            ("challan", number),
            ("psid", psid),
            ("amount", rupees(paisa("amount_due").unwrap_or(due_today))),
        ],
        Reason::Escalated { stage } => vec![
            ("challan", number),
            ("psid", psid),
            ("stage", texts.word_en(stage)),
            ("stage_ur", texts.word_ur(stage)),
        ],
        Reason::Paid => vec![
            ("challan", number),
            ("paid_amount", rupees(paisa("amount").unwrap_or(c.amount))),
            (
                "receipt",
                payload
                    .get("receipt")
                    .and_then(|v| v.as_str())
                    .unwrap_or("-")
                    .to_string(),
            ),
        ],
        Reason::AppealCode { .. } => {
            return Err(StoreError::Corrupt(
                "an appeal code message is written by ops::appeal_proof, never derived".into(),
            ))
        }
        Reason::AppealDecided { .. } => {
            let outcome = payload
                .get("outcome")
                .and_then(|v| v.as_str())
                .unwrap_or("decided")
                .to_string();
            vec![
                ("challan", number),
                ("psid", psid),
                ("outcome", texts.word_en(&outcome)),
                ("outcome_ur", texts.word_ur(&outcome)),
                ("amount", rupees(paisa("amount_due").unwrap_or(due_today))),
            ]
        }
    };
    texts
        .render_in(reason, &vars, lang)
        .map_err(|e| StoreError::Corrupt(format!("message texts: {e}")))
}

/// Queues the message for `reason` to each channel the challan's recipient has; returns how many
/// were new.
#[allow(clippy::too_many_arguments)]
fn enqueue(
    tx: &mut dyn Tx,
    texts: &Texts,
    c: &Challan,
    to: Option<Recipient>,
    reason: &Reason,
    payload: &serde_json::Value,
    event_seq: Option<i64>,
    now: OffsetDateTime,
) -> Result<usize, StoreError> {
    let number = c.number.to_string();
    let Some(to) = to else {
        return Ok(0);
    };
    let mut targets = Vec::new();
    if let Some(m) = to.mobile {
        targets.push((Channel::Sms, m));
    }
    if let Some(e) = to.email {
        targets.push((Channel::Email, e));
    }
    if targets.is_empty() {
        return Ok(0);
    }
    let lang = language(tx, &number)?;
    let body = render(tx, texts, c, reason, payload, karachi_date(now), lang)?;
    let mut added = 0;
    for (channel, address) in targets {
        added += tx.exec(
            "INSERT INTO notifications (key, challan_number, reason, channel, recipient, body,
                 event_seq, created_at, status, attempts, next_attempt_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $8)
             ON CONFLICT (key) DO NOTHING",
            params![
                message_key(&number, reason, channel),
                number.as_str(),
                reason.as_key(),
                channel.as_str(),
                address,
                body.as_str(),
                event_seq,
                to_micros(now)
            ],
        )? as usize;
    }
    Ok(added)
}

/// Turns `events` (read after `from`) into messages and moves the cursor to `to`, unless another
/// node moved it first (`None`: nothing written). Every challan the events concern must already
/// have a recipient row.
pub fn derive(
    tx: &mut dyn Tx,
    texts: &Texts,
    from: i64,
    to: i64,
    events: &[EventRecord],
    now: OffsetDateTime,
) -> Result<Option<usize>, StoreError> {
    let moved = tx.exec(
        "UPDATE notify_cursors SET seq = $1 WHERE name = 'events' AND seq = $2",
        params![to, from],
    )?;
    if moved == 0 {
        return Ok(None);
    }
    // The challans the events are about and their recipients, two statements for the page
    // instead of two per challan: by the events' subjects, which is where a challan's own events
    // name it. An event that names its challan only in its payload (a payment's, whose subject
    // is the attempt) is looked up on its own below.
    let mut challans_of: HashMap<String, Challan> = HashMap::new();
    for r in tx.query(
        &format!(
            "SELECT {} FROM challans WHERE number IN
               (SELECT subject FROM events WHERE seq > $1 AND seq <= $2)",
            challans::COLS
        ),
        params![from, to],
    )? {
        let c = challans::row(&r)?;
        challans_of.insert(c.number.to_string(), c);
    }
    let mut recipients: HashMap<String, Recipient> = HashMap::new();
    for r in tx.query(
        "SELECT challan_number, source, mobile, email, owner_name, owner_cnic
         FROM notify_recipients WHERE challan_number IN
           (SELECT subject FROM events WHERE seq > $1 AND seq <= $2)",
        params![from, to],
    )? {
        recipients.insert(r.text(0)?, recipient_row(&r, 1)?);
    }
    let mut added = 0;
    for e in events.iter().filter(|e| e.seq > from && e.seq <= to) {
        if from_micros(e.at_micros) < now - notify::STALE_AFTER {
            continue;
        }
        let (Some(reason), Some(number)) = (reason_of(e), challan_of(e)) else {
            continue;
        };
        let key = number.to_string();
        let c = match challans_of.get(&key) {
            Some(c) => c.clone(),
            None => match challans::by_number(tx, &number)? {
                Some(c) => c,
                None => continue,
            },
        };
        let to = match recipients.get(&key) {
            Some(r) => Some(r.clone()),
            None => recipient(tx, &key)?,
        };
        let payload: serde_json::Value = serde_json::from_str(&e.payload).unwrap_or_default();
        added += enqueue(tx, texts, &c, to, &reason, &payload, Some(e.seq), now)?;
    }
    Ok(Some(added))
}

/// Unpaid challans whose surcharge starts within the reminder window on `today` and that have no
/// reminder yet, leaving out those known to have nobody to send to.
pub fn reminders_pending(
    tx: &mut dyn Tx,
    today: Date,
    limit: i64,
) -> Result<Vec<ChallanNumber>, StoreError> {
    // The surcharge starts the day after the due date: due dates from today to today + 2. (A
    // challan whose appeal moved its surcharge date is checked against its own terms by
    // `enqueue_reminders`; one moved outside this window gets no reminder.)
    let last = today + Duration::days(notify::REMINDER_DAYS - 1);
    tx.query(
        "SELECT c.number FROM challans c
         WHERE c.status = 'unpaid' AND c.due_date >= $1 AND c.due_date <= $2
           AND NOT EXISTS (SELECT 1 FROM notifications n
                           WHERE n.challan_number = c.number AND n.reason = 'reminder')
           AND NOT EXISTS (SELECT 1 FROM notify_recipients r
                           WHERE r.challan_number = c.number
                             AND r.mobile IS NULL AND r.email IS NULL)
         ORDER BY c.due_date, c.number LIMIT $3",
        params![today.to_string(), last.to_string(), limit],
    )?
    .iter()
    .map(|r| Ok(ChallanNumber::parse(&r.text(0)?)?))
    .collect()
}

/// Queues the reminder for each challan still unpaid and inside its window.
pub fn enqueue_reminders(
    tx: &mut dyn Tx,
    texts: &Texts,
    numbers: &[ChallanNumber],
    now: OffsetDateTime,
) -> Result<usize, StoreError> {
    let today = karachi_date(now);
    let mut added = 0;
    for n in numbers {
        let Some(c) = challans::by_number(tx, n)? else {
            continue;
        };
        let due = surcharge_from(&c).is_some_and(|from| notify::reminder_due(from, today));
        if c.status != ChallanStatus::Unpaid || !due {
            continue;
        }
        let to = recipient(tx, &n.to_string())?;
        added += enqueue(
            tx,
            texts,
            &c,
            to,
            &Reason::Reminder,
            &serde_json::Value::Null,
            None,
            now,
        )?;
    }
    Ok(added)
}

/// One message in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub id: i64,
    pub key: String,
    pub challan_number: String,
    pub reason: String,
    pub channel: Channel,
    /// In full: mask it before showing it anywhere but to the provider.
    pub recipient: String,
    pub body: String,
    pub status: String,
    pub attempts: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub next_attempt_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
    pub provider_ref: Option<String>,
}

const COLS: &str = "id, key, challan_number, reason, channel, recipient, body, status, attempts, \
    created_at, next_attempt_at, sent_at, provider_ref";

fn message(r: &Row) -> Result<Message, StoreError> {
    let channel = r.text(4)?;
    Ok(Message {
        id: r.i64(0)?,
        key: r.text(1)?,
        challan_number: r.text(2)?,
        reason: r.text(3)?,
        channel: Channel::parse(&channel)
            .ok_or_else(|| StoreError::Corrupt(format!("channel {channel}")))?,
        recipient: r.text(5)?,
        body: r.text(6)?,
        status: r.text(7)?,
        attempts: r.i64(8)?,
        created_at: from_micros(r.i64(9)?),
        next_attempt_at: from_micros(r.i64(10)?),
        sent_at: r.opt_i64(11)?.map(from_micros),
        provider_ref: r.opt_text(12)?,
    })
}

/// Leases up to `limit` messages that are due to `node` until `now + lease`. Runs in the writer,
/// which on PostgreSQL holds the chain-head lock, so two nodes' claims never overlap.
pub fn claim(
    tx: &mut dyn Tx,
    node: &str,
    now: OffsetDateTime,
    lease: Duration,
    limit: i64,
) -> Result<Vec<Message>, StoreError> {
    let now_us = to_micros(now);
    tx.query(
        &format!(
            "UPDATE notifications SET lease_owner = $1, lease_until = $2
             WHERE id IN (SELECT id FROM notifications
                          WHERE status = 'pending' AND next_attempt_at <= $3
                            AND (lease_until IS NULL OR lease_until <= $3)
                          ORDER BY next_attempt_at, id LIMIT $4)
             RETURNING {COLS}"
        ),
        params![node, to_micros(now + lease), now_us, limit],
    )?
    .iter()
    .map(message)
    .collect()
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The provider accepted it, with its reference.
    Sent(String),
    /// It may succeed later (network, 5xx, throttled).
    Retry(String),
    /// It never will (refused as invalid).
    Failed(String),
}

/// Records an attempt and projects the message's status from it: sent; pending again after a
/// back-off; or failed for good after too many tries.
pub fn record_attempt(
    tx: &mut dyn Tx,
    id: i64,
    node: &str,
    started: OffsetDateTime,
    finished: OffsetDateTime,
    outcome: &Outcome,
) -> Result<Message, StoreError> {
    let m = tx
        .query_opt(
            &format!("SELECT {COLS} FROM notifications WHERE id = $1"),
            params![id],
        )?
        .map(|r| message(&r))
        .transpose()?
        .ok_or_else(|| StoreError::NotFound(format!("notification {id}")))?;
    let n = m.attempts + 1;
    let (label, detail) = match outcome {
        Outcome::Sent(r) => ("sent", r.as_str()),
        Outcome::Retry(d) => ("retry", d.as_str()),
        Outcome::Failed(d) => ("failed", d.as_str()),
    };
    tx.exec(
        "INSERT INTO notification_attempts (notification_id, attempt, node, started_at,
             finished_at, outcome, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        params![
            id,
            n,
            node,
            to_micros(started),
            to_micros(finished),
            label,
            detail
        ],
    )?;
    let tries = u32::try_from(n).unwrap_or(u32::MAX);
    let (status, next, sent_at, reference) = match outcome {
        _ if m.status == "sent" => ("sent", m.next_attempt_at, m.sent_at, m.provider_ref),
        Outcome::Sent(r) => ("sent", finished, Some(finished), Some(r.clone())),
        Outcome::Retry(_) if tries < notify::MAX_ATTEMPTS => {
            ("pending", finished + notify::backoff(tries), None, None)
        }
        Outcome::Retry(_) | Outcome::Failed(_) => ("failed", finished, None, None),
    };
    tx.exec(
        "UPDATE notifications SET status = $1, attempts = $2, next_attempt_at = $3,
             sent_at = $4, provider_ref = $5, lease_owner = NULL, lease_until = NULL
         WHERE id = $6",
        params![
            status,
            n,
            to_micros(next),
            sent_at.map(to_micros),
            reference,
            id
        ],
    )?;
    tx.query_one(
        &format!("SELECT {COLS} FROM notifications WHERE id = $1"),
        params![id],
    )
    .and_then(|r| message(&r))
}

/// What `efine outbox list` asks for.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<String>,
    pub challan: Option<String>,
    pub reason: Option<String>,
    pub limit: i64,
}

/// Messages, newest first.
pub fn list(tx: &mut dyn Tx, f: &Filter) -> Result<Vec<Message>, StoreError> {
    tx.query(
        &format!(
            "SELECT {COLS} FROM notifications
             WHERE (CAST($1 AS TEXT) IS NULL OR status = $1)
               AND (CAST($2 AS TEXT) IS NULL OR challan_number = $2)
               AND (CAST($3 AS TEXT) IS NULL OR reason = $3 OR reason LIKE $3 || ':%')
             ORDER BY id DESC LIMIT $4"
        ),
        params![
            f.status.clone(),
            f.challan.clone(),
            f.reason.clone(),
            if f.limit > 0 { f.limit } else { 50 }
        ],
    )?
    .iter()
    .map(message)
    .collect()
}

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttemptRecord {
    pub attempt: i64,
    pub node: String,
    #[serde(with = "time::serde::rfc3339")]
    pub finished_at: OffsetDateTime,
    pub outcome: String,
    pub detail: String,
}

pub fn attempts(tx: &mut dyn Tx, id: i64) -> Result<Vec<AttemptRecord>, StoreError> {
    tx.query(
        "SELECT attempt, node, finished_at, outcome, detail FROM notification_attempts
         WHERE notification_id = $1 ORDER BY attempt",
        params![id],
    )?
    .iter()
    .map(|r| {
        Ok(AttemptRecord {
            attempt: r.i64(0)?,
            node: r.text(1)?,
            finished_at: from_micros(r.i64(2)?),
            outcome: r.text(3)?,
            detail: r.text(4)?,
        })
    })
    .collect()
}

/// Messages waiting to be sent (`pending`, retries included) and messages given up (`failed`),
/// counted on the `(status, next_attempt_at)` index: the outbox's backlog for `/metrics`.
pub fn backlog(tx: &mut dyn Tx) -> Result<(i64, i64), StoreError> {
    let r = tx.query_one(
        "SELECT (SELECT COUNT(*) FROM notifications WHERE status = 'pending'),
                (SELECT COUNT(*) FROM notifications WHERE status = 'failed')",
        &[],
    )?;
    Ok((r.i64(0)?, r.i64(1)?))
}
