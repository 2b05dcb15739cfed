//! Sandboxes: the rails' side of each conversation, speaking the same wire formats and signing
//! with the same secrets, so the whole payment flow runs offline, in the demo and in tests.

use crate::jazzcash::{self, Fields, Merchant};
use crate::onebill::{self, PaymentRequest};
use efine_core::Money;

/// What the payer chooses on the sandbox's hosted page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Success,
    Failure,
    Pending,
}

impl Choice {
    pub fn parse(s: &str) -> Option<Choice> {
        match s {
            "success" => Some(Choice::Success),
            "failure" => Some(Choice::Failure),
            "pending" => Some(Choice::Pending),
            _ => None,
        }
    }
}

/// JazzCash's answer to a checkout request: what it posts to `pp_ReturnURL`, signed with the
/// merchant's integrity salt. Refuses a request whose own hash does not hold, as JazzCash would.
pub fn jazzcash_return(
    m: &Merchant,
    request: &Fields,
    choice: Choice,
    retrieval_ref: &str,
) -> Result<Fields, &'static str> {
    if !jazzcash::verify(&m.integrity_salt, request) {
        return Err("the request's pp_SecureHash does not match");
    }
    if request.get("pp_MerchantID") != Some(&m.merchant_id) {
        return Err("unknown merchant");
    }
    let (code, message) = match choice {
        Choice::Success => (
            "000",
            "Thank you for Using JazzCash, your transaction was successful.",
        ),
        Choice::Failure => ("199", "Transaction failed by the payer."),
        Choice::Pending => (
            "124",
            "Order is placed and waiting for financials to be received over the counter.",
        ),
    };
    let mut f = Fields::new();
    for k in [
        "pp_Version",
        "pp_TxnType",
        "pp_Language",
        "pp_MerchantID",
        "pp_SubMerchantID",
        "pp_BankID",
        "pp_ProductID",
        "pp_TxnRefNo",
        "pp_Amount",
        "pp_TxnCurrency",
        "pp_TxnDateTime",
        "pp_BillReference",
        "ppmpf_1",
    ] {
        if let Some(v) = request.get(k) {
            f.insert(k.to_string(), v.clone());
        }
    }
    f.insert("pp_ResponseCode".into(), code.into());
    f.insert("pp_ResponseMessage".into(), message.into());
    f.insert(
        "pp_AuthCode".into(),
        if choice == Choice::Success {
            "123456"
        } else {
            ""
        }
        .into(),
    );
    f.insert(
        "pp_RetreivalReferenceNo".into(),
        if choice == Choice::Success {
            retrieval_ref
        } else {
            ""
        }
        .into(),
    );
    f.insert("pp_SettlementExpiry".into(), String::new());
    let hash = jazzcash::secure_hash(&m.integrity_salt, &f);
    f.insert("pp_SecureHash".into(), hash);
    Ok(f)
}

/// JazzCash's answer to a status inquiry, given what the payer chose (`None`: JazzCash knows no
/// such transaction). Refuses an inquiry whose own hash or credentials do not hold.
pub fn jazzcash_inquiry(
    m: &Merchant,
    request: &Fields,
    known: Option<(Choice, Money, String)>,
) -> Result<Fields, &'static str> {
    if !jazzcash::verify(&m.integrity_salt, request) {
        return Err("the inquiry's pp_SecureHash does not match");
    }
    if request.get("pp_MerchantID") != Some(&m.merchant_id)
        || request.get("pp_Password") != Some(&m.password)
    {
        return Err("unknown merchant or password");
    }
    let mut f = Fields::new();
    f.insert(
        "pp_TxnRefNo".into(),
        request.get("pp_TxnRefNo").cloned().unwrap_or_default(),
    );
    f.insert("pp_MerchantID".into(), m.merchant_id.clone());
    match known {
        None => {
            f.insert("pp_ResponseCode".into(), "110".into());
            f.insert("pp_ResponseMessage".into(), "No transaction found".into());
        }
        Some((choice, amount, rrn)) => {
            f.insert("pp_ResponseCode".into(), "000".into());
            f.insert("pp_ResponseMessage".into(), "Successful inquiry".into());
            f.insert("pp_Amount".into(), amount.paisa().to_string());
            let (code, status) = match choice {
                Choice::Success => ("000", "Completed"),
                Choice::Pending => ("124", "Pending"),
                Choice::Failure => ("199", "Failed"),
            };
            f.insert("pp_PaymentResponseCode".into(), code.into());
            f.insert("pp_PaymentResponseMessage".into(), status.into());
            f.insert("pp_Status".into(), status.into());
            if choice == Choice::Success {
                f.insert("pp_RetreivalReferenceNo".into(), rrn);
            }
        }
    }
    let hash = jazzcash::secure_hash(&m.integrity_salt, &f);
    f.insert("pp_SecureHash".into(), hash);
    Ok(f)
}

/// A bank calling 1Bill's payment API for a consumer number.
pub fn bank_payment(
    user_name: &str,
    password: &str,
    consumer_number: &str,
    amount: Money,
    stan: u32,
    at_local: time::PrimitiveDateTime,
    bank_mnemonic: &str,
) -> PaymentRequest {
    PaymentRequest {
        user_name: user_name.into(),
        password: password.into(),
        consumer_number: consumer_number.into(),
        tran_auth_id: format!("{:06}", stan % 1_000_000),
        transaction_amount: onebill::format_unsigned_amount(amount),
        tran_date: onebill::format_date(at_local.date()),
        tran_time: format!(
            "{:02}{:02}{:02}",
            at_local.hour(),
            at_local.minute(),
            at_local.second()
        ),
        bank_mnemonic: bank_mnemonic.into(),
        reserved: None,
    }
}
