//! Notifications: the background work that turns the event log into SMS and e-mail messages for
//! the people a challan concerns, and delivers them.
//!
//! Each round (`Notifier::run`, every few seconds in `efine serve` under the job runner) does
//! three things, each safe with several nodes on one database:
//! 1. derive: reads events after the outbox cursor, finds each challan's recipient (the mobile on
//!    the challan, else the vehicle's registered owner from the registry, looked up outside any
//!    transaction and recorded once), then enqueues messages and advances the cursor in one
//!    transaction, compare-and-set;
//! 2. remind: queues the "3 days before the surcharge" reminder for unpaid challans in their
//!    window (a scan by date, not an event);
//! 3. deliver: leases due messages to this node, sends each through the provider and records the
//!    attempt; a failure waits with exponential back-off before the next try.
//!
//! Message keys are unique per (challan, reason, channel), so no message is ever queued twice;
//! leases mean no two nodes hold one message at once. Recipients are never logged.

pub mod provider;
pub mod registry;

use crate::jobs::Jobs;
use efine_core::clock::karachi_date;
use efine_core::notify::{Texts, TextsFile};
use efine_core::ChallanNumber;
use efine_store::ops::{challans, events, notify as outbox};
use efine_store::{Store, StoreError};
use provider::{Outgoing, Provider, SendError};
use registry::Registry;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Parses and checks a texts file (TOML).
pub fn parse_texts(text: &str) -> Result<Texts, String> {
    let file: TextsFile = toml::from_str(text).map_err(|e| e.to_string())?;
    Texts::check(file).map_err(|e| e.0)
}

#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// How long a node holds a message it is sending.
    pub lease: time::Duration,
    /// Events read, and messages leased, per round.
    pub batch: i64,
    /// Time between rounds in `efine serve`.
    pub every: std::time::Duration,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            lease: time::Duration::minutes(5),
            batch: 200,
            every: std::time::Duration::from_secs(5),
        }
    }
}

/// What one round did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Round {
    pub queued: usize,
    pub reminders: usize,
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

pub struct Notifier {
    store: Store,
    texts: Arc<Texts>,
    registry: Arc<dyn Registry>,
    provider: Arc<dyn Provider>,
    node: String,
    config: NotifyConfig,
    metrics: Arc<crate::metrics::Metrics>,
}

impl Notifier {
    pub fn new(
        store: Store,
        texts: Texts,
        registry: Arc<dyn Registry>,
        provider: Arc<dyn Provider>,
        node: String,
        config: NotifyConfig,
    ) -> Notifier {
        Notifier {
            store,
            texts: Arc::new(texts),
            registry,
            provider,
            node,
            config,
            metrics: Arc::default(),
        }
    }

    /// Counts failed deliveries into `metrics` (the server's, shown at `/metrics`).
    pub fn with_metrics(mut self, metrics: Arc<crate::metrics::Metrics>) -> Notifier {
        self.metrics = metrics;
        self
    }

    /// The shipped texts, the registry sandbox and the recording sandbox provider.
    pub fn sandbox(store: Store) -> (Notifier, provider::SandboxProvider) {
        let p = provider::SandboxProvider::default();
        let texts = parse_texts(efine_core::notify::DEFAULT_TEXTS).expect("shipped texts");
        let n = Notifier::new(
            store,
            texts,
            Arc::new(registry::SandboxRegistry::shipped()),
            Arc::new(p.clone()),
            node_name(),
            NotifyConfig::default(),
        );
        (n, p)
    }

    /// The checked message texts this worker renders with (the appeal codes use them too).
    pub fn texts(&self) -> Arc<Texts> {
        self.texts.clone()
    }

    pub fn node(&self) -> &str {
        &self.node
    }

