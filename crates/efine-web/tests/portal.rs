//! The HTML portal and staff console through the real server, on both backends: language
//! choice, console login with its cookie and CSRF rules, logout.

mod common;

use common::{TestApp, PASSWORD};
use efine_core::auth::Role;
use efine_store::testing::RawSql;
use serde_json::json;

both_backends!(
    console_session_walkthrough,
    citizen_portal_walkthrough,
    console_pages_walkthrough,
    finance_pages_walkthrough,
    queues_walkthrough,
    pasted_settlement_file_as_a_spreadsheet_saves_it,
    cookies_carry_their_attributes
);

/// A client that shows redirects instead of following them.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of cookie `name` set by `r`, and the whole Set-Cookie line.
fn set_cookie(r: &reqwest::Response, name: &str) -> Option<(String, String)> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|line| {
            let v = line[name.len() + 1..]
                .split(';')
                .next()
                .unwrap()
                .to_string();
            (v, line.to_string())
        })
}

/// The value of the hidden field `name` in a page (attribute values are quoted).
fn hidden(page: &str, name: &str) -> String {
    let at = page
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no {name} field in {page}"));
    let rest = &page[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_string()
}

async fn console_session_walkthrough(app: TestApp) {
    app.user(
        "super.psh",
        Role::Supervisor,
        Some("traffic-police"),
        Some("peshawar"),
    )
    .await;
    let http = client();

    // No session: the console sends the browser to the login page and back afterwards.
    let r = http.get(app.url("/staff")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/staff/login?next=%2Fstaff");

    // The Urdu login page is right to left and remembers the language in a cookie.
    let r = http
        .get(app.url("/staff/login?lang=ur"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (lang, _) = set_cookie(&r, "efine_lang").expect("language cookie");
    assert_eq!(lang, "ur");
    let page = r.text().await.unwrap();
    assert!(page.contains("<html lang=\"ur\" dir=\"rtl\">"), "{page}");
    assert!(page.contains("<label for=\"password\">پاس ورڈ</label>"));
    let r = http
        .get(app.url("/staff/login"))
        .header("cookie", "efine_lang=ur")
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("dir=\"rtl\""));

    // Login form: its CSRF value is in a cookie and in the form; both must match.
    let r = http
        .get(app.url("/staff/login?next=%2Fstaff"))
        .send()
        .await
        .unwrap();
    let (login_csrf, line) = set_cookie(&r, "efine_login").unwrap();
    assert!(line.contains("HttpOnly") && line.contains("SameSite=Strict"));
    let page = r.text().await.unwrap();
    assert_eq!(hidden(&page, "csrf"), login_csrf);
    let code = app.code_for("super.psh").await;
    let login = |csrf: &str, cookie: &str, password: &str| {
        http.post(app.url("/staff/login"))
            .header("cookie", format!("efine_login={cookie}"))
            .form(&[
                ("username", "super.psh"),
                ("password", password),
                ("csrf", csrf),
                ("next", "/staff"),
                ("code", &code),
            ])
            .send()
    };
    let r = login("forged", &login_csrf, PASSWORD).await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(set_cookie(&r, "efine_staff").is_none());
    let r = login(&login_csrf, &login_csrf, "wrong password")
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Wrong username or password."));
    let r = login(&login_csrf, &login_csrf, PASSWORD).await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/staff");
    let (session, line) = set_cookie(&r, "efine_staff").expect("session cookie");
    assert!(line.contains("HttpOnly"), "{line}");
    assert!(line.contains("SameSite=Strict"), "{line}");
    assert!(!line.contains("Secure"), "http public URL: {line}");
    assert_eq!(session.len(), 64);

    // The store keeps only the hash of the session token.
    let count = |value: String| {
        app.store.read(move |tx| {
            let r = tx.query_opt(
                "SELECT COUNT(*) FROM console_sessions WHERE session_hash = $1",
                efine_store::params![value.as_str()],
            )?;
            r.unwrap().i64(0)
        })
    };
    assert_eq!(count(session.clone()).await.unwrap(), 0, "raw token stored");
    let hashed = efine_store::ops::users::token_hash(&session);
    assert_eq!(count(hashed).await.unwrap(), 1);

    let cookie = format!("efine_staff={session}");
    let r = http
        .get(app.url("/staff"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let page = r.text().await.unwrap();
    assert!(page.contains("super.psh (supervisor)"), "{page}");
    let csrf = hidden(&page, "csrf");

    // Logout without the form's CSRF token is refused and the session goes on.
    let r = http
        .post(app.url("/staff/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = http
        .get(app.url("/staff"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let r = http
        .post(app.url("/staff/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = http
        .get(app.url("/staff"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "a logged-out session opens nothing");

    // Both are in the event log.
    let kinds = app
        .store
        .read(|tx| {
            let rows = tx.query(
                "SELECT kind FROM events WHERE kind LIKE 'console.%' ORDER BY seq",
                efine_store::params![],
            )?;
            rows.iter()
                .map(|r| r.text(0))
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .unwrap();
    assert_eq!(kinds, ["console.login", "console.logout"]);
}

async fn citizen_portal_walkthrough(app: TestApp) {
    let token = app.officer().await;
    let (s, c) = app
        .issue(
            &token,
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-77",
                   "cnic": "17301-1234567-1", "name": "Muhammad Asif Khan"}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let number = c["challan_number"].as_str().unwrap();
    let psid = c["psid"].as_str().unwrap();
    let http = client();
    let post = |path: &str, form: Vec<(&str, &str)>| http.post(app.url(path)).form(&form).send();

    // Home: one search box and a separate CNIC form, both POST; every field has a label.
    let home = http
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("<form method=\"post\" action=\"/search\""));
    assert!(home.contains("<form method=\"post\" action=\"/search/cnic\""));
    assert!(home.contains("<label for=\"q\">") && home.contains("<label for=\"cnic\">"));
    assert!(home.len() < 100 * 1024);

    // A PSID or challan number goes to the challan page.
    for q in [psid, number] {
        let r = post("/search", vec![("q", q)]).await.unwrap();
        assert_eq!(r.status(), 303, "{q}");
        assert_eq!(r.headers()["location"], format!("/c/{number}").as_str());
    }
    // Unknown, malformed and empty searches are answered on the page, not with a 500.
    let r = post("/search", vec![("q", "TRF-PSH-2026-999999")])
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = post("/search", vec![("q", "<script>")]).await.unwrap();
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("id=\"search-error\"") && !page.contains("<script>"));
    assert_eq!(post("/search", vec![]).await.unwrap().status(), 422);

    // CNIC search: the challan with the name masked; the CNIC is nowhere in the page.
    let r = post("/search/cnic", vec![("cnic", "1730112345671")])
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains(&format!("href=\"/c/{number}\"")), "{page}");
    assert!(!page.contains("1234567"));

    // The challan page: amounts today and after the due date, in both languages.
    let en = http
        .get(app.url(&format!("/c/{number}")))
        .send()
        .await
        .unwrap();
    assert_eq!(en.status(), 200);
    let en = en.text().await.unwrap();
    assert!(
        en.contains("<p class=\"big\" id=\"amount-due\">Rs 500</p>"),
        "{en}"
    );
    assert!(en.contains("Rs 1,000"));
    assert!(en.contains("8 Dec 2026"));
    assert!(!en.contains("Muhammad"), "the name is masked");
    let long = http
        .get(app.url(&format!("/challans/{number}")))
        .send()
        .await
        .unwrap();
    assert_eq!(long.status(), 200);
    assert!(long
        .text()
        .await
        .unwrap()
        .contains("id=\"amount-due\">Rs 500</p>"));
    let ur = http
        .get(app.url(&format!("/c/{number}?lang=ur")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(ur.contains("۵۰۰ روپے") && ur.contains("۱٬۰۰۰ روپے"), "{ur}");
    assert!(ur.contains("۸ دسمبر ۲۰۲۶"));
    assert_eq!(
        http.get(app.url("/c/not-a-number"))
            .send()
            .await
            .unwrap()
            .status(),
        422
    );

    // Paying: a method must be chosen; then the page posts the signed form to the rail.
    let pay = format!("/c/{number}/pay");
    assert_eq!(
        post(&pay, vec![("method", "cash")]).await.unwrap().status(),
        422
    );
    let r = post(&pay, vec![("method", "jazzcash")]).await.unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("/sandbox/jazzcash/merchantform"), "{page}");
    assert!(
        page.contains("name=\"pp_Amount\" value=\"50000\""),
        "{page}"
    );
    // In Urdu, JazzCash is asked to send the payer back to the Urdu result page.
    let r = http
        .post(app.url(&pay))
        .header("cookie", "efine_lang=ur")
        .form(&[("method", "jazzcash")])
        .send()
        .await
        .unwrap();
    let page = r.text().await.unwrap();
    assert!(
        page.contains("/payments/jazzcash/return?lang=ur\""),
        "{page}"
    );

    let r = http
        .post(app.url("/payments/jazzcash/return?lang=ur"))
        .form(&[("pp_TxnRefNo", "T1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("ادائیگی کی تصدیق نہیں ہو سکی"));

    // The public transparency page is on the same shell: the remembered language applies.
    let t = http
        .get(app.url("/transparency"))
        .header("cookie", "efine_lang=ur")
        .send()
        .await
        .unwrap();
    assert_eq!(t.status(), 200);
    let t = t.text().await.unwrap();
    assert!(t.contains("<html lang=\"ur\" dir=\"rtl\">"), "{t}");
    assert!(t.contains("href=\"/transparency?lang=en\""), "{t}");
    assert!(t.contains("پشاور"));
}

/// Signs `username` in through the login form; returns the session cookie header value.
pub async fn console_login(app: &TestApp, username: &str) -> String {
    let http = client();
    let r = http.get(app.url("/staff/login")).send().await.unwrap();
    let (csrf, _) = set_cookie(&r, "efine_login").unwrap();
    let r = http
        .post(app.url("/staff/login"))
        .header("cookie", format!("efine_login={csrf}"))
        .form(&[
            ("username", username),
            ("password", PASSWORD),
            ("csrf", &csrf),
            ("code", &app.code_for(username).await),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "login of {username}");
    let (session, _) = set_cookie(&r, "efine_staff").unwrap();
    format!("efine_staff={session}")
}

async fn console_pages_walkthrough(app: TestApp) {
    app.officer().await;
    app.user(
        "super.psh",
        Role::Supervisor,
        Some("traffic-police"),
        Some("peshawar"),
    )
    .await;
    app.user(
        "depadmin.traffic",
        Role::DepartmentAdmin,
        Some("traffic-police"),
        None,
    )
    .await;
    let http = client();
    let get = |path: &str, cookie: &str| {
        http.get(app.url(path))
            .header("cookie", cookie.to_string())
            .send()
    };

    // An officer issues at the desk; submitting the same form twice issues one challan.
    let officer = console_login(&app, "officer.psh").await;
    let page = get("/staff/challans/new", &officer)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<label for=\"vehicle_number\">"), "{page}");
    let csrf = hidden(&page, "csrf");
    let key = hidden(&page, "key");
    let form = vec![
        ("csrf", csrf.as_str()),
        ("key", key.as_str()),
        ("offence_code", "no-helmet"),
        ("vehicle_number", "PES-900"),
        ("location", "University Road"),
    ];
    let mut issued = Vec::new();
    for _ in 0..2 {
        let r = http
            .post(app.url("/staff/challans/new"))
            .header("cookie", &officer)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        issued.push(r.headers()["location"].to_str().unwrap().to_string());
    }
    assert_eq!(issued[0], issued[1]);
    assert_eq!(issued[0], "/staff/challans/TRF-PSH-2026-000001");
    // A form with a mistake comes back with the message and the values kept.
    let r = http
        .post(app.url("/staff/challans/new"))
        .header("cookie", &officer)
        .form(&[
            ("csrf", csrf.as_str()),
            ("key", "k2"),
            ("offence_code", "no-helmet"),
            ("vehicle_number", "??"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("id=\"form-error\""));
    // Without the CSRF token nothing is issued.
    let r = http
        .post(app.url("/staff/challans/new"))
        .header("cookie", &officer)
        .form(&[
            ("key", "k3"),
            ("offence_code", "no-helmet"),
            ("vehicle_number", "PES-901"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    for i in 2..=30 {
        let plate = format!("PES-{i}");
        let r = http
            .post(app.url("/staff/challans/new"))
            .header("cookie", &officer)
            .form(&[
                ("csrf", csrf.as_str()),
                ("key", &format!("k{i}x")),
                ("offence_code", "no-helmet"),
                ("vehicle_number", plate.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
    }

    // A supervisor searches: 30 in scope, 25 a page, filters kept on the next page.
    let sup = console_login(&app, "super.psh").await;
    let r = get("/staff/challans/new", &sup).await.unwrap();
    assert_eq!(r.status(), 403, "only officers issue");
    let page = get("/staff/challans?status=unpaid", &sup)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("30 found (page 1 of 2)"), "{page}");
    assert!(
        page.contains("href=\"/staff/challans?status=unpaid&amp;page=2\""),
        "{page}"
    );
    assert_eq!(
        page.matches("<tr><td><a href=\"/staff/challans/TRF-")
            .count(),
        25
    );
    let page = get("/staff/challans?status=unpaid&page=2", &sup)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        page.matches("<tr><td><a href=\"/staff/challans/TRF-")
            .count(),
        5
    );
    let page = get("/staff/challans?vehicle=pes+900", &sup)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("1 found"), "{page}");
    let page = get("/staff/challans?status=paid", &sup)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("0 found"), "{page}");
    let r = get("/staff/challans?from=yesterday", &sup).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("YYYY-MM-DD"));

    // The record in full with its event history.
    let page = get(&issued[0], &sup).await.unwrap().text().await.unwrap();
    assert!(page.contains("University Road"), "{page}");
    assert!(page.contains("challan.issued"), "{page}");
    assert!(page.contains("officer.psh"));

    // The department admin changes a fee: a new version, in the schedule and the event log.
    let admin = console_login(&app, "depadmin.traffic").await;
    let page = get("/staff/schedule", &admin)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "csrf");
    let r = http
        .post(app.url("/staff/schedule"))
        .header("cookie", &admin)
        .form(&[
            ("csrf", csrf.as_str()),
            ("department", "traffic-police"),
            ("code", "no-helmet"),
            ("rupees", "750"),
            ("days", "14"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = http
        .post(app.url("/staff/schedule"))
        .header("cookie", &admin)
        .form(&[
            ("csrf", csrf.as_str()),
            ("department", "traffic-police"),
            ("code", "no-helmet"),
            ("rupees", "-5"),
            ("days", "14"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    // The change waits for a second person: the schedule is unchanged until then.
    let (_, offences) = app
        .get("/api/v1/catalogue/offences?department=traffic-police", None)
        .await;
    let fee = offences
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["code"] == "no-helmet")
        .unwrap()["amount"]
        .clone();
    assert_eq!(fee, 50000);
    app.user(
        "depadmin.two",
        Role::DepartmentAdmin,
        Some("traffic-police"),
        None,
    )
    .await;
    let second = console_login(&app, "depadmin.two").await;
    let page = get("/staff/schedule", &second)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let pid = page
        .split("action=\"/staff/schedule/proposals/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the proposal waits in the schedule page")
        .to_string();
    let r = http
        .post(app.url(&format!("/staff/schedule/proposals/{pid}")))
        .header("cookie", &second)
        .form(&[
            ("csrf", hidden(&page, "csrf").as_str()),
            ("decision", "approve"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, offences) = app
        .get("/api/v1/catalogue/offences?department=traffic-police", None)
        .await;
    let o = offences
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["code"] == "no-helmet")
        .unwrap()
        .clone();
    assert_eq!(o["amount"], 75000, "{o}");
    assert_eq!(get("/staff/schedule", &sup).await.unwrap().status(), 403);

    // The admin sees accounts with their devices and sessions and adds one, who can sign in.
    app.user("admin.one", Role::Admin, None, None).await;
    let adm = console_login(&app, "admin.one").await;
    assert_eq!(get("/staff/users", &sup).await.unwrap().status(), 403);
    let page = get("/staff/users", &adm)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // officer.psh: one device (the API token from app.officer()) and one browser session.
    assert!(
        page.contains("<tr><td><bdi dir=\"ltr\" class=\"id\">officer.psh</bdi></td><td>officer</td><td><bdi dir=\"ltr\" class=\"id\">traffic-police</bdi></td><td><bdi dir=\"ltr\" class=\"id\">peshawar</bdi></td><td>1</td><td>1</td><td>-</td>"),
        "{page}"
    );
    let csrf = hidden(&page, "csrf");
    let add = |form: Vec<(&'static str, String)>| {
        http.post(app.url("/staff/users"))
            .header("cookie", adm.clone())
            .form(&form)
            .send()
    };
    let r = add(vec![
        ("csrf", csrf.clone()),
        ("username", "officer.swat".into()),
        ("role", "officer".into()),
        ("department", "traffic-police".into()),
        ("password", "short".into()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    let r = add(vec![
        ("csrf", csrf.clone()),
        ("username", "officer.swat".into()),
        ("role", "officer".into()),
        ("department", "traffic-police".into()),
        ("password", PASSWORD.into()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), 422, "an officer needs a district");
    assert!(r.text().await.unwrap().contains("district"));
    let r = add(vec![
        ("csrf", csrf.clone()),
        ("username", "officer.swat".into()),
        ("role", "officer".into()),
        ("department", "traffic-police".into()),
        ("district", "swat".into()),
        ("password", PASSWORD.into()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), 303);
    console_login(&app, "officer.swat").await;
}

/// Starts a JazzCash checkout for challan `number`.
async fn start_jazzcash(app: &TestApp, number: &str) -> serde_json::Value {
    let (s, co) = app
        .post(
            &format!("/api/v1/public/challans/{number}/checkout"),
            json!({"method": "jazzcash"}),
        )
        .await;
    assert_eq!(s, 201, "{co}");
    co
}

/// Completes a checkout in the JazzCash sandbox; returns (rrn, reference, amount).
async fn pay_jazzcash(app: &TestApp, co: serde_json::Value) -> (String, String, i64) {
    let mut form: std::collections::BTreeMap<String, String> =
        serde_json::from_value(co["fields"].clone()).unwrap();
    form.insert("sandbox_choice".into(), "success".into());
    form.insert("sandbox_format".into(), "json".into());
    let ans: std::collections::BTreeMap<String, String> = app
        .http
        .post(app.url("/sandbox/jazzcash/complete"))
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = app
        .http
        .post(app.url("/payments/jazzcash/return"))
        .form(&ans)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    (
        ans["pp_RetreivalReferenceNo"].clone(),
        co["reference"].as_str().unwrap().to_string(),
        co["amount"].as_i64().unwrap(),
    )
}

async fn finance_pages_walkthrough(app: TestApp) {
    let token = app.officer().await;
    app.user("finance.one", Role::Finance, None, None).await;
    app.user("finance.two", Role::Finance, None, None).await;
    let (_, c) = app
        .issue(
            &token,
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-5"}),
        )
        .await;
    let number = c["challan_number"].as_str().unwrap();
    // Paid twice: the second payment is owed back.
    let a = start_jazzcash(&app, number).await;
    let b = start_jazzcash(&app, number).await;
    let first = pay_jazzcash(&app, a).await;
    pay_jazzcash(&app, b).await;
    let http = client();
    let one = console_login(&app, "finance.one").await;
    let two = console_login(&app, "finance.two").await;
    let page = |cookie: String| {
        let http = http.clone();
        let url = app.url("/staff/finance");
        async move {
            let r = http.get(url).header("cookie", cookie).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.text().await.unwrap()
        }
    };
    let p = page(one.clone()).await;
    assert!(p.contains("action=\"/staff/finance/refunds\""), "{p}");
    let csrf = hidden(&p, "csrf");
    let liability = hidden(&p, "liability_id");
    let post = |path: &str, cookie: &str, form: Vec<(&str, &str)>| {
        http.post(app.url(path))
            .header("cookie", cookie.to_string())
            .form(&form)
            .send()
    };
    let r = post(
        "/staff/finance/refunds",
        &one,
        vec![
            ("csrf", &csrf),
            ("liability_id", &liability),
            ("reason", ""),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    let r = post(
        "/staff/finance/refunds",
        &one,
        vec![
            ("csrf", &csrf),
            ("liability_id", &liability),
            ("reason", "paid twice"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 303);
    // The requester gets no approve button; deciding anyway is refused.
    let p = page(one.clone()).await;
    assert!(!p.contains("value=\"approve\""), "{p}");
    let refund_id = {
        let (_, v) = app
            .get(
                "/api/v1/refunds",
                Some(&app.user("audit.x", Role::Auditor, None, None).await),
            )
            .await;
        v["refunds"][0]["id"].as_i64().unwrap().to_string()
    };
    let r = post(
        "/staff/finance/refunds/decide",
        &one,
        vec![("csrf", &csrf), ("id", &refund_id), ("decision", "approve")],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 403);
    let p = page(two.clone()).await;
    assert!(p.contains("value=\"approve\""), "{p}");
    let csrf2 = hidden(&p, "csrf");
    let r = post(
        "/staff/finance/refunds/decide",
        &two,
        vec![
            ("csrf", &csrf2),
            ("id", &refund_id),
            ("decision", "approve"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 303);
    let p = page(two.clone()).await;
    assert!(p.contains(">approved</td>"), "{p}");

    // A settlement file pasted in: one line matches, one is unknown here.
    let day = efine_core::clock::karachi_date(app.store.now()).to_string();
    let (rrn, reference, amount) = first;
    let file = format!(
        "rail_txn_id,reference,amount_paisa,settled_on\r\n{rrn},{reference},{amount},{day}\r\nRRN-UNKNOWN-1,,5000,{day}\r\n"
    );
    let r = post(
        "/staff/finance/recon",
        &two,
        vec![
            ("csrf", &csrf2),
            ("rail", "jazzcash"),
            ("name", "jc.csv"),
            ("file", &file),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let p = r.text().await.unwrap();
    // The second payment (refunded) is not in the file: missing there.
    assert!(p.contains("2 lines: 1 matched, 2 need attention."), "{p}");
    assert!(p.contains("missing_there"));
    assert!(p.contains("RRN-UNKNOWN-1"));
    // The same file again is refused, on the page.
    let r = post(
        "/staff/finance/recon",
        &two,
        vec![("csrf", &csrf2), ("rail", "jazzcash"), ("file", &file)],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 409);
}

/// A Set-Cookie line's parts, in any order.
fn cookie_parts(line: &str) -> std::collections::BTreeSet<String> {
    line.split(';').map(|p| p.trim().to_string()).collect()
}

fn parts(want: &[&str]) -> std::collections::BTreeSet<String> {
    want.iter().map(|p| p.to_string()).collect()
}

/// Every cookie the site sets, attribute by attribute; `Secure` only with an https public URL.
async fn cookies_carry_their_attributes(app: TestApp) {
    cookie_attributes(&app, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_are_secure_behind_https() {
    let dir = tempfile::tempdir().unwrap();
    let config = efine_web::WebConfig {
        public_url: "https://efine.example".into(),
        ..Default::default()
    };
    let loc = efine_store::Location::Sqlite(dir.path().join("efine.db"));
    cookie_attributes(&TestApp::start(loc, Some(dir), config).await, true).await;
}

async fn cookie_attributes(app: &TestApp, https: bool) {
    app.user(
        "super.cookie",
        Role::Supervisor,
        Some("traffic-police"),
        Some("peshawar"),
    )
    .await;
    let secure: &[&str] = if https { &["Secure"] } else { &[] };
    // Behind https every cookie is `__Host-` prefixed (Secure, Path=/, no Domain).
    let host = if https { "__Host-" } else { "" };
    let lang_name = format!("{host}efine_lang");
    let login_name = format!("{host}efine_login");
    let staff_name = format!("{host}efine_staff");
    let with = |base: &[&str]| parts(&[base, secure].concat());
    let http = client();
    let r = http
        .get(app.url("/staff/login?lang=ur"))
        .send()
        .await
        .unwrap();
    let (_, lang) = set_cookie(&r, &lang_name).unwrap();
    let want = format!("{lang_name}=ur");
    assert_eq!(
        cookie_parts(&lang),
        with(&[&want, "Path=/", "Max-Age=31536000", "SameSite=Lax"])
    );
    let (csrf, login) = set_cookie(&r, &login_name).unwrap();
    let want = format!("{login_name}={csrf}");
    // The prefix requires Path=/; without it the login cookie stays on its page.
    let login_path = if https { "Path=/" } else { "Path=/staff/login" };
    assert_eq!(
        cookie_parts(&login),
        with(&[
            &want,
            login_path,
            "Max-Age=1800",
            "HttpOnly",
            "SameSite=Strict"
        ])
    );
    let r = http
        .post(app.url("/staff/login"))
        .header("cookie", format!("{login_name}={csrf}"))
        .form(&[
            ("username", "super.cookie"),
            ("password", PASSWORD),
            ("csrf", &csrf),
            ("code", &app.code_for("super.cookie").await),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (session, line) = set_cookie(&r, &staff_name).unwrap();
    let want = format!("{staff_name}={session}");
    let ttl = format!("Max-Age={}", app.config.token_ttl.whole_seconds());
    assert_eq!(
        cookie_parts(&line),
        with(&[&want, "Path=/", &ttl, "HttpOnly", "SameSite=Strict"])
    );
    let cookie = format!("{staff_name}={session}");
    let page = http
        .get(app.url("/staff"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = http
        .post(app.url("/staff/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf", hidden(&page, "csrf").as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, line) = set_cookie(&r, &staff_name).unwrap();
    let cleared = format!("{staff_name}=");
    assert_eq!(
        cookie_parts(&line),
        with(&[
            &cleared,
            "Path=/",
            "Max-Age=0",
            "HttpOnly",
            "SameSite=Strict"
        ])
    );
}

/// A settlement file pasted into the console with a byte-order mark, CRLF line ends and a
/// quoted field holding a comma; a bad line in such a paste is named on the page.
async fn pasted_settlement_file_as_a_spreadsheet_saves_it(app: TestApp) {
    app.user("finance.paste", Role::Finance, None, None).await;
    let http = client();
    let session = console_login(&app, "finance.paste").await;
    let r = http
        .get(app.url("/staff/finance"))
        .header("cookie", session.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csrf = hidden(&r.text().await.unwrap(), "csrf");
    let paste = |file: String| {
        http.post(app.url("/staff/finance/recon"))
            .header("cookie", session.clone())
            .form(&[
                ("csrf", csrf.as_str()),
                ("rail", "jazzcash"),
                ("name", "excel.csv"),
                ("file", file.as_str()),
            ])
            .send()
    };
    let day = efine_core::clock::karachi_date(app.store.now()).to_string();
    let r = paste(format!(
        "\u{feff}rail_txn_id,reference,amount_paisa,settled_on\r\n\"RRN-7,Y\",,\"5000\",{day}\r\n"
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let p = r.text().await.unwrap();
    assert!(p.contains("1 lines: 0 matched, 1 need attention."), "{p}");
    assert!(p.contains("RRN-7,Y"), "{p}");
    assert!(p.contains("missing_here"), "{p}");

    let r = paste(format!(
        "\u{feff}rail_txn_id,reference,amount_paisa,settled_on\r\n\"RRN-8,Z\",,5000,{day},extra\r\n"
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    let p = r.text().await.unwrap();
    assert!(p.contains("line 2: expected 4 fields"), "{p}");
}

/// A `multipart/form-data` body as a browser sends the appeal form: text fields, then file
/// fields as (name, file name, content type, bytes). Returns the content type and the body.
fn multipart(text: &[(&str, &str)], files: &[(&str, &str, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----efine-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in text {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, file_name, content_type, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\n\
                 Content-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A small real PNG (4 x 4 pixels).
fn small_png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(4, 4, |x, y| image::Rgb([x as u8 * 60, y as u8 * 60, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

async fn queues_walkthrough(app: TestApp) {
    let token = app.officer().await;
    let sup_token = app
        .user(
            "super.psh",
            Role::Supervisor,
            Some("traffic-police"),
            Some("peshawar"),
        )
        .await;
    let issue = |plate: &'static str| {
        let token = token.clone();
        let app = &app;
        async move {
            let (s, c) = app
                .issue(
                    &token,
                    json!({"offence_code": "no-helmet", "vehicle_number": plate}),
                )
                .await;
            assert_eq!(s, 201);
            c["challan_number"].as_str().unwrap().to_string()
        }
    };
    let contested = issue("PES-61").await;
    let wrong = issue("PES-62").await;
    let http = client();

    // A citizen contests a challan from its page (no account needed), attaching a photo. The
    // worker has found the plate's registered owner, whose mobile the code goes to.
    app.notify_round().await;
    let form = http
        .get(app.url(&format!("/c/{contested}/appeal?lang=ur")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(form.contains("enctype=\"multipart/form-data\""), "{form}");
    // The proof: a code sent by SMS, asked for from the page, typed into the form.
    assert!(
        form.contains(&format!("action=\"/c/{contested}/appeal/code\"")),
        "{form}"
    );
    assert!(form.contains("autocomplete=\"one-time-code\""), "{form}");
    assert!(form.contains("مجھے ایس ایم ایس پر کوڈ بھیجیں"), "{form}");
    let sent = http
        .post(app.url(&format!("/c/{contested}/appeal/code?lang=ur")))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200);
    assert!(sent.text().await.unwrap().contains("id=\"appeal-notice\""));
    let code = common::code_in(&app.notify_round().await, &contested).expect("code SMS");
    assert!(form.contains("<label for=\"evidence\">ثبوت (اختیاری)</label>"));
    assert!(form.contains(
        "<input type=\"file\" id=\"evidence\" name=\"evidence\" accept=\"image/jpeg,image/png,application/pdf,"
    ));
    let appeal = |ct: String, body: Vec<u8>| {
        http.post(app.url(&format!("/c/{contested}/appeal")))
            .header("content-type", ct)
            .body(body)
            .send()
    };
    let reason = "I was not riding; the plate was misread.";
    let r = http
        .post(app.url(&format!("/c/{contested}/appeal")))
        .form(&[("reason", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    // A file of the wrong type, and one over 10 MiB: the form again, the reason kept, nothing
    // lodged.
    let (ct, body) = multipart(
        &[("reason", reason)],
        &[("evidence", "notes.txt", "text/plain", b"not a photo")],
    );
    let r = appeal(ct, body).await.unwrap();
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("choose a photo (JPEG or PNG) or a PDF document"),
        "{page}"
    );
    assert!(page.contains(&format!(
        "aria-describedby=\"reason-hint\">{}</textarea>",
        "I was not riding; the plate was misread."
    )));
    let big = vec![0x89u8; 10 * 1024 * 1024 + 1];
    let (ct, body) = multipart(
        &[("reason", reason)],
        &[("evidence", "helmet.png", "image/png", &big)],
    );
    let r = appeal(ct, body).await.unwrap();
    assert_eq!(r.status(), 422, "a file over 10 MiB is refused on the form");
    assert!(r.text().await.unwrap().contains("larger than 10 MB"));
    let (_, list) = app.get("/api/v1/appeals", Some(&sup_token)).await;
    assert_eq!(list["appeals"], json!([]), "nothing lodged: {list}");
    // Now with a real PNG, and first a wrong code: the form again, saying how many tries are
    // left, nothing lodged.
    let png = small_png();
    let wrong_code = if code == "000000" { "111111" } else { "000000" };
    let (ct, body) = multipart(
        &[("reason", reason), ("code", wrong_code)],
        &[("evidence", "plate.png", "image/png", &png)],
    );
    let r = appeal(ct, body).await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Tries left: 4."));
    let (ct, body) = multipart(
        &[("reason", reason), ("code", &code)],
        &[("evidence", "plate.png", "image/png", &png)],
    );
    let r = appeal(ct, body).await.unwrap();
    assert_eq!(r.status(), 201);
    let page = r.text().await.unwrap();
    assert!(page.contains("id=\"appeal-lodged\""), "{page}");
    let sha: String = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&png))
    };
    assert!(
        page.contains(&sha),
        "the page shows the file's SHA-256: {page}"
    );
    let (_, list) = app.get("/api/v1/appeals", Some(&sup_token)).await;
    assert_eq!(list["appeals"].as_array().unwrap().len(), 1, "{list}");
    let a = &list["appeals"][0];
    assert_eq!(a["reason"], reason);
    assert_eq!(a["evidence"]["file_name"], "plate.png");
    assert_eq!(a["evidence"]["content_type"], "image/png");
    assert_eq!(a["evidence"]["sha256"], sha.as_str());
    let r = http
        .get(app.url(&format!("/api/v1/appeals/{}/evidence", a["id"])))
        .bearer_auth(&sup_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap().to_vec(), png, "the stored file");
    // One appeal per challan: a second is refused before the form is read, saying why (and no
    // new code is sent for an appealed challan).
    let (ct, body) = multipart(
        &[("reason", "again"), ("code", &code)],
        &[("evidence", "", "application/octet-stream", b"")],
    );
    let r = appeal(ct, body).await.unwrap();
    assert_eq!(r.status(), 409, "one appeal per challan");
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("An appeal against this challan was already lodged"));
    let r = http
        .post(app.url(&format!("/c/{contested}/appeal/code")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409, "one appeal per challan");

    // The officer asks for the other one to be cancelled from its console page.
    let officer = console_login(&app, "officer.psh").await;
    let page = http
        .get(app.url(&format!("/staff/challans/{wrong}")))
        .header("cookie", &officer)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "csrf");
    let r = http
        .post(app.url(&format!("/staff/challans/{wrong}/cancellation")))
        .header("cookie", &officer)
        .form(&[
            ("csrf", csrf.as_str()),
            ("reason", "issued to the wrong vehicle"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);

    // The supervisor's queue has both.
    let sup = console_login(&app, "super.psh").await;
    let queue = || {
        let http = http.clone();
        let url = app.url("/staff/queues");
        let sup = sup.clone();
        async move {
            let r = http.get(url).header("cookie", sup).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.text().await.unwrap()
        }
    };
    let page = queue().await;
    assert!(page.contains("issued to the wrong vehicle"), "{page}");
    assert!(page.contains("the plate was misread"));
    let csrf = hidden(&page, "csrf");
    let (_, list) = app
        .get("/api/v1/cancellations?status=pending", Some(&token))
        .await;
    let cid = list["cancellations"][0]["id"].as_i64().unwrap();
    let r = http
        .post(app.url(&format!("/staff/cancellations/{cid}")))
        .header("cookie", &sup)
        .form(&[("csrf", csrf.as_str()), ("decision", "approve")])
        .send()
        .await
        .unwrap();
    // Cancelling is final: the first post only asks for confirmation.
    assert_eq!(r.status(), 200);
    let (_, v) = app
        .get(&format!("/api/v1/public/challans/{wrong}"), None)
        .await;
    assert_eq!(v["status"], "unpaid");
    let r = http
        .post(app.url(&format!("/staff/cancellations/{cid}")))
        .header("cookie", &sup)
        .form(&[
            ("csrf", csrf.as_str()),
            ("decision", "approve"),
            ("confirm", "yes"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, v) = app
        .get(&format!("/api/v1/public/challans/{wrong}"), None)
        .await;
    assert_eq!(v["status"], "cancelled");

    // The appeal: reduce to Rs 200.
    let page = queue().await;
    let aid = page
        .split("action=\"/staff/appeals/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    let decide = |form: Vec<(&'static str, String)>| {
        http.post(app.url(&format!("/staff/appeals/{aid}")))
            .header("cookie", sup.clone())
            .form(&form)
            .send()
    };
    assert_eq!(
        decide(vec![("csrf", csrf.clone())]).await.unwrap().status(),
        422
    );
    let r = decide(vec![
        ("csrf", csrf.clone()),
        ("outcome", "reduce".into()),
        ("rupees", "200".into()),
        ("confirm", "yes".into()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), 303);
    let (_, v) = app
        .get(&format!("/api/v1/public/challans/{contested}"), None)
        .await;
    assert_eq!(v["amount_due"], 20000, "{v}");
    let page = queue().await;
    assert_eq!(page.matches("Nothing is waiting.").count(), 2, "{page}");
}
