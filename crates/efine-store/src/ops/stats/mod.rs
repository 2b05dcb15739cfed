//! Statistics kept as events land: every issuance and payment bumps the aggregate rows in
//! `stats_daily`, `stats_collections` and `stats_cells` inside the transaction that records it,
//! so the summary, dashboard and transparency figures read aggregates, never every challan, and
//! are exactly as current as the event log on every node sharing the database. [`rebuild`]
//! recounts them all from the record with the same counting code, for a database that held
//! challans before these tables existed or whenever the figures are in doubt.
//!
//! - `count`: what each event counts, and the live writes (`on_*`);
//! - `pending`: inside the writer, the figures tallied per batch and written once before COMMIT;
//! - `rebuild`: the recount from the record;
//! - `read`: the summaries, trends, hotspots and officer figures the API and pages read.

mod count;
mod pending;
mod read;
mod rebuild;

pub(crate) use pending::Pending;

pub use count::{
    off_hours, on_cancellation_requested, on_cancelled, on_issued, on_paid, on_reduced,
};
pub use read::*;
pub use rebuild::{need_rebuild, rebuild, rebuild_if_empty, Rebuilt, TABLES};

use crate::sql::Value;
use efine_core::auth::Principal;
use efine_core::challan::Challan;
use time::Date;

/// The dimensions a summary can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    District,
    Department,
    Offence,
    Officer,
}

impl Dim {
    pub const ALL: [Dim; 4] = [Dim::District, Dim::Department, Dim::Offence, Dim::Officer];

    pub fn as_str(self) -> &'static str {
        match self {
            Dim::District => "district",
            Dim::Department => "department",
            Dim::Offence => "offence",
            Dim::Officer => "officer",
        }
    }

    pub fn parse(s: &str) -> Option<Dim> {
        Dim::ALL.into_iter().find(|d| d.as_str() == s)
    }

    fn key(self, c: &Challan) -> String {
        match self {
            Dim::District => c.district.to_string(),
            Dim::Department => c.department.to_string(),
            // Offence codes are unique only within their department.
            Dim::Offence => format!("{}/{}", c.department, c.offence),
            Dim::Officer => c.officer.clone(),
        }
    }
}

/// Which rows a reader may see: officers, supervisors and department admins their own department
/// (and district, where their account has one); finance, auditors and admins everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub department: Option<String>,
    pub district: Option<String>,
}

impl Scope {
    pub fn all() -> Scope {
        Scope::default()
    }

    pub fn for_principal(p: &Principal) -> Scope {
        let reach = p.reach();
        Scope {
            department: reach.department.map(|d| d.to_string()),
            district: reach.district.map(|d| d.to_string()),
        }
    }
}

/// A date range, both ends included, on local dates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Range {
    pub from: Option<Date>,
    pub to: Option<Date>,
}

/// Builds a `WHERE` clause over the columns `department`, `district` and `day`.
pub(super) struct Filter {
    clauses: Vec<String>,
    params: Vec<Value>,
}

impl Filter {
    fn new(scope: &Scope, range: Range) -> Filter {
        Filter::after(Vec::new(), scope, range)
    }

    /// A filter whose parameters follow `first` (already numbered `$1`..).
    fn after(first: Vec<Value>, scope: &Scope, range: Range) -> Filter {
        let mut f = Filter {
            clauses: Vec::new(),
            params: first,
        };
        if let Some(d) = &scope.department {
            f.push("department =", d.clone().into());
        }
        if let Some(d) = &scope.district {
            f.push("district =", d.clone().into());
        }
        if let Some(d) = range.from {
            f.push("day >=", d.to_string().into());
        }
        if let Some(d) = range.to {
            f.push("day <=", d.to_string().into());
        }
        f
    }

    fn push(&mut self, lhs: &str, v: Value) {
        self.params.push(v);
        self.clauses.push(format!("{lhs} ${}", self.params.len()));
    }

