//! Historical imports: challans and their payments from an earlier system (`efine import`).
//!
//! Each record goes through the same functions as live work: the challan through the issuing
//! code (number, statistics, `challan.issued` event), its payment through `payments::credit`,
//! the one code that marks a challan paid (attempt, receipt, ledger postings, statistics,
//! `challan.paid`). Only the facts the earlier system recorded replace what the live path would
//! compute: the issue time, the number when it fits, the amount and due date.
//!
//! A file is imported in chunks, one write per chunk: the chunk's records and the file's progress
//! row (`imports.lines_done`) commit together or not at all. A chunk whose first line is not the
//! line after the recorded progress is refused, so a chunk is never written twice, whatever runs
//! or re-runs the import.

use crate::ops::challans::{self, Imported};
use crate::ops::{catalogue, payments};
use crate::sql::Tx;
use crate::{params, NewChallan, StoreError};
use efine_core::auth::Principal;
use efine_core::clock::{karachi_date, to_micros};
use efine_core::payment::Rail;
use efine_core::{ChallanNumber, Money};
use time::{Date, OffsetDateTime};

/// One record of an import file, parsed.
#[derive(Debug, Clone)]
pub struct ImportRecord {
    /// The file's line this record came from (1 is the header).
    pub line: u64,
    /// The earlier system's challan number, if it had one.
    pub earlier_number: Option<String>,
    /// The earlier system's PSID, if it had one (kept in the event; the challan gets E-Fine's).
    pub earlier_psid: Option<String>,
    /// The earlier system's officer, kept in the event.
    pub earlier_officer: Option<String>,
    pub challan: NewChallan,
    pub issued_at: OffsetDateTime,
    pub amount: Money,
    /// The earlier system's due date; the offence's terms give it when absent.
    pub due_date: Option<Date>,
    pub payment: Option<ImportPayment>,
}

/// How a record was paid.
#[derive(Debug, Clone)]
pub struct ImportPayment {
    pub paid_at: OffsetDateTime,
    pub amount: Money,
    pub rail: Rail,
    /// The rail's transaction id; unique per rail, as for live payments.
    pub reference: Option<String>,
}

/// An import file's record in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub lines_done: u64,
    pub records: u64,
    pub finished: bool,
}

/// Where the import of the file with this digest stands; `None` if it never started.
pub fn progress(tx: &mut dyn Tx, digest: &str) -> Result<Option<Progress>, StoreError> {
    tx.query_opt(
        "SELECT lines_done, records, finished_at FROM imports WHERE digest = $1",
        params![digest],
    )?
    .map(|r| {
        Ok(Progress {
            lines_done: u64::try_from(r.i64(0)?).unwrap_or(0),
            records: u64::try_from(r.i64(1)?).unwrap_or(0),
            finished: r.opt_i64(2)?.is_some(),
        })
    })
    .transpose()
}

/// Records that the import of a file has started (nothing if it already had).
pub fn start(
    tx: &mut dyn Tx,
    digest: &str,
    file_name: &str,
    at: OffsetDateTime,
) -> Result<Progress, StoreError> {
    tx.exec(
        "INSERT INTO imports (digest, file_name, lines_done, records, started_at, updated_at)
         VALUES ($1, $2, 1, 0, $3, $3) ON CONFLICT (digest) DO NOTHING",
        params![digest, file_name, to_micros(at)],
    )?;
    progress(tx, digest)?.ok_or_else(|| StoreError::Corrupt("import row vanished".into()))
}

/// Records that every line of the file is imported.
pub fn finish(tx: &mut dyn Tx, digest: &str, at: OffsetDateTime) -> Result<(), StoreError> {
    tx.exec(
        "UPDATE imports SET finished_at = COALESCE(finished_at, $2) WHERE digest = $1",
        params![digest, to_micros(at)],
    )?;
    Ok(())
}

/// A record that could not be imported: its line, and why (the field is in the error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: u64,
    pub error: StoreError,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.error)
    }
}

/// The records on lines `after_line + 1 ..= last_line` of the file with this digest (blank lines
/// among them hold no record).
#[derive(Debug, Clone)]
pub struct Chunk {
    pub digest: String,
    pub after_line: u64,
    pub last_line: u64,
    pub records: Vec<ImportRecord>,
}

/// The account imported challans and payments are recorded under: made with the first import,
/// inactive and without a password, so it can never sign in. The earlier system's officer is in
/// each `challan.issued` event.
pub const IMPORT_ACCOUNT: &str = "historical-import";

/// The import account (see [`IMPORT_ACCOUNT`]), made if it does not exist yet.
pub fn importer(tx: &mut dyn Tx, at: OffsetDateTime) -> Result<Principal, StoreError> {
    let made = tx.query_opt(
        "INSERT INTO users (username, password_hash, role, active, created_at)
         VALUES ($1, '!', 'officer', 0, $2)
         ON CONFLICT (username) DO NOTHING RETURNING id",
        params![IMPORT_ACCOUNT, to_micros(at)],
    )?;
    if made.is_some() {
        crate::ops::events::append(
            tx,
            at,
            "auth.system_account_added",
            &format!("user:{IMPORT_ACCOUNT}"),
            "system",
            &serde_json::json!({
                "role": "officer",
                "active": false,
                "purpose": "records the challans and payments imported from an earlier system",
            }),
        )?;
    }
    let id = tx
        .query_one(
            "SELECT id FROM users WHERE username = $1",
            params![IMPORT_ACCOUNT],
        )?
        .i64(0)?;
    Ok(Principal {
        user_id: id,
        username: IMPORT_ACCOUNT.into(),
        role: efine_core::auth::Role::Officer,
        department: None,
        district: None,
    })
}

