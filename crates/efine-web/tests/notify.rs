//! Notifications through the real server: issuing (to the registered owner when the challan has
//! no phone), the reminder three days before the surcharge, payment with its receipt number,
//! delivery by HTTP with retries, and two nodes on one database sending each message once.

mod common;

use common::TestApp;
use efine_core::auth::Role;
use efine_core::clock::KARACHI;
use efine_core::notify::DEFAULT_TEXTS;
use efine_service::notify::provider::{HttpProvider, SandboxProvider};
use efine_service::notify::registry::{HttpRegistry, SandboxRegistry};
use efine_service::notify::{parse_texts, Notifier, NotifyConfig};
use efine_store::ops::notify as outbox;
use efine_store::Store;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use time::macros::time;

both_backends!(walkthrough);

fn sandbox_notifier(store: &Store, node: &str, batch: i64) -> (Notifier, SandboxProvider) {
    let p = SandboxProvider::default();
    let n = Notifier::new(
        store.clone(),
        parse_texts(DEFAULT_TEXTS).unwrap(),
        Arc::new(SandboxRegistry::shipped()),
        Arc::new(p.clone()),
        node.into(),
        NotifyConfig {
            batch,
            ..Default::default()
        },
    );
    (n, p)
}

async fn outbox_of(app: &TestApp, challan: &str) -> Vec<outbox::Message> {
    let f = outbox::Filter {
        challan: Some(challan.into()),
        limit: 100,
        ..Default::default()
    };
    app.store
        .read(move |tx| outbox::list(tx, &f))
        .await
        .unwrap()
}

/// 10:00 in Peshawar on `date`.
fn morning(app: &TestApp, date: time::Date) {
    app.clock
        .set(date.with_time(time!(10:00)).assume_offset(KARACHI));
}

