//! A database that cannot do the work now answers 503 with `Retry-After` (1Bill: `05`), writes
//! nothing, and the same request succeeds once it is back; a bug answers 500 with a request id
//! that its log line carries. Through the real server, on SQLite (another process holding the
//! write lock past the busy timeout) and on PostgreSQL (connections terminated and refused).

mod common;

use common::TestApp;
use efine_core::clock::KARACHI;
use efine_core::Money;
use efine_store::testing::RawSql;
use efine_store::{Location, Store, StoreOptions};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Everything the server logs, for the tests that look for a line.
fn log() -> Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::WARN)
            .with_writer(move || LogWriter(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
        buf
    })
    .clone()
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn short_timeouts() -> StoreOptions {
    StoreOptions {
        sqlite_busy_timeout: Duration::from_millis(300),
        pg_pool_timeout: Duration::from_millis(300),
        ..StoreOptions::default()
    }
}

async fn issue_with_key(app: &TestApp, token: &str, key: &str, plate: &str) -> reqwest::Response {
    app.http
        .post(app.url("/api/v1/challans"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&json!({"offence_code": "no-helmet", "vehicle_number": plate}))
        .send()
        .await
        .unwrap()
}

async fn challan_count(store: &Store) -> i64 {
    store
        .read(|tx| tx.query_one("SELECT COUNT(*) FROM challans", &[])?.i64(0))
        .await
        .expect("count challans")
}

/// A 503 as every JSON client sees it: `Retry-After`, code `unavailable`, "nothing was written".
async fn assert_unavailable(r: reqwest::Response) {
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "5");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "unavailable", "{v}");
    let m = v["error"]["message"].as_str().unwrap();
    assert!(m.contains("nothing was written"), "{m}");
    assert!(v["error"].get("request_id").is_none(), "{v}");
}

fn bank_payment(app: &TestApp, psid: &str, amount: i64, stan: u32) -> Value {
    let now = app.store.now().to_offset(KARACHI);
    let req = efine_pay::sandbox::bank_payment(
        "sandbox-bank",
        "sandbox-1bill",
        psid,
        Money::from_paisa(amount).unwrap(),
        stan,
        time::PrimitiveDateTime::new(now.date(), now.time()),
        "HBL",
    );
    serde_json::to_value(req).unwrap()
}

/// Another process (a CLI command, a second node) holds SQLite's write lock for longer than the
/// busy timeout: issuing and a bank's payment are refused as unavailable, nothing is written,
/// and once the lock is gone the very same requests succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_locked_past_the_busy_timeout_is_503_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let loc = Location::Sqlite(dir.path().join("efine.db"));
    let app = TestApp::start_with(
        loc.clone(),
        Some(dir),
        efine_web::WebConfig::default(),
        short_timeouts(),
    )
    .await;
    let token = app.officer().await;
    let r = issue_with_key(&app, &token, "k-1", "PES-1").await;
    assert_eq!(r.status(), 201);
    let paid: Value = r.json().await.unwrap();
    let psid = paid["psid"].as_str().unwrap().to_string();
    let amount = paid["amount_due"].as_i64().unwrap();
    let before = challan_count(&app.store).await;

    // The other process: a store of its own on the same file, its writer parked inside a
    // transaction until released (bounded, so a failing test cannot hang).
    let other = Store::open(loc).await.unwrap();
    let (locked_tx, locked_rx) = tokio::sync::oneshot::channel::<()>();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let holder = other.submit(move |_tx| {
        let _ = locked_tx.send(());
        let _ = release_rx.recv_timeout(Duration::from_secs(10));
        Ok(())
    });
    locked_rx.await.unwrap();

    assert_unavailable(issue_with_key(&app, &token, "k-2", "PES-2").await).await;
    let (s, v) = app
        .post(
            "/api/v1/1bill/bill-payment",
            bank_payment(&app, &psid, amount, 4711),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["response_Code"], "05", "{v}");
    // Reads go on beside the lock (WAL), and show nothing was written.
    assert_eq!(challan_count(&app.store).await, before);
    let (s, p) = app
        .get(&format!("/api/v1/public/challans/{psid}"), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(p["status"], "unpaid");

    release_tx.send(()).unwrap();
    holder.await.unwrap();

    let r = issue_with_key(&app, &token, "k-2", "PES-2").await;
    assert_eq!(r.status(), 201);
    assert_eq!(challan_count(&app.store).await, before + 1);
    let (_, v) = app
        .post(
            "/api/v1/1bill/bill-payment",
            bank_payment(&app, &psid, amount, 4711),
        )
        .await;
    assert_eq!(v["response_Code"], "00", "{v}");
}

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let (server, _) = base.rsplit_once('/').expect("a database in the URL");
    if query.is_empty() {
        format!("{server}/{name}")
    } else {
        format!("{server}/{name}?{query}")
    }
}

async fn admin_exec(admin: &Store, sql: String) {
    admin
        .read(move |tx| tx.exec(&sql, &[]))
        .await
        .unwrap_or_else(|e| panic!("admin statement failed: {e}"));
}

