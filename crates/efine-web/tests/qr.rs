//! Signed QR codes through the real server, on SQLite and PostgreSQL: issuance returns a token
//! that verifies, forgeries are refused with the reason, the PDF's QR code decodes to a token that
//! verifies, the ESC/POS slip carries the printer's QR command, and rotation keeps old tokens.

mod common;

use common::TestApp;
use efine_core::qr::{TokenKind, TokenPayload, TokenSigner};
use efine_core::{DepartmentCode, DistrictCode, Money};
use serde_json::{json, Value};
use std::process::Command;

both_backends!(
    issued_token_verifies_with_current_status,
    altered_token_is_not_genuine,
    unknown_key_and_missing_record_are_not_genuine,
    well_known_keys_verify_the_token,
    verification_page_in_english_and_urdu,
    pdf_qr_decodes_to_a_token_that_verifies,
    escpos_slip_has_init_qr_and_cut,
    rotation_keeps_old_tokens_valid,
    paid_receipt_qr_says_paid,
);

fn body() -> Value {
    json!({"offence_code": "no-helmet", "vehicle_number": "pes 1234",
           "name": "Muhammad Asif Khan", "cnic": "17301-1234567-1"})
}

async fn issue(app: &TestApp) -> Value {
    let officer = app.officer().await;
    let (s, v) = app.issue(&officer, body()).await;
    assert_eq!(s, 201, "{v}");
    v
}

async fn verify(app: &TestApp, token: &str) -> Value {
    let (s, v) = app
        .get(&format!("/api/v1/public/verify/{token}"), None)
        .await;
    assert_eq!(s, 200, "{v}");
    v
}

/// The server's own keys, as it has them loaded.
fn server_keys(app: &TestApp) -> std::sync::Arc<efine_store::keys::KeySet> {
    app.state.keys.current()
}

async fn issued_token_verifies_with_current_status(app: TestApp) {
    let c = issue(&app).await;
    let token = c["qr_token"].as_str().unwrap();
    assert_eq!(
        c["verify_url"],
        format!("http://127.0.0.1:8080/v/{token}"),
        "QR URL uses EFINE_PUBLIC_URL's default"
    );
    let v = verify(&app, token).await;
    assert_eq!(v["genuine"], true, "{v}");
    assert_eq!(v["kind"], "challan");
    assert_eq!(v["number"], c["challan_number"]);
    assert_eq!(v["signed_amount"], 50000);
    assert_eq!(v["reason_code"], Value::Null);
    assert_eq!(v["challan"]["status"], "unpaid");
    assert_eq!(v["challan"]["amount_due"], 50000);
    // Public view: personal data masked.
    assert_eq!(v["challan"]["cnic"], "*****-****567-*");
    assert_eq!(v["challan"]["name"], "M******* A*** K***");
    let summary = v["summary"].as_str().unwrap();
    assert!(
        summary.starts_with(&format!(
            "Genuine challan {}: unpaid, Rs 500 due by {}",
            c["challan_number"].as_str().unwrap(),
            c["due_date"].as_str().unwrap()
        )),
        "{summary}"
    );
}

async fn altered_token_is_not_genuine(app: TestApp) {
    let c = issue(&app).await;
    let token = c["qr_token"].as_str().unwrap().to_string();
    // One character changed in the payload, in the middle, and in the signature.
    for i in [8, token.len() / 2, token.len() - 10] {
        let mut chars: Vec<char> = token.chars().collect();
        chars[i] = if chars[i] == 'x' { 'y' } else { 'x' };
        let bad: String = chars.into_iter().collect();
        let v = verify(&app, &bad).await;
        assert_eq!(v["genuine"], false, "position {i}: {v}");
        assert!(
            ["bad_signature", "malformed", "unknown_key"]
                .contains(&v["reason_code"].as_str().unwrap()),
            "{v}"
        );
        assert!(!v["reason"].as_str().unwrap().is_empty());
        assert_eq!(v["challan"], Value::Null);
    }
    let v = verify(&app, "not-a-token").await;
    assert_eq!(v["genuine"], false);
    assert_eq!(v["reason_code"], "malformed");
}

