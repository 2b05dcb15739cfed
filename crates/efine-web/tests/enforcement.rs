//! Penalties, cancellations, appeals and enforcement through the real server on both backends,
//! walked through with the test clock; and the escalation job run by two nodes on one
//! PostgreSQL database.

mod common;

use common::TestApp;
use efine_core::auth::Role;
use efine_core::clock::KARACHI;
use efine_core::Money;
use efine_store::ops::{audit, events};
use efine_store::testing::RawSql;
use serde_json::{json, Value};
use time::macros::datetime;

both_backends!(
    walkthrough,
    bad_input_changes_nothing,
    open_appeal_closes_when_paid_or_cancelled,
    appeals_need_proof_of_the_person_charged,
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

fn number(c: &Value) -> String {
    c["challan_number"].as_str().unwrap().to_string()
}

async fn kinds(app: &TestApp, subject: &str) -> Vec<(String, Value)> {
    let s = subject.to_string();
    app.store
        .read(move |tx| events::for_subject(tx, &s))
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, serde_json::from_str(&e.payload).unwrap()))
        .collect()
}

async fn verify(app: &TestApp) -> Result<u64, audit::Finding> {
    app.store
        .read(|tx| {
            audit::verify_chain(tx, &mut |_| {})?.map_err(|_| unreachable_chain())?;
            Ok(match audit::verify_challans(tx, &mut |_| {})? {
                Ok(n) => audit::verify_requests(tx)?.map(|r| n + r),
                Err(f) => Err(f),
            })
        })
        .await
        .unwrap()
}

fn unreachable_chain() -> efine_store::StoreError {
    efine_store::StoreError::Corrupt("the hash chain does not verify".into())
}

async fn bank_pay(app: &TestApp, psid: &str, amount: i64, stan: u32) -> Value {
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
    let (s, r) = app
        .post(
            "/api/v1/1bill/bill-payment",
            serde_json::to_value(req).unwrap(),
        )
        .await;
    assert_eq!(s, 200);
    r
}

/// Tokens last 12 hours: after moving the clock, staff log in again.
async fn relogin(app: &TestApp) -> (String, String, String) {
    (
        app.login("officer.psh", common::PASSWORD).await,
        app.login("sup.a", common::PASSWORD).await,
        app.login("sup.b", common::PASSWORD).await,
    )
}

