//! Group commit: one writer thread per process owns one connection and runs queued write
//! operations in batches, one database transaction (and so one fsync) per batch. Each operation
//! runs inside its own savepoint, so one that fails is rolled back alone and the rest commit.
//! A caller is answered only after the batch's COMMIT has returned: acknowledged means durable.
//!
//! The writer also keeps the catalogue (districts, departments, offences in force) in memory, so
//! issuing a challan reads none of it from the database. Every schedule change bumps a catalogue
//! version in `counters` in its own transaction; each batch reads that version together with the
//! chain head, under the batch's lock, and reloads the catalogue only when it moved. So a change
//! committed by another process sharing the database is in force from the next batch on, and no
//! batch can see an offence older than the one in force in its transaction.

use crate::catalogue_cache::Current;
use crate::metrics::WriterMetrics;
use crate::ops::catalogue;
use crate::params;
use crate::sql::{Batch, BatchTx, ChainHead, Tx};
use crate::StoreError;
use std::sync::{mpsc, Arc};

/// A backend connection the writer can drive.
pub trait WriterConn: Send + 'static {
    fn tx(&mut self) -> &mut dyn Tx;
    /// Starts a batch. PostgreSQL also takes the chain-head row lock here, first, so batches from
    /// several processes serialise in one order and never deadlock.
    fn begin(&mut self) -> Result<(), StoreError>;
    fn commit(&mut self) -> Result<(), StoreError>;
    fn rollback(&mut self);
    /// Replaces a broken connection; called after a failed batch.
    fn reconnect(&mut self) -> Result<(), StoreError>;
    /// True when the connection is known to be gone (the server closed it), so the next batch
    /// reconnects first instead of failing on it: after an outage, the first request once the
    /// database is back succeeds.
    fn is_broken(&self) -> bool {
        false
    }
    /// Runs several parameterless statements in one round trip (savepoint control).
    fn batch(&mut self, sql: &str) -> Result<(), StoreError>;
}

type Finish = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
pub(crate) type Job = Box<dyn FnOnce(&mut dyn Tx) -> (bool, Finish) + Send>;

const MAX_BATCH: usize = 512;

pub(crate) fn job<T, F>(f: F) -> (Job, tokio::sync::oneshot::Receiver<Result<T, StoreError>>)
where
    T: Send + 'static,
    F: FnOnce(&mut dyn Tx) -> Result<T, StoreError> + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move |conn: &mut dyn Tx| {
        let result = f(conn);
        let ok = result.is_ok();
        let finish: Finish = Box::new(move |commit: Result<(), StoreError>| {
            let answer = match (result, commit) {
                (Ok(v), Ok(())) => Ok(v),
                (Ok(_), Err(e)) => Err(e),
                (Err(e), _) => Err(e),
            };
            let _ = tx.send(answer);
        });
        (ok, finish)
    });
    (job, rx)
}

pub(crate) fn spawn<W: WriterConn>(
    conn: W,
    name: &str,
    metrics: Arc<WriterMetrics>,
) -> mpsc::Sender<Job> {
    let (tx, rx) = mpsc::channel::<Job>();
    let mut conn = Metered {
        conn,
        metrics: metrics.clone(),
    };
    std::thread::Builder::new()
        .name(format!("efine-writer-{name}"))
        .spawn(move || run(&mut conn, rx, &metrics))
        .expect("spawning the writer thread");
    tx
}

fn run<W: WriterConn>(conn: &mut W, rx: mpsc::Receiver<Job>, metrics: &WriterMetrics) {
    let mut catalogue = None;
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        metrics.batch(batch.len());
        run_batch(conn, batch, &mut catalogue);
    }
}

/// The catalogue as last loaded by this writer, with the catalogue version it was loaded at.
type CachedCatalogue = Option<(i64, Arc<Current>)>;

/// Reads the chain head and the catalogue version in one round trip, under the batch's lock, and
/// reloads the catalogue if the version moved (a change committed by any process). Nothing can
/// change the catalogue while the batch holds the lock, so what it finds here is in force for the
/// whole batch, except for changes the batch makes itself (see `ops::catalogue::bump_version`).
fn start(tx: &mut dyn Tx, cached: &mut CachedCatalogue) -> Result<Batch, StoreError> {
    let r = tx.query_one(
        "SELECT h.seq, h.hash,
                COALESCE((SELECT value FROM counters WHERE name = $1), 0)
         FROM chain_head h WHERE h.id = 1",
        params![catalogue::VERSION_COUNTER],
    )?;
    let version = r.i64(2)?;
    let current = match cached {
        Some((v, c)) if *v == version => c.clone(),
        _ => {
            let c = Arc::new(catalogue::load_current(tx)?);
            *cached = Some((version, c.clone()));
            c
        }
    };
    Ok(Batch {
        head: ChainHead {
            seq: r.i64(0)?,
            hash: r.text(1)?,
        },
        catalogue: Some(current),
        stats: Default::default(),
        deferred: Default::default(),
    })
}

