//! Asking a rail what happened to one of our payment references: Easypaisa's
//! `inquire-transaction` and JazzCash's status inquiry (signed both ways). The pending poller and
//! Easypaisa's unsigned postback use them; what they answer is applied through
//! [`crate::outcome::apply`] like any other message from the rail.

use super::{EasypaisaConfig, JazzcashConfig};
use efine_pay::{easypaisa, jazzcash, RailOutcome};

#[derive(Debug, thiserror::Error)]
pub enum InquiryFailed {
    #[error("the rail did not answer: {0}")]
    Transport(String),
    #[error("the rail's answer is not usable: {0}")]
    Answer(String),
}

/// Asks Easypaisa what happened to an order. Returns the outcome and the raw answer (kept with
/// the verdict).
pub async fn easypaisa(
    http: &reqwest::Client,
    cfg: &EasypaisaConfig,
    order_ref: &str,
) -> Result<(RailOutcome, String), InquiryFailed> {
    let req = easypaisa::inquiry_request(&cfg.store, order_ref);
    let resp = http
        .post(format!(
            "{}{}",
            cfg.api_base.trim_end_matches('/'),
            easypaisa::INQUIRE_PATH
        ))
        .header(
            easypaisa::CREDENTIALS_HEADER,
            easypaisa::credentials_header(&cfg.store),
        )
        .json(&req)
        .send()
        .await
        .map_err(|e| InquiryFailed::Transport(e.to_string()))?;
    let body = resp
        .bytes()
        .await
        .map_err(|e| InquiryFailed::Transport(e.to_string()))?;
    let inquiry = easypaisa::parse_inquiry(&cfg.store, order_ref, &body)
        .map_err(|e| InquiryFailed::Answer(e.to_string()))?;
    Ok((inquiry.outcome, String::from_utf8_lossy(&body).into_owned()))
}

/// Asks JazzCash what happened to one of our references.
pub async fn jazzcash(
    http: &reqwest::Client,
    cfg: &JazzcashConfig,
    reference: &str,
) -> Result<(RailOutcome, String), InquiryFailed> {
    let req = jazzcash::inquiry_request(&cfg.merchant, reference);
    let resp = http
        .post(format!(
            "{}{}",
            cfg.api_base.trim_end_matches('/'),
            jazzcash::INQUIRY_PATH
        ))
        .json(&req)
        .send()
        .await
        .map_err(|e| InquiryFailed::Transport(e.to_string()))?;
    let body = resp
        .bytes()
        .await
        .map_err(|e| InquiryFailed::Transport(e.to_string()))?;
    let fields: jazzcash::Fields =
        serde_json::from_slice(&body).map_err(|e| InquiryFailed::Answer(e.to_string()))?;
    let outcome = jazzcash::parse_inquiry(&cfg.merchant, reference, &fields)
        .map_err(|e| InquiryFailed::Answer(e.to_string()))?;
    Ok((outcome, String::from_utf8_lossy(&body).into_owned()))
}

/// Asks the biller's bank for every Raast payment it holds for a PSID. Returns the payments and
/// the raw answer.
pub async fn raast(
    http: &reqwest::Client,
    cfg: &super::RaastConfig,
    psid: &str,
) -> Result<(Vec<efine_pay::raast::Payment>, String), InquiryFailed> {
    let resp = http
        .get(format!(
            "{}/bills/{psid}/payments",
            cfg.api_base.trim_end_matches('/')
        ))
        .basic_auth(&cfg.api_username, Some(&cfg.api_password))
        .send()
        .await
        .map_err(|e| InquiryFailed::Transport(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(InquiryFailed::Answer(format!("HTTP {}", resp.status())));
    }
    let body = resp
        .bytes()
        .await
        .map_err(|e| InquiryFailed::Transport(e.to_string()))?;
    let payments = efine_pay::raast::read_inquiry(psid, &body)
        .map_err(|e| InquiryFailed::Answer(e.to_string()))?;
    Ok((payments, String::from_utf8_lossy(&body).into_owned()))
}
