//! The lifecycle of a cancellation request as a transition table: one member of staff requests,
//! a supervisor who is someone else approves (the challan is cancelled) or rejects. Each edge
//! names the event it is logged under. Who may decide is `auth::Principal::may`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CancellationStatus {
    /// Requested, awaiting a supervisor's decision.
    Pending,
    Approved,
    Rejected,
}

impl CancellationStatus {
    pub const ALL: [CancellationStatus; 3] = [
        CancellationStatus::Pending,
        CancellationStatus::Approved,
        CancellationStatus::Rejected,
    ];

    /// The text stored in `cancellations.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            CancellationStatus::Pending => "pending",
            CancellationStatus::Approved => "approved",
            CancellationStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<CancellationStatus> {
        CancellationStatus::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

/// What happens to a cancellation request, each logged under its `kind()`. An approval also
/// cancels the challan (`challan::ChallanEvent::CancellationApproved`, its own event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CancellationEvent {
    Requested,
    Approved,
    Rejected,
}

impl CancellationEvent {
    pub fn kind(self) -> &'static str {
        match self {
            CancellationEvent::Requested => "cancellation.requested",
            CancellationEvent::Approved => "cancellation.approved",
            CancellationEvent::Rejected => "cancellation.rejected",
        }
    }

    /// The decision event for an approval (`true`) or a rejection.
    pub fn decision(approve: bool) -> CancellationEvent {
        if approve {
            CancellationEvent::Approved
        } else {
            CancellationEvent::Rejected
        }
    }
}

use CancellationEvent as E;
use CancellationStatus as S;

/// `(from, event) -> to`; `None` as `from` is a request not yet made. Anything not listed is
/// refused: a decision is final.
pub const TRANSITIONS: &[(
    Option<CancellationStatus>,
    CancellationEvent,
    CancellationStatus,
)] = &[
    (None, E::Requested, S::Pending),
    (Some(S::Pending), E::Approved, S::Approved),
    (Some(S::Pending), E::Rejected, S::Rejected),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a cancellation request that is {from} cannot take {event}")]
pub struct CancellationRefused {
    pub from: &'static str,
    pub event: &'static str,
}

pub fn transition(
    from: Option<CancellationStatus>,
    event: CancellationEvent,
) -> Result<CancellationStatus, CancellationRefused> {
    TRANSITIONS
        .iter()
        .find(|(f, e, _)| *f == from && *e == event)
        .map(|(_, _, to)| *to)
        .ok_or(CancellationRefused {
            from: from.map(|s| s.as_str()).unwrap_or("not requested"),
            event: event.kind(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn happy_paths() {
        let s = transition(None, E::Requested).unwrap();
        assert_eq!(s, S::Pending);
        assert_eq!(transition(Some(s), E::decision(true)), Ok(S::Approved));
        assert_eq!(transition(Some(s), E::decision(false)), Ok(S::Rejected));
    }

    #[test]
    fn decisions_are_final() {
        for from in [S::Approved, S::Rejected] {
            for ev in [E::Requested, E::Approved, E::Rejected] {
                assert!(transition(Some(from), ev).is_err(), "{from:?} {ev:?}");
            }
        }
        assert!(transition(Some(S::Pending), E::Requested).is_err());
        assert!(transition(None, E::Approved).is_err());
    }

    #[test]
    fn every_edge_names_an_event() {
        for (_, e, _) in TRANSITIONS {
            assert!(e.kind().starts_with("cancellation."));
        }
    }

    #[test]
    fn stored_text_round_trips() {
        for s in CancellationStatus::ALL {
            assert_eq!(CancellationStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(CancellationStatus::parse("cancelled"), None);
    }
}
