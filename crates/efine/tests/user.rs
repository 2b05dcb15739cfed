//! `efine user add|list|disable|enable|reset-password` as an operator runs them against a
//! running server, on SQLite and PostgreSQL: the one password policy (standard input and
//! environment alike), disabling or resetting ending the account's tokens at once, and a second
//! factor enrolled from the shell (`enrol-totp`, the secret on standard input).

use efine_core::auth::totp::{self, TotpSecret};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};

const EFINE: &str = env!("CARGO_BIN_EXE_efine");

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The environment that points the binary at one database: a data directory, and for
/// PostgreSQL a URL with its own schema.
#[derive(Clone)]
struct Db {
    dir: std::path::PathBuf,
    url: Option<String>,
}

fn efine(db: &Db, args: &[&str]) -> Command {
    let mut cmd = Command::new(EFINE);
    cmd.args(args)
        .env_remove("EFINE_DATABASE_URL")
        .env_remove("EFINE_USER_PASSWORD")
        .env("EFINE_LOG", "warn")
        .env("EFINE_DATA_DIR", &db.dir);
    if let Some(u) = &db.url {
        cmd.env("EFINE_DATABASE_URL", u);
    }
    cmd
}

fn serve(db: &Db) -> (Server, String) {
    let mut child = efine(db, &["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    // Keep reading: the first-start guidance follows on standard output, and a closed pipe
    // would end the server.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    (Server(child), url)
}

/// Runs `efine user <args> --password-stdin` with `password` on standard input.
fn with_stdin(db: &Db, args: &[&str], password: &str) -> Output {
    let mut child = efine(db, &[&["user"], args, &["--password-stdin"]].concat())
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

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

async fn token(base: &str, username: &str, password: &str) -> (u16, Value) {
    token_with(base, json!({"username": username, "password": password})).await
}

async fn token_with(base: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/token"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn summary(base: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{base}/api/v1/stats/summary?group_by=district"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

const OFFICER: &[&str] = &[
    "add",
    "--username",
    "aslam",
    "--role",
    "officer",
    "--department",
    "traffic-police",
    "--district",
    "peshawar",
];

async fn lifecycle(db: Db) {
    // The policy, whichever way the password comes.
    for (pw, says) in [
        ("aaaaaaaaaa", "at least 12"),
        ("password12", "at least 12"),
        ("123456789012", "most commonly used"),
        ("aslam-the-officer", "must not contain the username"),
    ] {
        let o = with_stdin(&db, OFFICER, pw);
        assert!(!o.status.success(), "{pw} accepted");
        assert!(text(&o).contains(says), "{pw}: {}", text(&o));
    }
    let o = efine(&db, &[&["user"], OFFICER].concat())
        .env("EFINE_USER_PASSWORD", "password1234")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(text(&o).contains("most commonly used"), "{}", text(&o));
    let o = efine(&db, &[&["user"], OFFICER].concat()).output().unwrap();
    assert!(!o.status.success(), "no password given");
    assert!(text(&o).contains("EFINE_USER_PASSWORD"), "{}", text(&o));
    let o = with_stdin(&db, OFFICER, "a-long-secret-pw");
    assert!(o.status.success(), "{}", text(&o));

    let (server, base) = serve(&db);
    let (s, v) = token(&base, "aslam", "a-long-secret-pw").await;
    assert_eq!(s, 200, "{v}");
    let t = v["token"].as_str().unwrap().to_string();
    assert_eq!(summary(&base, &t).await, 200);

    let o = efine(&db, &["user", "list"]).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let list = text(&o);
    let row = list.lines().find(|l| l.starts_with("aslam ")).unwrap();
    assert!(row.contains("officer") && row.contains("active"), "{list}");

    // Disabled: the running server refuses the token at once.
    let o = efine(&db, &["user", "disable", "aslam"]).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(summary(&base, &t).await, 401);
    assert_eq!(token(&base, "aslam", "a-long-secret-pw").await.0, 401);
    let list = text(&efine(&db, &["user", "list"]).output().unwrap());
    assert!(
        list.lines()
            .any(|l| l.starts_with("aslam ") && l.contains("disabled")),
        "{list}"
    );
    let o = efine(&db, &["user", "disable", "nobody"]).output().unwrap();
    assert!(!o.status.success());

    // Enabled: the old token stays ended; a new login works.
    let o = efine(&db, &["user", "enable", "aslam"]).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(summary(&base, &t).await, 401);
    let (s, v) = token(&base, "aslam", "a-long-secret-pw").await;
    assert_eq!(s, 200);
    let t2 = v["token"].as_str().unwrap().to_string();

    // Reset from the environment: the policy applies, then the old password and token end.
    let o = efine(&db, &["user", "reset-password", "aslam"])
        .env("EFINE_USER_PASSWORD", "qwertyuiop12")
        .output()
        .unwrap();
    assert!(!o.status.success(), "a common password");
    let o = efine(&db, &["user", "reset-password", "aslam"])
        .env("EFINE_USER_PASSWORD", "swat-valley-in-spring")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(summary(&base, &t2).await, 401);
    assert_eq!(token(&base, "aslam", "a-long-secret-pw").await.0, 401);
    assert_eq!(token(&base, "aslam", "swat-valley-in-spring").await.0, 200);

    second_factor(&db, &base).await;
    drop(server);
    let o = efine(&db, &["audit", "verify"]).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
}

/// Runs `efine user enrol-totp <username> [flags]` with `input` on standard input.
fn enrol(db: &Db, username: &str, flags: &[&str], input: &str) -> Output {
    let mut child = efine(db, &[&["user", "enrol-totp", username], flags].concat())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A supervisor's second factor enrolled from the shell: the secret only on standard input and
/// never echoed; then the token endpoint wants its code, and a printed recovery code works once.
async fn second_factor(db: &Db, base: &str) {
    let o = with_stdin(
        db,
        &[
            "add",
            "--username",
            "bilal",
            "--role",
            "supervisor",
            "--department",
            "traffic-police",
        ],
        "supervisor-password-1",
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("enrol-totp"), "{}", text(&o));
    let login = json!({"username": "bilal", "password": "supervisor-password-1"});
    let (s, v) = token_with(base, login.clone()).await;
    assert_eq!(s, 403, "{v}");
    assert_eq!(v["error"]["code"], "second_factor_not_enrolled");

    let secret = TotpSecret::from_bytes(*b"twenty-byte-secret!!");
    let b32 = secret.base32();
    // Only from standard input, and only a real base32 secret; nothing is stored otherwise.
    let o = enrol(db, "bilal", &[], &b32);
    assert!(!o.status.success());
    assert!(text(&o).contains("--secret-stdin"), "{}", text(&o));
    let o = enrol(db, "bilal", &["--secret-stdin"], "not base32 at all!");
    assert!(!o.status.success());
    assert!(text(&o).contains("base32"), "{}", text(&o));
    let o = enrol(db, "nobody", &["--secret-stdin"], &b32);
    assert!(!o.status.success());
    assert!(text(&o).contains("nobody"), "{}", text(&o));
    assert_eq!(token_with(base, login.clone()).await.0, 403);

    // Lower case with spaces, as an app may show it, is the same secret.
    let spaced = b32
        .to_ascii_lowercase()
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(" ");
    let o = enrol(db, "bilal", &["--secret-stdin"], &format!("{spaced}\n"));
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(!out.contains(&b32) && !out.contains(&spaced), "{out}");
    let recovery: Vec<String> = out
        .lines()
        .map(str::trim)
        .filter(|l| totp::looks_like_recovery_code(l))
        .map(str::to_string)
        .collect();
    assert_eq!(recovery.len(), totp::RECOVERY_CODES, "{out}");
    let list = text(&efine(db, &["user", "list"]).output().unwrap());
    let row = list.lines().find(|l| l.starts_with("bilal ")).unwrap();
    assert!(row.contains("enrolled"), "{list}");

    let (s, v) = token_with(base, login.clone()).await;
    assert_eq!(s, 401, "{v}");
    let mut wrong = login.clone();
    let code = secret.code_at(unix_now());
    let other = if code == "000000" { "111111" } else { "000000" };
    wrong["code"] = json!(other);
    assert_eq!(token_with(base, wrong).await.0, 401);
    let mut good = login.clone();
    good["code"] = json!(code);
    let (s, v) = token_with(base, good).await;
    assert_eq!(s, 200, "{v}");
    assert!(v["token"].as_str().is_some_and(|t| !t.is_empty()), "{v}");
    let mut rescue = login.clone();
    rescue["code"] = json!(recovery[0]);
    assert_eq!(token_with(base, rescue.clone()).await.0, 200);
    assert_eq!(
        token_with(base, rescue).await.0,
        401,
        "a recovery code works once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_lifecycle_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    lifecycle(Db {
        dir: dir.path().to_path_buf(),
        url: None,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_lifecycle_postgres() {
    let url = std::env::var("EFINE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let schema = format!(
        "user_{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let (u, s) = (url.clone(), schema.clone());
    tokio::task::spawn_blocking(move || {
        let mut c = postgres::Client::connect(&u, postgres::NoTls).unwrap();
        c.batch_execute(&format!("CREATE SCHEMA {s}")).unwrap();
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    lifecycle(Db {
        dir: dir.path().to_path_buf(),
        url: Some(format!("{url}?options=-c%20search_path%3D{schema}")),
    })
    .await;
}
