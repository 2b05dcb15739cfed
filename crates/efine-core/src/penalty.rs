//! The penalty schedule: what a challan costs on a given local day, when its surcharge starts,
//! and which enforcement stage it has reached.
//!
//! A schedule belongs to an offence or fee version in the catalogue and is copied onto a challan
//! when it is issued (like its amount), so a later change of terms never alters an issued challan.
//! What happens to a challan afterwards (an appeal pausing the clock, a reduced amount) is its
//! [`Adjustments`], a projection of its events.
//!
//! All dates are local calendar days in Asia/Karachi.

use crate::money::Money;
use serde::{Deserialize, Serialize};
use time::{Date, Duration};

/// What is added once the due date has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Surcharge {
    /// The amount doubles (the KP rule for traffic fines).
    #[default]
    Double,
    /// A fixed amount is added.
    Fixed { amount: Money },
    /// A percentage of the amount is added, in basis points (1000 = 10 %).
    Percent { basis_points: u32 },
}

/// A reduction for paying early: `basis_points` off when paid within `within_days` of issue
/// (the issue day counts as day 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Discount {
    pub within_days: u16,
    pub basis_points: u32,
}

/// Enforcement stages an unpaid challan reaches, in order of severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The vehicle may be impounded at a checkpoint.
    ImpoundEligible,
    /// The driving licence is suspended.
    LicenceSuspended,
    /// The vehicle may not be transferred to a new owner.
    TransferBlocked,
}

impl Stage {
    pub const ALL: [Stage; 3] = [
        Stage::ImpoundEligible,
        Stage::LicenceSuspended,
        Stage::TransferBlocked,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::ImpoundEligible => "impound_eligible",
            Stage::LicenceSuspended => "licence_suspended",
            Stage::TransferBlocked => "transfer_blocked",
        }
    }
    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|st| st.as_str() == s)
    }
    /// What an officer at a checkpoint should do about a vehicle at this stage.
    pub fn recommended_action(self) -> &'static str {
        match self {
            Stage::ImpoundEligible => "impound the vehicle until the challans are paid",
            Stage::LicenceSuspended => {
                "impound the vehicle; the driving licence is suspended until the challans are paid"
            }
            Stage::TransferBlocked => {
                "impound the vehicle; licence suspended and transfer of ownership blocked until paid"
            }
        }
    }
}

/// How a supervisor decides an appeal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppealOutcome {
    /// The challan stands as issued.
    Uphold,
    /// The challan stands at a lower amount.
    Reduce,
    /// The challan is void (cancelled).
    Quash,
}

impl AppealOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AppealOutcome::Uphold => "uphold",
            AppealOutcome::Reduce => "reduce",
            AppealOutcome::Quash => "quash",
        }
    }
    pub fn parse(s: &str) -> Option<AppealOutcome> {
        [
            AppealOutcome::Uphold,
            AppealOutcome::Reduce,
            AppealOutcome::Quash,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

/// Reaching `stage` `days_after_due` days after the (effective) due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    pub stage: Stage,
    pub days_after_due: u16,
}

/// The terms of an offence or fee after issue. `days_to_pay` stays on the offence (it fixes the
/// due date at issue); this is everything else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PenaltySchedule {
    #[serde(default)]
    pub surcharge: Surcharge,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<Discount>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escalation: Vec<Escalation>,
}

impl PenaltySchedule {
    pub fn is_default(&self) -> bool {
        *self == PenaltySchedule::default()
    }

    /// Checks the terms an administrator wrote: a discount below 100 %, a percentage surcharge
    /// of at most 1000 %, escalation days strictly increasing with severity.
    pub fn check(&self) -> Result<(), crate::ParseError> {
        if let Some(d) = self.discount {
            if d.basis_points == 0 || d.basis_points >= 10_000 {
                return Err(crate::ParseError::new(
                    "an early-payment discount must be between 0 and 100 %",
                ));
            }
        }
        if let Surcharge::Percent { basis_points } = self.surcharge {
            if basis_points > 100_000 {
                return Err(crate::ParseError::new(
                    "a percentage surcharge must be at most 1000 %",
                ));
            }
        }
        for w in self.escalation.windows(2) {
            if w[0].stage >= w[1].stage || w[0].days_after_due >= w[1].days_after_due {
                return Err(crate::ParseError::new(
                    "escalation stages must be listed in order, each later than the one before",
                ));
            }
        }
        Ok(())
    }
}

