//! The officer's field app in headless Chromium against the real server (SQLite and
//! PostgreSQL): enrol with a
//! code made in the console, cut the network with the DevTools protocol, reload the app offline,
//! issue 20 challans each with a photo and a (faked) GPS position, close and reopen the app,
//! reconnect and sync. Exactly 20 challans exist, each once, with photo and position; a sync cut
//! halfway (part of the outbox reached the server, the answer never came back) and then retried
//! leaves no duplicate and no loss; the same batch sent again changes nothing; a revoked device's
//! later challan is refused and the phone shows why. Each offline QR code verifies online and
//! with the published keys alone, an altered byte does not, a bank pays a synced PSID through
//! 1Bill, and the slip's ESC/POS bytes decode to the number, amount, PSID and QR payload.
//! Screenshots at 360 px in English and Urdu go to target/browser-screenshots/.

#[path = "common/browser.rs"]
#[allow(dead_code)]
mod browser;
mod common;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use browser::Browser;
use common::{hidden, TestApp};
use efine_core::auth::Role;
use efine_core::clock::KARACHI;
use efine_core::money::Money;
use efine_store::testing::RawSql;
use serde_json::{json, Value};

const ISSUED: usize = 20;

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    app.store
        .read(move |tx| tx.query_one(sql, &[])?.i64(0))
        .await
        .unwrap()
}

/// The server's clock follows the phone's (the test clock otherwise stands still).
fn real_time(app: &TestApp) {
    app.clock.set(time::OffsetDateTime::now_utc());
}

async fn enrolment_code(app: &TestApp) -> (String, String) {
    app.user(
        "officer.road",
        Role::Officer,
        Some("traffic-police"),
        Some("peshawar"),
    )
    .await;
    app.user("admin.road", Role::Admin, None, None).await;
    let cookie = app.console_session("admin.road").await;
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
    let r = http
        .post(app.url("/staff/devices"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", hidden(&page, "csrf").as_str()),
            ("officer", "officer.road"),
        ])
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
    (code, cookie)
}

/// The phone's network: a TCP relay in front of the server that the test can cut, closing every
/// open connection, as a lost signal does. (DevTools' network emulation alone also tells the page
/// it is offline, but lets a request through while a new page is loading.)
struct Network {
    origin: String,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    conns: std::sync::Arc<tokio::sync::Mutex<tokio::task::JoinSet<()>>>,
}

