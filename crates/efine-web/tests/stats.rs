//! Statistics through the real server on both backends: the summary after issuing and paying,
//! scoping by role, bad input, CSV, the public transparency figures, the live stream moving after
//! a payment, the dashboard page, and anomalies on planted data.

mod common;

use common::TestApp;
use efine_core::auth::{Principal, Role};
use efine_core::challan::Location;
use efine_core::clock::KARACHI;
use efine_core::{DepartmentCode, DistrictCode, OffenceCode, VehicleNumber};
use efine_store::ops::{challans, users};
use efine_store::NewChallan;
use serde_json::{json, Value};
use std::time::Duration;

both_backends!(
    summary_scoping_csv_and_live_updates,
    anomalies_find_planted_officers,
    csv_text_cells_are_quoted_and_guarded
);

fn row<'a>(v: &'a Value, key: &str, code: &str) -> &'a Value {
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r[key] == code)
        .unwrap_or_else(|| panic!("no row {code} in {v}"))
}

/// Reads server-sent events until one with a `seq` above `above` arrives (bounded wait).
async fn next_seq_above(resp: &mut reqwest::Response, buf: &mut String, above: i64) -> i64 {
    let wait = async {
        loop {
            while let Some(end) = buf.find("\n\n") {
                let ev: String = buf.drain(..end + 2).collect();
                if let Some(data) = ev.lines().find_map(|l| l.strip_prefix("data: ")) {
                    let seq = serde_json::from_str::<Value>(data).unwrap()["seq"]
                        .as_i64()
                        .unwrap();
                    if seq > above {
                        return seq;
                    }
                }
            }
            let chunk = resp.chunk().await.unwrap().expect("stream ended");
            buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    };
    tokio::time::timeout(Duration::from_secs(15), wait)
        .await
        .expect("no change event")
}

async fn summary_scoping_csv_and_live_updates(app: TestApp) {
    let psh = app.officer().await;
    let swat = app
        .user(
            "officer.swt",
            Role::Officer,
            Some("traffic-police"),
            Some("swat"),
        )
        .await;
    let auditor = app.user("auditor.one", Role::Auditor, None, None).await;
    let cashier = app.user("cashier.one", Role::Finance, None, None).await;

    let mut numbers = Vec::new();
    for plate in ["PES-1", "PES-2", "PES-3"] {
        let (s, c) = app
            .issue(
                &psh,
                json!({"offence_code": "no-helmet", "vehicle_number": plate,
                       "location": {"lat": 34.0151, "lon": 71.5249}}),
            )
            .await;
        assert_eq!(s, 201, "{c}");
        numbers.push((
            c["challan_number"].as_str().unwrap().to_string(),
            c["amount_due"].as_i64().unwrap(),
        ));
    }
    let (s, c) = app
        .issue(
            &swat,
            json!({"offence_code": "no-helmet", "vehicle_number": "SWT-9", "district": "swat"}),
        )
        .await;
    assert_eq!(s, 201, "{c}");

    // The live stream: the current sequence first, then a change after a payment.
    let mut resp = app
        .http
        .get(app.url("/api/v1/stats/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut buf = String::new();
    let first = next_seq_above(&mut resp, &mut buf, 0).await;

    let (number, amount) = &numbers[0];
    let r = app
        .http
        .post(app.url(&format!("/api/v1/challans/{number}/cash-payments")))
        .bearer_auth(&cashier)
        .json(&json!({"amount": amount}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let moved = next_seq_above(&mut resp, &mut buf, first).await;
    assert!(moved > first);

    // Everything, for an auditor.
    let (s, v) = app
        .get("/api/v1/stats/summary?group_by=district", Some(&auditor))
        .await;
    assert_eq!(s, 200, "{v}");
    let p = row(&v, "district_code", "peshawar");
    assert_eq!(p["issued"], 3);
    assert_eq!(p["paid"], 1);
    assert_eq!(p["collected"], *amount);
    assert_eq!(p["amount_issued"], 3 * amount);
    assert_eq!(p["outstanding"], 2 * amount);
    assert_eq!(p["compliance_percent"], 33.33);
    assert_eq!(p["name"], "Peshawar");
    let sw = row(&v, "district_code", "swat");
    assert_eq!(
        (sw["issued"].as_i64(), sw["paid"].as_i64()),
        (Some(1), Some(0))
    );
    assert_eq!(v["total"]["issued"], 4);
    assert_eq!(v["total"]["paid"], 1);

    let (_, v) = app
        .get("/api/v1/stats/summary?group_by=officer", Some(&auditor))
        .await;
    assert_eq!(row(&v, "officer", "officer.psh")["issued"], 3);
    let (_, v) = app
        .get("/api/v1/stats/summary?group_by=offence", Some(&auditor))
        .await;
    let o = row(&v, "offence_code", "no-helmet");
    assert_eq!(
        (o["issued"].as_i64(), o["department_code"].as_str()),
        (Some(4), Some("traffic-police"))
    );

    // A date range that holds none of them; then today's.
    let (_, v) = app
        .get(
            "/api/v1/stats/summary?from=2026-01-01&to=2026-01-31",
            Some(&auditor),
        )
        .await;
    assert_eq!(v["rows"].as_array().unwrap().len(), 0);
    let (_, v) = app
        .get(
            "/api/v1/stats/summary?from=2026-11-24&to=2026-11-24",
            Some(&auditor),
        )
        .await;
    assert_eq!(v["total"]["issued"], 4);

    // An officer sees only their own district.
    let (s, v) = app.get("/api/v1/stats/summary", Some(&swat)).await;
    assert_eq!(s, 200);
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{v}");
    assert_eq!(rows[0]["district_code"], "swat");
    let (_, v) = app
        .get("/api/v1/stats/summary?group_by=offence", Some(&swat))
        .await;
    assert_eq!(v["total"]["issued"], 1, "{v}");

    // Bad input names the field; no token is 401.
    for (q, field) in [
        ("group_by=plate", "group_by"),
        ("from=2026-13-01", "from"),
        ("from=2026-11-24&to=2026-11-01", "to"),
        ("format=xml", "format"),
        ("group_by=district&group_by=officer", "query"),
    ] {
        let (s, e) = app
            .get(&format!("/api/v1/stats/summary?{q}"), Some(&auditor))
            .await;
        assert_eq!(s, 422, "{q}: {e}");
        assert_eq!(e["error"]["field"], field, "{q}");
    }
    assert_eq!(app.get("/api/v1/stats/summary", None).await.0, 401);

    // CSV.
    let r = app
        .http
        .get(app.url("/api/v1/stats/summary?group_by=district&format=csv"))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let body = r.text().await.unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines[0], "code,name,issued,paid,cancelled,compliance_percent,amount_issued_paisa,collected_paisa,outstanding_paisa");
    assert!(
        lines.contains(
            &format!(
                "peshawar,Peshawar,3,1,0,33.33,{},{amount},{}",
                3 * amount,
                2 * amount
            )
            .as_str()
        ),
        "{body}"
    );
    assert_eq!(lines.last().unwrap().split(',').nth(2), Some("4"));

    // Trends, rails, hotspots.
    let (_, t) = app.get("/api/v1/stats/trends", Some(&auditor)).await;
    let today = t.as_array().unwrap().last().unwrap();
    assert_eq!(
        (
            today["start"].as_str(),
            today["issued"].as_i64(),
            today["collected"].as_i64()
        ),
        (Some("2026-11-24"), Some(4), Some(*amount))
    );
    let (_, rails) = app.get("/api/v1/stats/rails", Some(&auditor)).await;
    assert_eq!(
        rails,
        json!([{"rail": "counter", "payments": 1, "amount": amount, "amount_display": rails[0]["amount_display"]}])
    );
    let (_, cells) = app.get("/api/v1/stats/hotspots", Some(&auditor)).await;
    assert_eq!(cells[0]["issued"], 3);
    assert_eq!(cells[0]["lat_micro"], 34_010_000);

    // Public figures: no token, no officers, no plates.
    let (s, pubv) = app.get("/api/v1/public/transparency", None).await;
    assert_eq!(s, 200);
    assert_eq!(row(&pubv, "district_code", "peshawar")["paid"], 1);
    let text = pubv.to_string();
    assert!(
        !text.contains("officer.psh") && !text.contains("PES-1"),
        "{text}"
    );
    let page = app
        .http
        .get(app.url("/transparency?lang=ur"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("dir=\"rtl\"") && page.contains("پشاور"),
        "{page}"
    );

    // The dashboard, behind the console login: charts as SVG, the district table, live.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http.get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/staff/login?next=%2Fdashboard");
    let session = console_session(&app, &http, "auditor.one").await;
    let r = http
        .get(app.url("/dashboard?lang=ur"))
        .header("cookie", format!("efine_staff={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("dir=\"rtl\"") && html.contains("<svg"),
        "{html}"
    );
    assert!(html.contains("data-code=\"peshawar\""), "{html}");
    // The live reload is a script file (no inline script under the CSP) that listens to the
    // statistics stream.
    let script = html
        .split("<script src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the dashboard loads its script")
        .to_string();
    assert!(script.starts_with("/assets/"), "{script}");
    let js = http.get(app.url(&script)).send().await.unwrap();
    assert_eq!(js.status(), 200);
    assert!(js.text().await.unwrap().contains("/api/v1/stats/stream"));
}

/// Signs in to the console as `username` and returns the session cookie's value.
async fn console_session(app: &TestApp, http: &reqwest::Client, username: &str) -> String {
    let cookie = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix(&format!("{name}=")))
            .map(|v| v.split(';').next().unwrap().to_string())
            .unwrap_or_else(|| panic!("no {name} cookie"))
    };
    let r = http.get(app.url("/staff/login")).send().await.unwrap();
    let csrf = cookie(&r, "efine_login");
    let r = http
        .post(app.url("/staff/login"))
        .header("cookie", format!("efine_login={csrf}"))
        .form(&[
            ("username", username),
            ("password", common::PASSWORD),
            ("csrf", csrf.as_str()),
            ("next", "/dashboard"),
            ("code", app.code_for(username).await.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/dashboard");
    cookie(&r, "efine_staff")
}

/// Issues `n` challans for `officer` straight through the store, at `hour` local time on the
/// `n` days before today, on the given plates.
async fn plant(app: &TestApp, officer: &Principal, n: usize, hour: u8, plates: &[String]) {
    let today = app.store.now().to_offset(KARACHI).date();
    let mut pending = Vec::new();
    for i in 0..n {
        let day = today - time::Duration::days(1 + (i % 28) as i64);
        let at = day
            .with_hms(hour, (i % 60) as u8, 0)
            .unwrap()
            .assume_offset(KARACHI);
        let new = NewChallan {
            department: DepartmentCode::parse("traffic-police").unwrap(),
            offence: OffenceCode::parse("no-helmet").unwrap(),
            district: officer.district.clone().unwrap(),
            vehicle: Some(VehicleNumber::parse(&plates[i % plates.len()]).unwrap()),
            vehicle_authority: None,
            cnic: None,
            mobile: None,
            name: None,
            location: Location::default(),
            notes: None,
        };
        let officer = officer.clone();
        pending.push(
            app.store
                .submit(move |tx| challans::issue(tx, &officer, &new, at)),
        );
    }
    for p in pending {
        p.await.unwrap();
    }
}

async fn anomalies_find_planted_officers(app: TestApp) {
    let now = app.store.now();
    let mut officers = Vec::new();
    for i in 0..9 {
        let new = users::NewUser {
            username: format!("officer.{i}"),
            password_hash: "x".into(),
            role: Role::Officer,
            department: Some(DepartmentCode::parse("traffic-police").unwrap()),
            district: Some(DistrictCode::parse("peshawar").unwrap()),
        };
        officers.push(
            app.store
                .write(move |tx| users::add(tx, &new, "test", now))
                .await
                .unwrap(),
        );
    }
    let auditor = app.user("auditor.one", Role::Auditor, None, None).await;
    // Seven ordinary officers: daytime, a different plate each time, one or two in the evening.
    for (i, o) in officers.iter().take(7).enumerate() {
        let plates: Vec<String> = (0..30)
            .map(|p| format!("PES-{}", 100 * (i + 1) + p))
            .collect();
        plant(&app, o, 28, 10 + (i % 5) as u8, &plates).await;
        plant(&app, o, 1 + i % 2, 22, &plates[..1]).await;
    }
    // Planted: one issues at night, one keeps fining the same two plates.
    let night: Vec<String> = (0..30).map(|p| format!("PES-{}", 900 + p)).collect();
    plant(&app, &officers[7], 12, 11, &night).await;
    plant(&app, &officers[7], 18, 23, &night[10..]).await;
    let same = vec!["PES-77".to_string(), "PES-78".to_string()];
    plant(&app, &officers[8], 30, 12, &same).await;

    let (s, flags) = app.get("/api/v1/stats/anomalies", Some(&auditor)).await;
    assert_eq!(s, 200, "{flags}");
    let flagged: Vec<(String, String)> = flags
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["subject"].as_str().unwrap().to_string(),
                f["metric"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let planted = [
        ("officer.7".to_string(), "off_hours".to_string()),
        ("officer.8".to_string(), "repeat_plate".to_string()),
    ];
    let hits = flagged.iter().filter(|f| planted.contains(f)).count();
    // Precision and recall both 1 on this data: every planted anomaly found, nothing else.
    assert_eq!(hits, planted.len(), "{flags}");
    assert_eq!(flagged.len(), planted.len(), "{flags}");
    let night = flags
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["metric"] == "off_hours")
        .unwrap();
    assert_eq!(
        (night["numerator"].as_i64(), night["denominator"].as_i64()),
        (Some(18), Some(30))
    );
    assert!(night["z"].as_f64().unwrap() > 3.5);
    assert!(night["median"].as_f64().unwrap() < 0.1);
    assert!(night["explanation"].as_str().unwrap().contains("18 of 30"));

    // The dashboard explains the flag in the reader's language, from the same figures.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let session = console_session(&app, &http, "auditor.one").await;
    let page = |lang: &'static str| {
        let (http, session, url) = (
            http.clone(),
            session.clone(),
            app.url(&format!("/dashboard?lang={lang}")),
        );
        async move {
            http.get(url)
                .header("cookie", format!("efine_staff={session}"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let en = page("en").await;
    assert!(
        en.contains(
            "officer.7: share of challans issued 22:00-06:00 60.0% (18 of 30) against a median of"
        ),
        "{en}"
    );
    let ur = page("ur").await;
    assert!(
        ur.contains(
            "officer.7: رات ۱۰ سے صبح ۶ بجے کے درمیان جاری چالانوں کا حصہ ۶۰٫۰٪ (۳۰ میں سے ۱۸)"
        ),
        "{ur}"
    );

    let r = app
        .http
        .get(app.url("/api/v1/stats/anomalies?format=csv"))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap();
    let csv = r.text().await.unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(
        csv.contains("off_hours,officer,officer.7,peshawar,18,30"),
        "{csv}"
    );

    // Four weeks of daily collections make a forecast with its backtest.
    let (s, f) = app.get("/api/v1/stats/forecast", Some(&auditor)).await;
    assert_eq!(s, 404, "no payments yet: {f}");
}

/// A text cell with a comma, a quote and a leading `=` comes out quoted (so the columns hold)
/// and prefixed with `'` (so a spreadsheet shows it instead of running it).
async fn csv_text_cells_are_quoted_and_guarded(app: TestApp) {
    use efine_store::testing::RawSql;
    let officer = app.officer().await;
    let auditor = app.user("audit.csv", Role::Auditor, None, None).await;
    let (s, c) = app
        .issue(
            &officer,
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-CSV1"}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let name = r#"=HYPERLINK("http://x.example"),Peshawar"#;
    app.store
        .write(move |tx| {
            tx.exec(
                "UPDATE districts SET name_en = $1 WHERE code = 'peshawar'",
                efine_store::params![name],
            )
        })
        .await
        .unwrap();
    let r = app
        .http
        .get(app.url("/api/v1/stats/summary?group_by=district&format=csv"))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("\r\npeshawar,\"'=HYPERLINK(\"\"http://x.example\"\"),Peshawar\",1,0,0,"),
        "{body}"
    );
    let mut rows = csv::Reader::from_reader(body.as_bytes());
    let peshawar = rows
        .records()
        .map(Result::unwrap)
        .find(|r| &r[0] == "peshawar")
        .unwrap_or_else(|| panic!("no peshawar row in {body}"));
    assert_eq!(peshawar.len(), 9);
    assert_eq!(&peshawar[1], format!("'{name}"));
}
