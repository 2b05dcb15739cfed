//! `TestApp`: the real server on port 0 against a fresh database, SQLite (temp file) or
//! PostgreSQL (fresh schema), with a clock the test controls.

#![allow(dead_code)]

use efine_core::auth::Role;
use efine_core::clock::ManualClock;
use efine_core::{DepartmentCode, DistrictCode};
use efine_store::ops::{catalogue, users};
use efine_store::testing::RawSql;
use efine_store::{catalogue_seed, Location, Store};
use serde_json::Value;
use std::sync::Arc;
use time::macros::datetime;

pub const PASSWORD: &str = "correct horse battery";

/// The rails a test server takes, built from its own address.
pub type Rails = fn(&str) -> efine_web::payments::PaymentsConfig;

/// Every rail's sandbox, answering on the server's own address (the default).
pub fn all_sandboxes(base: &str) -> efine_web::payments::PaymentsConfig {
    efine_web::payments::sandbox(base)
}
/// The second-factor secret every test account whose role needs one is enrolled with (the
/// harness enrols it in the store, as `/staff/security` would); [`TestApp::code`] gives the
/// code of the test clock's moment.
pub const TOTP_SECRET: [u8; 20] = *b"efine-test-totp-key!";

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub store: Store,
    pub clock: Arc<ManualClock>,
    pub config: efine_web::WebConfig,
    /// The running server's state (the poller is driven through it in tests).
    pub state: efine_web::AppState,
    /// The data directory (where an older release's key file would be imported from).
    pub key_dir: tempfile::TempDir,
    /// The key-encryption key sealing the signing keys in the database; a second node on the
    /// same database is started with the same one.
    pub kek: efine_store::keys::Kek,
    /// The database, for a second node on it.
    pub location: Location,
    /// The rails this server takes (kept for a restart).
    pub rails: Rails,
    _dir: Option<tempfile::TempDir>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
    }
}

pub fn pg_url() -> String {
    std::env::var("EFINE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn random_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}{:x}", n, std::process::id())
}