/// What has happened to a challan since issue that changes its terms: a projection of its
/// `appeal.lodged` and `appeal.decided` events (and, for `stage` and `surcharged`, of the
/// escalation job's events).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Adjustments {
    /// Days the surcharge clock stood still under appeals already decided.
    pub paused_days: u32,
    /// The local day an appeal still open was lodged: the clock stands still from that day.
    pub paused_since: Option<Date>,
    /// The amount an appeal decision reduced the challan to.
    pub reduced_amount: Option<Money>,
    /// The latest enforcement stage recorded for the challan.
    pub stage: Option<Stage>,
    /// Whether the escalation job recorded that the surcharge applies.
    pub surcharged: bool,
}

/// Everything the arithmetic needs about one challan.
#[derive(Debug, Clone, Copy)]
pub struct Terms<'a> {
    pub amount: Money,
    pub issued_on: Date,
    pub due_date: Date,
    pub schedule: &'a PenaltySchedule,
    pub adjustments: &'a Adjustments,
}

impl Terms<'_> {
    /// The day the clock reads on `on`: it stands still from the day an open appeal was lodged.
    fn clock(&self, on: Date) -> Date {
        match self.adjustments.paused_since {
            Some(p) if on > p => p,
            _ => on,
        }
    }

    /// The last day to pay without surcharge, moved on by the days spent under appeal.
    pub fn effective_due_date(&self) -> Date {
        self.due_date + Duration::days(i64::from(self.adjustments.paused_days))
    }

    /// The amount the surcharge is computed on: the scheduled amount, or what an appeal reduced
    /// it to.
    pub fn base(&self) -> Money {
        self.adjustments.reduced_amount.unwrap_or(self.amount)
    }

    /// The day the surcharge starts, if the clock is running (`None` while under appeal).
    pub fn surcharge_from(&self) -> Option<Date> {
        if self.adjustments.paused_since.is_some() {
            return None;
        }
        self.effective_due_date().next_day()
    }

    /// What the challan costs if paid on `on`.
    pub fn amount_due(&self, on: Date) -> Money {
        amount_due(self, on)
    }

    /// The highest enforcement stage the schedule gives on `on`.
    pub fn stage_on(&self, on: Date) -> Option<Stage> {
        stage_on(self, on)
    }
}

/// The amount after surcharge, from the base amount.
pub fn surcharged(base: Money, s: Surcharge) -> Money {
    // Amounts are capped at the 1Bill wire maximum; saturate there rather than fail.
    let cap = Money::from_paisa(crate::money::MAX_PAISA).unwrap_or(base);
    match s {
        Surcharge::Double => base.checked_mul(2),
        Surcharge::Fixed { amount } => base.checked_add(amount),
        Surcharge::Percent { basis_points } => base
            .mul_ratio(i64::from(basis_points), 10_000)
            .and_then(|extra| base.checked_add(extra)),
    }
    .unwrap_or(cap)
}

/// What a challan costs if paid on the local day `on`: the base amount (less any early-payment
/// discount within its window) up to and including the effective due date, and the surcharged
/// amount from the day after. While an appeal is open the clock stands still on the day it was
/// lodged.
pub fn amount_due(t: &Terms<'_>, on: Date) -> Money {
    let clock = t.clock(on);
    let base = t.base();
    if clock > t.effective_due_date() {
        return surcharged(base, t.schedule.surcharge);
    }
    if let Some(d) = t.schedule.discount {
        if t.adjustments.reduced_amount.is_none()
            && clock <= t.issued_on + Duration::days(i64::from(d.within_days))
        {
            let off = base
                .mul_ratio(i64::from(d.basis_points), 10_000)
                .unwrap_or(Money::ZERO);
            return base.checked_sub(off).unwrap_or(Money::ZERO);
        }
    }
    base
}