async fn unknown_key_and_missing_record_are_not_genuine(app: TestApp) {
    let c = issue(&app).await;
    let number = c["challan_number"].as_str().unwrap().to_string();
    let issued_at = time::OffsetDateTime::parse(
        c["issued_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let payload = |number: &str, rupees: i64| TokenPayload {
        kind: TokenKind::Challan,
        number: number.into(),
        amount: Money::from_rupees(rupees).unwrap(),
        department: DepartmentCode::parse("traffic-police").unwrap(),
        district: DistrictCode::parse("peshawar").unwrap(),
        at: issued_at,
    };

    // A forger's key: well-formed, for a real challan, but not a key E-Fine knows.
    let forger = TokenSigner::from_secret(&[7u8; 32]);
    let v = verify(&app, &forger.sign(&payload(&number, 500)).unwrap()).await;
    assert_eq!(v["genuine"], false);
    assert_eq!(v["reason_code"], "unknown_key");
    assert!(v["reason"]
        .as_str()
        .unwrap()
        .contains(&forger.key_id().to_string()));

    let keys = server_keys(&app);
    let signer = &keys.signer;
    // The genuine key, the genuine payload: genuine (the control for the cases below).
    let v = verify(&app, &signer.sign(&payload(&number, 500)).unwrap()).await;
    assert_eq!(v["genuine"], true, "{v}");

    // Signed, but for a challan that does not exist.
    let v = verify(
        &app,
        &signer.sign(&payload("TRF-PSH-2026-999999", 500)).unwrap(),
    )
    .await;
    assert_eq!(v["genuine"], false);
    assert_eq!(v["reason_code"], "no_such_record");
    assert!(v["reason"]
        .as_str()
        .unwrap()
        .contains("TRF-PSH-2026-999999"));

    // Signed, for a real challan, but with another amount than the record.
    let v = verify(&app, &signer.sign(&payload(&number, 50)).unwrap()).await;
    assert_eq!(v["genuine"], false);
    assert_eq!(v["reason_code"], "record_mismatch");
    assert!(v["reason"].as_str().unwrap().contains("amount"), "{v}");

    // A receipt token: the kind exists, receipts are not recorded yet.
    let r = signer
        .sign_receipt(
            "RCP-2026-000001",
            Money::from_rupees(500).unwrap(),
            &DepartmentCode::parse("traffic-police").unwrap(),
            &DistrictCode::parse("peshawar").unwrap(),
            issued_at,
        )
        .unwrap();
    let v = verify(&app, &r).await;
    assert_eq!(v["genuine"], false);
    assert_eq!(v["kind"], "receipt");
    assert_eq!(v["reason_code"], "no_such_record");
}

async fn well_known_keys_verify_the_token(app: TestApp) {
    let c = issue(&app).await;
    let (s, v) = app.get("/.well-known/efine-keys.json", None).await;
    assert_eq!(s, 200);
    let keys = v["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["alg"], "Ed25519");
    assert_eq!(keys[0]["active"], true);
    let set: efine_store::keys::PublishedKeys = serde_json::from_value(v.clone()).unwrap();
    let ring = set.ring().unwrap();
    let (kid, p) = ring.verify(c["qr_token"].as_str().unwrap()).unwrap();
    assert_eq!(kid.to_string(), keys[0]["kid"].as_str().unwrap());
    assert_eq!(p.number, c["challan_number"].as_str().unwrap());
    assert!(!v.to_string().contains("secret"));
}

async fn verification_page_in_english_and_urdu(app: TestApp) {
    let c = issue(&app).await;
    let token = c["qr_token"].as_str().unwrap();
    let page = |path: String| {
        let http = app.http.clone();
        let url = app.url(&path);
        async move {
            let r = http.get(url).send().await.unwrap();
            assert_eq!(r.status(), 200);
            assert!(r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"));
            r.text().await.unwrap()
        }
    };
    let en = page(format!("/v/{token}")).await;
    assert!(en.contains(">&#10004; GENUINE<"), "{en}");
    assert!(!en.contains("NOT GENUINE"));
    assert!(en.contains(c["challan_number"].as_str().unwrap()));
    assert!(en.contains("unpaid"));
    assert!(!en.contains("<script"));

    let ur = page(format!("/v/{token}?lang=ur")).await;
    assert!(ur.contains("dir=\"rtl\""));
    assert!(ur.contains("اصلی"));
    assert!(ur.contains("غیر ادا شدہ"));

    let mut bad = token.to_string();
    bad.replace_range(20..21, if &token[20..21] == "Q" { "R" } else { "Q" });
    let en = page(format!("/v/{bad}")).await;
    assert!(en.contains("NOT GENUINE"), "{en}");
    assert!(en.contains("Reason:"));
    let ur = page(format!("/v/{bad}?lang=ur")).await;
    assert!(ur.contains("اصلی نہیں"));

    // Markup in the path is escaped, never echoed raw.
    let evil = page("/v/%3Cscript%3E".to_string()).await;
    assert!(!evil.contains("<script>"));
}

/// The distinct QR codes on page 1 of a PDF, rasterised at `dpi` and, as a phone's camera sees
/// a code at more than one size, at 1.5 and 2 times that: the decoder misses a code now and then
/// when its modules fall between pixels, and a code counts when it reads at any of them.
fn qr_codes_in_pdf(pdf: &[u8], dpi: u32) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for r in [dpi, dpi * 3 / 2, dpi * 2] {
        for code in qr_codes_at(pdf, r) {
            if !found.contains(&code) {
                found.push(code);
            }
        }
    }
    found
}

/// Rasterises page 1 of a PDF with pdftoppm at `dpi` and returns the QR codes found on it.
fn qr_codes_at(pdf: &[u8], dpi: u32) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).unwrap();
    let ok = Command::new("pdftoppm")
        .args(["-r", &dpi.to_string(), "-png", "-singlefile"])
        .arg(&path)
        .arg(dir.path().join("page"))
        .status()
        .expect("pdftoppm (Debian poppler-utils): scripts/test installs it")
        .success();
    assert!(ok);
    let img = image::open(dir.path().join("page.png")).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_, s)| s))
        .collect()
}