pub async fn serve(
    store: &Store,
    config: &efine_web::WebConfig,
    key_dir: &std::path::Path,
    rails: Rails,
    kek: &efine_store::keys::Kek,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    efine_web::AppState,
) {
    let keys = Arc::new(
        efine_store::keys::Keys::open(store, kek.clone(), Some(key_dir))
            .await
            .expect("keys"),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let payments = rails(&format!("http://{addr}"));
    let state =
        efine_web::AppState::new(store.clone(), config.clone(), payments, keys).expect("state");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(efine_web::serve(listener, state.clone(), async move {
        let _ = rx.await;
    }));
    (format!("http://{addr}"), tx, state)
}

impl TestApp {
    pub async fn sqlite() -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let loc = Location::Sqlite(dir.path().join("efine.db"));
        TestApp::start(loc, Some(dir), efine_web::WebConfig::default()).await
    }

    pub async fn postgres() -> TestApp {
        let loc = Location::Postgres {
            url: pg_url(),
            schema: Some(format!("web_{}", random_suffix())),
        };
        TestApp::start(loc, None, efine_web::WebConfig::default()).await
    }

    pub async fn start(
        loc: Location,
        dir: Option<tempfile::TempDir>,
        config: efine_web::WebConfig,
    ) -> TestApp {
        TestApp::start_with(loc, dir, config, efine_store::StoreOptions::default()).await
    }

    /// `start` with the store's timeouts set by the test (short ones, to reach them quickly).
    pub async fn start_with(
        loc: Location,
        dir: Option<tempfile::TempDir>,
        config: efine_web::WebConfig,
        options: efine_store::StoreOptions,
    ) -> TestApp {
        TestApp::start_full(loc, dir, config, options, all_sandboxes).await
    }

    /// A server that takes only the rails `rails` configures.
    pub async fn start_with_rails(
        loc: Location,
        dir: Option<tempfile::TempDir>,
        rails: Rails,
    ) -> TestApp {
        TestApp::start_full(
            loc,
            dir,
            efine_web::WebConfig::default(),
            efine_store::StoreOptions::default(),
            rails,
        )
        .await
    }

    async fn start_full(
        loc: Location,
        dir: Option<tempfile::TempDir>,
        config: efine_web::WebConfig,
        options: efine_store::StoreOptions,
        rails: Rails,
    ) -> TestApp {
        // Tuesday 24 November 2026, 10:00 in Peshawar.
        let clock = Arc::new(ManualClock::new(datetime!(2026-11-24 05:00 UTC)));
        let store = Store::open_with(loc.clone(), options)
            .await
            .expect("open store")
            .with_clock(clock.clone());
        let cat = catalogue_seed::parse(catalogue_seed::KP).expect("catalogue");
        let now = store.now();
        store
            .write(move |tx| catalogue::load_if_empty(tx, &cat, now))
            .await
            .expect("load catalogue");
        let key_dir = tempfile::tempdir().expect("key dir");
        // One key-encryption key for every test server, as every node of a deployment shares
        // one: two TestApps on one database both open its keys.
        let kek = efine_store::keys::Kek::from_bytes([0x4b; 32]);
        let (base, shutdown, state) = serve(&store, &config, key_dir.path(), rails, &kek).await;
        TestApp {
            base,
            http: reqwest::Client::new(),
            store,
            clock,
            config,
            state,
            key_dir,
            kek,
            location: loc,
            rails,
            _dir: dir,
            shutdown: Some(shutdown),
        }
    }

    /// Stops the server and starts another on the same database, reloading the signing keys.
    pub async fn restart(&mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        let (base, shutdown, state) = serve(
            &self.store,
            &self.config,
            self.key_dir.path(),
            self.rails,
            &self.kek,
        )
        .await;
        self.base = base;
        self.state = state;
        self.shutdown = Some(shutdown);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Adds a user directly in the store and logs in over HTTP; returns the bearer token.
    pub async fn user(
        &self,
        username: &str,
        role: Role,
        department: Option<&str>,
        district: Option<&str>,
    ) -> String {
        let hash = tokio::task::spawn_blocking(|| users::hash_password(PASSWORD))
            .await
            .unwrap()
            .unwrap();
        let new = users::NewUser {
            username: username.into(),
            password_hash: hash,
            role,
            department: department.map(|d| DepartmentCode::parse(d).unwrap()),
            district: district.map(|d| DistrictCode::parse(d).unwrap()),
        };
        let now = self.store.now();
        self.store
            .write(move |tx| {
                let p = users::add(tx, &new, "test", now)?;
                if p.role.needs_second_factor() {
                    let secret = efine_core::auth::totp::TotpSecret::from_bytes(TOTP_SECRET);
                    users::enrol_totp(tx, &p, &secret.base32(), &[], now)?;
                }
                Ok(())
            })
            .await
            .expect("add user");
        self.login(username, PASSWORD).await
    }

    /// The second-factor code of [`TOTP_SECRET`] now (by the test clock).
    pub fn code(&self) -> String {
        efine_core::auth::totp::TotpSecret::from_bytes(TOTP_SECRET)
            .code_at(self.store.now().unix_timestamp())
    }

    /// A second-factor code for `username` that the server has not accepted yet: a code counts
    /// once, so when the account already signed in with this step's code the test clock moves
    /// on one step (30 s) first, as a person waits for the app's next code.
    pub async fn code_for(&self, username: &str) -> String {
        let u = username.to_string();
        let last = self
            .store
            .read(move |tx| {
                let row = tx.query_opt(
                    "SELECT totp_last_step FROM users WHERE username = $1",
                    efine_store::params![u.as_str()],
                )?;
                row.map(|r| r.opt_i64(0)).transpose()
            })
            .await
            .expect("read last step")
            .flatten();
        let step = |app: &TestApp| {
            app.store
                .now()
                .unix_timestamp()
                .div_euclid(efine_core::auth::totp::STEP)
        };
        if last.is_some_and(|l| l >= step(self)) {
            self.clock
                .advance(time::Duration::seconds(efine_core::auth::totp::STEP));
        }
        self.code()
    }

    /// Logs in over HTTP with the password and a fresh second-factor code (ignored for roles
    /// without one); returns the bearer token.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let code = self.code_for(username).await;
        let r = self
            .http
            .post(self.url("/api/v1/auth/token"))
            .json(&serde_json::json!({"username": username, "password": password, "code": code}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "login of {username}");
        let v: Value = r.json().await.unwrap();
        v["token"].as_str().unwrap().to_string()
    }

    /// A client that does not follow redirects (console pages answer 303).
    pub fn browser_client() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// Posts the console login form (with its CSRF cookie and field) and answers the response.
    pub async fn console_login_with(
        &self,
        username: &str,
        password: &str,
        code: &str,
    ) -> reqwest::Response {
        let http = TestApp::browser_client();
        let r = http.get(self.url("/staff/login")).send().await.unwrap();
        let csrf = set_cookie(&r, "efine_login").expect("login CSRF cookie");
        http.post(self.url("/staff/login"))
            .header("cookie", format!("efine_login={csrf}"))
            .form(&[
                ("username", username),
                ("password", password),
                ("csrf", csrf.as_str()),
                ("code", code),
            ])
            .send()
            .await
            .unwrap()
    }

    /// Signs in on the console with the test password and code; the `Cookie` header value.
    pub async fn console_session(&self, username: &str) -> String {
        let code = self.code_for(username).await;
        let r = self.console_login_with(username, PASSWORD, &code).await;
        assert_eq!(r.status(), 303, "console login of {username}");
        format!(
            "efine_staff={}",
            set_cookie(&r, "efine_staff").expect("session cookie")
        )
    }

    /// A traffic officer in Peshawar.
    pub async fn officer(&self) -> String {
        self.user(
            "officer.psh",
            Role::Officer,
            Some("traffic-police"),
            Some("peshawar"),
        )
        .await
    }

    pub async fn issue(&self, token: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.url("/api/v1/challans"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut rq = self.http.get(self.url(path));
        if let Some(t) = token {
            rq = rq.bearer_auth(t);
        }
        let r = rq.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// One round of the notifications worker with the sandbox SMS provider: recipients are
    /// resolved (the registered owner of a plate-only challan, from the registry sandbox) and
    /// queued messages delivered. Returns what the provider was given.
    pub async fn notify_round(&self) -> Vec<efine_service::notify::provider::Outgoing> {
        let (notifier, sms) = efine_service::notify::Notifier::sandbox(self.store.clone());
        notifier.run_once().await.expect("notifications round");
        sms.sent()
    }

    /// Asks for an appeal code for challan `number` as the person charged would, and reads it
    /// from the SMS the sandbox provider was given.
    pub async fn appeal_code(&self, number: &str) -> String {
        // The worker resolves whom the challan's messages go to first, as it does within
        // seconds of an issue.
        self.notify_round().await;
        let (s, v) = self
            .post(
                &format!("/api/v1/public/challans/{number}/appeals/code"),
                serde_json::json!({}),
            )
            .await;
        assert_eq!(s, 202, "appeal code for {number}: {v}");
        let sent = self.notify_round().await;
        code_in(&sent, number).unwrap_or_else(|| panic!("no appeal code SMS for {number}"))
    }

    /// `body` with the proof an appeal against `number` needs: the code sent by SMS.
    pub async fn with_code(&self, number: &str, mut body: Value) -> Value {
        body["code"] = Value::String(self.appeal_code(number).await);
        body
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

/// The value of cookie `name` set by `r`.
pub fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|line| {
            line[name.len() + 1..]
                .split(';')
                .next()
                .unwrap()
                .to_string()
        })
}

/// The value of the hidden field `name` in a page.
pub fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in {page}"));
    let rest = &page[at + marker.len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// Writes each case once and runs it against both backends.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::common::TestApp::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::common::TestApp::postgres().await).await;
                }
            )*
        }
    };
}

/// The code in the last appeal-code SMS for `number` among `sent`.
pub fn code_in(sent: &[efine_service::notify::provider::Outgoing], number: &str) -> Option<String> {
    sent.iter()
        .rev()
        .filter(|m| m.reference.starts_with(&format!("{number}:appeal_code:")))
        .find_map(|m| {
            m.text.split_whitespace().find_map(|w| {
                let w = w.trim_end_matches(['.', '۔']);
                (w.len() == 6 && w.bytes().all(|b| b.is_ascii_digit())).then(|| w.to_string())
            })
        })
}
