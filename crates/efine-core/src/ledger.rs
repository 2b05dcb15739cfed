//! Double-entry postings. Money moves only by new, balanced journals of postings; nothing is
//! edited. Every journal's debits equal its credits, so the sum over all accounts is zero.
//!
//! Accounts (names are stable strings, stored as they are):
//! - `clearing:<rail>`: what a rail owes us for payments it confirmed and has not yet settled
//!   (asset, debit-normal).
//! - `bank:<rail>`: money settled into the government account (asset).
//! - `revenue:<department>:<offence>`: fine and fee revenue per department and head (income,
//!   credit-normal).
//! - `refunds-payable`: money taken that is not owed (a second payment of a paid challan), owed
//!   back to the payer (liability, credit-normal).

use crate::money::Money;
use crate::payment::Rail;
use crate::{DepartmentCode, OffenceCode};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub account: String,
    pub debit: Money,
    pub credit: Money,
}

impl Posting {
    pub fn debit(account: impl Into<String>, amount: Money) -> Posting {
        Posting {
            account: account.into(),
            debit: amount,
            credit: Money::ZERO,
        }
    }
    pub fn credit(account: impl Into<String>, amount: Money) -> Posting {
        Posting {
            account: account.into(),
            debit: Money::ZERO,
            credit: amount,
        }
    }
}

/// A balanced set of postings, with what it records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Journal {
    pub kind: &'static str,
    pub postings: Vec<Posting>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("journal {kind} does not balance: debits {debits} paisa, credits {credits} paisa")]
pub struct Unbalanced {
    pub kind: &'static str,
    pub debits: i64,
    pub credits: i64,
}

impl Journal {
    fn new(kind: &'static str, postings: Vec<Posting>) -> Journal {
        Journal { kind, postings }
    }

    /// Checks debits equal credits (in i128: no overflow can hide an imbalance).
    pub fn check(&self) -> Result<(), Unbalanced> {
        let d: i128 = self.postings.iter().map(|p| p.debit.paisa() as i128).sum();
        let c: i128 = self.postings.iter().map(|p| p.credit.paisa() as i128).sum();
        if d == c {
            Ok(())
        } else {
            Err(Unbalanced {
                kind: self.kind,
                debits: d as i64,
                credits: c as i64,
            })
        }
    }
}

pub fn clearing(rail: Rail) -> String {
    format!("clearing:{}", rail.as_str())
}

pub fn bank(rail: Rail) -> String {
    format!("bank:{}", rail.as_str())
}

pub fn revenue(department: &DepartmentCode, offence: &OffenceCode) -> String {
    format!("revenue:{department}:{offence}")
}

pub const REFUNDS_PAYABLE: &str = "refunds-payable";

/// A confirmed payment of a challan: the rail owes it to us; it is revenue of the challan's head.
pub fn payment_received(
    rail: Rail,
    department: &DepartmentCode,
    offence: &OffenceCode,
    amount: Money,
) -> Journal {
    Journal::new(
        "payment_received",
        vec![
            Posting::debit(clearing(rail), amount),
            Posting::credit(revenue(department, offence), amount),
        ],
    )
}

/// Money taken that is not owed (the challan was already paid or cancelled): the rail still owes
/// it to us, and we owe it back to the payer.
pub fn overpayment(rail: Rail, amount: Money) -> Journal {
    Journal::new(
        "overpayment",
        vec![
            Posting::debit(clearing(rail), amount),
            Posting::credit(REFUNDS_PAYABLE, amount),
        ],
    )
}

/// A confirmed payment the rail later reversed: undo what `payment_received` posted.
pub fn payment_reversed(
    rail: Rail,
    department: &DepartmentCode,
    offence: &OffenceCode,
    amount: Money,
) -> Journal {
    Journal::new(
        "payment_reversed",
        vec![
            Posting::debit(revenue(department, offence), amount),
            Posting::credit(clearing(rail), amount),
        ],
    )
}

/// A rail settled confirmed payments into the government's bank account.
pub fn settlement(rail: Rail, amount: Money) -> Journal {
    Journal::new(
        "settlement",
        vec![
            Posting::debit(bank(rail), amount),
            Posting::credit(clearing(rail), amount),
        ],
    )
}

/// A refund paid back to the payer through the rail that took the money.
pub fn refund_paid(rail: Rail, amount: Money) -> Journal {
    Journal::new(
        "refund_paid",
        vec![
            Posting::debit(REFUNDS_PAYABLE, amount),
            Posting::credit(clearing(rail), amount),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn every_journal_balances(p in 0i64..=crate::money::MAX_PAISA, r in 0usize..5) {
            let m = Money::from_paisa(p).unwrap();
            let rail = Rail::ALL[r];
            let d = DepartmentCode::parse("traffic-police").unwrap();
            let o = OffenceCode::parse("no-helmet").unwrap();
            for j in [payment_received(rail, &d, &o, m), overpayment(rail, m), payment_reversed(rail, &d, &o, m), refund_paid(rail, m), settlement(rail, m)] {
                prop_assert!(j.check().is_ok());
            }
        }
    }

    #[test]
    fn unbalanced_is_caught() {
        let j = Journal::new(
            "bad",
            vec![Posting::debit("a", Money::from_paisa(5).unwrap())],
        );
        assert!(j.check().is_err());
    }
}
