//! `efine qr verify --keys` with no network, on a challan code an officer's phone signed with
//! its own device key: the saved key set (`/.well-known/efine-keys.json`, device keys listed
//! with their officer, valid-from and revoked-at) is all it needs. One altered byte is refused;
//! a code the device signed for a time after its revocation is refused.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use efine_core::money::Money;
use efine_core::qr::{TokenKind, TokenPayload, TokenSigner};
use efine_core::{DepartmentCode, DistrictCode};
use serde_json::json;

const EFINE: &str = env!("CARGO_BIN_EXE_efine");

fn verify(token: &str, keys: &std::path::Path) -> (i32, String) {
    let data = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(EFINE)
        .env_remove("EFINE_DATABASE_URL")
        .env("EFINE_DATA_DIR", data.path())
        .env("EFINE_LOG", "warn")
        .args(["qr", "verify", token, "--keys"])
        .arg(keys)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn token(device: &TokenSigner, at: i64) -> String {
    device
        .sign(&TokenPayload {
            kind: TokenKind::Challan,
            number: "TRF-PSH-2026-900300007".into(),
            amount: Money::from_rupees(500).unwrap(),
            department: DepartmentCode::parse("traffic-police").unwrap(),
            district: DistrictCode::parse("peshawar").unwrap(),
            at: time::OffsetDateTime::from_unix_timestamp(at).unwrap(),
        })
        .unwrap()
}

#[test]
fn a_device_signed_code_verifies_offline_with_the_published_keys() {
    let server = TokenSigner::from_secret(&[1u8; 32]);
    let device = TokenSigner::from_secret(&[2u8; 32]);
    let key = |s: &TokenSigner| URL_SAFE_NO_PAD.encode(s.verifying_key().as_bytes());
    let keys = json!({"keys": [
        {"kid": server.key_id().to_string(), "alg": "Ed25519", "public_key": key(&server),
         "created_at": "2026-01-01T00:00:00Z", "active": true},
        {"kid": device.key_id().to_string(), "alg": "Ed25519", "public_key": key(&device),
         "created_at": "2026-11-01T00:00:00Z", "active": false, "device": "TRF-PSH-003",
         "officer": "officer.swat", "valid_from": "2026-11-01T00:00:00Z",
         "revoked_at": "2026-11-30T00:00:00Z"},
    ]});
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("efine-keys.json");
    std::fs::write(&file, keys.to_string()).unwrap();

    // Issued 2026-11-20, before the revocation.
    let good = token(&device, 1_795_650_000);
    let (code, out) = verify(&good, &file);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("GENUINE signature: challan TRF-PSH-2026-900300007, Rs 500"),
        "{out}"
    );
    assert!(
        out.contains("issued offline by device TRF-PSH-003, officer officer.swat"),
        "{out}"
    );

    let mut raw = URL_SAFE_NO_PAD.decode(&good).unwrap();
    raw[12] ^= 0x01;
    let (code, out) = verify(&URL_SAFE_NO_PAD.encode(&raw), &file);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("NOT GENUINE"), "{out}");

    // Signed for 2026-12-01, after the device was revoked.
    let (code, out) = verify(&token(&device, 1_796_083_200), &file);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("after the device was revoked"), "{out}");
}
