//! E-Fine persistence: the only crate with SQL.
//!
//! One `Store` API over two backends: SQLite (the embedded default, a file under the data
//! directory) and PostgreSQL (chosen by a `postgres://` URL). The operations in `ops` are written
//! once against the `sql::Tx` seam; each backend supplies a connection type, its own migrations
//! folder and a group-commit writer (`writer`). Every write that changes a record appends its
//! event to the hash-chained log in the same transaction (`ops::events::append`).
//!
//! The store owns its transactions: callers compose named operations inside `Store::write` or
//! `Store::read` and cannot run SQL themselves (`sql` explains how the compiler enforces it). The
//! writer holds the catalogue in force in memory (`writer`); idempotent writes go through
//! `ops::idempotency`.
//!
//! Depends on `efine-core` for the domain types; must not depend on HTTP or the web crate.

pub mod backup;
mod catalogue_cache;
pub mod catalogue_seed;
mod deferred;
pub mod error;
pub mod keys;
pub mod metrics;
mod migrations;
pub mod ops;
mod pool;
mod postgres;
pub mod sql;
mod sqlite;
mod writer;

pub use error::StoreError;
pub use ops::challans::NewChallan;
pub use ops::idempotency::{IdempotencyKey, SavedResponse};
#[cfg(feature = "testing")]
pub use sql::testing;

use efine_core::clock::Clock;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::Arc;
use time::OffsetDateTime;

/// The system clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// Which database to open.
#[derive(Debug, Clone)]
pub enum Location {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL URL and, for tests, a schema to work in (created if missing).
    Postgres { url: String, schema: Option<String> },
}

impl Location {
    /// A `postgres://` or `postgresql://` URL selects PostgreSQL; `sqlite://PATH` or a bare path,
    /// SQLite. Any other `scheme://` is refused rather than taken for a file name, so a URL meant
    /// for another database never quietly becomes an empty SQLite file.
    pub fn from_url(url: &str) -> Result<Location, UnsupportedUrl> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Location::Postgres {
                url: url.to_string(),
                schema: None,
            });
        }
        if let Some(path) = url.strip_prefix("sqlite://") {
            return Ok(Location::Sqlite(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = url.split_once("://") {
            let is_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
            if is_scheme {
                return Err(UnsupportedUrl {
                    scheme: scheme.to_string(),
                });
            }
        }
        Ok(Location::Sqlite(PathBuf::from(url)))
    }
}

/// A database URL whose scheme is neither PostgreSQL nor SQLite. Names only the scheme: the rest
/// of a URL may carry a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{scheme}://` is not a database E-Fine supports: use postgres://, postgresql://, \
     sqlite://PATH or a file path"
)]
pub struct UnsupportedUrl {
    pub scheme: String,
}

/// How patient the store is with its database. The defaults suit a server; tests shorten them.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// SQLite: how long a statement waits for another connection's lock before the database is
    /// reported unavailable (a 503 to the caller).
    pub sqlite_busy_timeout: std::time::Duration,
    /// PostgreSQL: how long a read waits for a pooled connection (or to make one) before the
    /// database is reported unavailable.
    pub pg_pool_timeout: std::time::Duration,
    /// PostgreSQL: the whole of making a connection (TCP connect, start-up, authentication). A
    /// server that cannot be reached, or accepts and never answers, is reported unavailable
    /// after this, naming host, port and database; at start-up that ends the command.
    pub pg_connect_timeout: std::time::Duration,
    /// PostgreSQL: the server cancels a statement that runs longer (`statement_timeout`).
    /// Migrations are exempt.
    pub pg_statement_timeout: std::time::Duration,
    /// PostgreSQL: the server gives up a wait for a row or table lock after this
    /// (`lock_timeout`), e.g. another node's write batch that never ends.
    pub pg_lock_timeout: std::time::Duration,
    /// SQLite: set the writer connection up for a bulk load (`efine import`), whose write jobs
    /// each run thousands of statements inside one savepoint, when set: this many MiB of page
    /// cache instead of SQLite's 2 MiB (its inserts touch index pages all over a large file),
    /// and statement journals that spill to a temporary file. In memory (`temp_store = MEMORY`,
    /// right for a server's small jobs) each statement's release walks the savepoint's whole
    /// sub-journal, which makes a large job quadratic. A server leaves it unset.
    pub sqlite_bulk_cache_mib: Option<u32>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            sqlite_busy_timeout: sqlite::BUSY_TIMEOUT,
            pg_pool_timeout: std::time::Duration::from_secs(30),
            pg_connect_timeout: std::time::Duration::from_secs(10),
            pg_statement_timeout: std::time::Duration::from_secs(60),
            pg_lock_timeout: std::time::Duration::from_secs(30),
            sqlite_bulk_cache_mib: None,
        }
    }
}

enum Readers {
    Sqlite(pool::Pool<rusqlite::Connection>),
    Postgres(r2d2::Pool<pool::PgManager>),
}

