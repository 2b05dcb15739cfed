//! `efine audit verify` and `efine ledger balance` through the real binary while a server takes
//! payments: every run reads one snapshot, so none reports tampering that did not happen. And
//! `--since`, which checks only what is new after a head an earlier run verified. On SQLite and
//! on PostgreSQL.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;

const EFINE: &str = env!("CARGO_BIN_EXE_efine");

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[derive(Clone)]
enum Db {
    Sqlite(std::path::PathBuf),
    Postgres {
        url: String,
        schema: String,
        dir: std::path::PathBuf,
    },
}

impl Db {
    fn efine(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(EFINE);
        cmd.args(args)
            .env_remove("EFINE_DATABASE_URL")
            .env("EFINE_LOG", "warn");
        match self {
            Db::Sqlite(dir) => {
                cmd.env("EFINE_DATA_DIR", dir);
            }
            Db::Postgres { url, schema, dir } => {
                cmd.env(
                    "EFINE_DATABASE_URL",
                    format!("{url}?options=-c%20search_path%3D{schema}"),
                )
                .env("EFINE_DATA_DIR", dir);
            }
        }
        cmd
    }

    fn raw_sql(&self, sql: &str) {
        match self {
            Db::Sqlite(dir) => {
                let c = rusqlite::Connection::open(dir.join("efine.db")).unwrap();
                c.execute_batch(sql).unwrap();
            }
            Db::Postgres { url, schema, .. } => tokio::task::block_in_place(|| {
                let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
                c.batch_execute(&format!("SET search_path = {schema}; {sql}"))
                    .unwrap();
            }),
        }
    }

