//! Each staff role's main path through the console, in a real browser (headless Chromium)
//! against the real server on both backends, at phone (360 px) and desktop (1280 px) widths and
//! in English and Urdu: what the page shows is asserted, and every page is screenshotted to
//! target/browser-screenshots/roles-* for people to look at.

#[path = "common/browser.rs"]
mod browser;
mod common;

use browser::Browser;
use common::TestApp;
use efine_core::auth::Role;
use serde_json::{json, Value};

both_backends!(
    checkpoint_in_swat_finds_the_peshawar_plate,
    supervisor_decides_from_cards_after_confirming,
    challan_record_reads_as_sentences_in_pakistan_time,
    dashboard_filters_change_the_figures_and_csv_downloads_with_the_session,
);

fn backend(app: &TestApp) -> &'static str {
    match app.location {
        efine_store::Location::Sqlite(_) => "sqlite",
        _ => "pg",
    }
}

/// Both widths, one screenshot each, and nothing wider than the phone (wide tables scroll
/// inside their own box).
async fn shots(b: &Browser, name: &str) {
    b.resize(360, 800).await;
    b.screenshot(&format!("roles-{name}-phone")).await;
    let wide = b
        .script(
            "const w = document.documentElement.clientWidth; \
             return [...document.querySelectorAll('body *')].filter(e => { \
               const r = e.getBoundingClientRect(); return r.width > 0 && !e.closest('.scroll') && (r.right > w + 1 || r.left < -1); \
             }).map(e => e.tagName + '.' + e.className + ' ' + e.textContent.slice(0, 30))",
        )
        .await;
    assert_eq!(wide, json!([]), "{name}: wider than the phone");
    b.resize(1280, 900).await;
    b.screenshot(&format!("roles-{name}-desktop")).await;
}

/// Signs in through the login form (password and second factor) and lands on `path`.
async fn sign_in(b: &Browser, app: &TestApp, username: &str, path: &str) {
    b.goto(&app.url(path)).await;
    b.wait_url("/staff/login").await;
    b.find("#username").await.type_text(username).await;
    b.find("#password").await.type_text(common::PASSWORD).await;
    b.find("#code").await.type_text(&app.code()).await;
    b.find("form[action='/staff/login'] button")
        .await
        .click()
        .await;
    b.wait_url(path.split('?').next().unwrap()).await;
}

/// Text without the Unicode isolation marks that keep an identifier left to right in a sentence.
fn plain(t: &str) -> String {
    t.replace(['\u{2066}', '\u{2069}'], "")
}

async fn text_of(b: &Browser, css: &str) -> String {
    b.find(css).await.text().await
}

