//! The 1Bill biller API as a bank calls it: bill inquiry and bill payment by consumer number (our
//! PSID). Every answer is one of 1Bill's own response codes; a payment is credited through
//! `payments::pay_bill`, which refuses a bill already paid or cancelled before the bank collects
//! and recognises a repeated transaction. Every payment message is kept with its verdict.

use crate::rails::same;
use crate::Context;
use efine_core::challan::ChallanStatus;
use efine_core::clock::karachi_date;
use efine_core::payment::Rail;
use efine_core::Psid;
use efine_pay::onebill::{
    self, InquiryRequest, InquiryResponse, PaymentRequest, PaymentResponse, ResponseCode,
};
use efine_store::ops::challans;
use efine_store::ops::payments::{self, BillPayment, Credit};
use std::net::IpAddr;

/// Whether a 1Bill call comes from an allowed address with the configured credentials.
pub fn caller_ok(ctx: &Context, peer: IpAddr, user: &str, password: &str) -> bool {
    let Some(cfg) = &ctx.payments.onebill else {
        return false;
    };
    if let Some(allow) = &cfg.allow {
        if !allow.contains(&peer) {
            return false;
        }
    }
    same(user, &cfg.username) & same(password, &cfg.password)
}

/// Bill inquiry: what is owed on a consumer number.
/// Answers a bank's bill inquiry from `peer`.
pub async fn inquiry(ctx: &Context, peer: IpAddr, req: InquiryRequest) -> InquiryResponse {
    if !caller_ok(ctx, peer, &req.user_name, &req.password) {
        return InquiryResponse::code_only(ResponseCode::InvalidData);
    }
    let Ok(psid) = Psid::parse(&req.consumer_number) else {
        return InquiryResponse::code_only(ResponseCode::InvalidData);
    };
    let found = ctx
        .store
        .read(move |tx| {
            let Some(c) = challans::by_psid(tx, &psid)? else {
                return Ok(None);
            };
            let receipt = payments::receipt_for_challan(tx, &c.number.to_string())?;
            let auth = match &receipt {
                Some(r) if r.rail == Rail::OneBill => {
                    payments::attempt_by_reference(tx, &r.attempt_reference)?
                        .and_then(|a| a.rail_txn_id)
                        .and_then(|id| id.split(':').nth(2).map(str::to_string))
                }
                _ => None,
            };
            Ok(Some((c, receipt, auth)))
        })
        .await;
    let (c, receipt, auth) = match found {
        // A voucher past its validity is not payable any more: "blocked or expired".
        Ok(Some((c, _, _))) if c.status == ChallanStatus::Expired => {
            return InquiryResponse::code_only(ResponseCode::Blocked)
        }
        Ok(Some(f)) => f,
        Ok(None) => return InquiryResponse::code_only(ResponseCode::NotFound),
        Err(e) => {
            tracing::error!(error = %e, "1Bill inquiry failed");
            return InquiryResponse::code_only(ResponseCode::ProcessingFailed);
        }
    };
    // The same schedule the payment is checked against: the bank charges the first amount up to
    // the due date and the second after it. Under appeal the clock stands still, so both agree.
    let today = karachi_date(ctx.store.now());
    let terms = c.terms();
    let (due_date, within, after) = match terms.surcharge_from() {
        None => (today, c.amount_due(today), c.amount_due(today)),
        Some(_) => {
            let due = terms.effective_due_date();
            (due, c.amount_due(today.min(due)), c.amount_after_due_date())
        }
    };
    let issued = karachi_date(c.issued_at);
    let mut resp = InquiryResponse {
        Response_Code: ResponseCode::Ok.code().into(),
        Consumer_Detail: onebill::consumer_detail(&format!(
            "{} {}",
            c.number,
            c.vehicle.as_ref().map(|v| v.as_str()).unwrap_or("")
        )),
        Bill_Status: match c.status {
            ChallanStatus::Unpaid => "U",
            ChallanStatus::Paid => "P",
            ChallanStatus::Cancelled | ChallanStatus::Expired => "B",
        }
        .into(),
        Due_Date: onebill::format_date(due_date),
        Amount_Within_DueDate: onebill::format_signed_amount(within),
        Amount_After_DueDate: onebill::format_signed_amount(after),
        Billing_Month: format!("{:02}{:02}", issued.year() % 100, u8::from(issued.month())),
        Date_Paid: String::new(),
        Amount_Paid: String::new(),
        Tran_Auth_Id: String::new(),
        Reserved: String::new(),
    };
    if let Some(r) = receipt {
        resp.Date_Paid = onebill::format_date(karachi_date(r.paid_at));
        resp.Amount_Paid = onebill::format_amount_paid(r.amount);
        resp.Tran_Auth_Id = auth.unwrap_or_else(|| "000000".into());
        resp.Reserved = format!("receipt {}", r.number);
    }
    resp
}