async fn walkthrough(app: TestApp) {
    let officer = app.officer().await;
    let sup_a = app
        .user("sup.a", Role::Supervisor, Some("traffic-police"), None)
        .await;
    let sup_b = app
        .user("sup.b", Role::Supervisor, Some("traffic-police"), None)
        .await;

    // Issued Tuesday 24 Nov 2026; no-helmet is Rs 500 with 14 days to pay: due 8 Dec.
    let a = issue(&app, &officer, "PES-100").await;
    let b = issue(&app, &officer, "PES-101").await;
    let d = issue(&app, &officer, "PES-102").await;
    let e = issue(&app, &officer, "PES-200").await;
    assert_eq!(a["due_date"], "2026-12-08");
    assert_eq!(a["amount_due"], 50_000);
    assert_eq!(a["amount_after_due_date"], 100_000);

    // The amount on the due date and the day after.
    let (an, bn, dn, en) = (number(&a), number(&b), number(&d), number(&e));
    let (s, v) = app
        .get(&format!("/api/v1/public/challans/{an}?on=2026-12-08"), None)
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["amount_due"], 50_000);
    assert_eq!(v["on"], "2026-12-08");
    assert_eq!(
        v["schedule_text"],
        "pay by 8 Dec 2026: Rs 500; from 9 Dec 2026: Rs 1,000"
    );
    assert_eq!(v["schedule"][1]["from"], "2026-12-09");
    assert_eq!(v["schedule"][1]["amount"], 100_000);
    let (_, v) = app
        .get(&format!("/api/v1/public/challans/{an}?on=2026-12-09"), None)
        .await;
    assert_eq!(v["amount_due"], 100_000);
    let (s, v) = app
        .get(&format!("/api/v1/public/challans/{an}?on=2026-12-32"), None)
        .await;
    assert_eq!(s, 422);
    assert_eq!(v["error"]["field"], "on");

    // Cancellation, four eyes: the requester cannot approve; another supervisor can.
    let (s, c) = post_auth(
        &app,
        &format!("/api/v1/challans/{bn}/cancellation"),
        &sup_a,
        json!({"reason": "issued to the wrong vehicle"}),
    )
    .await;
    assert_eq!(s, 201, "{c}");
    assert_eq!(c["status"], "pending");
    let id = c["id"].as_i64().unwrap();
    let (s, r) = post_auth(
        &app,
        &format!("/api/v1/cancellations/{id}/approve"),
        &sup_a,
        json!({}),
    )
    .await;
    assert_eq!(s, 403);
    assert_eq!(r["error"]["code"], "own_request");
    let (s, r) = post_auth(
        &app,
        &format!("/api/v1/cancellations/{id}/approve"),
        &officer,
        json!({}),
    )
    .await;
    assert_eq!(s, 403);
    assert_eq!(r["error"]["code"], "not_a_supervisor");
    let (_, q) = app
        .get("/api/v1/cancellations?status=pending", Some(&sup_b))
        .await;
    assert_eq!(q["cancellations"][0]["id"], id);
    let (s, r) = post_auth(
        &app,
        &format!("/api/v1/cancellations/{id}/approve"),
        &sup_b,
        json!({"note": "checked the photo"}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["status"], "approved");
    assert_eq!(r["decision_note"], "checked the photo");
    assert_eq!(r["decided_by"], "sup.b");
    let (_, v) = app
        .get(&format!("/api/v1/public/challans/{bn}"), None)
        .await;
    assert_eq!(v["status"], "cancelled");
    assert_eq!(v["amount_due"], 0);
    let (s, r) = post_auth(
        &app,
        &format!("/api/v1/cancellations/{id}/reject"),
        &sup_b,
        json!({}),
    )
    .await;
    assert_eq!(s, 409);
    assert_eq!(r["error"]["code"], "cancellation_decided");
    let k: Vec<String> = kinds(&app, &bn).await.into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        k,
        [
            "challan.issued",
            "cancellation.requested",
            "cancellation.approved",
            "challan.cancelled"
        ]
    );

    // An appeal with evidence larger than the usual 64 KiB body limit; the clock stops.
    use base64::Engine;
    // A PNG by its first bytes (evidence is typed by content), padded past 64 KiB.
    let mut photo = b"\x89PNG\r\n\x1a\n".to_vec();
    photo.resize(100 * 1024, 0x89);
    let body = app
        .with_code(
            &dn,
            json!({"reason": "I was wearing a helmet; photo attached",
                   "evidence": {"file_name": "helmet.png", "content_type": "image/png",
                                "data_base64": base64::engine::general_purpose::STANDARD.encode(&photo)}}),
        )
        .await;
    let (s, l) = app
        .post(&format!("/api/v1/public/challans/{dn}/appeals"), body)
        .await;
    assert_eq!(s, 201, "{l}");
    let appeal = l["appeal_id"].as_i64().unwrap();
    assert_eq!(l["evidence_sha256"].as_str().unwrap().len(), 64);
    let (_, q) = app
        .get("/api/v1/appeals?status=pending", Some(&sup_b))
        .await;
    assert_eq!(q["appeals"][0]["id"], appeal);
    assert_eq!(q["appeals"][0]["evidence"]["file_name"], "helmet.png");
    let r = app
        .http
        .get(app.url(&format!("/api/v1/appeals/{appeal}/evidence")))
        .bearer_auth(&sup_b)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().len(), photo.len());

    // 20 Dec: A is overdue (doubled); D, under appeal, is not.
    app.clock.set(datetime!(2026-12-20 05:00 UTC));
    let (officer, sup_a, sup_b) = relogin(&app).await;
    let (_, v) = app
        .get(&format!("/api/v1/public/challans/{dn}"), None)
        .await;
    assert_eq!(v["amount_due"], 50_000);
    assert_eq!(v["under_appeal"], true);
    let (s, r) = post_auth(
        &app,
        &format!("/api/v1/appeals/{appeal}/decision"),
        &officer,
        json!({"outcome": "quash"}),
    )
    .await;
    assert_eq!(s, 403, "{r}");
    let (s, r) = post_auth(
        &app,
        &format!("/api/v1/appeals/{appeal}/decision"),
        &sup_b,
        json!({"outcome": "reduce", "amount": 30_000, "note": "helmet visible in the photo, strap open"}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["amount_due"], 30_000);
    assert_eq!(r["appeal"]["outcome"], "reduce");
    let (s, r) = post_auth(
        &app,
        &format!("/api/v1/appeals/{appeal}/decision"),
        &sup_a,
        json!({"outcome": "quash"}),
    )
    .await;
    assert_eq!(s, 409);
    assert_eq!(r["error"]["code"], "appeal_decided");
    // 26 days paused (24 Nov to 20 Dec): due 8 Dec + 26 = 3 Jan, doubled from 4 Jan.
    let (_, v) = app
        .get(&format!("/api/v1/public/challans/{dn}?on=2027-01-03"), None)
        .await;
    assert_eq!(v["amount_due"], 30_000);
    assert_eq!(v["due_date"], "2027-01-03");
    let (_, v) = app
        .get(&format!("/api/v1/public/challans/{dn}?on=2027-01-04"), None)
        .await;
    assert_eq!(v["amount_due"], 60_000);
    let decided = kinds(&app, &dn).await;
    let (_, p) = decided.iter().find(|(k, _)| k == "appeal.decided").unwrap();
    assert_eq!(p["outcome"], "reduce");
    assert_eq!(p["amount_due"], 30_000);
    assert_eq!(p["challan_number"], dn.as_str());

    // 1Bill: the inquiry shows the doubled amount after the due date; the bank pays it.
    let psid = a["psid"].as_str().unwrap();
    let (_, inq) = app
        .post(
            "/api/v1/1bill/bill-inquiry",
            json!({"userName": "sandbox-bank", "password": "sandbox-1bill", "consumerNumber": psid, "bankMnemonic": "HBL"}),
        )
        .await;
    assert_eq!(inq["Due_Date"], "20261208");
    assert_eq!(inq["Amount_After_DueDate"], format!("+{:013}", 100_000));
    let r = bank_pay(&app, psid, 50_000, 1001).await;
    assert_eq!(
        r["response_Code"], "04",
        "the undoubled amount is refused: {r}"
    );
    let r = bank_pay(&app, psid, 100_000, 1002).await;
    assert_eq!(r["response_Code"], "00", "{r}");
    // A paid challan is refunded, not cancelled.
    let (s, r) = post_auth(
        &app,
        &format!("/api/v1/challans/{an}/cancellation"),
        &sup_a,
        json!({"reason": "paid twice"}),
    )
    .await;
    assert_eq!(s, 409);
    assert_eq!(r["error"]["code"], "challan_paid");
    assert!(r["error"]["message"].as_str().unwrap().contains("refund"));

    // 8 Jan 2027: E is 31 days past its due date. The escalation job records the surcharge and
    // the impound stage once; a second run records nothing.
    app.clock.set(datetime!(2027-01-08 05:00 UTC));
    let (officer, _, _) = relogin(&app).await;
    let run = efine_service::escalation::run_once(&app.store)
        .await
        .unwrap();
    assert_eq!(run.surcharged, 2, "E and D: {run:?}");
    assert_eq!(run.escalated, 1, "{run:?}");
    let again = efine_service::escalation::run_once(&app.store)
        .await
        .unwrap();
    assert_eq!((again.surcharged, again.escalated), (0, 0));
    let ek = kinds(&app, &en).await;
    let (_, p) = ek.iter().find(|(k, _)| k == "challan.escalated").unwrap();
    assert_eq!(p["stage"], "impound_eligible");
    assert_eq!(p["challan_number"], en.as_str());
    assert_eq!(
        ek.iter().filter(|(k, _)| k == "challan.surcharged").count(),
        1
    );

    // At a checkpoint.
    let (s, st) = app
        .get("/api/v1/vehicles/pes 200/status", Some(&officer))
        .await;
    assert_eq!(s, 200, "{st}");
    assert_eq!(st["vehicle_number"], "PES-200");
    assert_eq!(st["unpaid_count"], 1);
    assert_eq!(st["total_due"], 100_000);
    assert_eq!(st["stage"], "impound_eligible");
    assert_eq!(st["oldest"]["challan_number"], en.as_str());
    assert!(st["recommended_action"]
        .as_str()
        .unwrap()
        .contains("impound"));
    let (_, cl) = app
        .get("/api/v1/vehicles/PES-200/clearance", Some(&officer))
        .await;
    assert_eq!(cl["blocked"], false);
    let (_, clear) = app
        .get("/api/v1/vehicles/PES-100/status", Some(&officer))
        .await;
    assert_eq!(clear["unpaid_count"], 0);
    assert_eq!(clear["stage"], Value::Null);

    // 9 Mar 2027: 91 days past due, a transfer is blocked.
    app.clock.set(datetime!(2027-03-09 05:00 UTC));
    let (officer, _, _) = relogin(&app).await;
    let run = efine_service::escalation::run_once(&app.store)
        .await
        .unwrap();
    assert_eq!(
        run.escalated, 4,
        "E: licence, transfer; D: impound, licence: {run:?}"
    );
    let (_, cl) = app
        .get("/api/v1/vehicles/PES-200/clearance", Some(&officer))
        .await;
    assert_eq!(cl["blocked"], true);
    assert_eq!(cl["blocking_challans"][0], en.as_str());
    assert!(cl["reasons"][0].as_str().unwrap().contains(&en));

    // The record verifies; an edited appeal decision and an edited projection column are caught.
    assert!(verify(&app).await.is_ok(), "{:?}", verify(&app).await);
    app.store
        .write(move |tx| {
            tx.exec(
                "UPDATE appeals SET outcome = 'quash' WHERE id = $1",
                efine_store::params![appeal],
            )
        })
        .await
        .unwrap();
    match verify(&app).await {
        Err(audit::Finding::Challan { number, reason }) => {
            assert_eq!(number, dn);
            assert!(reason.contains("appeal"), "{reason}");
        }
        other => panic!("the edit was not caught: {other:?}"),
    }
    let dn2 = dn.clone();
    app.store
        .write(move |tx| {
            tx.exec(
                "UPDATE challans SET paused_days = 0 WHERE number = $1",
                efine_store::params![dn2.as_str()],
            )
        })
        .await
        .unwrap();
    match verify(&app).await {
        Err(audit::Finding::Challan { number, .. }) => assert_eq!(number, dn),
        other => panic!("the edit was not caught: {other:?}"),
    }
}

