//! What a rail's word about a payment does: the one path every confirmation, pending notice and
//! failure goes through, whichever rail sent it and however it arrived (JazzCash's signed return,
//! a card notification, the answer to an Easypaisa or JazzCash status inquiry, the poller).
//!
//! The message must already be verified (signature, timestamp) by the rail's own module in
//! `efine-pay`. [`decide`] is the rule, a pure function of the attempt and the message; [`apply`]
//! carries it out in one write transaction: the credit itself is `payments::credit` (receipt,
//! `challan.paid`, revenue postings, or a refund liability when the challan was paid already), and
//! every message is kept in `rail_messages` with its verdict, refusals included.

use crate::Context;
use efine_core::payment::{self, AttemptEvent, AttemptState, Rail};
use efine_core::Money;
use efine_pay::RailOutcome;
use efine_store::ops::payments::{self, Attempt, Credit, Receipt};
use efine_store::sql::nested;
use efine_store::StoreError;

/// A verified message from a rail about one of our payment references.
#[derive(Debug, Clone)]
pub struct RailMessage {
    pub rail: Rail,
    /// How it arrived, kept with the message: `return`, `notification`, `inquiry`.
    pub kind: &'static str,
    pub reference: String,
    pub outcome: RailOutcome,
    /// What the message itself says it pays, where the rail's message carries it (JazzCash's
    /// return carries the amount and the bill reference whatever the outcome): checked against
    /// the attempt before anything else.
    pub claims: Option<Claims>,
    /// The message as received, credentials removed.
    pub raw: String,
    /// Who is recorded as the actor of the events it causes.
    pub actor: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub amount: Money,
    pub bill_reference: String,
}

/// What applying a message did, for the payer's page and the poller's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The challan is paid (now, or by this same message before).
    Paid(Receipt),
    /// Money was taken for a challan already paid or cancelled: it is owed back.
    RefundOwed,
    Pending,
    Failed,
    /// Nothing was applied; the reason, for the payer.
    Refused(&'static str),
}

/// The rule: what a message does to an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Apply nothing; keep the message with this verdict and tell the payer why.
    Refuse { verdict: String, why: &'static str },
    /// Money was taken: credit it (once; a repeat is recognised by the credit itself).
    Credit { rail_txn_id: String },
    /// Move the attempt along its transition table.
    Mark(AttemptEvent, serde_json::Value),
    /// Nothing to record beyond the message (e.g. a failure notice for an attempt already
    /// confirmed: the rail's confirmation stands).
    Keep(Applied),
}

pub const NO_SUCH_PAYMENT: &str = "We have no payment with this reference.";

/// Decides what `msg` does to `attempt` (`None`: no attempt has its reference).
pub fn decide(attempt: Option<&Attempt>, msg: &RailMessage) -> Step {
    let Some(a) = attempt else {
        return Step::Refuse {
            verdict: "refused: unknown reference".into(),
            why: NO_SUCH_PAYMENT,
        };
    };
    if a.rail != msg.rail {
        return Step::Refuse {
            verdict: "refused: the reference belongs to another rail".into(),
            why: NO_SUCH_PAYMENT,
        };
    }
    if let Some(c) = &msg.claims {
        if c.amount != a.amount || c.bill_reference != a.challan_number {
            return Step::Refuse {
                verdict: "refused: amount or bill reference differs from the attempt".into(),
                why: "The amount or challan in this message does not match the payment we started.",
            };
        }
    }
    match &msg.outcome {
        RailOutcome::Confirmed {
            amount,
            rail_txn_id,
        } => {
            if *amount != a.amount {
                Step::Refuse {
                    verdict: format!(
                        "refused: amount {amount} differs from the attempt's {}",
                        a.amount
                    ),
                    why: "The amount does not match the payment we started.",
                }
            } else {
                Step::Credit {
                    rail_txn_id: rail_txn_id.clone(),
                }
            }
        }
        // Only where the transition table allows it: an attempt already confirmed, failed or
        // reversed stays as it is (a late "pending" never undoes what the rail said before).
        RailOutcome::Pending => {
            if a.state == AttemptState::Pending
                || payment::transition(Some(a.state), AttemptEvent::MarkedPending).is_err()
            {
                Step::Keep(Applied::Pending)
            } else {
                Step::Mark(AttemptEvent::MarkedPending, serde_json::Value::Null)
            }
        }
        RailOutcome::Failed { reason } => {
            if a.state.is_terminal() {
                Step::Keep(Applied::Failed)
            } else {
                Step::Mark(AttemptEvent::Failed, serde_json::json!({"reason": reason}))
            }
        }
    }
}

