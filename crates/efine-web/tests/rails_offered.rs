//! A rail that is not configured is never offered to a payer: not on the challan page, the pay
//! page or the verification page, and the checkout API refuses it with 422 naming the rail.
//! With no online rail the pages say how to pay instead of offering "Pay now": by PSID at a
//! bank when 1Bill is configured, else at the department's counter. Servers started with one
//! rail, with 1Bill only, and with none, on both backends.

mod common;

use common::{Rails, TestApp};
use efine_store::testing::RawSql;
use efine_store::Location;
use serde_json::{json, Value};

/// JazzCash only.
fn jazzcash_only(base: &str) -> efine_web::payments::PaymentsConfig {
    let mut p = efine_web::payments::sandbox(base);
    p.onebill = None;
    p.easypaisa = None;
    p.card = None;
    p.raast = None;
    p
}

/// Banks by PSID (1Bill) and no hosted rail.
fn onebill_only(base: &str) -> efine_web::payments::PaymentsConfig {
    let mut p = efine_web::payments::sandbox(base);
    p.jazzcash = None;
    p.easypaisa = None;
    p.card = None;
    p.raast = None;
    p
}

/// Nothing configured: what a first start without settings has.
fn no_rails(base: &str) -> efine_web::payments::PaymentsConfig {
    efine_web::payments::PaymentsConfig {
        public_url: base.to_string(),
        ..Default::default()
    }
}

async fn sqlite(rails: Rails) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let loc = Location::Sqlite(dir.path().join("efine.db"));
    TestApp::start_with_rails(loc, Some(dir), rails).await
}

async fn postgres(rails: Rails) -> TestApp {
    let loc = Location::Postgres {
        url: common::pg_url(),
        schema: Some(format!("rails_{}", common::random_suffix())),
    };
    TestApp::start_with_rails(loc, None, rails).await
}

/// Issues a challan; answers its number, PSID and QR token.
async fn challan(app: &TestApp) -> (String, String, String) {
    let token = app.officer().await;
    let (status, v) = app
        .issue(
            &token,
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-42"}),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    let s = |k: &str| v[k].as_str().unwrap().to_string();
    (s("challan_number"), s("psid"), s("qr_token"))
}

async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let r = app
        .http
        .get(app.url(path))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn checkout(app: &TestApp, number: &str, method: &str) -> (u16, Value) {
    app.post(
        &format!("/api/v1/public/challans/{number}/checkout"),
        json!({ "method": method }),
    )
    .await
}

async fn post_pay(app: &TestApp, number: &str, method: &str) -> (u16, String) {
    let r = app
        .http
        .post(app.url(&format!("/c/{number}/pay")))
        .form(&[("method", method)])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn one_rail_is_all_that_is_offered(app: TestApp) {
    let (n, psid, qr) = challan(&app).await;

    let (status, html) = page(&app, &format!("/c/{n}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"pay\""), "Pay now is offered: {html}");
    assert!(
        !html.contains("under 1Bill"),
        "1Bill is not configured: {html}"
    );

    let (status, html) = page(&app, &format!("/c/{n}/pay")).await;
    assert_eq!(status, 200);
    assert!(html.contains("value=\"jazzcash\""), "{html}");
    assert!(!html.contains("value=\"easypaisa\""), "{html}");
    assert!(!html.contains("value=\"card\""), "{html}");
    assert!(!html.contains(&psid), "no bank line without 1Bill: {html}");

    // A hand-made form for a rail not offered: the question again, 422, nothing started.
    let (status, html) = post_pay(&app, &n, "card").await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("value=\"jazzcash\""), "{html}");

    for (method, named) in [("card", "card"), ("easypaisa", "Easypaisa")] {
        let (status, v) = checkout(&app, &n, method).await;
        assert_eq!(status, 422, "{v}");
        assert_eq!(v["error"]["field"], "method", "{v}");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(
            msg.contains(named) && msg.contains("not offered") && msg.contains("jazzcash"),
            "{msg}"
        );
    }
    let (status, v) = checkout(&app, &n, "raast").await;
    assert_eq!(status, 422, "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("jazzcash"),
        "{v}"
    );
    let (status, v) = checkout(&app, &n, "jazzcash").await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["method"], "jazzcash");

    let (status, html) = page(&app, &format!("/v/{qr}")).await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("href=\"/c/{n}/pay\"")), "{html}");
}

