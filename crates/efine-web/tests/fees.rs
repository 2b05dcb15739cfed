//! Fees a citizen starts, through the real server: the service catalogue, a voucher asked for on
//! the portal (in Urdu, in a real browser) and through the API, paid by every rail's sandbox,
//! used once at the department's counter, and expired when left unpaid past its validity (1Bill
//! then answers `02`). The API parts run on both backends.

#[path = "common/browser.rs"]
mod browser;
mod common;

use browser::Browser;
use common::TestApp;
use efine_core::auth::Role;
use efine_core::clock::KARACHI;
use efine_core::Money;
use efine_store::ops::ledger;
use serde_json::{json, Value};
use std::collections::BTreeMap;

both_backends!(
    catalogue_lists_services_of_eight_departments,
    voucher_refuses_bad_input_and_caps_open_vouchers,
    voucher_paid_by_1bill_easypaisa_card_and_raast_then_used_once,
    unpaid_voucher_expires_and_1bill_refuses_it,
    a_service_change_is_a_new_version,
    raast_qr_on_the_voucher_pdf_and_slip,
    a_raast_payment_whose_notification_was_lost_is_found_by_the_poller,
    raast_lines_in_a_settlement_file_reconcile,
);

fn body(service: &str, choice: Option<&str>, cnic: &str, mobile: &str) -> Value {
    let (department, service) = service.split_once('/').unwrap();
    let mut b = json!({
        "department": department,
        "service": service,
        "district": "peshawar",
        "cnic": cnic,
        "mobile": mobile,
        "name": "Amina Khan",
    });
    if let Some(c) = choice {
        b["choice"] = json!(c);
    }
    b
}

async fn voucher(app: &TestApp, b: Value) -> Value {
    let (s, v) = app.post("/api/v1/public/fees", b).await;
    assert_eq!(s, 201, "{v}");
    v
}

async fn trial(app: &TestApp) -> Vec<ledger::AccountBalance> {
    let (rows, bad) = app
        .store
        .read(|tx| Ok((ledger::trial_balance(tx)?, ledger::unbalanced_journals(tx)?)))
        .await
        .unwrap();
    assert!(bad.is_empty(), "unbalanced journals: {bad:?}");
    let d: i64 = rows.iter().map(|r| r.debit).sum();
    let c: i64 = rows.iter().map(|r| r.credit).sum();
    assert_eq!(d, c, "the ledger balances");
    rows
}

fn account(rows: &[ledger::AccountBalance], name: &str) -> i64 {
    rows.iter()
        .find(|r| r.account == name)
        .map(|r| r.debit - r.credit)
        .unwrap_or(0)
}

fn bank_payment(app: &TestApp, psid: &str, amount: i64, stan: u32) -> Value {
    let now = app.store.now().to_offset(KARACHI);
    serde_json::to_value(efine_pay::sandbox::bank_payment(
        "sandbox-bank",
        "sandbox-1bill",
        psid,
        Money::from_paisa(amount).unwrap(),
        stan,
        time::PrimitiveDateTime::new(now.date(), now.time()),
        "HBL",
    ))
    .unwrap()
}

async fn inquiry(app: &TestApp, psid: &str) -> Value {
    let (s, v) = app
        .post(
            "/api/v1/1bill/bill-inquiry",
            json!({"userName": "sandbox-bank", "password": "sandbox-1bill", "consumerNumber": psid, "bankMnemonic": "HBL"}),
        )
        .await;
    assert_eq!(s, 200);
    v
}

async fn status_of(app: &TestApp, number: &str) -> String {
    let (s, v) = app
        .get(&format!("/api/v1/public/fees/vouchers/{number}"), None)
        .await;
    assert_eq!(s, 200, "{v}");
    v["status"].as_str().unwrap().to_string()
}