/// Applies a verified message in one write transaction; see the module doc.
pub async fn apply(ctx: &Context, msg: RailMessage) -> Result<Applied, StoreError> {
    let now = ctx.store.now();
    let rail = msg.rail;
    let applied = ctx
        .store
        .write(move |tx| {
            let a = payments::attempt_by_reference(tx, &msg.reference)?;
            let applied = match decide(a.as_ref(), &msg) {
                Step::Refuse { verdict, why } => {
                    payments::record_message(
                        tx,
                        msg.rail,
                        msg.kind,
                        Some(&msg.reference),
                        &msg.raw,
                        &verdict,
                        now,
                    )?;
                    return Ok(Applied::Refused(why));
                }
                Step::Keep(applied) => applied,
                Step::Mark(event, detail) => {
                    let a = a.as_ref().ok_or_else(|| StoreError::NotFound("attempt".into()))?;
                    payments::mark(tx, a, event, detail, msg.actor, now)?;
                    match event {
                        AttemptEvent::MarkedPending => Applied::Pending,
                        _ => Applied::Failed,
                    }
                }
                Step::Credit { rail_txn_id } => {
                    let a = a.as_ref().ok_or_else(|| StoreError::NotFound("attempt".into()))?;
                    match nested(tx, |tx| payments::credit(tx, a, &rail_txn_id, msg.actor, now))? {
                        Ok(c) => match c {
                            Credit::Paid(r) => Applied::Paid(r),
                            Credit::Replayed(inner) => match *inner {
                                Credit::Paid(r) => Applied::Paid(r),
                                _ => Applied::RefundOwed,
                            },
                            Credit::RefundOwed { .. } => Applied::RefundOwed,
                        },
                        Err(StoreError::Conflict { message, .. }) => {
                            payments::record_message(
                                tx,
                                msg.rail,
                                msg.kind,
                                Some(&msg.reference),
                                &msg.raw,
                                &format!("refused: {message}"),
                                now,
                            )?;
                            return Ok(Applied::Refused(
                                "This payment message conflicts with one already credited; it was recorded for finance to review.",
                            ));
                        }
                        Err(e) => return Err(e),
                    }
                }
            };
            let verdict = match &applied {
                Applied::Paid(r) => format!("paid, receipt {}", r.number),
                Applied::RefundOwed => "refund owed".to_string(),
                Applied::Pending => "pending".to_string(),
                Applied::Failed => "failed".to_string(),
                Applied::Refused(w) => format!("refused: {w}"),
            };
            payments::record_message(
                tx,
                msg.rail,
                msg.kind,
                Some(&msg.reference),
                &msg.raw,
                &verdict,
                now,
            )?;
            Ok(applied)
        })
        .await?;
    if let Applied::Refused(_) = applied {
        ctx.metrics.rail_error(rail, "refused");
    }
    Ok(applied)
}

/// What is recorded for a reference, as the payer's page shows it: paid (with its receipt),
/// failed, money owed back, still pending, or no such payment. For a rail that returns the payer
/// before it has told us (the card gateway notifies server to server).
pub async fn as_recorded(ctx: &Context, reference: String) -> Result<Applied, StoreError> {
    ctx.store
        .read(move |tx| {
            let Some(a) = payments::attempt_by_reference(tx, &reference)? else {
                return Ok(Applied::Refused(NO_SUCH_PAYMENT));
            };
            let receipt = payments::receipt_for_challan(tx, &a.challan_number)?
                .filter(|r| r.attempt_reference == a.reference);
            Ok(match (receipt, a.state) {
                (Some(r), _) => Applied::Paid(r),
                (None, AttemptState::Failed) => Applied::Failed,
                // Confirmed without this attempt's receipt: the challan was paid another way.
                (None, AttemptState::Confirmed) => Applied::RefundOwed,
                (None, _) => Applied::Pending,
            })
        })
        .await
}

