//! The JSON API through the real server, on SQLite and PostgreSQL.

mod common;

use common::TestApp;
use efine_core::auth::Role;
use serde_json::{json, Value};

both_backends!(
    health_and_catalogue,
    auth_errors_are_clear,
    issue_then_find_as_citizen,
    mistyped_identifiers_are_refused,
    bad_input_names_the_field_and_writes_nothing,
    roles_and_scope,
    idempotency_key_replays_and_refuses,
    concurrent_issuance_is_gap_free,
    lookup_is_validated_and_rate_limited,
    amount_doubles_after_due_date,
);

async fn health_and_catalogue(app: TestApp) {
    let (s, v) = app.get("/healthz", None).await;
    assert_eq!(s, 200);
    assert_eq!(v["status"], "ok");

    let (s, deps) = app.get("/api/v1/catalogue/departments", None).await;
    assert_eq!(s, 200);
    let deps = deps.as_array().unwrap();
    assert!(deps.len() >= 8, "{} departments", deps.len());
    assert!(deps
        .iter()
        .any(|d| d["code"] == "traffic-police" && d["abbr"] == "TRF"));

    let (_, dists) = app.get("/api/v1/catalogue/districts", None).await;
    let dists = dists.as_array().unwrap();
    assert_eq!(dists.len(), 38);
    let psh = dists.iter().find(|d| d["code"] == "peshawar").unwrap();
    assert_eq!(psh["name_ur"], "پشاور");

    let (s, offs) = app
        .get("/api/v1/catalogue/offences?department=traffic-police", None)
        .await;
    assert_eq!(s, 200);
    let offs = offs.as_array().unwrap();
    assert!(offs.len() >= 10);
    assert!(offs.iter().all(|o| o["department"] == "traffic-police"));
    assert!(offs.iter().all(|o| o["amount"].as_i64().unwrap() > 0));

    let (s, all) = app.get("/api/v1/catalogue/offences", None).await;
    assert_eq!(s, 200);
    assert!(all.as_array().unwrap().len() > offs.len());

    let (s, _) = app
        .get("/api/v1/catalogue/offences?department=no-such-dept", None)
        .await;
    assert_eq!(s, 404);
    let (s, e) = app
        .get("/api/v1/catalogue/offences?department=Bad%20Code!", None)
        .await;
    assert_eq!(s, 422);
    assert_eq!(e["error"]["field"], "department");

    let (s, e) = app.get("/api/v1/nothing-here", None).await;
    assert_eq!(s, 404);
    assert_eq!(e["error"]["code"], "not_found");
}

async fn auth_errors_are_clear(app: TestApp) {
    let token = app.officer().await;
    let body = json!({"offence_code": "no-helmet", "vehicle_number": "PES-1"});

    let r = app
        .http
        .post(app.url("/api/v1/challans"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().get("www-authenticate").is_some());
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "unauthorized");

    let (s, _) = app.issue("not-a-real-token", body.clone()).await;
    assert_eq!(s, 401);
    let (s, _) = app.issue(&token, body).await;
    assert_eq!(s, 201);

    let (s, v) = app
        .post(
            "/api/v1/auth/token",
            json!({"username": "officer.psh", "password": "wrong password"}),
        )
        .await;
    assert_eq!(s, 401);
    assert_eq!(v["error"]["code"], "unauthorized");
    let (s, _) = app
        .post(
            "/api/v1/auth/token",
            json!({"username": "nobody", "password": "wrong password"}),
        )
        .await;
    assert_eq!(s, 401);
    let (s, v) = app
        .post("/api/v1/auth/token", json!({"username": "officer.psh"}))
        .await;
    assert_eq!(s, 422);
    assert_eq!(v["error"]["field"], "password");

    let r = app
        .http
        .post(app.url("/api/v1/auth/token"))
        .header("content-type", "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "malformed_json");

    let r = app
        .http
        .post(app.url("/api/v1/auth/token"))
        .body("username=a&password=b")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);

    // An expired token stops working.
    app.clock.advance(time::Duration::hours(13));
    let (s, _) = app
        .issue(
            &token,
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-2"}),
        )
        .await;
    assert_eq!(s, 401);
}