/// Terminates every session on `db` and waits (bounded) until they are gone.
async fn terminate_sessions(admin: &Store, db: &str) {
    admin_exec(
        admin,
        format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'"),
    )
    .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let q = format!("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = '{db}'");
        let left = admin
            .read(move |tx| tx.query_one(&q, &[])?.i64(0))
            .await
            .unwrap();
        if left == 0 {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "sessions linger");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The server's PostgreSQL sessions are terminated: the store reconnects unseen. Then its
/// database also refuses connections (an outage, a failover under way): reads and writes answer
/// 503, the HTML page says so in the reader's language, nothing is written; when the database
/// takes connections again the pool and the writer reconnect and the same requests succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_cut_off_is_503_and_the_store_reconnects() {
    let admin = Store::open(Location::Postgres {
        url: common::pg_url(),
        schema: Some(format!("web_admin_{}", common::random_suffix())),
    })
    .await
    .expect("admin store");
    let db = format!("efine_cut_{}", common::random_suffix());
    admin_exec(&admin, format!("CREATE DATABASE {db}")).await;

    let loc = Location::Postgres {
        url: with_database(&common::pg_url(), &db),
        schema: None,
    };
    let app =
        TestApp::start_with(loc, None, efine_web::WebConfig::default(), short_timeouts()).await;
    let token = app.officer().await;
    let r = issue_with_key(&app, &token, "k-1", "PES-1").await;
    assert_eq!(r.status(), 201);
    let number = r.json::<Value>().await.unwrap()["challan_number"]
        .as_str()
        .unwrap()
        .to_string();
    let before = challan_count(&app.store).await;

    // Every session terminated, new ones allowed (a restart that is already over): the pool and
    // the writer find their connections dead on first use and replace them, unseen by callers.
    terminate_sessions(&admin, &db).await;
    let r = issue_with_key(&app, &token, "k-0", "PES-0").await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let before = before + 1;

    // Cut off: no new connections, every session of the server's database terminated.
    admin_exec(
        &admin,
        format!("ALTER DATABASE {db} ALLOW_CONNECTIONS false"),
    )
    .await;
    terminate_sessions(&admin, &db).await;

    assert_unavailable(issue_with_key(&app, &token, "k-2", "PES-2").await).await;
    let r = app
        .http
        .get(app.url(&format!("/api/v1/public/challans/{number}")))
        .send()
        .await
        .unwrap();
    assert_unavailable(r).await;
    let r = app
        .http
        .get(app.url(&format!("/c/{number}?lang=ur")))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "5");
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = r.text().await.unwrap();
    assert!(page.contains("lang=\"ur\""), "{page}");
    assert!(
        page.contains("کچھ بھی محفوظ نہیں ہوا"),
        "the page says nothing was saved, in Urdu: {page}"
    );

    // Back: the first request after it is answered by a fresh connection.
    admin_exec(
        &admin,
        format!("ALTER DATABASE {db} ALLOW_CONNECTIONS true"),
    )
    .await;
    let r = issue_with_key(&app, &token, "k-2", "PES-2").await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let (s, _) = app
        .get(&format!("/api/v1/public/challans/{number}"), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(challan_count(&app.store).await, before + 1);

    drop(app);
    admin_exec(&admin, format!("DROP DATABASE {db} WITH (FORCE)")).await;
}

/// A bug (here: a stored row that no longer parses) is a 500 with a request id, in the body, in
/// `X-Request-Id`, on the HTML page, and in the log line with the cause; no internals in the body.
async fn a_bug_is_500_with_a_request_id_in_the_log(app: TestApp) {
    let log = log();
    let token = app.officer().await;
    let r = issue_with_key(&app, &token, "k-1", "PES-1").await;
    assert_eq!(r.status(), 201);
    let number = r.json::<Value>().await.unwrap()["challan_number"]
        .as_str()
        .unwrap()
        .to_string();
    app.store
        .write(|tx| tx.exec("UPDATE challans SET status = 'mangled'", &[]))
        .await
        .unwrap();

    let r = app
        .http
        .get(app.url(&format!("/api/v1/challans/{number}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert!(r.headers().get("retry-after").is_none());
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(id.len(), 16, "{id}");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "internal");
    assert_eq!(v["error"]["request_id"], id.as_str());
    assert!(!v.to_string().contains("mangled"), "no internals: {v}");
    let logged = String::from_utf8_lossy(&log.lock().unwrap()).to_string();
    let line = logged
        .lines()
        .find(|l| l.contains(&id))
        .unwrap_or_else(|| panic!("request id {id} not in the log:\n{logged}"));
    assert!(
        line.contains("mangled"),
        "the log line has the cause: {line}"
    );

    // A browser gets a page with its own id, in its language.
    let r = app
        .http
        .get(app.url(&format!("/c/{number}")))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    let page_id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_ne!(page_id, id);
    let page = r.text().await.unwrap();
    assert!(page.contains("lang=\"en\""), "{page}");
    assert!(page.contains(&page_id), "{page}");
    assert!(page.contains("Something went wrong on our side"), "{page}");
    assert!(!page.contains("mangled"), "{page}");
    assert!(String::from_utf8_lossy(&log.lock().unwrap()).contains(&page_id));
}

both_backends!(a_bug_is_500_with_a_request_id_in_the_log);
