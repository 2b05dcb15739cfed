//! Backing up and restoring the embedded SQLite database.
//!
//! A backup is taken online: `VACUUM INTO` copies the database as one read transaction sees it,
//! so a server may keep writing meanwhile and the copy holds every transaction committed before
//! the copy began and none after. The copy is written beside the target, synced, checked
//! (`PRAGMA integrity_check`, and that it is an E-Fine database) and only then renamed into place,
//! so a failed backup never leaves a file that looks complete.
//!
//! A restore copies a checked backup over the database file. It refuses a database that another
//! process has open (always), or that holds records (unless forced), and it removes the old `-wal` and `-shm` files before the new
//! file takes their place (SQLite would otherwise replay the old log into the new file).
//!
//! PostgreSQL has its own tools for this (`pg_dump`, base backups); see the README.

use crate::StoreError;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

/// What a checked database file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The last event's sequence number (the chain head).
    pub head_seq: i64,
    pub events: i64,
    pub challans: i64,
    pub receipts: i64,
    pub users: i64,
    /// The highest migration applied.
    pub schema_version: i64,
}

fn err(message: String) -> StoreError {
    StoreError::Db(message)
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// Syncs a file, then its directory, so that a rename or a new file survives a power cut.
fn sync(path: &Path) -> Result<(), StoreError> {
    let f = std::fs::File::open(path).map_err(|e| err(format!("{}: {e}", path.display())))?;
    f.sync_all()
        .map_err(|e| err(format!("syncing {}: {e}", path.display())))?;
    sync_dir(path)
}

fn sync_dir(path: &Path) -> Result<(), StoreError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Checks that `path` is an intact SQLite file holding an E-Fine database, and counts what it
/// holds. Opens it read-only: a file that is not a database is refused, never created or changed.
pub fn check_file(path: &Path) -> Result<Summary, StoreError> {
    if !path.is_file() {
        return Err(err(format!("{}: no such file", path.display())));
    }
    let c = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| err(format!("{}: cannot open: {e}", path.display())))?;
    let not_ours = |why: &str| {
        err(format!(
            "{} is not an E-Fine database ({why})",
            path.display()
        ))
    };
    let integrity: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| not_ours(&format!("not a readable SQLite file: {e}")))?;
    if integrity != "ok" {
        return Err(err(format!(
            "{} fails SQLite's integrity check: {integrity}",
            path.display()
        )));
    }
    let tables: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .and_then(|mut s| {
            s.query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(|e| not_ours(&e.to_string()))?;
    for t in [
        "schema_migrations",
        "chain_head",
        "events",
        "challans",
        "users",
    ] {
        if !tables.iter().any(|n| n == t) {
            return Err(not_ours(&format!("it has no {t} table")));
        }
    }
    let count = |sql: &str| -> Result<i64, StoreError> {
        c.query_row(sql, [], |r| r.get(0))
            .map_err(|e| not_ours(&e.to_string()))
    };
    let receipts = if tables.iter().any(|n| n == "receipts") {
        count("SELECT COUNT(*) FROM receipts")?
    } else {
        0
    };
    Ok(Summary {
        head_seq: count("SELECT COALESCE(MAX(seq), 0) FROM chain_head")?,
        events: count("SELECT COUNT(*) FROM events")?,
        challans: count("SELECT COUNT(*) FROM challans")?,
        receipts,
        users: count("SELECT COUNT(*) FROM users")?,
        schema_version: count("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")?,
    })
}

/// Copies the SQLite database at `db` to the new file `to`, online: writers may run meanwhile.
/// `busy_timeout` bounds the wait for a moment when the copy can start.
pub fn backup(
    db: &Path,
    to: &Path,
    busy_timeout: std::time::Duration,
) -> Result<Summary, StoreError> {
    if !db.is_file() {
        return Err(err(format!("no database at {}", db.display())));
    }
    if to.exists() {
        return Err(err(format!(
            "{} already exists: give a new file name (a backup never overwrites)",
            to.display()
        )));
    }
    let partial = sidecar(to, ".partial");
    let _ = std::fs::remove_file(&partial);
    let result = (|| {
        let c = Connection::open_with_flags(
            db,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        c.busy_timeout(busy_timeout)?;
        let target = partial
            .to_str()
            .ok_or_else(|| err(format!("{}: not a UTF-8 path", partial.display())))?;
        c.execute("VACUUM INTO ?1", [target])?;
        drop(c);
        sync(&partial)?;
        let summary = check_file(&partial)?;
        std::fs::rename(&partial, to)
            .map_err(|e| err(format!("renaming the copy to {}: {e}", to.display())))?;
        sync_dir(to)?;
        Ok(summary)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

/// Whether the database at `db` holds anything (an event, a challan or an account), and whether
/// another process has it open.
pub fn target_state(db: &Path) -> Result<(bool, bool), StoreError> {
    if !db.exists() || std::fs::metadata(db).map(|m| m.len()).unwrap_or(0) == 0 {
        return Ok((false, false));
    }
    let in_use = in_use(db)?;
    if in_use {
        // Not read: it may be half-way through a write; the caller refuses anyway.
        return Ok((true, true));
    }
    let c = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let tables: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut holds = false;
    for t in ["events", "challans", "users"] {
        if tables.iter().any(|n| n == t) {
            let n: i64 = c.query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0))?;
            holds |= n > 0;
        }
    }
    // Any other file SQLite can read but E-Fine did not make is not overwritten silently either.
    if !tables.is_empty() && !tables.iter().any(|n| n == "schema_migrations") {
        holds = true;
    }
    Ok((holds, in_use))
}

/// Whether another connection has the database open. In WAL mode every open connection that
/// has read holds a shared lock on the file for as long as it stays open (a server's writer and
/// readers always do), so an exclusive lock taken without waiting fails exactly then.
fn in_use(db: &Path) -> Result<bool, StoreError> {
    let c = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    c.busy_timeout(std::time::Duration::ZERO)?;
    let probe = c
        .execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; ROLLBACK;")
        .map_err(StoreError::from);
    match probe {
        Ok(()) => Ok(false),
        Err(StoreError::Unavailable(_)) => Ok(true),
        Err(e) => Err(e),
    }
}

/// Puts the backup `from` in place of the database at `db`. Refuses a database that another
/// process has open, and one that holds records unless `force`.
pub fn restore(from: &Path, db: &Path, force: bool) -> Result<Summary, StoreError> {
    let summary = check_file(from)?;
    let (holds, in_use) = target_state(db)?;
    if in_use {
        return Err(StoreError::refused(
            "in_use",
            format!(
                "{} is in use (another process has it open): stop every server and command \
                 using it first",
                db.display()
            ),
        ));
    }
    if !force && holds {
        return Err(StoreError::refused(
            "not_empty",
            format!(
                "{} already holds records: restore into a new data directory, or pass --force \
                 to replace them",
                db.display()
            ),
        ));
    }
    if let Some(dir) = db.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)
                .map_err(|e| err(format!("cannot create {}: {e}", dir.display())))?;
        }
    }
    let incoming = sidecar(db, ".restoring");
    let _ = std::fs::remove_file(&incoming);
    let result = (|| {
        std::fs::copy(from, &incoming)
            .map_err(|e| err(format!("copying {} : {e}", from.display())))?;
        sync(&incoming)?;
        for stale in [
            sidecar(db, "-wal"),
            sidecar(db, "-shm"),
            sidecar(db, "-journal"),
        ] {
            match std::fs::remove_file(&stale) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(err(format!("removing {}: {e}", stale.display()))),
            }
        }
        std::fs::rename(&incoming, db)
            .map_err(|e| err(format!("renaming into {}: {e}", db.display())))?;
        sync_dir(db)?;
        check_file(db)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&incoming);
    }
    result.map(|restored| {
        debug_assert_eq!(restored, summary);
        restored
    })
}

