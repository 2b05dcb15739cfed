//! Is this QR token genuine? One function shared by the JSON endpoint and the `/v/{token}` page:
//! check the signature against every known key (`efine_core::qr`), then find the record it names
//! and check that the record still says what was signed.

use crate::error::{ApiError, ApiResult};
use crate::AppState;
use efine_core::challan::Challan;
use efine_core::qr::{KeyId, TokenKind, TokenPayload};
use efine_core::ChallanNumber;
use efine_store::ops::catalogue::Names;
use efine_store::ops::payments::{self, Receipt};
use efine_store::ops::{catalogue, challans};

/// The answer to "is this genuine?".
#[derive(Debug)]
pub enum Verdict {
    /// Signed by a known key, and the record exists and matches what was signed.
    GenuineChallan {
        key_id: KeyId,
        payload: TokenPayload,
        challan: Box<Challan>,
        names: Names,
        paid: Option<Receipt>,
        /// Issued offline on an officer's device: which, and when it was synced.
        device: Option<efine_store::ops::devices::Provenance>,
    },
    /// A receipt signed by a known key, on record and matching.
    GenuineReceipt {
        key_id: KeyId,
        payload: TokenPayload,
        receipt: Receipt,
        challan: Box<Challan>,
        names: Names,
    },
    NotGenuine {
        /// `malformed`, `unknown_key`, `bad_signature`, `no_such_record`, `record_mismatch`.
        code: &'static str,
        reason: String,
        /// What the token claims, when its signature held.
        payload: Option<(KeyId, TokenPayload)>,
    },
}

/// Checks a token. Only a database failure is an error; every kind of forgery is a verdict.
pub async fn check(state: &AppState, token: &str) -> ApiResult<Verdict> {
    let mut verified = state.keys.current().ring.verify(token);
    if let Err(efine_core::qr::TokenError::UnknownKey(_)) = verified {
        // Another node may have rotated since this one last looked.
        let reloaded = state.keys.refresh_on_miss().await.map_err(|e| match e {
            efine_store::keys::KeyError::Store(e) => ApiError::from(e),
            other => ApiError::internal(other),
        })?;
        if reloaded {
            verified = state.keys.current().ring.verify(token);
        }
    }
    let mut device_key = None;
    if let Err(efine_core::qr::TokenError::UnknownKey(kid)) = verified {
        // Not a server key: an officer's device key, checked with its revocation.
        let kid_text = kid.to_string();
        let found = state
            .store
            .read(move |tx| efine_store::ops::devices::by_kid(tx, &kid_text))
            .await?;
        if let Some(d) = found {
            verified = d.ring().map_err(ApiError::from)?.verify(token);
            device_key = Some(d);
        }
    }
    let (key_id, payload) = match verified {
        Ok(v) => v,
        Err(e) => {
            return Ok(Verdict::NotGenuine {
                code: e.code(),
                reason: e.to_string(),
                payload: None,
            })
        }
    };
    let not_genuine = |code, reason: String, payload: TokenPayload| Verdict::NotGenuine {
        code,
        reason,
        payload: Some((key_id, payload)),
    };
    match payload.kind {
        TokenKind::Receipt => {
            let n = payload.number.clone();
            let found = state
                .store
                .read(move |tx| {
                    let Some(r) = payments::receipt_by_number(tx, &n)? else {
                        return Ok(None);
                    };
                    let number = ChallanNumber::parse(&r.challan_number)?;
                    let Some(c) = challans::by_number(tx, &number)? else {
                        return Ok(None);
                    };
                    let names = catalogue::names_for(tx, &c)?;
                    Ok(Some((r, c, names)))
                })
                .await?;
            let Some((receipt, challan, names)) = found else {
                return Ok(not_genuine(
                    "no_such_record",
                    format!("no receipt {} is on record", payload.number),
                    payload,
                ));
            };
            if let Err(field) = payload.check_receipt(
                &receipt.number,
                receipt.amount,
                &challan.department,
                &challan.district,
                receipt.paid_at,
            ) {
                return Ok(not_genuine(
                    "record_mismatch",
                    format!(
                        "the code was signed for receipt {} but its {field} differs from the record",
                        payload.number
                    ),
                    payload,
                ));
            }
            Ok(Verdict::GenuineReceipt {
                key_id,
                payload,
                receipt,
                challan: Box::new(challan),
                names,
            })
        }
        TokenKind::Challan => {
            let Ok(number) = ChallanNumber::parse(&payload.number) else {
                return Ok(not_genuine(
                    "no_such_record",
                    format!("{} is not a challan number", payload.number),
                    payload,
                ));
            };
            let found = state
                .store
                .read(move |tx| match challans::by_number(tx, &number)? {
                    Some(c) => {
                        let names = catalogue::names_for(tx, &c)?;
                        let paid = payments::receipt_for_challan(tx, &c.number.to_string())?;
                        let device = efine_store::ops::devices::provenance(tx, &c.number)?;
                        Ok(Some((c, names, paid, device)))
                    }
                    None => Ok(None),
                })
                .await?;
            let Some((challan, names, paid, device)) = found else {
                if let Some(d) = device_key {
                    return Ok(not_genuine(
                        "not_yet_synced",
                        format!(
                            "issued offline by device {}, officer {}, not yet synced: genuinely \
                             signed by the device, but the challan is not on record yet",
                            d.id, d.officer
                        ),
                        payload,
                    ));
                }
                return Ok(not_genuine(
                    "no_such_record",
                    format!("no challan {} is on record", payload.number),
                    payload,
                ));
            };
            if let Err(field) = payload.check_challan(&challan) {
                return Ok(not_genuine(
                    "record_mismatch",
                    format!(
                        "the code was signed for challan {} but its {field} differs from the record",
                        payload.number
                    ),
                    payload,
                ));
            }
            // A device's key vouches only for that device's challans.
            if let Some(d) = &device_key {
                if device.as_ref().map(|p| &p.device) != Some(&d.id) {
                    return Ok(not_genuine(
                        "record_mismatch",
                        format!(
                            "the code was signed by device {} but challan {} was not issued on it",
                            d.id, payload.number
                        ),
                        payload,
                    ));
                }
            }
            Ok(Verdict::GenuineChallan {
                key_id,
                payload,
                challan: Box::new(challan),
                names,
                paid,
                device,
            })
        }
    }
}

/// `<public URL>/v/<token>`: what the QR code carries.
pub fn verify_url(state: &AppState, token: &str) -> String {
    format!("{}/v/{token}", state.config.public_url)
}