async fn issue(app: &TestApp, token: &str, offence: &str, plate: &str) -> Value {
    let (s, c) = app
        .issue(
            token,
            json!({"offence_code": offence, "vehicle_number": plate, "mobile": "0300-1234567"}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    c
}

/// A Swat officer at a checkpoint types a Peshawar plate: the page lists the Peshawar challan,
/// the total due today (the same figure as the API), the stage, what to do, and the clearance
/// verdict; the number is shown but not linked (the record is outside Swat). Urdu shows Urdu
/// digits. A plate that is not a plate is refused on the page with 422.
async fn checkpoint_in_swat_finds_the_peshawar_plate(app: TestApp) {
    let be = backend(&app);
    let psh = app.officer().await;
    let swat = app
        .user(
            "officer.swat",
            Role::Officer,
            Some("traffic-police"),
            Some("swat"),
        )
        .await;
    let a = issue(&app, &psh, "no-helmet", "PES-2000").await;
    let b2 = issue(&app, &psh, "no-seat-belt", "PES-2000").await;
    let (s, status) = app
        .get("/api/v1/vehicles/PES-2000/status", Some(&swat))
        .await;
    assert_eq!(s, 200, "{status}");
    assert_eq!(status["unpaid_count"], 2);
    let total = status["total_due_display"].as_str().unwrap().to_string();

    let b = Browser::start().await;
    sign_in(&b, &app, "officer.swat", "/staff/checkpoint").await;
    b.find("#vehicle").await.type_text("pes 2000").await;
    b.find("form[action='/staff/checkpoint'] button")
        .await
        .click()
        .await;
    b.wait_text("the verdict", |t| t.contains("has 2 unpaid challan"))
        .await;
    assert_eq!(text_of(&b, "#total-due").await, total);
    assert_eq!(
        text_of(&b, "#action").await,
        "Tell the driver to pay; no enforcement stage has been reached yet."
    );
    assert_eq!(
        text_of(&b, "#clearance").await,
        "Clear: no challan blocks a transfer"
    );
    let page = b.text().await;
    for c in [&a, &b2] {
        let n = c["challan_number"].as_str().unwrap();
        assert!(page.contains(n), "{n} listed: {page}");
    }
    assert!(page.contains("Peshawar"), "{page}");
    assert!(
        page.contains("Riding a motorcycle without a helmet"),
        "{page}"
    );
    // Outside Swat: listed, not linked.
    let links = b
        .script("return document.querySelectorAll('main article a').length")
        .await;
    assert_eq!(links, json!(0));
    shots(&b, &format!("{be}-checkpoint-en")).await;

    // The same in Urdu: the language switch keeps the page, the form is posted again.
    b.goto(&app.url("/staff/checkpoint?lang=ur")).await;
    b.find("#vehicle").await.type_text("PES-2000").await;
    b.find("form[action='/staff/checkpoint'] button")
        .await
        .click()
        .await;
    b.wait_text("the Urdu verdict", |t| t.contains("چالان واجب الادا ہیں"))
        .await;
    b.wait_script("return document.documentElement.dir", "rtl")
        .await;
    let due = text_of(&b, "#total-due").await;
    assert!(
        due.contains("روپے") && !due.chars().any(|c| c.is_ascii_digit()),
        "{due}"
    );
    shots(&b, &format!("{be}-checkpoint-ur")).await;

    // Not a plate: the form again with a message, status 422.
    let http = TestApp::browser_client();
    let cookie = app.console_session("officer.swat").await;
    let page = http
        .get(app.url("/staff/checkpoint"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = common::hidden(&page, "csrf");
    let r = http
        .post(app.url("/staff/checkpoint"))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str()), ("vehicle", "??")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("That is not a vehicle number"));
    // Finance does not run checkpoints.
    app.user("finance.one", Role::Finance, None, None).await;
    let fin = app.console_session("finance.one").await;
    let r = http
        .get(app.url("/staff/checkpoint"))
        .header("cookie", &fin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

/// A supervisor's queue shows cards (offence, amount, officer, district, age); approving a
/// cancellation and reducing an appeal each ask for confirmation, then say what was done. The
/// reduced amount is typed in rupees with paisa and recorded exactly.
async fn supervisor_decides_from_cards_after_confirming(app: TestApp) {
    let be = backend(&app);
    let token = app.officer().await;
    app.user(
        "super.psh",
        Role::Supervisor,
        Some("traffic-police"),
        Some("peshawar"),
    )
    .await;
    let c1 = issue(&app, &token, "no-helmet", "PES-301").await;
    let c2 = issue(&app, &token, "no-helmet", "PES-302").await;
    let n1 = c1["challan_number"].as_str().unwrap().to_string();
    let n2 = c2["challan_number"].as_str().unwrap().to_string();
    let r = app
        .http
        .post(app.url(&format!("/api/v1/challans/{n1}/cancellation")))
        .bearer_auth(&token)
        .json(&json!({"reason": "issued twice by mistake"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body = app
        .with_code(
            &n2,
            json!({"reason": "the helmet was on the seat, strap open"}),
        )
        .await;
    let (s, l) = app
        .post(&format!("/api/v1/public/challans/{n2}/appeals"), body)
        .await;
    assert_eq!(s, 201, "{l}");
    // Two hours pass before the supervisor looks.
    app.clock.advance(time::Duration::hours(2));

    let b = Browser::start().await;
    sign_in(&b, &app, "super.psh", "/staff/queues").await;
    let card = text_of(&b, "[id^=cancellation-]").await;
    for want in [
        n1.as_str(),
        "Rs 500",
        "Riding a motorcycle without a helmet",
        "officer.psh",
        "Peshawar",
        "2 hour(s)",
        "issued twice by mistake",
    ] {
        assert!(card.contains(want), "{want} in {card}");
    }
    let appeal = text_of(&b, "[id^=appeal-]").await;
    assert!(
        appeal.contains(&n2) && appeal.contains("strap open") && appeal.contains("Rs 500"),
        "{appeal}"
    );
    shots(&b, &format!("{be}-queues-en")).await;
    b.goto(&app.url("/staff/queues?lang=ur")).await;
    let ur = text_of(&b, "[id^=cancellation-]").await;
    assert!(ur.contains("۵۰۰ روپے"), "{ur}");
    shots(&b, &format!("{be}-queues-ur")).await;
    b.goto(&app.url("/staff/queues?lang=en")).await;

    // Approve: a confirmation page first, nothing decided yet.
    b.find("[id^=cancellation-] button[value=approve]")
        .await
        .click()
        .await;
    b.wait_text("the confirmation", |t| {
        plain(t).contains(&format!("Cancel challan {n1}?"))
    })
    .await;
    let (_, v) = app
        .get(&format!("/api/v1/public/challans/{n1}"), None)
        .await;
    assert_eq!(v["status"], "unpaid", "not before confirming");
    shots(&b, &format!("{be}-confirm-en")).await;
    b.find("#confirm-button").await.click().await;
    b.wait_text("the result", |t| {
        plain(t).contains(&format!("Done: challan {n1} is cancelled."))
    })
    .await;
    let (_, v) = app
        .get(&format!("/api/v1/public/challans/{n1}"), None)
        .await;
    assert_eq!(v["status"], "cancelled");

    // Reduce to Rs 123.45: refused when the amount has three decimals, then confirmed.
    b.find("[id^=appeal-] input[value=reduce]")
        .await
        .click()
        .await;
    b.find("[id^=appeal-] input[name=rupees]")
        .await
        .type_text("123.456")
        .await;
    b.find("[id^=appeal-] form button").await.click().await;
    b.wait_text("the amount refused", |t| {
        t.contains("The reduced amount must be in rupees")
    })
    .await;
    b.goto(&app.url("/staff/queues")).await;
    b.find("[id^=appeal-] input[value=reduce]")
        .await
        .click()
        .await;
    b.find("[id^=appeal-] input[name=rupees]")
        .await
        .type_text("123.45")
        .await;
    b.find("[id^=appeal-] form button").await.click().await;
    b.wait_text("the confirmation", |t| {
        plain(t).contains(&format!("Reduce challan {n2} to Rs 123.45?"))
    })
    .await;
    b.find("#confirm-button").await.click().await;
    b.wait_text("the result", |t| {
        plain(t).contains(&format!("Done: challan {n2} is reduced."))
    })
    .await;
    assert!(b.text().await.contains("Nothing is waiting."));
    shots(&b, &format!("{be}-queues-done-en")).await;
    let (_, v) = app
        .get(&format!("/api/v1/public/challans/{n2}"), None)
        .await;
    assert_eq!(v["amount_due"], 12_345, "{v}");
}

/// The record shows the issue time in Pakistan time and the history as sentences in both
/// languages, with the recorded event behind a `<details>`.
async fn challan_record_reads_as_sentences_in_pakistan_time(app: TestApp) {
    let be = backend(&app);
    let token = app.officer().await;
    app.user(
        "super.psh",
        Role::Supervisor,
        Some("traffic-police"),
        Some("peshawar"),
    )
    .await;
    let c = issue(&app, &token, "no-helmet", "PES-404").await;
    let n = c["challan_number"].as_str().unwrap().to_string();
    let r = app
        .http
        .post(app.url(&format!("/api/v1/challans/{n}/cancellation")))
        .bearer_auth(&token)
        .json(&json!({"reason": "wrong plate"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    let b = Browser::start().await;
    sign_in(&b, &app, "super.psh", &format!("/staff/challans/{n}")).await;
    let page = b.text().await;
    // The test clock: 05:00 UTC is 10:00 in Peshawar.
    assert!(page.contains("24 Nov 2026, 10:00 PKT"), "{page}");
    let history = text_of(&b, "#events").await;
    assert!(
        history.contains("Issued by officer officer.psh."),
        "{history}"
    );
    assert!(
        history.contains("officer.psh asked for cancellation: wrong plate"),
        "{history}"
    );
    // The raw event is there, closed until asked for.
    assert_eq!(
        b.script("return document.querySelectorAll('#events details:not([open])').length")
            .await,
        json!(2)
    );
    assert!(!history.contains("\"reason\""), "{history}");
    b.find("#events details summary").await.click().await;
    b.wait_text("the raw event", |t| t.contains("\"challan\""))
        .await;
    shots(&b, &format!("{be}-record-en")).await;
    b.goto(&app.url(&format!("/staff/challans/{n}?lang=ur")))
        .await;
    let history = text_of(&b, "#events").await;
    assert!(
        history.contains("افسر officer.psh نے جاری کیا۔"),
        "{history}"
    );
    assert!(history.contains("۲۴ نومبر ۲۰۲۶"), "{history}");
    shots(&b, &format!("{be}-record-ur")).await;
}

/// The dashboard's district filter and date presets change the figures and stay in the
/// address; every CSV link downloads with the console session, filtered the same way; the Urdu
/// dashboard writes every figure in Urdu digits; anomaly statistics are behind a `<details>`.
async fn dashboard_filters_change_the_figures_and_csv_downloads_with_the_session(app: TestApp) {
    let be = backend(&app);
    let psh = app.officer().await;
    let swat = app
        .user(
            "officer.swat",
            Role::Officer,
            Some("traffic-police"),
            Some("swat"),
        )
        .await;
    app.user("auditor.one", Role::Auditor, None, None).await;
    issue(&app, &psh, "no-helmet", "PES-1").await;
    issue(&app, &psh, "no-helmet", "PES-2").await;
    issue(&app, &swat, "no-helmet", "SWT-1").await;

    let b = Browser::start().await;
    sign_in(&b, &app, "auditor.one", "/dashboard").await;
    assert_eq!(text_of(&b, "#total-issued").await, "3");
    assert_eq!(
        b.script("return document.querySelectorAll('#district-tiles li').length")
            .await,
        json!(38),
        "every district has a tile"
    );
    shots(&b, &format!("{be}-dashboard-en")).await;

    // Swat only, picked in the form: the address keeps it, the figures follow.
    b.script(
        "document.getElementById('district').value = 'swat'; \
         document.getElementById('filters').submit(); return 1",
    )
    .await;
    b.wait_url("district=swat").await;
    b.wait_text("Swat's figures", |t| t.contains("Showing"))
        .await;
    assert_eq!(text_of(&b, "#total-issued").await, "1");
    assert!(text_of(&b, "#showing").await.contains("Swat"));
    // A preset keeps the district.
    b.find("#presets a[href*='range=7d']").await.click().await;
    b.wait_url("range=7d").await;
    assert!(b.url().await.contains("district=swat"));
    assert_eq!(text_of(&b, "#total-issued").await, "1");
    // Last month had nothing.
    b.find("#presets a[href*='range=last_month']")
        .await
        .click()
        .await;
    b.wait_url("range=last_month").await;
    assert_eq!(text_of(&b, "#total-issued").await, "0");

    // The CSV links work in the browser, with the session and the filters.
    b.goto(&app.url("/dashboard?range=all&district=swat")).await;
    let href = b
        .script("return document.querySelector('a[href^=\"/dashboard/csv/district\"]').getAttribute('href')")
        .await;
    let href = href.as_str().unwrap().to_string();
    assert!(href.contains("district=swat"), "{href}");
    let got = b
        .script(&format!(
            "var x = new XMLHttpRequest(); x.open('GET', '{href}', false); x.send(); \
             return x.status + '|' + x.getResponseHeader('content-type') + '|' + x.responseText"
        ))
        .await;
    let got = got.as_str().unwrap();
    let parts: Vec<&str> = got.splitn(3, '|').collect();
    assert_eq!(parts[0], "200", "{got}");
    assert!(parts[1].starts_with("text/csv"), "{got}");
    let lines: Vec<&str> = parts[2].lines().collect();
    assert_eq!(lines.len(), 3, "header, Swat, total: {got}");
    assert!(lines[1].starts_with("swat,"), "{got}");
    // Every table's link answers 200 (forecast: 404 until there are 16 days of payments).
    let links = b
        .script("return [...document.querySelectorAll('a[href^=\"/dashboard/csv/\"]')].map(a => a.getAttribute('href'))")
        .await;
    let links: Vec<String> = serde_json::from_value(links).unwrap();
    assert!(links.len() >= 18, "{links:?}");
    let cookie = app.console_session("auditor.one").await;
    let http = TestApp::browser_client();
    for l in &links {
        let r = http
            .get(app.url(l))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{l}");
        let bytes = r.bytes().await.unwrap();
        assert_eq!(
            bytes.starts_with(b"\xEF\xBB\xBF"),
            l.contains("excel=1"),
            "{l}"
        );
    }
    // Without a session: the login page, not a 401.
    let r = http
        .get(app.url("/dashboard/csv/district"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);

    // Urdu: every figure in Urdu digits, the filters kept.
    b.goto(&app.url("/dashboard?lang=ur&range=all")).await;
    assert_eq!(text_of(&b, "#total-issued").await, "۳");
    let cards = text_of(&b, ".cards").await;
    assert!(!cards.chars().any(|c| c.is_ascii_digit()), "{cards}");
    let table = text_of(&b, "#by-district").await;
    assert!(!table.chars().any(|c| c.is_ascii_digit()), "{table}");
    // The chart axes too (plotters writes them as <text>).
    let axis = b
        .script("return [...document.querySelectorAll('#chart-daily svg text')].map(t => t.textContent).join(' ')")
        .await;
    let axis = axis.as_str().unwrap();
    assert!(
        !axis.is_empty() && !axis.chars().any(|c| c.is_ascii_digit()),
        "{axis}"
    );
    shots(&b, &format!("{be}-dashboard-ur")).await;
}
