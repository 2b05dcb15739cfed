//! Settings through the real binary: where each value comes from (defaults, `efine.toml`,
//! `EFINE_*`, flags), what is refused at start-up and how it is named, and that a secret never
//! reaches the output.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

const EFINE: &str = env!("CARGO_BIN_EXE_efine");

/// The binary in `dir`, with none of the caller's settings in its environment.
fn efine(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(EFINE);
    cmd.args(args).current_dir(dir).env("EFINE_LOG", "warn");
    for (k, _) in std::env::vars() {
        if k.starts_with("EFINE_") && k != "EFINE_LOG" {
            cmd.env_remove(k);
        }
    }
    cmd
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A running server, its address and everything it wrote (collected once it is stopped).
struct Server {
    child: Child,
    addr: String,
    first_line: String,
    err: std::thread::JoinHandle<String>,
}

impl Server {
    fn start(mut cmd: Command) -> Server {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut err = child.stderr.take().unwrap();
        // Drained as it comes, so a chatty log cannot fill the pipe and stall the server.
        let err = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut first_line = String::new();
        out.read_line(&mut first_line).unwrap();
        let addr = first_line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("http://"))
            .unwrap_or_else(|| panic!("no address in {first_line:?}"))
            .to_string();
        std::mem::forget(out);
        Server {
            child,
            addr,
            first_line,
            err,
        }
    }

    /// Stops the server; answers everything it wrote to stdout and stderr.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let err = self.err.join().unwrap();
        format!("{}{err}", self.first_line)
    }

    fn ip(&self) -> &str {
        self.addr.rsplit_once(':').unwrap().0
    }
}

#[test]
fn an_unknown_database_scheme_is_refused_by_name_and_creates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let url = "mysql://root:hunter2@db.example/efine";
    let cases: [(&str, Command); 3] = [
        ("EFINE_DATABASE_URL", {
            let mut c = efine(tmp.path(), &["migrate"]);
            c.env("EFINE_DATABASE_URL", url)
                .env("EFINE_DATA_DIR", &data);
            c
        }),
        ("--database-url", {
            let mut c = efine(tmp.path(), &["serve", "--database-url", "mysql://db/efine"]);
            c.env("EFINE_DATA_DIR", &data);
            c
        }),
        ("`database_url` in", {
            let file = tmp.path().join("settings.toml");
            std::fs::write(&file, format!("database_url = \"{url}\"\n")).unwrap();
            let mut c = efine(tmp.path(), &["migrate", "--data-dir"]);
            c.arg(&data).env("EFINE_CONFIG", &file);
            c
        }),
    ];
    for (name, mut cmd) in cases {
        let out = cmd.output().unwrap();
        let err = stderr(&out);
        assert!(!out.status.success(), "{name}: {err}");
        assert!(
            err.contains(name) && err.contains("mysql://"),
            "{name}: {err}"
        );
        assert!(!err.contains("hunter2"), "{err}");
        assert!(!data.exists(), "{name}: nothing is created");
        let stray: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != "settings.toml")
            .collect();
        assert!(stray.is_empty(), "{name}: {stray:?}");
    }
}