async fn staff_post(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
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

async fn catalogue_lists_services_of_eight_departments(app: TestApp) {
    let (s, v) = app.get("/api/v1/public/fees", None).await;
    assert_eq!(s, 200);
    let services = v["services"].as_array().unwrap();
    let mut departments: Vec<&str> = services
        .iter()
        .map(|s| s["department"].as_str().unwrap())
        .collect();
    departments.sort();
    departments.dedup();
    assert!(departments.len() >= 8, "{departments:?}");
    let dl = services
        .iter()
        .find(|s| s["service"] == "driving-licence")
        .unwrap();
    assert_eq!(dl["name_ur"], "ڈرائیونگ لائسنس (نیا)");
    assert_eq!(dl["validity_days"], 7);
    assert_eq!(dl["indicative"], true);
    let amounts: Vec<(String, i64)> = dl["choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["choice"].as_str().unwrap().to_string(),
                c["amount"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        amounts,
        vec![
            ("motorcycle".into(), 100_000),
            ("motorcar".into(), 150_000),
            ("ltv".into(), 250_000)
        ]
    );
    // Search in either language.
    let (_, v) = app.get("/api/v1/public/fees?q=food%20licence", None).await;
    let found: Vec<&str> = v["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service"].as_str().unwrap())
        .collect();
    assert_eq!(found, vec!["food-business-licence"]);
    let (_, v) = app
        .get(
            "/api/v1/public/fees?q=%D9%84%D8%A7%D8%A6%D8%B3%D9%86%D8%B3",
            None,
        )
        .await;
    assert!(v["services"].as_array().unwrap().len() >= 3, "{v}");
    // The portal's list and a service's form, in Urdu, without script.
    let page = app
        .http
        .get(app.url("/fees?lang=ur"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("ڈرائیونگ لائسنس (نیا)"), "{page}");
    assert!(page.contains("href=\"/fees/traffic-police/driving-licence\""));
    assert!(!page.contains("<script"));
    let r = app
        .http
        .get(app.url("/fees/traffic-police/no-such-service"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

async fn voucher_refuses_bad_input_and_caps_open_vouchers(app: TestApp) {
    let cnic = "17301-1111111-1";
    let mobile = "0300 1111111";
    for (b, field) in [
        (
            body("traffic-police/driving-licence", None, cnic, mobile),
            "choice",
        ),
        (
            body("traffic-police/driving-licence", Some("boat"), cnic, mobile),
            "choice",
        ),
        (
            body(
                "traffic-police/driving-licence",
                Some("ltv"),
                "12345",
                mobile,
            ),
            "cnic",
        ),
        (
            body("traffic-police/driving-licence", Some("ltv"), cnic, "123"),
            "mobile",
        ),
        (
            body("traffic-police/no-such", Some("ltv"), cnic, mobile),
            "service",
        ),
        (
            // Transfer of ownership asks for the vehicle.
            body(
                "excise-taxation/vehicle-transfer",
                Some("motorcar"),
                cnic,
                mobile,
            ),
            "vehicle_number",
        ),
        (
            json!({"department": "traffic-police", "service": "learner-permit", "district": "atlantis",
                   "cnic": cnic, "mobile": mobile, "name": "A"}),
            "district",
        ),
        (
            json!({"department": "traffic-police", "service": "learner-permit", "district": "peshawar",
                   "cnic": cnic, "mobile": mobile, "name": "a\u{202e}b"}),
            "name",
        ),
    ] {
        let (s, v) = app.post("/api/v1/public/fees", b.clone()).await;
        assert_eq!(s, 422, "{b}: {v}");
        assert_eq!(v["error"]["field"], field, "{b}: {v}");
    }

    let v = voucher(
        &app,
        body(
            "traffic-police/driving-licence",
            Some("motorcar"),
            cnic,
            mobile,
        ),
    )
    .await;
    assert_eq!(v["amount"], 150_000);
    assert_eq!(v["status"], "unpaid");
    assert_eq!(v["valid_until"], "2026-12-01");
    assert_eq!(v["fee_code"], "licence-fee-motorcar");
    assert_eq!(v["psid"].as_str().unwrap().len(), 16);
    assert!(v["voucher_number"]
        .as_str()
        .unwrap()
        .starts_with("TRF-PSH-2026-"));
    assert_eq!(v["cnic"], "*****-****111-*", "masked");
    assert!(v["raast_qr"].as_str().unwrap().starts_with("000201"));
    // Its challan page is the same payable item.
    let (_, c) = app
        .get(
            &format!("/api/v1/public/challans/{}", v["psid"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(c["kind"], "fee");
    assert_eq!(c["amount_due"], 150_000);
    assert_eq!(c["amount_after_due_date"], 150_000, "no surcharge");

    voucher(
        &app,
        body("traffic-police/learner-permit", None, cnic, mobile),
    )
    .await;
    voucher(
        &app,
        body("traffic-police/learner-permit", None, cnic, "0311 2222222"),
    )
    .await;
    let (s, e) = app
        .post(
            "/api/v1/public/fees",
            body("traffic-police/learner-permit", None, cnic, "0321 3333333"),
        )
        .await;
    assert_eq!(s, 409, "a fourth open voucher for the CNIC: {e}");
    assert_eq!(e["error"]["code"], "too_many_open_vouchers");
    // Another CNIC with the same mobile: two open on it, so one more, then no more.
    voucher(
        &app,
        body(
            "traffic-police/learner-permit",
            None,
            "17301-2222222-2",
            mobile,
        ),
    )
    .await;
    for b in [body(
        "traffic-police/learner-permit",
        None,
        "17301-9999999-9",
        mobile,
    )] {
        let (s, e) = app.post("/api/v1/public/fees", b).await;
        assert_eq!(s, 409, "{e}");
        assert_eq!(e["error"]["code"], "too_many_open_vouchers");
    }
    // Paying one makes room for another.
    let psid = v["psid"].as_str().unwrap();
    let (_, r) = app
        .post(
            "/api/v1/1bill/bill-payment",
            bank_payment(&app, psid, 150_000, 100001),
        )
        .await;
    assert_eq!(r["response_Code"], "00", "{r}");
    voucher(
        &app,
        body("traffic-police/learner-permit", None, cnic, "0321 3333333"),
    )
    .await;

    // The portal's form: a robot that fills the hidden field is refused, as is a bad CNIC, in
    // the page's language.
    let form = |cnic: &'static str, website: &'static str| {
        vec![
            ("district", "peshawar"),
            ("cnic", cnic),
            ("mobile", "0345 4444444"),
            ("name", "Bilal"),
            ("website", website),
        ]
    };
    let post = |f: Vec<(&'static str, &'static str)>| {
        TestApp::browser_client()
            .post(app.url("/fees/traffic-police/learner-permit?lang=ur"))
            .form(&f)
            .send()
    };
    let r = post(form("17301-4444444-4", "http://spam")).await.unwrap();
    assert_eq!(r.status(), 422);
    let r = post(form("1730", "")).await.unwrap();
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("براہ کرم 13 ہندسوں کا شناختی کارڈ نمبر لکھیں"),
        "{page}"
    );
    let r = post(form("17301-4444444-4", "")).await.unwrap();
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with("/fees/v/TRF-PSH-2026-"), "{to}");
}

async fn voucher_paid_by_1bill_easypaisa_card_and_raast_then_used_once(app: TestApp) {
    let clerk = app
        .user(
            "clerk.trf",
            Role::Officer,
            Some("traffic-police"),
            Some("peshawar"),
        )
        .await;
    let other = app
        .user(
            "clerk.food",
            Role::Officer,
            Some("food-authority"),
            Some("peshawar"),
        )
        .await;
    let mut vouchers = Vec::new();
    for (i, rail) in ["1bill", "easypaisa", "card", "raast"].iter().enumerate() {
        let v = voucher(
            &app,
            body(
                "traffic-police/driving-licence",
                Some("motorcycle"),
                &format!("17301-000000{i}-1"),
                &format!("0300 000000{i}"),
            ),
        )
        .await;
        let number = v["voucher_number"].as_str().unwrap().to_string();
        let psid = v["psid"].as_str().unwrap().to_string();
        let amount = v["amount"].as_i64().unwrap();
        assert_eq!(amount, 100_000);
        match *rail {
            "1bill" => {
                let q = inquiry(&app, &psid).await;
                assert_eq!(q["Response_Code"], "00");
                assert_eq!(q["Bill_Status"], "U");
                assert_eq!(q["Amount_Within_DueDate"], format!("+{amount:013}"));
                assert_eq!(q["Amount_After_DueDate"], format!("+{amount:013}"));
                let (_, r) = app
                    .post(
                        "/api/v1/1bill/bill-payment",
                        bank_payment(&app, &psid, amount, 200000 + i as u32),
                    )
                    .await;
                assert_eq!(r["response_Code"], "00", "{r}");
            }
            "easypaisa" | "card" => {
                let (s, co) = app
                    .post(
                        &format!("/api/v1/public/challans/{number}/checkout"),
                        json!({"method": rail}),
                    )
                    .await;
                assert_eq!(s, 201, "{co}");
                if *rail == "easypaisa" {
                    let mut form: BTreeMap<String, String> =
                        serde_json::from_value(co["fields"].clone()).unwrap();
                    form.insert("sandbox_choice".into(), "success".into());
                    form.insert("sandbox_format".into(), "json".into());
                    let back: BTreeMap<String, String> = app
                        .http
                        .post(app.url("/sandbox/easypaisa/complete"))
                        .form(&form)
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    let page = app
                        .http
                        .get(app.url("/payments/easypaisa/postback"))
                        .query(&back)
                        .send()
                        .await
                        .unwrap()
                        .text()
                        .await
                        .unwrap();
                    assert!(page.contains("RCT-2026-"), "{page}");
                } else {
                    let url = co["gateway_url"].as_str().unwrap();
                    let query = url.split_once('?').unwrap().1.to_string();
                    let done: Value = app
                        .http
                        .post(app.url("/sandbox/card/complete"))
                        .form(&[
                            ("session", query.as_str()),
                            ("sandbox_choice", "success"),
                            ("sandbox_format", "json"),
                        ])
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    assert_eq!(done["notified"], 200, "{done}");
                }
            }
            _ => {
                let payload = v["raast_qr"].as_str().unwrap();
                let d = efine_pay::raast::decode(payload).expect("a valid Raast QR");
                assert_eq!(d.extra["01"], psid.as_str());
                assert_eq!(d.fields["54"], "1000.00");
                let paid: Value = app
                    .http
                    .post(app.url("/sandbox/raast/app"))
                    .form(&[
                        ("payload", payload),
                        ("notify", "yes"),
                        ("sandbox_format", "json"),
                    ])
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                assert_eq!(paid["notified"]["answer"]["verdict"], "paid", "{paid}");
            }
        }
        assert_eq!(status_of(&app, &number).await, "paid", "{rail}");
        vouchers.push(v);
    }
    let rows = trial(&app).await;
    for rail in ["1bill", "easypaisa", "card", "raast"] {
        assert_eq!(
            account(&rows, &format!("clearing:{rail}")),
            100_000,
            "{rail}"
        );
    }
    assert_eq!(
        account(&rows, "revenue:traffic-police:licence-fee-motorcycle"),
        -400_000
    );

    // The department sees them paid and not used.
    let (s, list) = app
        .get("/api/v1/fees/vouchers?used=false", Some(&clerk))
        .await;
    assert_eq!(s, 200);
    assert_eq!(list["vouchers"].as_array().unwrap().len(), 4);
    let (_, none) = app.get("/api/v1/fees/vouchers", Some(&other)).await;
    assert_eq!(none["vouchers"].as_array().unwrap().len(), 0);

    // Verify by number, PSID, CNIC and QR at the counter.
    let v = &vouchers[0];
    let number = v["voucher_number"].as_str().unwrap();
    for q in [
        number.to_string(),
        v["psid"].as_str().unwrap().to_string(),
        "17301-0000000-1".to_string(),
        v["verify_url"].as_str().unwrap().to_string(),
        v["qr_token"].as_str().unwrap().to_string(),
    ] {
        let (s, found) = staff_post(
            &app,
            &clerk,
            "/api/v1/fees/vouchers/verify",
            json!({"q": q}),
        )
        .await;
        assert_eq!(s, 200, "{q}: {found}");
        let found = found["vouchers"].as_array().unwrap();
        assert_eq!(found.len(), 1, "{q}");
        assert_eq!(found[0]["voucher_number"], number);
        assert_eq!(found[0]["status"], "paid");
        assert_eq!(found[0]["cnic"], "1730100000001", "staff see it in full");
    }
    let (s, e) = staff_post(
        &app,
        &clerk,
        "/api/v1/fees/vouchers/verify",
        json!({"q": "nonsense!"}),
    )
    .await;
    assert_eq!(s, 422, "{e}");
    // Another department's clerk finds nothing and cannot use it.
    let (_, found) = staff_post(
        &app,
        &other,
        "/api/v1/fees/vouchers/verify",
        json!({"q": number}),
    )
    .await;
    assert_eq!(found["vouchers"].as_array().unwrap().len(), 0);
    let consume = format!("/api/v1/fees/vouchers/{number}/consume");
    let (s, _) = staff_post(&app, &other, &consume, json!({})).await;
    assert_eq!(s, 404);

    // Used once; a second time is refused.
    let (s, used) = staff_post(&app, &clerk, &consume, json!({})).await;
    assert_eq!(s, 200, "{used}");
    assert_eq!(used["consumed_by"], "clerk.trf");
    let (s, again) = staff_post(&app, &clerk, &consume, json!({})).await;
    assert_eq!(s, 409, "{again}");
    assert_eq!(again["error"]["code"], "voucher_used");
    let (_, list) = app
        .get("/api/v1/fees/vouchers?used=true", Some(&clerk))
        .await;
    assert_eq!(list["vouchers"].as_array().unwrap().len(), 1);
    let n = number.to_string();
    let events = app
        .store
        .read(move |tx| efine_store::ops::events::for_subject(tx, &n))
        .await
        .unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert!(kinds.contains(&"fee.voucher_requested"), "{kinds:?}");
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "fee.voucher_consumed")
            .count(),
        1
    );

    // An unpaid voucher cannot be used.
    let unpaid = voucher(
        &app,
        body(
            "traffic-police/learner-permit",
            None,
            "17301-5555555-5",
            "0300 5555555",
        ),
    )
    .await;
    let (s, e) = staff_post(
        &app,
        &clerk,
        &format!(
            "/api/v1/fees/vouchers/{}/consume",
            unpaid["voucher_number"].as_str().unwrap()
        ),
        json!({}),
    )
    .await;
    assert_eq!(s, 409);
    assert_eq!(e["error"]["code"], "voucher_unpaid");

    // Counted by service beside fines.
    let (s, counts) = app.get("/api/v1/stats/fees", Some(&clerk)).await;
    assert_eq!(s, 200, "{counts}");
    let dl = counts["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["service"] == "driving-licence")
        .unwrap()
        .clone();
    assert_eq!(
        (
            dl["vouchers"].as_i64(),
            dl["paid"].as_i64(),
            dl["used"].as_i64()
        ),
        (Some(4), Some(4), Some(1))
    );

    // And on the public transparency page, beside the fines.
    let page = app
        .http
        .get(app.url("/transparency?lang=en"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at = page
        .find("id=\"fees-by-service\"")
        .expect("fees by service");
    let section = &page[at..];
    assert!(
        section.contains("<td>Driving licence (new)</td><td>4</td><td>4</td><td>1</td>"),
        "{section}"
    );

    // The event log still verifies.
    let report = app
        .store
        .read(|tx| efine_store::ops::audit::verify(tx, None, &mut |_| {}))
        .await
        .unwrap();
    assert!(report.is_ok(), "{report:?}");
}

async fn unpaid_voucher_expires_and_1bill_refuses_it(app: TestApp) {
    let v = voucher(
        &app,
        body(
            "traffic-police/learner-permit",
            None,
            "17301-7777777-7",
            "0300 7777777",
        ),
    )
    .await;
    let number = v["voucher_number"].as_str().unwrap().to_string();
    let psid = v["psid"].as_str().unwrap().to_string();
    let amount = v["amount"].as_i64().unwrap();
    assert_eq!(v["valid_until"], "2026-12-01");

    // On its last day it is still payable and the run leaves it alone.
    app.clock.advance(time::Duration::days(7));
    let run = efine_service::escalation::run_once(&app.store)
        .await
        .unwrap();
    assert_eq!(run.expired, 0);
    assert_eq!(status_of(&app, &number).await, "unpaid");

    // The day after, the background run expires it, once.
    app.clock.advance(time::Duration::days(1));
    let run = efine_service::escalation::run_once(&app.store)
        .await
        .unwrap();
    assert_eq!(run.expired, 1);
    assert_eq!(run.surcharged, 0);
    let run = efine_service::escalation::run_once(&app.store)
        .await
        .unwrap();
    assert_eq!(run.expired, 0);
    assert_eq!(status_of(&app, &number).await, "expired");
    let n = number.clone();
    let events = app
        .store
        .read(move |tx| efine_store::ops::events::for_subject(tx, &n))
        .await
        .unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind == "challan.expired")
            .count(),
        1
    );

    // 1Bill: inquiry and payment both answer 02, and no money moves.
    let q = inquiry(&app, &psid).await;
    assert_eq!(q["Response_Code"], "02", "{q}");
    let (_, r) = app
        .post(
            "/api/v1/1bill/bill-payment",
            bank_payment(&app, &psid, amount, 300001),
        )
        .await;
    assert_eq!(r["response_Code"], "02", "{r}");
    // No hosted rail takes it either.
    let (s, e) = app
        .post(
            &format!("/api/v1/public/challans/{number}/checkout"),
            json!({"method": "jazzcash"}),
        )
        .await;
    assert_eq!(s, 409, "{e}");
    assert_eq!(e["error"]["code"], "expired");
    let rows = trial(&app).await;
    assert_eq!(account(&rows, "clearing:1bill"), 0);
    // An expired voucher no longer counts against the cap, and the log verifies.
    let report = app
        .store
        .read(|tx| efine_store::ops::audit::verify(tx, None, &mut |_| {}))
        .await
        .unwrap();
    assert!(report.is_ok(), "{report:?}");
}

async fn a_service_change_is_a_new_version(app: TestApp) {
    let v = voucher(
        &app,
        body(
            "traffic-police/learner-permit",
            None,
            "17301-8888888-8",
            "0300 8888888",
        ),
    )
    .await;
    assert_eq!(v["service_version"], 1);
    let admin = app
        .user(
            "dept.admin",
            Role::DepartmentAdmin,
            Some("traffic-police"),
            None,
        )
        .await;
    let outsider = app
        .user("forest.admin", Role::DepartmentAdmin, Some("forest"), None)
        .await;
    let clerk = app
        .user(
            "clerk.trf",
            Role::Officer,
            Some("traffic-police"),
            Some("peshawar"),
        )
        .await;
    let change = json!({
        "name_en": "Learner driving permit (six months)",
        "name_ur": "لرنر ڈرائیونگ پرمٹ (چھ ماہ)",
        "validity_days": 3,
        "legal_reference": "Provincial Motor Vehicles Ordinance 1965, s. 4",
        "indicative": true,
        "choices": [{"choice": "standard", "fee_code": "learner-permit-fee",
                     "label_en": "Learner permit", "label_ur": "لرنر پرمٹ"}],
    });
    let path = "/api/v1/fees/services/traffic-police/learner-permit";
    let put = |token: &str, b: Value| {
        app.http
            .put(app.url(path))
            .bearer_auth(token.to_string())
            .json(&b)
            .send()
    };
    // Another department's admin, or an officer, may not change it.
    assert_eq!(put(&outsider, change.clone()).await.unwrap().status(), 403);
    assert_eq!(put(&clerk, change.clone()).await.unwrap().status(), 403);
    // A fee that is not in the department's schedule, or a validity out of range, is refused.
    let mut bad = change.clone();
    bad["choices"][0]["fee_code"] = json!("transit-pass-fee");
    let r = put(&admin, bad).await.unwrap();
    assert_eq!(r.status(), 422);
    let mut bad = change.clone();
    bad["validity_days"] = json!(45);
    assert_eq!(put(&admin, bad).await.unwrap().status(), 422);
    let r = put(&admin, change.clone()).await.unwrap();
    assert_eq!(r.status(), 200);
    let changed: Value = r.json().await.unwrap();
    assert_eq!(changed["version"], 2);

    let (_, list) = app.get("/api/v1/public/fees?q=learner", None).await;
    assert_eq!(list["services"][0]["version"], 2);
    assert_eq!(list["services"][0]["validity_days"], 3);
    let w = voucher(
        &app,
        body(
            "traffic-police/learner-permit",
            None,
            "17301-8888888-8",
            "0300 8888888",
        ),
    )
    .await;
    assert_eq!(w["service_version"], 2);
    assert_eq!(w["valid_until"], "2026-11-27");
    assert_eq!(w["service_name_en"], "Learner driving permit (six months)");
    // The voucher made before keeps its version.
    let (_, old) = app
        .get(
            &format!(
                "/api/v1/public/fees/vouchers/{}",
                v["voucher_number"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(old["service_version"], 1);
    assert_eq!(old["service_name_en"], "Learner driving permit");
    assert_eq!(old["valid_until"], "2026-12-01");
    // Withdrawn: no longer offered; its vouchers stay.
    let mut off = change.clone();
    off["active"] = json!(false);
    let r = put(&admin, off).await.unwrap();
    assert_eq!(r.status(), 200);
    let (_, list) = app.get("/api/v1/public/fees?q=learner", None).await;
    assert_eq!(list["services"].as_array().unwrap().len(), 0, "{list}");
    let (s, e) = app
        .post(
            "/api/v1/public/fees",
            body(
                "traffic-police/learner-permit",
                None,
                "17301-8888888-8",
                "0300 8888888",
            ),
        )
        .await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(
        status_of(&app, w["voucher_number"].as_str().unwrap()).await,
        "unpaid"
    );
}

/// Both widths, one screenshot each; nothing wider than a phone.
async fn shots(b: &Browser, name: &str) {
    b.resize(360, 800).await;
    b.screenshot(&format!("fees-{name}-phone")).await;
    let wide = b
        .script(
            "const w = document.documentElement.clientWidth; \
             return [...document.querySelectorAll('body *')].filter(e => { \
               const r = e.getBoundingClientRect(); return r.width > 0 && !e.closest('.scroll') && !e.closest('.sr') && (r.right > w + 1 || r.left < -1); \
             }).map(e => e.tagName + '.' + e.className + ' ' + e.textContent.slice(0, 30))",
        )
        .await;
    assert_eq!(wide, json!([]), "{name}: wider than the phone");
    b.resize(1280, 900).await;
    b.screenshot(&format!("fees-{name}-desktop")).await;
}

/// Picks the driving licence in Urdu and fills the form; returns the voucher page's number.
async fn get_voucher_in_urdu(
    b: &Browser,
    app: &TestApp,
    cnic: &str,
    mobile: &str,
    shoot: bool,
) -> String {
    b.goto(&app.url("/?lang=ur")).await;
    b.find("#fees-link").await.click().await;
    b.wait_url("/fees").await;
    b.wait_script("return document.documentElement.dir", "rtl")
        .await;
    if shoot {
        shots(b, "list-ur").await;
    }
    b.find("a[href='/fees/traffic-police/driving-licence']")
        .await
        .click()
        .await;
    b.wait_text("the form", |t| t.contains("لائسنس کی قسم"))
        .await;
    b.find("#c-motorcar").await.click().await;
    b.find("#district option[value=peshawar]")
        .await
        .click()
        .await;
    b.find("#cnic").await.type_text(cnic).await;
    b.find("#mobile").await.type_text(mobile).await;
    b.find("#name").await.type_text("آمنہ خان").await;
    if shoot {
        shots(b, "form-ur").await;
    }
    b.find("#get-voucher").await.click().await;
    b.wait_url("/fees/v/").await;
    b.wait_text("the voucher", |t| t.contains("آپ کا واؤچر تیار ہے"))
        .await;
    let url = b.url().await;
    url.rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn citizen_gets_a_voucher_in_urdu_pays_it_and_the_clerk_uses_it_once() {
    let app = TestApp::sqlite().await;
    app.user(
        "clerk.trf",
        Role::Officer,
        Some("traffic-police"),
        Some("peshawar"),
    )
    .await;
    let b = Browser::start().await;

    // JazzCash, from the voucher page through the pay page and the sandbox.
    let number = get_voucher_in_urdu(&b, &app, "17301-1234567-1", "0300 1234567", true).await;
    let page = b.text().await;
    assert!(page.contains("۱٬۵۰۰ روپے"), "{page}");
    assert!(page.contains("پی ایس آئی ڈی"), "{page}");
    assert_eq!(
        b.script("return document.querySelector('svg[role=img]') !== null")
            .await,
        true
    );
    shots(&b, "voucher-ur").await;
    let pdf = app
        .http
        .get(app.url(&format!("/challans/{number}/receipt.pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), 200);
    assert_eq!(&pdf.bytes().await.unwrap()[..4], b"%PDF");
    b.find("#pay").await.click().await;
    b.find("#m-jazzcash").await.click().await;
    b.find("form[action$='/pay'] button").await.click().await;
    b.find("#go").await.click().await;
    b.wait_url("/sandbox/jazzcash/merchantform").await;
    b.find("form[action='/sandbox/jazzcash/complete'] button")
        .await
        .click()
        .await;
    b.wait_url("/payments/jazzcash/return").await;
    b.wait_text("the receipt", |t| t.contains("RCT-2026-"))
        .await;
    assert_eq!(status_of(&app, &number).await, "paid");

    // Raast: the pay page's QR text, scanned by the sandbox bank app.
    let second = get_voucher_in_urdu(&b, &app, "17301-7654321-1", "0300 7654321", false).await;
    b.goto(&app.url(&format!("/c/{second}/pay"))).await;
    let payload = b.find("#raast-payload").await.text().await;
    let d = efine_pay::raast::decode(&payload).expect("a valid Raast QR");
    assert_eq!(d.fields["54"], "1500.00");
    b.goto(&app.url("/sandbox/raast/app")).await;
    b.find("#payload").await.type_text(&payload).await;
    b.find("form[action='/sandbox/raast/app'] button")
        .await
        .click()
        .await;
    b.wait_text("the bank's answer", |t| t.contains("Raast transaction"))
        .await;
    assert_eq!(status_of(&app, &second).await, "paid");
    b.goto(&app.url(&format!("/fees/v/{second}?lang=ur"))).await;
    b.wait_text("the paid voucher", |t| t.contains("یہ واؤچر ادا ہو چکا ہے"))
        .await;
    shots(&b, "paid-ur").await;

    // The clerk verifies the first at the counter by its PSID and uses it; a second time is
    // refused.
    let (_, v) = app
        .get(&format!("/api/v1/public/fees/vouchers/{number}"), None)
        .await;
    let psid = v["psid"].as_str().unwrap().to_string();
    b.goto(&app.url("/staff/fees?lang=en")).await;
    b.wait_url("/staff/login").await;
    b.find("#username").await.type_text("clerk.trf").await;
    b.find("#password").await.type_text(common::PASSWORD).await;
    b.find("form[action='/staff/login'] button")
        .await
        .click()
        .await;
    b.wait_url("/staff/fees").await;
    b.find("#vq").await.type_text(&psid).await;
    b.find("form[action='/staff/fees/verify'] button")
        .await
        .click()
        .await;
    b.wait_text("the verified voucher", |t| t.contains("Mark as used"))
        .await;
    shots(&b, "counter-en").await;
    b.find(&format!(
        "#verified form[action='/staff/fees/{number}/consume'] button"
    ))
    .await
    .click()
    .await;
    b.wait_text("the voucher used", |t| t.contains("is marked as used"))
        .await;
    // The same voucher presented again.
    b.find("#vq").await.type_text(&number).await;
    b.find("form[action='/staff/fees/verify'] button")
        .await
        .click()
        .await;
    b.wait_text("the used voucher", |t| t.contains("used at the office"))
        .await;
    assert_eq!(
        b.script(&format!(
            "return document.querySelector(\"#verified form[action='/staff/fees/{number}/consume']\") === null"
        ))
        .await,
        true,
        "a used voucher offers no second use"
    );
    let token = app.login("clerk.trf", common::PASSWORD).await;
    let (s, e) = staff_post(
        &app,
        &token,
        &format!("/api/v1/fees/vouchers/{number}/consume"),
        json!({}),
    )
    .await;
    assert_eq!(s, 409);
    assert_eq!(e["error"]["code"], "voucher_used");

    // An unpaid voucher left past its validity expires; its page says so and 1Bill refuses it.
    let third = get_voucher_in_urdu(&b, &app, "17301-1111111-1", "0300 1111111", false).await;
    app.clock.advance(time::Duration::days(8));
    let run = efine_service::escalation::run_once(&app.store)
        .await
        .unwrap();
    assert_eq!(run.expired, 1);
    b.goto(&app.url(&format!("/fees/v/{third}?lang=ur"))).await;
    b.wait_text("the expired voucher", |t| {
        t.contains("ادا کیے بغیر ختم ہو گیا")
    })
    .await;
    shots(&b, "expired-ur").await;
    let (_, v) = app
        .get(&format!("/api/v1/public/fees/vouchers/{third}"), None)
        .await;
    let q = inquiry(&app, v["psid"].as_str().unwrap()).await;
    assert_eq!(q["Response_Code"], "02");
    let (_, r) = app
        .post(
            "/api/v1/1bill/bill-payment",
            bank_payment(&app, v["psid"].as_str().unwrap(), 150_000, 400001),
        )
        .await;
    assert_eq!(r["response_Code"], "02");

    // The same pages in English, at both widths.
    b.goto(&app.url("/fees?lang=en")).await;
    b.wait_script("return document.documentElement.dir", "ltr")
        .await;
    shots(&b, "list-en").await;
    b.goto(&app.url("/fees/excise-taxation/vehicle-transfer"))
        .await;
    b.find("#vehicle_number").await;
    shots(&b, "form-en").await;
    b.goto(&app.url(&format!("/fees/v/{second}"))).await;
    b.wait_text("the paid voucher", |t| t.contains("This voucher is paid"))
        .await;
    shots(&b, "paid-en").await;
}

/// The distinct QR codes on page 1 of a PDF at `dpi` and at 1.5 and 2 times that: the decoder
/// misses a code now and then when its modules fall between pixels.
fn qr_codes_in_pdf(pdf: &[u8], dpi: u32) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for r in [dpi, dpi * 3 / 2, dpi * 2] {
        for code in qr_codes_at(pdf, r) {
            if !found.contains(&code) {
                found.push(code);
            }
        }
    }
    found
}

/// Rasterises page 1 of a PDF with pdftoppm at `dpi` and returns the QR codes found on it.
fn qr_codes_at(pdf: &[u8], dpi: u32) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).unwrap();
    let ok = std::process::Command::new("pdftoppm")
        .args(["-r", &dpi.to_string(), "-png", "-singlefile"])
        .arg(&path)
        .arg(dir.path().join("page"))
        .status()
        .expect("pdftoppm (Debian poppler-utils)")
        .success();
    assert!(ok);
    let img = image::open(dir.path().join("page.png")).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_, s)| s))
        .collect()
}

async fn raast_qr_on_the_voucher_pdf_and_slip(app: TestApp) {
    use efine_pay::raast;
    let v = voucher(
        &app,
        body(
            "traffic-police/driving-licence",
            Some("ltv"),
            "17301-6666666-6",
            "0300 6666666",
        ),
    )
    .await;
    let number = v["voucher_number"].as_str().unwrap();
    let psid = v["psid"].as_str().unwrap();
    for (query, dpi) in [("", 150), ("?paper=58mm", 200)] {
        let r = app
            .http
            .get(app.url(&format!("/challans/{number}/receipt.pdf{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let pdf = r.bytes().await.unwrap();
        let codes = qr_codes_in_pdf(&pdf, dpi);
        let payload = codes
            .iter()
            .find(|c| c.starts_with("000201"))
            .unwrap_or_else(|| panic!("{query}: no Raast QR among {codes:?}"));
        // Every field of the QR, and its CRC.
        let d = raast::decode(payload).expect("a valid Raast QR with a good CRC");
        assert_eq!(d.fields["00"], "01");
        assert_eq!(d.fields["01"], "12", "dynamic: one fixed amount");
        assert_eq!(d.account["00"], raast::RAAST_AID);
        assert_eq!(d.account["01"], "PK36SCBL0000001123456702");
        assert_eq!(d.fields["52"], "9399");
        assert_eq!(d.fields["53"], "586");
        assert_eq!(d.fields["54"], "2500.00");
        assert_eq!(d.fields["58"], "PK");
        assert_eq!(d.fields["59"], "KP E-FINE SANDBOX");
        assert_eq!(d.fields["60"], "PESHAWAR");
        assert_eq!(d.extra["01"], psid);
        assert_eq!(d.extra["05"], number);
        assert_eq!(
            d.extra["50"], "01122026",
            "the last day of the voucher's validity"
        );
        assert_eq!(d.extra["51"], "2500.00", "a voucher's amount never grows");
        let crc = format!(
            "{:04X}",
            raast::crc16(&payload.as_bytes()[..payload.len() - 4])
        );
        assert_eq!(d.fields["63"], crc);
        assert!(codes.iter().any(|c| c.contains("/v/")), "{codes:?}");
    }
    // The 58 mm ESC/POS slip carries the same payload in a second QR code.
    let slip = app
        .http
        .get(app.url(&format!("/challans/{number}/receipt.escpos")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let payload = v["raast_qr"].as_str().unwrap().as_bytes().to_vec();
    assert!(slip.windows(payload.len()).any(|w| w == payload.as_slice()));
    // Paid: nothing more to pay, so no Raast QR.
    let (_, r) = app
        .post(
            "/api/v1/1bill/bill-payment",
            bank_payment(&app, psid, 250_000, 500001),
        )
        .await;
    assert_eq!(r["response_Code"], "00");
    let pdf = app
        .http
        .get(app.url(&format!("/challans/{number}/receipt.pdf")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut codes = Vec::new();
    for dpi in [150, 200, 300] {
        codes = qr_codes_in_pdf(&pdf, dpi);
        if !codes.is_empty() {
            break;
        }
    }
    assert_eq!(codes.len(), 1, "{codes:?}");
    assert!(
        codes[0].contains("/v/"),
        "only the verification QR: {codes:?}"
    );
}

async fn a_raast_payment_whose_notification_was_lost_is_found_by_the_poller(app: TestApp) {
    let v = voucher(
        &app,
        body(
            "traffic-police/learner-permit",
            None,
            "17301-3333333-3",
            "0300 3333333",
        ),
    )
    .await;
    let number = v["voucher_number"].as_str().unwrap();
    let other = voucher(
        &app,
        body(
            "traffic-police/learner-permit",
            None,
            "17301-4444444-4",
            "0300 4444444",
        ),
    )
    .await;
    // The payer's bank takes the money; the biller's bank's notification never arrives.
    let paid: Value = app
        .http
        .post(app.url("/sandbox/raast/app"))
        .form(&[
            ("payload", v["raast_qr"].as_str().unwrap()),
            ("notify", "no"),
            ("sandbox_format", "json"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(paid["notified"].is_null(), "{paid}");
    assert_eq!(status_of(&app, number).await, "unpaid");
    // The daily round asks about both unpaid vouchers and credits the one that was paid.
    let (asked, credited) = efine_service::poller::raast_vouchers(&app.state.ctx)
        .await
        .unwrap();
    assert_eq!((asked, credited), (2, 1));
    assert_eq!(status_of(&app, number).await, "paid");
    assert_eq!(
        status_of(&app, other["voucher_number"].as_str().unwrap()).await,
        "unpaid"
    );
    // Asked again: nothing new, one receipt.
    let (asked, credited) = efine_service::poller::raast_vouchers(&app.state.ctx)
        .await
        .unwrap();
    assert_eq!((asked, credited), (1, 0));
    let rows = trial(&app).await;
    assert_eq!(account(&rows, "clearing:raast"), 20_000);
}

async fn raast_lines_in_a_settlement_file_reconcile(app: TestApp) {
    let finance = app.user("finance.raast", Role::Finance, None, None).await;
    let day = efine_core::clock::karachi_date(app.store.now()).to_string();
    let mut txns = Vec::new();
    for i in 0..2 {
        let v = voucher(
            &app,
            body(
                "traffic-police/learner-permit",
                None,
                &format!("17301-121212{i}-1"),
                &format!("0300 121212{i}"),
            ),
        )
        .await;
        let paid: Value = app
            .http
            .post(app.url("/sandbox/raast/app"))
            .form(&[
                ("payload", v["raast_qr"].as_str().unwrap()),
                ("notify", "yes"),
                ("sandbox_format", "json"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(paid["notified"]["answer"]["verdict"], "paid", "{paid}");
        txns.push(paid["raast_txn_id"].as_str().unwrap().to_string());
    }
    let mut file = String::from("rail_txn_id,reference,amount_paisa,settled_on\n");
    file.push_str(&format!("{},,20000,{day}\n", txns[0]));
    file.push_str(&format!("{},,20001,{day}\n", txns[1]));
    file.push_str(&format!("RSTUNKNOWN1,,5000,{day}\n"));
    let r = app
        .http
        .post(app.url("/api/v1/recon/raast?name=raast-settlement.csv"))
        .bearer_auth(&finance)
        .header("content-type", "text/csv")
        .body(file)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["matched"], 1, "{report}");
    assert_eq!(report["amount_differs"], 1, "{report}");
    assert_eq!(report["missing_here"], 1, "{report}");
    let rows = trial(&app).await;
    assert_eq!(
        account(&rows, "clearing:raast"),
        20_000,
        "one settled to the bank"
    );
}