fn run_batch<W: WriterConn>(conn: &mut W, batch: Vec<Job>, cached: &mut CachedCatalogue) {
    if conn.is_broken() {
        if let Err(e) = conn.reconnect() {
            tracing::warn!(error = %e, "writer cannot reconnect to the database");
            fail_all(batch, e.aborted_batch());
            return;
        }
    }
    let mut started = conn.begin().and_then(|_| start(conn.tx(), cached));
    if started.is_err() && conn.is_broken() {
        // The server dropped the session while it sat idle (a restart, a failover), which shows
        // only when it is used. Nothing has run yet: a fresh connection may take the batch.
        conn.rollback();
        started = conn
            .reconnect()
            .and_then(|_| conn.begin())
            .and_then(|_| start(conn.tx(), cached));
    }
    let mut state = match started {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "writer could not begin a transaction");
            conn.rollback();
            let _ = conn.reconnect();
            fail_all(batch, e.aborted_batch());
            return;
        }
    };
    let initial = state.head.clone();
    let mut finishes = Vec::with_capacity(batch.len());
    let mut open_savepoint = false;
    for job in batch {
        // One round trip between jobs: release the last savepoint and open the next together.
        let sql = if open_savepoint {
            "RELEASE SAVEPOINT op; SAVEPOINT op"
        } else {
            "SAVEPOINT op"
        };
        if let Err(e) = conn.batch(sql) {
            tracing::error!(error = %e, "savepoint failed; rolling back the batch");
            conn.rollback();
            let _ = conn.reconnect();
            let e = e.aborted_batch();
            finishes.push(fail_one(job, e.clone()));
            for f in finishes {
                f(Err(e.clone()));
            }
            return;
        }
        open_savepoint = true;
        let before = state.head.clone();
        let held = state.deferred.mark();
        let (ok, finish) = {
            let mut tx = BatchTx {
                inner: conn.tx(),
                state: &mut state,
            };
            job(&mut tx)
        };
        if ok {
            state.stats.keep();
        } else {
            state.head = before;
            state.stats.forget();
            state.deferred.back_to(held);
            if let Err(e) = conn.batch("ROLLBACK TO SAVEPOINT op; RELEASE SAVEPOINT op") {
                // The transaction is in an unknown state: abandon the whole batch.
                tracing::error!(error = %e, "savepoint rollback failed; rolling back the batch");
                conn.rollback();
                let _ = conn.reconnect();
                finish(Err(e.clone()));
                // The others did nothing wrong; their work went with the batch.
                let e = e.aborted_batch();
                for f in finishes {
                    f(Err(e.clone()));
                }
                return;
            }
            open_savepoint = false;
        }
        finishes.push(finish);
    }
    let mut commit = Ok(());
    if open_savepoint {
        commit = conn.batch("RELEASE SAVEPOINT op");
    }
    if commit.is_ok() {
        commit = state.deferred.write_all(conn.tx());
    }
    if commit.is_ok() {
        commit = state.stats.write(conn.tx());
    }
    let head = state.head;
    if commit.is_ok() && head != initial {
        commit = conn
            .tx()
            .exec(
                "UPDATE chain_head SET seq = $1, hash = $2 WHERE id = 1",
                params![head.seq, head.hash.clone()],
            )
            .map(|_| ());
    }
    if commit.is_ok() {
        commit = conn.commit();
    }
    if let Err(e) = &commit {
        tracing::error!(error = %e, "batch commit failed");
        conn.rollback();
        let _ = conn.reconnect();
    }
    for f in finishes {
        f(commit.clone());
    }
}

fn fail_one(job: Job, e: StoreError) -> Finish {
    Box::new(move |_| {
        // Never run: answer the caller with the error through a no-op transaction.
        let mut never = FailTx(e.clone());
        let (_, finish) = job(&mut never);
        finish(Err(e));
    })
}

fn fail_all(batch: Vec<Job>, e: StoreError) {
    for job in batch {
        fail_one(job, e.clone())(Err(e.clone()));
    }
}

/// A transaction that refuses everything with the batch's error: lets a job be answered with an
/// error without running against the database.
struct FailTx(StoreError);

impl Tx for FailTx {
    fn dialect(&self) -> crate::sql::Dialect {
        crate::sql::Dialect::Sqlite
    }
    fn run(
        &mut self,
        _: crate::sql::Seal,
        _: &str,
        _: &[crate::sql::Value],
    ) -> Result<u64, StoreError> {
        Err(self.0.clone())
    }
    fn fetch(
        &mut self,
        _: crate::sql::Seal,
        _: &str,
        _: &[crate::sql::Value],
    ) -> Result<Vec<crate::sql::Row>, StoreError> {
        Err(self.0.clone())
    }
}

/// A writer connection that times each COMMIT (the batch's fsync) into the writer's figures.
struct Metered<W> {
    conn: W,
    metrics: Arc<WriterMetrics>,
}

impl<W: WriterConn> WriterConn for Metered<W> {
    fn tx(&mut self) -> &mut dyn Tx {
        self.conn.tx()
    }
    fn begin(&mut self) -> Result<(), StoreError> {
        self.conn.begin()
    }
    fn commit(&mut self) -> Result<(), StoreError> {
        let started = std::time::Instant::now();
        let r = self.conn.commit();
        self.metrics.committed(started.elapsed(), r.is_ok());
        r
    }
    fn rollback(&mut self) {
        self.conn.rollback()
    }
    fn reconnect(&mut self) -> Result<(), StoreError> {
        self.conn.reconnect()
    }
    fn is_broken(&self) -> bool {
        self.conn.is_broken()
    }
    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        self.conn.batch(sql)
    }
}
