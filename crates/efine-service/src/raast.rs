//! Raast: the QR a payer scans, and what the biller's bank's word about a payment does. A
//! notification and an inquiry's answer take the same path: `payments::pay_instant`, which credits
//! through `payments::credit` like every rail, once per Raast transaction id. Every message is
//! kept in `rail_messages` with its verdict.

use crate::Context;
use efine_core::clock::karachi_date;
use efine_core::payment::Rail;
use efine_core::{Money, Psid};
use efine_pay::raast::{self, Bill, Payment};
use efine_pay::RailOutcome;
use efine_store::ops::payments::{self, BillPayment, Credit};
use efine_store::StoreError;
use time::Date;

/// What a reported payment did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The item is paid by this payment (receipt number).
    Paid(String),
    /// Reported before: nothing new.
    Repeat,
    /// The money is owed back (item already paid or cancelled, or the wrong amount).
    RefundOwed(i64),
    /// No payable item has this PSID: kept for finance to return the money.
    UnknownPsid,
    /// The bank returned the payment: nothing to credit.
    Returned,
}

/// The QR payload for a payable item: the amount due today, and the due date with the amount
/// after it while the due date is ahead. `None` when Raast is not configured.
pub fn qr_payload(
    ctx: &Context,
    psid: &Psid,
    label: &str,
    due_today: Money,
    due: Option<(Date, Money)>,
) -> Option<String> {
    let cfg = ctx.payments.raast.as_ref()?;
    let today = karachi_date(ctx.store.now());
    let bill = Bill {
        psid: psid.as_str().to_string(),
        amount: due_today,
        due: due.filter(|(d, _)| *d >= today),
        label: Some(label.chars().take(25).collect()),
    };
    match raast::encode(&cfg.biller, &bill) {
        Ok(p) => Some(p),
        Err(e) => {
            tracing::error!(error = %e, "could not encode a Raast QR");
            None
        }
    }
}

/// Applies one verified payment report (`kind`: `notification` or `inquiry`; `raw`: the message
/// as received).
pub async fn apply(
    ctx: &Context,
    p: Payment,
    kind: &'static str,
    raw: String,
) -> Result<Verdict, StoreError> {
    let now = ctx.store.now();
    ctx.store
        .write(move |tx| {
            let psid = Psid::parse(&p.psid).ok();
            let (verdict, text) = match (&p.outcome, psid) {
                (RailOutcome::Confirmed { .. }, Some(psid)) => {
                    let paid_on = karachi_date(p.paid_at);
                    match payments::pay_instant(
                        tx,
                        Rail::Raast,
                        &psid,
                        p.amount,
                        paid_on,
                        &p.raast_txn_id,
                        "raast",
                        now,
                    )? {
                        BillPayment::Credited(Credit::Paid(r)) => {
                            let t = format!("paid, receipt {}", r.number);
                            (Verdict::Paid(r.number), t)
                        }
                        BillPayment::Credited(Credit::Replayed(_)) => {
                            (Verdict::Repeat, "repeat: credited before".to_string())
                        }
                        BillPayment::Credited(Credit::RefundOwed { liability_id, .. }) => (
                            Verdict::RefundOwed(liability_id),
                            format!("refund owed, liability {liability_id}"),
                        ),
                        BillPayment::NotFound
                        | BillPayment::NotPayable(_)
                        | BillPayment::WrongAmount { .. } => (
                            Verdict::UnknownPsid,
                            "no payable item has this PSID: money to return".to_string(),
                        ),
                    }
                }
                (RailOutcome::Confirmed { .. }, None) => (
                    Verdict::UnknownPsid,
                    "the bill reference fails its check digit: money to return".to_string(),
                ),
                (_, _) => (
                    Verdict::Returned,
                    "returned by the bank: nothing credited".to_string(),
                ),
            };
            payments::record_message(tx, Rail::Raast, kind, Some(&p.psid), &raw, &text, now)?;
            Ok(verdict)
        })
        .await
}

/// Asks the biller's bank about a PSID and applies every payment it reports (the poller, for
/// items whose QR was shown and that are still unpaid). Returns how many were new credits.
pub async fn inquire(ctx: &Context, psid: &Psid) -> Result<usize, String> {
    let Some(cfg) = ctx.payments.raast.as_ref() else {
        return Ok(0);
    };
    let (reports, raw) = crate::rails::inquiry::raast(&ctx.http, cfg, psid.as_str())
        .await
        .map_err(|e| e.to_string())?;
    let mut credited = 0;
    for p in reports {
        match apply(ctx, p, "inquiry", raw.clone()).await {
            Ok(Verdict::Paid(_)) | Ok(Verdict::RefundOwed(_)) => credited += 1,
            Ok(_) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(credited)
}