/// Imports one chunk of a file. Fails, writing nothing once the caller's transaction rolls back,
/// if the file's progress is not `after_line` (another run got there first) or if any record is
/// refused; the record's line is then in `failed`. Returns how many records it wrote.
pub fn chunk(
    tx: &mut dyn Tx,
    importer: &Principal,
    chunk: &Chunk,
    failed: &mut Option<LineError>,
    at: OffsetDateTime,
) -> Result<u64, StoreError> {
    let Chunk {
        digest,
        after_line,
        last_line,
        records,
    } = chunk;
    let (after_line, last_line) = (*after_line, *last_line);
    let moved = tx.exec(
        "UPDATE imports SET lines_done = $1, records = records + $2, updated_at = $3
         WHERE digest = $4 AND lines_done = $5",
        params![
            last_line as i64,
            records.len() as i64,
            to_micros(at),
            digest,
            after_line as i64
        ],
    )?;
    if moved != 1 {
        return Err(StoreError::conflict(
            "import_moved",
            format!(
                "the import of this file is no longer at line {after_line}: another run of it \
                 is going on; run it again when that one has stopped"
            ),
        ));
    }
    for r in records {
        if let Err(error) = record(tx, importer, digest, r) {
            let error = match error {
                StoreError::Conflict { code, message } if code == "rail_txn_reused" => {
                    StoreError::invalid("reference", message)
                }
                other => other,
            };
            *failed = Some(LineError {
                line: r.line,
                error: error.clone(),
            });
            return Err(error);
        }
    }
    Ok(records.len() as u64)
}

/// The sequence part of `earlier` when it is an E-Fine number of this record's department,
/// district and year, in the officers' range (not the devices').
fn fitting_seq(tx: &mut dyn Tx, r: &ImportRecord) -> Result<Option<u64>, StoreError> {
    let Some(earlier) = &r.earlier_number else {
        return Ok(None);
    };
    let Ok(n) = ChallanNumber::parse(earlier) else {
        return Ok(None);
    };
    let found = catalogue::for_issue(
        tx,
        &r.challan.district,
        &r.challan.department,
        &r.challan.offence,
    )?;
    let fits = found.department.is_some_and(|d| &d.abbr == n.department())
        && found.district.is_some_and(|d| &d.abbr == n.district())
        && n.year() == karachi_date(r.issued_at).year()
        && n.seq() < efine_core::device::DEVICE_SEQ_BASE;
    Ok(fits.then_some(n.seq()))
}

fn record(
    tx: &mut dyn Tx,
    importer: &Principal,
    digest: &str,
    r: &ImportRecord,
) -> Result<(), StoreError> {
    let seq = fitting_seq(tx, r)?;
    if let Some(p) = &r.payment {
        if p.paid_at < r.issued_at {
            return Err(StoreError::invalid(
                "paid_at",
                "the payment is earlier than the challan's issue",
            ));
        }
    }
    let mut source = serde_json::json!({ "digest": digest, "line": r.line });
    if let Some(n) = &r.earlier_number {
        source["earlier_number"] = n.as_str().into();
    }
    if let Some(p) = &r.earlier_psid {
        source["earlier_psid"] = p.as_str().into();
    }
    if let Some(o) = &r.earlier_officer {
        source["earlier_officer"] = o.as_str().into();
    }
    let imported = Imported {
        seq,
        issued_at: r.issued_at,
        amount: r.amount,
        due_date: r.due_date,
        source,
    };
    if let Some(n) = &r.earlier_number {
        if seq.is_none() {
            let taken = tx.query_opt(
                "SELECT challan_number FROM import_numbers WHERE earlier_number = $1",
                params![n.as_str()],
            )?;
            if let Some(t) = taken {
                return Err(StoreError::conflict(
                    "already_imported",
                    format!("number: {n} was imported before, as {}", t.text(0)?),
                ));
            }
        } else if tx
            .query_opt(
                "SELECT 1 FROM challans WHERE number = $1",
                params![n.as_str()],
            )?
            .is_some()
        {
            return Err(StoreError::conflict(
                "already_imported",
                format!("number: {n} is already a challan here"),
            ));
        }
    }
    let c = challans::issue_imported(tx, importer, &r.challan, &imported)?;
    if let (Some(n), None) = (&r.earlier_number, seq) {
        tx.exec(
            "INSERT INTO import_numbers (earlier_number, challan_number) VALUES ($1, $2)",
            params![n.as_str(), c.number.to_string()],
        )?;
    }
    if let Some(p) = &r.payment {
        let (a, _) = payments::start_attempt(tx, &c.number, p.rail, &importer.username, p.paid_at)?;
        if a.amount != p.amount {
            return Err(StoreError::invalid(
                "paid_amount_paisa",
                format!(
                    "{} paisa paid where {} paisa was due on {}",
                    p.amount.paisa(),
                    a.amount.paisa(),
                    karachi_date(p.paid_at)
                ),
            ));
        }
        let txn = match &p.reference {
            Some(reference) => reference.clone(),
            None => format!("import:{}:{}", &digest[..16.min(digest.len())], r.line),
        };
        match payments::credit(tx, &a, &txn, &importer.username, p.paid_at)? {
            payments::Credit::Paid(_) => {}
            other => {
                return Err(StoreError::Corrupt(format!(
                    "an imported payment credited as {other:?}"
                )))
            }
        }
    }
    Ok(())
}
