//! The citizen's challan page in every state a challan can be in, walked in headless Chromium
//! at 360 px in English and Urdu against the real server on both backends: unpaid, under
//! appeal, appeal decided, cancelled, paid by each rail, a failed and a pending payment, and
//! overdue at an enforcement stage. Each visit asserts on the visible text and on the actions
//! offered (and that nothing is wider than the phone); screenshots go to
//! target/browser-screenshots/states-*.png.
//!
//! Beside them, without a browser: search that recognises what was typed, the HTML and JSON
//! 404, compressed responses and the challan page's weight.

#[path = "common/browser.rs"]
#[allow(dead_code)]
mod browser;
mod common;

use browser::Browser;
use common::TestApp;
use efine_core::clock::KARACHI;
use efine_core::i18n::{date, money, tr, trf, Lang};
use efine_core::Money;
use efine_store::testing::RawSql;
use serde_json::{json, Value};
use time::macros::{date as day, datetime};

fn rs(r: i64) -> Money {
    Money::from_rupees(r).unwrap()
}

/// Shows `path` in `lang` at phone width: its visible text, after checking that nothing runs
/// off the side of the screen, with a screenshot.
async fn visit(b: &Browser, app: &TestApp, path: &str, lang: &str, shot: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    b.goto(&app.url(&format!("{path}{sep}lang={lang}"))).await;
    look(b, &format!("{shot}-{lang}")).await
}

/// The page as it is now at 360 px: checked for overflow, photographed, its text.
async fn look(b: &Browser, shot: &str) -> String {
    b.resize(360, 900).await;
    let wide = b
        .script(
            "const w = document.documentElement.clientWidth; \
             return [...document.querySelectorAll('body *')].filter(e => { \
               const r = e.getBoundingClientRect(); return r.width > 0 && !e.closest('.scroll') && (r.right > w + 1 || r.left < -1); \
             }).map(e => e.tagName + '.' + e.className + ' ' + e.textContent.slice(0, 30))",
        )
        .await;
    assert_eq!(wide, json!([]), "{shot}: wider than the phone");
    b.screenshot(&format!("states-{shot}")).await;
    b.text().await
}

/// Whether the page has an element matching `css`.
async fn has(b: &Browser, css: &str) -> bool {
    b.script(&format!(
        "return document.querySelector({}) !== null",
        serde_json::to_string(css).unwrap()
    ))
    .await
        == json!(true)
}

async fn text_of(b: &Browser, css: &str) -> String {
    b.find(css).await.text().await
}

