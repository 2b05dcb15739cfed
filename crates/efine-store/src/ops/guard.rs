//! The checks every workflow on a challan makes (cancellations, appeals): whether the user may
//! see it at all (out of scope is "not found"), whether it can still change, and whether the user
//! supervises its department. The decisions themselves are `efine_core::auth::Principal::may`.

use crate::ops::challans;
use crate::sql::Tx;
use crate::StoreError;
use efine_core::auth::{Action, Principal, Scope};
use efine_core::challan::{Challan, ChallanStatus};
use efine_core::ChallanNumber;

/// The department and district a user's lists are limited to ('' = all).
pub(crate) fn scope(who: &Principal) -> (String, String) {
    let reach = who.reach();
    (
        reach.department.map(|d| d.to_string()).unwrap_or_default(),
        reach.district.map(|d| d.to_string()).unwrap_or_default(),
    )
}

/// A challan as the user may see it: out of scope is "not found".
pub(crate) fn challan_in_scope(
    tx: &mut dyn Tx,
    who: &Principal,
    number: &ChallanNumber,
) -> Result<Challan, StoreError> {
    challans::by_number(tx, number)?
        .filter(|c| may_read(who, c))
        .ok_or_else(|| StoreError::NotFound("challan".into()))
}

/// Whether the challan exists for `who` at all (out of scope is "not found").
pub(crate) fn may_read(who: &Principal, c: &Challan) -> bool {
    who.may(Action::ReadChallan, &Scope::of(&c.department, &c.district))
        .is_ok()
}

/// Refuses a change to a challan that is paid (refund instead) or already cancelled.
pub(crate) fn must_be_unpaid(c: &Challan) -> Result<(), StoreError> {
    match c.status {
        ChallanStatus::Unpaid => Ok(()),
        ChallanStatus::Paid => Err(StoreError::conflict(
            "challan_paid",
            format!(
                "challan {} is paid: it cannot be cancelled; return the money with a refund \
                 (finance: POST /api/v1/refunds)",
                c.number
            ),
        )),
        ChallanStatus::Cancelled => Err(StoreError::conflict(
            "challan_cancelled",
            format!("challan {} is already cancelled", c.number),
        )),
        ChallanStatus::Expired => Err(StoreError::conflict(
            "challan_expired",
            format!("voucher {} expired unpaid", c.number),
        )),
    }
}

/// Whether `who` may `decide` for the challan's department: a supervisor (or department admin)
/// of it.
pub(crate) fn must_supervise(
    who: &Principal,
    decide: Action,
    c: &Challan,
) -> Result<(), StoreError> {
    who.may(decide, &Scope::of(&c.department, &c.district))
        .map_err(|_| {
            StoreError::refused(
                "not_a_supervisor",
                format!("only a supervisor of {} decides this", c.department),
            )
        })
}
