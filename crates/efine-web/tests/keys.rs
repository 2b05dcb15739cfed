//! Signing keys in the database and the published log head, through the real server on SQLite
//! and PostgreSQL: two servers on one database verify each other's tokens; a rotation made
//! while they run is picked up without a restart (new tokens carry the new key id, old ones
//! still verify, both stay published); the stored key is sealed, not the key itself. Publishing
//! the log head: admins and auditors only, signed, shown on the transparency page, kept as a
//! history.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::TestApp;
use efine_core::auth::Role;
use efine_core::qr::{KeyId, TokenSigner};
use efine_store::keys::{Kek, KeyError, Keys, PublishedKeys};
use efine_store::testing::RawSql;
use efine_store::Store;
use serde_json::{json, Value};
use std::time::Duration;

both_backends!(
    two_servers_share_keys_and_pick_up_a_rotation,
    keys_are_sealed_in_the_database,
    the_log_head_is_signed_published_and_shown,
);

fn body() -> Value {
    json!({"offence_code": "no-helmet", "vehicle_number": "pes 1234",
           "name": "Muhammad Asif Khan", "cnic": "17301-1234567-1"})
}

async fn get(http: &reqwest::Client, url: String) -> Value {
    let r = http.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn verify_on(http: &reqwest::Client, base: &str, token: &str) -> Value {
    get(http, format!("{base}/api/v1/public/verify/{token}")).await
}

async fn issue_on(http: &reqwest::Client, base: &str, bearer: &str) -> String {
    let r = http
        .post(format!("{base}/api/v1/challans"))
        .bearer_auth(bearer)
        .json(&body())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    v["qr_token"].as_str().unwrap().to_string()
}

async fn active_kid(http: &reqwest::Client, base: &str) -> String {
    let v = get(http, format!("{base}/.well-known/efine-keys.json")).await;
    let keys = v["keys"].as_array().unwrap();
    let active: Vec<&Value> = keys.iter().filter(|k| k["active"] == true).collect();
    assert_eq!(active.len(), 1, "{v}");
    active[0]["kid"].as_str().unwrap().to_string()
}

async fn two_servers_share_keys_and_pick_up_a_rotation(app: TestApp) {
    // A second node on the same database, with the same key-encryption key and its own data
    // directory: the keys come from the database, not from a file both would need.
    let store_b = Store::open(app.location.clone())
        .await
        .unwrap()
        .with_clock(app.clock.clone());
    let dir_b = tempfile::tempdir().unwrap();
    let (base_b, _stop_b, state_b) = common::serve(
        &store_b,
        &app.config,
        dir_b.path(),
        common::all_sandboxes,
        &app.kek,
    )
    .await;
    // Each node's key watcher, as `efine serve` runs it (polled fast here).
    let jobs = efine_service::jobs::Jobs::new();
    for keys in [app.state.keys.clone(), state_b.keys.clone()] {
        efine_service::keys::spawn_refresh(&jobs, keys, Duration::from_millis(100));
    }
    let http = reqwest::Client::new();
    let officer = app.officer().await;
    let first_kid = active_kid(&http, &app.base).await;
    assert_eq!(active_kid(&http, &base_b).await, first_kid);

    // Each verifies the other's tokens.
    let token_a = issue_on(&http, &app.base, &officer).await;
    let token_b = issue_on(&http, &base_b, &officer).await;
    let v = verify_on(&http, &base_b, &token_a).await;
    assert_eq!(v["genuine"], true, "{v}");
    assert_eq!(v["key_id"], first_kid);
    let v = verify_on(&http, &app.base, &token_b).await;
    assert_eq!(v["genuine"], true, "{v}");

    // `efine keys rotate` from another process: the same store function on the database.
    let new_kid = efine_store::keys::rotate(&app.store, &app.kek)
        .await
        .unwrap()
        .to_string();
    assert_ne!(new_kid, first_kid);
    // Both running servers take it up without a restart.
    for base in [&app.base, &base_b] {
        let mut kid = String::new();
        for _ in 0..100 {
            kid = active_kid(&http, base).await;
            if kid == new_kid {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(kid, new_kid, "{base} did not pick up the rotation");
    }
    let new_a = issue_on(&http, &app.base, &officer).await;
    let new_b = issue_on(&http, &base_b, &officer).await;
    for (token, on) in [(&new_a, &base_b), (&new_b, &app.base)] {
        let v = verify_on(&http, on, token).await;
        assert_eq!(v["genuine"], true, "{v}");
        assert_eq!(v["key_id"], new_kid, "new tokens carry the new key id");
    }
    // Old tokens still verify on both, and both keys stay published.
    for (token, on) in [(&token_a, &base_b), (&token_b, &app.base)] {
        let v = verify_on(&http, on, token).await;
        assert_eq!(v["genuine"], true, "{v}");
        assert_eq!(v["key_id"], first_kid);
    }
    let v = get(&http, format!("{base_b}/.well-known/efine-keys.json")).await;
    let set: PublishedKeys = serde_json::from_value(v).unwrap();
    assert_eq!(set.ring().unwrap().len(), 2);
    jobs.shutdown().await;
}

/// A token signed with a key only the other node has loaded is verified after a reload on the
/// miss, without waiting for the poll; the stored columns never hold the key itself.
async fn keys_are_sealed_in_the_database(app: TestApp) {
    let kid = app.state.keys.current().signer.key_id().to_string();
    let rows = app
        .store
        .read(|tx| {
            tx.query(
                "SELECT kid, public_key, sealed, kek_id FROM signing_keys ORDER BY n",
                &[],
            )
        })
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].text(0).unwrap(), kid);
    assert_eq!(rows[0].text(3).unwrap(), app.kek.id());
    // No column, read as hex or base64, is a 32-byte secret whose key has this id.
    for i in 0..4 {
        let text = rows[0].text(i).unwrap();
        let decodings = [
            hex::decode(&text).ok(),
            base64::engine::general_purpose::STANDARD.decode(&text).ok(),
            URL_SAFE_NO_PAD.decode(&text).ok(),
        ];
        for bytes in decodings.into_iter().flatten() {
            for w in bytes.windows(32) {
                let s = TokenSigner::from_secret(w.try_into().unwrap());
                assert_ne!(
                    s.key_id().to_string(),
                    kid,
                    "column {i} holds the private key"
                );
            }
        }
    }
    // Another key-encryption key opens nothing, and says so without the key.
    let other = Kek::generate();
    let e = Keys::open(&app.store, other.clone(), None)
        .await
        .unwrap_err();
    assert!(matches!(e, KeyError::WrongKek { .. }), "{e}");
    // Signing keys are append-only.
    let changed = app
        .store
        .write(|tx| tx.exec("UPDATE signing_keys SET kek_id = 'x'", &[]))
        .await;
    assert!(changed.is_err());

    // A rotation this node has not polled for: a token of the new key verifies at once.
    let new_kid = efine_store::keys::rotate(&app.store, &app.kek)
        .await
        .unwrap();
    let other_node = Keys::open(&app.store, app.kek.clone(), None).await.unwrap();
    assert_eq!(other_node.current().signer.key_id(), new_kid);
    let token = other_node
        .current()
        .signer
        .sign(&efine_core::qr::TokenPayload {
            kind: efine_core::qr::TokenKind::Challan,
            number: "TRF-PSH-2026-999999".into(),
            amount: efine_core::Money::from_rupees(500).unwrap(),
            department: efine_core::DepartmentCode::parse("traffic-police").unwrap(),
            district: efine_core::DistrictCode::parse("peshawar").unwrap(),
            at: app.store.now(),
        })
        .unwrap();
    // Past the one-second floor between reloads on a miss.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (_, v) = app
        .get(&format!("/api/v1/public/verify/{token}"), None)
        .await;
    // The signature holds with the new key (the record does not exist: not `unknown_key`).
    assert_eq!(v["reason_code"], "no_such_record", "{v}");
    assert_eq!(v["key_id"], new_kid.to_string(), "{v}");
}

async fn the_log_head_is_signed_published_and_shown(app: TestApp) {
    // Nothing published yet.
    let (s, _) = app.get("/api/v1/public/log-head", None).await;
    assert_eq!(s, 404);
    let officer = app.officer().await;
    let auditor = app.user("auditor", Role::Auditor, None, None).await;
    let http = reqwest::Client::new();
    let publish = |token: String| {
        let http = http.clone();
        let url = app.url("/api/v1/log-heads");
        async move {
            let r = http.post(url).bearer_auth(token).send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    let (s, v) = publish(officer.clone()).await;
    assert_eq!(s, 403, "{v}");
    let r = http
        .post(app.url("/api/v1/log-heads"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    issue_on(&http, &app.base, &officer).await;
    let (s, head) = publish(auditor.clone()).await;
    assert_eq!(s, 201, "{head}");
    let seq = head["seq"].as_i64().unwrap();
    // It is the chain head: the last event's sequence and hash.
    let last = app
        .store
        .read(|tx| {
            tx.query_one(
                "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
                &[],
            )
        })
        .await
        .unwrap();
    assert_eq!(seq, last.i64(0).unwrap());
    assert_eq!(head["hash"], last.text(1).unwrap());
    // Signed by the active key, checked with the published keys as anyone would.
    let keys: PublishedKeys =
        serde_json::from_value(app.get("/.well-known/efine-keys.json", None).await.1).unwrap();
    let ring = keys.ring().unwrap();
    let kid = KeyId::parse(head["kid"].as_str().unwrap()).unwrap();
    let hash: [u8; 32] = hex::decode(head["hash"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let at = time::OffsetDateTime::parse(
        head["published_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
    .unix_timestamp();
    let sig = URL_SAFE_NO_PAD
        .decode(head["signature"].as_str().unwrap())
        .unwrap();
    assert_eq!(ring.verify_log_head(kid, seq, &hash, at, &sig), Ok(()));
    assert!(ring.verify_log_head(kid, seq + 1, &hash, at, &sig).is_err());

    // Unchanged log: the same head, not a new one.
    let (s, again) = publish(auditor.clone()).await;
    assert_eq!(s, 200);
    assert_eq!(again, head);
    // A new event, a new head; the history keeps both, oldest first.
    issue_on(&http, &app.base, &officer).await;
    let (s, second) = publish(auditor).await;
    assert_eq!(s, 201);
    assert!(second["seq"].as_i64().unwrap() > seq);
    let (s, history) = app.get("/api/v1/public/log-heads", None).await;
    assert_eq!(s, 200);
    assert_eq!(history["heads"].as_array().unwrap().len(), 2);
    assert_eq!(history["heads"][0], head);
    assert_eq!(history["heads"][1], second);
    let (s, latest) = app.get("/api/v1/public/log-head", None).await;
    assert_eq!(s, 200);
    assert_eq!(latest, second);

    // The transparency page shows it in both languages, with the history to download.
    for (lang, title) in [
        ("en", "Published log head"),
        ("ur", "ریکارڈ کی شائع شدہ دستخطی حالت"),
    ] {
        let page = http
            .get(app.url(&format!("/transparency?lang={lang}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains(title), "{lang}");
        assert!(page.contains(second["hash"].as_str().unwrap()), "{lang}");
        assert!(
            page.contains("href=\"/api/v1/public/log-heads\" download=\"efine-log-heads.json\""),
            "{lang}"
        );
    }
}
