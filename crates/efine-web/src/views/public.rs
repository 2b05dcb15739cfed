//! What a citizen may see of a challan (personal data masked), its payment schedule, and
//! lookups by vehicle or CNIC.

use super::*;
use efine_core::challan::Challan;
use efine_core::mask;
use efine_store::ops::catalogue::Names;
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

/// What a citizen may see: personal data masked, the plate shown (it is on the vehicle).
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicChallanView {
    pub challan_number: String,
    pub psid: String,
    pub department: String,
    pub department_name_en: String,
    pub department_name_ur: String,
    pub district: String,
    pub district_name_en: String,
    pub district_name_ur: String,
    pub offence_code: String,
    pub offence_name_en: String,
    pub offence_name_ur: String,
    pub kind: String,
    /// Paisa due if paid today (Asia/Karachi).
    pub amount_due: i64,
    pub amount_due_display: String,
    /// Paisa due from the day after the due date.
    pub amount_after_due_date: i64,
    pub amount_after_due_date_display: String,
    /// Last local day to pay without surcharge (moved on by days spent under appeal).
    pub due_date: String,
    /// The local day `amount_due` is for: today, or the `on` asked for.
    pub on: String,
    /// What the challan costs by when, e.g. "pay by 14 Dec 2026: Rs 1,000; from 15 Dec 2026:
    /// Rs 2,000".
    pub schedule_text: String,
    pub schedule: Vec<ScheduleStepView>,
    /// An appeal is open: the surcharge clock stands still.
    pub under_appeal: bool,
    /// The enforcement stage reached on `on`: `impound_eligible`, `licence_suspended` or
    /// `transfer_blocked`.
    pub stage: Option<String>,
    pub status: String,
    pub issued_at: String,
    pub vehicle_number: Option<String>,
    /// Masked, e.g. `M******* A***`.
    pub name: Option<String>,
    /// Masked, e.g. `*****-****567-*`.
    pub cnic: Option<String>,
    /// Masked, e.g. `0300-*****67`.
    pub mobile: Option<String>,
    /// Present once paid.
    pub paid: Option<PaidView>,
}

impl PublicChallanView {
    pub fn new(
        c: Challan,
        names: Names,
        paid: Option<efine_store::ops::payments::Receipt>,
        today: Date,
    ) -> Self {
        let due = due_now(&c, today);
        let after = after_due(&c);
        let terms = c.terms();
        let steps = efine_core::penalty::steps(&terms);
        let open = c.status == efine_core::ChallanStatus::Unpaid;
        PublicChallanView {
            on: today.to_string(),
            schedule_text: if open {
                schedule_text(&steps)
            } else {
                format!("nothing to pay: {}", c.status.as_str())
            },
            schedule: if open {
                steps.iter().map(ScheduleStepView::from).collect()
            } else {
                Vec::new()
            },
            under_appeal: c.adjustments.paused_since.is_some(),
            stage: if open {
                terms.stage_on(today).map(|s| s.as_str().to_string())
            } else {
                None
            },
            paid: paid.map(Into::into),
            challan_number: c.number.to_string(),
            psid: c.psid.to_string(),
            department: c.department.to_string(),
            department_name_en: names.department_en,
            department_name_ur: names.department_ur,
            district: c.district.to_string(),
            district_name_en: names.district_en,
            district_name_ur: names.district_ur,
            offence_code: c.offence.to_string(),
            offence_name_en: names.offence_en,
            offence_name_ur: names.offence_ur,
            kind: c.kind.as_str().into(),
            amount_due: due.paisa(),
            amount_due_display: due.to_string(),
            amount_after_due_date: after.paisa(),
            amount_after_due_date_display: after.to_string(),
            due_date: terms.effective_due_date().to_string(),
            status: c.status.as_str().into(),
            issued_at: rfc3339(c.issued_at),
            vehicle_number: c.vehicle.clone().map(|v| v.to_string()),
            name: c.name.as_deref().map(mask::name),
            cnic: c.cnic.as_ref().map(mask::cnic),
            mobile: c.mobile.as_ref().map(mask::mobile),
        }
    }
}

/// One line of the payment schedule.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleStepView {
    /// First local day of this amount (absent: from issue).
    pub from: Option<String>,
    /// Last local day of this amount (absent: with no end).
    pub until: Option<String>,
    pub amount: i64,
    pub amount_display: String,
}

impl From<&efine_core::penalty::Step> for ScheduleStepView {
    fn from(s: &efine_core::penalty::Step) -> Self {
        ScheduleStepView {
            from: s.from.map(|d| d.to_string()),
            until: s.until.map(|d| d.to_string()),
            amount: s.amount.paisa(),
            amount_display: s.amount.to_string(),
        }
    }
}

fn day_month(d: Date) -> String {
    d.format(time::macros::format_description!(
        "[day padding:none] [month repr:short] [year]"
    ))
    .unwrap_or_else(|_| d.to_string())
}

/// "pay by 14 Dec 2026: Rs 1,000; from 15 Dec 2026: Rs 2,000".
pub fn schedule_text(steps: &[efine_core::penalty::Step]) -> String {
    steps
        .iter()
        .map(|s| match (s.from, s.until) {
            (None, None) => format!("{} while the appeal is decided", s.amount),
            (_, Some(u)) => format!("pay by {}: {}", day_month(u), s.amount),
            (Some(f), None) => format!("from {}: {}", day_month(f), s.amount),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Exactly one of `vehicle` or `cnic`. Personal identifiers go in the body, never in a URL.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupRequest {
    pub vehicle: Option<String>,
    pub cnic: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LookupResponse {
    pub count: usize,
    /// Paisa due today over the unpaid challans found.
    pub total_due: i64,
    pub total_due_display: String,
    /// Newest first, at most 100.
    pub challans: Vec<PublicChallanView>,
}
