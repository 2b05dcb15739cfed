//! Operating the binary: a database that cannot be reached ends a command within the connect
//! timeout, naming where and why; a first start says how to create the first admin and warns
//! about the sandbox SMS provider; a backup taken while the server issues and takes payments
//! restores into a new data directory and verifies, holding everything acknowledged before it
//! began; a disk that fills under the database gives 503s that write nothing, and recovers.

use efine_core::auth::totp::TotpSecret;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

const EFINE: &str = env!("CARGO_BIN_EXE_efine");

/// A command with nothing inherited that would point it at another database.
fn efine(dir: &Path) -> Command {
    let mut c = Command::new(EFINE);
    c.env_remove("EFINE_DATABASE_URL")
        .env_remove("EFINE_CONFIG")
        .env("EFINE_DATA_DIR", dir)
        .env("EFINE_LOG", "warn")
        .env("NO_COLOR", "1");
    c
}

/// Runs `cmd` to its end, or kills it and fails the test once `limit` has passed: the command
/// must end by itself.
fn run_within(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "still running after {limit:?}; stderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A "database" that accepts connections and never says a word.
fn black_hole() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    port
}

#[test]
fn an_unreachable_database_ends_each_command_within_the_connect_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let port = black_hole();
    for args in [
        &["serve", "--listen", "127.0.0.1:0"][..],
        &["audit", "verify"],
        &["ledger", "balance"],
    ] {
        let mut cmd = efine(dir.path());
        cmd.args(args)
            .env(
                "EFINE_DATABASE_URL",
                format!("postgres://efine:not-to-be-printed@127.0.0.1:{port}/efine_hole"),
            )
            .env("EFINE_DB_CONNECT_TIMEOUT_SECONDS", "2");
        // The timeout is 2 s; the limit only keeps a hanging command from hanging the test.
        let out = run_within(cmd, Duration::from_secs(30));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded: {err}");
        for part in [
            &format!("127.0.0.1:{port}") as &str,
            "database efine_hole",
            "no answer within 2 s",
        ] {
            assert!(err.contains(part), "{args:?}: no {part:?} in:\n{err}");
        }
        assert!(!err.contains("not-to-be-printed"), "{err}");
    }
}

#[test]
fn a_closed_port_names_host_port_database_and_cause() {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut cmd = efine(dir.path());
    cmd.args(["audit", "verify"]).env(
        "EFINE_DATABASE_URL",
        format!("postgres://efine:not-to-be-printed@127.0.0.1:{port}/efine_closed"),
    );
    let out = run_within(cmd, Duration::from_secs(30));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    for part in [
        &format!("127.0.0.1:{port}") as &str,
        "database efine_closed",
        "Connection refused",
    ] {
        assert!(err.contains(part), "no {part:?} in:\n{err}");
    }
    assert!(!err.contains("not-to-be-printed"), "{err}");
}

/// A running `efine serve`, killed when dropped, with its standard output as lines.
struct Server {
    child: Child,
    url: String,
    stdout: mpsc::Receiver<String>,
    stderr: Arc<Mutex<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(mut cmd: Command) -> Server {
        let mut child = cmd
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("EFINE_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, stdout) = mpsc::channel();
        let out = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let log = stderr.clone();
        let mut err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                log.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let first = stdout
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("no address; log:\n{}", stderr.lock().unwrap()));
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {first:?}"))
            .to_string();
        Server {
            child,
            url,
            stdout,
            stderr,
        }
    }

