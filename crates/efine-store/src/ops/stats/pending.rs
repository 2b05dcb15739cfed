//! Statistics deferred to the end of a write batch. Inside the writer, an operation's figures
//! are tallied in memory ([`Pending::op`]); when the operation's savepoint is released they join
//! the batch's tally, when it is rolled back they are dropped with it, and just before COMMIT the
//! writer adds the batch's tally to the tables with one upsert per touched row (a few multi-row
//! statements). So a batch of 512 issues writes each touched statistics row once instead of 11
//! upserts per challan, the figures still commit in the same transaction as the records they
//! count, and a failed operation leaves no trace in them.

use super::rebuild::Tally;
use crate::sql::Tx;
use crate::StoreError;

#[derive(Default)]
pub(crate) struct Pending {
    /// The figures of the operations this batch has kept so far.
    kept: Tally,
    /// The figures of the operation running now.
    pub(super) op: Tally,
    /// The running operation recounted the tables from the record (`rebuild`), which includes
    /// everything kept so far.
    recounted: bool,
}

/// What [`Pending`] looked like before a nested savepoint, to go back to if it rolls back.
pub(crate) struct Mark {
    op: Tally,
    recounted: bool,
}

impl Pending {
    /// The running operation succeeded: its figures stay.
    pub(crate) fn keep(&mut self) {
        if std::mem::take(&mut self.recounted) {
            self.kept = Tally::default();
        }
        let op = std::mem::take(&mut self.op);
        self.kept.merge(op);
    }

    /// The running operation was rolled back: so are its figures.
    pub(crate) fn forget(&mut self) {
        self.op = Tally::default();
        self.recounted = false;
    }

    pub(crate) fn mark(&self) -> Mark {
        Mark {
            op: self.op.clone(),
            recounted: self.recounted,
        }
    }

    pub(crate) fn back_to(&mut self, m: Mark) {
        self.op = m.op;
        self.recounted = m.recounted;
    }

    /// The tables are about to be recounted from the record, in this operation.
    pub(crate) fn recounted(&mut self) {
        self.op = Tally::default();
        self.recounted = true;
    }

    /// Adds the kept figures to the tables; call once, after the last operation, before COMMIT.
    pub(crate) fn write(&mut self, tx: &mut dyn Tx) -> Result<(), StoreError> {
        debug_assert!(self.op.is_empty());
        let kept = std::mem::take(&mut self.kept);
        if !kept.is_empty() {
            kept.add_to_tables(tx)?;
        }
        Ok(())
    }
}