/// The highest enforcement stage reached on `on` (None before the first, or with no stages).
pub fn stage_on(t: &Terms<'_>, on: Date) -> Option<Stage> {
    let clock = t.clock(on);
    let due = t.effective_due_date();
    t.schedule
        .escalation
        .iter()
        .filter(|e| clock > due + Duration::days(i64::from(e.days_after_due)))
        .map(|e| e.stage)
        .max()
}

/// One line of a challan's payment schedule: `amount` if paid from `from` (inclusive; `None` =
/// from issue) until `until` (inclusive; `None` = with no end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub from: Option<Date>,
    pub until: Option<Date>,
    pub amount: Money,
}

/// The whole payment schedule as a citizen reads it: "pay by 14 Dec: Rs 1,000; from 15 Dec:
/// Rs 2,000" (with an early-payment step first where there is a discount). Under appeal the
/// amount is frozen: one step with no dates.
pub fn steps(t: &Terms<'_>) -> Vec<Step> {
    if let Some(p) = t.adjustments.paused_since {
        return vec![Step {
            from: None,
            until: None,
            amount: amount_due(t, p),
        }];
    }
    let due = t.effective_due_date();
    let mut v = Vec::new();
    let mut from = None;
    if let (Some(d), None) = (t.schedule.discount, t.adjustments.reduced_amount) {
        let end = (t.issued_on + Duration::days(i64::from(d.within_days))).min(due);
        v.push(Step {
            from: None,
            until: Some(end),
            amount: amount_due(t, end),
        });
        from = end.next_day();
    }
    if from.is_none_or(|f| f <= due) {
        v.push(Step {
            from,
            until: Some(due),
            amount: t.base(),
        });
    }
    v.push(Step {
        from: due.next_day(),
        until: None,
        amount: surcharged(t.base(), t.schedule.surcharge),
    });
    v
}

