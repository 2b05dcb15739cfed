//! Payments through the real server on both backends: 1Bill as a bank calls it, JazzCash through
//! its sandbox's signed messages, replays, tampering, races, and the ledger after all of it.

mod common;

use common::TestApp;
use efine_core::clock::KARACHI;
use efine_core::Money;
use efine_store::ops::ledger;
use efine_store::testing::RawSql;
use serde_json::{json, Value};
use std::collections::BTreeMap;

both_backends!(
    onebill_inquiry_and_payment,
    onebill_refuses_bad_input_with_its_codes,
    jazzcash_checkout_return_and_replay,
    jazzcash_refuses_tampering_and_records_it,
    jazzcash_pending_and_failure,
    racing_rails_credit_once,
    ledger_balances_after_many_operations,
    counter_cash_and_cash_up,
    refunds_need_a_second_person,
    settlement_file_reconciles,
    settlement_file_quoting_line_ends_and_bom,
    easypaisa_credits_only_from_the_inquiry,
    easypaisa_pending_is_resolved_by_the_poller,
    card_notifications_are_verified,
    jazzcash_pending_is_resolved_by_the_poller,
    raast_qr_notification_replay_and_inquiry,
);

async fn issue(app: &TestApp, token: &str, plate: &str) -> Value {
    let (s, c) = app
        .issue(
            token,
            json!({"offence_code": "no-helmet", "vehicle_number": plate}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    c
}

fn bank_payment(psid: &str, amount: i64, stan: u32, app: &TestApp) -> Value {
    let now = app.store.now().to_offset(KARACHI);
    let req = efine_pay::sandbox::bank_payment(
        "sandbox-bank",
        "sandbox-1bill",
        psid,
        Money::from_paisa(amount).unwrap(),
        stan,
        time::PrimitiveDateTime::new(now.date(), now.time()),
        "HBL",
    );
    serde_json::to_value(req).unwrap()
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

async fn trial(app: &TestApp) -> (i64, i64, Vec<ledger::AccountBalance>) {
    let (rows, bad) = app
        .store
        .read(|tx| Ok((ledger::trial_balance(tx)?, ledger::unbalanced_journals(tx)?)))
        .await
        .unwrap();
    assert!(bad.is_empty(), "unbalanced journals: {bad:?}");
    let d = rows.iter().map(|r| r.debit).sum();
    let c = rows.iter().map(|r| r.credit).sum();
    (d, c, rows)
}

fn account(rows: &[ledger::AccountBalance], name: &str) -> i64 {
    rows.iter()
        .find(|r| r.account == name)
        .map(|r| r.debit - r.credit)
        .unwrap_or(0)
}

async fn onebill_inquiry_and_payment(app: TestApp) {
    let token = app.officer().await;
    let c = issue(&app, &token, "PES-1").await;
    let psid = c["psid"].as_str().unwrap();
    let amount = c["amount_due"].as_i64().unwrap();

    let v = inquiry(&app, psid).await;
    assert_eq!(v["Response_Code"], "00");
    assert_eq!(v["Bill_Status"], "U");
    assert_eq!(v["Amount_Within_DueDate"], format!("+{amount:013}"));
    assert_eq!(v["Amount_After_DueDate"], format!("+{:013}", 2 * amount));
    assert_eq!(
        v["Due_Date"],
        c["due_date"].as_str().unwrap().replace('-', "")
    );
    assert_eq!(v["Consumer_Detail"].as_str().unwrap().len(), 30);

    let pay = bank_payment(psid, amount, 123456, &app);
    let (s, r) = app.post("/api/v1/1bill/bill-payment", pay.clone()).await;
    assert_eq!(s, 200);
    assert_eq!(r["response_Code"], "00", "{r}");
    let receipt = r["Identification_parameter"].as_str().unwrap().to_string();
    assert!(receipt.starts_with("RCT-2026-"), "{receipt}");

    // The same payment again: duplicate, same receipt, nothing credited twice.
    let (_, again) = app.post("/api/v1/1bill/bill-payment", pay).await;
    assert_eq!(again["response_Code"], "03");
    assert_eq!(again["Identification_parameter"], receipt.as_str());

    let v = inquiry(&app, psid).await;
    assert_eq!(v["Bill_Status"], "P");
    assert_eq!(v["Amount_Paid"], format!("{amount:012}"));
    assert_eq!(v["Tran_Auth_Id"], "123456");
    assert_eq!(v["Date_Paid"].as_str().unwrap().len(), 8);

    // Another bank transaction for the paid bill is refused before money moves.
    let (_, other) = app
        .post(
            "/api/v1/1bill/bill-payment",
            bank_payment(psid, amount, 654321, &app),
        )
        .await;
    assert_eq!(other["response_Code"], "02");

    let (_, p) = app
        .get(&format!("/api/v1/public/challans/{psid}"), None)
        .await;
    assert_eq!(p["status"], "paid");
    let (d, cr, rows) = trial(&app).await;
    assert_eq!(d, cr);
    assert_eq!(account(&rows, "clearing:1bill"), amount);
    assert_eq!(account(&rows, "revenue:traffic-police:no-helmet"), -amount);
    assert_eq!(account(&rows, "refunds-payable"), 0);
}

async fn onebill_refuses_bad_input_with_its_codes(app: TestApp) {
    let token = app.officer().await;
    let c = issue(&app, &token, "PES-2").await;
    let psid = c["psid"].as_str().unwrap();
    let amount = c["amount_due"].as_i64().unwrap();

    let (_, v) = app
        .post(
            "/api/v1/1bill/bill-inquiry",
            json!({"userName": "sandbox-bank", "password": "wrong", "consumerNumber": psid, "bankMnemonic": "HBL"}),
        )
        .await;
    assert_eq!(v["Response_Code"], "04");
    let mut typo = psid.as_bytes().to_vec();
    typo[10] = if typo[10] == b'9' { b'0' } else { typo[10] + 1 };
    let v = inquiry(&app, std::str::from_utf8(&typo).unwrap()).await;
    assert_eq!(v["Response_Code"], "04");
    let unknown = efine_core::Psid::for_challan(2026, 1, 38, 999_999);
    let v = inquiry(&app, unknown.as_str()).await;
    assert_eq!(v["Response_Code"], "01");

    // Part payment, wrong credentials, malformed fields: refused with the rail's code, recorded,
    // nothing credited.
    let (_, r) = app
        .post(
            "/api/v1/1bill/bill-payment",
            bank_payment(psid, amount - 100, 1, &app),
        )
        .await;
    assert_eq!(r["response_Code"], "04");
    let mut bad = bank_payment(psid, amount, 2, &app);
    bad["password"] = json!("nope");
    let (_, r) = app.post("/api/v1/1bill/bill-payment", bad).await;
    assert_eq!(r["response_Code"], "04");
    let mut bad = bank_payment(psid, amount, 3, &app);
    bad["tran_date"] = json!("24-11-2026");
    let (_, r) = app.post("/api/v1/1bill/bill-payment", bad).await;
    assert_eq!(r["response_Code"], "04");
    let (_, r) = app
        .post(
            "/api/v1/1bill/bill-payment",
            bank_payment(unknown.as_str(), amount, 4, &app),
        )
        .await;
    assert_eq!(r["response_Code"], "01");

    assert_eq!(inquiry(&app, psid).await["Bill_Status"], "U");
    let (d, _, rows) = trial(&app).await;
    assert_eq!(d, 0, "{rows:?}");
    let recorded: i64 = app
        .store
        .read(|tx| {
            tx.query_one(
                "SELECT COUNT(*) FROM rail_messages WHERE rail = '1bill'",
                &[],
            )?
            .i64(0)
        })
        .await
        .unwrap();
    assert_eq!(recorded, 4);
    let leaked: i64 = app
        .store
        .read(|tx| tx.query_one("SELECT COUNT(*) FROM rail_messages WHERE body LIKE '%sandbox-1bill%' OR body LIKE '%nope%'", &[])?.i64(0))
        .await
        .unwrap();
    assert_eq!(leaked, 0, "passwords must not be kept");
}

async fn checkout(app: &TestApp, number: &str) -> Value {
    let (s, v) = app
        .post(
            &format!("/api/v1/public/challans/{number}/checkout"),
            json!({"method": "jazzcash"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    v
}

/// The payer's choice on the sandbox page: the signed fields JazzCash posts back.
async fn sandbox_answer(app: &TestApp, checkout: &Value, choice: &str) -> BTreeMap<String, String> {
    let mut form: BTreeMap<String, String> =
        serde_json::from_value(checkout["fields"].clone()).unwrap();
    // The hosted page accepts the signed request.
    let page = app
        .http
        .post(checkout["gateway_url"].as_str().unwrap())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("sandbox_choice"));
    form.insert("sandbox_choice".into(), choice.into());
    form.insert("sandbox_format".into(), "json".into());
    app.http
        .post(app.url("/sandbox/jazzcash/complete"))
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn post_return(app: &TestApp, fields: &BTreeMap<String, String>) -> (u16, String) {
    let r = app
        .http
        .post(app.url("/payments/jazzcash/return"))
        .form(fields)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn receipts_for(app: &TestApp, number: &str) -> i64 {
    let n = number.to_string();
    app.store
        .read(move |tx| {
            tx.query_one(
                "SELECT COUNT(*) FROM receipts WHERE challan_number = $1",
                efine_store::params![n],
            )?
            .i64(0)
        })
        .await
        .unwrap()
}

async fn jazzcash_checkout_return_and_replay(app: TestApp) {
    let token = app.officer().await;
    let c = issue(&app, &token, "PES-3").await;
    let number = c["challan_number"].as_str().unwrap();
    let co = checkout(&app, number).await;
    assert_eq!(co["amount"], c["amount_due"]);
    assert_eq!(co["fields"]["pp_Amount"], c["amount_due"].to_string());
    assert_eq!(co["fields"]["pp_BillReference"], number);
    let fields: BTreeMap<String, String> = serde_json::from_value(co["fields"].clone()).unwrap();
    assert!(efine_pay::jazzcash::verify(
        "sandbox-integrity-salt",
        &fields
    ));

    let answer = sandbox_answer(&app, &co, "success").await;
    let (s, page) = post_return(&app, &answer).await;
    assert_eq!(s, 200, "{page}");
    assert!(
        page.contains("Payment received") && page.contains("RCT-2026-"),
        "{page}"
    );
    // Replayed by the browser and by an IPN: still one receipt, same page.
    for _ in 0..3 {
        let (s, again) = post_return(&app, &answer).await;
        assert_eq!(s, 200);
        assert!(again.contains("RCT-2026-"));
    }
    assert_eq!(receipts_for(&app, number).await, 1);
    let (_, p) = app
        .get(&format!("/api/v1/public/challans/{number}"), None)
        .await;
    assert_eq!(p["status"], "paid");
    assert_eq!(p["paid"]["rail_label"], "JazzCash");
    assert_eq!(p["amount_due"], 0, "nothing is owed once paid");
    assert_eq!(p["paid"]["amount"], c["amount_due"]);
    assert!(p["paid"]["receipt_number"]
        .as_str()
        .unwrap()
        .starts_with("RCT-2026-"));
    let (_, staff) = app
        .get(&format!("/api/v1/challans/{number}"), Some(&token))
        .await;
    assert_eq!(staff["paid"]["receipt_number"], p["paid"]["receipt_number"]);
    assert_eq!(
        staff["events"].as_array().unwrap().last().unwrap()["kind"],
        "challan.paid"
    );
    // A paid challan offers no new checkout.
    let (s, e) = app
        .post(
            &format!("/api/v1/public/challans/{number}/checkout"),
            json!({"method": "jazzcash"}),
        )
        .await;
    assert_eq!(s, 409);
    assert_eq!(e["error"]["code"], "already_paid");
    let (s, e) = app
        .post(
            &format!("/api/v1/public/challans/{number}/checkout"),
            json!({"method": "cash"}),
        )
        .await;
    assert_eq!(s, 422);
    assert_eq!(e["error"]["field"], "method");
    let (d, cr, rows) = trial(&app).await;
    assert_eq!(d, cr);
    assert_eq!(
        account(&rows, "clearing:jazzcash"),
        c["amount_due"].as_i64().unwrap()
    );
}

async fn jazzcash_refuses_tampering_and_records_it(app: TestApp) {
    let token = app.officer().await;
    let c = issue(&app, &token, "PES-4").await;
    let number = c["challan_number"].as_str().unwrap();
    let co = checkout(&app, number).await;
    let answer = sandbox_answer(&app, &co, "success").await;

    let mut cheaper = answer.clone();
    cheaper.insert("pp_Amount".into(), "100".into());
    let (s, page) = post_return(&app, &cheaper).await;
    assert_eq!(s, 400);
    assert!(page.contains("could not be verified"));

    // Re-signed with the wrong salt (a forger without our secret).
    let mut forged = cheaper.clone();
    let h = efine_pay::jazzcash::secure_hash("guessed-salt", &forged);
    forged.insert("pp_SecureHash".into(), h);
    assert_eq!(post_return(&app, &forged).await.0, 400);

    // Correctly signed but for a reference we never issued.
    let mut unknown = answer.clone();
    unknown.insert("pp_TxnRefNo".into(), "EF0000000000000000".into());
    let h = efine_pay::jazzcash::secure_hash("sandbox-integrity-salt", &unknown);
    unknown.insert("pp_SecureHash".into(), h);
    let (s, page) = post_return(&app, &unknown).await;
    assert_eq!(s, 400);
    assert!(page.contains("no payment with this reference"), "{page}");

    assert_eq!(receipts_for(&app, number).await, 0);
    let (d, _, _) = trial(&app).await;
    assert_eq!(d, 0);
    let refused: i64 = app
        .store
        .read(|tx| tx.query_one("SELECT COUNT(*) FROM rail_messages WHERE rail = 'jazzcash' AND verdict LIKE 'refused%'", &[])?.i64(0))
        .await
        .unwrap();
    assert_eq!(refused, 3);

    // The genuine answer still credits.
    assert_eq!(post_return(&app, &answer).await.0, 200);
    assert_eq!(receipts_for(&app, number).await, 1);
}

async fn jazzcash_pending_and_failure(app: TestApp) {
    let token = app.officer().await;
    let c = issue(&app, &token, "PES-5").await;
    let number = c["challan_number"].as_str().unwrap();

    let co = checkout(&app, number).await;
    let reference = co["reference"].as_str().unwrap().to_string();
    let (s, page) = post_return(&app, &sandbox_answer(&app, &co, "pending").await).await;
    assert_eq!(s, 200);
    assert!(page.contains("pending"), "{page}");
    let r = reference.clone();
    let a = app
        .store
        .read(move |tx| efine_store::ops::payments::attempt_by_reference(tx, &r))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.state.as_str(), "pending");

    let co2 = checkout(&app, number).await;
    let (_, page) = post_return(&app, &sandbox_answer(&app, &co2, "failure").await).await;
    assert!(page.contains("did not go through"), "{page}");
    let (_, p) = app
        .get(&format!("/api/v1/public/challans/{number}"), None)
        .await;
    assert_eq!(p["status"], "unpaid");
    assert_eq!(receipts_for(&app, number).await, 0);
    let (_, full) = app
        .get(&format!("/api/v1/challans/{number}"), Some(&token))
        .await;
    assert_eq!(
        full["events"].as_array().unwrap().len(),
        1,
        "attempt events are logged under the attempt"
    );
}

async fn racing_rails_credit_once(app: TestApp) {
    let token = app.officer().await;
    for round in 0..3 {
        let c = issue(&app, &token, &format!("PES-R{round}")).await;
        let number = c["challan_number"].as_str().unwrap().to_string();
        let psid = c["psid"].as_str().unwrap().to_string();
        let amount = c["amount_due"].as_i64().unwrap();
        // Two payers open JazzCash checkouts while it is unpaid; a bank pays too; all at once.
        let a1 = sandbox_answer(&app, &checkout(&app, &number).await, "success").await;
        let a2 = sandbox_answer(&app, &checkout(&app, &number).await, "success").await;
        let bank = bank_payment(&psid, amount, 100 + round, &app);
        let (r1, r2, r3) = tokio::join!(
            post_return(&app, &a1),
            post_return(&app, &a2),
            app.post("/api/v1/1bill/bill-payment", bank),
        );
        assert_eq!(r1.0, 200);
        assert_eq!(r2.0, 200);
        assert_eq!(receipts_for(&app, &number).await, 1, "round {round}");
        let bank_paid = r3.1["response_Code"] == "00";
        // Money JazzCash took beyond the one credit is owed back; a bank that came second was
        // refused before taking any.
        let liabilities = app
            .store
            .read(|tx| efine_store::ops::payments::liabilities(tx, 100))
            .await
            .unwrap();
        let owed_here: Vec<_> = liabilities
            .iter()
            .filter(|l| l.challan_number == number)
            .collect();
        assert_eq!(
            owed_here.len(),
            if bank_paid { 2 } else { 1 },
            "round {round}"
        );
        assert!(owed_here
            .iter()
            .all(|l| l.amount.paisa() == amount && l.rail.as_str() == "jazzcash"));
    }
    let (d, cr, rows) = trial(&app).await;
    assert_eq!(d, cr);
    let clearing = account(&rows, "clearing:jazzcash") + account(&rows, "clearing:1bill");
    let revenue = -account(&rows, "revenue:traffic-police:no-helmet");
    let owed = -account(&rows, "refunds-payable");
    assert_eq!(clearing, revenue + owed);
    assert!(owed > 0);
}

async fn ledger_balances_after_many_operations(app: TestApp) {
    use rand::{Rng, SeedableRng};
    let token = app.officer().await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut challans: Vec<Value> = Vec::new();
    let mut answers: Vec<BTreeMap<String, String>> = Vec::new();
    let mut bank_msgs: Vec<Value> = Vec::new();
    for step in 0..60u32 {
        match rng.gen_range(0..6) {
            0 | 1 => challans.push(issue(&app, &token, &format!("LED-{step}")).await),
            2 if !challans.is_empty() => {
                let c = &challans[rng.gen_range(0..challans.len())];
                let (s, co) = app
                    .post(
                        &format!(
                            "/api/v1/public/challans/{}/checkout",
                            c["challan_number"].as_str().unwrap()
                        ),
                        json!({"method": "jazzcash"}),
                    )
                    .await;
                if s == 201 {
                    let choice = ["success", "failure", "pending"][rng.gen_range(0..3)];
                    answers.push(sandbox_answer(&app, &co, choice).await);
                }
            }
            3 if !answers.is_empty() => {
                let a = answers[rng.gen_range(0..answers.len())].clone();
                post_return(&app, &a).await;
            }
            4 if !challans.is_empty() => {
                let c = &challans[rng.gen_range(0..challans.len())];
                let m = bank_payment(
                    c["psid"].as_str().unwrap(),
                    c["amount_due"].as_i64().unwrap(),
                    step,
                    &app,
                );
                bank_msgs.push(m.clone());
                app.post("/api/v1/1bill/bill-payment", m).await;
            }
            5 if !bank_msgs.is_empty() => {
                let m = bank_msgs[rng.gen_range(0..bank_msgs.len())].clone();
                app.post("/api/v1/1bill/bill-payment", m).await;
            }
            _ => {}
        }
        let (d, cr, rows) = trial(&app).await;
        assert_eq!(d, cr, "step {step}");
        let clearing = account(&rows, "clearing:jazzcash") + account(&rows, "clearing:1bill");
        let revenue: i64 = rows
            .iter()
            .filter(|r| r.account.starts_with("revenue:"))
            .map(|r| r.credit - r.debit)
            .sum();
        assert_eq!(
            clearing,
            revenue - account(&rows, "refunds-payable"),
            "step {step}"
        );
    }
    // Every receipt is for a distinct challan, and paid challans are exactly those with receipts.
    let (receipts, paid): (i64, i64) = app
        .store
        .read(|tx| {
            Ok((
                tx.query_one("SELECT COUNT(DISTINCT challan_number) FROM receipts", &[])?
                    .i64(0)?,
                tx.query_one("SELECT COUNT(*) FROM challans WHERE status = 'paid'", &[])?
                    .i64(0)?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(receipts, paid);
    let audit = app
        .store
        .read(|tx| efine_store::ops::audit::verify_challans(tx, &mut |_| {}))
        .await
        .unwrap();
    assert!(audit.is_ok(), "{audit:?}");
}

async fn counter_cash_and_cash_up(app: TestApp) {
    use efine_core::auth::Role;
    let officer = app.officer().await;
    let cashier = app.user("cashier.one", Role::Finance, None, None).await;
    let auditor = app.user("auditor.one", Role::Auditor, None, None).await;
    let c = issue(&app, &officer, "PES-C1").await;
    let number = c["challan_number"].as_str().unwrap();
    let amount = c["amount_due"].as_i64().unwrap();
    let path = format!("/api/v1/challans/{number}/cash-payments");
    let cash = |token: &str, amount: i64| {
        app.http
            .post(app.url(&path))
            .bearer_auth(token.to_string())
            .json(&json!({"amount": amount}))
            .send()
    };
    assert_eq!(cash(&officer, amount).await.unwrap().status(), 403);
    let r = cash(&cashier, amount - 1).await.unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["field"], "amount");
    let r = cash(&cashier, amount).await.unwrap();
    assert_eq!(r.status(), 201);
    let receipt: Value = r.json().await.unwrap();
    assert_eq!(receipt["rail"], "counter");
    assert_eq!(receipt["amount"], amount);
    assert_eq!(cash(&cashier, amount).await.unwrap().status(), 409);

    let (s, up) = app.get("/api/v1/cash-up", Some(&auditor)).await;
    assert_eq!(s, 200, "{up}");
    assert_eq!(up["count"], 1);
    assert_eq!(up["total"], amount);
    assert_eq!(up["by_cashier"][0]["cashier"], "cashier.one");
    assert_eq!(
        up["receipts"][0]["receipt_number"],
        receipt["receipt_number"]
    );
    let (s, other_day) = app
        .get("/api/v1/cash-up?date=2026-01-01", Some(&cashier))
        .await;
    assert_eq!(s, 200);
    assert_eq!(other_day["count"], 0);
    let (s, e) = app
        .get("/api/v1/cash-up?date=yesterday", Some(&cashier))
        .await;
    assert_eq!(s, 422);
    assert_eq!(e["error"]["field"], "date");
    assert_eq!(app.get("/api/v1/cash-up", Some(&officer)).await.0, 403);
    let (_, _, rows) = trial(&app).await;
    assert_eq!(account(&rows, "clearing:counter"), amount);
}

async fn refunds_need_a_second_person(app: TestApp) {
    use efine_core::auth::Role;
    let officer = app.officer().await;
    let fin_a = app.user("finance.a", Role::Finance, None, None).await;
    let fin_b = app.user("finance.b", Role::Finance, None, None).await;
    let c = issue(&app, &officer, "PES-F1").await;
    let number = c["challan_number"].as_str().unwrap();
    let amount = c["amount_due"].as_i64().unwrap();
    // Two JazzCash payments for one challan: the second is owed back.
    let a1 = sandbox_answer(&app, &checkout(&app, number).await, "success").await;
    let a2 = sandbox_answer(&app, &checkout(&app, number).await, "success").await;
    post_return(&app, &a1).await;
    post_return(&app, &a2).await;
    let (s, list) = app.get("/api/v1/refunds", Some(&fin_a)).await;
    assert_eq!(s, 200);
    assert_eq!(list["liabilities"].as_array().unwrap().len(), 1);
    let liability = list["liabilities"][0]["id"].as_i64().unwrap();
    assert_eq!(list["liabilities"][0]["amount"], amount);

    let post = |token: &str, path: &str, body: Value| {
        app.http
            .post(app.url(path))
            .bearer_auth(token.to_string())
            .json(&body)
            .send()
    };
    let r = post(
        &officer,
        "/api/v1/refunds",
        json!({"liability_id": liability, "reason": "paid twice"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 403);
    let r = post(
        &fin_a,
        "/api/v1/refunds",
        json!({"liability_id": 9999, "reason": "x"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    let r = post(
        &fin_a,
        "/api/v1/refunds",
        json!({"liability_id": liability, "reason": " "}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    let r = post(
        &fin_a,
        "/api/v1/refunds",
        json!({"liability_id": liability, "reason": "paid twice by JazzCash"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let refund: Value = r.json().await.unwrap();
    assert_eq!(refund["state"], "requested");
    let id = refund["id"].as_i64().unwrap();
    let again = post(
        &fin_a,
        "/api/v1/refunds",
        json!({"liability_id": liability, "reason": "again"}),
    )
    .await
    .unwrap();
    assert_eq!(again.status(), 409);

    // The requester cannot approve their own request; nothing moves.
    let r = post(&fin_a, &format!("/api/v1/refunds/{id}/approve"), json!({}))
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let (_, _, rows) = trial(&app).await;
    assert_eq!(account(&rows, "refunds-payable"), -amount);

    let r = post(&fin_b, &format!("/api/v1/refunds/{id}/approve"), json!({}))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let done: Value = r.json().await.unwrap();
    assert_eq!(done["state"], "approved");
    assert_eq!(done["decided_by"], "finance.b");
    assert!(done["rail_ref"].as_str().unwrap().starts_with("SBX-RF-"));
    let r = post(&fin_b, &format!("/api/v1/refunds/{id}/reject"), json!({}))
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let (d, cr, rows) = trial(&app).await;
    assert_eq!(d, cr);
    assert_eq!(account(&rows, "refunds-payable"), 0);
    assert_eq!(account(&rows, "clearing:jazzcash"), amount);
}

async fn settlement_file_reconciles(app: TestApp) {
    use efine_core::auth::Role;
    let officer = app.officer().await;
    let finance = app.user("finance.recon", Role::Finance, None, None).await;
    let day = efine_core::clock::karachi_date(app.store.now()).to_string();
    // Four JazzCash payments confirmed here, one left pending here (the payer did pay).
    let mut confirmed = Vec::new();
    for i in 0..4 {
        let c = issue(&app, &officer, &format!("PES-S{i}")).await;
        let co = checkout(&app, c["challan_number"].as_str().unwrap()).await;
        let ans = sandbox_answer(&app, &co, "success").await;
        assert_eq!(post_return(&app, &ans).await.0, 200);
        confirmed.push((
            ans["pp_RetreivalReferenceNo"].clone(),
            co["reference"].as_str().unwrap().to_string(),
            co["amount"].as_i64().unwrap(),
        ));
    }
    let pending = issue(&app, &officer, "PES-SP").await;
    let co = checkout(&app, pending["challan_number"].as_str().unwrap()).await;
    post_return(&app, &sandbox_answer(&app, &co, "pending").await).await;
    let pending_ref = co["reference"].as_str().unwrap().to_string();
    let pending_amount = co["amount"].as_i64().unwrap();

    let mut file =
        String::from("# JazzCash settlement\nrail_txn_id,reference,amount_paisa,settled_on\n");
    for (rrn, reference, amount) in &confirmed[..2] {
        file.push_str(&format!("{rrn},{reference},{amount},{day}\n"));
    }
    let (rrn, reference, amount) = &confirmed[2];
    file.push_str(&format!("{rrn},{reference},{},{day}\n", amount + 100));
    file.push_str(&format!(
        "RRN-PENDING-1,{pending_ref},{pending_amount},{day}\n"
    ));
    file.push_str(&format!("RRN-UNKNOWN-9,,5000,{day}\n"));
    // confirmed[3] is left out: missing there.

    let upload = |token: &str, body: String, ct: &'static str| {
        app.http
            .post(app.url("/api/v1/recon/jazzcash?name=jc-settlement.csv"))
            .bearer_auth(token.to_string())
            .header("content-type", ct)
            .body(body)
            .send()
    };
    assert_eq!(
        upload(&officer, file.clone(), "text/csv")
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        upload(&finance, file.clone(), "application/json")
            .await
            .unwrap()
            .status(),
        415
    );
    let bad = upload(&finance, "txn,amount\n1,2\n".into(), "text/csv")
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let r = upload(&finance, file.clone(), "text/csv").await.unwrap();
    assert_eq!(r.status(), 201);
    let rep: Value = r.json().await.unwrap();
    assert_eq!(rep["lines"], 5, "{rep}");
    assert_eq!(rep["matched"], 2, "{rep}");
    assert_eq!(rep["amount_differs"], 1, "{rep}");
    assert_eq!(rep["corrected"], 1, "{rep}");
    assert_eq!(rep["missing_here"], 1, "{rep}");
    assert_eq!(rep["missing_there"], 1, "{rep}");
    let settled = confirmed[0].2 + confirmed[1].2 + pending_amount;
    assert_eq!(rep["settled"], settled);
    let there = rep["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["outcome"] == "missing_there")
        .unwrap();
    assert_eq!(there["reference"], confirmed[3].1.as_str());

    // The payment left pending here is now credited, as its own event.
    let (_, p) = app
        .get(
            &format!(
                "/api/v1/public/challans/{}",
                pending["challan_number"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(p["status"], "paid");
    let (d, cr, rows) = trial(&app).await;
    assert_eq!(d, cr);
    assert_eq!(account(&rows, "bank:jazzcash"), settled);
    let total: i64 = confirmed.iter().map(|c| c.2).sum::<i64>() + pending_amount;
    assert_eq!(account(&rows, "clearing:jazzcash"), total - settled);

    // Imported once.
    assert_eq!(
        upload(&finance, file, "text/csv").await.unwrap().status(),
        409
    );
}

/// A settlement file as a spreadsheet saves it: a byte-order mark, CRLF line ends, quoted fields
/// (one with a comma inside); and a bad line in such a file is named by its line number.
async fn settlement_file_quoting_line_ends_and_bom(app: TestApp) {
    use efine_core::auth::Role;
    let officer = app.officer().await;
    let finance = app.user("finance.quoting", Role::Finance, None, None).await;
    let day = efine_core::clock::karachi_date(app.store.now()).to_string();
    let c = issue(&app, &officer, "PES-Q1").await;
    let co = checkout(&app, c["challan_number"].as_str().unwrap()).await;
    let ans = sandbox_answer(&app, &co, "success").await;
    assert_eq!(post_return(&app, &ans).await.0, 200);
    let rrn = ans["pp_RetreivalReferenceNo"].clone();
    let reference = co["reference"].as_str().unwrap().to_string();
    let amount = co["amount"].as_i64().unwrap();

    let upload = |body: String| {
        app.http
            .post(app.url("/api/v1/recon/jazzcash?name=excel.csv"))
            .bearer_auth(finance.clone())
            .header("content-type", "text/csv")
            .body(body)
            .send()
    };
    let file = format!(
        "\u{feff}# saved by a spreadsheet\r\nrail_txn_id,reference,amount_paisa,settled_on\r\n\
         \"{rrn}\",\"{reference}\",\"{amount}\",{day}\r\n\
         \"RRN-9,X\",,5000,{day}\r\n"
    );
    let r = upload(file).await.unwrap();
    assert_eq!(r.status(), 201);
    let rep: Value = r.json().await.unwrap();
    assert_eq!(rep["lines"], 2, "{rep}");
    assert_eq!(rep["matched"], 1, "{rep}");
    assert_eq!(rep["missing_here"], 1, "{rep}");
    assert_eq!(rep["missing_there"], 0, "{rep}");
    assert_eq!(rep["settled"], amount, "{rep}");
    let unknown = &rep["exceptions"][0];
    assert_eq!(unknown["rail_txn_id"], "RRN-9,X", "{rep}");
    assert_eq!(unknown["line"], 4, "{rep}");

    // A short line in a CRLF file with a BOM: 422, naming line 3, nothing imported.
    let bad = format!(
        "\u{feff}rail_txn_id,reference,amount_paisa,settled_on\r\nRRN-10,,5000,{day}\r\nRRN-11,,5000\r\n"
    );
    let r = upload(bad).await.unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["field"], "file", "{e}");
    assert_eq!(e["error"]["message"], "line 3: expected 4 fields", "{e}");
    let bad = format!(
        "rail_txn_id,reference,amount_paisa,settled_on\r\n\"RRN-12,Y\",,\"50,00\",{day}\r\n"
    );
    let e: Value = upload(bad).await.unwrap().json().await.unwrap();
    assert_eq!(
        e["error"]["message"], "line 2: amount_paisa must be a positive integer",
        "{e}"
    );
}

async fn checkout_with(app: &TestApp, number: &str, method: &str) -> Value {
    let (s, v) = app
        .post(
            &format!("/api/v1/public/challans/{number}/checkout"),
            json!({"method": method}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    v
}

/// Posts the checkout form to Easypaisa's sandbox page and makes the payer's choice; returns the
/// postback fields the browser is sent back with.
async fn easypaisa_choose(app: &TestApp, co: &Value, choice: &str) -> BTreeMap<String, String> {
    let mut form: BTreeMap<String, String> = serde_json::from_value(co["fields"].clone()).unwrap();
    let page = app
        .http
        .post(co["gateway_url"].as_str().unwrap())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    form.insert("sandbox_choice".into(), choice.into());
    form.insert("sandbox_format".into(), "json".into());
    app.http
        .post(app.url("/sandbox/easypaisa/complete"))
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn postback(app: &TestApp, fields: &BTreeMap<String, String>) -> (u16, String) {
    let r = app
        .http
        .get(app.url("/payments/easypaisa/postback"))
        .query(fields)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn easypaisa_credits_only_from_the_inquiry(app: TestApp) {
    let token = app.officer().await;
    let c = issue(&app, &token, "PES-E1").await;
    let number = c["challan_number"].as_str().unwrap();
    let co = checkout_with(&app, number, "easypaisa").await;
    assert_eq!(co["http_method"], "POST");
    assert!(co["fields"]["merchantHashedReq"].as_str().unwrap().len() > 20);

    // A forged postback claiming success for an order the payer never completed credits nothing:
    // the inquiry says Easypaisa knows no such transaction.
    let mut forged = BTreeMap::new();
    forged.insert(
        "orderRefNumber".to_string(),
        co["reference"].as_str().unwrap().to_string(),
    );
    forged.insert("status".to_string(), "0000".to_string());
    forged.insert("desc".to_string(), "success".to_string());
    let (_, page) = postback(&app, &forged).await;
    assert!(
        page.contains("has not confirmed this payment yet"),
        "{page}"
    );
    assert_eq!(receipts_for(&app, number).await, 0);

    // A tampered amount is refused by the hosted page (the hashed request no longer holds).
    let mut tampered: BTreeMap<String, String> =
        serde_json::from_value(co["fields"].clone()).unwrap();
    tampered.insert("amount".into(), "1.00".into());
    let r = app
        .http
        .post(co["gateway_url"].as_str().unwrap())
        .form(&tampered)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    let back = easypaisa_choose(&app, &co, "success").await;
    let (s, page) = postback(&app, &back).await;
    assert_eq!(s, 200);
    assert!(page.contains("RCT-2026-"), "{page}");
    let (s, again) = postback(&app, &back).await;
    assert_eq!(s, 200);
    assert!(again.contains("RCT-2026-"));
    assert_eq!(receipts_for(&app, number).await, 1);
    let (_, _, rows) = trial(&app).await;
    assert_eq!(
        account(&rows, "clearing:easypaisa"),
        c["amount_due"].as_i64().unwrap()
    );
}

async fn easypaisa_pending_is_resolved_by_the_poller(app: TestApp) {
    let token = app.officer().await;
    let c = issue(&app, &token, "PES-E2").await;
    let number = c["challan_number"].as_str().unwrap();
    let co = checkout_with(&app, number, "easypaisa").await;
    let back = easypaisa_choose(&app, &co, "pending").await;
    let (_, page) = postback(&app, &back).await;
    assert!(
        page.contains("has not confirmed this payment yet"),
        "{page}"
    );

    // The payer completes the voucher later; no postback comes.
    easypaisa_choose(&app, &co, "success").await;
    let state = app.state.clone();
    // Too young to poll.
    let r = efine_service::poller::poll_once(
        &state.ctx,
        time::Duration::minutes(15),
        Some(time::Duration::minutes(30)),
    )
    .await
    .unwrap();
    assert_eq!(r.asked, 0);
    app.clock.advance(time::Duration::minutes(20));
    let r = efine_service::poller::poll_once(
        &state.ctx,
        time::Duration::minutes(15),
        Some(time::Duration::minutes(30)),
    )
    .await
    .unwrap();
    assert_eq!(r.asked, 1, "{r:?}");
    assert_eq!(r.paid, 1, "{r:?}");
    assert_eq!(receipts_for(&app, number).await, 1);
    // Polling again changes nothing.
    let r = efine_service::poller::poll_once(&state.ctx, time::Duration::minutes(15), None)
        .await
        .unwrap();
    assert_eq!(r.asked, 0);
    let (_, full) = app
        .get(&format!("/api/v1/challans/{number}"), Some(&token))
        .await;
    assert_eq!(full["status"], "paid");
}

async fn card_notifications_are_verified(app: TestApp) {
    let token = app.officer().await;
    let c = issue(&app, &token, "PES-K1").await;
    let number = c["challan_number"].as_str().unwrap();
    let amount = c["amount_due"].as_i64().unwrap();
    let co = checkout_with(&app, number, "card").await;
    assert_eq!(co["http_method"], "GET");
    let url = co["gateway_url"].as_str().unwrap().to_string();
    let page = app.http.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let reference = co["reference"].as_str().unwrap().to_string();

    let notify = |body: Vec<u8>, header: String| {
        app.http
            .post(app.url("/payments/card/notify"))
            .header("Efine-Card-Signature", header)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let now = app.store.now().unix_timestamp();
    let m = Money::from_paisa(amount).unwrap();
    // Signed with a secret we do not hold: refused, nothing credited.
    let (body, header) = efine_pay::sandbox_card::notification(
        "not-our-secret",
        &reference,
        m,
        efine_pay::sandbox::Choice::Success,
        "CG1",
        now,
    );
    assert_eq!(notify(body, header).await.unwrap().status(), 400);
    // Genuine but five minutes and a second old: refused.
    let (body, header) = efine_pay::sandbox_card::notification(
        "sandbox-card-webhook",
        &reference,
        m,
        efine_pay::sandbox::Choice::Success,
        "CG1",
        now - 301,
    );
    assert_eq!(notify(body, header).await.unwrap().status(), 400);
    assert_eq!(receipts_for(&app, number).await, 0);

    // The payer pays on the sandbox page; the gateway notifies us, signed.
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
    assert_eq!(receipts_for(&app, number).await, 1);
    // The gateway retries the same notification: still one receipt.
    let r = notify(
        done["body"].as_str().unwrap().as_bytes().to_vec(),
        done["signature"].as_str().unwrap().to_string(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(receipts_for(&app, number).await, 1);
    // The payer lands on the return page and sees the receipt.
    let r = app
        .http
        .get(app.url(&format!("/payments/card/return?order_ref={reference}")))
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("RCT-2026-"));
    let (_, _, rows) = trial(&app).await;
    assert_eq!(account(&rows, "clearing:card"), amount);
}

async fn jazzcash_pending_is_resolved_by_the_poller(app: TestApp) {
    let token = app.officer().await;
    let c = issue(&app, &token, "PES-J9").await;
    let number = c["challan_number"].as_str().unwrap();
    // The payer leaves a voucher pending, another payer abandons the page entirely.
    let co = checkout(&app, number).await;
    post_return(&app, &sandbox_answer(&app, &co, "pending").await).await;
    let c2 = issue(&app, &token, "PES-J10").await;
    let abandoned = checkout(&app, c2["challan_number"].as_str().unwrap()).await;
    // Later the voucher is paid at a shop: the sandbox now says so; no return comes.
    sandbox_answer(&app, &co, "success").await;
    app.clock.advance(time::Duration::minutes(16));
    let r = efine_service::poller::poll_once(
        &app.state.ctx,
        time::Duration::minutes(15),
        Some(time::Duration::minutes(30)),
    )
    .await
    .unwrap();
    assert_eq!(r.asked, 2, "{r:?}");
    assert_eq!(r.paid, 1, "{r:?}");
    assert_eq!(r.unanswered, 1, "{r:?}");
    assert_eq!(receipts_for(&app, number).await, 1);
    // JazzCash knows nothing of the abandoned one: unknown, not failed, and still open.
    let reference = abandoned["reference"].as_str().unwrap().to_string();
    let a = app
        .store
        .read(move |tx| efine_store::ops::payments::attempt_by_reference(tx, &reference))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.state.as_str(), "unknown");
}

/// The Raast QR as the pay page shows it.
async fn raast_payload(app: &TestApp, number: &str) -> String {
    let html = app
        .http
        .get(app.url(&format!("/c/{number}/pay")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = html
        .find("id=\"raast-payload\"")
        .expect("the pay page shows a Raast QR");
    let rest = &html[start..];
    let open = rest.find('>').unwrap() + 1;
    let close = rest.find("</code>").unwrap();
    rest[open..close].to_string()
}

async fn raast_pay(app: &TestApp, payload: &str, notify: &str) -> Value {
    app.http
        .post(app.url("/sandbox/raast/app"))
        .form(&[
            ("payload", payload),
            ("notify", notify),
            ("sandbox_format", "json"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn raast_notify(app: &TestApp, body: Vec<u8>, header: String) -> (u16, Value) {
    let r = app
        .http
        .post(app.url("/payments/raast/notify"))
        .header(efine_pay::raast::SIGNATURE_HEADER, header)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn raast_qr_notification_replay_and_inquiry(app: TestApp) {
    use efine_pay::raast;
    let token = app.officer().await;
    let c = issue(&app, &token, "PES-R1").await;
    let number = c["challan_number"].as_str().unwrap();
    let psid = c["psid"].as_str().unwrap();
    let amount = c["amount_due"].as_i64().unwrap();

    // Every field of the QR the payer scans, and its CRC.
    let payload = raast_payload(&app, number).await;
    let d = raast::decode(&payload).expect("a valid QR with a good CRC");
    assert_eq!(d.fields["00"], "01");
    assert_eq!(d.fields["01"], "12", "dynamic: one fixed amount");
    assert_eq!(d.account["00"], raast::RAAST_AID);
    assert_eq!(d.account["01"], "PK36SCBL0000001123456702");
    assert_eq!(d.fields["52"], "9399");
    assert_eq!(d.fields["53"], "586");
    assert_eq!(
        d.fields["54"],
        format!("{}.{:02}", amount / 100, amount % 100)
    );
    assert_eq!(d.fields["58"], "PK");
    assert_eq!(d.fields["59"], "KP E-FINE SANDBOX");
    assert_eq!(d.fields["60"], "PESHAWAR");
    assert_eq!(d.extra["01"], psid);
    assert_eq!(d.extra["05"], number);
    let due = c["due_date"].as_str().unwrap();
    assert_eq!(
        d.extra["50"],
        format!("{}{}{}", &due[8..10], &due[5..7], &due[0..4])
    );
    assert_eq!(
        d.extra["51"],
        format!("{}.{:02}", 2 * amount / 100, 2 * amount % 100)
    );
    let crc = format!(
        "{:04X}",
        raast::crc16(&payload.as_bytes()[..payload.len() - 4])
    );
    assert_eq!(d.fields["63"], crc);

    // A notification signed with a secret we do not hold: refused, nothing credited.
    let (_, report) =
        efine_pay::sandbox_raast::pay_scanned(&payload, "RSTFORGED1", app.store.now(), "EVIL")
            .unwrap();
    let now = app.store.now().unix_timestamp();
    let (body, header) = efine_pay::sandbox_raast::notification(&["not-ours"], &report, now);
    assert_eq!(raast_notify(&app, body, header).await.0, 400);
    assert_eq!(receipts_for(&app, number).await, 0);

    // The payer's bank app pays; the biller's bank notifies us, signed.
    let paid = raast_pay(&app, &payload, "yes").await;
    assert_eq!(paid["notified"]["status"], 200, "{paid}");
    assert_eq!(paid["notified"]["answer"]["verdict"], "paid", "{paid}");
    assert_eq!(receipts_for(&app, number).await, 1);
    let (_, p) = app
        .get(&format!("/api/v1/public/challans/{psid}"), None)
        .await;
    assert_eq!(p["status"], "paid");

    // The bank resends the same notification: credited once.
    let txn = paid["raast_txn_id"].as_str().unwrap();
    let resend = efine_pay::raast::PaymentReport {
        raast_txn_id: txn.into(),
        ..report.clone()
    };
    let (body, header) =
        efine_pay::sandbox_raast::notification(&["sandbox-raast-notify"], &resend, now);
    let (s, v) = raast_notify(&app, body, header).await;
    assert_eq!((s, v["verdict"].as_str()), (200, Some("repeat")), "{v}");
    assert_eq!(receipts_for(&app, number).await, 1);

    // The payer scans the same QR again and pays twice: the second money is owed back.
    let twice = raast_pay(&app, &payload, "yes").await;
    assert_eq!(
        twice["notified"]["answer"]["verdict"], "refund_owed",
        "{twice}"
    );
    assert_eq!(receipts_for(&app, number).await, 1);

    // The wrong amount for an unpaid challan: owed back, the challan stays unpaid.
    let c2 = issue(&app, &token, "PES-R2").await;
    let number2 = c2["challan_number"].as_str().unwrap().to_string();
    let psid2 = c2["psid"].as_str().unwrap().to_string();
    let short = efine_pay::raast::PaymentReport {
        raast_txn_id: "RSTSHORT1".into(),
        bill_reference: psid2.clone(),
        amount_paisa: 100,
        ..report.clone()
    };
    let (body, header) =
        efine_pay::sandbox_raast::notification(&["sandbox-raast-notify"], &short, now);
    let (s, v) = raast_notify(&app, body, header).await;
    assert_eq!(
        (s, v["verdict"].as_str()),
        (200, Some("refund_owed")),
        "{v}"
    );
    assert_eq!(receipts_for(&app, &number2).await, 0);

    // A payment whose notification is lost is found by the status inquiry, once.
    let payload2 = raast_payload(&app, &number2).await;
    let lost = raast_pay(&app, &payload2, "no").await;
    assert!(lost["notified"].is_null(), "{lost}");
    assert_eq!(receipts_for(&app, &number2).await, 0);
    let psid2 = efine_core::Psid::parse(&psid2).unwrap();
    let n = efine_service::raast::inquire(&app.state.ctx, &psid2)
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(receipts_for(&app, &number2).await, 1);
    let n = efine_service::raast::inquire(&app.state.ctx, &psid2)
        .await
        .unwrap();
    assert_eq!(n, 0, "asking again credits nothing");
    assert_eq!(receipts_for(&app, &number2).await, 1);

    let (d, cr, rows) = trial(&app).await;
    assert_eq!(d, cr);
    assert_eq!(account(&rows, "clearing:raast"), 3 * amount + 100);
    assert_eq!(account(&rows, "refunds-payable"), -(amount + 100));
}
