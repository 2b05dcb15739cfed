//! The card gateway's side, for the sandbox: accepting the signed checkout redirect, and the signed
//! notification the gateway sends when the payer has chosen. Pure: the caller supplies the clock
//! and the gateway's transaction id.

use crate::card::{self, EventType, Gateway, NotificationBody, Session};
use crate::sandbox::Choice;
use efine_core::Money;

/// Checks a checkout redirect (the URL or its query) as the hosted card page does.
pub fn accept_session(g: &Gateway, url_or_query: &str) -> Result<Session, card::SessionError> {
    card::verify_session(g, url_or_query)
}

/// The notification body for the payer's choice, exactly as the gateway serialises it.
pub fn notification_body(
    order_ref: &str,
    amount: Money,
    choice: Choice,
    gateway_txn_id: &str,
) -> Vec<u8> {
    let (kind, suffix) = match choice {
        Choice::Success => (EventType::Succeeded, "succeeded"),
        Choice::Failure => (EventType::Failed, "failed"),
        Choice::Pending => (EventType::Pending, "pending"),
    };
    let body = NotificationBody {
        id: format!("evt_{gateway_txn_id}_{suffix}"),
        kind,
        order_ref: order_ref.into(),
        amount_paisa: amount.paisa(),
        currency: "PKR".into(),
        gateway_txn_id: Some(gateway_txn_id.into()),
    };
    serde_json::to_vec(&body).expect("a plain struct serialises")
}

/// What the gateway sends for the payer's choice: the raw body and the
/// [`card::SIGNATURE_HEADER`] value, signed with `secret` at `now` (unix seconds).
pub fn notification(
    secret: &str,
    order_ref: &str,
    amount: Money,
    choice: Choice,
    gateway_txn_id: &str,
    now: i64,
) -> (Vec<u8>, String) {
    notification_signed_with(&[secret], order_ref, amount, choice, gateway_txn_id, now)
}