struct Inner {
    writer: mpsc::Sender<writer::Job>,
    readers: Readers,
    backend: &'static str,
    /// The writer's figures (queue depth, batch sizes, commit time) for `/metrics`.
    writer_metrics: Arc<metrics::WriterMetrics>,
}

/// The store: cheap to clone, shared by every request and background task.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
    clock: Arc<dyn Clock>,
}

impl Store {
    /// Opens the database, applies pending migrations and starts the writer.
    pub async fn open(location: Location) -> Result<Store, StoreError> {
        Store::open_with(location, StoreOptions::default()).await
    }

    /// `open` with other timeouts than the defaults.
    pub async fn open_with(location: Location, options: StoreOptions) -> Result<Store, StoreError> {
        tokio::task::spawn_blocking(move || Store::open_blocking(location, options))
            .await
            .map_err(|e| StoreError::Db(format!("open task failed: {e}")))?
    }

    fn open_blocking(location: Location, options: StoreOptions) -> Result<Store, StoreError> {
        let busy = options.sqlite_busy_timeout;
        let writer_metrics = Arc::new(metrics::WriterMetrics::default());
        let inner = match location {
            Location::Sqlite(path) => {
                if let Some(dir) = path.parent() {
                    if !dir.as_os_str().is_empty() {
                        std::fs::create_dir_all(dir).map_err(|e| {
                            StoreError::Db(format!("cannot create {}: {e}", dir.display()))
                        })?;
                    }
                }
                let mut conn = sqlite::open(&path, false, busy)?;
                sqlite::migrate(&mut conn)?;
                drop(conn);
                let writer = writer::spawn(
                    sqlite::SqliteWriter::new(&path, busy, options.sqlite_bulk_cache_mib)?,
                    "sqlite",
                    writer_metrics.clone(),
                );
                let mut conns = Vec::new();
                for _ in 0..4 {
                    conns.push(sqlite::open(&path, true, busy)?);
                }
                Inner {
                    writer,
                    readers: Readers::Sqlite(pool::Pool::new(conns)),
                    backend: "sqlite",
                    writer_metrics,
                }
            }
            Location::Postgres { url, schema } => {
                if let Some(s) = &schema {
                    if !s
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                    {
                        return Err(StoreError::Db(format!("bad schema name {s}")));
                    }
                    // Under the migration lock, committed before it is released: two concurrent
                    // `CREATE SCHEMA IF NOT EXISTS` can both miss the schema, and one then fails
                    // on a duplicate key. (The lock is the session's: closing the connection
                    // releases it too.)
                    let lock = postgres::MIGRATION_LOCK;
                    let mut plain = postgres::PgConfig::new(&url, None, &options)?.connect()?;
                    plain.batch(&format!(
                        "SET lock_timeout = 0; SELECT pg_advisory_lock({lock})"
                    ))?;
                    plain.batch(&format!("CREATE SCHEMA IF NOT EXISTS {s}"))?;
                    plain.batch(&format!("SELECT pg_advisory_unlock({lock})"))?;
                }
                let config = postgres::PgConfig::new(&url, schema.as_deref(), &options)?;
                let mut conn = config.connect()?;
                postgres::migrate(&mut conn)?;
                drop(conn);
                let writer = writer::spawn(
                    postgres::PgWriter::new(config.clone())?,
                    "postgres",
                    writer_metrics.clone(),
                );
                let readers = r2d2::Pool::builder()
                    .max_size(8)
                    .min_idle(Some(1))
                    .connection_timeout(options.pg_pool_timeout)
                    .build(pool::PgManager { config })
                    .map_err(|e| StoreError::Db(format!("PostgreSQL pool: {e}")))?;
                Inner {
                    writer,
                    readers: Readers::Postgres(readers),
                    backend: "postgres",
                    writer_metrics,
                }
            }
        };
        Ok(Store {
            inner: Arc::new(inner),
            clock: Arc::new(SystemClock),
        })
    }

