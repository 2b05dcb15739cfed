//! `/metrics` and the logs, through the real binary with its output piped (as under a service
//! manager or in a container), on SQLite and on PostgreSQL.
//!
//! After some issuing, payments over 1Bill, a failed login and a forged card notification, a
//! scrape shows every series the operators rely on, with counts that match what was done; the
//! route label is the template, never a challan number, PSID or CNIC. Standard error carries
//! one JSON object a line and no colour codes; each request left exactly one access line, at
//! info, with the request id its response carried; no CNIC or phone number is in the log.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const EFINE: &str = env!("CARGO_BIN_EXE_efine");
const SCRAPE_TOKEN: &str = "scrape-token-0123456789abcdef";
const CNIC: &str = "17301-1234567-1";
const MOBILE: &str = "03001234567";

enum Db {
    Sqlite,
    Postgres { url: String, schema: String },
}

fn efine(db: &Db, dir: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(EFINE);
    cmd.args(args)
        .env_remove("EFINE_DATABASE_URL")
        .env_remove("EFINE_LOG_FORMAT")
        .env_remove("NO_COLOR")
        .env("EFINE_LOG", "info")
        .env("EFINE_DATA_DIR", dir);
    if let Db::Postgres { url, schema } = db {
        cmd.env(
            "EFINE_DATABASE_URL",
            format!("{url}?options=-c%20search_path%3D{schema}"),
        );
    }
    cmd
}

fn add_officer(db: &Db, dir: &std::path::Path) {
    let mut child = efine(
        db,
        dir,
        &[
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
        ],
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
        .write_all(b"a-long-secret-pw\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One request's answer: status and body (its `X-Request-Id` goes to the list of ids).
struct Answer {
    status: u16,
    body: String,
}

async fn send(rq: reqwest::RequestBuilder, ids: &mut Vec<String>) -> Answer {
    let r = rq.send().await.unwrap();
    let status = r.status().as_u16();
    let id = r
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    ids.push(id);
    Answer {
        status,
        body: r.text().await.unwrap(),
    }
}

/// `name{labels} value` lines of a scrape, keyed by everything before the value.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').unwrap();
            (k.to_string(), v.parse::<f64>().unwrap())
        })
        .collect()
}

fn sample(s: &BTreeMap<String, f64>, key: &str) -> f64 {
    *s.get(key)
        .unwrap_or_else(|| panic!("{key} not in the scrape:\n{s:#?}"))
}