async fn walkthrough(app: TestApp) {
    let officer = app.officer().await;
    let (n, sent) = sandbox_notifier(&app.store, "node-a", 200);
    let issue = |body: Value| {
        let app = &app;
        let officer = officer.clone();
        async move {
            let (s, c) = app.issue(&officer, body).await;
            assert_eq!(s, 201, "{c}");
            c
        }
    };
    let with_phone = issue(
        json!({"offence_code": "no-helmet", "vehicle_number": "PES-1234",
                                  "mobile": "0300-1234567"}),
    )
    .await;
    // A camera: the plate alone. The registry knows its owner (with an e-mail address).
    let plate_only =
        issue(json!({"offence_code": "no-helmet", "vehicle_number": "LEA 1234"})).await;
    // One that stays unpaid until the escalation job reaches it.
    let overdue = issue(
        json!({"offence_code": "no-helmet", "vehicle_number": "PES-5678",
                               "mobile": "03457654321"}),
    )
    .await;
    // A plate the registry does not know: nobody to tell.
    let unknown = issue(json!({"offence_code": "no-helmet", "vehicle_number": "XYZ-9"})).await;
    let a = with_phone["challan_number"].as_str().unwrap().to_string();
    let b = plate_only["challan_number"].as_str().unwrap().to_string();
    let c = unknown["challan_number"].as_str().unwrap().to_string();
    let d = overdue["challan_number"].as_str().unwrap().to_string();

    let r = n.run_once().await.unwrap();
    assert_eq!((r.queued, r.sent, r.reminders), (4, 4, 0), "{r:?}");
    let s = sent.sent();
    assert_eq!(s.len(), 4);
    let to_a = s
        .iter()
        .find(|m| m.reference == format!("{a}:issued:sms"))
        .unwrap();
    assert_eq!(to_a.to, "+923001234567");
    assert!(
        to_a.text.starts_with(&format!(
            "E-Fine: challan {a} (Riding a motorcycle without a helmet) Rs 500. Pay by 8 Dec 2026 with PSID {}; from the next day Rs 1,000.",
            with_phone["psid"].as_str().unwrap()
        )),
        "{}",
        to_a.text
    );
    assert!(
        to_a.text.contains("ہیلمٹ کے بغیر"),
        "Urdu follows: {}",
        to_a.text
    );
    let to_b = s
        .iter()
        .find(|m| m.reference == format!("{b}:issued:sms"))
        .unwrap();
    assert_eq!(to_b.to, "+923214567890", "the registered owner's phone");
    let mail_b = s
        .iter()
        .find(|m| m.reference == format!("{b}:issued:email"))
        .unwrap();
    assert_eq!(mail_b.to, "ayesha.siddiqui@example.pk");
    assert!(outbox_of(&app, &c).await.is_empty());
    let listed = outbox_of(&app, &a).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status, "sent");
    assert!(listed[0]
        .provider_ref
        .as_deref()
        .unwrap()
        .starts_with("sandbox-"));

    // Nothing new: no duplicate, however often it runs.
    assert_eq!(n.run_once().await.unwrap(), Default::default());

    // Due 8 December, doubled from the 9th: the reminder is due from the 6th, not before.
    assert_eq!(with_phone["due_date"], "2026-12-08");
    morning(&app, time::macros::date!(2026 - 12 - 05));
    assert_eq!(n.run_once().await.unwrap().reminders, 0);
    morning(&app, time::macros::date!(2026 - 12 - 06));
    let r = n.run_once().await.unwrap();
    assert_eq!((r.reminders, r.sent), (4, 4), "{r:?}");
    let reminder = sent
        .sent()
        .into_iter()
        .find(|m| m.reference == format!("{a}:reminder:sms"))
        .unwrap();
    assert!(
        reminder.text.starts_with(&format!(
            "E-Fine reminder: challan {a} Rs 500 is due by 8 Dec 2026. From the next day Rs 1,000."
        )),
        "{}",
        reminder.text
    );
    assert_eq!(n.run_once().await.unwrap().reminders, 0, "once");

    // Paid at the counter: the message carries the receipt number.
    let cashier = app.user("cashier.n", Role::Finance, None, None).await;
    let r = app
        .http
        .post(app.url(&format!("/api/v1/challans/{a}/cash-payments")))
        .bearer_auth(&cashier)
        .json(&json!({"amount": 50_000}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let receipt: Value = r.json().await.unwrap();
    let receipt_no = receipt["receipt_number"].as_str().unwrap();
    let r = n.run_once().await.unwrap();
    assert_eq!((r.queued, r.sent), (1, 1), "{r:?}");
    let paid = sent.sent().pop().unwrap();
    assert_eq!(paid.reference, format!("{a}:paid:sms"));
    assert!(
        paid.text.starts_with(&format!(
            "E-Fine: Rs 500 received for challan {a}. Receipt {receipt_no}."
        )),
        "{}",
        paid.text
    );
    assert!(paid.text.contains(&format!("رسید نمبر {receipt_no}")));
    let kinds: Vec<String> = outbox_of(&app, &a)
        .await
        .into_iter()
        .map(|m| m.reason)
        .collect();
    assert_eq!(kinds, ["paid", "reminder", "issued"]);

    // The owner of the camera-caught plate appeals, with the code the worker sent to the
    // owner's mobile; a supervisor reduces the amount to Rs 300.
    let (s, v) = app
        .post(
            &format!("/api/v1/public/challans/{b}/appeals/code"),
            json!({}),
        )
        .await;
    assert_eq!(s, 202, "{v}");
    let r = n.run_once().await.unwrap();
    assert_eq!(
        (r.queued, r.sent),
        (0, 1),
        "the code goes by SMS only: {r:?}"
    );
    let code = common::code_in(&sent.sent(), &b).expect("the code SMS");
    let (s, l) = app
        .post(
            &format!("/api/v1/public/challans/{b}/appeals"),
            json!({"reason": "the plate was misread", "code": code}),
        )
        .await;
    assert_eq!(s, 201, "{l}");
    let appeal = l["appeal_id"].as_i64().unwrap();
    let sup = app
        .user("sup.n", Role::Supervisor, Some("traffic-police"), None)
        .await;
    let r = app
        .http
        .post(app.url(&format!("/api/v1/appeals/{appeal}/decision")))
        .bearer_auth(&sup)
        .json(&json!({"outcome": "reduce", "amount": 30_000}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = n.run_once().await.unwrap();
    assert_eq!((r.queued, r.sent), (2, 2), "SMS and e-mail: {r:?}");
    let decided = sent
        .sent()
        .into_iter()
        .find(|m| m.reference == format!("{b}:appeal_decided:{appeal}:sms"))
        .unwrap();
    assert!(
        decided.text.contains(&format!(
            "your appeal against challan {b} was decided: amount reduced. Amount now due Rs 300."
        )),
        "{}",
        decided.text
    );

    // 8 January: D is 31 days overdue. The escalation job records the surcharge and the impound
    // stage; each gives one message, once.
    morning(&app, time::macros::date!(2027 - 01 - 08));
    efine_service::escalation::run_once(&app.store)
        .await
        .unwrap();
    n.run_once().await.unwrap();
    efine_service::escalation::run_once(&app.store)
        .await
        .unwrap();
    n.run_once().await.unwrap();
    let to_d: Vec<_> = sent
        .sent()
        .into_iter()
        .filter(|m| m.reference.starts_with(&format!("{d}:")))
        .map(|m| (m.reference, m.text))
        .collect();
    let refs: Vec<&str> = to_d.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(
        refs,
        [
            format!("{d}:issued:sms"),
            format!("{d}:reminder:sms"),
            format!("{d}:surcharged:sms"),
            format!("{d}:escalated:impound_eligible:sms"),
        ]
    );
    assert!(
        to_d[2].1.starts_with(&format!(
            "E-Fine: challan {d} was not paid by its due date; Rs 1,000 is now due."
        )),
        "{}",
        to_d[2].1
    );
    assert!(
        to_d[3].1.contains("has reached the impound stage") && to_d[3].1.contains("گاڑی ضبطی"),
        "{}",
        to_d[3].1
    );
}

/// What the gateway was sent: the Authorization header and the JSON body.
type Seen = Arc<Mutex<Vec<(Option<String>, Value)>>>;

/// An SMS gateway on port 0 that refuses the first message (503) and accepts the rest.
struct Gateway {
    url: String,
    hits: Arc<AtomicUsize>,
    seen: Seen,
}

async fn gateway() -> Gateway {
    use axum::http::HeaderMap;
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (h, s) = (hits.clone(), seen.clone());
    let app = axum::Router::new().route(
        "/send",
        axum::routing::post(move |headers: HeaderMap, body: axum::Json<Value>| {
            let (h, s) = (h.clone(), s.clone());
            async move {
                let n = h.fetch_add(1, Ordering::SeqCst) + 1;
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                s.lock().unwrap().push((auth, body.0));
                if n == 1 {
                    (
                        axum::http::StatusCode::SERVICE_UNAVAILABLE,
                        axum::Json(json!({})),
                    )
                } else {
                    (
                        axum::http::StatusCode::OK,
                        axum::Json(json!({"id": format!("gw-{n}")})),
                    )
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Gateway {
        url: format!("http://{addr}/send"),
        hits,
        seen,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_provider_retries_with_backoff_and_sends_once() {
    let app = TestApp::sqlite().await;
    let gw = gateway().await;
    let officer = app.officer().await;
    let n = Notifier::new(
        app.store.clone(),
        parse_texts(DEFAULT_TEXTS).unwrap(),
        // The registry over HTTP: this server's own registry sandbox.
        Arc::new(HttpRegistry::new(&app.url("/sandbox/registry/owner"), Some("t".into())).unwrap()),
        Arc::new(
            HttpProvider::new(
                &gw.url,
                Some("efine".into()),
                Some("s3cret".into()),
                "EFINE-KP",
            )
            .unwrap(),
        ),
        "node-h".into(),
        NotifyConfig::default(),
    );
    let (s, c) = app
        .issue(
            &officer,
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-4321"}),
        )
        .await;
    assert_eq!(s, 201);
    let number = c["challan_number"].as_str().unwrap().to_string();
    let owner = SandboxRegistry::shipped()
        .lookup(&efine_core::VehicleNumber::parse("PES-4321").unwrap())
        .unwrap();

    let r = n.run_once().await.unwrap();
    assert_eq!((r.queued, r.sent, r.retrying), (1, 0, 1), "{r:?}");
    let m = outbox_of(&app, &number).await.remove(0);
    assert_eq!((m.status.as_str(), m.attempts), ("pending", 1));
    assert_eq!(
        m.next_attempt_at,
        app.store.now() + time::Duration::seconds(30)
    );
    // Not before the back-off has passed.
    n.run_once().await.unwrap();
    assert_eq!(gw.hits.load(Ordering::SeqCst), 1);
    app.clock.advance(time::Duration::seconds(31));
    let r = n.run_once().await.unwrap();
    assert_eq!(r.sent, 1, "{r:?}");
    n.run_once().await.unwrap();
    assert_eq!(gw.hits.load(Ordering::SeqCst), 2, "delivered once");

    let m = outbox_of(&app, &number).await.remove(0);
    assert_eq!(m.status, "sent");
    assert_eq!(m.provider_ref.as_deref(), Some("gw-2"));
    assert_eq!(m.recipient, owner.mobile.unwrap().e164());
    let id = m.id;
    let tries = app
        .store
        .read(move |tx| outbox::attempts(tx, id))
        .await
        .unwrap();
    let outcomes: Vec<_> = tries
        .iter()
        .map(|t| (t.outcome.as_str(), t.detail.as_str()))
        .collect();
    assert_eq!(outcomes, [("retry", "HTTP 503"), ("sent", "gw-2")]);
    let seen = gw.seen.lock().unwrap().clone();
    // "efine:s3cret", HTTP basic.
    assert_eq!(seen[1].0.as_deref(), Some("Basic ZWZpbmU6czNjcmV0"));
    assert_eq!(seen[1].1["reference"], format!("{number}:issued:sms"));
    assert_eq!(seen[1].1["sender"], "EFINE-KP");
    assert_eq!(seen[1].1["to"], m.recipient);
}

/// Two nodes on one PostgreSQL database, each deriving, reminding and delivering at once: every
/// message is queued once and sent once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_send_each_message_once() {
    let app = TestApp::postgres().await;
    let other = Store::open(app.location.clone())
        .await
        .unwrap()
        .with_clock(app.clock.clone());
    let officer = app.officer().await;
    let mut numbers = Vec::new();
    for i in 0..24 {
        let (s, c) = app
            .issue(
                &officer,
                json!({"offence_code": "no-helmet", "vehicle_number": format!("PES-{}", 100 + i),
                       "mobile": format!("0300{:07}", i)}),
            )
            .await;
        assert_eq!(s, 201);
        numbers.push(c["challan_number"].as_str().unwrap().to_string());
    }
    let (n1, p1) = sandbox_notifier(&app.store, "node-1", 5);
    let (n2, p2) = sandbox_notifier(&other, "node-2", 5);
    let rounds = |n: Notifier| async move {
        for _ in 0..3 {
            n.run_once().await.unwrap();
        }
        n
    };
    let (n1, n2) = tokio::join!(rounds(n1), rounds(n2));
    morning(&app, time::macros::date!(2026 - 12 - 07));
    let (_, _) = tokio::join!(rounds(n1), rounds(n2));

    let mut refs: Vec<String> = p1
        .sent()
        .into_iter()
        .chain(p2.sent())
        .map(|m| m.reference)
        .collect();
    let total = refs.len();
    refs.sort();
    refs.dedup();
    assert_eq!(refs.len(), total, "no message sent twice");
    assert_eq!(total, 48, "24 issued and 24 reminders");
    assert!(
        !p1.sent().is_empty() && !p2.sent().is_empty(),
        "both nodes worked"
    );
    let f = outbox::Filter {
        limit: 1000,
        ..Default::default()
    };
    let all = app
        .store
        .read(move |tx| outbox::list(tx, &f))
        .await
        .unwrap();
    assert_eq!(all.len(), 48);
    assert!(all.iter().all(|m| m.status == "sent" && m.attempts == 1));
    for n in &numbers {
        assert!(refs.contains(&format!("{n}:reminder:sms")));
    }
}