    /// Replaces the clock (tests move time by hand).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Store {
        self.clock = clock;
        self
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    pub fn backend(&self) -> &'static str {
        self.inner.backend
    }

    /// The single writer's figures: queue depth, batch sizes, commit (fsync) time.
    pub fn writer_metrics(&self) -> &metrics::WriterMetrics {
        &self.inner.writer_metrics
    }

    /// How the read connections are used just now.
    pub fn pool_use(&self) -> metrics::PoolUse {
        match &self.inner.readers {
            Readers::Sqlite(p) => p.usage(),
            Readers::Postgres(p) => {
                let s = p.state();
                metrics::PoolUse {
                    max: p.max_size(),
                    open: s.connections,
                    idle: s.idle_connections,
                }
            }
        }
    }

    /// Runs `f` in the writer's next batch and answers once the batch has committed.
    pub async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn sql::Tx) -> Result<T, StoreError> + Send + 'static,
    {
        self.submit(f).await
    }

    /// Queues `f` for the writer now (operations run in the order they were submitted) and
    /// returns a future that resolves once its batch has committed.
    pub fn submit<T, F>(
        &self,
        f: F,
    ) -> impl std::future::Future<Output = Result<T, StoreError>> + Send + 'static
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn sql::Tx) -> Result<T, StoreError> + Send + 'static,
    {
        let (job, rx) = writer::job(f);
        self.inner.writer_metrics.submitted();
        let sent = self.inner.writer.send(job);
        if sent.is_err() {
            self.inner.writer_metrics.unsent();
        }
        async move {
            sent.map_err(|_| StoreError::Unavailable("the writer has stopped".into()))?;
            rx.await.map_err(|_| {
                StoreError::Unavailable("the writer stopped before answering".into())
            })?
        }
    }

    /// Runs `f` on a read connection.
    pub async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn sql::Tx) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || match &inner.readers {
            Readers::Sqlite(p) => {
                let mut c = p.get();
                f(&mut *c)
            }
            Readers::Postgres(p) => {
                let mut c = p.get().map_err(|e| {
                    StoreError::Unavailable(format!("no PostgreSQL connection: {e}"))
                })?;
                f(&mut *c)
            }
        })
        .await
        .map_err(|e| StoreError::Db(format!("read task failed: {e}")))?
    }

    /// Runs `f` inside one read-only snapshot: every statement it runs sees the database as it
    /// was at one instant, whatever commits meanwhile. `read` runs each statement on its own, so
    /// a check that reads a row and then its events can see the row from before a commit and the
    /// events from after it; an audit must not (it would report tampering that never happened).
    ///
    /// PostgreSQL: `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY` on one connection. SQLite:
    /// one deferred transaction on one connection; in WAL mode its snapshot is fixed by its first
    /// read, which is made at once so the snapshot is the one of the call. The snapshot is held
    /// until `f` returns, so a long run keeps old row versions (PostgreSQL) or WAL frames (SQLite)
    /// alive until then.
    pub async fn read_snapshot<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn sql::Tx) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || match &inner.readers {
            Readers::Sqlite(p) => {
                let mut c = p.get();
                c.execute_batch("BEGIN DEFERRED")?;
                let mut guard = EndSnapshot::new(&mut *c, |c: &mut rusqlite::Connection| {
                    let _ = c.execute_batch("ROLLBACK");
                });
                guard
                    .conn()
                    .query("SELECT seq FROM chain_head WHERE id = 1", &[])?;
                f(guard.conn())
            }
            Readers::Postgres(p) => {
                let mut c = p
                    .get()
                    .map_err(|e| StoreError::Db(format!("no PostgreSQL connection: {e}")))?;
                c.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
                let mut guard = EndSnapshot::new(&mut *c, |c: &mut postgres::PgConn| {
                    let _ = c.batch("ROLLBACK");
                });
                f(guard.conn())
            }
        })
        .await
        .map_err(|e| StoreError::Db(format!("read task failed: {e}")))?
    }
}

/// Ends a snapshot's transaction however its closure ends (an error or a panic included), so the
/// connection goes back to the pool outside any transaction. The snapshot only read: rolling back
/// is all there is to end.
struct EndSnapshot<'a, C, E: FnMut(&mut C)> {
    conn: &'a mut C,
    end: E,
}

impl<'a, C: sql::Tx, E: FnMut(&mut C)> EndSnapshot<'a, C, E> {
    fn new(conn: &'a mut C, end: E) -> Self {
        EndSnapshot { conn, end }
    }
    fn conn(&mut self) -> &mut dyn sql::Tx {
        &mut *self.conn
    }
}

impl<C, E: FnMut(&mut C)> Drop for EndSnapshot<'_, C, E> {
    fn drop(&mut self) {
        (self.end)(self.conn);
    }
}

#[cfg(test)]
mod location_tests {
    use super::*;

    #[test]
    fn database_urls_pick_a_backend_or_are_refused() {
        assert!(matches!(
            Location::from_url("postgres://u@h/db"),
            Ok(Location::Postgres { .. })
        ));
        assert!(matches!(
            Location::from_url("postgresql://u@h/db"),
            Ok(Location::Postgres { .. })
        ));
        match Location::from_url("sqlite:///var/lib/efine/efine.db") {
            Ok(Location::Sqlite(p)) => assert_eq!(p, PathBuf::from("/var/lib/efine/efine.db")),
            _ => panic!("sqlite:// is SQLite"),
        }
        match Location::from_url("data/efine.db") {
            Ok(Location::Sqlite(p)) => assert_eq!(p, PathBuf::from("data/efine.db")),
            _ => panic!("a bare path is SQLite"),
        }
        let e = Location::from_url("mysql://root:pw@db/efine").unwrap_err();
        assert_eq!(e.scheme, "mysql");
        assert!(!e.to_string().contains("pw"), "{e}");
    }
}