async fn metrics_and_logs(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    add_officer(&db, dir.path());
    let mut child: Child = efine(
        &db,
        dir.path(),
        &["serve", "--listen", "127.0.0.1:0", "--sandbox"],
    )
    .env("EFINE_METRICS_TOKEN", SCRAPE_TOKEN)
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        s
    });
    let mut line = String::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdout.read_line(&mut line).unwrap();
    // Keep reading: the server prints more (first-start guidance), and a closed pipe would end it.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    let http = reqwest::Client::new();
    let mut ids = Vec::new();

    // A scrape without the token is refused.
    let a = send(http.get(format!("{base}/metrics")), &mut ids).await;
    assert_eq!(a.status, 401, "{}", a.body);

    // One failed login, then a good one.
    let a = send(
        http.post(format!("{base}/api/v1/auth/token"))
            .json(&json!({"username": "aslam", "password": "wrong-password"})),
        &mut ids,
    )
    .await;
    assert_eq!(a.status, 401);
    let a = send(
        http.post(format!("{base}/api/v1/auth/token"))
            .json(&json!({"username": "aslam", "password": "a-long-secret-pw"})),
        &mut ids,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let token = serde_json::from_str::<Value>(&a.body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();

    // Three challans with a CNIC and a phone number.
    let mut issued = Vec::new();
    for n in 0..3 {
        let a = send(
            http.post(format!("{base}/api/v1/challans"))
                .bearer_auth(&token)
                .json(&json!({"offence_code": "no-helmet", "vehicle_number": format!("PES {}", 100 + n),
                              "cnic": CNIC, "mobile": MOBILE})),
            &mut ids,
        )
        .await;
        assert_eq!(a.status, 201, "{}", a.body);
        issued.push(serde_json::from_str::<Value>(&a.body).unwrap());
    }

    // Two paid over 1Bill, as a bank does.
    for (stan, c) in issued.iter().take(2).enumerate() {
        let now = time::OffsetDateTime::now_utc().to_offset(efine_core::clock::KARACHI);
        let req = efine_pay::sandbox::bank_payment(
            "sandbox-bank",
            "sandbox-1bill",
            c["psid"].as_str().unwrap(),
            efine_core::Money::from_paisa(c["amount_due"].as_i64().unwrap()).unwrap(),
            stan as u32 + 1,
            time::PrimitiveDateTime::new(now.date(), now.time()),
            "SANDBOX",
        );
        let a = send(
            http.post(format!("{base}/api/v1/1bill/bill-payment"))
                .json(&req),
            &mut ids,
        )
        .await;
        let v: Value = serde_json::from_str(&a.body).unwrap();
        assert_eq!(v["response_Code"], "00", "{v}");
    }

    // A citizen looks up by CNIC (in the body) and opens a challan's page.
    let a = send(
        http.post(format!("{base}/api/v1/public/lookup"))
            .json(&json!({ "cnic": CNIC })),
        &mut ids,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let number = issued[2]["challan_number"].as_str().unwrap().to_string();
    let psid = issued[2]["psid"].as_str().unwrap().to_string();
    let a = send(http.get(format!("{base}/c/{number}")), &mut ids).await;
    assert_eq!(a.status, 200);

    // A card notification with no valid signature: a rail error.
    let a = send(
        http.post(format!("{base}/payments/card/notify"))
            .header("content-type", "application/json")
            .body(r#"{"order_ref":"EF-NONE"}"#),
        &mut ids,
    )
    .await;
    assert_eq!(a.status, 400, "{}", a.body);

    // Wait for the background jobs' first rounds (they run one at start).
    let deadline = Instant::now() + Duration::from_secs(30);
    let (scrape, s) = loop {
        let a = send(
            http.get(format!("{base}/metrics"))
                .bearer_auth(SCRAPE_TOKEN),
            &mut ids,
        )
        .await;
        assert_eq!(a.status, 200, "{}", a.body);
        let s = samples(&a.body);
        let ran = |job: &str| {
            s.contains_key(&format!(
                "efine_job_runs_total{{job=\"{job}\",outcome=\"ok\"}}"
            ))
        };
        if ["escalation", "early poll", "daily poll", "notifications"]
            .iter()
            .all(|j| ran(j))
            || Instant::now() > deadline
        {
            break (a.body, s);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    // Requests by route template and status, with latency.
    let req = |m: &str, route: &str, status: u16| {
        sample(
            &s,
            &format!(
                "efine_http_requests_total{{method=\"{m}\",route=\"{route}\",status=\"{status}\"}}"
            ),
        )
    };
    assert_eq!(req("POST", "/api/v1/challans", 201), 3.0);
    assert_eq!(req("POST", "/api/v1/auth/token", 401), 1.0);
    assert_eq!(req("POST", "/api/v1/auth/token", 200), 1.0);
    assert_eq!(req("POST", "/api/v1/1bill/bill-payment", 200), 2.0);
    assert_eq!(req("GET", "/c/{number}", 200), 1.0);
    assert_eq!(req("GET", "/metrics", 401), 1.0);
    assert_eq!(
        sample(
            &s,
            "efine_http_request_duration_seconds_count{route=\"/api/v1/challans\"}"
        ),
        3.0
    );
    assert_eq!(
        sample(
            &s,
            "efine_http_request_duration_seconds_bucket{route=\"/api/v1/challans\",le=\"+Inf\"}"
        ),
        3.0
    );
    assert!(
        sample(
            &s,
            "efine_http_request_duration_seconds_sum{route=\"/api/v1/challans\"}"
        ) > 0.0
    );
    // No identifier reaches a label.
    for secret in [
        number.as_str(),
        psid.as_str(),
        CNIC,
        "1730112345671",
        MOBILE,
    ] {
        assert!(!scrape.contains(secret), "{secret} in the scrape");
    }

    assert_eq!(sample(&s, "efine_login_failures_total{via=\"api\"}"), 1.0);
    assert_eq!(
        sample(
            &s,
            "efine_rail_errors_total{rail=\"card\",kind=\"unverified\"}"
        ),
        1.0
    );

    // The writer: every write went through a batch (a token, three challans, two payments at
    // least), each batch committed once, nothing waits now.
    let ops = sample(&s, "efine_writer_batch_size_sum");
    let batches = sample(&s, "efine_writer_batch_size_count");
    assert!(ops >= 6.0, "{ops} operations");
    assert!(
        batches >= 1.0 && batches <= ops,
        "{batches} batches for {ops}"
    );
    assert!(sample(&s, "efine_writer_commit_seconds_count") >= 1.0);
    assert!(sample(&s, "efine_writer_commit_seconds_sum") > 0.0);
    assert_eq!(
        sample(&s, "efine_writer_commit_seconds_bucket{le=\"+Inf\"}"),
        sample(&s, "efine_writer_commit_seconds_count")
    );
    assert_eq!(sample(&s, "efine_writer_queue_depth"), 0.0);
    assert_eq!(sample(&s, "efine_writer_commit_failures_total"), 0.0);

    // Outbox, jobs, pool.
    assert_eq!(sample(&s, "efine_outbox_up"), 1.0);
    let pending = sample(&s, "efine_outbox_messages{status=\"pending\"}");
    assert!((0.0..=100.0).contains(&pending), "{pending}");
    assert_eq!(sample(&s, "efine_outbox_messages{status=\"failed\"}"), 0.0);
    assert!(scrape.contains("# TYPE efine_notification_delivery_failures_total counter"));
    for job in ["escalation", "early poll", "daily poll", "notifications"] {
        let runs = sample(
            &s,
            &format!("efine_job_runs_total{{job=\"{job}\",outcome=\"ok\"}}"),
        );
        assert!(runs >= 1.0, "{job}: {runs}");
    }
    let backend = match db {
        Db::Sqlite => "sqlite",
        Db::Postgres { .. } => "postgres",
    };
    assert_eq!(
        sample(&s, &format!("efine_up{{backend=\"{backend}\"}}")),
        1.0
    );
    let max = sample(
        &s,
        &format!("efine_db_pool_connections{{backend=\"{backend}\",state=\"max\"}}"),
    );
    let in_use = sample(
        &s,
        &format!("efine_db_pool_connections{{backend=\"{backend}\",state=\"in_use\"}}"),
    );
    let idle = sample(
        &s,
        &format!("efine_db_pool_connections{{backend=\"{backend}\",state=\"idle\"}}"),
    );
    assert!(
        max >= 1.0 && in_use + idle <= max,
        "{in_use} + {idle} of {max}"
    );

    // Stop, and read what it logged.
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("efine serve did not exit");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = log.join().unwrap();
    assert!(!log.contains(&0x1b), "an escape code in the log");
    let log = String::from_utf8(log).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines.iter().any(|l| l["message"] == "shutting down"),
        "{log}"
    );
    let access: Vec<&Value> = lines
        .iter()
        .filter(|l| l["target"] == "efine::access")
        .collect();
    assert_eq!(
        access.len(),
        ids.len(),
        "one access line per request:\n{log}"
    );
    for id in &ids {
        assert_eq!(id.len(), 16, "{id}");
        let mine: Vec<_> = access
            .iter()
            .filter(|l| l["request_id"] == id.as_str())
            .collect();
        assert_eq!(mine.len(), 1, "request {id}:\n{log}");
        let l = mine[0];
        assert_eq!(l["level"], "INFO");
        assert!(l["method"].is_string() && l["route"].is_string(), "{l}");
        assert!(l["status"].as_u64().is_some(), "{l}");
        assert!(l["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{l}");
    }
    assert!(
        access
            .iter()
            .any(|l| l["route"] == "/c/{number}" && l["status"] == 200),
        "{log}"
    );
    for secret in [CNIC, "1730112345671", MOBILE, "3001234567", number.as_str()] {
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_json_logs_sqlite() {
    metrics_and_logs(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_json_logs_postgres() {
    let url = std::env::var("EFINE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let schema = format!(
        "observe_{}",
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
    metrics_and_logs(Db::Postgres { url, schema }).await;
}

/// Text when asked, even piped: no colour codes, since the log is not a terminal.
#[test]
fn text_logs_when_asked_have_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out = efine(&Db::Sqlite, dir.path(), &["migrate"])
        .env("EFINE_LOG_FORMAT", "text")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.stderr.is_empty(), "migrate logs at info");
    assert!(
        !out.stderr.contains(&0x1b),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.lines().all(|l| !l.starts_with('{')), "{text}");

    let out = efine(&Db::Sqlite, dir.path(), &["migrate"])
        .env("EFINE_LOG_FORMAT", "yaml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("EFINE_LOG_FORMAT") && text.contains("auto, json or text"),
        "{text}"
    );
}