    /// Waits until the log holds `text` (it is read on its own thread).
    fn wait_for_log(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.stderr.lock().unwrap().contains(text) {
            assert!(
                Instant::now() < deadline,
                "no {text:?} in the log:\n{}",
                self.stderr.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Standard output lines until one contains `marker` (that one included).
    fn lines_until(&self, marker: &str) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = self
                .stdout
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no {marker:?} in {lines:#?}"));
            let done = line.contains(marker);
            lines.push(line);
            if done {
                return lines;
            }
        }
    }
}

fn add_user(dir: &Path, args: &[&str], password: &str) {
    user_with_stdin(
        dir,
        &[&["add", "--password-stdin"], args].concat(),
        password,
    );
}

/// Enrols `username`'s second factor the way an operator does: the secret on standard input.
fn enrol_totp(dir: &Path, username: &str, secret: &TotpSecret) {
    user_with_stdin(
        dir,
        &["enrol-totp", username, "--secret-stdin"],
        &secret.base32(),
    );
}

/// Runs `efine user <args>` with `input` on standard input; it must succeed.
fn user_with_stdin(dir: &Path, args: &[&str], input: &str) {
    let mut child = efine(dir)
        .arg("user")
        .args(args)
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
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "user {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_start_says_how_to_create_the_first_admin() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(efine(dir.path()));
    let printed = server.lines_until("--password-stdin");
    let command = format!(
        "efine user add --data-dir {} --username admin --role admin --password-stdin",
        dir.path().display()
    );
    assert!(
        printed.iter().any(|l| l.trim() == command),
        "{command:?} not in {printed:#?}"
    );
    // Sandboxes are off and no SMS gateway is set: the log says messages go nowhere.
    server.wait_for_log("no SMS gateway is configured");

    // The console's sign-in page shows the same command, in both languages.
    let http = reqwest::Client::new();
    let page = |lang: &'static str| {
        let http = http.clone();
        let url = format!("{}/staff/login?lang={lang}", server.url);
        async move { http.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let en = page("en").await;
    assert!(en.contains("No administrator account yet"), "{en}");
    assert!(en.contains(&command), "{en}");
    let ur = page("ur").await;
    assert!(ur.contains("ابھی کوئی ایڈمنسٹریٹر اکاؤنٹ نہیں"), "{ur}");
    assert!(ur.contains(&command), "{ur}");

    // Following it works, and the guidance goes away.
    let args: Vec<&str> = command
        .split_whitespace()
        .skip(3)
        .filter(|a| *a != "--password-stdin")
        .collect();
    add_user(dir.path(), &args, "first-start-secret-pw\n");
    let en = page("en").await;
    assert!(!en.contains("No administrator account yet"), "{en}");
    assert!(!en.contains("--password-stdin"), "{en}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandboxes_on_no_sms_warning() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = efine(dir.path());
    cmd.env("EFINE_SANDBOX", "1");
    let server = Server::start(cmd);
    // The first-start guidance comes after the log lines of start-up.
    server.lines_until("--password-stdin");
    server.wait_for_log("notifications");
    let log = server.stderr.lock().unwrap().clone();
    assert!(!log.contains("no SMS gateway"), "{log}");
}

/// Acknowledged work: challan numbers issued (201) and paid (201), in the order answered.
#[derive(Default, Clone)]
struct Acked {
    issued: Vec<String>,
    paid: Vec<String>,
}

/// A bearer token; `totp` is the second factor of a role that needs one.
async fn token(
    http: &reqwest::Client,
    url: &str,
    username: &str,
    totp: Option<&TotpSecret>,
) -> String {
    let mut body = json!({"username": username, "password": "load-test-password"});
    if let Some(secret) = totp {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        body["code"] = json!(secret.code_at(now));
    }
    let r: Value = http
        .post(format!("{url}/api/v1/auth/token"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["token"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_load_restores_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("live");
    std::fs::create_dir_all(&data).unwrap();
    add_user(
        &data,
        &[
            "--username",
            "load.officer",
            "--role",
            "officer",
            "--department",
            "traffic-police",
            "--district",
            "peshawar",
        ],
        "load-test-password",
    );
    add_user(
        &data,
        &["--username", "load.cashier", "--role", "finance"],
        "load-test-password",
    );
    // Finance needs a second factor: enrolled from the shell, its code computed here.
    let cashier_totp = TotpSecret::from_bytes(*b"load-cashier-secret!");
    enrol_totp(&data, "load.cashier", &cashier_totp);
    let server = Server::start(efine(&data));
    let http = reqwest::Client::new();
    let officer = token(&http, &server.url, "load.officer", None).await;
    let cashier = token(&http, &server.url, "load.cashier", Some(&cashier_totp)).await;

    // Four clients issue challans and pay every other one at the counter until told to stop.
    let acked = Arc::new(Mutex::new(Acked::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for client in 0..4 {
        let (http, url) = (http.clone(), server.url.clone());
        let (officer, cashier) = (officer.clone(), cashier.clone());
        let (acked, stop) = (acked.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let mut n = 0u32;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let r = http
                    .post(format!("{url}/api/v1/challans"))
                    .bearer_auth(&officer)
                    .json(&json!({"offence_code": "no-helmet",
                                  "vehicle_number": format!("LD-{client}{n:04}")}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201);
                let c: Value = r.json().await.unwrap();
                let number = c["challan_number"].as_str().unwrap().to_string();
                acked.lock().unwrap().issued.push(number.clone());
                if n.is_multiple_of(2) {
                    let r = http
                        .post(format!("{url}/api/v1/challans/{number}/cash-payments"))
                        .bearer_auth(&cashier)
                        .json(&json!({"amount": c["amount_due"]}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 201);
                    acked.lock().unwrap().paid.push(number);
                }
            }
        }));
    }
    let wait_for = |count: usize| {
        let acked = acked.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(120);
            while acked.lock().unwrap().issued.len() < count {
                assert!(Instant::now() < deadline, "the load did not get going");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    wait_for(60).await;

    let before = acked.lock().unwrap().clone();
    let file = dir.path().join("efine-backup.db");
    let mut cmd = efine(&data);
    cmd.args(["backup", "--to"]).arg(&file);
    let out = tokio::task::spawn_blocking(move || run_within(cmd, Duration::from_secs(120)))
        .await
        .unwrap();
    let during = acked.lock().unwrap().issued.len();
    assert!(
        out.status.success(),
        "backup: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("integrity checked"));
    // Writes went on after the copy, and are not in it.
    wait_for(during + 20).await;
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.await.unwrap();
    }

    // Restoring into the running server's directory is refused: it is in use.
    let mut cmd = efine(&data);
    cmd.args(["restore", "--from"]).arg(&file);
    let out = run_within(cmd, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is in use"));
    drop(server);

    // Into a new data directory: restored and verified.
    let fresh = dir.path().join("restored");
    let mut cmd = efine(&fresh);
    cmd.args(["restore", "--from"]).arg(&file);
    let out = run_within(cmd, Duration::from_secs(120));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "restore: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("intact:"), "{stdout}");
    let mut cmd = efine(&fresh);
    cmd.args(["audit", "verify"]);
    let out = run_within(cmd, Duration::from_secs(120));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Everything acknowledged before the backup began is there, paid where it was paid; what
    // was written after the copy is not.
    let db = rusqlite::Connection::open(fresh.join("efine.db")).unwrap();
    let status = |number: &str| -> Option<String> {
        db.query_row(
            "SELECT status FROM challans WHERE number = ?1",
            [number],
            |r| r.get(0),
        )
        .ok()
    };
    for n in &before.issued {
        assert!(
            status(n).is_some(),
            "{n} was acknowledged before the backup"
        );
    }
    for n in &before.paid {
        assert_eq!(status(n).as_deref(), Some("paid"), "{n}");
        let receipts: i64 = db
            .query_row(
                "SELECT COUNT(*) FROM receipts WHERE challan_number = ?1",
                [n],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(receipts, 1, "{n}");
    }
    let restored: i64 = db
        .query_row("SELECT COUNT(*) FROM challans", [], |r| r.get(0))
        .unwrap();
    assert!(restored as usize >= before.issued.len());
    // At most the four requests in flight when the copy ended are in it beyond those answered.
    assert!(
        restored as usize <= during + 4,
        "{restored} > {during} + in flight"
    );
    assert!(acked.lock().unwrap().issued.len() > restored as usize);

    drop(db);

    // The restored directory now holds records: a second restore needs --force.
    let mut cmd = efine(&fresh);
    cmd.args(["restore", "--from"]).arg(&file);
    let out = run_within(cmd, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already holds records"));
    let mut cmd = efine(&fresh);
    cmd.args(["restore", "--force", "--from"]).arg(&file);
    let out = run_within(cmd, Duration::from_secs(120));
    assert!(out.status.success());

    // Not an E-Fine database: refused, and nothing is touched.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, "this is not a database").unwrap();
    let mut cmd = efine(&dir.path().join("other"));
    cmd.args(["restore", "--from"]).arg(&junk);
    let out = run_within(cmd, Duration::from_secs(60));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an E-Fine database"));
    assert!(!dir.path().join("other").join("efine.db").exists());
}

#[test]
fn backup_on_postgres_says_how_with_pg_dump() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = efine(dir.path());
    cmd.args(["backup", "--to", "/tmp/efine.dump"]).env(
        "EFINE_DATABASE_URL",
        "postgres://efine:not-to-be-printed@db.internal:5433/efine",
    );
    let out = run_within(cmd, Duration::from_secs(30));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        text.contains(
            "pg_dump --host db.internal --port 5433 --username efine --format custom \
             --file /tmp/efine.dump efine"
        ),
        "{text}"
    );
    assert!(!text.contains("not-to-be-printed"), "{text}");
}

/// The README's walkthrough blocks are the script CI runs (`scripts/walkthrough`), less its
/// `expect` checks: a command changed in one and not the other fails here.
#[test]
fn the_readme_walkthrough_is_the_script_ci_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let script = std::fs::read_to_string(root.join("scripts/walkthrough")).unwrap();
    let names = |text: &str, prefix: &str, suffix: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| l.strip_prefix(prefix)?.strip_suffix(suffix))
            .map(str::to_string)
            .collect()
    };
    let in_readme = names(&readme, "<!-- walkthrough: ", " -->");
    let in_script = names(&script, "# walkthrough: ", "");
    assert_eq!(in_readme, in_script);
    assert_eq!(in_script, ["issue", "pay", "penalties"]);
    for name in &in_script {
        let from_script: Vec<&str> = script
            .lines()
            .skip_while(|l| *l != format!("# walkthrough: {name}"))
            .skip(1)
            .take_while(|l| *l != "# end of walkthrough")
            .filter(|l| !l.starts_with("expect"))
            .collect();
        let from_readme: Vec<&str> = readme
            .lines()
            .skip_while(|l| *l != format!("<!-- walkthrough: {name} -->"))
            .skip(1)
            .collect();
        assert_eq!(from_readme.first(), Some(&"```sh"), "{name}");
        let from_readme: Vec<&str> = from_readme[1..]
            .iter()
            .copied()
            .take_while(|l| *l != "```")
            .collect();
        assert_eq!(
            from_readme, from_script,
            "README block {name:?} differs from scripts/walkthrough"
        );
    }
}

/// `efine` serving from a data directory on a small disk of its own: a tmpfs of `size` mounted
/// over `data` in a private mount namespace, holding a copy of `seed` and a ballast file that
/// takes all but `free` of the space. The server is the namespace's only process, so the disk
/// goes when it does; the test frees space by removing the ballast through `/proc/PID/root`.
fn efine_on_a_small_disk(seed: &Path, data: &Path, size: &str, free: &str) -> Command {
    let mut c = Command::new("unshare");
    c.args(["--map-root-user", "--mount", "sh", "-c"])
        .arg(
            r#"set -e
mount -t tmpfs -o size="$DISK_SIZE" efine-test "$EFINE_DATA_DIR"
cp -a "$DISK_SEED"/. "$EFINE_DATA_DIR"/
dd if=/dev/zero of="$EFINE_DATA_DIR/ballast" bs=64k 2>/dev/null || true
truncate -s -"$DISK_FREE" "$EFINE_DATA_DIR/ballast"
exec "$@""#,
        )
        .arg("sh")
        .arg(EFINE)
        .env_remove("EFINE_DATABASE_URL")
        .env_remove("EFINE_CONFIG")
        .env("EFINE_DATA_DIR", data)
        .env("DISK_SEED", seed)
        .env("DISK_SIZE", size)
        .env("DISK_FREE", free)
        .env("EFINE_LOG", "warn")
        .env("NO_COLOR", "1");
    c
}

/// The disk under the database fills while the server issues challans: the request that finds
/// it full is answered 503 with `Retry-After` and code `unavailable`, nothing of it is written,
/// reads go on, and once space is freed the same request (same Idempotency-Key) is issued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_503_writes_nothing_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed");
    let data = dir.path().join("disk");
    std::fs::create_dir_all(&seed).unwrap();
    std::fs::create_dir_all(&data).unwrap();
    add_user(
        &seed,
        &[
            "--username",
            "disk.officer",
            "--role",
            "officer",
            "--department",
            "traffic-police",
            "--district",
            "peshawar",
        ],
        "load-test-password",
    );
    let server = Server::start(efine_on_a_small_disk(&seed, &data, "64m", "512k"));
    let ballast = Path::new("/proc")
        .join(server.child.id().to_string())
        .join("root")
        .join(data.strip_prefix("/").unwrap())
        .join("ballast");
    assert!(ballast.exists(), "{}", ballast.display());
    let http = reqwest::Client::new();
    let officer = token(&http, &server.url, "disk.officer", None).await;
    let issue = |key: String, vehicle: String| {
        let (http, url, officer) = (http.clone(), server.url.clone(), officer.clone());
        async move {
            http.post(format!("{url}/api/v1/challans"))
                .bearer_auth(&officer)
                .header("Idempotency-Key", key)
                .json(&json!({"offence_code": "no-helmet", "vehicle_number": vehicle}))
                .send()
                .await
                .unwrap()
        }
    };
    let lookup = |vehicle: String| {
        let (http, url) = (http.clone(), server.url.clone());
        async move {
            let r = http
                .post(format!("{url}/api/v1/public/lookup"))
                .json(&json!({ "vehicle": vehicle }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()["count"].as_i64().unwrap()
        }
    };

    // Issue until the disk is full; every answer before that is a 201.
    let mut issued = 0;
    let (full_key, full_vehicle, answer) = loop {
        assert!(issued < 5_000, "the disk never filled");
        let (key, vehicle) = (format!("disk-{issued}"), format!("DF-{issued:04}"));
        let r = issue(key.clone(), vehicle.clone()).await;
        if r.status() != 201 {
            break (key, vehicle, r);
        }
        issued += 1;
    };
    assert!(issued > 0, "nothing was issued before the disk filled");
    assert_eq!(answer.status(), 503, "{:?}", answer.text().await);
    assert_eq!(answer.headers()["retry-after"], "5");
    let v: Value = answer.json().await.unwrap();
    assert_eq!(v["error"]["code"], "unavailable", "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("nothing was written"), "{message}");

    // Reads go on, and show nothing of the refused challan; the last acknowledged one is there.
    assert_eq!(lookup(full_vehicle.clone()).await, 0);
    assert_eq!(lookup(format!("DF-{:04}", issued - 1)).await, 1);

    // Space comes back: the same request is issued once, and the server goes on.
    std::fs::remove_file(&ballast).unwrap();
    let r = issue(full_key.clone(), full_vehicle.clone()).await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let replay = issue(full_key, full_vehicle.clone()).await;
    assert!(replay.status().is_success(), "{:?}", replay.text().await);
    assert_eq!(lookup(full_vehicle).await, 1);
    let r = issue("disk-after".into(), "DF-AFTER".into()).await;
    assert_eq!(r.status(), 201);
    let log = server.stderr.lock().unwrap().clone();
    assert!(!log.contains("panicked"), "{log}");
}