async fn bad_input_changes_nothing(app: TestApp) {
    let officer = app.officer().await;
    let sup = app
        .user("sup.a", Role::Supervisor, Some("traffic-police"), None)
        .await;
    let c = issue(&app, &officer, "PES-300").await;
    let n = number(&c);
    let path = format!("/api/v1/challans/{n}/cancellation");
    let (s, r) = post_auth(&app, &path, &officer, json!({"reason": "  "})).await;
    assert_eq!((s, r["error"]["field"].clone()), (422, json!("reason")));
    let (s, _) = post_auth(
        &app,
        "/api/v1/challans/TRF-PSH-2026-999999/cancellation",
        &officer,
        json!({"reason": "x"}),
    )
    .await;
    assert_eq!(s, 404);
    let (s, _) = app.post("/api/v1/cancellations/1/approve", json!({})).await;
    assert_eq!(s, 401);
    // An id that is not a number is the API's JSON error, naming the path.
    let (s, r) = post_auth(&app, "/api/v1/cancellations/abc/approve", &sup, json!({})).await;
    assert_eq!(
        (s, r["error"]["field"].clone()),
        (422, json!("path")),
        "{r}"
    );
    let (s, r) = post_auth(
        &app,
        "/api/v1/appeals/x1/decision",
        &sup,
        json!({"outcome": "uphold"}),
    )
    .await;
    assert_eq!(
        (s, r["error"]["field"].clone()),
        (422, json!("path")),
        "{r}"
    );
    // A decision with no body at all is fine; a body that is not JSON is refused first.
    let (s, c) = post_auth(&app, &path, &officer, json!({"reason": "duplicate"})).await;
    assert_eq!(s, 201, "{c}");
    let reject = app.url(&format!("/api/v1/cancellations/{}/reject", c["id"]));
    let r = app
        .http
        .post(&reject)
        .bearer_auth(&sup)
        .header("content-type", "application/json")
        .body("{note")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = app
        .http
        .post(&reject)
        .bearer_auth(&sup)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r: Value = r.json().await.unwrap();
    assert_eq!(
        (r["status"].clone(), r["decision_note"].clone()),
        (json!("rejected"), Value::Null)
    );
    let (s, r) = app
        .get("/api/v1/cancellations?status=maybe", Some(&sup))
        .await;
    assert_eq!((s, r["error"]["field"].clone()), (422, json!("status")));

    let appeal = format!("/api/v1/public/challans/{n}/appeals");
    let (s, r) = app
        .post(&appeal, json!({"reason": "r", "evidence": {"file_name": "a.png", "content_type": "image/png", "data_base64": "@@@"}}))
        .await;
    assert_eq!(
        (s, r["error"]["field"].clone()),
        (422, json!("evidence.data_base64"))
    );
    let (s, r) = app
        .post(&appeal, json!({"reason": "r", "evidence": {"file_name": "a.exe", "content_type": "application/x-msdownload", "data_base64": "AAAA"}}))
        .await;
    // The content decides the type: three zero bytes are not a photo or a PDF.
    assert_eq!(
        (s, r["error"]["field"].clone()),
        (422, json!("evidence.data_base64"))
    );
    // Without the code sent to the owner's mobile (once the worker has found the owner):
    // refused, naming the field.
    app.notify_round().await;
    let (s, r) = app.post(&appeal, json!({"reason": "not mine"})).await;
    assert_eq!(
        (s, r["error"]["code"].clone(), r["error"]["field"].clone()),
        (422, json!("code_required"), json!("code"))
    );
    let body = app.with_code(&n, json!({"reason": "not mine"})).await;
    let (s, l) = app.post(&appeal, body).await;
    assert_eq!(s, 201, "{l}");
    let id = l["appeal_id"].as_i64().unwrap();
    // A second appeal: no code is sent for it.
    let (s, r) = app.post(&format!("{appeal}/code"), json!({})).await;
    assert_eq!(
        (s, r["error"]["code"].clone()),
        (409, json!("appeal_exists"))
    );
    let decision = format!("/api/v1/appeals/{id}/decision");
    for (body, field) in [
        (json!({"outcome": "maybe"}), "outcome"),
        (json!({"outcome": "reduce"}), "amount"),
        (json!({"outcome": "reduce", "amount": 50_000}), "amount"),
        (json!({"outcome": "uphold", "amount": 100}), "amount"),
    ] {
        let (s, r) = post_auth(&app, &decision, &sup, body.clone()).await;
        assert_eq!(
            (s, r["error"]["field"].clone()),
            (422, json!(field)),
            "{body}"
        );
    }
    let (_, q) = app.get("/api/v1/appeals?status=pending", Some(&sup)).await;
    assert_eq!(q["appeals"][0]["id"], id, "still pending");

    // Outside the 30-day window: refused, nothing recorded.
    let late = issue(&app, &officer, "PES-301").await;
    let ln = number(&late);
    // The worker finds the owner the code goes to while the challan is new.
    app.notify_round().await;
    app.clock.set(datetime!(2026-12-25 05:00 UTC));
    let body = app.with_code(&ln, json!({"reason": "late"})).await;
    let (s, r) = app
        .post(&format!("/api/v1/public/challans/{ln}/appeals"), body)
        .await;
    assert_eq!(
        (s, r["error"]["code"].clone()),
        (409, json!("appeal_window_closed"))
    );
    assert_eq!(kinds(&app, &ln).await.len(), 1);
    let (s, r) = app
        .get(&format!("/api/v1/public/challans/{ln}?on=2026-11-01"), None)
        .await;
    assert_eq!((s, r["error"]["field"].clone()), (422, json!("on")));
    let (s, r) = app
        .get(
            &format!("/api/v1/public/challans/{ln}?on=2026-12-01&on=2026-12-02"),
            None,
        )
        .await;
    assert_eq!((s, r["error"]["field"].clone()), (422, json!("query")));
    assert!(verify(&app).await.is_ok());
}