async fn with_1bill_only_the_pages_say_pay_by_psid(app: TestApp) {
    let (n, psid, qr) = challan(&app).await;
    for path in [format!("/c/{n}"), format!("/c/{n}/pay"), format!("/v/{qr}")] {
        let (status, html) = page(&app, &path).await;
        assert_eq!(status, 200, "{path}");
        assert!(html.contains("id=\"pay-by-psid\""), "{path}: {html}");
        assert!(html.contains(&psid), "{path}: {html}");
        assert!(html.contains("Pay at a bank"), "{path}: {html}");
        assert!(!html.contains("id=\"pay\""), "{path}: no Pay now: {html}");
        assert!(!html.contains("<form method=\"post\""), "{path}: {html}");
    }
    let (status, html) = page(&app, &format!("/c/{n}?lang=ur")).await;
    assert_eq!(status, 200);
    assert!(html.contains("بینک میں ادائیگی کریں"), "{html}");

    let (status, v) = checkout(&app, &n, "jazzcash").await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["error"]["field"], "method");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("JazzCash") && msg.contains("no online payment") && msg.contains("PSID"),
        "{msg}"
    );
}

async fn with_no_rail_the_pages_say_pay_at_the_counter(app: TestApp) {
    // Without a scrape token (the default), /metrics is off.
    let r = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.headers().get("x-request-id").is_some());

    let (n, psid, qr) = challan(&app).await;
    for path in [format!("/c/{n}"), format!("/c/{n}/pay"), format!("/v/{qr}")] {
        let (status, html) = page(&app, &path).await;
        assert_eq!(status, 200, "{path}");
        assert!(html.contains("id=\"pay-at-counter\""), "{path}: {html}");
        assert!(html.contains("counter of the department"), "{path}: {html}");
        assert!(!html.contains("id=\"pay\""), "{path}: no Pay now: {html}");
        assert!(!html.contains("id=\"pay-by-psid\""), "{path}: {html}");
        assert!(!html.contains("under 1Bill"), "{path}: {html}");
        assert!(!html.contains("<form method=\"post\""), "{path}: {html}");
    }
    let (status, html) = page(&app, &format!("/c/{n}/pay?lang=ur")).await;
    assert_eq!(status, 200);
    assert!(html.contains("محکمے کے کاؤنٹر پر ادائیگی کریں"), "{html}");
    assert!(!html.contains("1Bill"), "{html}");
    let _ = psid;

    let (status, html) = post_pay(&app, &n, "jazzcash").await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("id=\"pay-at-counter\""), "{html}");

    let (status, v) = checkout(&app, &n, "jazzcash").await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["error"]["field"], "method");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("JazzCash") && msg.contains("no online payment") && msg.contains("counter"),
        "{msg}"
    );
    // Nothing was started: no payment attempt at all.
    let attempts = app
        .store
        .read(|tx| {
            tx.query_one("SELECT COUNT(*) FROM payment_attempts", &[])?
                .i64(0)
        })
        .await
        .unwrap();
    assert_eq!(attempts, 0);
}

macro_rules! on_both {
    ($name:ident, $rails:expr) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(super::sqlite($rails).await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(super::postgres($rails).await).await;
            }
        }
    };
}

on_both!(one_rail_is_all_that_is_offered, super::jazzcash_only);
on_both!(
    with_1bill_only_the_pages_say_pay_by_psid,
    super::onebill_only
);
on_both!(
    with_no_rail_the_pages_say_pay_at_the_counter,
    super::no_rails
);
