//! SQLite backend: the embedded default. WAL with `synchronous=FULL`, so a committed batch
//! survives a power cut; one writer thread (group commit) and a small pool of read connections.

use crate::sql::{Dialect, Row, Seal, Tx, Value};
use crate::writer::WriterConn;
use crate::StoreError;
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::Connection;
use std::path::{Path, PathBuf};

/// Turns `$1` parameters into SQLite's numbered `?1` form. Only outside string literals.
fn translate(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut in_str = false;
    for c in sql.chars() {
        if c == '\'' {
            in_str = !in_str;
        }
        if c == '$' && !in_str {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

fn to_sql(v: &Value) -> SqlValue {
    match v {
        Value::Int(Some(i)) => SqlValue::Integer(*i),
        Value::Text(Some(s)) => SqlValue::Text(s.clone()),
        Value::Int(None) | Value::Text(None) => SqlValue::Null,
    }
}

fn from_sql(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Int(None),
        ValueRef::Integer(i) => Value::Int(Some(i)),
        ValueRef::Real(f) => Value::Text(Some(f.to_string())),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            Value::Text(Some(String::from_utf8_lossy(t).into_owned()))
        }
    }
}

impl Tx for Connection {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn run(&mut self, _: Seal, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let mut stmt = self.prepare_cached(&translate(sql))?;
        let n = stmt.execute(rusqlite::params_from_iter(params.iter().map(to_sql)))?;
        Ok(n as u64)
    }

    fn fetch(&mut self, _: Seal, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let mut stmt = self.prepare_cached(&translate(sql))?;
        let cols = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter().map(to_sql)))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut vals = Vec::with_capacity(cols);
            for i in 0..cols {
                vals.push(from_sql(r.get_ref(i)?));
            }
            out.push(Row(vals));
        }
        Ok(out)
    }
}

/// How long a statement waits for another connection's lock before the database is reported
/// unavailable.
pub(crate) const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

pub(crate) fn open(
    path: &Path,
    read_only: bool,
    busy_timeout: std::time::Duration,
) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(busy_timeout)?;
    conn.set_prepared_statement_cache_capacity(128);
    // WAL lets readers run beside the writer. Switching a new file to WAL needs an exclusive
    // lock, and SQLite answers "database is locked" at once, without the busy handler, while
    // another connection holds it (two processes opening a fresh file together): retry for as
    // long as the busy timeout would have waited.
    let deadline = std::time::Instant::now() + busy_timeout;
    loop {
        match conn.execute_batch("PRAGMA journal_mode = WAL;") {
            Ok(()) => break,
            Err(e)
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(e) => return Err(e.into()),
        }
    }
    // FULL syncs the WAL on every commit, which is what makes an acknowledged write durable.
    // The writer batches, so that is one fsync per batch. Temporary storage in memory: each
    // operation's savepoint keeps its sub-journal there instead of in a temporary file.
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;",
    )?;
    if read_only {
        conn.execute_batch("PRAGMA query_only = ON;")?;
    }
    Ok(conn)
}

pub(crate) struct SqliteWriter {
    path: PathBuf,
    busy_timeout: std::time::Duration,
    cache_mib: Option<u32>,
    conn: Connection,
}

impl SqliteWriter {
    pub(crate) fn new(
        path: &Path,
        busy_timeout: std::time::Duration,
        cache_mib: Option<u32>,
    ) -> Result<Self, StoreError> {
        Ok(SqliteWriter {
            path: path.to_path_buf(),
            busy_timeout,
            cache_mib,
            conn: open_writer(path, busy_timeout, cache_mib)?,
        })
    }
}

fn open_writer(
    path: &Path,
    busy_timeout: std::time::Duration,
    cache_mib: Option<u32>,
) -> Result<Connection, StoreError> {
    let conn = open(path, false, busy_timeout)?;
    if let Some(mib) = cache_mib {
        // A negative cache_size is in KiB. See `StoreOptions::sqlite_bulk_cache_mib`.
        conn.execute_batch(&format!(
            "PRAGMA cache_size = -{}; PRAGMA temp_store = FILE;",
            u64::from(mib) * 1024
        ))?;
    }
    Ok(conn)
}

impl WriterConn for SqliteWriter {
    fn tx(&mut self) -> &mut dyn Tx {
        &mut self.conn
    }
    fn begin(&mut self) -> Result<(), StoreError> {
        // IMMEDIATE takes the write lock now, so another process (a CLI command) waits here
        // rather than failing half-way through the batch.
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(())
    }
    fn commit(&mut self) -> Result<(), StoreError> {
        self.conn.execute_batch("COMMIT")?;
        Ok(())
    }
    fn rollback(&mut self) {
        let _ = self.conn.execute_batch("ROLLBACK");
    }
    fn reconnect(&mut self) -> Result<(), StoreError> {
        self.conn = open_writer(&self.path, self.busy_timeout, self.cache_mib)?;
        Ok(())
    }
    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        self.conn.execute_batch(sql)?;
        Ok(())
    }
}

/// Applies the SQLite migrations not yet applied, each in its own transaction.
pub(crate) fn migrate(conn: &mut Connection) -> Result<Vec<String>, StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )?;
    let mut applied = Vec::new();
    for m in crate::migrations::SQLITE {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let done: i64 = tx.query_row(
            "SELECT COUNT(*) FROM schema_migrations WHERE version = ?1",
            [m.version],
            |r| r.get(0),
        )?;
        if done == 0 {
            tx.execute_batch(m.sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, strftime('%s','now'))",
                rusqlite::params![m.version, m.name],
            )?;
            applied.push(m.name.to_string());
        }
        tx.commit()?;
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    #[test]
    fn translates_outside_literals() {
        assert_eq!(
            super::translate("SELECT '$1', x FROM t WHERE a = $1 AND b = $12"),
            "SELECT '$1', x FROM t WHERE a = ?1 AND b = ?12"
        );
    }
}
