//! Login throttling: how long a key (an account, a client address, a rail's caller) must wait
//! after a number of failed attempts. A few failures are free, then each one doubles the wait,
//! and at the lock threshold the key is locked for a while. Every attempt is counted before the
//! password is checked and given back when it was right, so parallel guesses cannot slip past.
//! Pure: the store keeps the counts (so every node sees them) and asks [`Policy::wait_after`].

use time::{Duration, OffsetDateTime};

/// The limits of one kind of key. Settings: `login_free_failures`, `login_lock_after`,
/// `login_lock_minutes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures that cost nothing.
    pub free_failures: u32,
    /// At this many failures in a row the key is locked.
    pub lock_after: u32,
    /// How long a lock lasts; also how long failures are remembered after the last one.
    pub lock_for: Duration,
    /// The longest delay before the lock.
    pub max_delay: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            free_failures: 3,
            lock_after: 10,
            lock_for: Duration::minutes(15),
            max_delay: Duration::minutes(1),
        }
    }
}

/// What a key's count of failures means now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// The next attempt may be made at once.
    None,
    /// The next attempt is refused until then.
    Until(OffsetDateTime),
    /// Locked until then.
    Locked(OffsetDateTime),
}

impl Wait {
    pub fn until(self) -> Option<OffsetDateTime> {
        match self {
            Wait::None => None,
            Wait::Until(t) | Wait::Locked(t) => Some(t),
        }
    }
}

impl Policy {
    /// The same limits with the lock threshold multiplied: a client address may carry several
    /// people's logins (an office behind one address), so it gets more room than one account.
    pub fn scaled(self, factor: u32) -> Policy {
        Policy {
            free_failures: self.free_failures.saturating_mul(factor),
            lock_after: self.lock_after.saturating_mul(factor),
            ..self
        }
    }

    /// The wait after the `failures`-th failure in a row, made at `at`.
    pub fn wait_after(&self, failures: u32, at: OffsetDateTime) -> Wait {
        if failures >= self.lock_after {
            return Wait::Locked(at + self.lock_for);
        }
        if failures <= self.free_failures {
            return Wait::None;
        }
        let doublings = (failures - self.free_failures - 1).min(20);
        let delay = Duration::seconds(1i64 << doublings).min(self.max_delay);
        Wait::Until(at + delay)
    }

    /// The failures still counted at `now`, given `failures` of which the last was at `last`:
    /// all of them, until a lock's length has passed since the last.
    pub fn remembered(&self, failures: u32, last: OffsetDateTime, now: OffsetDateTime) -> u32 {
        if now - last >= self.lock_for {
            0
        } else {
            failures
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn free_then_doubling_then_locked() {
        let p = Policy::default();
        let t = datetime!(2026-11-24 05:00 UTC);
        assert_eq!(p.wait_after(1, t), Wait::None);
        assert_eq!(p.wait_after(3, t), Wait::None);
        assert_eq!(p.wait_after(4, t), Wait::Until(t + Duration::seconds(1)));
        assert_eq!(p.wait_after(5, t), Wait::Until(t + Duration::seconds(2)));
        assert_eq!(p.wait_after(9, t), Wait::Until(t + Duration::seconds(32)));
        assert_eq!(p.wait_after(10, t), Wait::Locked(t + Duration::minutes(15)));
        assert_eq!(p.wait_after(50, t), Wait::Locked(t + Duration::minutes(15)));
    }

    #[test]
    fn delays_are_capped_and_failures_forgotten() {
        let p = Policy {
            lock_after: 100,
            ..Policy::default()
        };
        let t = datetime!(2026-11-24 05:00 UTC);
        assert_eq!(p.wait_after(40, t), Wait::Until(t + Duration::minutes(1)));
        assert_eq!(p.remembered(7, t, t + Duration::minutes(14)), 7);
        assert_eq!(p.remembered(7, t, t + Duration::minutes(15)), 0);
        assert_eq!(Policy::default().scaled(3).lock_after, 30);
    }
}
