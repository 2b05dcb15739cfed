//! Starting a hosted payment: an attempt for the amount due today, and the signed form that sends
//! the payer to the rail's page (JazzCash, Easypaisa or the card gateway).

use crate::error::ServiceError;
use crate::Context;
use efine_core::clock::KARACHI;
use efine_core::payment::Rail;
use efine_core::ChallanNumber;
use efine_pay::jazzcash;
use std::collections::BTreeMap;

/// Where to send the payer.
#[derive(Debug, Clone)]
pub struct Checkout {
    pub rail: Rail,
    /// Our reference for the attempt (the rail echoes it).
    pub reference: String,
    pub amount: efine_core::Money,
    /// Post `fields` as a form (`http_method` POST) or follow the URL, which carries them (GET).
    pub gateway_url: String,
    pub http_method: &'static str,
    pub fields: BTreeMap<String, String>,
}

/// Starts a payment attempt for `number` on `method` (`jazzcash`, `easypaisa`, `card`).
/// `urdu_return`: the payer started from the Urdu portal. JazzCash's return URL then carries
/// `?lang=ur`, because the payer's browser comes back in a cross-site POST that carries no
/// language cookie.
pub async fn start(
    ctx: &Context,
    number: ChallanNumber,
    method: &str,
    urdu_return: bool,
) -> Result<Checkout, ServiceError> {
    let p = &ctx.payments;
    let offered = p.hosted();
    let names: Vec<&str> = offered.iter().map(|r| r.as_str()).collect();
    let otherwise = if p.takes_1bill() {
        "pay with the PSID at any bank, ATM or banking app (1Bill)"
    } else {
        "pay at the counter of the department that issued the challan"
    };
    let rail = match Rail::parse(method.trim()) {
        Some(r @ (Rail::Jazzcash | Rail::Easypaisa | Rail::Card)) => r,
        _ if offered.is_empty() => {
            return Err(ServiceError::invalid(
                "method",
                format!("this server takes no online payment; {otherwise}"),
            ))
        }
        _ => {
            return Err(ServiceError::invalid(
                "method",
                format!("method must be {}; or {otherwise}", names.join(", ")),
            ))
        }
    };
    let not_configured = || {
        let takes = if offered.is_empty() {
            "no online payment".to_string()
        } else {
            names.join(", ")
        };
        ServiceError::invalid(
            "method",
            format!(
                "{} is not offered on this server (it takes {takes}); {otherwise}",
                rail.label()
            ),
        )
    };
    if !offered.contains(&rail) {
        return Err(not_configured());
    }
    let now = ctx.store.now();
    let (attempt, challan) = ctx
        .store
        .write(move |tx| {
            efine_store::ops::payments::start_attempt(tx, &number, rail, "citizen", now)
        })
        .await?;
    let public = &p.public_url;
    let local = now.to_offset(KARACHI);
    let at_local = time::PrimitiveDateTime::new(local.date(), local.time());
    let (gateway_url, http_method, fields) = match (rail, &p.jazzcash, &p.easypaisa, &p.card) {
        (Rail::Jazzcash, Some(jc), _, _) => {
            let fields = jazzcash::checkout_fields(
                &jc.merchant,
                &jazzcash::Checkout {
                    reference: &attempt.reference,
                    amount: attempt.amount,
                    bill_reference: &attempt.challan_number,
                    description: &format!("Challan {}", attempt.challan_number),
                    return_url: &format!(
                        "{public}/payments/jazzcash/return{}",
                        if urdu_return { "?lang=ur" } else { "" }
                    ),
                    at_local,
                    valid_for: time::Duration::hours(1),
                    psid: challan.psid.as_str(),
                },
            );
            (jc.gateway_url.clone(), "POST", fields)
        }
        (Rail::Easypaisa, _, Some(ep), _) => {
            let fields = efine_pay::easypaisa::checkout_fields(
                &ep.store,
                &efine_pay::easypaisa::Checkout {
                    order_ref: &attempt.reference,
                    amount: attempt.amount,
                    post_back_url: &format!("{public}/payments/easypaisa/postback"),
                    at_local,
                    valid_for: time::Duration::hours(1),
                    payment_method: efine_pay::easypaisa::PaymentMethod::MobileAccount,
                    mobile_num: None,
                    email: None,
                },
            );
            (ep.checkout_url.clone(), "POST", fields)
        }
        (Rail::Card, _, _, Some(cg)) => {
            let s = efine_pay::card::session_request(
                &cg.gateway,
                &attempt.reference,
                attempt.amount,
                &format!("{public}/payments/card/return"),
            );
            (s.url, "GET", s.fields)
        }
        _ => return Err(not_configured()),
    };
    Ok(Checkout {
        rail,
        reference: attempt.reference,
        amount: attempt.amount,
        gateway_url,
        http_method,
        fields,
    })
}