impl Network {
    async fn start(server: &str) -> Network {
        let target = server.trim_start_matches("http://").to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let conns = std::sync::Arc::new(tokio::sync::Mutex::new(tokio::task::JoinSet::new()));
        let (c, set) = (cut.clone(), conns.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if c.load(std::sync::atomic::Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                set.lock().await.spawn(async move {
                    if let Ok(mut out) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
            }
        });
        Network { origin, cut, conns }
    }

    async fn set_cut(&self, cut: bool) {
        self.cut.store(cut, std::sync::atomic::Ordering::SeqCst);
        if cut {
            self.conns.lock().await.abort_all();
        }
    }
}

async fn offline(b: &Browser, off: bool) {
    b.cdp("Network.enable", json!({})).await;
    b.cdp(
        "Network.emulateNetworkConditions",
        json!({"offline": off, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}),
    )
    .await;
}

/// The outbox as the phone keeps it.
async fn outbox(b: &Browser) -> Vec<Value> {
    let v = b
        .script(
            "return new Promise((res, rej) => { const r = indexedDB.open('efine-officer'); \
             r.onsuccess = () => { const q = r.result.transaction('outbox').objectStore('outbox').getAll(); \
             q.onsuccess = () => res(q.result); q.onerror = () => rej(q.error); }; r.onerror = () => rej(r.error); })",
        )
        .await;
    v.as_array().unwrap().clone()
}

async fn states(b: &Browser) -> Vec<String> {
    outbox(b)
        .await
        .iter()
        .map(|r| r["state"].as_str().unwrap().to_string())
        .collect()
}

async fn wait_states(b: &Browser, what: &str, want: impl Fn(&[String]) -> bool) {
    for _ in 0..600 {
        if want(&states(b).await) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{what}: outbox states {:?}", states(b).await);
}

/// Finds the ESC/POS QR store command (GS ( k pL pH 49 80 48 data) and returns its data.
fn qr_payload(bytes: &[u8]) -> String {
    let at = bytes
        .windows(3)
        .enumerate()
        .find_map(|(i, w)| {
            (w == [0x1d, 0x28, 0x6b] && bytes[i + 5..i + 8] == [0x31, 0x50, 0x30]).then_some(i)
        })
        .expect("a QR store command");
    let n = usize::from(bytes[at + 3]) + 256 * usize::from(bytes[at + 4]) - 3;
    String::from_utf8(bytes[at + 8..at + 8 + n].to_vec()).unwrap()
}

fn photo_file(dir: &std::path::Path) -> std::path::PathBuf {
    let mut img = image::RgbImage::new(640, 480);
    for (x, y, p) in img.enumerate_pixels_mut() {
        *p = image::Rgb([(x % 256) as u8, (y % 256) as u8, 128]);
    }
    let path = dir.join("plate.png");
    img.save(&path).unwrap();
    path
}

async fn sync_direct(app: &TestApp, device: &str, records: &[Value]) -> Value {
    let items: Vec<Value> = records
        .iter()
        .map(|r| json!({"body": r["body"], "signature": r["signature"], "photos": r["photos"]}))
        .collect();
    let (s, v) = app
        .post(
            &format!("/api/v1/devices/{device}/sync"),
            json!({ "items": items }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    v
}

both_backends!(officer_issues_twenty_offline_and_syncs);

async fn officer_issues_twenty_offline_and_syncs(app: TestApp) {
    real_time(&app);
    let (code, cookie) = enrolment_code(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let photo = photo_file(dir.path());
    let before = count(&app, "SELECT COUNT(*) FROM challans").await;

    let net = Network::start(&app.base).await;
    let origin = net.origin.clone();
    let b = Browser::start().await;
    b.resize(360, 900).await;
    b.cdp(
        "Browser.grantPermissions",
        json!({"origin": origin, "permissions": ["geolocation"]}),
    )
    .await;
    b.cdp(
        "Emulation.setGeolocationOverride",
        json!({"latitude": 34.0151, "longitude": 71.5249, "accuracy": 15}),
    )
    .await;

    // Enrol (online), and wait for the service worker to hold the app.
    b.goto(&format!("{origin}/officer")).await;
    b.wait_script(
        "return document.getElementById('enrol').hidden ? 'no' : 'yes'",
        "yes",
    )
    .await;
    b.find("#code").await.type_text(&code).await;
    b.screenshot("officer-enrol-phone").await;
    b.find("#enrol-btn").await.click().await;
    b.wait_script(
        "return document.getElementById('issue').hidden ? 'no' : 'yes'",
        "yes",
    )
    .await;
    b.wait_script(
        "return navigator.serviceWorker.controller ? 'yes' : 'no'",
        "yes",
    )
    .await;
    let device = b
        .script("return window.efine.state.device.device")
        .await
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(device, "TRF-PSH-001");

    // No network: the app reloads from its service worker and works.
    net.set_cut(true).await;
    offline(&b, true).await;
    b.goto(&format!("{origin}/officer")).await;
    b.wait_script(
        "return (window.efine && !document.getElementById('issue').hidden) ? 'yes' : 'no'",
        "yes",
    )
    .await;
    b.wait_script("return navigator.onLine ? 'on' : 'off'", "off")
        .await;
    for i in 1..=ISSUED {
        b.wait_script("return window.efine.state.position ? 'yes' : 'no'", "yes")
            .await;
        b.find("#vehicle")
            .await
            .type_text(&format!("PES-{i}"))
            .await;
        b.find("#photo")
            .await
            .type_text(photo.to_str().unwrap())
            .await;
        b.wait_script(
            "return document.querySelectorAll('#previews img').length === 1 ? 'yes' : 'no'",
            "yes",
        )
        .await;
        if i == 1 {
            b.find("#place")
                .await
                .type_text("Firdous chowk, Peshawar")
                .await;
            b.screenshot("officer-issue-phone").await;
        }
        b.find("#issue-btn").await.click().await;
        b.wait_script(
            "return document.getElementById('done').hidden ? 'no' : 'yes'",
            "yes",
        )
        .await;
        if i == 1 {
            b.screenshot("officer-issued-phone").await;
        }
        assert_eq!(
            b.script("return document.getElementById('vehicle').value")
                .await,
            "",
            "the next challan starts with an empty plate"
        );
        b.find("#another").await.click().await;
    }
    let records = outbox(&b).await;
    assert_eq!(records.len(), ISSUED);
    assert!(states(&b).await.iter().all(|s| s == "waiting"));

    // The slip of the last challan, as the printer would get it.
    let slip = STANDARD
        .decode(
            b.script("return window.efine.lastSlip")
                .await
                .as_str()
                .unwrap(),
        )
        .unwrap();
    let last = records
        .iter()
        .max_by_key(|r| r["counter"].as_i64().unwrap())
        .unwrap()
        .clone();
    let text = String::from_utf8_lossy(&slip);
    assert!(text.contains(last["number"].as_str().unwrap()), "{text}");
    assert!(text.contains(&format!("PSID: {}", last["psid"].as_str().unwrap())));
    let amount = Money::from_paisa(last["amount_paisa"].as_i64().unwrap()).unwrap();
    assert!(text.contains(&format!("Amount: {amount}")), "{text}");
    assert!(text.contains("How to appeal"));
    let qr = qr_payload(&slip);
    assert_eq!(
        qr,
        format!(
            "{}/v/{}",
            app.config.public_url,
            last["token"].as_str().unwrap()
        )
    );
    assert_eq!(&slip[..2], &[0x1b, 0x40], "starts with ESC @");
    // The Urdu offence name goes as a raster image (GS v 0), 48 bytes (384 dots) a row.
    let r = slip
        .windows(4)
        .position(|w| w == [0x1d, 0x76, 0x30, 0])
        .expect("a raster image for the Urdu line");
    assert_eq!(slip[r + 4..r + 6], [48, 0]);
    let rows = usize::from(slip[r + 6]) + 256 * usize::from(slip[r + 7]);
    assert!(rows >= 48, "{rows}");
    let image = &slip[r + 8..r + 8 + 48 * rows];
    assert!(image.iter().any(|b| *b != 0), "something is drawn");

    // Close the app and open it again, still offline: everything is still waiting.
    // (A new page in the same tab: the network emulation belongs to the tab's renderer, which
    // a trip through about:blank would replace.)
    b.goto(&format!("{origin}/officer?lang=ur")).await;
    b.wait_script("return navigator.onLine ? 'on' : 'off'", "off")
        .await;
    b.wait_script(
        "return String(document.querySelectorAll('#list li[data-state=waiting]').length)",
        "20",
    )
    .await;
    b.wait_script("return document.documentElement.dir", "rtl")
        .await;
    b.screenshot("officer-offline-list-ur-phone").await;
    // Sign-out keeps what is not synced; signing in again finds it.
    b.find("#signout").await.click().await;
    b.wait_script(
        "return document.getElementById('signedout').hidden ? 'no' : 'yes'",
        "yes",
    )
    .await;
    assert!(b
        .script("return document.getElementById('kept').textContent")
        .await
        .as_str()
        .unwrap()
        .contains("20"));
    assert_eq!(outbox(&b).await.len(), ISSUED);
    b.find("#continue").await.click().await;
    b.wait_script(
        "return document.getElementById('issue').hidden ? 'no' : 'yes'",
        "yes",
    )
    .await;
    assert_eq!(count(&app, "SELECT COUNT(*) FROM challans").await, before);

    // A sync cut halfway: the first seven reached the server, the phone never heard back.
    real_time(&app);
    let mut sorted = outbox(&b).await;
    sorted.sort_by_key(|r| r["counter"].as_i64().unwrap());
    let cut = sync_direct(&app, &device, &sorted[..7]).await;
    assert!(cut["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["status"] == "accepted"));
    // Back online: the phone syncs by itself and every challan ends synced, once.
    net.set_cut(false).await;
    offline(&b, false).await;
    wait_states(&b, "all synced", |s| s.iter().all(|x| x == "synced")).await;
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM challans").await,
        before + ISSUED as i64
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM device_challans").await,
        ISSUED as i64
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(DISTINCT challan_number) FROM challan_photos"
        )
        .await,
        ISSUED as i64
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM challans WHERE number LIKE 'TRF-PSH-%-9001%' \
             AND lat_micro = 34015100 AND lon_micro = 71524900"
        )
        .await,
        ISSUED as i64
    );
    b.screenshot("officer-synced-ur-phone").await;

    // The same batch again changes nothing.
    let again = sync_direct(&app, &device, &sorted).await;
    assert!(again["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["status"] == "already_had"));
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM challans").await,
        before + ISSUED as i64
    );

    // Every offline QR code verifies, online and with the published keys alone.
    let (_, keys) = app.get("/.well-known/efine-keys.json", None).await;
    let ring = serde_json::from_value::<efine_store::keys::PublishedKeys>(keys)
        .unwrap()
        .ring()
        .unwrap();
    for r in &sorted {
        let token = r["token"].as_str().unwrap();
        let (_, v) = app
            .get(&format!("/api/v1/public/verify/{token}"), None)
            .await;
        assert_eq!(v["genuine"], true, "{v}");
        assert_eq!(v["device"]["device"], device.as_str());
        assert_eq!(v["challan"]["challan_number"], r["number"]);
        assert_eq!(
            ring.verify(token).unwrap().1.number,
            r["number"].as_str().unwrap()
        );
    }
    let mut raw = URL_SAFE_NO_PAD
        .decode(sorted[0]["token"].as_str().unwrap())
        .unwrap();
    raw[10] ^= 0x04;
    let altered = URL_SAFE_NO_PAD.encode(&raw);
    let (_, v) = app
        .get(&format!("/api/v1/public/verify/{altered}"), None)
        .await;
    assert_eq!(v["genuine"], false);
    assert!(ring.verify(&altered).is_err());

    // The verification page of one says where it came from.
    b.goto(&app.url(&format!("/v/{}", sorted[0]["token"].as_str().unwrap())))
        .await;
    b.wait_text("the device origin", |t| {
        t.contains("Issued offline by device TRF-PSH-001, officer officer.road")
    })
    .await;

    // A bank pays a synced PSID through 1Bill.
    let psid = sorted[3]["psid"].as_str().unwrap();
    let now = app.store.now().to_offset(KARACHI);
    let pay = efine_pay::sandbox::bank_payment(
        "sandbox-bank",
        "sandbox-1bill",
        psid,
        Money::from_paisa(sorted[3]["amount_paisa"].as_i64().unwrap()).unwrap(),
        777001,
        time::PrimitiveDateTime::new(now.date(), now.time()),
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

    // Online, the phone looks a vehicle up in every district.
    b.goto(&format!("{origin}/officer")).await;
    b.wait_script(
        "return document.getElementById('check').hidden ? 'no' : 'yes'",
        "yes",
    )
    .await;
    b.find("#check-plate").await.type_text("pes 5").await;
    b.find("#check-btn").await.click().await;
    let due = Money::from_paisa(sorted[4]["amount_paisa"].as_i64().unwrap()).unwrap();
    let want = format!("1 unpaid, {due} due today");
    b.wait_text("the vehicle check", |t| t.contains(&want))
        .await;

    // Revoked in the console: the next challan the phone issues is refused, and it says why.
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
    let r = http
        .post(app.url("/staff/devices/revoke"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", hidden(&page, "csrf").as_str()),
            ("device", "TRF-PSH-001"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    b.goto(&format!("{origin}/officer")).await;
    b.wait_script(
        "return (window.efine && !document.getElementById('issue').hidden) ? 'yes' : 'no'",
        "yes",
    )
    .await;
    b.wait_script("return window.efine.state.position ? 'yes' : 'no'", "yes")
        .await;
    b.find("#vehicle").await.type_text("PES-99").await;
    b.find("#issue-btn").await.click().await;
    wait_states(&b, "the late one refused", |s| {
        s.iter().filter(|x| *x == "refused").count() == 1
    })
    .await;
    b.find("#another").await.click().await;
    b.wait_text("the reason", |t| {
        t.contains("the device was revoked before this challan was issued")
    })
    .await;
    b.script("document.getElementById('list').scrollIntoView(); return 1")
        .await;
    b.screenshot("officer-refused-phone").await;
    b.goto(&format!("{origin}/officer?lang=ur")).await;
    b.wait_script("return document.documentElement.dir", "rtl")
        .await;
    b.wait_script(
        "return String(document.querySelectorAll('#list li[data-state=refused]').length)",
        "1",
    )
    .await;
    b.script("document.getElementById('list').scrollIntoView(); return 1")
        .await;
    b.screenshot("officer-refused-ur-phone").await;
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM challans").await,
        before + ISSUED as i64
    );
}
