//! The OpenAPI document is generated from the code; this snapshot makes any change to it a
//! deliberate one. To accept a change: `UPDATE_SNAPSHOTS=1 cargo test -p efine-web --test openapi`.

mod common;

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots/openapi.json");

#[test]
fn openapi_document_matches_snapshot() {
    let doc = efine_web::openapi().to_pretty_json().unwrap() + "\n";
    if std::env::var("UPDATE_SNAPSHOTS").is_ok() {
        std::fs::create_dir_all(std::path::Path::new(SNAPSHOT).parent().unwrap()).unwrap();
        std::fs::write(SNAPSHOT, &doc).unwrap();
    }
    let want = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
    assert!(
        doc == want,
        "the OpenAPI document changed; review it and run UPDATE_SNAPSHOTS=1 cargo test -p efine-web --test openapi"
    );
}

#[test]
fn contract_paths_are_documented() {
    let doc: serde_json::Value =
        serde_json::from_str(&efine_web::openapi().to_json().unwrap()).unwrap();
    assert_eq!(doc["openapi"].as_str().unwrap().get(..3), Some("3.1"));
    for (method, path) in [
        ("get", "/healthz"),
        ("post", "/api/v1/auth/token"),
        ("delete", "/api/v1/auth/token"),
        ("get", "/api/v1/catalogue/departments"),
        ("get", "/api/v1/catalogue/districts"),
        ("get", "/api/v1/catalogue/offences"),
        ("post", "/api/v1/challans"),
        ("get", "/api/v1/challans/{challan_number}"),
        ("get", "/api/v1/public/challans/{key}"),
        ("post", "/api/v1/public/lookup"),
        ("get", "/api/v1/public/fees"),
        ("post", "/api/v1/public/fees"),
        ("post", "/api/v1/fees/vouchers/{voucher_number}/consume"),
        ("get", "/api/v1/public/verify/{qr_token}"),
        ("get", "/.well-known/efine-keys.json"),
        ("get", "/challans/{challan_number}/receipt.pdf"),
        ("get", "/challans/{challan_number}/receipt.escpos"),
        ("post", "/api/v1/challans/{challan_number}/cancellation"),
        ("get", "/api/v1/cancellations"),
        ("post", "/api/v1/cancellations/{id}/approve"),
        ("post", "/api/v1/cancellations/{id}/reject"),
        ("post", "/api/v1/public/challans/{challan_number}/appeals"),
        (
            "post",
            "/api/v1/public/challans/{challan_number}/appeals/code",
        ),
        ("get", "/api/v1/public/log-head"),
        ("get", "/api/v1/public/log-heads"),
        ("post", "/api/v1/log-heads"),
        ("get", "/api/v1/appeals"),
        ("post", "/api/v1/appeals/{id}/decision"),
        ("get", "/api/v1/vehicles/{vehicle}/status"),
        ("get", "/api/v1/vehicles/{vehicle}/clearance"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is not documented"
        );
    }
}

#[tokio::test]
async fn served_document_is_the_generated_one() {
    let app = common::TestApp::sqlite().await;
    let (s, served) = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(s, 200);
    let generated: serde_json::Value =
        serde_json::from_str(&efine_web::openapi().to_json().unwrap()).unwrap();
    assert_eq!(served, generated);
}

/// The answers the shared layers give are in the document for the operations that give them:
/// each request below is sent to the real server, and the status it gets must be listed.
#[tokio::test]
async fn shared_answers_are_documented_where_they_are_given() {
    let app = common::TestApp::sqlite().await;
    let doc: serde_json::Value =
        serde_json::from_str(&efine_web::openapi().to_json().unwrap()).unwrap();
    let lookup = app.url("/api/v1/public/lookup");
    let issue = app.url("/api/v1/challans");
    let cases = [
        // Not JSON, malformed JSON, a value that is not valid, no token.
        (
            "post",
            "/api/v1/public/lookup",
            app.http
                .post(&lookup)
                .header("content-type", "text/plain")
                .body("x"),
            415,
        ),
        (
            "post",
            "/api/v1/public/lookup",
            app.http
                .post(&lookup)
                .header("content-type", "application/json")
                .body("{"),
            400,
        ),
        (
            "post",
            "/api/v1/public/lookup",
            app.http
                .post(&lookup)
                .json(&serde_json::json!({"vehicle": "\u{1}"})),
            422,
        ),
        (
            "post",
            "/api/v1/challans",
            app.http
                .post(&issue)
                .json(&serde_json::json!({"offence_code": "no-helmet"})),
            401,
        ),
        (
            "post",
            "/api/v1/public/lookup",
            app.http
                .post(&lookup)
                .header("content-type", "application/json")
                .body(format!("{{\"vehicle\": \"{}\"}}", "A".repeat(70 * 1024))),
            413,
        ),
    ];
    for (method, path, request, want) in cases {
        let got = request.send().await.unwrap().status().as_u16();
        assert_eq!(got, want, "{method} {path}");
        let listed = &doc["paths"][path][method]["responses"][want.to_string()];
        assert!(listed.is_object(), "{method} {path} does not list {want}");
    }
    // Every operation but the liveness check lists 503, the database's "not now".
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let has = op["responses"]["503"].is_object();
            assert_eq!(has, path != "/healthz", "{method} {path}");
        }
    }
}
