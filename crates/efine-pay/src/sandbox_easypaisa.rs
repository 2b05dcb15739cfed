//! Easypaisa's side of the hosted checkout, for the sandbox: accepting a hosted-page request as
//! Easypaisa would, the postback it sends the browser back with, and its answer to
//! `inquire-transaction`, in Easypaisa's field names. Pure: whoever serves the sandbox keeps what
//! the payer chose and passes it in.

use crate::easypaisa::{self, Fields, InquiryResponse, PaymentMethod, Store};
use crate::sandbox::Choice;
use efine_core::Money;
use subtle::ConstantTimeEq;

/// A hosted-page request Easypaisa would accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedCheckout {
    pub order_ref: String,
    pub amount: Money,
    pub payment_method: PaymentMethod,
    pub post_back_url: String,
}

/// Checks a hosted-page request as Easypaisa does: our store, a `merchantHashedReq` that holds, an
/// amount and payment method it understands.
pub fn accept_checkout(s: &Store, fields: &Fields) -> Result<AcceptedCheckout, &'static str> {
    if fields.get("storeId") != Some(&s.store_id) {
        return Err("unknown store");
    }
    if !easypaisa::verify_hashed_request(s, fields) {
        return Err("merchantHashedReq does not match the request");
    }
    let get = |k: &str| fields.get(k).map(String::as_str).unwrap_or_default();
    let amount = easypaisa::parse_amount(get("amount")).map_err(|_| "bad amount")?;
    if amount == Money::ZERO {
        return Err("bad amount");
    }
    let payment_method =
        PaymentMethod::parse(get("paymentMethod")).ok_or("unknown payment method")?;
    let order_ref = get("orderRefNum");
    let post_back_url = get("postBackURL");
    if order_ref.is_empty() || post_back_url.is_empty() {
        return Err("orderRefNum and postBackURL are required");
    }
    Ok(AcceptedCheckout {
        order_ref: order_ref.to_string(),
        amount,
        payment_method,
        post_back_url: post_back_url.to_string(),
    })
}

/// The query Easypaisa sends the payer's browser back to `postBackURL` with. A payer who chose
/// "pending" (a voucher to pay over the counter) completed the page, so that is `0000` too; only
/// the inquiry tells it apart from a payment.
pub fn postback_fields(order_ref: &str, choice: Choice) -> Fields {
    let (status, desc) = match choice {
        Choice::Success => ("0000", "SUCCESS"),
        Choice::Pending => ("0000", "PAYMENT TOKEN GENERATED"),
        Choice::Failure => ("0001", "TRANSACTION FAILED"),
    };
    let mut f = Fields::new();
    f.insert("orderRefNumber".into(), order_ref.into());
    f.insert("status".into(), status.into());
    f.insert("desc".into(), desc.into());
    f
}

/// Whether a REST call's `Credentials` header is the store's. Constant time.
pub fn authorized(s: &Store, credentials: &str) -> bool {
    let expected = easypaisa::credentials_header(s);
    expected
        .as_bytes()
        .ct_eq(credentials.trim().as_bytes())
        .into()
}

/// Easypaisa's answer to `inquire-transaction` for an order whose payer made `choice`.
pub fn inquiry_response(
    s: &Store,
    order_ref: &str,
    amount: Money,
    choice: Choice,
    transaction_id: &str,
) -> InquiryResponse {
    let status = match choice {
        Choice::Success => "PAID",
        Choice::Pending => "PENDING",
        Choice::Failure => "FAILED",
    };
    InquiryResponse {
        response_code: easypaisa::RESPONSE_OK.into(),
        response_desc: Some("SUCCESS".into()),
        order_id: Some(order_ref.into()),
        store_id: Some(s.store_id.clone()),
        account_num: s.account_num.clone(),
        transaction_status: Some(status.into()),
        transaction_amount: Some(easypaisa::format_amount(amount)),
        transaction_id: (choice != Choice::Failure).then(|| transaction_id.to_string()),
        transaction_date_time: None,
        payment_mode: Some("MA".into()),
    }
}

