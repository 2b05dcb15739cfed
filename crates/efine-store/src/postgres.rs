//! PostgreSQL backend: for deployments that outgrow one machine. Several `efine serve`
//! processes may share one database: each has its own group-commit writer, and every batch takes
//! the chain-head row lock first, so batches from all processes serialise in one order.

use crate::sql::{Dialect, Row, Seal, Tx, Value};
use crate::writer::WriterConn;
use crate::StoreError;
use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls, Statement};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A client with its own prepared-statement cache (the sync client has none).
pub struct PgConn {
    /// Always `Some` until drop.
    client: Option<Client>,
    stmts: HashMap<String, Statement>,
}

impl Drop for PgConn {
    fn drop(&mut self) {
        // The sync client blocks on its own runtime when closed, which panics on an async
        // worker thread (where the last `Store` may be dropped): close it on a plain thread.
        if let Some(client) = self.client.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                let _ = std::thread::Builder::new()
                    .name("efine-pg-close".into())
                    .spawn(move || drop(client));
            } else {
                drop(client);
            }
        }
    }
}

#[derive(Clone)]
pub(crate) struct PgConfig {
    pub config: postgres::Config,
    /// The whole of making a connection (TCP, start-up, authentication) must end within this.
    connect_timeout: Duration,
}

/// Connection attempts that ran out of time and are still waiting for the server on their own
/// thread. The sync client cannot be cut off half-way through its start-up, so an attempt that
/// times out is left to finish (or fail) by itself; past a few of them, new attempts are refused
/// at once instead of piling up threads behind a server that accepts and never answers.
static STALLED: AtomicUsize = AtomicUsize::new(0);
const MAX_STALLED: usize = 8;

/// Counts a connection attempt's thread as stalled from its timeout until it ends. `settled` is
/// set by whichever of the two sides is first: the thread ending, or the caller giving up.
struct Attempt {
    settled: Arc<AtomicBool>,
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if self.settled.swap(true, Ordering::SeqCst) {
            // The caller gave up first and counted this thread.
            STALLED.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl PgConfig {
    pub(crate) fn new(
        url: &str,
        schema: Option<&str>,
        options: &crate::StoreOptions,
    ) -> Result<Self, StoreError> {
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Db(format!("bad PostgreSQL URL: {e}")))?;
        // Notices (e.g. "already exists, skipping") are not worth a log line each. The
        // timeouts are the server's: a statement or a lock wait that runs past them is cancelled
        // (57014 / 55P03) and reported as unavailable, so nothing waits for ever on another
        // node's lock or a runaway query.
        let mut settings = format!(
            "-c client_min_messages=warning -c statement_timeout={} -c lock_timeout={}",
            options.pg_statement_timeout.as_millis(),
            options.pg_lock_timeout.as_millis()
        );
        if let Some(s) = schema {
            settings.push_str(&format!(" -c search_path={s}"));
        }
        if let Some(existing) = config.get_options() {
            settings = format!("{existing} {settings}");
        }
        config.options(&settings);
        // A URL may name the application itself (an operator telling nodes apart).
        if config.get_application_name().is_none() {
            config.application_name("efine");
        }
        // The TCP connect alone; `connect` bounds the start-up that follows. Keepalives find a
        // peer that has gone away (a cut cable, a dead host) within about a minute, where the
        // system default is two hours.
        config.connect_timeout(options.pg_connect_timeout);
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(30));
        config.keepalives_interval(Duration::from_secs(10));
        config.keepalives_retries(3);
        Ok(PgConfig {
            config,
            connect_timeout: options.pg_connect_timeout,
        })
    }