/// Records a message that could not be verified (bad signature, unreadable): nothing applied.
pub async fn record_unverified(
    ctx: &Context,
    rail: Rail,
    kind: &'static str,
    reference: Option<String>,
    raw: String,
    why: String,
) -> Result<(), StoreError> {
    let now = ctx.store.now();
    ctx.metrics.rail_error(rail, "unverified");
    ctx.store
        .write(move |tx| {
            payments::record_message(
                tx,
                rail,
                kind,
                reference.as_deref(),
                &raw,
                &format!("refused: {why}"),
                now,
            )
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn attempt(state: AttemptState) -> Attempt {
        Attempt {
            id: 1,
            reference: "EF1".into(),
            rail: Rail::Jazzcash,
            challan_number: "TRF-PSH-2026-000001".into(),
            amount: Money::from_paisa(50_000).unwrap(),
            state,
            rail_txn_id: None,
            created_at: datetime!(2026-11-29 10:00 UTC),
        }
    }

    fn msg(outcome: RailOutcome) -> RailMessage {
        RailMessage {
            rail: Rail::Jazzcash,
            kind: "return",
            reference: "EF1".into(),
            outcome,
            claims: None,
            raw: String::new(),
            actor: "jazzcash",
        }
    }

    fn confirmed(paisa: i64) -> RailOutcome {
        RailOutcome::Confirmed {
            amount: Money::from_paisa(paisa).unwrap(),
            rail_txn_id: "T1".into(),
        }
    }

    #[test]
    fn unknown_reference_and_other_rail_are_refused() {
        assert!(
            matches!(decide(None, &msg(confirmed(50_000))), Step::Refuse { why, .. } if why == NO_SUCH_PAYMENT)
        );
        let mut m = msg(confirmed(50_000));
        m.rail = Rail::Card;
        assert!(matches!(
            decide(Some(&attempt(AttemptState::Initiated)), &m),
            Step::Refuse { .. }
        ));
    }

    #[test]
    fn a_confirmation_credits_only_the_attempts_amount() {
        let a = attempt(AttemptState::Initiated);
        assert_eq!(
            decide(Some(&a), &msg(confirmed(50_000))),
            Step::Credit {
                rail_txn_id: "T1".into()
            }
        );
        assert!(matches!(
            decide(Some(&a), &msg(confirmed(100))),
            Step::Refuse { .. }
        ));
        // The rail's truth wins over an earlier failure: a confirmation still credits.
        assert!(matches!(
            decide(
                Some(&attempt(AttemptState::Failed)),
                &msg(confirmed(50_000))
            ),
            Step::Credit { .. }
        ));
    }

    #[test]
    fn claims_are_checked_whatever_the_outcome() {
        let a = attempt(AttemptState::Initiated);
        for outcome in [
            confirmed(50_000),
            RailOutcome::Pending,
            RailOutcome::Failed { reason: "x".into() },
        ] {
            let mut m = msg(outcome);
            m.claims = Some(Claims {
                amount: Money::from_paisa(100).unwrap(),
                bill_reference: a.challan_number.clone(),
            });
            assert!(matches!(decide(Some(&a), &m), Step::Refuse { .. }));
            m.claims = Some(Claims {
                amount: a.amount,
                bill_reference: "TRF-PSH-2026-000002".into(),
            });
            assert!(matches!(decide(Some(&a), &m), Step::Refuse { .. }));
        }
    }

    #[test]
    fn pending_and_failed_never_undo_a_settled_attempt() {
        for s in [
            AttemptState::Confirmed,
            AttemptState::Failed,
            AttemptState::Reversed,
        ] {
            assert_eq!(
                decide(Some(&attempt(s)), &msg(RailOutcome::Pending)),
                Step::Keep(Applied::Pending),
                "{s:?}"
            );
            assert_eq!(
                decide(
                    Some(&attempt(s)),
                    &msg(RailOutcome::Failed { reason: "x".into() })
                ),
                Step::Keep(Applied::Failed),
                "{s:?}"
            );
        }
        for s in [AttemptState::Initiated, AttemptState::Unknown] {
            assert!(matches!(
                decide(Some(&attempt(s)), &msg(RailOutcome::Pending)),
                Step::Mark(AttemptEvent::MarkedPending, _)
            ));
        }
        for s in [
            AttemptState::Initiated,
            AttemptState::Pending,
            AttemptState::Unknown,
        ] {
            assert!(matches!(
                decide(
                    Some(&attempt(s)),
                    &msg(RailOutcome::Failed { reason: "x".into() })
                ),
                Step::Mark(AttemptEvent::Failed, _)
            ));
        }
    }
}
