//! The `efine` binary as a new user runs it: serve, add an officer, log in, issue, look up as a
//! citizen, verify the audit chain, and catch a row edited behind the application's back. On
//! SQLite and on PostgreSQL.

use serde_json::{json, Value};
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

#[derive(Clone)]
enum Db {
    Sqlite(std::path::PathBuf),
    /// `dir` is the data directory: with PostgreSQL it still holds the QR signing keys.
    Postgres {
        url: String,
        schema: String,
        dir: std::path::PathBuf,
    },
}

impl Db {
    fn apply(&self, cmd: &mut Command) {
        cmd.env_remove("EFINE_DATABASE_URL")
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
    }

    fn data_dir(&self) -> &std::path::Path {
        match self {
            Db::Sqlite(dir) | Db::Postgres { dir, .. } => dir,
        }
    }

    fn raw_sql(&self, sql: &str) {
        match self {
            Db::Sqlite(dir) => {
                let c = sqlite_file::open(dir.join("efine.db"));
                c(sql);
            }
            Db::Postgres { url, schema, .. } => tokio::task::block_in_place(|| {
                let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
                c.batch_execute(&format!("SET search_path = {schema}; {sql}"))
                    .unwrap();
            }),
        }
    }
}

/// Raw SQL on the SQLite file, as someone with the file would run it.
mod sqlite_file {
    pub fn open(path: std::path::PathBuf) -> impl Fn(&str) {
        move |sql: &str| {
            let c = rusqlite::Connection::open(&path).unwrap();
            c.execute_batch(sql).unwrap();
        }
    }
}

fn efine(db: &Db, args: &[&str]) -> Command {
    let mut cmd = Command::new(EFINE);
    cmd.args(args);
    db.apply(&mut cmd);
    cmd
}

