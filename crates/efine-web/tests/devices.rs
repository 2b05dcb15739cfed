//! Officers' devices through the real server, on SQLite and PostgreSQL, with the phone played by
//! ed25519-dalek: an admin makes a one-time code in the console, the phone enrols its public key,
//! issues challans "offline" (numbers, QR tokens and items signed with its own key, issue times
//! in the past) and syncs them: accepted once, the same batch again changes nothing, a reused
//! counter or a forged item is refused with the reason; the QR tokens verify online and through
//! the published key set with no server; an altered byte is refused; a gap in the counters and a
//! revoked device show in the console; a bank pays the synced PSID through 1Bill.

mod common;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use common::{hidden, TestApp};
use ed25519_dalek::{Signer, SigningKey};
use efine_core::auth::Role;
use efine_core::clock::KARACHI;
use efine_core::money::Money;
use efine_core::qr::{TokenKind, TokenPayload, TokenSigner};
use efine_core::{DepartmentCode, DistrictCode};
use efine_store::testing::RawSql;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

both_backends!(enrol_issue_offline_and_sync, revoked_device_and_anomalies);

/// The phone: its key, and what enrolment told it.
pub struct Phone {
    secret: [u8; 32],
    pub device: Value,
}

impl Phone {
    fn key(&self) -> SigningKey {
        SigningKey::from_bytes(&self.secret)
    }

    fn number(&self, counter: u32, at: OffsetDateTime) -> String {
        let d = &self.device;
        let seq =
            efine_core::device::device_seq(d["slot"].as_u64().unwrap() as u16, counter).unwrap();
        format!(
            "{}-{}-{}-{seq}",
            d["department_abbr"].as_str().unwrap(),
            d["district_abbr"].as_str().unwrap(),
            efine_core::clock::karachi_date(at).year()
        )
    }

    /// A challan the phone issued at `at`, as it would sync it: (item text, signature, photos).
    fn item(&self, counter: u32, at: OffsetDateTime, photo: Option<&[u8]>) -> Value {
        let offence = &self.device["offences"][0];
        let amount = offence["amount"].as_i64().unwrap();
        let number = self.number(counter, at);
        let token = TokenSigner::from_secret(&self.secret)
            .sign(&TokenPayload {
                kind: TokenKind::Challan,
                number: number.clone(),
                amount: Money::from_paisa(amount).unwrap(),
                department: DepartmentCode::parse(self.device["department"].as_str().unwrap())
                    .unwrap(),
                district: DistrictCode::parse(self.device["district"].as_str().unwrap()).unwrap(),
                at,
            })
            .unwrap();
        let photos: Vec<String> = photo
            .map(|p| vec![hex::encode(Sha256::digest(p))])
            .unwrap_or_default();
        let body = json!({
            "counter": counter,
            "number": number,
            "issued_at_ms": at.unix_timestamp() * 1000 + 250,
            "offence": offence["code"],
            "amount_paisa": amount,
            "vehicle": format!("PES-{counter}"),
            "mobile": null,
            "lat_micro": 34_012_345,
            "lon_micro": 71_578_901,
            "accuracy_m": 12,
            "place": "Khyber Bazaar, near the clock tower",
            "notes": null,
            "photos": photos,
            "token": token,
        })
        .to_string();
        let sig = self
            .key()
            .sign(&efine_core::device::item_message(body.as_bytes()));
        json!({
            "body": body,
            "signature": URL_SAFE_NO_PAD.encode(sig.to_bytes()),
            "photos": photo.map(|p| vec![json!({"content_type": "image/jpeg", "data": STANDARD.encode(p)})]).unwrap_or_default(),
        })
    }

    fn token_of(item: &Value) -> String {
        let body: Value = serde_json::from_str(item["body"].as_str().unwrap()).unwrap();
        body["token"].as_str().unwrap().to_string()
    }
}

/// An officer, an admin's console session, a one-time code made in the console.
pub async fn enrolment_code(app: &TestApp, officer: &str) -> String {
    app.user(
        officer,
        Role::Officer,
        Some("traffic-police"),
        Some("peshawar"),
    )
    .await;
    let known = app
        .store
        .read(|tx| Ok(efine_store::ops::users::for_login(tx, "admin.devices")?.is_some()))
        .await
        .unwrap();
    if !known {
        app.user("admin.devices", Role::Admin, None, None).await;
    }
    let cookie = app.console_session("admin.devices").await;
    let http = TestApp::browser_client();
    let page = http
        .get(app.url("/staff/devices"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "csrf");
    let r = http
        .post(app.url("/staff/devices"))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str()), ("officer", officer)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let at = page.find("id=\"code\"").expect("the code is shown");
    let code: String = page[at..]
        .chars()
        .skip_while(|c| *c != '>')
        .skip(1)
        .take_while(|c| *c != '<')
        .collect();
    assert_eq!(code.len(), 14, "{code}");
    code
}

