//! Issue 13 (ASVS 5.0 L2), through the real server on both backends:
//! - free text: NUL, a control character and (in names) a bidirectional override are refused
//!   at every entry point with a 422 naming the field, and nothing is written;
//! - anti-automation: lookups, public views and checkouts limited per client address, the
//!   address taken from `X-Forwarded-For` only when the peer is a trusted proxy, and open
//!   payment attempts bounded per challan;
//! - evidence checked by content and served with `nosniff` and a safe disposition;
//! - security headers on every response; `__Host-` cookies and HSTS with an https public URL.

mod common;

use common::{TestApp, PASSWORD};
use efine_core::auth::Role;
use efine_store::Location;
use serde_json::{json, Value};

/// Writes each case once and runs it on SQLite and PostgreSQL with its own settings.
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Postgres).await;
                }
            )*
        }
    };
}

both!(
    control_characters_are_refused_at_every_entry_point,
    lookups_are_limited_per_client_behind_trusted_proxies,
    public_views_and_checkouts_are_limited,
    one_challan_does_not_get_a_hundred_attempts,
    evidence_is_checked_and_served_by_content,
    every_response_carries_the_security_headers,
    https_sites_get_host_cookies_and_hsts,
);

#[derive(Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
}

async fn start(backend: Backend, config: efine_web::WebConfig) -> TestApp {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let loc = Location::Sqlite(dir.path().join("efine.db"));
            TestApp::start(loc, Some(dir), config).await
        }
        Backend::Postgres => {
            let loc = Location::Postgres {
                url: common::pg_url(),
                schema: Some(format!("sec_{}", common::random_suffix())),
            };
            TestApp::start(loc, None, config).await
        }
    }
}

async fn event_count(app: &TestApp) -> i64 {
    app.store
        .read(|tx| efine_store::ops::events::head(tx))
        .await
        .expect("chain head")
        .0
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// How a case sends its bad value.
#[derive(Clone, Copy)]
enum Via {
    /// JSON body, the value at `field` (dotted path), over this base body.
    Json,
    /// URL-encoded form body.
    Form,
    /// In the path (percent-encoded).
    Path,
    /// In the query string.
    Query,
    /// A text/csv body.
    Csv,
}

struct Case {
    name: &'static str,
    method: &'static str,
    /// `{v}` is replaced by the (encoded) bad value.
    path: String,
    via: Via,
    /// The base body (JSON) or form pairs; `{v}` marks where the bad value goes.
    body: Value,
    field: &'static str,
    bearer: Option<String>,
    /// A name field: a bidirectional override must be refused too.
    is_name: bool,
}

fn put_value(body: &Value, bad: &str) -> Value {
    match body {
        Value::String(s) if s == "{v}" => Value::String(bad.to_string()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), put_value(v, bad)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| put_value(v, bad)).collect()),
        other => other.clone(),
    }
}

fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn control_characters_are_refused_at_every_entry_point(backend: Backend) {
    let app = start(backend, efine_web::WebConfig::default()).await;
    let officer = app.officer().await;
    let finance = app.user("fin.a", Role::Finance, None, None).await;
    let (s, issued) = app
        .issue(
            &officer,
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-1"}),
        )
        .await;
    assert_eq!(s, 201, "{issued}");
    let number = issued["challan_number"].as_str().unwrap().to_string();
    let psid = issued["psid"].as_str().unwrap().to_string();
    let png = base64_png();

    let json_case = |name, method, path: String, body: Value, field, bearer: Option<String>| Case {
        name,
        method,
        path,
        via: Via::Json,
        body,
        field,
        bearer,
        is_name: false,
    };
    let cases = vec![
        Case {
            is_name: true,
            ..json_case(
                "token username",
                "POST",
                "/api/v1/auth/token".into(),
                json!({"username": "{v}", "password": "x"}),
                "username",
                None,
            )
        },
        json_case(
            "token password",
            "POST",
            "/api/v1/auth/token".into(),
            json!({"username": "officer.psh", "password": "{v}"}),
            "password",
            None,
        ),
        Case {
            is_name: true,
            ..json_case(
                "challan name",
                "POST",
                "/api/v1/challans".into(),
                json!({"offence_code": "no-helmet", "vehicle_number": "PES-2", "name": "{v}"}),
                "name",
                Some(officer.clone()),
            )
        },
        json_case(
            "challan notes",
            "POST",
            "/api/v1/challans".into(),
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-2", "notes": "{v}"}),
            "notes",
            Some(officer.clone()),
        ),
        json_case(
            "challan location",
            "POST",
            "/api/v1/challans".into(),
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-2", "location": {"text": "{v}"}}),
            "location.text",
            Some(officer.clone()),
        ),
        json_case(
            "challan vehicle",
            "POST",
            "/api/v1/challans".into(),
            json!({"offence_code": "no-helmet", "vehicle_number": "{v}"}),
            "vehicle_number",
            Some(officer.clone()),
        ),
        json_case(
            "cancellation reason",
            "POST",
            format!("/api/v1/challans/{number}/cancellation"),
            json!({"reason": "{v}"}),
            "reason",
            Some(officer.clone()),
        ),
        json_case(
            "refund reason",
            "POST",
            "/api/v1/refunds".into(),
            json!({"liability_id": 1, "reason": "{v}"}),
            "reason",
            Some(finance.clone()),
        ),
        json_case(
            "lookup vehicle",
            "POST",
            "/api/v1/public/lookup".into(),
            json!({"vehicle": "{v}"}),
            "vehicle",
            None,
        ),
        json_case(
            "lookup cnic",
            "POST",
            "/api/v1/public/lookup".into(),
            json!({"cnic": "{v}"}),
            "cnic",
            None,
        ),
        json_case(
            "appeal reason",
            "POST",
            format!("/api/v1/public/challans/{number}/appeals"),
            json!({"reason": "{v}"}),
            "reason",
            None,
        ),
        Case {
            is_name: true,
            ..json_case(
                "evidence file name",
                "POST",
                format!("/api/v1/public/challans/{number}/appeals"),
                json!({"reason": "not me", "evidence": {"file_name": "{v}", "content_type": "image/png", "data_base64": png}}),
                "evidence.file_name",
                None,
            )
        },
        json_case(
            "checkout method",
            "POST",
            format!("/api/v1/public/challans/{number}/checkout"),
            json!({"method": "{v}"}),
            "method",
            None,
        ),
        json_case(
            "1bill inquiry",
            "POST",
            "/api/v1/1bill/bill-inquiry".into(),
            json!({"userName": "{v}", "password": "x", "consumerNumber": psid, "bankMnemonic": "HBL"}),
            "userName",
            None,
        ),
        json_case(
            "easypaisa sandbox inquiry",
            "POST",
            "/sandbox/easypaisa/easypay-service/rest/v4/inquire-transaction".into(),
            json!({"orderId": "{v}"}),
            "orderId",
            None,
        ),
        Case {
            is_name: false,
            via: Via::Path,
            ..json_case(
                "public challan path",
                "GET",
                "/api/v1/public/challans/{v}".into(),
                Value::Null,
                "path",
                None,
            )
        },
        Case {
            is_name: false,
            via: Via::Path,
            ..json_case(
                "verify token path",
                "GET",
                "/api/v1/public/verify/{v}".into(),
                Value::Null,
                "path",
                None,
            )
        },
        Case {
            via: Via::Query,
            ..json_case(
                "stats query",
                "GET",
                "/api/v1/stats/summary?group_by={v}".into(),
                Value::Null,
                "group_by",
                Some(officer.clone()),
            )
        },
        Case {
            via: Via::Query,
            ..json_case(
                "public challan query",
                "GET",
                format!("/api/v1/public/challans/{number}?on={{v}}"),
                Value::Null,
                "on",
                None,
            )
        },
        Case {
            via: Via::Form,
            ..json_case(
                "jazzcash return",
                "POST",
                "/payments/jazzcash/return".into(),
                json!({"pp_TxnRefNo": "{v}", "pp_ResponseCode": "000"}),
                "pp_TxnRefNo",
                None,
            )
        },
        Case {
            via: Via::Form,
            ..json_case(
                "portal search",
                "POST",
                "/search".into(),
                json!({"q": "{v}"}),
                "q",
                None,
            )
        },
        Case {
            via: Via::Form,
            ..json_case(
                "staff login",
                "POST",
                "/staff/login".into(),
                json!({"username": "{v}", "password": PASSWORD, "csrf": "x"}),
                "username",
                None,
            )
        },
        Case {
            via: Via::Csv,
            ..json_case(
                "settlement file",
                "POST",
                "/api/v1/recon/jazzcash".into(),
                Value::Null,
                "body",
                Some(finance.clone()),
            )
        },
        Case {
            is_name: true,
            via: Via::Query,
            ..json_case(
                "settlement file name",
                "POST",
                "/api/v1/recon/jazzcash?name={v}".into(),
                Value::Null,
                "name",
                Some(finance.clone()),
            )
        },
    ];
    let http = client();
    let mut refused = 0;
    for case in &cases {
        let mut bad = vec![("NUL", "a\u{0}b"), ("control", "a\u{7}b")];
        if case.is_name {
            bad.push(("bidi override", "gpj\u{202E}exe.png"));
        }
        for (what, v) in bad {
            let before = event_count(&app).await;
            let path = match case.via {
                Via::Path | Via::Query => case.path.replace("{v}", &pct(v)),
                _ => case.path.clone(),
            };
            let mut rq = match case.method {
                "GET" => http.get(app.url(&path)),
                _ => http.post(app.url(&path)),
            };
            if let Some(t) = &case.bearer {
                rq = rq.bearer_auth(t);
            }
            rq = match case.via {
                Via::Json => rq.json(&put_value(&case.body, v)),
                Via::Form => {
                    let pairs: Vec<(String, String)> = put_value(&case.body, v)
                        .as_object()
                        .unwrap()
                        .iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                        .collect();
                    rq.form(&pairs)
                }
                Via::Csv => rq
                    .header("content-type", "text/csv")
                    .body(format!("txn,amount\n{v},100\n")),
                Via::Query if case.method == "POST" => {
                    rq.header("content-type", "text/csv").body("")
                }
                _ => rq,
            };
            let r = rq.send().await.unwrap();
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            assert_eq!(status, 422, "{} with {what}: {body}", case.name);
            assert_eq!(
                body["error"]["field"], case.field,
                "{} with {what}: {body}",
                case.name
            );
            assert_eq!(
                event_count(&app).await,
                before,
                "{} with {what} wrote an event",
                case.name
            );
            refused += 1;
        }
    }
    assert!(refused >= 50, "{refused} refusals");

    // On a page, the refusal is a page in the reader's language that names the field.
    let r = http
        .post(app.url("/search?lang=ur"))
        .header("accept", "text/html")
        .form(&[("q", "PES\u{0}1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("خانہ “q” میں ایک NUL حرف ہے"), "{page}");

    // Text that is merely unusual is still accepted: Urdu, line breaks in a reason.
    let (s, c) = app
        .issue(
            &officer,
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-3",
                   "name": "محمد علی", "notes": "first line\nsecond line"}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
}

fn base64_png() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(png_bytes())
}

fn png_bytes() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.extend_from_slice(&[0, 0, 0, 13]);
    b.extend_from_slice(b"IHDR");
    b.extend_from_slice(&[0; 17]);
    b
}

async fn lookup_from(app: &TestApp, forwarded_for: Option<&str>) -> reqwest::Response {
    let mut rq = app
        .http
        .post(app.url("/api/v1/public/lookup"))
        .json(&json!({"vehicle": "PES-1"}));
    if let Some(f) = forwarded_for {
        rq = rq.header("x-forwarded-for", f);
    }
    rq.send().await.unwrap()
}

async fn lookups_are_limited_per_client_behind_trusted_proxies(backend: Backend) {
    // No trusted proxy: the test client (127.0.0.1) is the client, whatever it claims.
    let app = start(
        backend,
        efine_web::WebConfig {
            lookups_per_minute: 2,
            ..Default::default()
        },
    )
    .await;
    for spoofed in ["198.51.100.1", "198.51.100.2"] {
        assert_eq!(lookup_from(&app, Some(spoofed)).await.status(), 200);
    }
    let r = lookup_from(&app, Some("198.51.100.3")).await;
    assert_eq!(
        r.status(),
        429,
        "a spoofed X-Forwarded-For got a new budget"
    );
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "rate_limited");
    drop(app);

    // Behind a trusted proxy (127.0.0.1), each citizen has a budget of their own, taken from
    // the rightmost hop that is not a trusted proxy.
    let app = start(
        backend,
        efine_web::WebConfig {
            lookups_per_minute: 2,
            trusted_proxies: vec![efine_web::ratelimit::IpNet::parse("127.0.0.0/8").unwrap()],
            ..Default::default()
        },
    )
    .await;
    for _ in 0..2 {
        // What the client wrote on the left does not matter.
        let r = lookup_from(&app, Some("6.6.6.6, 198.51.100.1")).await;
        assert_eq!(r.status(), 200);
    }
    assert_eq!(
        lookup_from(&app, Some("7.7.7.7, 198.51.100.1"))
            .await
            .status(),
        429
    );
    assert_eq!(lookup_from(&app, Some("198.51.100.2")).await.status(), 200);
    assert_eq!(
        lookup_from(&app, Some("198.51.100.2, 127.0.0.5"))
            .await
            .status(),
        200,
        "a second trusted proxy hop is skipped"
    );
    assert_eq!(lookup_from(&app, Some("198.51.100.2")).await.status(), 429);
}