async fn issue_then_find_as_citizen(app: TestApp) {
    let token = app.officer().await;
    let (_, offs) = app
        .get("/api/v1/catalogue/offences?department=traffic-police", None)
        .await;
    let helmet = offs
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["code"] == "no-helmet")
        .unwrap()
        .clone();
    let (s, c) = app
        .issue(
            &token,
            json!({
                "offence_code": "no-helmet",
                "vehicle_number": "pes 1234",
                "cnic": "17301-1234567-1",
                "mobile": "0300-1234567",
                "name": "Muhammad Asif Khan",
                "location": {"lat": 34.0151, "lon": 71.5249, "text": "University Road"},
                "notes": "stopped at the checkpoint"
            }),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    assert_eq!(c["challan_number"], "TRF-PSH-2026-000001");
    assert_eq!(c["amount_due"], helmet["amount"]);
    assert_eq!(
        c["amount_after_due_date"].as_i64().unwrap(),
        2 * helmet["amount"].as_i64().unwrap()
    );
    assert_eq!(c["status"], "unpaid");
    let days = helmet["days_to_pay"].as_i64().unwrap();
    let due = time::macros::date!(2026 - 11 - 24) + time::Duration::days(days);
    assert_eq!(c["due_date"], due.to_string());
    let psid = c["psid"].as_str().unwrap().to_string();
    assert!(efine_core::Psid::parse(&psid).is_ok());

    // As a citizen, by challan number (typed loosely) and by PSID.
    let (s, p) = app
        .get("/api/v1/public/challans/trf-psh-2026-1", None)
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["challan_number"], "TRF-PSH-2026-000001");
    assert_eq!(p["vehicle_number"], "PES-1234");
    assert_eq!(p["cnic"], "*****-****567-*");
    assert_eq!(p["mobile"], "0300-*****67");
    assert_eq!(p["name"], "M******* A*** K***");
    assert_eq!(p["offence_name_en"], helmet["name_en"]);
    let text = p.to_string();
    assert!(!text.contains("1234567-1") && !text.contains("Asif") && !text.contains("1234567\""));
    let (s, by_psid) = app
        .get(&format!("/api/v1/public/challans/{psid}"), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(by_psid, p);

    // By vehicle and by CNIC, in the body.
    let (s, l) = app
        .post("/api/v1/public/lookup", json!({"vehicle": "PES1234"}))
        .await;
    assert_eq!(s, 200, "{l}");
    assert_eq!(l["count"], 1);
    assert_eq!(l["total_due"], helmet["amount"]);
    assert_eq!(l["challans"][0]["cnic"], "*****-****567-*");
    let (s, l) = app
        .post("/api/v1/public/lookup", json!({"cnic": "1730112345671"}))
        .await;
    assert_eq!(s, 200);
    assert_eq!(l["count"], 1);
    assert!(!l.to_string().contains("1730112345671"));
    let (_, l) = app
        .post("/api/v1/public/lookup", json!({"vehicle": "SWT-999"}))
        .await;
    assert_eq!(l["count"], 0);
    assert_eq!(l["total_due"], 0);

    // As staff: the full record with its history.
    let (s, full) = app
        .get("/api/v1/challans/TRF-PSH-2026-000001", Some(&token))
        .await;
    assert_eq!(s, 200, "{full}");
    assert_eq!(full["cnic"], "17301-1234567-1");
    assert_eq!(full["officer"], "officer.psh");
    assert_eq!(full["location"]["text"], "University Road");
    assert_eq!(full["events"][0]["kind"], "challan.issued");
    assert_eq!(
        full["events"][0]["payload"]["challan"]["amount"],
        helmet["amount"]
    );
    let (s, _) = app.get("/api/v1/challans/TRF-PSH-2026-000001", None).await;
    assert_eq!(s, 401);
}

async fn mistyped_identifiers_are_refused(app: TestApp) {
    let token = app.officer().await;
    let (_, c) = app
        .issue(
            &token,
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-1"}),
        )
        .await;
    let psid = c["psid"].as_str().unwrap().to_string();
    // Change one digit: the check digit catches it before any lookup.
    let mut typo: Vec<u8> = psid.clone().into_bytes();
    typo[6] = if typo[6] == b'9' { b'0' } else { typo[6] + 1 };
    let typo = String::from_utf8(typo).unwrap();
    let (s, e) = app
        .get(&format!("/api/v1/public/challans/{typo}"), None)
        .await;
    assert_eq!(s, 422);
    assert_eq!(e["error"]["field"], "psid");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("check digit"));

    let (s, e) = app.get("/api/v1/public/challans/TRF-PSH-26", None).await;
    assert_eq!(s, 422);
    assert_eq!(e["error"]["field"], "challan_number");

    // Well-formed but unknown.
    let other = efine_core::Psid::for_challan(2026, 1, 38, 999_999);
    let (s, _) = app
        .get(&format!("/api/v1/public/challans/{other}"), None)
        .await;
    assert_eq!(s, 404);
    let (s, _) = app
        .get("/api/v1/public/challans/TRF-PSH-2026-999999", None)
        .await;
    assert_eq!(s, 404);
}

