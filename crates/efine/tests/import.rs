//! `efine import` through the real binary, on SQLite and on PostgreSQL: a small file imports and
//! its challans are what the public API shows; a bad line is named and nothing of its chunk is
//! written; an import killed mid-run resumes and writes every record exactly once; a second run
//! of the same file writes nothing. After each, `efine audit verify` and `efine ledger balance`
//! pass.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const EFINE: &str = env!("CARGO_BIN_EXE_efine");

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

enum Db {
    Sqlite(tempfile::TempDir),
    Postgres {
        url: String,
        schema: String,
        dir: tempfile::TempDir,
    },
}

impl Db {
    fn sqlite() -> Db {
        Db::Sqlite(tempfile::tempdir().unwrap())
    }

    fn postgres() -> Db {
        let url = std::env::var("EFINE_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let schema = format!(
            "import_{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        c.batch_execute(&format!("CREATE SCHEMA {schema}")).unwrap();
        Db::Postgres {
            url,
            schema,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn dir(&self) -> &Path {
        match self {
            Db::Sqlite(d) => d.path(),
            Db::Postgres { dir, .. } => dir.path(),
        }
    }

    fn efine(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(EFINE);
        cmd.args(args)
            .env_remove("EFINE_DATABASE_URL")
            .env("EFINE_LOG", "warn")
            .env("EFINE_DATA_DIR", self.dir());
        if let Db::Postgres { url, schema, .. } = self {
            cmd.env(
                "EFINE_DATABASE_URL",
                format!("{url}?options=-c%20search_path%3D{schema}"),
            );
        }
        cmd
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

    /// One integer from a query, read behind the binary's back.
    fn count(&self, sql: &str) -> i64 {
        match self {
            Db::Sqlite(dir) => {
                let c = rusqlite::Connection::open(dir.path().join("efine.db")).unwrap();
                c.query_row(sql, [], |r| r.get(0)).unwrap()
            }
            Db::Postgres { url, schema, .. } => {
                let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
                c.batch_execute(&format!("SET search_path = {schema}"))
                    .unwrap();
                c.query_one(sql, &[]).unwrap().get(0)
            }
        }
    }

    /// Audit verify and ledger balance both pass.
    fn assert_sound(&self) {
        let (code, out) = self.run(&["audit", "verify"]);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("intact"), "{out}");
        let (code, out) = self.run(&["ledger", "balance"]);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("balanced"), "{out}");
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Db::Postgres { url, schema, .. } = self {
            if let Ok(mut c) = postgres::Client::connect(url, postgres::NoTls) {
                let _ = c.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"));
            }
        }
    }
}

fn serve(db: &Db) -> (Server, String) {
    let mut child = db
        .efine(&["serve", "--listen", "127.0.0.1:0"])
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

const HEADER: &str = "number,department,district,offence_code,vehicle,cnic,name,mobile,officer,\
issued_at,amount_paisa,due_date,paid_at,paid_amount_paisa,rail,reference";

fn write(dir: &Path, name: &str, rows: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let mut text = format!("{HEADER}\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    path
}

/// A paid challan that keeps its number, an unpaid one from an earlier system's own numbering,
/// one without a number, paid at a counter with no reference.
const SMALL: &[&str] = &[
    "TRF-PSH-2024-000017,traffic-police,peshawar,no-helmet,PES-4411,17301-1234567-1,Aslam Khan,\
03001234567,officer.psh.1,2024-03-05T10:15:00+05:00,50000,,2024-03-07 12:00,50000,1bill,BANK-77",
    "PSH/2023/88,traffic-police,peshawar,no-seat-belt,PES-4411,,,,officer.psh.2,\
2023-11-02 09:00,100000,2023-11-16,,,,",
    ",traffic-police,swat,no-helmet,SWT-12,,,,,2024-06-01 08:30,50000,,2024-06-02 08:30,50000,\
counter,",
];

fn small_file_imports(db: Db) {
    let file = write(db.dir(), "small.csv", SMALL);
    let file = file.to_str().unwrap();
    let (code, out) = db.run(&["import", file]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("imported 3 records (2 paid)"), "{out}");
    assert_eq!(db.count("SELECT COUNT(*) FROM challans"), 3);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM challans WHERE number = 'TRF-PSH-2024-000017' AND status = 'paid' AND amount_paisa = 50000"),
        1
    );
    // The earlier number that is not an E-Fine number got a new one and is kept beside it.
    assert_eq!(
        db.count("SELECT COUNT(*) FROM import_numbers i JOIN challans c ON c.number = i.challan_number WHERE i.earlier_number = 'PSH/2023/88' AND c.number = 'TRF-PSH-2023-000001' AND c.status = 'unpaid' AND c.due_date = '2023-11-16'"),
        1
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM challans WHERE number = 'TRF-SWT-2024-000001' AND status = 'paid'"),
        1
    );
    assert_eq!(
        db.count("SELECT CAST(SUM(amount_paisa) AS BIGINT) FROM receipts"),
        100_000
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM payment_attempts WHERE rail = '1bill' AND rail_txn_id = 'BANK-77' AND state = 'confirmed'"),
        1
    );
    // Numbers issued from now on in Peshawar's 2024 sequence come after the imported one.
    assert_eq!(
        db.count("SELECT value FROM counters WHERE name = 'challan:TRF-PSH-2024'"),
        17
    );
    db.assert_sound();

    // What a citizen sees.
    let (server, base) = serve(&db);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        let v: Value = http
            .get(format!("{base}/api/v1/public/challans/TRF-PSH-2024-000017"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["status"], "paid", "{v}");
        let r = http
            .post(format!("{base}/api/v1/public/lookup"))
            .json(&json!({"vehicle": "PES 4411"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        let text = v.to_string();
        assert!(text.contains("TRF-PSH-2024-000017"), "{text}");
        assert!(text.contains("TRF-PSH-2023-000001"), "{text}");
        assert!(!text.contains("TRF-SWT-2024-000001"), "{text}");
    });
    drop(server);

    // The same file again writes nothing.
    let (code, out) = db.run(&["import", file]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("imported before (3 records)"), "{out}");
    assert_eq!(db.count("SELECT COUNT(*) FROM challans"), 3);
    // The same records in another file are refused by their numbers.
    let again = write(db.dir(), "again.csv", &SMALL[..2]);
    let (code, out) = db.run(&["import", "--chunk", "1", again.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("line 2: ") && out.contains("TRF-PSH-2024-000017"),
        "{out}"
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM challans"), 3);
    db.assert_sound();
}

fn row(n: u32, paid_amount: &str) -> String {
    format!(
        "TRF-PSH-2024-{n:06},traffic-police,peshawar,no-helmet,PES-{n},,,,,2024-03-05 10:00,50000,,\
2024-03-06 10:00,{paid_amount},card,CARD-{n}"
    )
}

fn bad_line_writes_nothing_of_its_chunk(db: Db) {
    // Line 6 pays less than was due: only the store's payment code can tell. With chunks of 3,
    // lines 2-4 commit and lines 5-7 do not.
    let rows: Vec<String> = (1..=7)
        .map(|n| row(n, if n == 5 { "40000" } else { "50000" }))
        .collect();
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    let file = write(db.dir(), "bad.csv", &refs);
    let (code, out) = db.run(&["import", "--chunk", "3", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("line 6: paid_amount_paisa: 40000 paisa paid where 50000 paisa was due"),
        "{out}"
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM challans"), 3);
    assert_eq!(db.count("SELECT COUNT(*) FROM receipts"), 3);
    assert_eq!(
        db.count("SELECT MAX(seq) FROM challans WHERE district = 'peshawar'"),
        3
    );
    db.assert_sound();

    // A field the format refuses is named with its line, by --check too, which writes nothing.
    let mut rows = rows.clone();
    rows[4] = row(5, "50000");
    rows[6] = rows[6].replace(",50000,,", ",12.50,,");
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    let fixed = write(db.dir(), "fixed.csv", &refs);
    let (code, out) = db.run(&["import", "--check", fixed.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("line 8: amount_paisa: \"12.50\" is not a whole number of paisa"),
        "{out}"
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM challans"), 3);
}

fn killed_import_resumes_once(db: Db) {
    const N: i64 = 20_000;
    let file = db.dir().join("gen.csv");
    let out = db
        .efine(&["import", "--generate", &N.to_string(), "--seed", "7"])
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::write(&file, &out.stdout).unwrap();
    let file = file.to_str().unwrap();
    let paid = String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(1)
        .filter(|l| l.contains("GEN7-"))
        .count() as i64;
    assert!(paid > N * 8 / 10 && paid < N, "{paid} paid");

    // The tables exist before the import starts, so its progress can be watched from the start.
    let (code, out) = db.run(&["migrate"]);
    assert_eq!(code, 0, "{out}");
    let mut child = db
        .efine(&["import", "--chunk", "500", file])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once some chunks, not all, are in.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    loop {
        let done = db
            .count("SELECT COALESCE(MAX(lines_done), 0) FROM imports WHERE file_name = 'gen.csv'");
        if done > 2_000 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the import never got going"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = db.count("SELECT COUNT(*) FROM challans");
    assert!(before > 0 && before < N, "killed after {before} of {N}");
    assert_eq!(
        db.count("SELECT records FROM imports WHERE file_name = 'gen.csv'"),
        before
    );
    db.assert_sound();

    let (code, out) = db.run(&["import", "--chunk", "500", file]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("imported {} records", N - before)),
        "{out}"
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM challans"), N);
    assert_eq!(db.count("SELECT COUNT(DISTINCT number) FROM challans"), N);
    assert_eq!(db.count("SELECT COUNT(*) FROM receipts"), paid);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM events WHERE kind = 'challan.issued'"),
        N
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM events WHERE kind = 'challan.paid'"),
        paid
    );
    // The statistics count each record once.
    assert_eq!(
        db.count("SELECT CAST(SUM(issued) AS BIGINT) FROM stats_daily WHERE dim = 'district'"),
        N
    );
    assert_eq!(
        db.count("SELECT CAST(SUM(paid) AS BIGINT) FROM stats_daily WHERE dim = 'district'"),
        paid
    );
    db.assert_sound();

    let (code, out) = db.run(&["import", file]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("nothing to do"), "{out}");
    assert_eq!(db.count("SELECT COUNT(*) FROM challans"), N);
}

#[test]
fn small_file_imports_sqlite() {
    small_file_imports(Db::sqlite());
}

#[test]
fn small_file_imports_postgres() {
    small_file_imports(Db::postgres());
}

#[test]
fn bad_line_writes_nothing_of_its_chunk_sqlite() {
    bad_line_writes_nothing_of_its_chunk(Db::sqlite());
}

#[test]
fn bad_line_writes_nothing_of_its_chunk_postgres() {
    bad_line_writes_nothing_of_its_chunk(Db::postgres());
}

#[test]
fn killed_import_resumes_once_sqlite() {
    killed_import_resumes_once(Db::sqlite());
}

#[test]
fn killed_import_resumes_once_postgres() {
    killed_import_resumes_once(Db::postgres());
}
