//! The one seam between the operations and the two SQL backends.
//!
//! Operations are written once, as plain functions over `&mut dyn Tx`, in the SQL both SQLite and
//! PostgreSQL understand, with `$1`-style parameters. Every dialect difference is handled in the
//! backend's `Tx` implementation (parameter syntax, value conversion) or in its own migrations.
//! Columns are `BIGINT` or `TEXT`; instants are microseconds since the epoch; dates are
//! `YYYY-MM-DD` text; money is paisa in `BIGINT`.

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

/// The chain head (last event's sequence and hash) as the writer holds it during a batch. The
/// batch holds the chain-head lock (`BEGIN IMMEDIATE` on SQLite, `FOR UPDATE` on PostgreSQL), so
/// nobody else can move the head: appending an event updates this copy, and the writer writes it
/// back once, just before COMMIT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: String,
}

/// A connection inside a transaction (writes) or a plain connection (reads).
pub trait Tx {
    fn dialect(&self) -> Dialect;

    /// The writer's in-memory chain head, inside a write batch; `None` elsewhere.
    fn chain_head(&mut self) -> Option<&mut ChainHead> {
        None
    }
    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError>;
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError>;

    fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }
    fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row, StoreError> {
        self.query_opt(sql, params)?
            .ok_or_else(|| StoreError::Corrupt(format!("expected a row from: {sql}")))
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
            Ok(Err(e))
        }
    }
}

/// A write-batch transaction: the backend's connection plus the batch's chain head.
pub(crate) struct BatchTx<'a> {
    pub(crate) inner: &'a mut dyn Tx,
    pub(crate) head: &'a mut ChainHead,
}

impl Tx for BatchTx<'_> {
    fn dialect(&self) -> Dialect {
        self.inner.dialect()
    }
    fn chain_head(&mut self) -> Option<&mut ChainHead> {
        Some(self.head)
    }
    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        self.inner.exec(sql, params)
    }
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        self.inner.query(sql, params)
    }
}
