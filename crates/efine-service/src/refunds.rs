//! Refunds of money taken that was not owed: the liabilities (money a rail took for a challan
//! already paid or cancelled), and refunds requested by one finance user and decided by another
//! (the store refuses a decision by the requester).

use crate::error::ServiceError;
use crate::Context;
use efine_core::auth::{Action, Principal, Scope};
use efine_store::ops::payments::{self, Liability};
use efine_store::ops::refunds::{self, Refund};

/// Finance and admins handle refunds.
pub fn may_handle(p: &Principal) -> Result<(), ServiceError> {
    p.may(Action::HandleRefunds, &Scope::ANY)
        .map_err(|d| ServiceError::forbidden(d.to_string()))
}

/// Open liabilities and refunds, newest first (finance, auditors and admins).
pub async fn list(
    ctx: &Context,
    reader: &Principal,
) -> Result<(Vec<Liability>, Vec<Refund>), ServiceError> {
    reader
        .may(Action::ReadRefunds, &Scope::ANY)
        .map_err(|d| ServiceError::forbidden(d.to_string()))?;
    Ok(ctx
        .store
        .read(|tx| Ok((payments::liabilities(tx, 500)?, refunds::list(tx, 500)?)))
        .await?)
}

/// Requests the refund of a liability, with a reason (1 to 500 characters).
pub async fn request(
    ctx: &Context,
    who: &Principal,
    liability_id: i64,
    reason: &str,
) -> Result<Refund, ServiceError> {
    may_handle(who)?;
    let reason =
        efine_core::text::FreeText::parse("reason", reason, efine_core::text::TextKind::Lines, 500)
            .map_err(|e| ServiceError::invalid("reason", e.to_string()))?
            .into_string();
    let now = ctx.store.now();
    let by = who.username.clone();
    Ok(ctx
        .store
        .write(move |tx| refunds::request(tx, liability_id, &reason, &by, now))
        .await?)
}

/// Approves or rejects a refund. An approval posts `refunds-payable` against the rail's clearing
/// account (in the store) and is sent to the rail: with the sandboxes on, the rail's sandbox
/// acknowledges it with its own reference; the message is kept like every rail message.
pub async fn decide(
    ctx: &Context,
    who: &Principal,
    id: i64,
    approve: bool,
) -> Result<Refund, ServiceError> {
    may_handle(who)?;
    let now = ctx.store.now();
    let sandbox = ctx.payments.sandbox;
    let by = who.username.clone();
    Ok(ctx
        .store
        .write(move |tx| {
            let rail_ref = (approve && sandbox).then(|| format!("SBX-RF-{id:08}"));
            let f = refunds::decide(tx, id, approve, &by, rail_ref.as_deref(), now)?;
            if approve {
                let verdict = match &rail_ref {
                    Some(r) => format!("sent to the {} sandbox: {r}", f.rail.as_str()),
                    None => "approved: to be sent through the rail's merchant portal".to_string(),
                };
                payments::record_message(
                    tx,
                    f.rail,
                    "refund",
                    Some(&format!("refund:{id}")),
                    &serde_json::json!({"refund": id, "amount": f.amount.paisa(), "challan": f.challan_number}).to_string(),
                    &verdict,
                    now,
                )?;
            }
            Ok(f)
        })
        .await?)
}