    fn sql(&self) -> String {
        self.clauses
            .iter()
            .map(|c| format!(" AND {c}"))
            .collect::<String>()
    }
}

/// The district of the province-wide rows kept for the offence dimension.
pub(super) const ALL_DISTRICTS: &str = "*";

pub(super) fn month_start(d: Date) -> Date {
    d.replace_day(1).unwrap_or(d)
}

pub(super) fn next_month(d: Date) -> Date {
    let s = month_start(d);
    let (y, m) = (s.year(), s.month());
    let (y, m) = if m == time::Month::December {
        (y + 1, time::Month::January)
    } else {
        (y, m.next())
    };
    Date::from_calendar_date(y, m, 1).unwrap_or(s)
}

/// How a date range is read: whole months from `stats_monthly` (`None` for no months, an open
/// end for an open range) and the partial months at either end, as day ranges, from
/// `stats_daily`.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Split {
    months: Option<(Option<String>, Option<String>)>,
    days: Vec<(Date, Date)>,
}

pub(super) fn split(range: Range) -> Split {
    let first_full = range
        .from
        .map(|f| if f.day() == 1 { f } else { next_month(f) });
    // The first day after the last whole month.
    let after_last_full = range.to.map(|t| {
        let n = t.next_day().unwrap_or(t);
        if n.day() == 1 {
            n
        } else {
            month_start(t)
        }
    });
    let ym = |d: Date| d.to_string()[..7].to_string();
    match (first_full, after_last_full) {
        (Some(a), Some(b)) if a >= b => Split {
            months: None,
            days: vec![(range.from.unwrap_or(a), range.to.unwrap_or(b))],
        },
        (a, b) => {
            let mut days = Vec::new();
            if let (Some(f), Some(a)) = (range.from, a) {
                if f < a {
                    days.push((f, a.previous_day().unwrap_or(a)));
                }
            }
            if let (Some(t), Some(b)) = (range.to, b) {
                if b <= t {
                    days.push((b, t));
                }
            }
            Split {
                months: Some((a.map(ym), b.and_then(|b| b.previous_day()).map(ym))),
                days,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn r(from: Option<Date>, to: Option<Date>) -> Range {
        Range { from, to }
    }

    #[test]
    fn ranges_read_whole_months_and_edge_days() {
        let s = |a: &str, b: &str| Some((Some(a.to_string()), Some(b.to_string())));
        assert_eq!(split(r(None, None)).months, Some((None, None)));
        assert!(split(r(None, None)).days.is_empty());
        let x = split(r(Some(date!(2026 - 03 - 15)), Some(date!(2026 - 06 - 10))));
        assert_eq!(x.months, s("2026-04", "2026-05"));
        assert_eq!(
            x.days,
            vec![
                (date!(2026 - 03 - 15), date!(2026 - 03 - 31)),
                (date!(2026 - 06 - 01), date!(2026 - 06 - 10))
            ]
        );
        let x = split(r(Some(date!(2026 - 03 - 01)), Some(date!(2026 - 12 - 31))));
        assert_eq!((x.months, x.days), (s("2026-03", "2026-12"), vec![]));
        let x = split(r(Some(date!(2026 - 11 - 24)), Some(date!(2026 - 11 - 24))));
        assert_eq!(x.months, None);
        assert_eq!(x.days, vec![(date!(2026 - 11 - 24), date!(2026 - 11 - 24))]);
        let x = split(r(None, Some(date!(2026 - 02 - 10))));
        assert_eq!(x.months, Some((None, Some("2026-01".into()))));
        assert_eq!(x.days, vec![(date!(2026 - 02 - 01), date!(2026 - 02 - 10))]);
        let x = split(r(Some(date!(2025 - 12 - 31)), None));
        assert_eq!(x.months, Some((Some("2026-01".into()), None)));
        assert_eq!(x.days, vec![(date!(2025 - 12 - 31), date!(2025 - 12 - 31))]);
    }
}
