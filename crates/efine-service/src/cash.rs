//! Cash at a department counter: recorded by a cashier (finance) for the full amount due today,
//! and totalled per cashier in the day's cash-up.

use crate::error::ServiceError;
use crate::Context;
use efine_core::auth::{Action, Principal, Scope};
use efine_core::{ChallanNumber, Money};
use efine_store::ops::payments::{self, CashierTotal, Receipt};

/// Records cash taken at the counter for `number`: a receipt, or why not.
pub async fn record(
    ctx: &Context,
    cashier: &Principal,
    number: ChallanNumber,
    amount: Money,
) -> Result<Receipt, ServiceError> {
    cashier
        .may(Action::RecordCounterCash, &Scope::ANY)
        .map_err(|d| ServiceError::forbidden(d.to_string()))?;
    let now = ctx.store.now();
    let username = cashier.username.clone();
    Ok(ctx
        .store
        .write(move |tx| payments::pay_at_counter(tx, &number, amount, &username, now))
        .await?)
}

/// One local day's counter cash: totals per cashier and every receipt.
pub async fn cash_up(
    ctx: &Context,
    reader: &Principal,
    day: time::Date,
) -> Result<(Vec<CashierTotal>, Vec<Receipt>), ServiceError> {
    reader
        .may(Action::ReadCashUp, &Scope::ANY)
        .map_err(|d| ServiceError::forbidden(d.to_string()))?;
    Ok(ctx.store.read(move |tx| payments::cash_up(tx, day)).await?)
}