pub async fn enrol(app: &TestApp, code: &str, seed: u8) -> Phone {
    let secret = [seed; 32];
    let public = SigningKey::from_bytes(&secret).verifying_key();
    let (s, v) = app
        .post(
            "/api/v1/devices/enrol",
            json!({"code": code, "public_key": URL_SAFE_NO_PAD.encode(public.as_bytes())}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    Phone { secret, device: v }
}

async fn sync(app: &TestApp, phone: &Phone, items: &[Value]) -> Value {
    let (s, v) = app
        .post(
            &format!(
                "/api/v1/devices/{}/sync",
                phone.device["device"].as_str().unwrap()
            ),
            json!({ "items": items }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    v
}

fn statuses(v: &Value) -> Vec<String> {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_string())
        .collect()
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    app.store
        .read(move |tx| tx.query_one(sql, &[])?.i64(0))
        .await
        .unwrap()
}

async fn enrol_issue_offline_and_sync(app: TestApp) {
    let code = enrolment_code(&app, "officer.field").await;
    let phone = enrol(&app, &code, 7).await;
    let d = &phone.device;
    assert_eq!(d["device"], "TRF-PSH-001");
    assert_eq!(d["officer"], "officer.field");
    assert_eq!(d["slot"], 1);
    assert!(d["offences"].as_array().unwrap().len() > 3);
    assert_eq!(d["catalogue_version"].as_str().unwrap().len(), 16);
    // The code works once.
    let (s, v) = app
        .post(
            "/api/v1/devices/enrol",
            json!({"code": code, "public_key": URL_SAFE_NO_PAD.encode([9u8; 32])}),
        )
        .await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(v["error"]["field"], "code");

    // Issued offline over the next hours (three hours before the sync, and the last hour); the
    // first with a photo.
    app.clock.advance(time::Duration::hours(4));
    let now = app.store.now();
    let photo = b"\xff\xd8\xff\xe0 a small JPEG from the phone \xff\xd9".to_vec();
    let at =
        |mins: i64| OffsetDateTime::from_unix_timestamp(now.unix_timestamp() - mins * 60).unwrap();
    let items = vec![
        phone.item(1, at(180), Some(&photo)),
        phone.item(2, at(60), None),
        phone.item(3, at(59), None),
    ];
    let before = count(&app, "SELECT COUNT(*) FROM challans").await;
    let v = sync(&app, &phone, &items).await;
    assert_eq!(statuses(&v), ["accepted", "accepted", "accepted"], "{v}");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM challans").await,
        before + 3
    );
    let first = &v["results"][0];
    let number = first["number"].as_str().unwrap().to_string();
    assert_eq!(number, phone.number(1, at(180)));
    assert!(
        number.starts_with("TRF-PSH-") && number.ends_with("-900100001"),
        "{number}"
    );
    let psid = first["psid"].as_str().unwrap().to_string();
    assert_eq!(&psid[6..15], "900100001");

    // The same batch again: every item already had, nothing new.
    let again = sync(&app, &phone, &items).await;
    assert_eq!(
        statuses(&again),
        ["already_had", "already_had", "already_had"]
    );
    assert_eq!(again["results"][0]["number"], number.as_str());
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM challans").await,
        before + 3
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM challan_photos").await, 1);

    // The record: the device's issue time (due date counts from it), place, position, photo.
    let (_, c) = app
        .get(&format!("/api/v1/public/challans/{number}"), None)
        .await;
    assert_eq!(c["status"], "unpaid", "{c}");
    let officer = app.login("officer.field", common::PASSWORD).await;
    let (s, full) = app
        .get(&format!("/api/v1/challans/{number}"), Some(&officer))
        .await;
    assert_eq!(s, 200, "{full}");
    assert_eq!(full["officer"], "officer.field");
    let lat = full["location"]["lat"].as_f64().unwrap();
    assert!((lat - 34.012345).abs() < 1e-9, "{lat}");
    assert_eq!(
        full["location"]["text"],
        "Khyber Bazaar, near the clock tower"
    );
    let issued = OffsetDateTime::parse(
        full["issued_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(issued.unix_timestamp(), at(180).unix_timestamp());
    let issued_event = full["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "challan.issued")
        .unwrap();
    assert_eq!(issued_event["payload"]["device"]["device"], "TRF-PSH-001");
    assert_eq!(issued_event["payload"]["device"]["counter"], 1);
    assert_eq!(issued_event["payload"]["device"]["accuracy_m"], 12);
    let page = app
        .http
        .get(app.url(&format!("/c/{number}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at_photo = page
        .find("/api/v1/public/photos/")
        .expect("photo on the page");
    let photo_id: String = page[at_photo + 22..].chars().take(32).collect();
    assert!(
        photo_id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{photo_id}"
    );
    let got = app
        .http
        .get(app.url(&format!("/api/v1/public/photos/{photo_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().as_ref(), photo.as_slice());
    let (s, _) = app
        .get(&format!("/api/v1/public/photos/{}", "0".repeat(32)), None)
        .await;
    assert_eq!(s, 404);

    // The QR token the phone printed verifies online, with the device and its sync time.
    let token = Phone::token_of(&items[0]);
    let (_, ver) = app
        .get(&format!("/api/v1/public/verify/{token}"), None)
        .await;
    assert_eq!(ver["genuine"], true, "{ver}");
    assert_eq!(ver["device"]["device"], "TRF-PSH-001");
    assert_eq!(ver["device"]["officer"], "officer.field");
    assert!(ver["summary"]
        .as_str()
        .unwrap()
        .contains("Issued offline by device TRF-PSH-001, officer officer.field, synced at"));
    // One altered byte is refused.
    let mut raw = URL_SAFE_NO_PAD.decode(&token).unwrap();
    raw[20] ^= 0x01;
    let (_, bad) = app
        .get(
            &format!("/api/v1/public/verify/{}", URL_SAFE_NO_PAD.encode(&raw)),
            None,
        )
        .await;
    assert_eq!(bad["genuine"], false);
    // Offline: the published key set (device keys included) verifies it with no server.
    let (_, keys) = app.get("/.well-known/efine-keys.json", None).await;
    let dk = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["device"] == "TRF-PSH-001")
        .expect("device key published")
        .clone();
    assert_eq!(dk["officer"], "officer.field");
    assert_eq!(dk["kid"], d["kid"]);
    assert!(dk["valid_from"].is_string());
    assert_eq!(dk["active"], false);
    let set: efine_store::keys::PublishedKeys = serde_json::from_value(keys).unwrap();
    let ring = set.ring().unwrap();
    let (_, p) = ring.verify(&token).unwrap();
    assert_eq!(p.number, number);
    assert!(ring.verify(&URL_SAFE_NO_PAD.encode(&raw)).is_err());

    // Not yet synced: genuine signature, no record, said so.
    let later = phone.item(4, at(10), None);
    let (_, pending) = app
        .get(
            &format!("/api/v1/public/verify/{}", Phone::token_of(&later)),
            None,
        )
        .await;
    assert_eq!(pending["genuine"], false);
    assert_eq!(pending["reason_code"], "not_yet_synced", "{pending}");

    // Another item under a used counter, and an item signed by another key: refused, named.
    let mut forged = phone.item(2, at(30), None);
    let stranger = Phone {
        secret: [8u8; 32],
        device: phone.device.clone(),
    };
    let not_mine = stranger.item(5, at(5), None);
    forged["photos"] = json!([]);
    let v = sync(&app, &phone, &[forged, not_mine]).await;
    assert_eq!(statuses(&v), ["refused", "refused"]);
    assert_eq!(v["results"][0]["code"], "counter_reused");
    assert_eq!(v["results"][1]["code"], "bad_signature");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM challans").await,
        before + 3
    );

    // The audit finds every device challan as its event recorded it.
    let audit = app
        .store
        .read(|tx| {
            let mut noop = |_| {};
            Ok(efine_store::ops::audit::verify(tx, None, &mut noop)?.map(|r| r.challans))
        })
        .await
        .unwrap();
    assert!(
        matches!(audit, Ok(n) if n >= 3),
        "{:?}",
        audit.map_err(|f| format!("{f:?}"))
    );

    // The checkpoint lookup from the phone: signed by the device key, fresh.
    let check = |vehicle: &str, at_ms: i64, key: &SigningKey| {
        let body = json!({"vehicle": vehicle, "at_ms": at_ms}).to_string();
        let mut m = efine_core::device::CHECK_DOMAIN.to_vec();
        m.extend_from_slice(body.as_bytes());
        json!({"body": body, "signature": URL_SAFE_NO_PAD.encode(key.sign(&m).to_bytes())})
    };
    let now_ms = app.store.now().unix_timestamp() * 1000;
    let path = "/api/v1/devices/TRF-PSH-001/vehicle-check";
    let (s, v) = app.post(path, check("pes 2", now_ms, &phone.key())).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["unpaid_count"], 1);
    assert_eq!(
        v["challans"][0]["challan_number"],
        phone.number(2, at(60)).as_str()
    );
    let (s, _) = app
        .post(path, check("pes 2", now_ms - 3_600_000, &phone.key()))
        .await;
    assert_eq!(s, 401, "a stale check is refused");
    let (s, _) = app
        .post(
            path,
            check("pes 2", now_ms, &SigningKey::from_bytes(&[8u8; 32])),
        )
        .await;
    assert_eq!(s, 401, "another key is refused");

    // A bank pays the device-allocated PSID through 1Bill.
    let amount = phone.device["offences"][0]["amount"].as_i64().unwrap();
    let n = app.store.now().to_offset(KARACHI);
    let pay = efine_pay::sandbox::bank_payment(
        "sandbox-bank",
        "sandbox-1bill",
        &psid,
        Money::from_paisa(amount).unwrap(),
        424242,
        time::PrimitiveDateTime::new(n.date(), n.time()),
        "HBL",
    );
    let (s, r) = app
        .post(
            "/api/v1/1bill/bill-payment",
            serde_json::to_value(pay).unwrap(),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(r["response_Code"], "00", "{r}");
    let (_, c) = app
        .get(&format!("/api/v1/public/challans/{number}"), None)
        .await;
    assert_eq!(c["status"], "paid");
}

async fn revoked_device_and_anomalies(app: TestApp) {
    let code = enrolment_code(&app, "officer.gap").await;
    let phone = enrol(&app, &code, 11).await;
    app.clock.advance(time::Duration::days(4));
    let now = app.store.now();
    let at =
        |mins: i64| OffsetDateTime::from_unix_timestamp(now.unix_timestamp() - mins * 60).unwrap();
    // Counters 1, 2 and 4: 3 never arrives. Counter 4 was issued three days ago.
    let v = sync(
        &app,
        &phone,
        &[
            phone.item(1, at(5000), None),
            phone.item(2, at(4900), None),
            phone.item(4, at(4800), None),
        ],
    )
    .await;
    assert_eq!(statuses(&v), ["accepted", "accepted", "accepted"], "{v}");

    let cookie = app.console_session("admin.devices").await;
    let http = TestApp::browser_client();
    let page = http
        .get(app.url("/staff/devices"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("TRF-PSH-001"), "{page}");
    assert!(
        page.contains("counters 3 to 3 never arrived"),
        "the gap is flagged"
    );
    assert!(
        page.contains("hours after it was issued"),
        "the delay is flagged"
    );
    let dashboard = http
        .get(app.url("/dashboard"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        dashboard.contains("Device TRF-PSH-001 (officer.gap): counters 3 to 3 never arrived"),
        "the dashboard flags the gap"
    );

    // Revoked now: what it issued before still syncs, what it says it issued later is refused.
    let csrf = hidden(&page, "csrf");
    let r = http
        .post(app.url("/staff/devices/revoke"))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str()), ("device", "TRF-PSH-001")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    app.clock.advance(time::Duration::minutes(1));
    let after = OffsetDateTime::from_unix_timestamp(app.store.now().unix_timestamp()).unwrap();
    let v = sync(
        &app,
        &phone,
        &[phone.item(3, at(4850), None), phone.item(5, after, None)],
    )
    .await;
    assert_eq!(statuses(&v), ["accepted", "refused"], "{v}");
    assert_eq!(v["results"][1]["code"], "revoked");
    assert!(v["results"][1]["reason"]
        .as_str()
        .unwrap()
        .contains("revoked"));
    assert_eq!(v["revoked"], true);
    let (_, keys) = app.get("/.well-known/efine-keys.json", None).await;
    let dk = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["device"] == "TRF-PSH-001")
        .unwrap()
        .clone();
    assert!(dk["revoked_at"].is_string(), "{dk}");
    // Offline, the published revocation refuses a token the device signed after it.
    let set: efine_store::keys::PublishedKeys = serde_json::from_value(keys).unwrap();
    let late = Phone::token_of(&phone.item(6, after, None));
    assert!(matches!(
        set.ring().unwrap().verify(&late),
        Err(efine_core::qr::TokenError::Revoked(_))
    ));
}