async fn post_auth(app: &TestApp, path: &str, token: &str, body: Value) -> (u16, Value) {
    let r = app
        .http
        .post(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn issue(app: &TestApp, token: &str, plate: &str) -> (String, String) {
    let (s, c) = app
        .issue(
            token,
            json!({"offence_code": "no-helmet", "vehicle_number": plate,
                   "mobile": "0300-1234567"}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    (
        c["challan_number"].as_str().unwrap().to_string(),
        c["psid"].as_str().unwrap().to_string(),
    )
}

async fn lodge(app: &TestApp, number: &str) -> i64 {
    let body = app
        .with_code(number, json!({"reason": "I was wearing a helmet"}))
        .await;
    let (s, l) = app
        .post(&format!("/api/v1/public/challans/{number}/appeals"), body)
        .await;
    assert_eq!(s, 201, "{l}");
    l["appeal_id"].as_i64().unwrap()
}

/// Pays `number` in the browser by `method` with the sandbox payer's `choice` (`success`,
/// `failure` or `pending`), and leaves the browser on the result page.
async fn pay_in_browser(b: &Browser, app: &TestApp, number: &str, method: &str, choice: &str) {
    b.goto(&app.url(&format!("/c/{number}/pay"))).await;
    b.find(&format!("#m-{method}")).await.click().await;
    b.find("form[action$='/pay'] button").await.click().await;
    b.find("#go").await.click().await;
    b.wait_url("/sandbox/").await;
    b.find(&format!(
        "form:has(input[name=sandbox_choice][value={choice}]) button"
    ))
    .await
    .click()
    .await;
    b.wait_script(
        "return document.querySelector('#payment-result') !== null ? 'yes' : 'no'",
        "yes",
    )
    .await;
}

async fn walk(app: TestApp) {
    let officer = app.officer().await;
    let sup_a = app
        .user(
            "sup.a",
            efine_core::auth::Role::Supervisor,
            Some("traffic-police"),
            None,
        )
        .await;
    let sup_b = app
        .user(
            "sup.b",
            efine_core::auth::Role::Supervisor,
            Some("traffic-police"),
            None,
        )
        .await;
    // Issued Tuesday 24 Nov 2026: Rs 500, due 8 Dec, doubled from 9 Dec; appeals until 24 Dec.
    let (unpaid, _) = issue(&app, &officer, "PES-9001").await;
    let (appealed, _) = issue(&app, &officer, "PES-9002").await;
    let (decided, _) = issue(&app, &officer, "PES-9003").await;
    let (cancelled, _) = issue(&app, &officer, "PES-9004").await;
    let (by_jazzcash, _) = issue(&app, &officer, "PES-9005").await;
    let (by_easypaisa, _) = issue(&app, &officer, "PES-9006").await;
    let (by_card, _) = issue(&app, &officer, "PES-9007").await;
    let (by_bank, bank_psid) = issue(&app, &officer, "PES-9008").await;
    let (failed, _) = issue(&app, &officer, "PES-9009").await;
    let (pending, _) = issue(&app, &officer, "PES-9010").await;
    let b = Browser::start().await;
    let ur = Lang::Ur;

    // Unpaid: the amount, until when, what it becomes; pay and contest offered.
    let t = visit(&b, &app, &format!("/c/{unpaid}"), "en", "unpaid").await;
    assert!(
        t.contains("Pay Rs 500 by 8 Dec 2026. From 9 Dec 2026 it is Rs 1,000."),
        "{t}"
    );
    assert!(
        t.contains("Next: from 9 Dec 2026 the amount becomes Rs 1,000."),
        "{t}"
    );
    assert_eq!(text_of(&b, "#status").await, "Unpaid");
    assert!(has(&b, "#pay").await);
    assert!(
        text_of(&b, "#contest")
            .await
            .contains("possible until 24 Dec 2026"),
        "{t}"
    );
    // The QR code (one stroked path) scans back to the challan's verification link.
    b.resize(360, 900).await;
    b.script("document.querySelector('svg[role=img]').scrollIntoView()")
        .await;
    // (one file per server: both backends run at once)
    let qr_shot = format!("states-qr-{}", app.base.rsplit(':').next().unwrap());
    b.screenshot(&qr_shot).await;
    let qr_file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../target/browser-screenshots/{qr_shot}.png"));
    let shot = image::open(&qr_file).unwrap().to_luma8();
    std::fs::remove_file(&qr_file).unwrap();
    let mut grid = rqrr::PreparedImage::prepare(shot);
    let grids = grid.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the page");
    let (_, content) = grids[0].decode().unwrap();
    assert!(content.contains("/v/"), "{content}");
    let t = visit(&b, &app, &format!("/c/{unpaid}"), "ur", "unpaid").await;
    assert!(t.contains(&money(ur, rs(500))), "{t}");
    assert!(t.contains(&date(ur, day!(2026 - 12 - 08))), "{t}");
    assert!(t.contains(&money(ur, rs(1000))), "{t}");
    assert_eq!(text_of(&b, "#status").await, tr(ur, "portal.unpaid"));
    assert!(has(&b, "#pay").await && has(&b, "#contest").await);
    assert!(!t.contains("Rs ") && !t.contains("unpaid"), "{t}");

    // Under appeal: its state on the challan page, no second contest; the appeal's own page says
    // how the citizen hears; a forced second appeal is refused in the page's language.
    lodge(&app, &appealed).await;
    let t = visit(&b, &app, &format!("/c/{appealed}"), "en", "appealed").await;
    assert_eq!(text_of(&b, "#status").await, "Unpaid, under appeal");
    assert!(
        text_of(&b, "#appeal-state")
            .await
            .contains("Waiting for a decision (lodged on 24 Nov 2026)"),
        "{t}"
    );
    assert!(t.contains("the amount stays at Rs 500"), "{t}");
    assert!(!has(&b, "#contest").await, "{t}");
    assert!(has(&b, "#pay").await);
    b.find("#appeal-state a").await.click().await;
    b.wait_url("/appeal").await;
    let t = look(&b, "appeal-pending-en").await;
    assert!(
        text_of(&b, "#appeal-hear")
            .await
            .contains("we send an SMS to 0300-*****67"),
        "{t}"
    );
    assert!(t.contains("24 Nov 2026: appeal"), "{t}");
    let t = visit(
        &b,
        &app,
        &format!("/c/{appealed}/appeal"),
        "ur",
        "appeal-pending",
    )
    .await;
    assert!(
        t.contains(&trf(
            ur,
            "appeal.state_pending",
            &[("date", &date(ur, day!(2026 - 11 - 24)))]
        )),
        "{t}"
    );
    let r = app
        .http
        .post(app.url(&format!("/c/{appealed}/appeal?lang=ur")))
        .form(&[("reason", "again")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let page = r.text().await.unwrap();
    assert!(page.contains(tr(ur, "appeal.closed_appealed")), "{page}");
    assert!(page.contains("dir=\"rtl\""));

    // Appeal decided: reduced, with the supervisor's reason; the amount follows.
    let id = lodge(&app, &decided).await;
    let (s, r) = post_auth(
        &app,
        &format!("/api/v1/appeals/{id}/decision"),
        &sup_b,
        json!({"outcome": "reduce", "amount": 30_000, "note": "helmet visible in the photo"}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    let t = visit(&b, &app, &format!("/c/{decided}"), "en", "decided").await;
    assert_eq!(text_of(&b, "#amount-due").await, "Rs 300");
    assert!(
        text_of(&b, "#appeal-state")
            .await
            .contains("Decided on 24 Nov 2026: the amount was reduced to Rs 300"),
        "{t}"
    );
    assert_eq!(text_of(&b, "#status").await, "Unpaid");
    assert!(!has(&b, "#contest").await && has(&b, "#pay").await);
    let t = visit(
        &b,
        &app,
        &format!("/c/{decided}/appeal"),
        "en",
        "appeal-decided",
    )
    .await;
    assert!(
        text_of(&b, "#appeal-reason")
            .await
            .contains("helmet visible in the photo"),
        "{t}"
    );
    let t = visit(
        &b,
        &app,
        &format!("/c/{decided}/appeal"),
        "ur",
        "appeal-decided",
    )
    .await;
    assert!(t.contains(&money(ur, rs(300))), "{t}");
    assert!(t.contains(tr(ur, "appeal.decision_reason")), "{t}");

    // Cancelled: why and by whom in role terms; nothing to pay or contest.
    let (s, c) = post_auth(
        &app,
        &format!("/api/v1/challans/{cancelled}/cancellation"),
        &officer,
        json!({"reason": "issued to the wrong vehicle"}),
    )
    .await;
    assert_eq!(s, 201, "{c}");
    let (s, r) = post_auth(
        &app,
        &format!("/api/v1/cancellations/{}/approve", c["id"]),
        &sup_a,
        json!({}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    let t = visit(&b, &app, &format!("/c/{cancelled}"), "en", "cancelled").await;
    assert!(
        t.contains("Cancelled on 24 Nov 2026 by a supervisor of"),
        "{t}"
    );
    assert_eq!(
        text_of(&b, "#cancel-reason").await,
        "issued to the wrong vehicle"
    );
    assert!(!has(&b, "#pay").await && !has(&b, "#contest").await);
    let t = visit(&b, &app, &format!("/c/{cancelled}"), "ur", "cancelled").await;
    assert_eq!(
        text_of(&b, "#status").await,
        tr(ur, "portal.cancelled_status")
    );
    assert!(t.contains(&date(ur, day!(2026 - 11 - 24))), "{t}");
    assert!(!has(&b, "#pay").await && !has(&b, "#contest").await);

    // Paid by each hosted rail through the browser: one result page for all of them.
    for (number, method, rail_en, lang) in [
        (&by_jazzcash, "jazzcash", "JazzCash", "en"),
        (&by_easypaisa, "easypaisa", "Easypaisa", "ur"),
        (&by_card, "card", "Card", "en"),
    ] {
        b.goto(&app.url(&format!("/?lang={lang}"))).await;
        pay_in_browser(&b, &app, number, method, "success").await;
        let t = look(&b, &format!("paid-{method}-{lang}")).await;
        let l = if lang == "ur" { ur } else { Lang::En };
        assert!(
            text_of(&b, "#payment-what").await.contains(number.as_str()),
            "{t}"
        );
        assert!(t.contains(&money(l, rs(500))), "{t}");
        assert!(text_of(&b, "#receipt-number")
            .await
            .starts_with("RCT-2026-"));
        assert!(has(&b, "#receipt-qr svg path").await, "{t}");
        assert!(has(&b, "a[href$='/receipt.pdf']").await);
        assert!(has(&b, &format!("#back[href='/c/{number}']")).await);
        let rail = match (lang, method) {
            ("en", _) => rail_en,
            (_, "jazzcash") => tr(ur, "rail.jazzcash"),
            (_, "easypaisa") => tr(ur, "rail.easypaisa"),
            _ => tr(ur, "rail.card"),
        };
        assert_eq!(text_of(&b, "#paid-by").await, rail, "{t}");
        let t = visit(
            &b,
            &app,
            &format!("/c/{number}"),
            lang,
            &format!("paid-{method}-challan"),
        )
        .await;
        assert_eq!(text_of(&b, "#paid-by").await, rail, "{t}");
        assert!(!has(&b, "#pay").await && !has(&b, "#contest").await);
    }
    // Each SMS in the language the citizen paid in on the portal, in fewer parts than both
    // languages together; the bank payment below has no known language.
    let sent = app.notify_round().await;
    let sms = |number: &str| {
        sent.iter()
            .find(|m| m.reference.starts_with(&format!("{number}:paid")))
            .unwrap_or_else(|| panic!("no paid SMS for {number}: {sent:?}"))
            .text
            .clone()
    };
    let en = sms(&by_jazzcash);
    assert!(
        en.starts_with("E-Fine: Rs 500 received") && !en.contains("ای فائن"),
        "{en}"
    );
    assert_eq!(efine_core::notify::sms_size(&en).parts, 1, "{en}");
    let urdu = sms(&by_easypaisa);
    assert!(
        urdu.starts_with("ای فائن") && !urdu.contains("E-Fine"),
        "{urdu}"
    );
    assert_eq!(efine_core::notify::sms_size(&urdu).parts, 2, "{urdu}");
    // Issued before anyone used the portal: both languages, the Urdu one with its Urdu date.
    let issued = app
        .store
        .read(|tx| {
            tx.query_one(
                "SELECT body FROM notifications WHERE reason = 'issued' ORDER BY id LIMIT 1",
                &[],
            )?
            .text(0)
        })
        .await
        .unwrap();
    assert!(issued.contains("Pay by 8 Dec 2026"), "{issued}");
    assert!(issued.contains(&date(ur, day!(2026 - 12 - 08))), "{issued}");
    assert_eq!(issued.matches("Dec").count(), 1, "{issued}");

    // Paid at a bank under 1Bill.
    let now = app.store.now().to_offset(KARACHI);
    let req = efine_pay::sandbox::bank_payment(
        "sandbox-bank",
        "sandbox-1bill",
        &bank_psid,
        rs(500),
        77,
        time::PrimitiveDateTime::new(now.date(), now.time()),
        "HBL",
    );
    let (s, r) = app
        .post(
            "/api/v1/1bill/bill-payment",
            serde_json::to_value(req).unwrap(),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let t = visit(&b, &app, &format!("/c/{by_bank}"), "en", "paid-1bill").await;
    assert_eq!(text_of(&b, "#paid-by").await, "Bank / 1Bill", "{t}");
    assert!(t.contains("Paid on: 24 Nov 2026"), "{t}");
    visit(&b, &app, &format!("/c/{by_bank}"), "ur", "paid-1bill").await;
    assert_eq!(text_of(&b, "#paid-by").await, tr(ur, "rail.onebill"));
    let sent = app.notify_round().await;
    let both = &sent
        .iter()
        .find(|m| m.reference.starts_with(&format!("{by_bank}:paid")))
        .unwrap()
        .text;
    assert!(
        both.contains("E-Fine") && both.contains("ای فائن"),
        "{both}"
    );

    // A failed payment: the reason and a button to try again; in Urdu.
    b.goto(&app.url("/?lang=ur")).await;
    pay_in_browser(&b, &app, &failed, "card", "failure").await;
    let t = look(&b, "failed-ur").await;
    assert!(t.contains(tr(ur, "pay.failed_body")), "{t}");
    assert_eq!(
        b.script("return document.querySelector('#retry').getAttribute('href')")
            .await,
        json!(format!("/c/{failed}/pay"))
    );
    assert!(text_of(&b, "#payment-what").await.contains(failed.as_str()));
    b.find("#retry").await.click().await;
    b.wait_url("/pay").await;

    // A pending payment: confirmed by SMS, nothing more to pay, the reference and a way back.
    b.goto(&app.url("/?lang=en")).await;
    pay_in_browser(&b, &app, &pending, "jazzcash", "pending").await;
    let t = look(&b, "pending-en").await;
    assert!(
        t.contains("We will confirm by SMS") && t.contains("nothing more to pay"),
        "{t}"
    );
    assert!(!text_of(&b, "#payment-reference").await.is_empty());
    assert!(has(&b, &format!("#back[href='/c/{pending}']")).await);

    // A scanned QR code of a genuine unpaid challan: in Urdu, amounts, dates and status in
    // Urdu, and the way to pay.
    let (s, v) = app
        .issue(
            &officer,
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-9011"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let token = v["qr_token"].as_str().unwrap();
    let t = visit(&b, &app, &format!("/v/{token}"), "ur", "verify").await;
    assert!(
        t.contains(&money(ur, rs(500))) && t.contains(&money(ur, rs(1000))),
        "{t}"
    );
    assert!(t.contains(&date(ur, day!(2026 - 12 - 08))), "{t}");
    assert!(t.contains(tr(ur, "verify.status_unpaid")), "{t}");
    assert!(
        !t.contains("Rs ") && !t.contains("2026-12-08") && !t.contains("unpaid"),
        "{t}"
    );
    assert!(has(&b, "#pay").await);
    // The pay page says what is being paid.
    b.find("#pay").await.click().await;
    b.wait_url("/pay").await;
    let t = look(&b, "pay-ur").await;
    assert!(text_of(&b, "#paying-for").await.contains("PES-9011"), "{t}");

    // 10 Feb 2027: the unpaid challan is 64 days overdue, at the licence suspension stage.
    app.clock.set(datetime!(2027-02-10 05:00 UTC));
    let t = visit(&b, &app, &format!("/c/{unpaid}"), "en", "overdue").await;
    assert_eq!(text_of(&b, "#amount-due").await, "Rs 1,000");
    assert!(
        t.contains(
            "includes the late-payment surcharge added on 9 Dec 2026; the due date was 8 Dec 2026"
        ),
        "{t}"
    );
    assert!(
        text_of(&b, "#stage")
            .await
            .contains("the driving licence is suspended (since 7 Feb 2027)"),
        "{t}"
    );
    assert!(
        text_of(&b, "#next-step")
            .await
            .contains("from 9 Mar 2027 the vehicle cannot be transferred to a new owner"),
        "{t}"
    );
    assert!(!t.contains("doubles"), "{t}");
    assert!(!has(&b, "#contest").await);
    assert!(
        text_of(&b, "#contest-closed")
            .await
            .contains("could be lodged until 24 Dec 2026"),
        "{t}"
    );
    assert!(has(&b, "#pay").await);
    let t = visit(&b, &app, &format!("/c/{unpaid}"), "ur", "overdue").await;
    assert!(t.contains(tr(ur, "stage.licence_suspended")), "{t}");
    assert!(t.contains(&date(ur, day!(2027 - 02 - 07))), "{t}");
    assert!(t.contains(&money(ur, rs(1000))), "{t}");
    // Contesting it anyway is refused, in Urdu.
    let r = app
        .http
        .post(app.url(&format!("/c/{unpaid}/appeal?lang=ur")))
        .form(&[("reason", "late")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let page = r.text().await.unwrap();
    let window = trf(
        ur,
        "appeal.closed_window",
        &[("date", &date(ur, day!(2026 - 12 - 24)))],
    );
    assert!(page.contains(&window), "{page}");
}

async fn search_and_errors(app: TestApp) {
    let officer = app.officer().await;
    let (number, psid) = issue(&app, &officer, "PES-7001").await;
    let (s, _) = app
        .issue(
            &officer,
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-7002",
                   "cnic": "17301-1234567-1"}),
        )
        .await;
    assert_eq!(s, 201);
    let post = |path: &'static str, q: String, lang: &'static str| {
        let app = &app;
        async move {
            let r = app
                .http
                .post(app.url(&format!("{path}?lang={lang}")))
                .form(&[("q", q.as_str())])
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    // One wrong digit: the check digit says so, and the typed value stays in the box.
    let mut wrong = psid.clone().into_bytes();
    wrong[5] = if wrong[5] == b'9' { b'0' } else { wrong[5] + 1 };
    let wrong = String::from_utf8(wrong).unwrap();
    let (s, page) = post("/search", wrong.clone(), "en").await;
    assert_eq!(s, 422);
    assert!(page.contains("last digit does not match"), "{page}");
    assert!(page.contains(&format!("value=\"{wrong}\"")), "{page}");
    let (s, page) = post("/search", wrong.clone(), "ur").await;
    assert_eq!(s, 422);
    assert!(
        page.contains(tr(Lang::Ur, "portal.psid_check_digit")),
        "{page}"
    );
    // The right PSID goes to its challan.
    let r = app
        .http
        .post(app.url("/search"))
        .form(&[("q", psid.as_str())])
        .send()
        .await
        .unwrap();
    // (followed to the challan page)
    assert_eq!(r.status(), 200);
    assert_eq!(r.url().path(), format!("/c/{number}"));
    // A CNIC typed in the main box lists that person's challans.
    let (s, page) = post("/search", "17301-1234567-1".into(), "en").await;
    assert_eq!(s, 200, "{page}");
    assert!(
        page.contains("PES-7002") || page.contains("Total due today"),
        "{page}"
    );
    assert!(page.contains("Total due today: "), "{page}");
    // A mobile number is recognised and explained, in the page's language.
    let (s, page) = post("/search", "0300-1234567".into(), "ur").await;
    assert_eq!(s, 422);
    assert!(page.contains(tr(Lang::Ur, "portal.mobile_typed")), "{page}");
    assert!(page.contains("value=\"0300-1234567\""), "{page}");

    // Unknown addresses: a page for a browser in its language, JSON for the API.
    let r = app
        .http
        .get(app.url("/no/such/page?lang=ur"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = r.text().await.unwrap();
    assert!(
        page.contains(tr(Lang::Ur, "error.not_found_title")),
        "{page}"
    );
    let r = app
        .http
        .get(app.url("/api/v1/nothing"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "not_found");

    // The public transparency page in Urdu: figures in Urdu digits and rupees.
    let page = app
        .http
        .get(app.url("/transparency?lang=ur"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let table = page
        .split("<tbody>")
        .nth(1)
        .unwrap()
        .split("</tbody>")
        .next()
        .unwrap();
    assert!(table.contains("روپے") && !table.contains("Rs "), "{table}");
    assert!(table.contains("<td class=\"n\">۲</td>"), "{table}");

    // The challan page is light, and lighter still compressed.
    let page = app
        .http
        .get(app.url(&format!("/c/{number}")))
        .send()
        .await
        .unwrap();
    assert!(page.headers().get("content-encoding").is_none());
    let plain = page.bytes().await.unwrap().len();
    assert!(plain < 16 * 1024, "challan page is {plain} bytes");
    for enc in ["gzip", "br"] {
        let r = app
            .http
            .get(app.url(&format!("/c/{number}")))
            .header("accept-encoding", enc)
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["content-encoding"], enc);
        let packed = r.bytes().await.unwrap().len();
        assert!(packed * 2 < plain, "{enc}: {packed} of {plain}");
    }
}

/// A phone photo of several MB (2400 x 1800, not very compressible): accepted on the appeal
/// form, stored as a JPEG of at most 1 MiB and 1600 px, the confirmation saying when and how the
/// citizen hears.
async fn big_photo_is_shrunk(app: TestApp) {
    let officer = app.officer().await;
    let (number, _) = issue(&app, &officer, "PES-6001").await;
    let mut seed = 12345u32;
    let img = image::RgbImage::from_fn(2400, 1800, |x, y| {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let n = (seed >> 24) as u8 / 32;
        image::Rgb([
            (x / 10) as u8 ^ n,
            (y / 8) as u8 ^ n,
            ((x + y) / 20) as u8 ^ n,
        ])
    });
    let mut png = std::io::Cursor::new(Vec::new());
    img.write_to(&mut png, image::ImageFormat::Png).unwrap();
    let png = png.into_inner();
    assert!(
        png.len() > 2 * 1024 * 1024 && png.len() < 10 * 1024 * 1024,
        "{}",
        png.len()
    );
    let code = app.appeal_code(&number).await;
    let boundary = "----efine-states-boundary";
    let mut body = Vec::new();
    for (k, v) in [
        ("reason", "The plate in the photo is not mine"),
        ("code", code.as_str()),
    ] {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"evidence\"; filename=\"plate.png\"\r\n\
             Content-Type: image/png\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(&png);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = app
        .http
        .post(app.url(&format!("/c/{number}/appeal?lang=en")))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let page = r.text().await.unwrap();
    assert!(page.contains("plate.jpg"), "{page}");
    assert!(
        page.contains("we send an SMS to <bdi dir=\"ltr\" class=\"id\">0300-*****67</bdi>"),
        "{page}"
    );
    let n = efine_core::ChallanNumber::parse(&number).unwrap();
    let stored = app
        .store
        .read(move |tx| {
            let a = efine_store::ops::appeals::for_challan(tx, &n)?.unwrap();
            efine_store::ops::appeals::evidence(tx, a.id)
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.content_type, "image/jpeg");
    assert!(stored.bytes.len() <= 1024 * 1024, "{}", stored.bytes.len());
    let back = image::load_from_memory(&stored.bytes).unwrap();
    assert_eq!((back.width(), back.height()), (1600, 1200));
}

both_backends!(walk, search_and_errors, big_photo_is_shrunk);
