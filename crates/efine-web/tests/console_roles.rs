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
    finance_uploads_a_settlement_file_and_takes_cash,
    auditor_browses_the_log_checks_the_record_and_downloads_the_bundle,
    schedule_change_waits_for_a_second_person_and_accounts_use_pickers,
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
    b.find("#code")
        .await
        .type_text(&app.code_for(username).await)
        .await;
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

/// Completes a JazzCash checkout in the sandbox; returns (rail transaction id, our reference,
/// amount in paisa).
async fn pay_jazzcash(app: &TestApp, number: &str) -> (String, String, i64) {
    let (s, co) = app
        .post(
            &format!("/api/v1/public/challans/{number}/checkout"),
            json!({"method": "jazzcash"}),
        )
        .await;
    assert_eq!(s, 201, "{co}");
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

/// A `multipart/form-data` body with text fields and one file, as a browser sends it.
fn multipart(fields: &[(&str, &str)], file: (&str, &str, &[u8])) -> (String, Vec<u8>) {
    let boundary = "----efine-test-boundary-7f3a";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    let (name, file_name, bytes) = file;
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Finance uploads the rail's settlement file as a file (in the browser, and a multi-MB one):
/// the outcomes read as sentences with the challan linked, the import joins the history with
/// its counts; cash taken at the counter gives a receipt and shows in the day's cash-up; the
/// tables fit a phone.
async fn finance_uploads_a_settlement_file_and_takes_cash(app: TestApp) {
    let be = backend(&app);
    let token = app.officer().await;
    app.user("finance.one", Role::Finance, None, None).await;
    let paid = issue(&app, &token, "no-helmet", "PES-601").await;
    let cash = issue(&app, &token, "no-helmet", "PES-602").await;
    let paid_n = paid["challan_number"].as_str().unwrap().to_string();
    let cash_n = cash["challan_number"].as_str().unwrap().to_string();
    let (rrn, reference, amount) = pay_jazzcash(&app, &paid_n).await;
    let day = efine_core::clock::karachi_date(app.store.now()).to_string();
    // The rail says it settled Rs 1 more than we took, and knows one transaction we do not.
    let file = format!(
        "rail_txn_id,reference,amount_paisa,settled_on\r\n{rrn},{reference},{},{day}\r\nRRN-NOT-OURS-1,,5000,{day}\r\n",
        amount + 100
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jazzcash-settlement.csv");
    std::fs::write(&path, &file).unwrap();

    let b = Browser::start().await;
    sign_in(&b, &app, "finance.one", "/staff/finance").await;
    b.script("document.getElementById('rail').value = 'jazzcash'; return 1")
        .await;
    b.find("#upload")
        .await
        .type_text(path.to_str().unwrap())
        .await;
    b.find("form[action='/staff/finance/recon'] button[type=submit]")
        .await
        .click()
        .await;
    b.wait_text("the report", |t| {
        t.contains("2 lines: 0 matched, 2 need attention.")
    })
    .await;
    let table = text_of(&b, "#exceptions").await;
    assert!(table.contains("The amount differs from ours"), "{table}");
    assert!(
        table.contains("Not known here: no payment of ours has this transaction"),
        "{table}"
    );
    assert!(table.contains("RRN-NOT-OURS-1"), "{table}");
    let link = b
        .script("return document.querySelector('#exceptions a').getAttribute('href')")
        .await;
    assert_eq!(link, json!(format!("/staff/challans/{paid_n}")));
    shots(&b, &format!("{be}-recon-en")).await;

    // The history lists it with its counts; its page reads the same in Urdu.
    b.goto(&app.url("/staff/finance")).await;
    let history = text_of(&b, "#import-history").await;
    assert!(
        history.contains("jazzcash-settlement.csv")
            && history.contains("2 lines: 0 matched, 2 need attention."),
        "{history}"
    );
    shots(&b, &format!("{be}-finance-en")).await;
    b.find("#import-history a").await.click().await;
    b.wait_url("/staff/finance/recon/").await;
    b.goto(&format!("{}?lang=ur", b.url().await)).await;
    let table = text_of(&b, "#exceptions").await;
    assert!(table.contains("رقم ہمارے ریکارڈ سے مختلف ہے"), "{table}");
    shots(&b, &format!("{be}-recon-ur")).await;
    b.goto(&app.url("/staff/finance?lang=en")).await;

    // Counter cash in rupees, then the day's cash-up.
    b.goto(&app.url("/staff/finance/cash")).await;
    b.find("#challan").await.type_text(&cash_n).await;
    b.find("#rupees").await.type_text("500").await;
    b.find("form[action='/staff/finance/cash'] button")
        .await
        .click()
        .await;
    b.wait_text("the receipt", |t| plain(t).contains("Done: receipt"))
        .await;
    assert!(plain(&text_of(&b, "#result").await).contains(&cash_n));
    let total = text_of(&b, "#cash-total").await;
    assert_eq!(total, "24 Nov 2026: 1 receipt(s), Rs 500 in all.");
    assert!(text_of(&b, "#receipts").await.contains(&cash_n));
    shots(&b, &format!("{be}-cash-en")).await;
    b.goto(&app.url("/staff/finance/cash?lang=ur")).await;
    assert!(text_of(&b, "#cash-total").await.contains("۵۰۰ روپے"));
    shots(&b, &format!("{be}-cash-ur")).await;
    let (_, v) = app
        .get(&format!("/api/v1/public/challans/{cash_n}"), None)
        .await;
    assert_eq!(v["status"], "paid");

    // A settlement file of a few MB, far over the 64 KiB every other form takes, is read whole.
    let cookie = app.console_session("finance.one").await;
    let http = TestApp::browser_client();
    let page = http
        .get(app.url("/staff/finance"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = common::hidden(&page, "csrf");
    let mut big = String::from("rail_txn_id,reference,amount_paisa,settled_on\r\n");
    let pad = "X".repeat(60);
    let mut n = 0;
    while big.len() < 2_500_000 {
        n += 1;
        big.push_str(&format!("RRN-{pad}-{n:07},,5000,{day}\r\n"));
    }
    let (ctype, body) = multipart(
        &[("csrf", &csrf), ("rail", "1bill")],
        ("upload", "1bill-big.csv", big.as_bytes()),
    );
    let r = http
        .post(app.url("/staff/finance/recon"))
        .header("cookie", &cookie)
        .header("content-type", ctype)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(
        page.contains(&format!(
            "{} lines: 0 matched, {} need attention.",
            common_number(n),
            common_number(n)
        )),
        "{}",
        &page[..page.len().min(3000)]
    );
    assert!(
        page.contains("The first 500 of"),
        "only a page of lines is shown"
    );
    // A file over 16 MB is refused with a message, not cut off.
    let huge = "x".repeat(17 * 1024 * 1024);
    let (ctype, body) = multipart(
        &[("csrf", &csrf), ("rail", "1bill")],
        ("upload", "huge.csv", huge.as_bytes()),
    );
    let r = http
        .post(app.url("/staff/finance/recon"))
        .header("cookie", &cookie)
        .header("content-type", ctype)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
}

/// `35000` as `35,000`.
fn common_number(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The auditor filters the event log, runs the read-only check beside the published heads, and
/// downloads the verification bundle with the console session; an edited row is named.
async fn auditor_browses_the_log_checks_the_record_and_downloads_the_bundle(app: TestApp) {
    use efine_store::testing::RawSql;
    let be = backend(&app);
    let token = app.officer().await;
    let auditor = app.user("auditor.one", Role::Auditor, None, None).await;
    let c = issue(&app, &token, "no-helmet", "PES-707").await;
    issue(&app, &token, "no-helmet", "PES-708").await;
    let n = c["challan_number"].as_str().unwrap().to_string();
    let r = app
        .http
        .post(app.url("/api/v1/log-heads"))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    let b = Browser::start().await;
    sign_in(&b, &app, "auditor.one", "/staff/audit").await;
    let log = text_of(&b, "#event-log").await;
    assert!(log.contains("Issued by officer officer.psh."), "{log}");
    b.find("#subject").await.type_text(&n).await;
    b.find("#event-filters button").await.click().await;
    b.wait_url("subject=").await;
    b.wait_text("one challan's events", |t| {
        t.contains("Showing") || t.contains(&n)
    })
    .await;
    assert_eq!(
        b.script("return document.querySelectorAll('#event-log > li').length")
            .await,
        json!(1)
    );
    assert!(text_of(&b, "#event-log").await.contains(&n));
    shots(&b, &format!("{be}-audit-log-en")).await;
    b.goto(&app.url("/staff/audit?kind=console&lang=ur")).await;
    let log = text_of(&b, "#event-log").await;
    assert!(log.contains("console.login"), "{log}");
    shots(&b, &format!("{be}-audit-log-ur")).await;

    b.goto(&app.url("/staff/audit/check?lang=en")).await;
    let verdict = text_of(&b, "#verdict").await;
    assert!(verdict.starts_with("Intact"), "{verdict}");
    assert!(
        verdict.contains("2 challans and 0 cancellation requests and appeals match"),
        "{verdict}"
    );
    assert_eq!(
        text_of(&b, "#heads-verdict").await,
        "All 1 published heads are signed by this system's keys and the log still holds each of them."
    );
    shots(&b, &format!("{be}-audit-check-en")).await;
    b.goto(&app.url("/staff/audit/check?lang=ur")).await;
    shots(&b, &format!("{be}-audit-check-ur")).await;

    // The bundle, fetched in the page with the session.
    let got = b
        .script(
            "var x = new XMLHttpRequest(); x.open('GET', '/staff/audit/bundle.json', false); x.send(); \
             return x.status + '|' + x.responseText",
        )
        .await;
    let (status, text) = got.as_str().unwrap().split_once('|').unwrap();
    assert_eq!(status, "200");
    let bundle: Value = serde_json::from_str(text).unwrap();
    assert_eq!(bundle["verdict"]["intact"], true, "{bundle}");
    assert_eq!(bundle["heads"].as_array().unwrap().len(), 1);
    assert!(
        !bundle["keys"]["keys"].as_array().unwrap().is_empty(),
        "{bundle}"
    );

    // An edited row is named; nothing is written by the check.
    let edited = n.clone();
    app.store
        .write(move |tx| {
            tx.exec(
                "UPDATE challans SET reduced_amount_paisa = 100 WHERE number = $1",
                efine_store::params![edited.as_str()],
            )
        })
        .await
        .unwrap();
    b.goto(&app.url("/staff/audit/check?lang=en")).await;
    let verdict = text_of(&b, "#verdict").await;
    assert!(verdict.starts_with("Tampered"), "{verdict}");
    assert!(verdict.contains(&n), "{verdict}");
    // Officers do not see the log.
    let http = TestApp::browser_client();
    let officer = app.console_session("officer.psh").await;
    let r = http
        .get(app.url("/staff/audit"))
        .header("cookie", &officer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

async fn no_helmet(app: &TestApp) -> Value {
    let (_, offences) = app
        .get("/api/v1/catalogue/offences?department=traffic-police", None)
        .await;
    offences
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["code"] == "no-helmet")
        .unwrap()
        .clone()
}

/// A department admin finds an offence by search, proposes new penalty terms; nothing changes
/// until a second department admin approves, and then the schedule has a new version with
/// those terms. The admin adds an account with the department and district pickers and is told
/// it is done; a misspelt code is refused with a message.
async fn schedule_change_waits_for_a_second_person_and_accounts_use_pickers(app: TestApp) {
    let be = backend(&app);
    for name in ["depadmin.one", "depadmin.two"] {
        app.user(name, Role::DepartmentAdmin, Some("traffic-police"), None)
            .await;
    }
    app.user("admin.one", Role::Admin, None, None).await;
    let before = no_helmet(&app).await;

    let b = Browser::start().await;
    sign_in(&b, &app, "depadmin.one", "/staff/schedule").await;
    let all = text_of(&b, "#schedule-count").await;
    b.find("#q").await.type_text("helmet").await;
    b.find("#schedule-filters button").await.click().await;
    b.wait_url("q=helmet").await;
    let some = text_of(&b, "#schedule-count").await;
    assert_ne!(all, some);
    assert!(some.starts_with("1 of "), "{some}");
    shots(&b, &format!("{be}-schedule-en")).await;
    b.find("#schedule a[href='/staff/schedule/traffic-police/no-helmet']")
        .await
        .click()
        .await;
    b.wait_url("/staff/schedule/traffic-police/no-helmet").await;
    b.find("#s-percent").await.click().await;
    let set = |id: &'static str, v: &'static str| {
        let b = &b;
        async move {
            b.script(&format!(
                "document.getElementById('{id}').value = '{v}'; return 1"
            ))
            .await;
        }
    };
    set("surcharge_value", "25").await;
    set("discount_percent", "10").await;
    set("discount_days", "7").await;
    set("stage_impound", "30").await;
    set("stage_licence", "60").await;
    set("stage_transfer", "90").await;
    shots(&b, &format!("{be}-schedule-edit-en")).await;
    b.find("#propose button").await.click().await;
    b.wait_text("the proposal", |t| {
        t.contains("Done: the change is proposed and waits for a second person's approval.")
    })
    .await;
    let card = text_of(&b, "[id^=proposal-]").await;
    assert!(card.contains("After the due date 25% is added."), "{card}");
    assert!(
        card.contains("10% off if paid within 7 days of issue."),
        "{card}"
    );
    assert!(
        card.contains("Transfer blocked: 90 days after the due date."),
        "{card}"
    );
    assert!(card.contains("You proposed this change"), "{card}");
    // Not in force yet.
    assert_eq!(no_helmet(&app).await, before);
    b.goto(&app.url("/staff/schedule?lang=ur")).await;
    shots(&b, &format!("{be}-schedule-ur")).await;

    // The proposer cannot approve it, even by posting the form.
    let http = TestApp::browser_client();
    let own = app.console_session("depadmin.one").await;
    let page = http
        .get(app.url("/staff/schedule"))
        .header("cookie", &own)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let pid = b
        .script("return document.querySelector('[id^=proposal-]').id.slice(9)")
        .await;
    let pid = pid.as_str().unwrap().to_string();
    let r = http
        .post(app.url(&format!("/staff/schedule/proposals/{pid}")))
        .header("cookie", &own)
        .form(&[
            ("csrf", common::hidden(&page, "csrf").as_str()),
            ("decision", "approve"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("must be approved by someone other than who proposed it"));
    assert_eq!(no_helmet(&app).await, before);

    // The second person approves (one browser at a time).
    drop(b);
    let b2 = Browser::start().await;
    sign_in(&b2, &app, "depadmin.two", "/staff/schedule").await;
    b2.find("[id^=proposal-] button[value=approve]")
        .await
        .click()
        .await;
    b2.wait_text("the approval", |t| {
        t.contains("Done: the change is approved and in force as a new version.")
    })
    .await;
    let after = no_helmet(&app).await;
    assert_eq!(after["version"], before["version"].as_i64().unwrap() + 1);
    assert_eq!(
        after["penalty"],
        json!({
            "surcharge": {"kind": "percent", "basis_points": 2500},
            "discount": {"within_days": 7, "basis_points": 1000},
            "escalation": [
                {"stage": "impound_eligible", "days_after_due": 30},
                {"stage": "licence_suspended", "days_after_due": 60},
                {"stage": "transfer_blocked", "days_after_due": 90}
            ]
        }),
        "{after}"
    );

    // Accounts: pickers for department and district, and a message once added.
    drop(b2);
    let b2 = Browser::start().await;
    sign_in(&b2, &app, "admin.one", "/staff/users").await;
    b2.find("#username").await.type_text("officer.bannu").await;
    b2.script(
        "document.getElementById('role').value = 'officer'; \
         document.getElementById('department').value = 'traffic-police'; \
         document.getElementById('district').value = 'bannu'; return 1",
    )
    .await;
    b2.find("#password").await.type_text(common::PASSWORD).await;
    b2.find("form[action='/staff/users'] button")
        .await
        .click()
        .await;
    b2.wait_text("the account added", |t| {
        plain(t).contains("Done: account officer.bannu added.")
    })
    .await;
    shots(&b2, &format!("{be}-users-en")).await;
    b2.goto(&app.url("/staff/users?lang=ur")).await;
    shots(&b2, &format!("{be}-users-ur")).await;
    let cookie = app.console_session("admin.one").await;
    let page = http
        .get(app.url("/staff/users"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = http
        .post(app.url("/staff/users"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", common::hidden(&page, "csrf").as_str()),
            ("username", "officer.typo"),
            ("role", "officer"),
            ("department", "traffic-police"),
            ("district", "peshwar"),
            ("password", common::PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("district: not a district in the catalogue."));
}
