//! PostgreSQL backend: for deployments that outgrow one machine. Several `efine serve`
//! processes may share one database: each has its own group-commit writer, and every batch takes
//! the chain-head row lock first, so batches from all processes serialise in one order.

use crate::sql::{Dialect, Row, Seal, Tx, Value};
use crate::writer::WriterConn;
use crate::StoreError;
use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls, Statement};
use std::collections::HashMap;

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
}

impl PgConfig {
    pub(crate) fn new(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Db(format!("bad PostgreSQL URL: {e}")))?;
        // Notices (e.g. "already exists, skipping") are not worth a log line each.
        let mut options = String::from("-c client_min_messages=warning");
        if let Some(s) = schema {
            options.push_str(&format!(" -c search_path={s}"));
        }
        if let Some(existing) = config.get_options() {
            options = format!("{existing} {options}");
        }
        config.options(&options);
        // A URL may name the application itself (an operator telling nodes apart).
        if config.get_application_name().is_none() {
            config.application_name("efine");
        }
        Ok(PgConfig { config })
    }

    pub(crate) fn connect(&self) -> Result<PgConn, StoreError> {
        let client = self.config.connect(NoTls)?;
        Ok(PgConn {
            client: Some(client),
            stmts: HashMap::new(),
        })
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
    conn.batch(&format!(
        "SELECT pg_advisory_lock({MIGRATION_LOCK});
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