/// The same, signed with each of `secrets` (one `v1` each), as the gateway does while a secret
/// is being rotated.
pub fn notification_signed_with(
    secrets: &[&str],
    order_ref: &str,
    amount: Money,
    choice: Choice,
    gateway_txn_id: &str,
    now: i64,
) -> (Vec<u8>, String) {
    let body = notification_body(order_ref, amount, choice, gateway_txn_id);
    let sigs: Vec<String> = secrets.iter().map(|s| card::sign(s, now, &body)).collect();
    let header = card::signature_header(now, &sigs);
    (body, header)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::{NotificationError, SignatureError};
    use crate::RailOutcome;

    const NOW: i64 = 1_795_000_000;

    fn gateway(secrets: &[&str]) -> Gateway {
        Gateway {
            merchant_id: "EFINE-SANDBOX".into(),
            checkout_url: "http://127.0.0.1:8080/sandbox/card/pay".into(),
            session_secret: "sandbox-session".into(),
            webhook_secrets: secrets.iter().map(|s| s.to_string()).collect(),
            tolerance_secs: card::DEFAULT_TOLERANCE_SECS,
        }
    }

    #[test]
    fn round_trips_to_the_right_outcome_and_amount() {
        let g = gateway(&["whsec_1"]);
        let amount = Money::from_paisa(987_654).unwrap();
        let r = card::session_request(&g, "EF-7", amount, "http://127.0.0.1:8080/return");
        let s = accept_session(&g, &r.url).unwrap();
        assert_eq!((s.order_ref.as_str(), s.amount), ("EF-7", amount));

        let (body, header) = notification(
            "whsec_1",
            &s.order_ref,
            s.amount,
            Choice::Success,
            "G42",
            NOW,
        );
        let n = card::verify_notification(&g, &body, Some(&header), NOW + 10).unwrap();
        assert_eq!(n.order_ref, "EF-7");
        assert_eq!(n.amount, amount);
        assert_eq!(n.event_id, "evt_G42_succeeded");
        assert_eq!(
            n.outcome,
            RailOutcome::Confirmed {
                amount,
                rail_txn_id: "G42".into()
            }
        );
        let (body, header) = notification("whsec_1", "EF-7", amount, Choice::Pending, "G43", NOW);
        let n = card::verify_notification(&g, &body, Some(&header), NOW).unwrap();
        assert_eq!(n.outcome, RailOutcome::Pending);
        let (body, header) = notification("whsec_1", "EF-7", amount, Choice::Failure, "G44", NOW);
        let n = card::verify_notification(&g, &body, Some(&header), NOW).unwrap();
        assert!(matches!(n.outcome, RailOutcome::Failed { .. }));
    }

    #[test]
    fn body_is_the_documented_json() {
        let body = notification_body(
            "EF-7",
            Money::from_rupees(500).unwrap(),
            Choice::Success,
            "G1",
        );
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "id": "evt_G1_succeeded", "type": "payment.succeeded", "order_ref": "EF-7",
                "amount_paisa": 50_000, "currency": "PKR", "gateway_txn_id": "G1"
            })
        );
    }

    fn err(g: &Gateway, body: &[u8], header: &str, now: i64) -> NotificationError {
        card::verify_notification(g, body, Some(header), now).unwrap_err()
    }

    #[test]
    fn every_tamper_is_refused() {
        let g = gateway(&["whsec_1"]);
        let amount = Money::from_rupees(1000).unwrap();
        let (body, header) = notification("whsec_1", "EF-7", amount, Choice::Success, "G1", NOW);
        let sig = |e| NotificationError::Signature(e);
        // Changed amount, changed order ref: the body no longer matches its signature.
        let more = String::from_utf8(body.clone())
            .unwrap()
            .replace("100000", "900000");
        assert_ne!(more.as_bytes(), &body[..]);
        assert_eq!(
            err(&g, more.as_bytes(), &header, NOW),
            sig(SignatureError::NoMatchingSignature)
        );
        let other = String::from_utf8(body.clone())
            .unwrap()
            .replace("EF-7", "EF-8");
        assert_eq!(
            err(&g, other.as_bytes(), &header, NOW),
            sig(SignatureError::NoMatchingSignature)
        );
        // Wrong secret.
        let (b, h) = notification("whsec_guess", "EF-7", amount, Choice::Success, "G1", NOW);
        assert_eq!(
            err(&g, &b, &h, NOW),
            sig(SignatureError::NoMatchingSignature)
        );
        // 301 s old, 301 s ahead.
        assert_eq!(
            err(&g, &body, &header, NOW + 301),
            sig(SignatureError::TooOld {
                age: 301,
                tolerance: 300
            })
        );
        assert_eq!(
            err(&g, &body, &header, NOW - 301),
            sig(SignatureError::InFuture {
                ahead: 301,
                tolerance: 300
            })
        );
        assert!(card::verify_notification(&g, &body, Some(&header), NOW + 300).is_ok());
        // Missing header.
        assert_eq!(
            card::verify_notification(&g, &body, None, NOW),
            Err(sig(SignatureError::MissingHeader))
        );
    }

    #[test]
    fn key_rotation() {
        let amount = Money::from_rupees(1000).unwrap();
        // Signed with the old secret only (a notification sent before the gateway rotated).
        let (body, header) = notification("whsec_old", "EF-7", amount, Choice::Success, "G1", NOW);
        let rotating = gateway(&["whsec_new", "whsec_old"]);
        assert!(card::verify_notification(&rotating, &body, Some(&header), NOW).is_ok());
        let rotated = gateway(&["whsec_new"]);
        assert_eq!(
            err(&rotated, &body, &header, NOW),
            NotificationError::Signature(SignatureError::NoMatchingSignature)
        );
        // Signed with both during the rotation: passes whichever secret we hold.
        let (body, header) = notification_signed_with(
            &["whsec_new", "whsec_old"],
            "EF-7",
            amount,
            Choice::Success,
            "G1",
            NOW,
        );
        assert_eq!(header.matches("v1=").count(), 2);
        for g in [gateway(&["whsec_old"]), rotated, rotating] {
            assert!(card::verify_notification(&g, &body, Some(&header), NOW).is_ok());
        }
    }
}
