//! The double-entry ledger: `post` is the only code that writes journals and postings.

use crate::sql::Tx;
use crate::{params, StoreError};
use efine_core::clock::to_micros;
use efine_core::ledger::Journal;
use time::OffsetDateTime;

/// Posts a balanced journal; refuses an unbalanced one (nothing is written).
pub fn post(
    tx: &mut dyn Tx,
    journal: &Journal,
    reference: &str,
    at: OffsetDateTime,
) -> Result<i64, StoreError> {
    journal
        .check()
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let id = tx
        .query_one(
            "INSERT INTO journals (kind, reference, at) VALUES ($1, $2, $3) RETURNING id",
            params![journal.kind, reference, to_micros(at)],
        )?
        .i64(0)?;
    for p in &journal.postings {
        tx.exec(
            "INSERT INTO postings (journal_id, account, debit_paisa, credit_paisa)
             VALUES ($1, $2, $3, $4)",
            params![id, p.account.as_str(), p.debit.paisa(), p.credit.paisa()],
        )?;
    }
    Ok(id)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountBalance {
    pub account: String,
    pub debit: i64,
    pub credit: i64,
}

/// Debits and credits per account.
pub fn trial_balance(tx: &mut dyn Tx) -> Result<Vec<AccountBalance>, StoreError> {
    tx.query(
        "SELECT account, CAST(SUM(debit_paisa) AS BIGINT), CAST(SUM(credit_paisa) AS BIGINT)
         FROM postings GROUP BY account ORDER BY account",
        &[],
    )?
    .iter()
    .map(|r| {
        Ok(AccountBalance {
            account: r.text(0)?,
            debit: r.i64(1)?,
            credit: r.i64(2)?,
        })
    })
    .collect()
}

/// Journals whose postings do not balance (there should be none).
pub fn unbalanced_journals(tx: &mut dyn Tx) -> Result<Vec<(i64, String)>, StoreError> {
    tx.query(
        "SELECT j.id, j.kind FROM journals j JOIN postings p ON p.journal_id = j.id
         GROUP BY j.id, j.kind
         HAVING SUM(p.debit_paisa) <> SUM(p.credit_paisa)
         ORDER BY j.id",
        &[],
    )?
    .iter()
    .map(|r| Ok((r.i64(0)?, r.text(1)?)))
    .collect()
}

/// The balance of one account, debit minus credit, in paisa.
pub fn balance(tx: &mut dyn Tx, account: &str) -> Result<i64, StoreError> {
    let r = tx.query_one(
        "SELECT CAST(COALESCE(SUM(debit_paisa), 0) AS BIGINT), CAST(COALESCE(SUM(credit_paisa), 0) AS BIGINT)
         FROM postings WHERE account = $1",
        params![account],
    )?;
    Ok(r.i64(0)? - r.i64(1)?)
}
