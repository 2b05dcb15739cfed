//! Shared fixtures for the store conformance suite: a fresh database per test on either backend,
//! raw SQL behind the store's back, and small helpers for the common operations.

#![allow(dead_code)]

use efine_core::auth::{Principal, Role};
use efine_core::challan::{Challan, Location as Place};
use efine_core::clock::ManualClock;
use efine_core::{DepartmentCode, DistrictCode, OffenceCode};
use efine_store::ops::audit::Finding;
use efine_store::ops::idempotency::{self, Processing, Scope};
use efine_store::ops::{audit, catalogue, challans, events, users};
use efine_store::testing::RawSql;
use efine_store::{IdempotencyKey, Location, NewChallan, SavedResponse, Store, StoreError};
use std::sync::Arc;
use time::OffsetDateTime;

pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// One fresh, empty database for one test: an SQLite file in a temporary directory, or a new
/// PostgreSQL schema (dropped again when this value is dropped).
pub struct TestDb {
    pub location: Location,
    dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::TempDir::new().expect("temp dir");
        TestDb {
            location: Location::Sqlite(dir.path().join("t.db")),
            dir: Some(dir),
            pg: None,
        }
    }

    pub fn postgres() -> TestDb {
        let url = std::env::var("EFINE_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| DEFAULT_PG_URL.to_string());
        let schema = format!("t_{:016x}", rand::random::<u64>());
        TestDb {
            location: Location::Postgres {
                url: url.clone(),
                schema: Some(schema.clone()),
            },
            dir: None,
            pg: Some((url, schema)),
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    /// Opens a `Store` on this database (several may be open at once, like several processes).
    pub async fn open(&self) -> Store {
        Store::open(self.location.clone())
            .await
            .expect("opening the store")
    }

    /// Opens a `Store` whose clock stands still at `at` until moved.
    pub async fn open_at(&self, at: OffsetDateTime) -> (Store, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(at));
        let store = self.open().await.with_clock(clock.clone());
        (store, clock)
    }

    /// Runs SQL directly on the database, behind the store's back, on a blocking thread (the
    /// synchronous PostgreSQL client must not run inside the async runtime).
    pub async fn raw(&self, sql: &str) -> Result<(), String> {
        let sql = sql.to_string();
        let location = self.location.clone();
        tokio::task::spawn_blocking(move || raw_blocking(&location, &sql))
            .await
            .expect("raw SQL task")
    }
}

fn raw_blocking(location: &Location, sql: &str) -> Result<(), String> {
    match location {
        Location::Sqlite(path) => {
            let conn = rusqlite::Connection::open(path).map_err(|e| e.to_string())?;
            conn.busy_timeout(std::time::Duration::from_secs(10))
                .map_err(|e| e.to_string())?;
            conn.execute_batch(sql).map_err(|e| e.to_string())
        }
        Location::Postgres { url, schema } => {
            let mut client =
                postgres::Client::connect(url, postgres::NoTls).map_err(|e| e.to_string())?;
            if let Some(s) = schema {
                client
                    .batch_execute(&format!("SET search_path TO {s}"))
                    .map_err(|e| e.to_string())?;
            }
            client.batch_execute(sql).map_err(|e| e.to_string())
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((url, schema)) = self.pg.take() {
            // On a plain thread: this may run inside the async runtime.
            let _ = std::thread::spawn(move || {
                if let Ok(mut c) = postgres::Client::connect(&url, postgres::NoTls) {
                    let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
                }
            })
            .join();
        }
    }
}

pub fn dep(s: &str) -> DepartmentCode {
    DepartmentCode::parse(s).expect("department code")
}

pub fn dis(s: &str) -> DistrictCode {
    DistrictCode::parse(s).expect("district code")
}

pub fn off(s: &str) -> OffenceCode {
    OffenceCode::parse(s).expect("offence code")
}

/// Loads the KP reference catalogue; answers whether it loaded.
pub async fn load_kp(store: &Store) -> bool {
    let cat = efine_store::catalogue_seed::parse(efine_store::catalogue_seed::KP)
        .expect("KP catalogue parses");
    let at = store.now();
    store
        .write(move |tx| catalogue::load_if_empty(tx, &cat, at))
        .await
        .expect("loading the catalogue")
}

pub async fn add_user(
    store: &Store,
    username: &str,
    role: Role,
    department: Option<&str>,
    district: Option<&str>,
) -> Result<Principal, StoreError> {
    let user = users::NewUser {
        username: username.to_string(),
        password_hash: "not-a-real-hash".to_string(),
        role,
        department: department.map(dep),
        district: district.map(dis),
    };
    let at = store.now();
    store
        .write(move |tx| users::add(tx, &user, "admin", at))
        .await
}

pub async fn add_officer(
    store: &Store,
    username: &str,
    department: &str,
    district: &str,
) -> Principal {
    add_user(
        store,
        username,
        Role::Officer,
        Some(department),
        Some(district),
    )
    .await
    .expect("adding an officer")
}

/// A challan request with nothing but the department, district and offence.
pub fn request(department: &str, district: &str, offence: &str) -> NewChallan {
    NewChallan {
        department: dep(department),
        offence: off(offence),
        district: dis(district),
        vehicle: None,
        vehicle_authority: None,
        cnic: None,
        mobile: None,
        name: None,
        location: Place::default(),
        notes: None,
    }
}

/// What the web layer stores against an idempotency key: here, the challan as JSON.
pub fn render(c: &Challan) -> (u16, String) {
    (201, serde_json::to_string(c).expect("challan serialises"))
}

/// What issuing with an optional idempotency key came to.
#[derive(Debug)]
pub enum IssueOutcome {
    Issued {
        challan: Box<Challan>,
        status: u16,
        body: String,
    },
    /// The same key and body were seen before: the first response, unchanged.
    Replayed { status: u16, body: String },
}

/// Issues through the writer at the store's clock, composing the idempotency module with the
/// issue as the API does: look the key up, else issue, render and save, all in one write.
pub async fn issue_with(
    store: &Store,
    officer: &Principal,
    new: NewChallan,
    key: Option<IdempotencyKey>,
) -> Result<IssueOutcome, StoreError> {
    let officer = officer.clone();
    let at = store.now();
    store
        .write(move |tx| {
            let scope = Scope::api(officer.user_id);
            if let Some(k) = &key {
                if let Processing::Replay(r) = idempotency::try_processing(tx, &scope, k)? {
                    return Ok(IssueOutcome::Replayed {
                        status: r.status,
                        body: r.body,
                    });
                }
            }
            let c = challans::issue(tx, &officer, &new, at)?;
            let (status, body) = render(&c);
            if let Some(k) = &key {
                let saved = SavedResponse {
                    status,
                    body: body.clone(),
                };
                idempotency::save_response(tx, &scope, k, &saved, at)?;
            }
            Ok(IssueOutcome::Issued {
                challan: Box::new(c),
                status,
                body,
            })
        })
        .await
}

pub async fn issue(
    store: &Store,
    officer: &Principal,
    new: NewChallan,
) -> Result<IssueOutcome, StoreError> {
    issue_with(store, officer, new, None).await
}

/// The challan of an outcome that must be a fresh issue.
pub fn issued(outcome: IssueOutcome) -> Challan {
    match outcome {
        IssueOutcome::Issued { challan, .. } => *challan,
        IssueOutcome::Replayed { .. } => panic!("expected a new challan, got a replay"),
    }
}

pub async fn issue_ok(store: &Store, officer: &Principal, new: NewChallan) -> Challan {
    issued(issue(store, officer, new).await.expect("issuing"))
}

pub async fn head(store: &Store) -> (i64, String) {
    store
        .read(events::head)
        .await
        .expect("reading the chain head")
}

pub async fn count(store: &Store, sql: &'static str) -> i64 {
    store
        .read(move |tx| tx.query_one(sql, &[])?.i64(0))
        .await
        .expect("counting")
}

pub async fn verify_chain(store: &Store) -> Result<u64, Finding> {
    store
        .read(|tx| audit::verify_chain(tx, &mut |_| {}))
        .await
        .expect("verify_chain ran")
}

pub async fn verify_challans(store: &Store) -> Result<u64, Finding> {
    store
        .read(|tx| audit::verify_challans(tx, &mut |_| {}))
        .await
        .expect("verify_challans ran")
}
