//! The published log head through the real binary, on SQLite and PostgreSQL: `efine audit
//! publish-head` signs the chain head, the server publishes the history as JSON (and on the
//! transparency page), and `efine audit verify --against FILE` passes on an untouched database
//! but names the published head when the chain has been rewritten consistently, a rewrite the
//! chain check alone cannot see.

use efine_store::testing::RawSql;
use efine_store::{params, Location, Store};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

const EFINE: &str = env!("CARGO_BIN_EXE_efine");

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Db {
    dir: tempfile::TempDir,
    /// `(url, schema)` for PostgreSQL; SQLite otherwise.
    pg: Option<(String, String)>,
}

impl Db {
    fn efine(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(EFINE);
        cmd.args(args)
            .env_remove("EFINE_DATABASE_URL")
            .env_remove("EFINE_KEY_ENCRYPTION_KEY")
            .env_remove("EFINE_KEY_ENCRYPTION_KEY_FILE")
            .env("EFINE_LOG", "warn")
            .env("EFINE_DATA_DIR", self.dir.path());
        if let Some((url, schema)) = &self.pg {
            cmd.env(
                "EFINE_DATABASE_URL",
                format!("{url}?options=-c%20search_path%3D{schema}"),
            );
        }
        cmd
    }

    fn location(&self) -> Location {
        match &self.pg {
            None => Location::Sqlite(self.dir.path().join("efine.db")),
            Some((url, schema)) => Location::Postgres {
                url: url.clone(),
                schema: Some(schema.clone()),
            },
        }
    }

    /// Runs `efine` with these arguments: (exit code, stdout and stderr).
    fn run(&self, args: &[&str]) -> (i32, String) {
        let out = self.efine(args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    }

    /// Adds a staff account (one event in the log).
    fn add_user(&self, name: &str) {
        let mut child = self
            .efine(&[
                "user",
                "add",
                "--username",
                name,
                "--role",
                "auditor",
                "--password-stdin",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"a-long-secret-pw\n")
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn serve(&self) -> (Server, String) {
        let mut child = self
            .efine(&["serve", "--listen", "127.0.0.1:0", "--sandbox"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        (Server(child), url)
    }
}

/// The event number in `published: event N, hash H, ...`.
fn published_seq(out: &str) -> i64 {
    out.split("event ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| panic!("no event number in {out}"))
}

/// Rewrites the log from event `from` on as a careful forger would: one event altered, and every
/// hash after it (and the chain head) recomputed, so the chain is whole again.
async fn rewrite_chain_from(store: &Store, from: i64) {
    // The forger removes the guard first.
    let guard = match store.backend() {
        "postgres" => "ALTER TABLE events DISABLE TRIGGER events_append_only",
        _ => "DROP TRIGGER events_no_update",
    };
    store
        .write(move |tx| {
            tx.exec(guard, &[])?;
            let rows = tx.query(
                "SELECT seq, at_micros, kind, subject, actor, payload, prev_hash FROM events
                 WHERE seq >= $1 ORDER BY seq",
                params![from],
            )?;
            let mut prev: [u8; 32] = hex::decode(rows[0].text(6)?).unwrap().try_into().unwrap();
            let mut last = String::new();
            for (i, r) in rows.iter().enumerate() {
                let seq = r.i64(0)?;
                let actor = if i == 0 {
                    "someone-else".to_string()
                } else {
                    r.text(4)?
                };
                let hash = efine_core::audit::event_hash(
                    &prev,
                    seq,
                    r.i64(1)?,
                    &r.text(2)?,
                    &r.text(3)?,
                    &actor,
                    &r.text(5)?,
                );
                last = hex::encode(hash);
                tx.exec(
                    "UPDATE events SET actor = $1, prev_hash = $2, hash = $3 WHERE seq = $4",
                    params![actor, hex::encode(prev), last.clone(), seq],
                )?;
                prev = hash;
            }
            tx.exec(
                "UPDATE chain_head SET hash = $1 WHERE id = 1",
                params![last],
            )?;
            Ok(())
        })
        .await
        .unwrap();
}

async fn published_heads_catch_a_rewritten_chain(db: Db) {
    // Opening creates the database (and the PostgreSQL schema), migrated.
    let store = Store::open(db.location()).await.unwrap();
    db.add_user("auditor.one");
    db.add_user("auditor.two");
    let (code, out) = db.run(&["audit", "publish-head"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("published: event "), "{out}");
    let first = published_seq(&out);
    db.add_user("auditor.three");
    let (code, out) = db.run(&["audit", "publish-head"]);
    assert_eq!(code, 0, "{out}");
    let second = published_seq(&out);
    assert!(second > first, "{out}");
    // The log has not moved: nothing new is signed.
    let (code, out) = db.run(&["audit", "publish-head"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("already published: event "), "{out}");
    assert_eq!(published_seq(&out), second);

    // Anyone saves the history from the public URL; the transparency page shows the last head.
    let (server, base) = db.serve();
    let http = reqwest::Client::new();
    let history = http
        .get(format!("{base}/api/v1/public/log-heads"))
        .send()
        .await
        .unwrap();
    assert_eq!(history.status(), 200);
    let text = history.text().await.unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let heads = v["heads"].as_array().unwrap();
    assert_eq!(heads.len(), 2, "{v}");
    assert_eq!(heads[0]["seq"], first);
    assert_eq!(heads[1]["seq"], second);
    let page = http
        .get(format!("{base}/transparency"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(heads[1]["hash"].as_str().unwrap()), "{page}");
    drop(server);
    let saved = db.dir.path().join("saved-heads.json");
    std::fs::write(&saved, &text).unwrap();
    let saved_arg = saved.to_str().unwrap();

    // Untouched: the chain verifies and every published head is still there.
    let (code, out) = db.run(&["audit", "verify", "--against", saved_arg]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("published heads intact"), "{out}");

    // A copy whose signature does not hold is named as such.
    let mut forged = v.clone();
    forged["heads"][0]["hash"] = serde_json::Value::String("ab".repeat(32));
    let forged_path = db.dir.path().join("forged-heads.json");
    std::fs::write(&forged_path, forged.to_string()).unwrap();
    let (code, out) = db.run(&[
        "audit",
        "verify",
        "--against",
        forged_path.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "DIVERGED: published head {first}: the signature does not match"
        )),
        "{out}"
    );

    // The chain rewritten from an event before the first published head, consistently: the
    // chain check alone finds nothing, the published heads do.
    rewrite_chain_from(&store, first - 1).await;
    let (code, out) = db.run(&["audit", "verify"]);
    assert_eq!(
        code, 0,
        "a consistent rewrite passes the chain check alone: {out}"
    );
    let (code, out) = db.run(&["audit", "verify", "--against", saved_arg]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "DIVERGED: published head {first}: the database's event {first} has hash"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("DIVERGED: published head {second}:")),
        "{out}"
    );
    assert!(
        out.contains(heads[0]["hash"].as_str().unwrap()),
        "the published hash is named: {out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_heads_catch_a_rewritten_chain_sqlite() {
    published_heads_catch_a_rewritten_chain(Db {
        dir: tempfile::tempdir().unwrap(),
        pg: None,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_heads_catch_a_rewritten_chain_postgres() {
    let url = std::env::var("EFINE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let schema = format!(
        "heads_{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    published_heads_catch_a_rewritten_chain(Db {
        dir: tempfile::tempdir().unwrap(),
        pg: Some((url, schema)),
    })
    .await;
}
