//! The one seam between the operations and the two SQL backends.
//!
//! Operations are written once, as plain functions over `&mut dyn Tx`, in the SQL both SQLite and
//! PostgreSQL understand, with `$1`-style parameters. Every dialect difference is handled in the
//! backend's `Tx` implementation (parameter syntax, value conversion) or in its own migrations.
//! Columns are `BIGINT` or `TEXT`; instants are microseconds since the epoch; dates are
//! `YYYY-MM-DD` text; money is paisa in `BIGINT`.
//!
//! **SQL only in the store, by construction.** Callers outside this crate hold a `&mut dyn Tx`
//! (`Store::write(|tx| ...)`, `Store::read`, [`nested`]) and pass it to named operations
//! (`ops::*`), so they can compose several operations in one transaction; they cannot run SQL of
//! their own. `Tx`'s methods that reach the database take a [`Seal`] argument, a type that is
//! public but sits in a private module with a private field: outside the crate it can be neither
//! named nor built, so those methods cannot be called (nor `Tx` implemented) there. Inside the
//! crate, `impl dyn Tx` adds `pub(crate)` `exec`, `query`, `query_opt` and `query_one`, which
//! supply the seal. A trait method alone would not do: a supertrait's or a trait object's methods
//! are callable wherever the object is. Integration tests that must tamper with the database
//! enable the `testing` feature and import `efine_store::testing::RawSql`, which only test code
//! does (the feature is switched on by dev-dependencies only).
//!
//! ```compile_fail,E0624
//! // Outside the store, a transaction runs no SQL of its own: `exec` is private here.
//! async fn erase(store: efine_store::Store) {
//!     let _ = store.write(|tx| tx.exec("DELETE FROM challans", &[])).await;
//! }
//! ```

use crate::StoreError;
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(Some(v))
    }
}
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        Value::Int(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(Some(v.to_string()))
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(Some(v))
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(Some(v.clone()))
    }
}
impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        Value::Text(v)
    }
}
impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Self {
        Value::Text(v.map(str::to_string))
    }
}

/// Builds a parameter list: `params![a, b, c]`.
#[macro_export]
macro_rules! params {
    ($($v:expr),* $(,)?) => { &[$($crate::sql::Value::from($v)),*][..] };
}

/// One result row, columns by position.
#[derive(Debug, Clone)]
pub struct Row(pub Vec<Value>);

impl Row {
    fn col(&self, i: usize) -> Result<&Value, StoreError> {
        self.0
            .get(i)
            .ok_or_else(|| StoreError::Corrupt(format!("no column {i}")))
    }
    pub fn opt_i64(&self, i: usize) -> Result<Option<i64>, StoreError> {
        match self.col(i)? {
            Value::Int(v) => Ok(*v),
            Value::Text(None) => Ok(None),
            Value::Text(Some(s)) => s
                .parse()
                .map(Some)
                .map_err(|_| StoreError::Corrupt(format!("column {i} is not an integer"))),
        }
    }
    pub fn i64(&self, i: usize) -> Result<i64, StoreError> {
        self.opt_i64(i)?
            .ok_or_else(|| StoreError::Corrupt(format!("column {i} is null")))
    }
    pub fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.col(i)? {
            Value::Text(v) => Ok(v.clone()),
            Value::Int(None) => Ok(None),
            Value::Int(Some(n)) => Ok(Some(n.to_string())),
        }
    }
    pub fn text(&self, i: usize) -> Result<String, StoreError> {
        self.opt_text(i)?
            .ok_or_else(|| StoreError::Corrupt(format!("column {i} is null")))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

mod sealed {
    /// Proof that the caller is inside efine-store: nameable and constructible only here.
    pub struct Seal(pub(crate) ());

    /// What a write batch holds in memory while it runs (see `crate::writer`).
    pub struct Batch {
        pub(crate) head: super::ChainHead,
        /// The catalogue in force for this batch; `None` once an operation in the batch has
        /// changed it (the rest of the batch then reads the database).
        pub(crate) catalogue: Option<std::sync::Arc<crate::catalogue_cache::Current>>,
        /// Statistics tallied by this batch's operations, written just before COMMIT.
        pub(crate) stats: crate::ops::stats::Pending,
        /// Events, idempotency keys and counter values held back until just before COMMIT.
        pub(crate) deferred: crate::deferred::Deferred,
    }
}
pub(crate) use sealed::{Batch, Seal};

/// The chain head (last event's sequence and hash) as the writer holds it during a batch. The
/// batch holds the chain-head lock (`BEGIN IMMEDIATE` on SQLite, `FOR UPDATE` on PostgreSQL), so
/// nobody else can move the head: appending an event updates this copy, and the writer writes it
/// back once, just before COMMIT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChainHead {
    pub seq: i64,
    pub hash: String,
}

/// A connection inside a transaction (writes) or a plain connection (reads). Opaque outside the
/// store: see the module documentation.
pub trait Tx {
    fn dialect(&self) -> Dialect;