/// A challan paid or cancelled while its appeal is open leaves nothing to decide: the appeal is
/// closed with an event in the same transaction and leaves the supervisors' queue.
async fn open_appeal_closes_when_paid_or_cancelled(app: TestApp) {
    let officer = app.officer().await;
    let sup = app
        .user("sup.a", Role::Supervisor, Some("traffic-police"), None)
        .await;
    let paid = issue(&app, &officer, "PES-700").await;
    let cancelled = issue(&app, &officer, "PES-701").await;
    let (pn, cn) = (number(&paid), number(&cancelled));
    for n in [&pn, &cn] {
        let body = app.with_code(n, json!({"reason": "not me"})).await;
        let (s, l) = app
            .post(&format!("/api/v1/public/challans/{n}/appeals"), body)
            .await;
        assert_eq!(s, 201, "{l}");
    }
    let (_, q) = app.get("/api/v1/appeals?status=pending", Some(&sup)).await;
    assert_eq!(q["appeals"].as_array().unwrap().len(), 2, "{q}");

    // Paid at the bank while the appeal is open.
    let r = bank_pay(&app, paid["psid"].as_str().unwrap(), 50_000, 7001).await;
    assert_eq!(r["response_Code"], "00", "{r}");
    // Cancelled (four eyes) while the appeal is open.
    let (s, c) = post_auth(
        &app,
        &format!("/api/v1/challans/{cn}/cancellation"),
        &officer,
        json!({"reason": "wrong plate"}),
    )
    .await;
    assert_eq!(s, 201, "{c}");
    let (s, r) = post_auth(
        &app,
        &format!("/api/v1/cancellations/{}/approve", c["id"]),
        &sup,
        json!({}),
    )
    .await;
    assert_eq!(s, 200, "{r}");

    let (_, q) = app.get("/api/v1/appeals?status=pending", Some(&sup)).await;
    assert_eq!(q["appeals"], json!([]), "{q}");
    let (_, q) = app.get("/api/v1/appeals?status=closed", Some(&sup)).await;
    let mut closed: Vec<(String, String)> = q["appeals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["challan_number"].as_str().unwrap().to_string(),
                a["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    closed.sort();
    let mut want = vec![
        (pn.clone(), "closed".to_string()),
        (cn.clone(), "closed".to_string()),
    ];
    want.sort();
    assert_eq!(closed, want);
    for (n, why) in [(&pn, "challan paid"), (&cn, "challan cancelled")] {
        let ks = kinds(&app, n).await;
        let (kind, payload) = ks.last().unwrap();
        assert_eq!(kind, "appeal.closed", "{ks:?}");
        assert_eq!(payload["reason"], why);
    }
    // Nothing is left to decide.
    let id = q["appeals"][0]["id"].as_i64().unwrap();
    let (s, r) = post_auth(
        &app,
        &format!("/api/v1/appeals/{id}/decision"),
        &sup,
        json!({"outcome": "uphold"}),
    )
    .await;
    assert_eq!(
        (s, r["error"]["code"].clone()),
        (409, json!("appeal_decided")),
        "{r}"
    );
    assert!(verify(&app).await.is_ok());
}

/// Two nodes (two stores, two servers) on one PostgreSQL database run the escalation job at the
/// same moment: each surcharge and each stage is recorded exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_escalate_once() {
    let loc = efine_store::Location::Postgres {
        url: common::pg_url(),
        schema: Some(format!(
            "esc_{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        )),
    };
    let a = TestApp::start(loc.clone(), None, efine_web::WebConfig::default()).await;
    let b = TestApp::start(loc, None, efine_web::WebConfig::default()).await;
    b.clock.set(a.store.now());
    let officer = a.officer().await;
    let mut numbers = Vec::new();
    for i in 0..12 {
        numbers.push(number(&issue(&a, &officer, &format!("PES-9{i:02}")).await));
    }
    // Past every stage (90 days after the due date).
    for app in [&a, &b] {
        app.clock.set(datetime!(2027-03-20 05:00 UTC));
    }
    let officer = b.login("officer.psh", common::PASSWORD).await;
    for _ in 0..3 {
        let (x, y) = tokio::join!(
            efine_service::escalation::run_once(&a.store),
            efine_service::escalation::run_once(&b.store)
        );
        x.unwrap();
        y.unwrap();
    }
    for n in &numbers {
        let ks: Vec<String> = kinds(&a, n)
            .await
            .into_iter()
            .map(|(k, p)| match k.as_str() {
                "challan.escalated" => format!("{k}:{}", p["stage"].as_str().unwrap()),
                _ => k,
            })
            .collect();
        assert_eq!(
            ks,
            [
                "challan.issued",
                "challan.surcharged",
                "challan.escalated:impound_eligible",
                "challan.escalated:licence_suspended",
                "challan.escalated:transfer_blocked"
            ],
            "{n}"
        );
    }
    let (_, st) = b
        .get("/api/v1/vehicles/PES-900/status", Some(&officer))
        .await;
    assert_eq!(st["stage"], "transfer_blocked");
    assert!(verify(&a).await.is_ok());
}

/// A stranger who knows a challan number cannot use up its appeal: the appeal needs the code
/// sent by SMS to the challan's mobile (6 digits, stored hashed, 10 minutes, void after 5 wrong
/// tries, at most one a minute per challan), or for a challan without a mobile the CNIC on it
/// (compared, never echoed, 5 wrong a day).
async fn appeals_need_proof_of_the_person_charged(app: TestApp) {
    let officer = app.officer().await;
    let (s, c) = app
        .issue(
            &officer,
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-900",
                   "mobile": "0300-1234567"}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let n = number(&c);
    let appeal = format!("/api/v1/public/challans/{n}/appeals");
    let (s, r) = app.post(&appeal, json!({"reason": "not me"})).await;
    assert_eq!(
        (s, r["error"]["code"].clone()),
        (422, json!("code_required"))
    );
    let (s, r) = app
        .post(&appeal, json!({"reason": "not me", "code": "12345"}))
        .await;
    assert_eq!((s, r["error"]["field"].clone()), (422, json!("code")));

    // A code: the number masked in the answer, one a minute.
    let (s, sent) = app.post(&format!("{appeal}/code"), json!({})).await;
    assert_eq!(s, 202, "{sent}");
    let shown = sent["sent_to"].as_str().unwrap();
    assert!(
        !shown.contains("1234567") && shown.contains("67"),
        "{shown}"
    );
    let (s, r) = app.post(&format!("{appeal}/code"), json!({})).await;
    assert_eq!(
        (s, r["error"]["code"].clone()),
        (429, json!("code_too_soon"))
    );
    let sms = app.notify_round().await;
    let to_citizen: Vec<_> = sms
        .iter()
        .filter(|m| m.reference.starts_with(&format!("{n}:appeal_code:")))
        .collect();
    assert_eq!(to_citizen.len(), 1);
    assert_eq!(to_citizen[0].to, "+923001234567");
    let code = common::code_in(&sms, &n).unwrap();
    assert!(to_citizen[0].text.contains("کوڈ"), "both languages");
    // Stored as a salted hash only.
    let stored = app
        .store
        .read(|tx| tx.query("SELECT code_hash, salt FROM appeal_codes", &[]))
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    let hash = stored[0].text(0).unwrap();
    assert_eq!(hash.len(), 64);
    assert!(!hash.contains(&code));
    assert_eq!(
        hash,
        efine_core::appeal_proof::Code::parse(&code)
            .unwrap()
            .hash(&n, &stored[0].text(1).unwrap())
    );

    // Four wrong codes say how many tries are left; the fifth voids the code, which then
    // fails even when right; nothing was lodged.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for left in [4, 3, 2, 1] {
        let (s, r) = app
            .post(&appeal, json!({"reason": "not me", "code": wrong}))
            .await;
        assert_eq!((s, r["error"]["code"].clone()), (422, json!("code_wrong")));
        assert!(
            r["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&format!("{left} tries left")),
            "{r}"
        );
    }
    for attempt in [wrong, code.as_str()] {
        let (s, r) = app
            .post(&appeal, json!({"reason": "not me", "code": attempt}))
            .await;
        assert_eq!((s, r["error"]["code"].clone()), (422, json!("code_void")));
    }
    assert_eq!(kinds(&app, &n).await.len(), 1, "only the issue");

    // A new code a minute later; one that has expired is refused; a fresh one lodges.
    app.clock.advance(time::Duration::seconds(61));
    app.post(&format!("{appeal}/code"), json!({})).await;
    let expired = common::code_in(&app.notify_round().await, &n).unwrap();
    app.clock.advance(time::Duration::minutes(11));
    let (s, r) = app
        .post(&appeal, json!({"reason": "not me", "code": expired}))
        .await;
    assert_eq!(
        (s, r["error"]["code"].clone()),
        (422, json!("code_expired"))
    );
    let body = app.with_code(&n, json!({"reason": "not me"})).await;
    let used = body["code"].clone();
    let (s, l) = app.post(&appeal, body).await;
    assert_eq!(s, 201, "{l}");
    let k = kinds(&app, &n).await;
    assert_eq!(k.last().unwrap().0, "appeal.lodged");
    let (s, r) = app
        .post(&appeal, json!({"reason": "again", "code": used}))
        .await;
    assert_eq!(
        (s, r["error"]["code"].clone()),
        (422, json!("code_expired"))
    );

    // No mobile and no registered owner: the CNIC on the challan is the proof.
    let (s, c) = app
        .issue(
            &officer,
            json!({"offence_code": "no-helmet", "vehicle_number": "ZQX-77",
                   "cnic": "17301-7654321-9"}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let m = number(&c);
    app.notify_round().await;
    let appeal = format!("/api/v1/public/challans/{m}/appeals");
    let (s, r) = app.post(&format!("{appeal}/code"), json!({})).await;
    assert_eq!((s, r["error"]["code"].clone()), (409, json!("no_mobile")));
    let (s, r) = app.post(&appeal, json!({"reason": "not me"})).await;
    assert_eq!(
        (s, r["error"]["code"].clone()),
        (422, json!("cnic_required"))
    );
    let (s, r) = app
        .post(
            &appeal,
            json!({"reason": "not me", "cnic": "17301-1111111-1"}),
        )
        .await;
    assert_eq!((s, r["error"]["code"].clone()), (422, json!("cnic_wrong")));
    assert!(!r.to_string().contains("1111111"), "never echoed: {r}");
    let (s, l) = app
        .post(
            &appeal,
            json!({"reason": "not me", "cnic": "1730176543219"}),
        )
        .await;
    assert_eq!(s, 201, "{l}");
}