    pub fn provider_name(&self) -> &'static str {
        self.provider.name()
    }

    /// Derives, reminds and delivers once.
    pub async fn run_once(&self) -> Result<Round, StoreError> {
        self.run(&CancellationToken::new()).await
    }

    /// A round that, once `stop` is cancelled, starts no further batch and sends no further
    /// message. What it did is committed: events turned into messages up to the cursor it
    /// advanced, attempts recorded for every message it sent. Messages it had leased but not
    /// sent wait for their lease to run out, as after a crash, and are sent then.
    pub async fn run(&self, stop: &CancellationToken) -> Result<Round, StoreError> {
        let mut round = Round::default();
        while !stop.is_cancelled() {
            let (queued, more) = self.derive(stop).await?;
            round.queued += queued;
            if !more {
                break;
            }
        }
        if stop.is_cancelled() {
            return Ok(round);
        }
        round.reminders = self.remind(stop).await?;
        while !stop.is_cancelled() {
            let (sent, retrying, failed, claimed) = self.deliver(stop).await?;
            round.sent += sent;
            round.retrying += retrying;
            round.failed += failed;
            if claimed < self.config.batch as usize {
                break;
            }
        }
        Ok(round)
    }

    /// Finds (and records) the recipient of each challan not yet known. A registry failure, or
    /// `stop` before a registry lookup, stops at that challan: the caller goes no further than
    /// the events before it.
    async fn resolve(
        &self,
        numbers: Vec<ChallanNumber>,
        stop: &CancellationToken,
    ) -> Result<Option<ChallanNumber>, StoreError> {
        let mut found = BTreeMap::new();
        let mut blocked = None;
        // One read for the whole page: the challans whose recipient is not recorded yet.
        let unknown = self
            .store
            .read(move |tx| {
                let mut out: Vec<(ChallanNumber, Option<efine_core::challan::Challan>)> =
                    Vec::new();
                for n in numbers {
                    if out.iter().any(|(m, _)| *m == n)
                        || outbox::recipient(tx, &n.to_string())?.is_some()
                    {
                        continue;
                    }
                    let c = challans::by_number(tx, &n)?;
                    out.push((n, c));
                }
                Ok(out)
            })
            .await?;
        for (n, c) in unknown {
            let key = n.to_string();
            let Some(c) = c else {
                continue;
            };
            let r = if let Some(m) = &c.mobile {
                outbox::Recipient {
                    source: "challan".into(),
                    mobile: Some(m.e164().to_string()),
                    ..outbox::Recipient::nobody()
                }
            } else if let Some(plate) = &c.vehicle {
                if stop.is_cancelled() {
                    blocked = Some(n);
                    break;
                }
                match self.registry.owner(plate).await {
                    Ok(Some(o)) => outbox::Recipient {
                        source: "registry".into(),
                        mobile: o.mobile.map(|m| m.e164().to_string()),
                        email: o.email,
                        owner_name: Some(o.name),
                        owner_cnic: o.cnic.map(|c| c.digits().to_string()),
                    },
                    Ok(None) => outbox::Recipient::nobody(),
                    Err(e) => {
                        tracing::warn!(challan = %key, error = %e, "owner lookup failed; will retry");
                        blocked = Some(n);
                        break;
                    }
                }
            } else {
                outbox::Recipient::nobody()
            };
            found.insert(key, r);
        }
        if !found.is_empty() {
            let now = self.store.now();
            self.store
                .write(move |tx| {
                    let found: Vec<_> = found.into_iter().collect();
                    outbox::add_recipients(tx, &found, now)
                })
                .await?;
        }
        Ok(blocked)
    }

    /// Turns the next batch of events into messages: (messages queued, whether more may follow).
    pub async fn derive_once(&self) -> Result<(usize, bool), StoreError> {
        self.derive(&CancellationToken::new()).await
    }

    async fn derive(&self, stop: &CancellationToken) -> Result<(usize, bool), StoreError> {
        let batch = self.config.batch;
        let (from, page) = self
            .store
            .read(move |tx| {
                let from = outbox::cursor(tx)?;
                Ok((from, events::page(tx, from, batch)?))
            })
            .await?;
        let Some(last) = page.last().map(|e| e.seq) else {
            return Ok((0, false));
        };
        // Stale events give no message (see `outbox::derive`): no owner to look up for them.
        let fresh_from = self.store.now() - efine_core::notify::STALE_AFTER;
        let numbers: Vec<_> = page
            .iter()
            .filter(|e| efine_core::clock::from_micros(e.at_micros) >= fresh_from)
            .filter_map(outbox::challan_of)
            .collect();
        let mut to = last;
        if let Some(blocked) = self.resolve(numbers, stop).await? {
            // Stop before the first event about the challan whose owner could not be found.
            let first = page
                .iter()
                .find(|e| outbox::challan_of(e).as_ref() == Some(&blocked))
                .map(|e| e.seq)
                .unwrap_or(from + 1);
            to = first - 1;
            if to <= from {
                return Ok((0, false));
            }
        }
        let texts = self.texts.clone();
        let now = self.store.now();
        let full = page.len() as i64 == batch && to == last;
        let queued = self
            .store
            .write(move |tx| outbox::derive(tx, &texts, from, to, &page, now))
            .await?;
        // None: another node took this batch; read again from where it left the cursor.
        Ok(match queued {
            Some(n) => (n, full),
            None => (0, true),
        })
    }

    /// Queues the reminders due today.
    pub async fn remind_once(&self) -> Result<usize, StoreError> {
        self.remind(&CancellationToken::new()).await
    }

    async fn remind(&self, stop: &CancellationToken) -> Result<usize, StoreError> {
        let today = karachi_date(self.store.now());
        let batch = self.config.batch;
        let mut total = 0;
        while !stop.is_cancelled() {
            let numbers = self
                .store
                .read(move |tx| outbox::reminders_pending(tx, today, batch))
                .await?;
            if numbers.is_empty() {
                break;
            }
            let blocked = self.resolve(numbers.clone(), stop).await?;
            let numbers: Vec<_> = match &blocked {
                Some(b) => numbers.into_iter().take_while(|n| n != b).collect(),
                None => numbers,
            };
            let full = numbers.len() as i64 == batch;
            let texts = self.texts.clone();
            let now = self.store.now();
            let added = self
                .store
                .write(move |tx| outbox::enqueue_reminders(tx, &texts, &numbers, now))
                .await?;
            total += added;
            if blocked.is_some() || !full || added == 0 {
                break;
            }
        }
        Ok(total)
    }

    /// Leases due messages and sends them: (sent, to retry, failed, leased).
    pub async fn deliver_once(&self) -> Result<(usize, usize, usize, usize), StoreError> {
        self.deliver(&CancellationToken::new()).await
    }

    /// Like `deliver_once`, sending nothing more once `stop` is cancelled.
    async fn deliver(
        &self,
        stop: &CancellationToken,
    ) -> Result<(usize, usize, usize, usize), StoreError> {
        let node = self.node.clone();
        let lease = self.config.lease;
        let batch = self.config.batch;
        let now = self.store.now();
        let claimed = self
            .store
            .write(move |tx| outbox::claim(tx, &node, now, lease, batch))
            .await?;
        let (mut sent, mut retrying, mut failed) = (0, 0, 0);
        let count = claimed.len();
        let mut recorded = Vec::with_capacity(count);
        for m in claimed {
            if stop.is_cancelled() {
                break;
            }
            let started = self.store.now();
            let out = Outgoing {
                to: m.recipient.clone(),
                channel: m.channel,
                text: m.body.clone(),
                reference: m.key.clone(),
            };
            let outcome = match self.provider.send(&out).await {
                Ok(r) => outbox::Outcome::Sent(r),
                Err(SendError::Temporary(e)) => outbox::Outcome::Retry(e),
                Err(SendError::Refused(e)) => outbox::Outcome::Failed(e),
            };
            let node = self.node.clone();
            let finished = self.store.now();
            let id = m.id;
            let error = match &outcome {
                outbox::Outcome::Retry(e) => Some(e.clone()),
                _ => None,
            };
            // Queued for the writer at once, awaited after the batch: the next message is sent
            // while this attempt commits, and the writer commits many attempts together.
            recorded.push((
                self.store.submit(move |tx| {
                    outbox::record_attempt(tx, id, &node, started, finished, &outcome)
                }),
                error,
            ));
        }
        for (rec, error) in recorded {
            let rec = rec.await?;
            match rec.status.as_str() {
                "sent" => sent += 1,
                "failed" => {
                    failed += 1;
                    self.metrics.delivery_failures.inc(&["given_up"]);
                    tracing::warn!(message = %rec.key, attempts = rec.attempts, "message given up");
                }
                _ => {
                    retrying += 1;
                    if error.is_some() {
                        self.metrics.delivery_failures.inc(&["retry"]);
                    }
                    if let Some(e) = error {
                        tracing::info!(message = %rec.key, attempts = rec.attempts, error = %e, "delivery will be retried");
                    }
                }
            }
        }
        Ok((sent, retrying, failed, count))
    }

    /// Runs a round at once and then every `every` of its configuration, under `jobs`, until
    /// shutdown.
    pub fn spawn(self: Arc<Self>, jobs: &Jobs) {
        let every = self.config.every;
        jobs.spawn_every("notifications", every, move |stop| {
            let n = self.clone();
            async move {
                let r = n.run(&stop).await?;
                if r != Round::default() {
                    tracing::info!(
                        queued = r.queued,
                        reminders = r.reminders,
                        sent = r.sent,
                        retrying = r.retrying,
                        failed = r.failed,
                        "notifications"
                    );
                }
                Ok::<_, StoreError>(())
            }
        });
    }
}

/// This process's name in leases and attempts: host, process id and a random part.
pub fn node_name() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "node".into());
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{host}-{}-{nanos:x}", std::process::id())
}
