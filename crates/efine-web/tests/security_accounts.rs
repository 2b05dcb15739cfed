//! Staff account security through the real server on both backends: login throttling (per
//! account, per client address, the 1Bill caller), the second factor (TOTP and recovery codes,
//! enrolment in the console), the password policy, the account lifecycle (revoke a token,
//! disable, enable, reset, idle sessions) and four-eyes that one admin cannot defeat.

mod common;

use common::{hidden, set_cookie, TestApp, PASSWORD};
use efine_core::auth::Role;
use efine_store::ops::{events, users};
use efine_store::testing::RawSql;
use serde_json::{json, Value};
use time::Duration;

async fn token_login(
    app: &TestApp,
    username: &str,
    password: &str,
    code: &str,
) -> (u16, Value, Option<String>) {
    let r = app
        .http
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"username": username, "password": password, "code": code}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (status, r.json().await.unwrap_or(Value::Null), retry)
}

async fn kinds(app: &TestApp, subject: &str) -> Vec<String> {
    let s = subject.to_string();
    app.store
        .read(move |tx| events::for_subject(tx, &s))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

/// Wrong passwords for one account: three free, then doubling waits (429 with Retry-After, the
/// password not even checked), a lock at the tenth; the right password is refused while
/// locked and accepted once the lock has passed. Every failure and the lock are events.
async fn wrong_passwords_lock_the_account(app: TestApp) {
    app.officer().await;
    let mut wrong = 0;
    let mut throttled = 0;
    loop {
        let (s, v, retry) = token_login(&app, "officer.psh", "not the password", "").await;
        match s {
            401 => wrong += 1,
            429 => {
                throttled += 1;
                assert_eq!(v["error"]["code"], "login_throttled");
                let secs: i64 = retry.expect("Retry-After").parse().unwrap();
                if secs > 120 {
                    break;
                }
                app.clock.advance(Duration::seconds(secs));
            }
            other => panic!("status {other}: {v}"),
        }
        assert!(wrong <= 10, "more than 10 wrong passwords were checked");
    }
    assert_eq!(wrong, 10, "wrong passwords checked before the lock");
    assert_eq!(throttled, 7, "six growing waits, then the lock");
    // Locked: the right password is not even looked at.
    let (s, _, retry) = token_login(&app, "officer.psh", PASSWORD, "").await;
    assert_eq!(s, 429);
    assert!(retry.unwrap().parse::<i64>().unwrap() > 14 * 60);
    let k = kinds(&app, "user:officer.psh").await;
    assert_eq!(k.iter().filter(|k| *k == "auth.login_failed").count(), 10);
    assert_eq!(k.iter().filter(|k| *k == "auth.login_locked").count(), 1);
    // Another account from the same address is not locked (the address had ten failures:
    // a one-second wait, far from its own lock at thirty).
    app.clock.advance(Duration::seconds(2));
    app.user(
        "officer.two",
        Role::Officer,
        Some("traffic-police"),
        Some("peshawar"),
    )
    .await;
    // After the lock, the right password works and the count starts again.
    app.clock.advance(Duration::minutes(16));
    let (s, v, _) = token_login(&app, "officer.psh", PASSWORD, "").await;
    assert_eq!(s, 200, "{v}");
    let (s, _, _) = token_login(&app, "officer.psh", "not the password", "").await;
    assert_eq!(s, 401);
}

/// Password spraying from one address: many usernames, each tried once or twice, lock the
/// address at 30 failures (three times an account's limit) even for a right password.
async fn spraying_locks_the_address(app: TestApp) {
    app.officer().await;
    let mut n = 0;
    loop {
        let (s, _, retry) = token_login(&app, &format!("nobody.{n}"), "guess-password-1", "").await;
        match s {
            401 => n += 1,
            429 => {
                let secs: i64 = retry.unwrap().parse().unwrap();
                if secs > 120 {
                    break;
                }
                app.clock.advance(Duration::seconds(secs));
            }
            other => panic!("status {other}"),
        }
        assert!(n <= 30);
    }
    assert_eq!(n, 30);
    let (s, _, _) = token_login(&app, "officer.psh", PASSWORD, "").await;
    assert_eq!(s, 429, "the address is locked for every account");
    // The console login shares the counts, and says so in the reader's language.
    let r = app.console_login_with("officer.psh", PASSWORD, "").await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert!(r.text().await.unwrap().contains("Too many failed sign-ins"));
}

/// The 1Bill caller: wrong credentials from an address lock that address (04 for every call,
/// right credentials too) and are events; the banks' own calls from elsewhere are untouched.
async fn onebill_credentials_are_throttled(app: TestApp) {
    let officer = app.officer().await;
    let (s, c) = app
        .issue(
            &officer,
            json!({"offence_code": "no-helmet", "vehicle_number": "PES 4321", "cnic": "17301-1234567-1"}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let psid = c["psid"].as_str().unwrap().to_string();
    let inquiry = |password: &'static str| {
        app.post(
            "/api/v1/1bill/bill-inquiry",
            json!({"userName": "sandbox-bank", "password": password, "consumerNumber": psid, "bankMnemonic": "HBL"}),
        )
    };
    let (s, v) = inquiry("sandbox-1bill").await;
    assert_eq!(s, 200);
    assert_eq!(v["Response_Code"], "00", "{v}");
    // Ten wrong guesses, each after any wait has passed: the tenth locks the address.
    for _ in 0..10 {
        let (s, v) = inquiry("guess").await;
        assert_eq!(s, 200);
        assert_eq!(v["Response_Code"], "04");
        app.clock.advance(Duration::seconds(61));
    }
    let (_, v) = inquiry("sandbox-1bill").await;
    assert_eq!(v["Response_Code"], "04", "the address is locked: {v}");
    let k = kinds(&app, "1bill:127.0.0.1").await;
    assert_eq!(k.iter().filter(|k| *k == "auth.login_failed").count(), 10);
    assert_eq!(k.iter().filter(|k| *k == "auth.login_locked").count(), 1);
    app.clock.advance(Duration::minutes(16));
    let (_, v) = inquiry("sandbox-1bill").await;
    assert_eq!(v["Response_Code"], "00", "{v}");
}

/// Approving and auditing roles need the code; a recovery code works once; an account that has
/// not enrolled is told to enrol in the console.
async fn second_factor_on_the_token_api(app: TestApp) {
    app.user("sup.psh", Role::Supervisor, Some("traffic-police"), None)
        .await;
    let (s, _, _) = token_login(&app, "sup.psh", PASSWORD, "").await;
    assert_eq!(s, 401, "no code");
    let wrong = if app.code() == "000000" {
        "111111"
    } else {
        "000000"
    };
    let (s, v, _) = token_login(&app, "sup.psh", PASSWORD, wrong).await;
    assert_eq!(s, 401);
    assert_eq!(v["error"]["message"], "wrong username, password or code");
    let (s, v, _) = token_login(&app, "sup.psh", PASSWORD, &app.code_for("sup.psh").await).await;
    assert_eq!(s, 200, "{v}");
    // A code for another step than this one and its neighbours is refused.
    let old = efine_core::auth::totp::TotpSecret::from_bytes(common::TOTP_SECRET)
        .code_at(app.store.now().unix_timestamp() - 300);
    if old != app.code() {
        let (s, _, _) = token_login(&app, "sup.psh", PASSWORD, &old).await;
        assert_eq!(s, 401);
    }
    // Recovery codes: each works once.
    let code = efine_core::auth::totp::recovery_code([9; 15]);
    let h = efine_core::auth::totp::recovery_code_hash(&code);
    let now = app.store.now();
    app.store
        .write(move |tx| {
            let p = users::for_login(tx, "sup.psh")?.unwrap().principal;
            let secret = efine_core::auth::totp::TotpSecret::from_bytes(common::TOTP_SECRET);
            users::enrol_totp(tx, &p, &secret.base32(), &[h], now)
        })
        .await
        .unwrap();
    let (s, _, _) = token_login(&app, "sup.psh", PASSWORD, &code.to_lowercase()).await;
    assert_eq!(s, 200);
    let (s, _, _) = token_login(&app, "sup.psh", PASSWORD, &code).await;
    assert_eq!(s, 401, "a recovery code is spent");
    // An officer needs no code.
    app.officer().await;
    let (s, _, _) = token_login(&app, "officer.psh", PASSWORD, "").await;
    assert_eq!(s, 200);
    // An auditor added without enrolling: told where to enrol, no token.
    add_unenrolled(&app, "audit.new", Role::Auditor).await;
    let (s, v, _) = token_login(&app, "audit.new", PASSWORD, "").await;
    assert_eq!(s, 403);
    assert_eq!(v["error"]["code"], "second_factor_not_enrolled");
}

/// A TOTP code signs in once (ASVS 6.5.1): the same code again, or a code of an earlier step
/// still inside the drift window, is a failed login with the usual message, on the token API
/// and the console alike; the next step's code is accepted; two logins racing with one fresh
/// code get one token between them.
async fn a_totp_code_counts_once(app: TestApp) {
    app.user("sup.once", Role::Supervisor, Some("traffic-police"), None)
        .await;
    let used = app.code();
    let failures = || async {
        kinds(&app, "user:sup.once")
            .await
            .iter()
            .filter(|k| *k == "auth.login_failed")
            .count()
    };
    assert_eq!(failures().await, 0);
    let (s, v, _) = token_login(&app, "sup.once", PASSWORD, &used).await;
    assert_eq!(s, 401, "the same code twice: {v}");
    assert_eq!(v["error"]["message"], "wrong username, password or code");
    assert_eq!(failures().await, 1, "counted as a failed login");

    app.clock.advance(Duration::seconds(30));
    let next = app.code();
    assert_ne!(next, used);
    let (s, v, _) = token_login(&app, "sup.once", PASSWORD, &next).await;
    assert_eq!(s, 200, "the next step's code: {v}");
    // The step before, still inside the drift window, is older than the one accepted.
    let (s, _, _) = token_login(&app, "sup.once", PASSWORD, &used).await;
    assert_eq!(s, 401, "an earlier step's code after a later one");
    let r = app.console_login_with("sup.once", PASSWORD, &next).await;
    assert_eq!(r.status(), 401, "the console refuses the used code too");
    assert!(set_cookie(&r, "efine_staff").is_none());
    assert_eq!(failures().await, 3);

    app.clock.advance(Duration::seconds(30));
    let fresh = app.code();
    let (a, b) = tokio::join!(
        token_login(&app, "sup.once", PASSWORD, &fresh),
        token_login(&app, "sup.once", PASSWORD, &fresh)
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [200, 401], "one token for one code");
    let last = app
        .store
        .read(|tx| {
            tx.query_opt(
                "SELECT totp_last_step FROM users WHERE username = 'sup.once'",
                &[],
            )?
            .map(|r| r.opt_i64(0))
            .transpose()
        })
        .await
        .unwrap()
        .flatten();
    assert_eq!(
        last,
        Some(app.store.now().unix_timestamp().div_euclid(30)),
        "the step accepted is kept in the database"
    );
}

async fn add_unenrolled(app: &TestApp, username: &str, role: Role) {
    let hash = users::hash_password(PASSWORD).unwrap();
    let new = users::NewUser {
        username: username.into(),
        password_hash: hash,
        role,
        department: None,
        district: None,
    };
    let now = app.store.now();
    app.store
        .write(move |tx| users::add(tx, &new, "test", now))
        .await
        .unwrap();
}

/// First console sign-in of an account that must enrol: every page leads to the enrolment
/// page; the QR page's secret and a code from it turn the factor on and show ten recovery
/// codes; from then on the token API takes the code.
async fn enrolment_in_the_console(app: TestApp) {
    add_unenrolled(&app, "audit.new", Role::Auditor).await;
    let r = app.console_login_with("audit.new", PASSWORD, "").await;
    assert_eq!(r.status(), 303);
    let cookie = format!("efine_staff={}", set_cookie(&r, "efine_staff").unwrap());
    let http = TestApp::browser_client();
    let r = http
        .get(app.url("/staff"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/staff/security");
    let page = http
        .get(app.url("/staff/security"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<svg"), "a QR code");
    let secret = hidden(&page, "secret");
    let csrf = hidden(&page, "csrf");
    let s = efine_core::auth::totp::TotpSecret::parse_base32(&secret).unwrap();
    let code = s.code_at(app.store.now().unix_timestamp());
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = http
        .post(app.url("/staff/security/totp"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("secret", &secret),
            ("code", wrong),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = http
        .post(app.url("/staff/security/totp"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("secret", &secret),
            ("code", &code),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let done = r.text().await.unwrap();
    assert_eq!(done.matches("<li><code>").count(), 10, "{done}");
    // The console opens now, and enrolling again from a session is refused.
    let r = http
        .get(app.url("/staff"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .post(app.url("/staff/security/totp"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("secret", &secret),
            ("code", &code),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    // The code that confirmed the enrolment has been used; the app's next one signs in.
    let (st, _, _) = token_login(&app, "audit.new", PASSWORD, &code).await;
    assert_eq!(st, 401);
    app.clock.advance(Duration::seconds(30));
    let next = s.code_at(app.store.now().unix_timestamp());
    let (st, v, _) = token_login(&app, "audit.new", PASSWORD, &next).await;
    assert_eq!(st, 200, "{v}");
    assert!(kinds(&app, "user:audit.new")
        .await
        .contains(&"user.totp_enrolled".to_string()));
}

/// One password policy: the console refuses short, common and username-bearing passwords with
/// the field named, in the page's language.
async fn console_password_policy(app: TestApp) {
    app.user("admin.one", Role::Admin, None, None).await;
    let adm = app.console_session("admin.one").await;
    let http = TestApp::browser_client();
    let page = http
        .get(app.url("/staff/users"))
        .header("cookie", &adm)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "csrf");
    for (password, says) in [
        ("123456789012", "most commonly used"),
        ("password1234", "most commonly used"),
        ("short-pw", "at least 12"),
        ("officer.kpk-is-mine", "must not contain the username"),
    ] {
        let r = http
            .post(app.url("/staff/users"))
            .header("cookie", &adm)
            .form(&[
                ("csrf", csrf.as_str()),
                ("username", "officer.kpk"),
                ("role", "officer"),
                ("department", "traffic-police"),
                ("district", "swat"),
                ("password", password),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{password}");
        assert!(r.text().await.unwrap().contains(says), "{password}");
    }
    let r = http
        .post(app.url("/staff/users?lang=ur"))
        .header("cookie", format!("{adm}; efine_lang=ur"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "officer.kpk"),
            ("role", "officer"),
            ("department", "traffic-police"),
            ("district", "swat"),
            ("password", "123456789012"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("سب سے زیادہ استعمال"));
}

/// `DELETE /api/v1/auth/token` ends the caller's token; disabling ends every token and session
/// at once (and enabling does not bring them back); a reset password ends them too; a console
/// session ends after the idle time even within its lifetime.
async fn account_lifecycle(app: TestApp) {
    let officer = app.officer().await;
    let r = app
        .http
        .delete(app.url("/api/v1/auth/token"))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (s, _) = app
        .get("/api/v1/catalogue/departments", Some(&officer))
        .await;
    assert_eq!(s, 200, "the catalogue is public");
    let (s, _) = app
        .get("/api/v1/stats/summary?group_by=district", Some(&officer))
        .await;
    assert_eq!(s, 401, "a revoked token opens nothing");
    assert!(kinds(&app, "user:officer.psh")
        .await
        .contains(&"auth.token_revoked".to_string()));

    let officer = app.login("officer.psh", PASSWORD).await;
    let officer_web = app.console_session("officer.psh").await;
    app.user("admin.one", Role::Admin, None, None).await;
    let adm = app.console_session("admin.one").await;
    let http = TestApp::browser_client();
    let page = |cookie: String| {
        let http = http.clone();
        let url = app.url("/staff/users");
        async move { http.get(url).header("cookie", cookie).send().await.unwrap() }
    };
    let csrf = hidden(&page(adm.clone()).await.text().await.unwrap(), "csrf");
    let post = |path: &str, form: Vec<(&'static str, String)>| {
        http.post(app.url(path))
            .header("cookie", adm.clone())
            .form(&form)
            .send()
    };
    let r = post(
        "/staff/users/disable",
        vec![("csrf", csrf.clone()), ("username", "officer.psh".into())],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 303);
    app.clock.advance(Duration::seconds(1));
    let (s, _) = app
        .get("/api/v1/stats/summary?group_by=district", Some(&officer))
        .await;
    assert_eq!(s, 401, "disabled: the token ended at once");
    let r = http
        .get(app.url("/staff"))
        .header("cookie", &officer_web)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "disabled: the session ended at once");
    let (s, _, _) = token_login(&app, "officer.psh", PASSWORD, "").await;
    assert_eq!(s, 401);
    // An admin cannot disable their own account.
    let r = post(
        "/staff/users/disable",
        vec![("csrf", csrf.clone()), ("username", "admin.one".into())],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 403);
    // Enabled again: the old token stays ended, a new login works.
    let r = post(
        "/staff/users/enable",
        vec![("csrf", csrf.clone()), ("username", "officer.psh".into())],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 303);
    let (s, _) = app
        .get("/api/v1/stats/summary?group_by=district", Some(&officer))
        .await;
    assert_eq!(s, 401);
    let fresh = app.login("officer.psh", PASSWORD).await;
    // Reset: the policy applies; the old password and token stop working.
    let r = post(
        "/staff/users/reset-password",
        vec![
            ("csrf", csrf.clone()),
            ("username", "officer.psh".into()),
            ("password", "Password1234".into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    let r = post(
        "/staff/users/reset-password",
        vec![
            ("csrf", csrf.clone()),
            ("username", "officer.psh".into()),
            ("password", "shalimar-gardens-at-noon".into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 303);
    app.clock.advance(Duration::seconds(1));
    let (s, _) = app
        .get("/api/v1/stats/summary?group_by=district", Some(&fresh))
        .await;
    assert_eq!(s, 401);
    let (s, _, _) = token_login(&app, "officer.psh", PASSWORD, "").await;
    assert_eq!(s, 401);
    let (s, _, _) = token_login(&app, "officer.psh", "shalimar-gardens-at-noon", "").await;
    assert_eq!(s, 200);
    let k = kinds(&app, "user:officer.psh").await;
    for e in ["user.disabled", "user.enabled", "user.password_reset"] {
        assert!(k.contains(&e.to_string()), "{e} in {k:?}");
    }

    // Idle timeout (30 minutes by default): used every 20 minutes the session lives; left
    // 31 minutes it is over, though its absolute lifetime (12 hours) is not.
    for _ in 0..3 {
        app.clock.advance(Duration::minutes(20));
        assert_eq!(page(adm.clone()).await.status(), 200);
    }
    app.clock.advance(Duration::minutes(31));
    let r = page(adm.clone()).await;
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/staff/login"));
}

/// The attack of the security review: an admin requests a cancellation, makes a supervisor
/// account and approves with it. The new account waits for a second admin (the requester
/// cannot approve their own grant); once approved, it still cannot decide the requester's
/// cancellation, because the requester created it. A supervisor nobody involved made can.
async fn one_admin_cannot_defeat_four_eyes(app: TestApp) {
    let officer = app.officer().await;
    let admin_a = app.user("admin.a", Role::Admin, None, None).await;
    app.user("admin.b", Role::Admin, None, None).await;
    let (s, c) = app
        .issue(
            &officer,
            json!({"offence_code": "no-helmet", "vehicle_number": "PES 4321", "cnic": "17301-1234567-1"}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let number = c["challan_number"].as_str().unwrap().to_string();
    let r = app
        .http
        .post(app.url(&format!("/api/v1/challans/{number}/cancellation")))
        .bearer_auth(&admin_a)
        .json(&json!({"reason": "made up to test the rule"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();

    // admin.a makes a supervisor in the console: it waits, inactive, for a second admin.
    let a_web = app.console_session("admin.a").await;
    let http = TestApp::browser_client();
    let page = http
        .get(app.url("/staff/users"))
        .header("cookie", &a_web)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "csrf");
    let r = http
        .post(app.url("/staff/users"))
        .header("cookie", &a_web)
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "sup.puppet"),
            ("role", "supervisor"),
            ("department", "traffic-police"),
            ("password", "a-puppet-of-admin-a"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (s, _, _) = token_login(&app, "sup.puppet", "a-puppet-of-admin-a", "").await;
    assert_eq!(s, 401, "not active before a second admin approves");
    let grant = app
        .store
        .read(|tx| users::pending_grants(tx))
        .await
        .unwrap()
        .into_iter()
        .find(|g| g.username == "sup.puppet")
        .expect("a pending grant");
    // admin.a cannot approve their own grant.
    let r = http
        .post(app.url("/staff/users/grants"))
        .header("cookie", &a_web)
        .form(&[
            ("csrf", csrf.as_str()),
            ("id", &grant.id.to_string()),
            ("decision", "approve"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // admin.b approves it.
    let b_web = app.console_session("admin.b").await;
    let page = http
        .get(app.url("/staff/users"))
        .header("cookie", &b_web)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("sup.puppet"));
    let b_csrf = hidden(&page, "csrf");
    let r = http
        .post(app.url("/staff/users/grants"))
        .header("cookie", &b_web)
        .form(&[
            ("csrf", b_csrf.as_str()),
            ("id", &grant.id.to_string()),
            ("decision", "approve"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    // The puppet signs in (enrolling its second factor) and tries to approve: refused.
    let now = app.store.now();
    app.store
        .write(move |tx| {
            let p = users::for_login(tx, "sup.puppet")?.unwrap().principal;
            let s = efine_core::auth::totp::TotpSecret::from_bytes(common::TOTP_SECRET);
            users::enrol_totp(tx, &p, &s.base32(), &[], now)
        })
        .await
        .unwrap();
    let puppet = app.login("sup.puppet", "a-puppet-of-admin-a").await;
    let r = app
        .http
        .post(app.url(&format!("/api/v1/cancellations/{id}/approve")))
        .bearer_auth(&puppet)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "sponsored_account", "{v}");
    // A supervisor admin.a did not make decides it.
    let sup = app
        .user("sup.honest", Role::Supervisor, Some("traffic-police"), None)
        .await;
    let r = app
        .http
        .post(app.url(&format!("/api/v1/cancellations/{id}/approve")))
        .bearer_auth(&sup)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let k = kinds(&app, "user:sup.puppet").await;
    assert!(k.contains(&"user.grant_requested".to_string()));
    assert!(k.contains(&"user.grant_approved".to_string()));
}

both_backends!(
    wrong_passwords_lock_the_account,
    spraying_locks_the_address,
    onebill_credentials_are_throttled,
    second_factor_on_the_token_api,
    a_totp_code_counts_once,
    enrolment_in_the_console,
    console_password_policy,
    account_lifecycle,
    one_admin_cannot_defeat_four_eyes,
);