fn answer(code: ResponseCode, id: &str, note: &str) -> PaymentResponse {
    PaymentResponse {
        response_Code: code.code().into(),
        Identification_parameter: id.into(),
        Reserved: note.into(),
    }
}

/// Bill payment: a bank took the full amount due for a consumer number. The same payment sent
/// again answers `03` and credits nothing.
/// Answers a bank's bill payment from `peer`.
pub async fn payment(ctx: &Context, peer: IpAddr, req: PaymentRequest) -> PaymentResponse {
    let authorised = caller_ok(ctx, peer, &req.user_name, &req.password);
    // The raw message, kept with credentials removed.
    let mut raw = serde_json::to_value(&req).unwrap_or_default();
    if let Some(o) = raw.as_object_mut() {
        o.remove("password");
    }
    let raw = raw.to_string();
    let now = ctx.store.now();
    let record = |verdict: String, reference: Option<String>| {
        let store = ctx.store.clone();
        let raw = raw.clone();
        async move {
            let r = store
                .write(move |tx| {
                    payments::record_message(
                        tx,
                        Rail::OneBill,
                        "bill-payment",
                        reference.as_deref(),
                        &raw,
                        &verdict,
                        now,
                    )
                })
                .await;
            if let Err(e) = r {
                tracing::error!(error = %e, "could not record a 1Bill message");
            }
        }
    };
    if !authorised {
        record("04 refused: caller credentials or address".into(), None).await;
        return answer(ResponseCode::InvalidData, "", "invalid credentials");
    }
    let parsed = match req.parse() {
        Ok(p) => p,
        Err(e) => {
            record(
                format!("04 refused: {e}"),
                Some(req.consumer_number.clone()),
            )
            .await;
            return answer(ResponseCode::InvalidData, "", &e.0);
        }
    };
    let Ok(psid) = Psid::parse(&parsed.consumer_number) else {
        record(
            "04 refused: consumer number fails its check digit".into(),
            Some(parsed.consumer_number.clone()),
        )
        .await;
        return answer(
            ResponseCode::InvalidData,
            "",
            "consumer number is not valid",
        );
    };
    let txn = parsed.rail_txn_id();
    let bank = format!("1bill:{}", parsed.bank_mnemonic);
    let raw_in = raw.clone();
    let result = ctx
        .store
        .write(move |tx| {
            let outcome =
                payments::pay_bill(tx, &psid, parsed.amount, parsed.tran_date, &txn, &bank, now)?;
            let verdict = match &outcome {
                BillPayment::Credited(Credit::Paid(r)) => format!("00 paid, receipt {}", r.number),
                BillPayment::Credited(Credit::Replayed(_)) => {
                    "03 duplicate: credited before".into()
                }
                BillPayment::Credited(Credit::RefundOwed { .. }) => "00 refund owed".into(),
                BillPayment::NotFound => "01 not found".into(),
                BillPayment::NotPayable(s) => format!("02 challan is {}", s.as_str()),
                BillPayment::WrongAmount { due } => format!("04 amount is not the {} due", due),
            };
            payments::record_message(
                tx,
                Rail::OneBill,
                "bill-payment",
                Some(psid.as_str()),
                &raw_in,
                &verdict,
                now,
            )?;
            Ok(outcome)
        })
        .await;
    match result {
        Ok(BillPayment::Credited(Credit::Paid(r))) => answer(ResponseCode::Ok, &r.number, "paid"),
        Ok(BillPayment::Credited(Credit::Replayed(earlier))) => {
            let id = match *earlier {
                Credit::Paid(r) => r.number,
                _ => String::new(),
            };
            answer(
                ResponseCode::Duplicate,
                &id,
                "duplicate transaction: credited before",
            )
        }
        Ok(BillPayment::Credited(Credit::RefundOwed { liability_id, .. })) => answer(
            ResponseCode::Blocked,
            &liability_id.to_string(),
            "already paid: refund owed",
        ),
        Ok(BillPayment::NotFound) => {
            answer(ResponseCode::NotFound, "", "consumer number not found")
        }
        Ok(BillPayment::NotPayable(s)) => answer(
            ResponseCode::Blocked,
            "",
            &format!("bill is {}", s.as_str()),
        ),
        Ok(BillPayment::WrongAmount { due }) => answer(
            ResponseCode::InvalidData,
            "",
            &format!(
                "amount must be the full amount due: {}",
                onebill::format_unsigned_amount(due)
            ),
        ),
        Err(e) => {
            tracing::error!(error = %e, "1Bill payment failed");
            answer(ResponseCode::ProcessingFailed, "", "processing failed")
        }
    }
}
