//! Payment attempts: one per try to pay a challan on one rail. An explicit transition table,
//! each edge naming the event it records. A rail that took money but has not told us the outcome
//! leaves the attempt `Pending` (or `Unknown` after a failed status inquiry) until the poller or a
//! settlement file resolves it; a correction to match the rail is its own event.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Rail {
    /// 1Bill (1LINK): banks, ATMs, internet banking, bank counters, wallets' bill payment.
    #[serde(rename = "1bill")]
    OneBill,
    Jazzcash,
    Easypaisa,
    Card,
    /// Cash taken at a department counter by a finance user.
    Counter,
    /// Raast (State Bank of Pakistan instant payments): the payer's bank app scanned the item's
    /// dynamic QR; the biller's bank confirms by PSID.
    Raast,
}

impl Rail {
    pub const ALL: [Rail; 6] = [
        Rail::OneBill,
        Rail::Jazzcash,
        Rail::Easypaisa,
        Rail::Card,
        Rail::Counter,
        Rail::Raast,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Rail::OneBill => "1bill",
            Rail::Jazzcash => "jazzcash",
            Rail::Easypaisa => "easypaisa",
            Rail::Card => "card",
            Rail::Counter => "counter",
            Rail::Raast => "raast",
        }
    }

    pub fn parse(s: &str) -> Option<Rail> {
        Rail::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// How a citizen would name it.
    pub fn label(self) -> &'static str {
        match self {
            Rail::OneBill => "bank / 1Bill",
            Rail::Jazzcash => "JazzCash",
            Rail::Easypaisa => "Easypaisa",
            Rail::Card => "card",
            Rail::Counter => "department counter",
            Rail::Raast => "Raast",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttemptState {
    /// Created; the payer has been sent to the rail.
    Initiated,
    /// The rail says the payment is under way (e.g. an over-the-counter voucher).
    Pending,
    /// The rail did not answer a status inquiry: must be resolved.
    Unknown,
    Confirmed,
    Failed,
    /// Confirmed, then reversed by the rail.
    Reversed,
}

impl AttemptState {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptState::Initiated => "initiated",
            AttemptState::Pending => "pending",
            AttemptState::Unknown => "unknown",
            AttemptState::Confirmed => "confirmed",
            AttemptState::Failed => "failed",
            AttemptState::Reversed => "reversed",
        }
    }

    pub fn parse(s: &str) -> Option<AttemptState> {
        [
            AttemptState::Initiated,
            AttemptState::Pending,
            AttemptState::Unknown,
            AttemptState::Confirmed,
            AttemptState::Failed,
            AttemptState::Reversed,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            AttemptState::Confirmed | AttemptState::Failed | AttemptState::Reversed
        )
    }
}

/// What a rail (or our poller) tells us about an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttemptEvent {
    Created,
    MarkedPending,
    InquiryFailed,
    Confirmed,
    Failed,
    Reversed,
}

impl AttemptEvent {
    pub fn kind(self) -> &'static str {
        match self {
            AttemptEvent::Created => "payment.initiated",
            AttemptEvent::MarkedPending => "payment.pending",
            AttemptEvent::InquiryFailed => "payment.unknown",
            AttemptEvent::Confirmed => "payment.confirmed",
            AttemptEvent::Failed => "payment.failed",
            AttemptEvent::Reversed => "payment.reversed",
        }
    }
}

use AttemptEvent as E;
use AttemptState as S;

/// `(from, event) -> to`. `None` as `from` is an attempt not yet created. Anything not listed is
/// refused; a repeat of the event that led to the current state is recognised by the caller as a
/// replay before it gets here.
pub const TRANSITIONS: &[(Option<AttemptState>, AttemptEvent, AttemptState)] = &[
    (None, E::Created, S::Initiated),
    // A rail that confirms in the same message that opens the attempt (1Bill, counter cash).
    (None, E::Confirmed, S::Confirmed),
    (Some(S::Initiated), E::MarkedPending, S::Pending),
    (Some(S::Initiated), E::Confirmed, S::Confirmed),
    (Some(S::Initiated), E::Failed, S::Failed),
    (Some(S::Initiated), E::InquiryFailed, S::Unknown),
    (Some(S::Pending), E::Confirmed, S::Confirmed),
    (Some(S::Pending), E::Failed, S::Failed),
    (Some(S::Pending), E::InquiryFailed, S::Unknown),
    (Some(S::Unknown), E::Confirmed, S::Confirmed),
    (Some(S::Unknown), E::Failed, S::Failed),
    (Some(S::Unknown), E::MarkedPending, S::Pending),
    // The rail's truth wins over an earlier failure we recorded (money was taken after all).
    (Some(S::Failed), E::Confirmed, S::Confirmed),
    (Some(S::Confirmed), E::Reversed, S::Reversed),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a payment attempt that is {from} cannot take {event}")]
pub struct AttemptRefused {
    pub from: &'static str,
    pub event: &'static str,
}

pub fn transition(
    from: Option<AttemptState>,
    event: AttemptEvent,
) -> Result<AttemptState, AttemptRefused> {
    TRANSITIONS
        .iter()
        .find(|(f, e, _)| *f == from && *e == event)
        .map(|(_, _, to)| *to)
        .ok_or(AttemptRefused {
            from: from.map(|s| s.as_str()).unwrap_or("not created"),
            event: event.kind(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn happy_paths() {
        let s = transition(None, E::Created).unwrap();
        let s = transition(Some(s), E::MarkedPending).unwrap();
        assert_eq!(transition(Some(s), E::Confirmed), Ok(S::Confirmed));
        assert_eq!(transition(None, E::Confirmed), Ok(S::Confirmed));
    }

    #[test]
    fn terminal_states_hold() {
        for from in [S::Confirmed, S::Reversed] {
            for ev in [E::Created, E::MarkedPending, E::Failed, E::Confirmed] {
                assert!(transition(Some(from), ev).is_err(), "{from:?} {ev:?}");
            }
        }
        assert!(transition(Some(S::Reversed), E::Reversed).is_err());
        assert!(transition(Some(S::Failed), E::Failed).is_err());
    }

    #[test]
    fn every_edge_names_an_event() {
        for (_, e, _) in TRANSITIONS {
            assert!(e.kind().starts_with("payment."));
        }
    }

    #[test]
    fn rails_round_trip() {
        for r in Rail::ALL {
            assert_eq!(Rail::parse(r.as_str()), Some(r));
        }
    }
}