/// How to back up and restore a PostgreSQL database with its own tools, for the database at
/// `url`. Names host, port, database and user; never the password (pg_dump reads it from
/// PGPASSWORD or ~/.pgpass).
pub fn postgres_instructions(url: &str, file: &Path) -> Result<String, StoreError> {
    let config: postgres::Config = url
        .parse()
        .map_err(|e| err(format!("bad PostgreSQL URL: {e}")))?;
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        Some(postgres::config::Host::Unix(d)) => d.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("efine").to_string();
    let db = config.get_dbname().unwrap_or(&user).to_string();
    let file = file.display();
    let conn = format!("--host {host} --port {port} --username {user}");
    Ok(format!(
        "This server's database is PostgreSQL ({host}:{port}, database {db}); `efine backup` \
         and `efine restore` copy the embedded SQLite file only. Use PostgreSQL's own tools \
         (they read the password from PGPASSWORD or ~/.pgpass, never from the command line):

  # a consistent dump while servers keep running
  pg_dump {conn} --format custom --file {file} {db}

  # restore into a new, empty database, then check it
  createdb {conn} {db}_restored
  pg_restore {conn} --dbname {db}_restored --exit-on-error {file}
  EFINE_DATABASE_URL=postgres://{user}@{host}:{port}/{db}_restored efine audit verify
"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_an_efine_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "not a database at all, just some text").unwrap();
        let e = check_file(&text).unwrap_err().to_string();
        assert!(e.contains("is not an E-Fine database"), "{e}");

        let other = dir.path().join("other.db");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
            .unwrap();
        let e = check_file(&other).unwrap_err().to_string();
        assert!(e.contains("no schema_migrations table"), "{e}");
        // And it is not overwritten by a restore without --force.
        assert_eq!(target_state(&other).unwrap(), (true, false));
    }
}
