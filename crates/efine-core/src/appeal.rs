//! The appeal lifecycle as a transition table: a citizen lodges an appeal, a supervisor decides
//! it, or it is closed unheard because the challan was paid or cancelled while it was open. Each
//! edge names the event it is logged under. The outcome of a decision is `penalty::AppealOutcome`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppealStatus {
    /// Lodged, awaiting a decision; the surcharge clock stands still.
    Pending,
    Decided,
    /// Nothing left to decide: the challan was paid or cancelled while the appeal was open.
    Closed,
}

impl AppealStatus {
    pub const ALL: [AppealStatus; 3] = [
        AppealStatus::Pending,
        AppealStatus::Decided,
        AppealStatus::Closed,
    ];

    /// The text stored in `appeals.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            AppealStatus::Pending => "pending",
            AppealStatus::Decided => "decided",
            AppealStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<AppealStatus> {
        AppealStatus::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// What happens to an appeal, each logged under its `kind()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppealEvent {
    Lodged,
    Decided,
    Closed,
}

impl AppealEvent {
    pub fn kind(self) -> &'static str {
        match self {
            AppealEvent::Lodged => "appeal.lodged",
            AppealEvent::Decided => "appeal.decided",
            AppealEvent::Closed => "appeal.closed",
        }
    }
}

use AppealEvent as E;
use AppealStatus as S;

/// `(from, event) -> to`; `None` as `from` is an appeal not yet lodged. Anything not listed is
/// refused: a decided or closed appeal is final.
pub const TRANSITIONS: &[(Option<AppealStatus>, AppealEvent, AppealStatus)] = &[
    (None, E::Lodged, S::Pending),
    (Some(S::Pending), E::Decided, S::Decided),
    (Some(S::Pending), E::Closed, S::Closed),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an appeal that is {from} cannot take {event}")]
pub struct AppealRefused {
    pub from: &'static str,
    pub event: &'static str,
}

pub fn transition(
    from: Option<AppealStatus>,
    event: AppealEvent,
) -> Result<AppealStatus, AppealRefused> {
    TRANSITIONS
        .iter()
        .find(|(f, e, _)| *f == from && *e == event)
        .map(|(_, _, to)| *to)
        .ok_or(AppealRefused {
            from: from.map(|s| s.as_str()).unwrap_or("not lodged"),
            event: event.kind(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn happy_paths() {
        let s = transition(None, E::Lodged).unwrap();
        assert_eq!(s, S::Pending);
        assert_eq!(transition(Some(s), E::Decided), Ok(S::Decided));
        assert_eq!(transition(Some(s), E::Closed), Ok(S::Closed));
    }

    #[test]
    fn final_states_hold() {
        for from in [S::Decided, S::Closed] {
            for ev in [E::Lodged, E::Decided, E::Closed] {
                assert!(transition(Some(from), ev).is_err(), "{from:?} {ev:?}");
            }
        }
        assert!(transition(Some(S::Pending), E::Lodged).is_err());
        assert!(transition(None, E::Decided).is_err());
    }

    #[test]
    fn every_edge_names_an_event() {
        for (_, e, _) in TRANSITIONS {
            assert!(e.kind().starts_with("appeal."));
        }
    }

    #[test]
    fn stored_text_round_trips() {
        for s in AppealStatus::ALL {
            assert_eq!(AppealStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(AppealStatus::parse("open"), None);
    }
}