async fn pdf_qr_decodes_to_a_token_that_verifies(app: TestApp) {
    let c = issue(&app).await;
    let number = c["challan_number"].as_str().unwrap();
    for (query, dpi) in [("", 150), ("?paper=58mm", 200)] {
        let r = app
            .http
            .get(app.url(&format!("/challans/{number}/receipt.pdf{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/pdf");
        let pdf = r.bytes().await.unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let codes = qr_codes_in_pdf(&pdf, dpi);
        // The verification link, and the Raast QR (this server takes Raast).
        assert_eq!(codes.len(), 2, "{query}: {codes:?}");
        assert_eq!(
            codes.iter().filter(|c| c.starts_with("000201")).count(),
            1,
            "{codes:?}"
        );
        let url = codes
            .iter()
            .find(|c| c.starts_with("http"))
            .unwrap_or_else(|| panic!("{codes:?}"));
        let token = url
            .strip_prefix("http://127.0.0.1:8080/v/")
            .unwrap_or_else(|| panic!("{url}"));
        let v = verify(&app, token).await;
        assert_eq!(v["genuine"], true, "{v}");
        assert_eq!(v["number"], number);
    }
    let (s, v) = app
        .get(
            &format!("/challans/{number}/receipt.pdf?paper=letter"),
            None,
        )
        .await;
    assert_eq!(s, 422);
    assert_eq!(v["error"]["field"], "paper");
    let (s, _) = app
        .get("/challans/TRF-PSH-2026-999999/receipt.pdf", None)
        .await;
    assert_eq!(s, 404);
}

async fn escpos_slip_has_init_qr_and_cut(app: TestApp) {
    let c = issue(&app).await;
    let number = c["challan_number"].as_str().unwrap();
    let r = app
        .http
        .get(app.url(&format!("/challans/{number}/receipt.escpos")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/vnd.escpos");
    let b = r.bytes().await.unwrap().to_vec();
    let has = |needle: &[u8]| b.windows(needle.len()).any(|w| w == needle);
    assert_eq!(&b[..2], b"\x1b@", "ESC @ first");
    assert!(has(b"\x1d(k"), "GS ( k");
    let mut store = b"1P0".to_vec();
    store.extend_from_slice(c["verify_url"].as_str().unwrap().as_bytes());
    assert!(has(&store), "QR store command carries the verify URL");
    assert!(has(b"\x1d(k\x03\x001Q0"), "QR print command");
    assert!(b.ends_with(b"\x1dVB\x00"), "GS V cut last");
    assert!(has(number.as_bytes()));
}

async fn rotation_keeps_old_tokens_valid(mut app: TestApp) {
    let first = issue(&app).await;
    let old_token = first["qr_token"].as_str().unwrap().to_string();
    let old_kid = verify(&app, &old_token).await["key_id"]
        .as_str()
        .unwrap()
        .to_string();

    let new_kid = efine_store::keys::rotate(&app.store, &app.kek)
        .await
        .unwrap();
    app.restart().await;

    let v = verify(&app, &old_token).await;
    assert_eq!(v["genuine"], true, "old token after rotation: {v}");
    assert_eq!(v["key_id"], old_kid);

    let officer = app.login("officer.psh", common::PASSWORD).await;
    let (s, second) = app.issue(&officer, body()).await;
    assert_eq!(s, 201);
    let v = verify(&app, second["qr_token"].as_str().unwrap()).await;
    assert_eq!(v["genuine"], true);
    assert_eq!(v["key_id"], new_kid.to_string());

    let (_, keys) = app.get("/.well-known/efine-keys.json", None).await;
    let keys = keys["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    let active: Vec<&Value> = keys.iter().filter(|k| k["active"] == true).collect();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0]["kid"], new_kid.to_string());
}

async fn paid_receipt_qr_says_paid(app: TestApp) {
    let c = issue(&app).await;
    let number = c["challan_number"].as_str().unwrap();
    let challan_token = c["qr_token"].as_str().unwrap().to_string();
    let now = app.store.now().to_offset(efine_core::clock::KARACHI);
    let pay = efine_pay::sandbox::bank_payment(
        "sandbox-bank",
        "sandbox-1bill",
        c["psid"].as_str().unwrap(),
        Money::from_paisa(c["amount_due"].as_i64().unwrap()).unwrap(),
        4242,
        time::PrimitiveDateTime::new(now.date(), now.time()),
        "HBL",
    );
    let (s, paid) = app
        .post(
            "/api/v1/1bill/bill-payment",
            serde_json::to_value(pay).unwrap(),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(paid["response_Code"], "00", "{paid}");
    let receipt = paid["Identification_parameter"]
        .as_str()
        .unwrap()
        .to_string();

    let r = app
        .http
        .get(app.url(&format!("/payments/{receipt}/receipt.pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let pdf = r.bytes().await.unwrap();
    let codes = qr_codes_in_pdf(&pdf, 150);
    assert_eq!(codes.len(), 1, "{codes:?}");
    let token = codes[0].rsplit("/v/").next().unwrap().to_string();
    let v = verify(&app, &token).await;
    assert_eq!(v["genuine"], true, "{v}");
    assert_eq!(v["kind"], "receipt");
    assert_eq!(v["number"], receipt.as_str());
    let summary = v["summary"].as_str().unwrap();
    assert!(
        summary.contains("paid on") && summary.contains("bank / 1Bill") && summary.contains(number),
        "{summary}"
    );
    assert_eq!(v["challan"]["paid"]["receipt_number"], receipt.as_str());

    // The challan's own code now says how it was paid.
    let v = verify(&app, &challan_token).await;
    assert_eq!(v["genuine"], true);
    let summary = v["summary"].as_str().unwrap();
    assert!(summary.contains(&format!("receipt {receipt}")), "{summary}");

    // The page a payer lands on shows the payment, not an amount due.
    let page = app
        .http
        .get(app.url(&format!("/v/{token}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Paid by") && page.contains(&receipt),
        "{page}"
    );
    assert!(!page.contains("Amount due today"), "{page}");
    let paid_on = v_paid_on(&app, &receipt).await;
    assert!(page.contains(&paid_on), "{page}");
    // One character changed: not genuine.
    let mut altered = token.clone().into_bytes();
    let i = altered.len() / 2;
    altered[i] = if altered[i] == b'A' { b'B' } else { b'A' };
    let v = verify(&app, std::str::from_utf8(&altered).unwrap()).await;
    assert_eq!(v["genuine"], false);

    let r = app
        .http
        .get(app.url(&format!("/payments/{receipt}/receipt.escpos")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let b = r.bytes().await.unwrap().to_vec();
    assert!(b.windows(receipt.len()).any(|w| w == receipt.as_bytes()));
    assert_eq!(
        app.get("/payments/RCT-2026-9999999/receipt.pdf", None)
            .await
            .0,
        404
    );
    let (s, e) = app.get("/payments/not-a-receipt/receipt.pdf", None).await;
    assert_eq!(s, 422);
    assert_eq!(e["error"]["field"], "receipt_number");
}

async fn v_paid_on(app: &TestApp, receipt: &str) -> String {
    let r = receipt.to_string();
    let rec = app
        .store
        .read(move |tx| efine_store::ops::payments::receipt_by_number(tx, &r))
        .await
        .unwrap()
        .unwrap();
    efine_core::clock::karachi_date(rec.paid_at).to_string()
}