    /// Where this connects, for messages: hosts, ports, database and user, never the password.
    pub(crate) fn describe(&self) -> String {
        let c = &self.config;
        let ports = c.get_ports();
        let hosts: Vec<String> = c
            .get_hosts()
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let port = ports
                    .get(i)
                    .or_else(|| ports.first())
                    .copied()
                    .unwrap_or(5432);
                match h {
                    postgres::config::Host::Tcp(name) => format!("{name}:{port}"),
                    postgres::config::Host::Unix(dir) => {
                        format!("{}/.s.PGSQL.{port}", dir.display())
                    }
                }
            })
            .collect();
        let hosts = if hosts.is_empty() {
            "localhost:5432".to_string()
        } else {
            hosts.join(", ")
        };
        let user = c.get_user().unwrap_or("(none)");
        let db = c.get_dbname().unwrap_or(user);
        format!("PostgreSQL at {hosts} (database {db}, user {user})")
    }

    /// Connects, or fails within the connect timeout saying where and why. The attempt runs on
    /// its own thread because the sync client's start-up (after the TCP connect) has no timeout
    /// of its own: a server that accepts the connection and never answers would hold it for ever.
    pub(crate) fn connect(&self) -> Result<PgConn, StoreError> {
        if STALLED.load(Ordering::SeqCst) >= MAX_STALLED {
            return Err(StoreError::Unavailable(format!(
                "{}: earlier connection attempts still have no answer",
                self.describe()
            )));
        }
        let config = self.config.clone();
        let settled = Arc::new(AtomicBool::new(false));
        let attempt = Attempt {
            settled: settled.clone(),
        };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("efine-pg-connect".into())
            .spawn(move || {
                let _attempt = attempt;
                // Once nobody waits, the receiver is gone and a late client is dropped here,
                // on a plain thread, which closes it.
                let _ = tx.send(config.connect(NoTls));
            })
            .map_err(|e| StoreError::Unavailable(format!("cannot start a connection: {e}")))?;
        match rx.recv_timeout(self.connect_timeout) {
            Ok(Ok(client)) => Ok(PgConn {
                client: Some(client),
                stmts: HashMap::new(),
            }),
            // Whatever stopped it (refused, unreachable, timed out, login refused), no session
            // exists and nothing was done: unavailable, with the cause.
            Ok(Err(e)) => Err(StoreError::Unavailable(format!(
                "{}: {}",
                self.describe(),
                match StoreError::from(e) {
                    StoreError::Unavailable(cause) | StoreError::Db(cause) => cause,
                    other => other.to_string(),
                }
            ))),
            Err(_) => {
                // Counted as stalled unless the thread finished in the meantime.
                STALLED.fetch_add(1, Ordering::SeqCst);
                if settled.swap(true, Ordering::SeqCst) {
                    STALLED.fetch_sub(1, Ordering::SeqCst);
                }
                Err(StoreError::Unavailable(format!(
                    "{}: no answer within {} (the connect timeout, `db_connect_timeout_seconds`)",
                    self.describe(),
                    seconds(self.connect_timeout)
                )))
            }
        }
    }
}

fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

impl PgConn {
    fn client(&mut self) -> &mut Client {
        self.client.as_mut().expect("client present until drop")
    }

    fn statement(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(s) = self.stmts.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client().prepare(sql)?;
        if self.stmts.len() > 256 {
            self.stmts.clear();
        }
        self.stmts.insert(sql.to_string(), s.clone());
        Ok(s)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.client.as_ref().is_none_or(|c| c.is_closed())
    }

    pub(crate) fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        self.client().batch_execute(sql)?;
        Ok(())
    }
}

fn to_sql(v: &Value) -> Box<dyn ToSql + Sync + '_> {
    match v {
        Value::Int(i) => Box::new(*i),
        Value::Text(s) => Box::new(s.as_deref()),
    }
}

fn row_values(r: &postgres::Row) -> Result<Row, StoreError> {
    let mut vals = Vec::with_capacity(r.len());
    for (i, col) in r.columns().iter().enumerate() {
        let t = col.type_();
        let v = if *t == Type::INT8 {
            Value::Int(r.try_get::<_, Option<i64>>(i)?)
        } else if *t == Type::INT4 {
            Value::Int(r.try_get::<_, Option<i32>>(i)?.map(i64::from))
        } else if *t == Type::INT2 {
            Value::Int(r.try_get::<_, Option<i16>>(i)?.map(i64::from))
        } else if *t == Type::BOOL {
            Value::Int(r.try_get::<_, Option<bool>>(i)?.map(i64::from))
        } else if *t == Type::TEXT || *t == Type::VARCHAR || *t == Type::NAME || *t == Type::BPCHAR
        {
            Value::Text(r.try_get::<_, Option<String>>(i)?)
        } else {
            return Err(StoreError::Db(format!(
                "column {} has type {t}, which the store does not map (cast it to BIGINT or TEXT)",
                col.name()
            )));
        };
        vals.push(v);
    }
    Ok(Row(vals))
}

