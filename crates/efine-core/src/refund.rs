//! The refund lifecycle as a transition table: one finance user requests the refund of a
//! liability, another approves (the ledger is posted and the refund sent to the rail) or
//! rejects. Each edge names the event it is logged under.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RefundState {
    /// Requested, awaiting a second person's decision.
    Requested,
    Approved,
    Rejected,
}

impl RefundState {
    pub const ALL: [RefundState; 3] = [
        RefundState::Requested,
        RefundState::Approved,
        RefundState::Rejected,
    ];

    /// The text stored in `refunds.state`.
    pub fn as_str(self) -> &'static str {
        match self {
            RefundState::Requested => "requested",
            RefundState::Approved => "approved",
            RefundState::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<RefundState> {
        RefundState::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// What happens to a refund, each logged under its `kind()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefundEvent {
    Requested,
    Approved,
    Rejected,
}

impl RefundEvent {
    pub fn kind(self) -> &'static str {
        match self {
            RefundEvent::Requested => "refund.requested",
            RefundEvent::Approved => "refund.approved",
            RefundEvent::Rejected => "refund.rejected",
        }
    }

    /// The decision event for an approval (`true`) or a rejection.
    pub fn decision(approve: bool) -> RefundEvent {
        if approve {
            RefundEvent::Approved
        } else {
            RefundEvent::Rejected
        }
    }
}

use RefundEvent as E;
use RefundState as S;

/// `(from, event) -> to`; `None` as `from` is a refund not yet requested. Anything not listed is
/// refused: a decision is final.
pub const TRANSITIONS: &[(Option<RefundState>, RefundEvent, RefundState)] = &[
    (None, E::Requested, S::Requested),
    (Some(S::Requested), E::Approved, S::Approved),
    (Some(S::Requested), E::Rejected, S::Rejected),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a refund that is {from} cannot take {event}")]
pub struct RefundRefused {
    pub from: &'static str,
    pub event: &'static str,
}

pub fn transition(
    from: Option<RefundState>,
    event: RefundEvent,
) -> Result<RefundState, RefundRefused> {
    TRANSITIONS
        .iter()
        .find(|(f, e, _)| *f == from && *e == event)
        .map(|(_, _, to)| *to)
        .ok_or(RefundRefused {
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
        assert_eq!(s, S::Requested);
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
        assert!(transition(Some(S::Requested), E::Requested).is_err());
        assert!(transition(None, E::Rejected).is_err());
    }

    #[test]
    fn every_edge_names_an_event() {
        for (_, e, _) in TRANSITIONS {
            assert!(e.kind().starts_with("refund."));
        }
    }

    #[test]
    fn stored_text_round_trips() {
        for s in RefundState::ALL {
            assert_eq!(RefundState::parse(s.as_str()), Some(s));
        }
        assert_eq!(RefundState::parse("sent"), None);
    }
}
