//! The challan lifecycle as an explicit transition table, and the amount due on a given day.

use crate::money::Money;
use crate::penalty::{self, Adjustments, PenaltySchedule, Terms};
use serde::{Deserialize, Serialize};
use time::{Date, Duration};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChallanStatus {
    /// Issued and not yet paid.
    Unpaid,
    Paid,
    Cancelled,
    /// A fee voucher a citizen asked for and did not pay within its validity: no longer
    /// payable (a new voucher is needed).
    Expired,
}

impl ChallanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ChallanStatus::Unpaid => "unpaid",
            ChallanStatus::Paid => "paid",
            ChallanStatus::Cancelled => "cancelled",
            ChallanStatus::Expired => "expired",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "unpaid" => Some(ChallanStatus::Unpaid),
            "paid" => Some(ChallanStatus::Paid),
            "cancelled" => Some(ChallanStatus::Cancelled),
            "expired" => Some(ChallanStatus::Expired),
            _ => None,
        }
    }
}

/// What can happen to a challan. Each is recorded as an event in the audit log under its
/// `kind()` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChallanEvent {
    Issued,
    PaymentConfirmed,
    CancellationApproved,
    /// A citizen's fee voucher passed its validity unpaid.
    ValidityEnded,
}

impl ChallanEvent {
    pub fn kind(self) -> &'static str {
        match self {
            ChallanEvent::Issued => "challan.issued",
            ChallanEvent::PaymentConfirmed => "challan.paid",
            ChallanEvent::CancellationApproved => "challan.cancelled",
            ChallanEvent::ValidityEnded => "challan.expired",
        }
    }
}

/// The transition table: (from, event) -> to. `None` as `from` is a challan not yet issued.
/// Anything not listed is refused.
pub const TRANSITIONS: &[(Option<ChallanStatus>, ChallanEvent, ChallanStatus)] = &[
    (None, ChallanEvent::Issued, ChallanStatus::Unpaid),
    (
        Some(ChallanStatus::Unpaid),
        ChallanEvent::PaymentConfirmed,
        ChallanStatus::Paid,
    ),
    (
        Some(ChallanStatus::Unpaid),
        ChallanEvent::CancellationApproved,
        ChallanStatus::Cancelled,
    ),
    (
        Some(ChallanStatus::Unpaid),
        ChallanEvent::ValidityEnded,
        ChallanStatus::Expired,
    ),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a challan that is {from} cannot take {event}")]
pub struct TransitionRefused {
    pub from: String,
    pub event: &'static str,
}

pub fn transition(
    from: Option<ChallanStatus>,
    event: ChallanEvent,
) -> Result<ChallanStatus, TransitionRefused> {
    TRANSITIONS
        .iter()
        .find(|(f, e, _)| *f == from && *e == event)
        .map(|(_, _, to)| *to)
        .ok_or(TransitionRefused {
            from: from.map(|s| s.as_str()).unwrap_or("not issued").to_string(),
            event: event.kind(),
        })
}

/// The last day to pay without surcharge: the local issue date plus the schedule's days to pay.
pub fn due_date(issued_on: Date, days_to_pay: u16) -> Date {
    issued_on + Duration::days(i64::from(days_to_pay))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn table() {
        assert_eq!(
            transition(None, ChallanEvent::Issued),
            Ok(ChallanStatus::Unpaid)
        );
        assert_eq!(
            transition(Some(ChallanStatus::Unpaid), ChallanEvent::PaymentConfirmed),
            Ok(ChallanStatus::Paid)
        );
        assert!(transition(
            Some(ChallanStatus::Paid),
            ChallanEvent::CancellationApproved
        )
        .is_err());
        assert!(transition(
            Some(ChallanStatus::Cancelled),
            ChallanEvent::PaymentConfirmed
        )
        .is_err());
        assert!(transition(Some(ChallanStatus::Unpaid), ChallanEvent::Issued).is_err());
    }

    #[test]
    fn due_date_counts_local_days() {
        assert_eq!(due_date(date!(2026 - 03 - 01), 14), date!(2026 - 03 - 15));
    }
}

/// Where an offence happened. Coordinates in micro-degrees (integers, exact and portable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Location {
    pub lat_micro: Option<i64>,
    pub lon_micro: Option<i64>,
    pub text: Option<String>,
}

/// A challan as issued. The fields other than `status` never change after issue; `status` follows
/// from the events recorded against the challan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challan {
    pub number: crate::ChallanNumber,
    pub psid: crate::Psid,
    pub department: crate::DepartmentCode,
    pub district: crate::DistrictCode,
    pub offence: crate::OffenceCode,
    pub offence_version: i64,
    pub kind: crate::OffenceKind,
    pub amount: Money,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: time::OffsetDateTime,
    pub due_date: Date,
    pub officer: String,
    pub vehicle: Option<crate::VehicleNumber>,
    pub vehicle_authority: Option<String>,
    pub cnic: Option<crate::Cnic>,
    pub mobile: Option<crate::MobileNumber>,
    pub name: Option<String>,
    pub location: Location,
    pub notes: Option<String>,
    /// The penalty terms in force at issue (absent from the issue record when they are the
    /// default, doubling with no stages, as for challans issued before schedules existed).
    #[serde(default, skip_serializing_if = "PenaltySchedule::is_default")]
    pub penalty: PenaltySchedule,
    pub status: ChallanStatus,
    /// Appeals and enforcement since issue: a projection of later events, not part of the issue
    /// record.
    #[serde(skip)]
    pub adjustments: Adjustments,
}

impl Challan {
    pub fn terms(&self) -> Terms<'_> {
        Terms {
            amount: self.amount,
            issued_on: crate::clock::karachi_date(self.issued_at),
            due_date: self.due_date,
            schedule: &self.penalty,
            adjustments: &self.adjustments,
        }
    }

    /// What the challan costs if paid on the local day `on`, by its schedule (whatever its status).
    pub fn amount_due(&self, on: Date) -> Money {
        penalty::amount_due(&self.terms(), on)
    }

    /// What is owed on `on`: nothing once paid or cancelled.
    pub fn owed_on(&self, on: Date) -> Money {
        match self.status {
            ChallanStatus::Unpaid => self.amount_due(on),
            _ => Money::ZERO,
        }
    }

    /// The first local day on which the escalation run has something to record for this
    /// challan: its surcharge or an enforcement stage not recorded yet. `None` when nothing can
    /// become due: paid or cancelled, under an open appeal (the clock stands still), or every
    /// step recorded. The store keeps this in an indexed column, so a run visits only the
    /// challans whose next step is due.
    pub fn next_step_on(&self) -> Option<Date> {
        if self.status != ChallanStatus::Unpaid {
            return None;
        }
        let terms = self.terms();
        let surcharge = terms
            .surcharge_from()
            .filter(|_| !self.adjustments.surcharged);
        let stage = penalty::stage_dates(&terms)
            .into_iter()
            .filter(|(s, _)| self.adjustments.stage.is_none_or(|c| c < *s))
            .map(|(_, d)| d)
            .min();
        surcharge.into_iter().chain(stage).min()
    }

    /// The amount from the day the surcharge starts.
    pub fn amount_after_due_date(&self) -> Money {
        penalty::surcharged(self.terms().base(), self.penalty.surcharge)
    }
}