#[test]
fn a_secret_given_as_a_flag_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for (args, var) in [
        (
            &["serve", "--onebill-password", "flag-secret-4711"][..],
            "EFINE_1BILL_PASSWORD",
        ),
        (
            &["serve", "--jazzcash-integrity-salt=flag-secret-4711"][..],
            "EFINE_JAZZCASH_INTEGRITY_SALT",
        ),
        (
            &["outbox", "run", "--sms-password", "flag-secret-4711"][..],
            "EFINE_SMS_PASSWORD",
        ),
        (
            &[
                "bank",
                "pay",
                "2601380000000013",
                "--password",
                "flag-secret-4711",
            ][..],
            "EFINE_1BILL_PASSWORD",
        ),
    ] {
        let out = efine(tmp.path(), args).output().unwrap();
        let err = stderr(&out);
        assert!(!out.status.success(), "{args:?}: {err}");
        assert!(err.contains(var) && err.contains("efine.toml"), "{err}");
        assert!(!err.contains("flag-secret-4711"), "{err}");
    }
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn the_file_is_overridden_by_the_environment_and_the_environment_by_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    // Found without --config: the data directory's own efine.toml.
    std::fs::write(data.join("efine.toml"), "listen = \"127.0.0.2:0\"\n").unwrap();
    let serve = |env: Option<&str>, flag: Option<&str>| {
        let mut cmd = efine(tmp.path(), &["serve"]);
        cmd.env("EFINE_DATA_DIR", &data);
        if let Some(e) = env {
            cmd.env("EFINE_LISTEN", e);
        }
        if let Some(f) = flag {
            cmd.args(["--listen", f]);
        }
        let s = Server::start(cmd);
        let ip = s.ip().to_string();
        s.stop();
        ip
    };
    assert_eq!(serve(None, None), "127.0.0.2", "from the file");
    assert_eq!(
        serve(Some("127.0.0.3:0"), None),
        "127.0.0.3",
        "env over file"
    );
    assert_eq!(
        serve(Some("127.0.0.3:0"), Some("127.0.0.4:0")),
        "127.0.0.4",
        "flag over env"
    );

    // --config names another file, which then replaces the data directory's.
    let other = tmp.path().join("other.toml");
    std::fs::write(&other, "listen = \"127.0.0.5:0\"\n").unwrap();
    let mut cmd = efine(tmp.path(), &["--config"]);
    cmd.arg(&other).arg("serve").env("EFINE_DATA_DIR", &data);
    let s = Server::start(cmd);
    assert_eq!(s.ip(), "127.0.0.5");
    s.stop();

    // A wrong value is named as it was written.
    std::fs::write(&other, "token_hours = 0\nlisten = \"127.0.0.1:0\"\n").unwrap();
    let out = efine(tmp.path(), &["serve", "--config"])
        .arg(&other)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains(&format!("`token_hours` in {}", other.display())),
        "{err}"
    );
    let out = efine(tmp.path(), &["serve", "--config"])
        .arg(&other)
        .env("EFINE_TOKEN_HOURS", "721")
        .output()
        .unwrap();
    assert!(stderr(&out).starts_with("error: EFINE_TOKEN_HOURS must be between 1 and 720"));
    std::fs::write(&other, "tokn_hours = 3\n").unwrap();
    let out = efine(tmp.path(), &["migrate", "--config"])
        .arg(&other)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("`tokn_hours`"), "{}", stderr(&out));
}

