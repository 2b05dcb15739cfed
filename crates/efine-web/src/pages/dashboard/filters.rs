//! The dashboard's filters, all kept in the address so a view can be bookmarked and shared:
//! `range` (a preset: today, 7d, month, last_month, year, all, or custom with `from` and `to`),
//! `district` and `department` (codes from the catalogue; an account tied to a district or
//! department keeps its own whatever the address says). The CSV links carry the same filters.

use crate::i18n::{tr, Lang};
use efine_core::auth::Principal;
use efine_store::ops::stats::{Range, Scope};
use serde::Deserialize;
use time::{Date, Duration, Month};

#[derive(Debug, Deserialize, Default, Clone)]
pub struct DashQuery {
    pub range: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub district: Option<String>,
    pub department: Option<String>,
}

/// The presets, in the order the page offers them.
pub const PRESETS: [(&str, &str); 7] = [
    ("today", "dashboard.range_today"),
    ("7d", "dashboard.range_7d"),
    ("month", "dashboard.range_month"),
    ("last_month", "dashboard.range_last_month"),
    ("year", "dashboard.range_year"),
    ("all", "dashboard.range_all"),
    ("custom", "dashboard.range_custom"),
];

/// The filters as understood, with the figures' scope and range.
#[derive(Debug, Clone)]
pub struct Filters {
    pub preset: &'static str,
    pub range: Range,
    pub scope: Scope,
    /// What the reader chose (not what the account forces), for the form and the links.
    pub district: Option<String>,
    pub department: Option<String>,
    /// Problems to show above the figures (the rest of the filters still apply).
    pub errors: Vec<String>,
    /// The day the figures are for ("today" in Pakistan).
    pub today: Date,
}

fn day(s: &str) -> Option<Date> {
    Date::parse(
        s.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

fn first_of_month(d: Date) -> Date {
    d.replace_day(1).unwrap_or(d)
}

fn blank(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The range a preset covers on `today` (local days, both ends included).
pub fn preset_range(preset: &str, today: Date) -> Range {
    let r = |from: Date, to: Date| Range {
        from: Some(from),
        to: Some(to),
    };
    match preset {
        "today" => r(today, today),
        "7d" => r(today - Duration::days(6), today),
        "month" => r(first_of_month(today), today),
        "last_month" => {
            let end = first_of_month(today) - Duration::days(1);
            r(first_of_month(end), end)
        }
        "year" => r(
            Date::from_calendar_date(today.year(), Month::January, 1).unwrap_or(today),
            today,
        ),
        _ => Range::default(),
    }
}

impl Filters {
    /// Reads the query against the reader's account and the catalogue's codes.
    pub fn parse(
        q: &DashQuery,
        who: &Principal,
        today: Date,
        lang: Lang,
        districts: &[String],
        departments: &[String],
    ) -> Filters {
        let mut errors = Vec::new();
        let asked = blank(&q.range);
        let has_dates = blank(&q.from).is_some() || blank(&q.to).is_some();
        let preset = match asked.as_deref() {
            Some(p) => PRESETS
                .iter()
                .map(|(k, _)| *k)
                .find(|k| *k == p)
                .unwrap_or_else(|| {
                    errors.push(tr(lang, "dashboard.bad_range").to_string());
                    "all"
                }),
            None if has_dates => "custom",
            None => "all",
        };
        let range = if preset == "custom" {
            let from = blank(&q.from).map(|s| day(&s).ok_or(()));
            let to = blank(&q.to).map(|s| day(&s).ok_or(()));
            match (from.transpose(), to.transpose()) {
                (Ok(f), Ok(t)) if f.zip(t).is_none_or(|(f, t)| f <= t) => Range { from: f, to: t },
                (Ok(_), Ok(_)) => {
                    errors.push(tr(lang, "dashboard.bad_order").to_string());
                    Range::default()
                }
                _ => {
                    errors.push(tr(lang, "dashboard.bad_date").to_string());
                    Range::default()
                }
            }
        } else {
            preset_range(preset, today)
        };
        let mut scope = Scope::for_principal(who);
        let mut pick = |v: &Option<String>, known: &[String], forced: bool| -> Option<String> {
            let v = blank(v)?;
            if forced {
                return None;
            }
            if known.contains(&v) {
                Some(v)
            } else {
                errors.push(tr(lang, "dashboard.bad_code").to_string());
                None
            }
        };
        let district = pick(&q.district, districts, scope.district.is_some());
        let department = pick(&q.department, departments, scope.department.is_some());
        if scope.district.is_none() {
            scope.district = district.clone();
        }
        if scope.department.is_none() {
            scope.department = department.clone();
        }
        Filters {
            preset,
            range,
            scope,
            district,
            department,
            errors,
            today,
        }
    }

    /// The filters as a query string (without `?`), for links that keep them.
    pub fn query(&self) -> String {
        let mut kv: Vec<(&str, String)> = vec![("range", self.preset.to_string())];
        if self.preset == "custom" {
            if let Some(f) = self.range.from {
                kv.push(("from", f.to_string()));
            }
            if let Some(t) = self.range.to {
                kv.push(("to", t.to_string()));
            }
        }
        if let Some(d) = &self.district {
            kv.push(("district", d.clone()));
        }
        if let Some(d) = &self.department {
            kv.push(("department", d.clone()));
        }
        serde_urlencoded::to_string(&kv).unwrap_or_default()
    }

    /// The same filters with another preset (the preset chips' links).
    pub fn with_preset(&self, preset: &'static str) -> String {
        let mut f = self.clone();
        f.preset = preset;
        f.range = preset_range(preset, self.today);
        f.query()
    }

    /// Whether the range reaches today, so its last day (and week) is not over yet.
    pub fn ends_today(&self) -> bool {
        self.range.to.is_none_or(|t| t >= self.today)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn presets_cover_whole_local_days() {
        let today = date!(2026 - 11 - 24);
        let r = preset_range("last_month", today);
        assert_eq!(
            (r.from, r.to),
            (Some(date!(2026 - 10 - 01)), Some(date!(2026 - 10 - 31)))
        );
        let r = preset_range("7d", today);
        assert_eq!(r.from, Some(date!(2026 - 11 - 18)));
        let r = preset_range("year", today);
        assert_eq!(r.from, Some(date!(2026 - 01 - 01)));
        let r = preset_range("last_month", date!(2026 - 01 - 10));
        assert_eq!(r.from, Some(date!(2025 - 12 - 01)));
        assert_eq!(preset_range("all", today).from, None);
    }
}
