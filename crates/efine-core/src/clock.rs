//! Time: stored in UTC, reasoned about in Asia/Karachi (UTC+5, no daylight saving).
//! Due dates are local calendar days.

use std::sync::Mutex;
use time::{Date, Duration, OffsetDateTime, UtcOffset};

/// Asia/Karachi has been UTC+5 without daylight saving since 2009.
pub const KARACHI: UtcOffset = match UtcOffset::from_hms(5, 0, 0) {
    Ok(o) => o,
    Err(_) => panic!("UTC+5 is a valid offset"),
};

/// The local calendar day in Pakistan at a given instant.
pub fn karachi_date(at: OffsetDateTime) -> Date {
    at.to_offset(KARACHI).date()
}

/// Where the current time comes from. Production reads the system clock; tests move time by hand
/// so a challan can be walked past its due date without sleeping.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> OffsetDateTime;
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    pub fn new(at: OffsetDateTime) -> Self {
        ManualClock(Mutex::new(at))
    }
    pub fn set(&self, at: OffsetDateTime) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }
    pub fn advance(&self, by: Duration) {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *g += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Microseconds since the Unix epoch: how instants are stored, identically on every backend.
pub fn to_micros(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000) as i64
}

pub fn from_micros(us: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(us as i128 * 1_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn karachi_day_turns_at_19_utc() {
        assert_eq!(
            karachi_date(datetime!(2026-03-14 18:59:59 UTC)).to_string(),
            "2026-03-14"
        );
        assert_eq!(
            karachi_date(datetime!(2026-03-14 19:00:00 UTC)).to_string(),
            "2026-03-15"
        );
    }

    #[test]
    fn micros_roundtrip() {
        let t = datetime!(2026-03-14 18:59:59.123456 UTC);
        assert_eq!(from_micros(to_micros(t)), t);
    }
}
