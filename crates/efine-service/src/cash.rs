//! Cash at a department counter: recorded by a cashier (finance) for the full amount due today,
//! and totalled per cashier in the day's cash-up.

use crate::error::ServiceError;
use crate::Context;
use efine_core::auth::{Principal, Role};
use efine_core::{ChallanNumber, Money};
use efine_store::ops::payments::{self, CashierTotal, Receipt};

/// Records cash taken at the counter for `number`: a receipt, or why not.
pub async fn record(
    ctx: &Context,
    cashier: &Principal,
    number: ChallanNumber,
    amount: Money,
) -> Result<Receipt, ServiceError> {
    if cashier.role != Role::Finance {
        return Err(ServiceError::forbidden("only finance records counter cash"));
    }
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
    if !matches!(reader.role, Role::Finance | Role::Auditor | Role::Admin) {
        return Err(ServiceError::forbidden(
            "the cash-up is for finance, auditors and admins",
        ));
    }
    Ok(ctx.store.read(move |tx| payments::cash_up(tx, day)).await?)
}