async fn bad_input_names_the_field_and_writes_nothing(app: TestApp) {
    let token = app.officer().await;
    let cases = [
        (
            json!({"offence_code": "no-such-offence", "vehicle_number": "PES-1"}),
            422,
            "offence_code",
        ),
        (
            json!({"offence_code": "Not A Code", "vehicle_number": "PES-1"}),
            422,
            "offence_code",
        ),
        (
            json!({"offence_code": 5, "vehicle_number": "PES-1"}),
            422,
            "offence_code",
        ),
        (json!({"vehicle_number": "PES-1"}), 422, "offence_code"),
        (
            json!({"offence_code": "no-helmet", "cnic": "12345"}),
            422,
            "cnic",
        ),
        (
            json!({"offence_code": "no-helmet", "mobile": "12345"}),
            422,
            "mobile",
        ),
        (
            json!({"offence_code": "no-helmet", "vehicle_number": "P#1"}),
            422,
            "vehicle_number",
        ),
        (json!({"offence_code": "no-helmet"}), 422, "vehicle_number"),
        (
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-1", "amount": 1}),
            422,
            "amount",
        ),
        (
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-1", "location": {"lat": 95.0, "lon": 71.0}}),
            422,
            "location.lat",
        ),
        (
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-1", "location": {"lat": 34.0}}),
            422,
            "location",
        ),
        (
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-1", "district": "atlantis"}),
            422,
            "district",
        ),
        (
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-1", "name": "x".repeat(101)}),
            422,
            "name",
        ),
        (json!([1, 2, 3]), 422, "body"),
    ];
    for (body, status, field) in cases {
        let (s, e) = app.issue(&token, body.clone()).await;
        assert_eq!(s, status, "{body} -> {e}");
        assert_eq!(e["error"]["field"], field, "{body} -> {e}");
        assert_eq!(e["error"]["code"], "invalid_field");
    }
    let r = app
        .http
        .post(app.url("/api/v1/challans"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"offence_code\": \"no-helmet\",")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let big = json!({"offence_code": "no-helmet", "vehicle_number": "PES-1", "notes": "x".repeat(70_000)});
    let (s, e) = app.issue(&token, big).await;
    assert_eq!(s, 413, "{e}");
    assert_eq!(e["error"]["code"], "payload_too_large");

    // None of that wrote anything: the first challan that succeeds is number 1.
    let (s, c) = app
        .issue(
            &token,
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-1"}),
        )
        .await;
    assert_eq!(s, 201);
    assert_eq!(c["challan_number"], "TRF-PSH-2026-000001");
}

async fn roles_and_scope(app: TestApp) {
    let officer = app.officer().await;
    let (_, c) = app
        .issue(
            &officer,
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-1"}),
        )
        .await;
    let number = c["challan_number"].as_str().unwrap().to_string();
    let path = format!("/api/v1/challans/{number}");

    let auditor = app.user("audit.one", Role::Auditor, None, None).await;
    let (s, e) = app.issue(&auditor, json!({"offence_code": "no-helmet", "vehicle_number": "PES-1", "district": "peshawar", "department": "traffic-police"})).await;
    assert_eq!(s, 403);
    assert_eq!(e["error"]["code"], "forbidden");
    let (s, _) = app.get(&path, Some(&auditor)).await;
    assert_eq!(s, 200);

    let swat = app
        .user(
            "officer.swat",
            Role::Officer,
            Some("traffic-police"),
            Some("swat"),
        )
        .await;
    let (s, _) = app
        .issue(
            &swat,
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-1", "district": "peshawar"}),
        )
        .await;
    assert_eq!(s, 403);
    let (s, _) = app.issue(&swat, json!({"offence_code": "no-helmet", "vehicle_number": "SWT-1", "department": "excise-taxation"})).await;
    assert_eq!(s, 403);
    // Another district's record does not exist for a field officer.
    let (s, _) = app.get(&path, Some(&swat)).await;
    assert_eq!(s, 404);

    let excise = app
        .user(
            "excise.sup",
            Role::Supervisor,
            Some("excise-taxation"),
            None,
        )
        .await;
    let (s, e) = app.get(&path, Some(&excise)).await;
    assert_eq!(s, 404);
    assert_eq!(e["error"]["code"], "not_found");

    let traffic_sup = app
        .user(
            "traffic.sup",
            Role::Supervisor,
            Some("traffic-police"),
            None,
        )
        .await;
    let (s, v) = app.get(&path, Some(&traffic_sup)).await;
    assert_eq!(s, 200);
    assert_eq!(v["challan_number"], number);
}

async fn idempotency_key_replays_and_refuses(app: TestApp) {
    let token = app.officer().await;
    let body = json!({"offence_code": "no-helmet", "vehicle_number": "PES-77"});
    let send = |body: Value, key: &'static str| {
        app.http
            .post(app.url("/api/v1/challans"))
            .bearer_auth(&token)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let first = send(body.clone(), "device-7-0001").await.unwrap();
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();

    app.clock.advance(time::Duration::hours(2));
    // Same key, same body (keys in another order): the first response again.
    let again = send(
        json!({"vehicle_number": "PES-77", "offence_code": "no-helmet"}),
        "device-7-0001",
    )
    .await
    .unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers().get("idempotent-replayed").unwrap(), "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first);

    let other = send(
        json!({"offence_code": "seat-belt", "vehicle_number": "PES-77"}),
        "device-7-0001",
    )
    .await
    .unwrap();
    assert_eq!(other.status(), 409);
    let other: Value = other.json().await.unwrap();
    assert_eq!(other["error"]["code"], "idempotency_key_reused");

    let (_, next) = app
        .issue(
            &token,
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-78"}),
        )
        .await;
    assert_eq!(next["challan_number"], "TRF-PSH-2026-000002");
    let (_, l) = app
        .post("/api/v1/public/lookup", json!({"vehicle": "PES-77"}))
        .await;
    assert_eq!(l["count"], 1);
}

async fn concurrent_issuance_is_gap_free(app: TestApp) {
    let a = app.officer().await;
    let b = app
        .user(
            "officer.psh2",
            Role::Officer,
            Some("traffic-police"),
            Some("peshawar"),
        )
        .await;
    let mut tasks = Vec::new();
    for i in 0..60 {
        let http = app.http.clone();
        let url = app.url("/api/v1/challans");
        let token = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            let r = http
                .post(url)
                .bearer_auth(token)
                .json(&json!({"offence_code": "no-helmet", "vehicle_number": format!("PES-{i}")}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            let v: Value = r.json().await.unwrap();
            v["challan_number"].as_str().unwrap().to_string()
        }));
    }
    let mut seqs = Vec::new();
    for t in tasks {
        let n = efine_core::ChallanNumber::parse(&t.await.unwrap()).unwrap();
        seqs.push(n.seq());
    }
    seqs.sort();
    assert_eq!(seqs, (1..=60).collect::<Vec<u64>>());
}