fn serve(db: &Db) -> (Server, String) {
    let mut child = efine(db, &["serve", "--listen", "127.0.0.1:0"])
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

fn add_user(db: &Db, args: &[&str], password: &str) -> std::process::Output {
    let mut child = efine(
        db,
        &[&["user", "add"], args, &["--password-stdin"]].concat(),
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn audit(db: &Db) -> (i32, String) {
    let out = efine(db, &["audit", "verify"]).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

async fn walkthrough(db: Db) {
    let (server, base) = serve(&db);
    let http = reqwest::Client::new();

    let out = add_user(
        &db,
        &[
            "--username",
            "aslam",
            "--role",
            "officer",
            "--department",
            "traffic-police",
            "--district",
            "peshawar",
        ],
        "a-long-secret-pw",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("added aslam"));
    let out = add_user(
        &db,
        &["--username", "x", "--role", "officer"],
        "a-long-secret-pw",
    );
    assert!(!out.status.success());
    let out = add_user(&db, &["--username", "shorty", "--role", "auditor"], "short");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 12"));

    let v: Value = http
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({"username": "aslam", "password": "a-long-secret-pw"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = v["token"].as_str().unwrap();
    let r = http
        .post(format!("{base}/api/v1/challans"))
        .bearer_auth(token)
        .json(&json!({"offence_code": "no-helmet", "vehicle_number": "PES 1234", "cnic": "17301-1234567-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let c: Value = r.json().await.unwrap();
    let number = c["challan_number"].as_str().unwrap().to_string();
    let psid = c["psid"].as_str().unwrap().to_string();
    for key in [number.as_str(), psid.as_str()] {
        let p: Value = http
            .get(format!("{base}/api/v1/public/challans/{key}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(p["challan_number"], number.as_str());
        assert_eq!(p["cnic"], "*****-****567-*");
    }
    let l: Value = http
        .post(format!("{base}/api/v1/public/lookup"))
        .json(&json!({"vehicle": "pes-1234"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(l["count"], 1);

    // The QR token verifies offline against the published keys; an altered one does not.
    let qr_token = c["qr_token"].as_str().unwrap().to_string();
    let keys_json = http
        .get(format!("{base}/.well-known/efine-keys.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    drop(server);
    qr_walkthrough(&db, &number, &qr_token, &keys_json);

    // No phone on the challan: the SMS goes to the plate's registered owner, masked in the list.
    let out = efine(&db, &["outbox", "run"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("sent 1"));
    let owner = efine_service::notify::registry::SandboxRegistry::shipped()
        .lookup(&efine_core::VehicleNumber::parse("PES-1234").unwrap())
        .unwrap()
        .mobile
        .unwrap();
    let out = efine(
        &db,
        &["outbox", "list", "--status", "sent", "--challan", &number],
    )
    .output()
    .unwrap();
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{list}");
    assert!(
        list.contains(&format!("issued                      {number}")),
        "{list}"
    );
    assert!(list.contains(&efine_core::mask::mobile(&owner)), "{list}");
    assert!(
        !list.contains(&owner.local()) && !list.contains(owner.e164()),
        "{list}"
    );
    assert!(list.contains("1 message(s)"), "{list}");
    let out = efine(&db, &["outbox", "list", "--status", "lost"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--status"));

    let (code, out) = audit(&db);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("intact"), "{out}");
    assert!(out.contains("1 challans match"), "{out}");

    // Statistics emptied, as in a database from before they existed: `serve` and `migrate`
    // recount them once from the record, saying so; `stats rebuild` recounts on demand.
    let wipe = "DELETE FROM stats_daily; DELETE FROM stats_monthly; \
                DELETE FROM stats_collections; DELETE FROM stats_cells;";
    db.raw_sql(wipe);
    let (server, base) = serve(&db);
    let t: Value = http
        .get(format!("{base}/api/v1/public/transparency"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(t["total"]["issued"], 1, "{t}");
    assert_eq!(t["rows"][0]["district_code"], "peshawar", "{t}");
    drop(server);
    db.raw_sql(wipe);
    let migrate = || {
        efine(&db, &["migrate"])
            .env("EFINE_LOG", "info")
            .output()
            .unwrap()
    };
    let out = migrate();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("statistics rebuilt from the record"), "{log}");
    let out = migrate();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && !log.contains("rebuil"), "{log}");
    let out = efine(&db, &["stats", "rebuild"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.starts_with("statistics rebuilt from 1 challans, 0 payments"),
        "{text}"
    );

    // Edit the challan's amount behind the application's back: the row no longer matches the
    // event that recorded it.
    db.raw_sql(&format!(
        "UPDATE challans SET amount_paisa = 100 WHERE number = '{number}'"
    ));
    let (code, out) = audit(&db);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("challan {number}")), "{out}");
    db.raw_sql(&format!(
        "UPDATE challans SET amount_paisa = {} WHERE number = '{number}'",
        c["amount_due"]
    ));
    assert_eq!(audit(&db).0, 0);

    // Edit an event itself (after removing the guard a database owner could remove).
    let (drop_guard, seq) = match &db {
        Db::Sqlite(_) => ("DROP TRIGGER events_no_update;", 3),
        Db::Postgres { .. } => ("ALTER TABLE events DISABLE TRIGGER events_append_only;", 3),
    };
    db.raw_sql(&format!(
        "{drop_guard} UPDATE events SET actor = 'someone-else' WHERE seq = {seq};"
    ));
    let (code, out) = audit(&db);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("event {seq}:")), "{out}");
}

fn qr_verify(db: &Db, token: &str, keys: &std::path::Path) -> (i32, String) {
    let out = efine(db, &["qr", "verify", token, "--keys"])
        .arg(keys)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn qr_walkthrough(db: &Db, number: &str, token: &str, keys_json: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The signing keys are in the database, sealed under the key-encryption key that a
        // node with none configured keeps owner-only in its data directory.
        let mode = std::fs::metadata(db.data_dir().join("key-encryption-key"))
            .expect("key-encryption key created in the data directory on first start")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let tmp = tempfile::tempdir().unwrap();
    let keys = tmp.path().join("efine-keys.json");
    std::fs::write(&keys, keys_json).unwrap();

    let (code, out) = qr_verify(db, token, &keys);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with(&format!("GENUINE signature: challan {number}, Rs 500")),
        "{out}"
    );
    // The whole URL from the QR code works too.
    let (code, _) = qr_verify(db, &format!("http://127.0.0.1:8080/v/{token}"), &keys);
    assert_eq!(code, 0);

    let mut bad = token.to_string();
    bad.replace_range(30..31, if &token[30..31] == "Z" { "Y" } else { "Z" });
    let (code, out) = qr_verify(db, &bad, &keys);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("NOT GENUINE:"), "{out}");

    // Rotate: a new active key, the old one still listed and still verifying.
    let out = efine(db, &["keys", "rotate"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = efine(db, &["keys", "public"]).output().unwrap();
    assert!(out.status.success());
    let set: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(set["keys"].as_array().unwrap().len(), 2);
    assert_eq!(set["keys"][1]["active"], true);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("secret"));
    let rotated = tmp.path().join("rotated.json");
    std::fs::write(&rotated, &out.stdout).unwrap();
    let (code, out) = qr_verify(db, token, &rotated);
    assert_eq!(code, 0, "old token after rotation: {out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walkthrough_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    walkthrough(Db::Sqlite(dir.path().to_path_buf())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walkthrough_postgres() {
    let url = std::env::var("EFINE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let schema = format!(
        "cli_{}",
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
    walkthrough(Db::Postgres {
        url,
        schema,
        dir: dir.path().to_path_buf(),
    })
    .await;
}

#[test]
fn cli_refuses_bad_settings_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::Sqlite(dir.path().to_path_buf());
    let out = efine(&db, &["serve", "--listen", "not-an-address"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("EFINE_LISTEN"));
    let out = add_user(
        &db,
        &["--username", "u1", "--role", "emperor"],
        "a-long-secret-pw",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--role"));
    let out = efine(&db, &["serve", "--public-url", "efine.example"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("EFINE_PUBLIC_URL"));
    let out = efine(
        &db,
        &["serve", "--sms-url", "https://u:secret-pw@sms.example/send"],
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("EFINE_SMS_URL") && !err.contains("secret-pw"),
        "{err}"
    );
}
