//! Browser tests: headless Chromium (Debian's chromium and chromium-driver) against the real
//! server on SQLite, as a citizen and as staff would use the pages. Screenshots of each page,
//! at phone (360 px) and desktop widths and in both languages, are written to
//! target/browser-screenshots/ for people to look at.

#[path = "common/browser.rs"]
mod browser;
mod common;

use browser::Browser;
use common::TestApp;
use serde_json::json;

/// Both widths, one screenshot each.
async fn shots(b: &Browser, name: &str) {
    b.resize(360, 800).await;
    b.screenshot(&format!("{name}-phone")).await;
    // Nothing runs off the side of a phone screen (wide tables scroll inside their box).
    let wide = b
        .script(
            "const w = document.documentElement.clientWidth; \
             return [...document.querySelectorAll('body *')].filter(e => { \
               const r = e.getBoundingClientRect(); return r.width > 0 && !e.closest('.scroll') && (r.right > w + 1 || r.left < -1); \
             }).map(e => e.tagName + '.' + e.className + ' ' + e.textContent.slice(0, 30))",
        )
        .await;
    assert_eq!(wide, serde_json::json!([]), "{name}: wider than the phone");
    b.resize(1280, 900).await;
    b.screenshot(&format!("{name}-desktop")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn citizen_finds_by_vehicle_and_pays_with_jazzcash() {
    let app = TestApp::sqlite().await;
    let token = app.officer().await;
    let (s, c) = app
        .issue(
            &token,
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-4321"}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let number = c["challan_number"].as_str().unwrap().to_string();
    let b = Browser::start().await;

    // The Urdu home page is right to left, in Urdu, with the Nastaliq font first.
    b.goto(&app.url("/?lang=ur")).await;
    assert_eq!(b.script("return document.documentElement.dir").await, "rtl");
    assert_eq!(
        b.script("return getComputedStyle(document.body).direction")
            .await,
        "rtl"
    );
    let font = b
        .script("return getComputedStyle(document.body).fontFamily")
        .await;
    assert!(
        font.as_str().unwrap().starts_with("\"Noto Nastaliq Urdu\""),
        "{font}"
    );
    assert!(b
        .text()
        .await
        .contains("چالان نمبر، پی ایس آئی ڈی یا گاڑی نمبر"));
    shots(&b, "home-ur").await;
    // The choice is remembered: the next page without ?lang= is still Urdu.
    b.goto(&app.url("/")).await;
    assert_eq!(b.script("return document.documentElement.lang").await, "ur");
    b.find("header nav a[hreflang=en]").await.click().await;
    b.wait_script("return document.documentElement.dir", "ltr")
        .await;
    shots(&b, "home-en").await;

    // Search by vehicle: a list with the challan, then its page.
    b.find("#q").await.type_text("pes 4321").await;
    b.find("form[action='/search'] button").await.click().await;
    b.wait_text("the results", |t| t.contains("Total due today"))
        .await;
    let list = b.text().await;
    assert!(list.contains(&number), "{list}");
    assert!(list.contains("Total due today: Rs 500"), "{list}");
    shots(&b, "results-en").await;
    b.find(&format!("a[href='/c/{number}']"))
        .await
        .click()
        .await;
    b.wait_text("the challan", |t| t.contains("Amount due today"))
        .await;
    let due = b.find("#amount-due").await.text().await;
    assert_eq!(
        due,
        efine_core::Money::from_paisa(c["amount_due"].as_i64().unwrap())
            .unwrap()
            .to_string()
    );
    assert_eq!(
        b.script("return document.querySelector('svg[role=img]') !== null")
            .await,
        true
    );
    shots(&b, "challan-en").await;
    b.goto(&app.url(&format!("/c/{number}?lang=ur"))).await;
    shots(&b, "challan-ur").await;
    b.goto(&app.url(&format!("/c/{number}?lang=en"))).await;

    // One question: how to pay. Then on to the JazzCash sandbox and back with a receipt.
    b.find("#pay").await.click().await;
    b.wait_text("the question", |t| t.contains("How do you want to pay?"))
        .await;
    shots(&b, "pay-en").await;
    b.find("#m-jazzcash").await.click().await;
    b.find("form[action$='/pay'] button").await.click().await;
    b.wait_text("the way to JazzCash", |t| {
        t.contains("Continue to JazzCash")
    })
    .await;
    shots(&b, "continue-en").await;
    b.find("#go").await.click().await;
    b.wait_url("/sandbox/jazzcash/merchantform").await;
    b.find("form[action='/sandbox/jazzcash/complete'] button")
        .await
        .click()
        .await;
    // The sandbox's page posts the signed answer back to E-Fine's return URL.
    b.wait_url("/payments/jazzcash/return").await;
    b.wait_text("the receipt", |t| t.contains("Receipt number"))
        .await;
    let receipt = b.find("#receipt-number").await.text().await;
    assert!(
        receipt.starts_with("RCT-2026-"),
        "{receipt}: {}",
        b.text().await
    );
    shots(&b, "paid-en").await;

    // The challan page now shows the payment and its receipt.
    b.find(&format!("a[href='/c/{number}']"))
        .await
        .click()
        .await;
    b.wait_text("the paid challan", |t| t.contains("This challan is paid"))
        .await;
    let page = b.text().await;
    assert!(page.contains("This challan is paid"), "{page}");
    assert!(page.contains(&receipt));
    let (_, v) = app
        .get(&format!("/api/v1/public/challans/{number}"), None)
        .await;
    assert_eq!(v["status"], "paid");
    assert_eq!(v["paid"]["receipt_number"], receipt.as_str());

    // The public transparency page, in both languages.
    b.goto(&app.url("/transparency?lang=ur")).await;
    assert_eq!(b.script("return document.documentElement.dir").await, "rtl");
    shots(&b, "transparency-ur").await;
    b.goto(&app.url("/transparency?lang=en")).await;
    shots(&b, "transparency-en").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervisor_approves_a_cancellation_in_the_console() {
    let app = TestApp::sqlite().await;
    let token = app.officer().await;
    app.user(
        "super.psh",
        efine_core::auth::Role::Supervisor,
        Some("traffic-police"),
        Some("peshawar"),
    )
    .await;
    let (_, c) = app
        .issue(
            &token,
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-808"}),
        )
        .await;
    let number = c["challan_number"].as_str().unwrap().to_string();
    let r = app
        .http
        .post(app.url(&format!("/api/v1/challans/{number}/cancellation")))
        .bearer_auth(&token)
        .json(&json!({"reason": "duplicate of a paper challan"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    let b = Browser::start().await;
    // The console sends an anonymous visitor to the login page and back afterwards.
    b.goto(&app.url("/staff/queues")).await;
    b.wait_url("/staff/login").await;
    shots(&b, "login-en").await;
    b.find("#username").await.type_text("super.psh").await;
    b.find("#password").await.type_text(common::PASSWORD).await;
    b.find("#code")
        .await
        .type_text(&app.code_for("super.psh").await)
        .await;
    b.find("form[action='/staff/login'] button")
        .await
        .click()
        .await;
    b.wait_url("/staff/queues").await;
    b.wait_text("the queue", |t| t.contains("duplicate of a paper challan"))
        .await;
    shots(&b, "queues-en").await;
    b.goto(&app.url("/staff/queues?lang=ur")).await;
    assert_eq!(b.script("return document.documentElement.dir").await, "rtl");
    shots(&b, "queues-ur").await;
    b.goto(&app.url("/staff/queues?lang=en")).await;

    b.find("[id^=cancellation-] button[value=approve]")
        .await
        .click()
        .await;
    // Cancelling is final, so the console asks once more.
    b.find("#confirm-button").await.click().await;
    b.wait_text("the request to leave the queue", |t| {
        !t.contains("duplicate of a paper challan") && t.contains("Nothing is waiting.")
    })
    .await;
    let (_, v) = app
        .get(&format!("/api/v1/public/challans/{number}"), None)
        .await;
    assert_eq!(v["status"], "cancelled");

    // The record shows the cancellation in its history.
    b.goto(&app.url(&format!("/staff/challans/{number}"))).await;
    let page = b.text().await;
    assert!(page.contains("Cancelled"), "{page}");
    shots(&b, "staff-challan-en").await;
    b.goto(&app.url("/staff/challans")).await;
    shots(&b, "staff-search-en").await;
    b.goto(&app.url("/staff/challans?lang=ur")).await;
    shots(&b, "staff-search-ur").await;
}