    #[doc(hidden)]
    fn run(&mut self, seal: Seal, sql: &str, params: &[Value]) -> Result<u64, StoreError>;
    #[doc(hidden)]
    fn fetch(&mut self, seal: Seal, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError>;
    /// The writer's in-memory batch state, inside a write batch; `None` elsewhere.
    #[doc(hidden)]
    fn batch(&mut self, _seal: Seal) -> Option<&mut Batch> {
        None
    }
    /// [`Tx::fetch`] without first writing the batch's held rows (see `crate::deferred`).
    #[doc(hidden)]
    fn fetch_stored(
        &mut self,
        seal: Seal,
        sql: &str,
        params: &[Value],
    ) -> Result<Vec<Row>, StoreError> {
        self.fetch(seal, sql, params)
    }
}

impl dyn Tx + '_ {
    pub(crate) fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        self.run(Seal(()), sql, params)
    }
    pub(crate) fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        self.fetch(Seal(()), sql, params)
    }
    pub(crate) fn query_opt(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }
    pub(crate) fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row, StoreError> {
        self.query_opt(sql, params)?
            .ok_or_else(|| StoreError::Corrupt(format!("expected a row from: {sql}")))
    }
    /// The writer's in-memory chain head, inside a write batch; `None` elsewhere.
    pub(crate) fn chain_head(&mut self) -> Option<&mut ChainHead> {
        self.batch(Seal(())).map(|b| &mut b.head)
    }
    pub(crate) fn batch_state(&mut self) -> Option<&mut Batch> {
        self.batch(Seal(()))
    }
    /// One row or none from what the database holds, leaving the rows a write batch holds back
    /// where they are: only for a caller that looks at those itself (`crate::deferred`).
    pub(crate) fn query_stored_opt(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> Result<Option<Row>, StoreError> {
        Ok(self.fetch_stored(Seal(()), sql, params)?.into_iter().next())
    }
}

/// Raw SQL for integration tests that tamper with the database behind the operations' back (the
/// audit tests) or count rows. Compiled only with the `testing` feature, which only
/// dev-dependencies switch on; a caller must also import the trait, so a use is plain to see.
#[cfg(feature = "testing")]
pub mod testing {
    use super::{Row, Seal, Tx, Value};
    use crate::StoreError;

    pub trait RawSql {
        fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError>;
        fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError>;
        fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, StoreError>;
        fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row, StoreError>;
    }

    impl RawSql for dyn Tx + '_ {
        fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
            self.run(Seal(()), sql, params)
        }
        fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
            self.fetch(Seal(()), sql, params)
        }
        fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, StoreError> {
            Ok(self.fetch(Seal(()), sql, params)?.into_iter().next())
        }
        fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row, StoreError> {
            self.query_opt(sql, params)?
                .ok_or_else(|| StoreError::Corrupt(format!("expected a row from: {sql}")))
        }
    }
}

/// Runs `f` inside a nested savepoint: if it fails, everything it wrote is rolled back and the
/// error is handed to the caller, whose own transaction goes on (e.g. to record why a rail's
/// message was refused).
pub fn nested<T>(
    tx: &mut dyn Tx,
    f: impl FnOnce(&mut dyn Tx) -> Result<T, StoreError>,
) -> Result<Result<T, StoreError>, StoreError> {
    let head = tx.chain_head().map(|h| h.clone());
    let stats = tx.batch_state().map(|b| b.stats.mark());
    let deferred = tx.batch_state().map(|b| b.deferred.mark());
    tx.exec("SAVEPOINT nested", &[])?;
    match f(tx) {
        Ok(v) => {
            tx.exec("RELEASE SAVEPOINT nested", &[])?;
            Ok(Ok(v))
        }
        Err(e) => {
            tx.exec("ROLLBACK TO SAVEPOINT nested", &[])?;
            tx.exec("RELEASE SAVEPOINT nested", &[])?;
            // The events rolled back with the savepoint: so does the head.
            if let (Some(saved), Some(h)) = (head, tx.chain_head()) {
                *h = saved;
            }
            if let (Some(saved), Some(b)) = (stats, tx.batch_state()) {
                b.stats.back_to(saved);
            }
            if let (Some(saved), Some(b)) = (deferred, tx.batch_state()) {
                b.deferred.back_to(saved);
            }
            Ok(Err(e))
        }
    }
}

/// A write-batch transaction: the backend's connection plus the batch's in-memory state. Every
/// statement goes past the batch's held rows first (`crate::deferred`), so it sees them.
pub(crate) struct BatchTx<'a> {
    pub(crate) inner: &'a mut dyn Tx,
    pub(crate) state: &'a mut Batch,
}

impl Tx for BatchTx<'_> {
    fn dialect(&self) -> Dialect {
        self.inner.dialect()
    }
    fn batch(&mut self, _seal: Seal) -> Option<&mut Batch> {
        Some(self.state)
    }
    fn run(&mut self, seal: Seal, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        self.state.deferred.before(self.inner, sql)?;
        self.inner.run(seal, sql, params)
    }
    fn fetch(&mut self, seal: Seal, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        self.state.deferred.before(self.inner, sql)?;
        self.inner.fetch(seal, sql, params)
    }
    fn fetch_stored(
        &mut self,
        seal: Seal,
        sql: &str,
        params: &[Value],
    ) -> Result<Vec<Row>, StoreError> {
        self.inner.fetch(seal, sql, params)
    }
}