/// Easypaisa's answer to an inquiry about an order it never saw (or with bad credentials).
pub fn inquiry_refused(code: &str, desc: &str) -> InquiryResponse {
    InquiryResponse {
        response_code: code.into(),
        response_desc: Some(desc.into()),
        order_id: None,
        store_id: None,
        account_num: None,
        transaction_status: None,
        transaction_amount: None,
        transaction_id: None,
        transaction_date_time: None,
        payment_mode: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::easypaisa::{Checkout, HashKey, InquiryError};
    use crate::RailOutcome;
    use time::macros::datetime;

    fn store() -> Store {
        Store {
            store_id: "43210".into(),
            hash_key: HashKey::new("0123456789ABCDEF").unwrap(),
            username: "efine".into(),
            password: "s3cret".into(),
            account_num: None,
        }
    }

    fn fields(amount: Money) -> Fields {
        easypaisa::checkout_fields(
            &store(),
            &Checkout {
                order_ref: "EF-1",
                amount,
                post_back_url: "http://127.0.0.1/payments/easypaisa/postback",
                at_local: datetime!(2026-11-24 10:00),
                valid_for: time::Duration::hours(1),
                payment_method: PaymentMethod::MobileAccount,
                mobile_num: None,
                email: None,
            },
        )
    }

    /// The whole flow as the web layer runs it: checkout, hosted page, postback, inquiry.
    fn run(choice: Choice, amount: Money) -> Result<easypaisa::Inquiry, InquiryError> {
        let s = store();
        let accepted = accept_checkout(&s, &fields(amount)).unwrap();
        assert_eq!(accepted.amount, amount);
        let pb = easypaisa::parse_postback(&postback_fields(&accepted.order_ref, choice)).unwrap();
        assert_eq!(pb.order_ref, "EF-1");
        let req = easypaisa::inquiry_request(&s, &pb.order_ref);
        let answer = inquiry_response(&s, &req.order_id, accepted.amount, choice, "EP998877");
        let body = serde_json::to_vec(&answer).unwrap();
        easypaisa::parse_inquiry(&s, &pb.order_ref, &body)
    }

    #[test]
    fn round_trips_to_the_right_outcome_and_amount() {
        let amount = Money::from_paisa(123_456).unwrap();
        let i = run(Choice::Success, amount).unwrap();
        assert_eq!(
            i.outcome,
            RailOutcome::Confirmed {
                amount,
                rail_txn_id: "EP998877".into()
            }
        );
        assert_eq!(
            run(Choice::Pending, amount).unwrap().outcome,
            RailOutcome::Pending
        );
        assert!(matches!(
            run(Choice::Failure, amount).unwrap().outcome,
            RailOutcome::Failed { .. }
        ));
    }

    #[test]
    fn inquiry_answer_uses_easypaisa_field_names() {
        let v = serde_json::to_value(inquiry_response(
            &store(),
            "EF-1",
            Money::from_rupees(1000).unwrap(),
            Choice::Success,
            "T1",
        ))
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "responseCode": "0000", "responseDesc": "SUCCESS", "orderId": "EF-1",
                "storeId": "43210", "transactionStatus": "PAID",
                "transactionAmount": "1000.00", "transactionId": "T1", "paymentMode": "MA"
            })
        );
        let refused = serde_json::to_vec(&inquiry_refused("0003", "INVALID ORDER ID")).unwrap();
        assert!(matches!(
            easypaisa::parse_inquiry(&store(), "EF-1", &refused),
            Err(InquiryError::Refused { ref code, .. }) if code == "0003"
        ));
    }

    #[test]
    fn hosted_page_refuses_tampered_requests() {
        let s = store();
        let f = fields(Money::from_rupees(1000).unwrap());
        assert!(accept_checkout(&s, &f).is_ok());
        let mut t = f.clone();
        t.insert("amount".into(), "1.00".into());
        assert!(accept_checkout(&s, &t).is_err());
        let mut t = f.clone();
        t.insert("orderRefNum".into(), "EF-2".into());
        assert!(accept_checkout(&s, &t).is_err());
        let mut other = s.clone();
        other.hash_key = HashKey::new("FEDCBA9876543210").unwrap();
        assert!(accept_checkout(&other, &f).is_err());
        let mut other = s.clone();
        other.store_id = "1".into();
        assert_eq!(accept_checkout(&other, &f), Err("unknown store"));
        assert_eq!(accept_checkout(&s, &fields(Money::ZERO)), Err("bad amount"));
    }

    #[test]
    fn inquiry_for_another_order_or_amount_is_caught() {
        let s = store();
        let answer = inquiry_response(
            &s,
            "EF-2",
            Money::from_rupees(1).unwrap(),
            Choice::Success,
            "T",
        );
        let body = serde_json::to_vec(&answer).unwrap();
        assert!(matches!(
            easypaisa::parse_inquiry(&s, "EF-1", &body),
            Err(InquiryError::WrongOrder { .. })
        ));
        // The amount is reported exactly; the caller compares it with the attempt's.
        let i = easypaisa::parse_inquiry(&s, "EF-2", &body).unwrap();
        assert_eq!(i.amount, Money::from_rupees(1).ok());
    }

    #[test]
    fn credentials_checked() {
        let s = store();
        assert!(authorized(&s, &easypaisa::credentials_header(&s)));
        let mut other = s.clone();
        other.password = "guess".into();
        assert!(!authorized(&s, &easypaisa::credentials_header(&other)));
        assert!(!authorized(&s, ""));
    }
}