async fn public_views_and_checkouts_are_limited(backend: Backend) {
    let app = start(
        backend,
        efine_web::WebConfig {
            views_per_minute: 3,
            checkouts_per_minute: 2,
            ..Default::default()
        },
    )
    .await;
    let officer = app.officer().await;
    let (_, c) = app
        .issue(
            &officer,
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-1"}),
        )
        .await;
    let number = c["challan_number"].as_str().unwrap().to_string();
    for _ in 0..3 {
        let (s, _) = app
            .get(&format!("/api/v1/public/challans/{number}"), None)
            .await;
        assert_eq!(s, 200);
    }
    let r = app
        .http
        .get(app.url(&format!("/api/v1/public/challans/{number}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    // The portal's page shares the budget and answers in the reader's language.
    let r = app
        .http
        .get(app.url(&format!("/c/{number}?lang=ur")))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let page = r.text().await.unwrap();
    assert!(page.contains("بہت زیادہ درخواستیں"), "{page}");

    let checkout = || {
        app.http
            .post(app.url(&format!("/api/v1/public/challans/{number}/checkout")))
            .json(&json!({"method": "jazzcash"}))
            .send()
    };
    assert_eq!(checkout().await.unwrap().status(), 201);
    assert_eq!(checkout().await.unwrap().status(), 201);
    let r = checkout().await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
}

async fn attempts_of(app: &TestApp, number: &str) -> i64 {
    let n = efine_core::ChallanNumber::parse(number).unwrap();
    let since = app.store.now() - time::Duration::days(1);
    app.store
        .read(move |tx| efine_store::ops::payments::open_attempts_since(tx, &n, since))
        .await
        .unwrap()
}

const METHODS: [&str; 3] = ["jazzcash", "easypaisa", "card"];

async fn one_challan_does_not_get_a_hundred_attempts(backend: Backend) {
    // Many addresses (through a trusted proxy), one challan: the per-address budget does not
    // stop it, the per-challan bound does.
    let app = start(
        backend,
        efine_web::WebConfig {
            trusted_proxies: vec![efine_web::ratelimit::IpNet::parse("127.0.0.1").unwrap()],
            ..Default::default()
        },
    )
    .await;
    let officer = app.officer().await;
    let (_, c) = app
        .issue(
            &officer,
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-1"}),
        )
        .await;
    let number = c["challan_number"].as_str().unwrap().to_string();
    let mut created = 0;
    let mut refused = 0;
    for i in 0..100 {
        let r = app
            .http
            .post(app.url(&format!("/api/v1/public/challans/{number}/checkout")))
            .header("x-forwarded-for", format!("198.51.100.{}", i + 1))
            .json(&json!({"method": METHODS[i % 3]}))
            .send()
            .await
            .unwrap();
        match r.status().as_u16() {
            201 => created += 1,
            429 => {
                assert!(r.headers().contains_key("retry-after"));
                let e: Value = r.json().await.unwrap();
                assert_eq!(e["error"]["code"], "too_many");
                refused += 1;
            }
            s => panic!("checkout {i}: {s}"),
        }
    }
    let limit = efine_web::WebConfig::default().open_attempts_per_challan as i64;
    assert_eq!(created, limit);
    assert_eq!(refused, 100 - limit);
    assert_eq!(attempts_of(&app, &number).await, limit);
    // An hour later the old attempts no longer count.
    app.clock.advance(time::Duration::minutes(61));
    let r = app
        .http
        .post(app.url(&format!("/api/v1/public/challans/{number}/checkout")))
        .json(&json!({"method": "card"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

async fn evidence_is_checked_and_served_by_content(backend: Backend) {
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let app = start(backend, efine_web::WebConfig::default()).await;
    let officer = app.officer().await;
    let supervisor = app
        .user(
            "sup.psh",
            Role::Supervisor,
            Some("traffic-police"),
            Some("peshawar"),
        )
        .await;
    let (_, c) = app
        .issue(
            &officer,
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-1",
                   "mobile": "0300-1234567"}),
        )
        .await;
    let number = c["challan_number"].as_str().unwrap().to_string();
    let path = format!("/api/v1/public/challans/{number}/appeals");

    // HTML that says it is a PNG: refused, nothing written.
    let before = event_count(&app).await;
    let html = b"<html><script>alert(document.cookie)</script></html>";
    let (s, e) = app
        .post(
            &path,
            json!({"reason": "not me", "evidence": {"file_name": "photo.png",
                   "content_type": "image/png", "data_base64": b64(html)}}),
        )
        .await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(e["error"]["field"], "evidence.data_base64");
    assert_eq!(event_count(&app).await, before);

    // A PNG declared as a PDF: accepted (with the code sent to the challan's mobile), stored
    // and served as what it is.
    let body = app
        .with_code(
            &number,
            json!({"reason": "not me", "evidence": {"file_name": "scan.pdf",
                   "content_type": "application/pdf", "data_base64": b64(&png_bytes())}}),
        )
        .await;
    let (s, e) = app.post(&path, body).await;
    assert_eq!(s, 201, "{e}");
    let id = e["appeal_id"].as_i64().unwrap();
    let r = app
        .http
        .get(app.url(&format!("/api/v1/appeals/{id}/evidence")))
        .bearer_auth(&supervisor)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers();
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(
        h["content-disposition"],
        format!("attachment; filename=\"appeal-{id}-evidence.png\"").as_str()
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), png_bytes().as_slice());
}

const HEADERS: [(&str, &str); 4] = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("content-security-policy", efine_web::headers::CSP),
];

async fn every_response_carries_the_security_headers(backend: Backend) {
    let app = start(backend, efine_web::WebConfig::default()).await;
    let officer = app.officer().await;
    let (_, c) = app
        .issue(
            &officer,
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-1"}),
        )
        .await;
    let number = c["challan_number"].as_str().unwrap().to_string();
    let token = c["qr_token"].as_str().unwrap().to_string();
    let pages = [
        "/".to_string(),
        "/?lang=ur".into(),
        format!("/c/{number}"),
        format!("/c/{number}/pay"),
        format!("/c/{number}/appeal"),
        format!("/v/{token}"),
        "/dashboard".into(),
        "/transparency".into(),
        "/staff/login".into(),
        "/no-such-page".into(),
    ];
    let api = [
        "/healthz".to_string(),
        "/api/v1/openapi.json".into(),
        "/api/v1/catalogue/departments".into(),
        format!("/api/v1/public/challans/{number}"),
        format!("/api/v1/public/verify/{token}"),
        "/api/v1/public/transparency".into(),
        "/.well-known/efine-keys.json".into(),
        "/api/v1/challans/NOPE".into(),
        efine_web::pages::assets::site_css().into(),
    ];
    let http = client();
    for path in pages.iter().chain(api.iter()) {
        let r = http.get(app.url(path)).send().await.unwrap();
        assert!(r.status().as_u16() < 500, "{path}: {}", r.status().as_u16());
        for (name, value) in HEADERS {
            assert_eq!(
                r.headers().get(name).map(|v| v.to_str().unwrap()),
                Some(value),
                "{name} on {path}"
            );
        }
        assert!(
            !r.headers().contains_key("strict-transport-security"),
            "HSTS over http on {path}"
        );
        let is_page = pages.contains(path);
        let text = r.text().await.unwrap();
        if is_page {
            // The policy forbids inline styles and scripts: the pages must not need them.
            assert!(!text.contains("<style"), "inline <style> on {path}");
            assert!(!text.contains(" style=\""), "style attribute on {path}");
            assert!(!text.contains("<script>"), "inline script on {path}");
        }
    }
    // A POST refused before any handler, and an error, carry them too.
    let (s, _) = app
        .post("/api/v1/public/lookup", json!({"vehicle": "a\u{0}"}))
        .await;
    assert_eq!(s, 422);
    let r = http
        .post(app.url("/api/v1/public/lookup"))
        .json(&json!({"vehicle": "a\u{0}"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    // The stylesheet is cached for a year under its content hash.
    let r = http
        .get(app.url(efine_web::pages::assets::site_css()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    assert_eq!(r.headers()["content-type"], "text/css; charset=utf-8");
}

fn set_cookie(r: &reqwest::Response, name: &str) -> Option<(String, String)> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|line| {
            line.strip_prefix(&format!("{name}=")).map(|rest| {
                (
                    rest.split(';').next().unwrap().to_string(),
                    line.to_string(),
                )
            })
        })
}

async fn https_sites_get_host_cookies_and_hsts(backend: Backend) {
    let app = start(
        backend,
        efine_web::WebConfig {
            public_url: "https://efine.example.pk".into(),
            ..Default::default()
        },
    )
    .await;
    app.user(
        "sup.psh",
        Role::Supervisor,
        Some("traffic-police"),
        Some("peshawar"),
    )
    .await;
    let http = client();
    let r = http.get(app.url("/?lang=ur")).send().await.unwrap();
    assert_eq!(
        r.headers()["strict-transport-security"],
        efine_web::headers::HSTS
    );
    let (_, line) = set_cookie(&r, "__Host-efine_lang").expect("language cookie");
    assert!(line.contains("Secure") && line.contains("Path=/"), "{line}");
    assert!(set_cookie(&r, "efine_lang").is_none());
    // The language cookie is read back under its prefixed name.
    let r = http
        .get(app.url("/"))
        .header("cookie", "__Host-efine_lang=ur")
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("lang=\"ur\""));

    let r = http.get(app.url("/staff/login")).send().await.unwrap();
    let (csrf, line) = set_cookie(&r, "__Host-efine_login").expect("login cookie");
    assert!(
        line.contains("Secure") && line.contains("Path=/;") || line.ends_with("Path=/"),
        "{line}"
    );
    assert!(line.contains("HttpOnly"), "{line}");
    let r = http
        .post(app.url("/staff/login"))
        .header("cookie", format!("__Host-efine_login={csrf}"))
        .form(&[
            ("username", "sup.psh"),
            ("password", PASSWORD),
            ("csrf", csrf.as_str()),
            ("code", &app.code_for("sup.psh").await),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (session, line) = set_cookie(&r, "__Host-efine_staff").expect("session cookie");
    assert!(
        line.contains("Secure") && line.contains("HttpOnly"),
        "{line}"
    );
    assert!(!line.contains("Domain"), "{line}");
    // The session works under its prefixed name, and not under the plain one.
    let r = http
        .get(app.url("/staff"))
        .header("cookie", format!("__Host-efine_staff={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .get(app.url("/staff"))
        .header("cookie", format!("efine_staff={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
}