impl Tx for PgConn {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn run(&mut self, _: Seal, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let head = sql.trim_start().to_ascii_uppercase();
        if params.is_empty()
            && (head.starts_with("SAVEPOINT")
                || head.starts_with("RELEASE")
                || head.starts_with("ROLLBACK"))
        {
            // Savepoint control cannot be prepared, and returns no row count.
            self.client().batch_execute(sql)?;
            return Ok(0);
        }
        let stmt = self.statement(sql)?;
        let boxed: Vec<Box<dyn ToSql + Sync + '_>> = params.iter().map(to_sql).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = boxed.iter().map(|b| b.as_ref()).collect();
        Ok(self.client().execute(&stmt, &refs)?)
    }

    fn fetch(&mut self, _: Seal, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let stmt = self.statement(sql)?;
        let boxed: Vec<Box<dyn ToSql + Sync + '_>> = params.iter().map(to_sql).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = boxed.iter().map(|b| b.as_ref()).collect();
        let rows = self.client().query(&stmt, &refs)?;
        rows.iter().map(row_values).collect()
    }
}

pub(crate) struct PgWriter {
    config: PgConfig,
    conn: PgConn,
}

impl PgWriter {
    pub(crate) fn new(config: PgConfig) -> Result<Self, StoreError> {
        let conn = config.connect()?;
        Ok(PgWriter { config, conn })
    }
}

impl WriterConn for PgWriter {
    fn tx(&mut self) -> &mut dyn Tx {
        &mut self.conn
    }
    fn begin(&mut self) -> Result<(), StoreError> {
        self.conn
            .batch("BEGIN; SELECT seq FROM chain_head WHERE id = 1 FOR UPDATE;")
    }
    fn commit(&mut self) -> Result<(), StoreError> {
        self.conn.batch("COMMIT")
    }
    fn rollback(&mut self) {
        let _ = self.conn.batch("ROLLBACK");
    }
    fn reconnect(&mut self) -> Result<(), StoreError> {
        self.conn = self.config.connect()?;
        Ok(())
    }
    fn is_broken(&self) -> bool {
        self.conn.is_closed()
    }
    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        self.conn.batch(sql)
    }
}

/// The advisory lock key that serialises schema setup across processes.
pub(crate) const MIGRATION_LOCK: i64 = 7301123456;

/// Applies the PostgreSQL migrations not yet applied, under an advisory lock so several
/// processes starting at once do not race.
pub(crate) fn migrate(conn: &mut PgConn) -> Result<Vec<String>, StoreError> {
    // A migration may rewrite a large table, and another node may hold the lock while it does:
    // neither is cut short by the session's statement and lock timeouts.
    conn.batch(&format!(
        "SET statement_timeout = 0; SET lock_timeout = 0;
         SELECT pg_advisory_lock({MIGRATION_LOCK});
         CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL);"
    ))?;
    let result = (|| {
        let mut applied = Vec::new();
        for m in crate::migrations::POSTGRES {
            let done = conn
                .client()
                .query_opt(
                    "SELECT version FROM schema_migrations WHERE version = $1",
                    &[&m.version],
                )?
                .is_some();
            if !done {
                let mut tx = conn.client().transaction()?;
                tx.batch_execute(m.sql)?;
                tx.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at)
                     VALUES ($1, $2, EXTRACT(EPOCH FROM now())::BIGINT)",
                    &[&m.version, &m.name],
                )?;
                tx.commit()?;
                applied.push(m.name.to_string());
            }
        }
        Ok(applied)
    })();
    conn.batch(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK});"))?;
    result
}