    /// Runs `efine` with these arguments: (exit code, stdout).
    fn run(&self, args: &[&str]) -> (i32, String) {
        let out = self.efine(args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    }
}

fn serve(db: &Db) -> (Server, String) {
    let mut child = db
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

fn add_officer(db: &Db) {
    let mut child = db
        .efine(&[
            "user",
            "add",
            "--username",
            "aslam",
            "--role",
            "officer",
            "--department",
            "traffic-police",
            "--district",
            "peshawar",
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

/// Issues one challan: (PSID, amount due in paisa).
async fn issue(http: &reqwest::Client, base: &str, token: &str, n: u32) -> (String, i64) {
    let r = http
        .post(format!("{base}/api/v1/challans"))
        .bearer_auth(token)
        .json(
            &json!({"offence_code": "no-helmet", "vehicle_number": format!("PES {}", 1000 + n),
                      "cnic": "17301-1234567-1"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let c: Value = r.json().await.unwrap();
    (
        c["psid"].as_str().unwrap().to_string(),
        c["amount_due"].as_i64().unwrap(),
    )
}

/// Pays a PSID in full over 1Bill, as a bank does, with the sandbox's credentials.
async fn pay(http: &reqwest::Client, base: &str, psid: &str, amount: i64, stan: u32) {
    let now = time::OffsetDateTime::now_utc().to_offset(efine_core::clock::KARACHI);
    let req = efine_pay::sandbox::bank_payment(
        "sandbox-bank",
        "sandbox-1bill",
        psid,
        efine_core::Money::from_paisa(amount).unwrap(),
        stan,
        time::PrimitiveDateTime::new(now.date(), now.time()),
        "SANDBOX",
    );
    let paid: Value = http
        .post(format!("{base}/api/v1/1bill/bill-payment"))
        .json(&req)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(paid["response_Code"], "00", "{paid}");
}

/// The head a run says it verified: (sequence, hash).
fn verified_head(out: &str) -> (String, String) {
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("verified head: event "))
        .unwrap_or_else(|| panic!("no verified head in {out}"));
    let (seq, rest) = line.split_once(", hash ").unwrap();
    (
        seq.to_string(),
        rest.split_whitespace().next().unwrap().to_string(),
    )
}

async fn under_load(db: Db) {
    add_officer(&db);
    let (server, base) = serve(&db);
    let http = reqwest::Client::new();
    let v: Value = http
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({"username": "aslam", "password": "a-long-secret-pw"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = v["token"].as_str().unwrap().to_string();
    let mut unpaid = Vec::new();
    for n in 0..200 {
        unpaid.push(issue(&http, &base, &token, n).await);
    }

    // Banks pay while officers issue, until the audits are done.
    let stop = Arc::new(AtomicBool::new(false));
    let stan = Arc::new(AtomicU32::new(1));
    let unpaid = Arc::new(std::sync::Mutex::new(unpaid));
    let mut load = Vec::new();
    for worker in 0..3u32 {
        let (stop, stan, unpaid) = (stop.clone(), stan.clone(), unpaid.clone());
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        load.push(tokio::spawn(async move {
            let mut n = 1000 * (worker + 1);
            let mut paid = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let next = unpaid.lock().unwrap().pop();
                match next {
                    Some((psid, amount)) => {
                        pay(
                            &http,
                            &base,
                            &psid,
                            amount,
                            stan.fetch_add(1, Ordering::Relaxed),
                        )
                        .await;
                        paid += 1;
                    }
                    None => tokio::time::sleep(std::time::Duration::from_millis(5)).await,
                }
                n += 1;
                let issued = issue(&http, &base, &token, n).await;
                unpaid.lock().unwrap().insert(0, issued);
            }
            paid
        }));
    }

    let mut alarms = Vec::new();
    let mut ledger_alarms = Vec::new();
    for _ in 0..10 {
        let d = db.clone();
        let (code, out) = tokio::task::spawn_blocking(move || d.run(&["audit", "verify"]))
            .await
            .unwrap();
        if code != 0 || !out.contains("intact") {
            alarms.push(out);
        }
        let d = db.clone();
        let (code, out) = tokio::task::spawn_blocking(move || d.run(&["ledger", "balance"]))
            .await
            .unwrap();
        if code != 0 || !out.contains("balanced") {
            ledger_alarms.push(out);
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut paid = 0;
    for l in load {
        paid += l.await.unwrap();
    }
    assert!(paid >= 10, "the load paid only {paid} challans");
    assert!(
        alarms.is_empty(),
        "{} of 10 audits under load reported tampering: {alarms:#?}",
        alarms.len()
    );
    assert!(
        ledger_alarms.is_empty(),
        "{} of 10 ledger balances under load failed: {ledger_alarms:#?}",
        ledger_alarms.len()
    );

    // `--since`: a full run names the head it verified; the next run checks only what came
    // after it, and still catches an edit there.
    let (code, out) = db.run(&["audit", "verify"]);
    assert_eq!(code, 0, "{out}");
    let (seq, hash) = verified_head(&out);
    let before: i64 = seq.parse().unwrap();
    let token2 = token.clone();
    let (psid, amount) = issue(&http, &base, &token2, 9999).await;
    pay(&http, &base, &psid, amount, 999_999).await;
    let (code, out) = db.run(&["audit", "verify", "--since", &seq, "--hash", &hash]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("intact since event {seq}:")), "{out}");
    assert!(out.contains("1 challans match"), "{out}");
    let (new_seq, _) = verified_head(&out);
    let after: i64 = new_seq.parse().unwrap();
    assert!(after > before, "{out}");
    assert!(
        out.contains(&format!("{} events chained", after - before)),
        "{out}"
    );
    // Without the hash, the run looks it up and says it did.
    let (code, out) = db.run(&["audit", "verify", "--since", &seq]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("not checked against"), "{out}");
    // A head that is not the one verified is named.
    let wrong = "0".repeat(64);
    let (code, out) = db.run(&["audit", "verify", "--since", &seq, "--hash", &wrong]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("TAMPERED: event {seq}:")), "{out}");
    drop(server);

    // What came before the head is not read again: an event altered there is left to the full
    // run, which names it.
    let drop_guard = match &db {
        Db::Sqlite(_) => "DROP TRIGGER events_no_update;",
        Db::Postgres { .. } => "ALTER TABLE events DISABLE TRIGGER events_append_only;",
    };
    db.raw_sql(&format!(
        "{drop_guard} UPDATE events SET actor = 'someone-else' WHERE seq = 2;"
    ));
    let (code, out) = db.run(&["audit", "verify", "--since", &seq, "--hash", &hash]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = db.run(&["audit", "verify"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("TAMPERED: event 2:"), "{out}");

    // An event after the head altered: the run from the head names it.
    let target = before + 1;
    db.raw_sql(&format!(
        "UPDATE events SET actor = 'someone-else' WHERE seq = {target};"
    ));
    let (code, out) = db.run(&["audit", "verify", "--since", &seq, "--hash", &hash]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("TAMPERED: event {target}:")), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_under_load_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    under_load(Db::Sqlite(dir.path().to_path_buf())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_under_load_postgres() {
    let url = std::env::var("EFINE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let schema = format!(
        "audit_{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let u = url.clone();
    let s = schema.clone();
    tokio::task::spawn_blocking(move || {
        let mut c = postgres::Client::connect(&u, postgres::NoTls).unwrap();
        c.batch_execute(&format!("CREATE SCHEMA {s}")).unwrap();
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    under_load(Db::Postgres {
        url,
        schema,
        dir: dir.path().to_path_buf(),
    })
    .await;
}