async fn inquiry(addr: &str, password: &str) -> String {
    let v: Value = reqwest::Client::new()
        .post(format!("http://{addr}/api/v1/1bill/bill-inquiry"))
        .json(&json!({"userName": "file-bank", "password": password,
            "consumerNumber": "2601380000000013", "bankMnemonic": "TEST", "reserved": ""}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["Response_Code"].as_str().unwrap().to_string()
}

/// The 1Bill caller's password from the file, then from the environment over it (`01`: the
/// caller is let in and the PSID is unknown; `04`: refused), and no secret in anything the server
/// writes at start-up, even with every module logging at debug.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_come_from_the_file_or_the_environment_and_never_reach_the_output() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("efine.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:0\"\n1bill_username = \"file-bank\"\n\
         1bill_password = \"SECRET-file-1bill-0001\"\n",
    )
    .unwrap();
    let start = |env: &[(&str, &str)]| {
        let mut cmd = efine(tmp.path(), &["serve", "--config"]);
        cmd.arg(&file)
            .env("EFINE_DATA_DIR", tmp.path().join("data"));
        cmd.env("EFINE_LOG", "debug");
        for (k, v) in env {
            cmd.env(k, v);
        }
        Server::start(cmd)
    };

    let s = start(&[]);
    assert_eq!(inquiry(&s.addr, "SECRET-file-1bill-0001").await, "01");
    assert_eq!(inquiry(&s.addr, "something-else").await, "04");
    let out = s.stop();
    assert!(!out.contains("SECRET-"), "{out}");

    let secrets = [
        ("EFINE_1BILL_PASSWORD", "SECRET-env-1bill-0002"),
        ("EFINE_JAZZCASH_MERCHANT_ID", "MC0001"),
        ("EFINE_JAZZCASH_PASSWORD", "SECRET-jazz-pw-0003"),
        ("EFINE_JAZZCASH_INTEGRITY_SALT", "SECRET-jazz-salt-0004"),
        ("EFINE_JAZZCASH_URL", "https://jazzcash.example/form"),
        ("EFINE_JAZZCASH_API_URL", "https://jazzcash.example/api"),
        ("EFINE_EASYPAISA_STORE_ID", "1234"),
        ("EFINE_EASYPAISA_HASH_KEY", "SECRET-0123456AB"),
        ("EFINE_EASYPAISA_USERNAME", "ep-user"),
        ("EFINE_EASYPAISA_PASSWORD", "SECRET-ep-pw-0005"),
        ("EFINE_EASYPAISA_URL", "https://easypaisa.example/checkout"),
        ("EFINE_EASYPAISA_API_URL", "https://easypaisa.example/api"),
        ("EFINE_CARD_MERCHANT_ID", "card-merchant"),
        ("EFINE_CARD_URL", "https://card.example/pay"),
        ("EFINE_CARD_SESSION_SECRET", "SECRET-card-session-0006"),
        (
            "EFINE_CARD_WEBHOOK_SECRETS",
            "SECRET-card-hook-0007,SECRET-card-hook-0008",
        ),
        ("EFINE_SMS_URL", "https://sms.example/send"),
        ("EFINE_SMS_USERNAME", "sms-user"),
        ("EFINE_SMS_PASSWORD", "SECRET-sms-0009"),
        ("EFINE_REGISTRY_URL", "https://registry.example/owner"),
        ("EFINE_REGISTRY_TOKEN", "SECRET-registry-0010"),
    ];
    let s = start(&secrets);
    assert_eq!(inquiry(&s.addr, "SECRET-env-1bill-0002").await, "01");
    assert_eq!(inquiry(&s.addr, "SECRET-file-1bill-0001").await, "04");
    let out = s.stop();
    assert!(out.contains("listening on"), "{out}");
    assert!(!out.contains("SECRET-"), "{out}");
}

/// The database from the file, on both backends: `sqlite://PATH` and a PostgreSQL URL (a fresh
/// schema of the test database).
#[test]
fn the_database_url_from_the_file_picks_the_backend() {
    let tmp = tempfile::tempdir().unwrap();
    let sqlite = tmp.path().join("elsewhere.db");
    let pg = std::env::var("EFINE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let schema = format!(
        "config_{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let mut c = postgres::Client::connect(&pg, postgres::NoTls).unwrap();
    c.batch_execute(&format!("CREATE SCHEMA {schema}")).unwrap();
    let pg = format!("{pg}?options=-c%20search_path%3D{schema}");
    for (url, backend) in [
        (format!("sqlite://{}", sqlite.display()), "sqlite"),
        (pg, "postgres"),
    ] {
        let file = tmp.path().join("efine.toml");
        std::fs::write(&file, format!("database_url = \"{url}\"\n")).unwrap();
        let out = efine(tmp.path(), &["migrate"])
            .env("EFINE_CONFIG", &file)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            format!("database is up to date ({backend} backend)")
        );
    }
    assert!(sqlite.is_file());
    let tables: i64 = c
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1",
            &[&schema],
        )
        .unwrap()
        .get(0);
    assert!(tables > 0);
}
