//! Is this QR token genuine? One function shared by the JSON endpoint and the `/v/{token}` page:
//! check the signature against every known key (`efine_core::qr`), then find the record it names
//! and check that the record still says what was signed.

use crate::error::ApiResult;
use crate::AppState;
use efine_core::challan::Challan;
use efine_core::qr::{KeyId, TokenKind, TokenPayload};
use efine_core::ChallanNumber;
use efine_store::ops::catalogue::Names;
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
    let (key_id, payload) = match state.keys.ring.verify(token) {
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
        TokenKind::Receipt => Ok(not_genuine(
            "no_such_record",
            format!("no receipt {} is on record", payload.number),
            payload,
        )),
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
                        Ok(Some((c, names)))
                    }
                    None => Ok(None),
                })
                .await?;
            let Some((challan, names)) = found else {
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
            Ok(Verdict::GenuineChallan {
                key_id,
                payload,
                challan: Box::new(challan),
                names,
            })
        }
    }
}

/// `<public URL>/v/<token>`: what the QR code carries.
pub fn verify_url(state: &AppState, token: &str) -> String {
    format!("{}/v/{token}", state.config.public_url)
}
