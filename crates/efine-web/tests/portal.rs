//! The HTML portal and staff console through the real server, on both backends: language
//! choice, console login with its cookie and CSRF rules, logout.

mod common;

use common::{TestApp, PASSWORD};
use efine_core::auth::Role;

both_backends!(console_session_walkthrough);

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

/// The value of the hidden field `name` in a page.
fn hidden(page: &str, name: &str) -> String {
    let at = page
        .find(&format!("name={name} value=\""))
        .unwrap_or_else(|| panic!("no {name} field in {page}"));
    let rest = &page[at + name.len() + 13..];
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
    assert!(page.contains("<label for=password>پاس ورڈ</label>"));
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
    let login = |csrf: &str, cookie: &str, password: &str| {
        http.post(app.url("/staff/login"))
            .header("cookie", format!("efine_login={cookie}"))
            .form(&[
                ("username", "super.psh"),
                ("password", password),
                ("csrf", csrf),
                ("next", "/staff"),
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
