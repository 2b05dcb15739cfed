//! The staff console escapes what it shows, through the real server on both backends: text from
//! the record (name, location, a cancellation reason) and from the request (search filters, a
//! desk form sent back with a mistake) reaches the page as text, never as markup.

mod common;

use common::{TestApp, PASSWORD};
use efine_core::auth::Role;
use serde_json::json;

both_backends!(
    record_and_request_text_is_escaped_in_the_console,
    the_sign_in_page_says_how_to_create_the_first_admin
);

const SCRIPT: &str = "<script>alert(1)</script>";
const SCRIPT_ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Signs `username` in through the login form; returns the session cookie header value.
async fn console_login(app: &TestApp, username: &str) -> String {
    let http = client();
    let cookie = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix(&format!("{name}=")))
            .map(|v| v.split(';').next().unwrap().to_string())
            .unwrap_or_else(|| panic!("no {name} cookie"))
    };
    let r = http.get(app.url("/staff/login")).send().await.unwrap();
    let csrf = cookie(&r, "efine_login");
    let r = http
        .post(app.url("/staff/login"))
        .header("cookie", format!("efine_login={csrf}"))
        .form(&[
            ("username", username),
            ("password", PASSWORD),
            ("csrf", csrf.as_str()),
            ("code", app.code_for(username).await.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "login of {username}");
    format!("efine_staff={}", cookie(&r, "efine_staff"))
}

/// The value of the hidden field `name` in a page (attribute values are quoted).
fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in {page}"));
    let rest = &page[at + marker.len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

async fn record_and_request_text_is_escaped_in_the_console(app: TestApp) {
    let token = app.officer().await;
    app.user(
        "super.psh",
        Role::Supervisor,
        Some("traffic-police"),
        Some("peshawar"),
    )
    .await;
    let (s, c) = app
        .issue(
            &token,
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-77", "name": SCRIPT,
                   "location": {"text": SCRIPT}, "notes": "<img src=x onerror=alert(1)>"}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let number = c["challan_number"].as_str().unwrap().to_string();
    let r = app
        .http
        .post(app.url(&format!("/api/v1/challans/{number}/cancellation")))
        .bearer_auth(&token)
        .json(&json!({"reason": "<b>wrong</b> vehicle"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    let http = client();
    let sup = console_login(&app, "super.psh").await;
    let get = |path: String| {
        let (http, sup, url) = (http.clone(), sup.clone(), app.url(&path));
        async move {
            let r = http.get(url).header("cookie", sup).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };

    // The record: name and location shown as text, the notes too, and the reason inside the
    // event history's JSON.
    let (s, page) = get(format!("/staff/challans/{number}")).await;
    assert_eq!(s, 200);
    let cell = format!("<td>{SCRIPT_ESCAPED}</td>");
    assert_eq!(page.matches(&cell).count(), 2, "{page}");
    assert!(
        page.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{page}"
    );
    assert!(page.contains("&lt;b&gt;wrong&lt;/b&gt; vehicle"), "{page}");
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(!page.contains("<img src=x"), "{page}");
    assert!(!page.contains("<b>wrong"), "{page}");

    // The search list, with hostile filters echoed back into the form and the error message.
    let hostile = "\"><script>alert(1)</script>";
    let q = serde_urlencoded::to_string([("vehicle", hostile), ("offence", hostile)]).unwrap();
    let (s, page) = get(format!("/staff/challans?{q}")).await;
    assert_eq!(s, 200);
    assert!(
        page.contains("value=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\""),
        "{page}"
    );
    assert!(!page.contains("<script>alert"), "{page}");
    let (s, page) = get("/staff/challans?vehicle=PES-77".into()).await;
    assert_eq!(s, 200);
    assert!(page.contains("1 found"), "{page}");
    assert!(page.contains(&format!("href=\"/staff/challans/{number}\"")));

    // The supervisor's queue: the reason as text.
    let (s, page) = get("/staff/queues".into()).await;
    assert_eq!(s, 200);
    assert!(page.contains("&lt;b&gt;wrong&lt;/b&gt; vehicle"), "{page}");
    assert!(!page.contains("<b>wrong"), "{page}");

    // A desk form sent back with a mistake keeps the typed values, as text.
    let officer = console_login(&app, "officer.psh").await;
    let page = http
        .get(app.url("/staff/challans/new"))
        .header("cookie", &officer)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "csrf");
    let r = http
        .post(app.url("/staff/challans/new"))
        .header("cookie", &officer)
        .form(&[
            ("csrf", csrf.as_str()),
            ("key", "k1"),
            ("offence_code", "no-helmet"),
            ("vehicle_number", "??"),
            ("name", SCRIPT),
            ("notes", "</textarea><script>alert(1)</script>"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains(&format!("value=\"{SCRIPT_ESCAPED}\"")),
        "{page}"
    );
    assert!(
        page.contains(&format!("&lt;/textarea&gt;{SCRIPT_ESCAPED}</textarea>")),
        "{page}"
    );
    assert!(!page.contains("<script>alert"), "{page}");
}

/// While no admin account exists the sign-in page shows the command that creates one, in the
/// page's language; once an admin exists (another role does not count) it is gone.
async fn the_sign_in_page_says_how_to_create_the_first_admin(app: TestApp) {
    let page = |lang: &'static str| {
        let url = app.url(&format!("/staff/login?lang={lang}"));
        async move {
            let r = client().get(url).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.text().await.unwrap()
        }
    };
    let command = efine_web::FIRST_ADMIN_COMMAND;
    let en = page("en").await;
    assert!(en.contains("No administrator account yet"), "{en}");
    assert!(en.contains(command), "{en}");
    assert!(en.contains("standard input"), "{en}");
    let ur = page("ur").await;
    assert!(ur.contains("ابھی کوئی ایڈمنسٹریٹر اکاؤنٹ نہیں"), "{ur}");
    assert!(ur.contains("اسٹینڈرڈ اِن پٹ"), "{ur}");
    assert!(ur.contains(command), "{ur}");

    app.user(
        "first.supervisor",
        Role::Supervisor,
        Some("traffic-police"),
        None,
    )
    .await;
    assert!(page("en").await.contains(command));
    app.user("first.admin", Role::Admin, None, None).await;
    let en = page("en").await;
    assert!(!en.contains("No administrator account yet"), "{en}");
    assert!(!en.contains(command), "{en}");
    assert!(en.contains("name=\"username\""), "{en}");
}