async fn lookup_is_validated_and_rate_limited(app: TestApp) {
    let (s, e) = app.post("/api/v1/public/lookup", json!({})).await;
    assert_eq!(s, 422);
    assert_eq!(e["error"]["field"], "vehicle");
    let (s, _) = app
        .post(
            "/api/v1/public/lookup",
            json!({"vehicle": "PES-1", "cnic": "1730112345671"}),
        )
        .await;
    assert_eq!(s, 422);
    let (s, e) = app
        .post("/api/v1/public/lookup", json!({"cnic": "17301"}))
        .await;
    assert_eq!(s, 422);
    assert_eq!(e["error"]["field"], "cnic");
    // Three used; the default allows 30 a minute from one address.
    let mut statuses = Vec::new();
    for _ in 0..28 {
        let (s, _) = app
            .post("/api/v1/public/lookup", json!({"vehicle": "PES-1"}))
            .await;
        statuses.push(s);
    }
    assert!(statuses.iter().take(27).all(|s| *s == 200), "{statuses:?}");
    let r = app
        .http
        .post(app.url("/api/v1/public/lookup"))
        .json(&json!({"vehicle": "PES-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait));
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "rate_limited");
}

async fn amount_doubles_after_due_date(app: TestApp) {
    let token = app.officer().await;
    let (_, c) = app
        .issue(
            &token,
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-9"}),
        )
        .await;
    let amount = c["amount_due"].as_i64().unwrap();
    let due = time::Date::parse(
        c["due_date"].as_str().unwrap(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .unwrap();
    // 23:59 local on the due date: still the scheduled amount.
    app.clock.set(due.with_hms(18, 59, 0).unwrap().assume_utc());
    let (_, p) = app
        .get("/api/v1/public/challans/TRF-PSH-2026-000001", None)
        .await;
    assert_eq!(p["amount_due"].as_i64().unwrap(), amount);
    // 00:00 local the next day: doubled.
    app.clock.set(due.with_hms(19, 0, 0).unwrap().assume_utc());
    let (_, p) = app
        .get("/api/v1/public/challans/TRF-PSH-2026-000001", None)
        .await;
    assert_eq!(p["amount_due"].as_i64().unwrap(), 2 * amount);
}