/// The day each stage is reached, while the clock runs.
pub fn stage_dates(t: &Terms<'_>) -> Vec<(Stage, Date)> {
    if t.adjustments.paused_since.is_some() {
        return Vec::new();
    }
    let due = t.effective_due_date();
    t.schedule
        .escalation
        .iter()
        .map(|e| {
            (
                e.stage,
                due + Duration::days(i64::from(e.days_after_due) + 1),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn rs(r: i64) -> Money {
        Money::from_rupees(r).unwrap()
    }

    fn traffic() -> PenaltySchedule {
        PenaltySchedule {
            surcharge: Surcharge::Double,
            discount: None,
            escalation: vec![
                Escalation {
                    stage: Stage::ImpoundEligible,
                    days_after_due: 30,
                },
                Escalation {
                    stage: Stage::LicenceSuspended,
                    days_after_due: 60,
                },
            ],
        }
    }

    #[test]
    fn doubles_the_day_after_and_escalates() {
        let s = traffic();
        let a = Adjustments::default();
        let t = Terms {
            amount: rs(1000),
            issued_on: date!(2026 - 11 - 30),
            due_date: date!(2026 - 12 - 14),
            schedule: &s,
            adjustments: &a,
        };
        assert_eq!(t.amount_due(date!(2026 - 12 - 14)), rs(1000));
        assert_eq!(t.amount_due(date!(2026 - 12 - 15)), rs(2000));
        assert_eq!(t.surcharge_from(), Some(date!(2026 - 12 - 15)));
        assert_eq!(t.stage_on(date!(2027 - 01 - 13)), None);
        assert_eq!(
            t.stage_on(date!(2027 - 01 - 14)),
            Some(Stage::ImpoundEligible)
        );
        assert_eq!(
            stage_dates(&t),
            vec![
                (Stage::ImpoundEligible, date!(2027 - 01 - 14)),
                (Stage::LicenceSuspended, date!(2027 - 02 - 13))
            ]
        );
        assert_eq!(
            t.stage_on(date!(2027 - 03 - 01)),
            Some(Stage::LicenceSuspended)
        );
    }

    #[test]
    fn appeal_pauses_and_reduces() {
        let s = traffic();
        let open = Adjustments {
            paused_since: Some(date!(2026 - 12 - 10)),
            ..Default::default()
        };
        let t = Terms {
            amount: rs(1000),
            issued_on: date!(2026 - 11 - 30),
            due_date: date!(2026 - 12 - 14),
            schedule: &s,
            adjustments: &open,
        };
        // Under appeal: the clock stands on 10 Dec, so no surcharge however long it takes.
        assert_eq!(t.amount_due(date!(2027 - 06 - 01)), rs(1000));
        assert_eq!(t.stage_on(date!(2027 - 06 - 01)), None);
        assert_eq!(t.surcharge_from(), None);
        // Decided on 20 Dec, reduced to Rs 600: ten days paused, due date now 24 Dec.
        let decided = Adjustments {
            paused_days: 10,
            reduced_amount: Some(rs(600)),
            ..Default::default()
        };
        let t = Terms {
            adjustments: &decided,
            ..t
        };
        assert_eq!(t.amount_due(date!(2026 - 12 - 24)), rs(600));
        assert_eq!(t.amount_due(date!(2026 - 12 - 25)), rs(1200));
    }

    #[test]
    fn schedule_steps() {
        let s = PenaltySchedule {
            discount: Some(Discount {
                within_days: 3,
                basis_points: 2000,
            }),
            ..Default::default()
        };
        let a = Adjustments::default();
        let t = Terms {
            amount: rs(1000),
            issued_on: date!(2026 - 11 - 30),
            due_date: date!(2026 - 12 - 14),
            schedule: &s,
            adjustments: &a,
        };
        assert_eq!(
            steps(&t),
            vec![
                Step {
                    from: None,
                    until: Some(date!(2026 - 12 - 03)),
                    amount: rs(800)
                },
                Step {
                    from: Some(date!(2026 - 12 - 04)),
                    until: Some(date!(2026 - 12 - 14)),
                    amount: rs(1000)
                },
                Step {
                    from: Some(date!(2026 - 12 - 15)),
                    until: None,
                    amount: rs(2000)
                },
            ]
        );
        // Every step agrees with amount_due on its first and last day.
        for st in steps(&t) {
            for d in [st.from, st.until].into_iter().flatten() {
                assert_eq!(t.amount_due(d), st.amount);
            }
        }
    }

    #[test]
    fn fixed_percent_and_discount() {
        let a = Adjustments::default();
        let s = PenaltySchedule {
            surcharge: Surcharge::Fixed { amount: rs(250) },
            discount: Some(Discount {
                within_days: 3,
                basis_points: 2000,
            }),
            escalation: vec![],
        };
        let t = Terms {
            amount: rs(1000),
            issued_on: date!(2026 - 11 - 30),
            due_date: date!(2026 - 12 - 14),
            schedule: &s,
            adjustments: &a,
        };
        assert_eq!(t.amount_due(date!(2026 - 12 - 03)), rs(800));
        assert_eq!(t.amount_due(date!(2026 - 12 - 04)), rs(1000));
        assert_eq!(t.amount_due(date!(2026 - 12 - 15)), rs(1250));
        let p = PenaltySchedule {
            surcharge: Surcharge::Percent { basis_points: 1000 },
            ..Default::default()
        };
        let t = Terms { schedule: &p, ..t };
        assert_eq!(t.amount_due(date!(2026 - 12 - 15)), rs(1100));
    }

    #[test]
    fn schedule_checks_and_json() {
        assert!(traffic().check().is_ok());
        let mut bad = traffic();
        bad.escalation.reverse();
        assert!(bad.check().is_err());
        let j = serde_json::to_string(&PenaltySchedule::default()).unwrap();
        assert_eq!(j, r#"{"surcharge":{"kind":"double"}}"#);
        let back: PenaltySchedule =
            serde_json::from_str(&serde_json::to_string(&traffic()).unwrap()).unwrap();
        assert_eq!(back, traffic());
    }

    fn schedule() -> impl Strategy<Value = PenaltySchedule> {
        (
            prop_oneof![
                Just(Surcharge::Double),
                (0i64..10_000_000).prop_map(|p| Surcharge::Fixed {
                    amount: Money::from_paisa(p).unwrap()
                }),
                (0u32..50_000).prop_map(|b| Surcharge::Percent { basis_points: b }),
            ],
            proptest::option::of((0u16..30, 1u32..10_000).prop_map(|(w, b)| Discount {
                within_days: w,
                basis_points: b,
            })),
        )
            .prop_map(|(surcharge, discount)| PenaltySchedule {
                surcharge,
                discount,
                escalation: vec![Escalation {
                    stage: Stage::ImpoundEligible,
                    days_after_due: 30,
                }],
            })
    }

    proptest! {
        #[test]
        fn never_negative_never_below_after_due(
            p in 1i64..1_000_000_000,
            s in schedule(),
            days in 1i64..90,
            off in -400i64..400,
            paused in 0u32..60,
            reduced in proptest::option::of(0i64..1_000_000_000),
        ) {
            let issued = date!(2026 - 01 - 01);
            let adj = Adjustments {
                paused_days: paused,
                reduced_amount: reduced.map(|r| Money::from_paisa(r).unwrap()),
                ..Default::default()
            };
            let t = Terms {
                amount: Money::from_paisa(p).unwrap(),
                issued_on: issued,
                due_date: issued + Duration::days(days),
                schedule: &s,
                adjustments: &adj,
            };
            let on = t.effective_due_date() + Duration::days(off);
            let a = t.amount_due(on);
            prop_assert!(a >= Money::ZERO);
            prop_assert!(a <= surcharged(t.base(), s.surcharge));
            if off > 0 {
                prop_assert_eq!(a, surcharged(t.base(), s.surcharge));
                prop_assert!(a >= t.base());
            } else {
                prop_assert!(a <= t.base());
            }
            // The surcharge starts exactly on the day surcharge_from names.
            let from = t.surcharge_from().unwrap();
            prop_assert_eq!(t.amount_due(from), surcharged(t.base(), s.surcharge));
            // Monotone in time: paying later never costs less.
            prop_assert!(t.amount_due(on + Duration::days(1)) >= a);
        }

        #[test]
        fn default_doubles_exactly_the_day_after(p in 1i64..1_000_000_000, days in 1i64..90) {
            let s = PenaltySchedule::default();
            let adj = Adjustments::default();
            let issued = date!(2026 - 01 - 01);
            let t = Terms {
                amount: Money::from_paisa(p).unwrap(),
                issued_on: issued,
                due_date: issued + Duration::days(days),
                schedule: &s,
                adjustments: &adj,
            };
            prop_assert_eq!(t.amount_due(t.due_date).paisa(), p);
            prop_assert_eq!(t.amount_due(t.due_date + Duration::days(1)).paisa(), 2 * p);
            prop_assert_eq!(t.amount_due(issued).paisa(), p);
        }

        #[test]
        fn open_appeal_freezes_everything(p in 1i64..1_000_000_000, lodged in 0i64..60, later in 0i64..400) {
            let s = PenaltySchedule { escalation: vec![Escalation { stage: Stage::ImpoundEligible, days_after_due: 5 }], ..Default::default() };
            let issued = date!(2026 - 01 - 01);
            let since = issued + Duration::days(lodged);
            let adj = Adjustments { paused_since: Some(since), ..Default::default() };
            let t = Terms {
                amount: Money::from_paisa(p).unwrap(),
                issued_on: issued,
                due_date: issued + Duration::days(14),
                schedule: &s,
                adjustments: &adj,
            };
            let then = since + Duration::days(later);
            prop_assert_eq!(t.amount_due(then), t.amount_due(since));
            prop_assert_eq!(t.stage_on(then), t.stage_on(since));
        }
    }
}
