//! Reconciliation of a rail's settlement file against what we recorded.
//!
//! File format (CSV, UTF-8, one header line, `#` comment lines ignored):
//!
//! ```text
//! rail_txn_id,reference,amount_paisa,settled_on
//! 000000005395,EF2611250000005395,100000,2026-11-25
//! ```
//!
//! `rail_txn_id` is the rail's own transaction id (JazzCash retrieval reference, 1Bill
//! `MNEMONIC:YYYY-MM-DD:STAN:PSID:AMOUNT` as E-Fine records it), `reference` our attempt reference
//! where the rail echoes it (may be empty), `amount_paisa` an integer, `settled_on` the local
//! settlement day. Each line is one of: matched (settled to the bank: clearing to bank), corrected
//! (the rail took money we had not credited: credited now, as its own event), missing here (no
//! attempt of ours at all), amount differs, or duplicate. Confirmed payments of ours in the
//! file's days that the file lacks are reported as missing there.

use crate::ops::{events, ledger, payments};
use crate::sql::{nested, Tx};
use crate::{params, StoreError};
use efine_core::clock::{karachi_date, to_micros};
use efine_core::payment::{AttemptState, Rail};
use efine_core::Money;
use serde::Serialize;
use sha2::Digest;
use std::collections::{BTreeSet, HashSet};
use time::{Date, OffsetDateTime};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub line: i64,
    pub rail_txn_id: String,
    pub reference: Option<String>,
    pub amount: Money,
    pub settled_on: Date,
}

const HEADER: [&str; 4] = ["rail_txn_id", "reference", "amount_paisa", "settled_on"];

/// Parses a settlement file, naming the first bad line. Quoting and line ends are the `csv`
/// crate's; a leading UTF-8 byte-order mark (as spreadsheet programs write) is dropped first.
pub fn parse(text: &str) -> Result<Vec<Line>, StoreError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    let mut header_seen = false;
    let mut record = csv::StringRecord::new();
    // The reader's own record position is taken before it skips the line end and blank lines
    // ahead of a record, so the physical line is counted here from the bytes it consumed.
    let (mut consumed, mut lines_before) = (0, 0);
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                return Err(StoreError::invalid(
                    "file",
                    format!("line {}: {e}", lines_before + 1),
                ))
            }
        }
        let end = reader.position().byte() as usize;
        let chunk = text.get(consumed..end).unwrap_or_default();
        let blank = chunk.len() - chunk.trim_start_matches(['\r', '\n']).len();
        let n = lines_before + chunk[..blank].matches('\n').count() as i64 + 1;
        lines_before += chunk.matches('\n').count() as i64;
        consumed = end;
        if record.iter().all(str::is_empty) || record[0].starts_with('#') {
            continue;
        }
        if !header_seen {
            header_seen = true;
            if !record.iter().map(|f| f.replace(' ', "")).eq(HEADER) {
                return Err(StoreError::invalid(
                    "file",
                    format!("line {n}: the header must be rail_txn_id,reference,amount_paisa,settled_on"),
                ));
            }
            continue;
        }
        if record.len() != 4 || record[0].is_empty() {
            return Err(StoreError::invalid(
                "file",
                format!("line {n}: expected 4 fields"),
            ));
        }
        let amount = record[2]
            .parse::<i64>()
            .ok()
            .and_then(|p| Money::from_paisa(p).ok())
            .filter(|m| *m > Money::ZERO)
            .ok_or_else(|| {
                StoreError::invalid(
                    "file",
                    format!("line {n}: amount_paisa must be a positive integer"),
                )
            })?;
        let settled_on = Date::parse(
            &record[3],
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map_err(|_| {
            StoreError::invalid("file", format!("line {n}: settled_on must be YYYY-MM-DD"))
        })?;
        out.push(Line {
            line: n,
            rail_txn_id: record[0].to_string(),
            reference: Some(record[1].to_string()).filter(|r| !r.is_empty()),
            amount,
            settled_on,
        });
    }
    if !header_seen {
        return Err(StoreError::invalid("file", "the file is empty"));
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub line: Option<i64>,
    pub rail_txn_id: String,
    pub reference: Option<String>,
    pub amount: Money,
    pub outcome: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub file_id: i64,
    pub rail: Rail,
    pub lines: usize,
    pub matched: usize,
    pub corrected: usize,
    pub missing_here: usize,
    pub missing_there: usize,
    pub amount_differs: usize,
    pub settled: Money,
    /// Everything that needs a person's attention (all but plain matches).
    pub exceptions: Vec<Item>,
}

/// Imports a settlement file once (by content hash) and reconciles it.
pub fn import(
    tx: &mut dyn Tx,
    rail: Rail,
    name: &str,
    text: &str,
    by: &str,
    at: OffsetDateTime,
) -> Result<Report, StoreError> {
    // The same free-text rules whether the file comes from the API, the console or the CLI:
    // the name is a name, the text has no NUL or control character but tabs and line breaks.
    use efine_core::text::{check, FreeText, TextKind};
    FreeText::parse("name", name, TextKind::Name, 200)
        .map_err(|e| StoreError::invalid("name", e.to_string()))?;
    check(text, TextKind::Lines)
        .map_err(|r| StoreError::invalid("body", r.message("the settlement file", 0)))?;
    let lines = parse(text)?;
    let sha = hex::encode(sha2::Sha256::digest(text.as_bytes()));
    if tx
        .query_opt(
            "SELECT id FROM settlement_files WHERE sha256 = $1",
            params![sha.as_str()],
        )?
        .is_some()
    {
        return Err(StoreError::conflict(
            "already_imported",
            "this settlement file was imported before",
        ));
    }
    let file_id = tx
        .query_one(
            "INSERT INTO settlement_files (rail, name, sha256, imported_by, imported_at, lines)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            params![
                rail.as_str(),
                name,
                sha.as_str(),
                by,
                to_micros(at),
                lines.len() as i64
            ],
        )?
        .i64(0)?;
    let mut report = Report {
        file_id,
        rail,
        lines: lines.len(),
        matched: 0,
        corrected: 0,
        missing_here: 0,
        missing_there: 0,
        amount_differs: 0,
        settled: Money::ZERO,
        exceptions: Vec::new(),
    };
    let mut seen_attempts = HashSet::new();
    let mut days = BTreeSet::new();
    for l in &lines {
        days.insert(l.settled_on);
        let found = match tx.query_opt(
            "SELECT reference FROM payment_attempts WHERE rail = $1 AND rail_txn_id = $2",
            params![rail.as_str(), l.rail_txn_id.as_str()],
        )? {
            Some(r) => payments::attempt_by_reference(tx, &r.text(0)?)?,
            None => match &l.reference {
                Some(r) => payments::attempt_by_reference(tx, r)?.filter(|a| a.rail == rail),
                None => None,
            },
        };
        let (outcome, detail) = match found {
            None => (
                "missing_here",
                "the rail settled a payment we have no attempt for".to_string(),
            ),
            Some(a) if !seen_attempts.insert(a.id) => (
                "duplicate",
                format!("attempt {} appears twice in the file", a.reference),
            ),
            Some(a) if a.amount != l.amount => (
                "amount_differs",
                format!(
                    "we recorded {} for attempt {}, the rail settled {}",
                    a.amount, a.reference, l.amount
                ),
            ),
            Some(a) => {
                let mut corrected = false;
                if a.state != AttemptState::Confirmed {
                    // The rail's truth: money was taken. Credit it now, as its own event.
                    match nested(tx, |tx| {
                        payments::credit(tx, &a, &l.rail_txn_id, "reconciliation", at)
                    })? {
                        Ok(_) => corrected = true,
                        Err(e) => {
                            report.missing_here += 1;
                            report.exceptions.push(item(
                                l,
                                "missing_here",
                                format!("could not credit attempt {}: {e}", a.reference),
                            ));
                            record(tx, file_id, l, "missing_here", &e.to_string())?;
                            continue;
                        }
                    }
                }
                let already = tx
                    .query_opt(
                        "SELECT attempt_id FROM settlements WHERE attempt_id = $1",
                        params![a.id],
                    )?
                    .is_some();
                if !already {
                    tx.exec(
                        "INSERT INTO settlements (attempt_id, file_id, amount_paisa, settled_on) VALUES ($1, $2, $3, $4)",
                        params![a.id, file_id, l.amount.paisa(), l.settled_on.to_string()],
                    )?;
                    ledger::post(
                        tx,
                        &efine_core::ledger::settlement(rail, l.amount),
                        &a.reference,
                        at,
                    )?;
                    report.settled = report
                        .settled
                        .checked_add(l.amount)
                        .unwrap_or(report.settled);
                }
                if corrected {
                    (
                        "corrected",
                        format!(
                            "attempt {} was {} here; credited to match the rail",
                            a.reference,
                            a.state.as_str()
                        ),
                    )
                } else {
                    ("matched", format!("attempt {}", a.reference))
                }
            }
        };
        match outcome {
            "matched" => report.matched += 1,
            "corrected" => report.corrected += 1,
            "missing_here" => report.missing_here += 1,
            "amount_differs" => report.amount_differs += 1,
            _ => {}
        }
        if outcome != "matched" {
            report.exceptions.push(item(l, outcome, detail.clone()));
        }
        record(tx, file_id, l, outcome, &detail)?;
    }
    // Ours, confirmed on those days, that the rail did not settle.
    for day in &days {
        let start = day.midnight().assume_offset(efine_core::clock::KARACHI);
        let end = start + time::Duration::days(1);
        let rows = tx.query(
            "SELECT a.id, a.reference, a.rail_txn_id, a.amount_paisa FROM payment_attempts a
             JOIN receipts r ON r.attempt_id = a.id
             WHERE a.rail = $1 AND r.paid_at >= $2 AND r.paid_at < $3
             UNION ALL
             SELECT a.id, a.reference, a.rail_txn_id, a.amount_paisa FROM payment_attempts a
             JOIN refund_liabilities l ON l.attempt_id = a.id
             WHERE a.rail = $1 AND l.created_at >= $2 AND l.created_at < $3",
            params![rail.as_str(), to_micros(start), to_micros(end)],
        )?;
        for r in rows {
            if seen_attempts.contains(&r.i64(0)?) {
                continue;
            }
            report.missing_there += 1;
            report.exceptions.push(Item {
                line: None,
                rail_txn_id: r.opt_text(2)?.unwrap_or_default(),
                reference: Some(r.text(1)?),
                amount: Money::from_paisa(r.i64(3)?)?,
                outcome: "missing_there".into(),
                detail: format!("confirmed here on {day} but not in the rail's settlement"),
            });
        }
    }
    events::append(
        tx,
        at,
        "settlement.imported",
        &format!("settlement:{file_id}"),
        by,
        &serde_json::json!({
            "rail": rail.as_str(), "name": name, "sha256": sha, "lines": report.lines,
            "matched": report.matched, "corrected": report.corrected, "missing_here": report.missing_here,
            "missing_there": report.missing_there, "amount_differs": report.amount_differs,
            "settled": report.settled.paisa(),
        }),
    )?;
    Ok(report)
}

fn item(l: &Line, outcome: &str, detail: String) -> Item {
    Item {
        line: Some(l.line),
        rail_txn_id: l.rail_txn_id.clone(),
        reference: l.reference.clone(),
        amount: l.amount,
        outcome: outcome.into(),
        detail,
    }
}

fn record(
    tx: &mut dyn Tx,
    file_id: i64,
    l: &Line,
    outcome: &str,
    detail: &str,
) -> Result<(), StoreError> {
    tx.exec(
        "INSERT INTO settlement_items (file_id, line, rail_txn_id, reference, amount_paisa, outcome, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        params![file_id, l.line, l.rail_txn_id.as_str(), l.reference.clone(), l.amount.paisa(), outcome, detail],
    )?;
    Ok(())
}

/// What the rail's sandbox would settle for a day: every payment it took, whether or not we
/// credited it (an attempt left pending or unknown here is in the file if the payer paid).
pub fn sandbox_file(tx: &mut dyn Tx, rail: Rail, day: Date) -> Result<String, StoreError> {
    let start = day.midnight().assume_offset(efine_core::clock::KARACHI);
    let end = start + time::Duration::days(1);
    let rows = tx.query(
        "SELECT COALESCE(rail_txn_id, ''), reference, amount_paisa, updated_at FROM payment_attempts
         WHERE rail = $1 AND state = 'confirmed' AND updated_at >= $2 AND updated_at < $3
         ORDER BY id",
        params![rail.as_str(), to_micros(start), to_micros(end)],
    )?;
    let mut out = format!(
        "# {} sandbox settlement for {day}\nrail_txn_id,reference,amount_paisa,settled_on\n",
        rail.as_str()
    );
    for r in rows {
        let settled = karachi_date(efine_core::clock::from_micros(r.i64(3)?));
        out.push_str(&format!(
            "{},{},{},{}\n",
            r.text(0)?,
            r.text(1)?,
            r.i64(2)?,
            settled
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn lines_are_named_as_an_editor_counts_them() {
        let body = "rail_txn_id,reference,amount_paisa,settled_on\n\n# note, \"quoted\"\nA1,,100,2026-11-25\n";
        for text in [
            body.to_string(),
            body.replace('\n', "\r\n"),
            format!("\u{feff}{}", body.replace('\n', "\r\n")),
        ] {
            let lines = parse(&text).unwrap();
            assert_eq!(lines.len(), 1);
            assert_eq!(lines[0].line, 4, "{text:?}");
            let bad = format!("{text}\r\nA2,,100\r\n");
            assert!(err(&bad).contains("line 6: expected 4 fields"), "{bad:?}");
        }
    }

    #[test]
    fn quoted_fields_keep_their_commas() {
        let text = "rail_txn_id, reference ,amount_paisa,settled_on\r\n\"A,1\",\"EF1\" ,\"100\",2026-11-25";
        let l = &parse(text).unwrap()[0];
        assert_eq!(l.rail_txn_id, "A,1");
        assert_eq!(l.reference.as_deref(), Some("EF1"));
        assert_eq!(l.amount, Money::from_paisa(100).unwrap());
        assert!(
            err("rail_txn_id,reference,amount_paisa,settled_on\nA,,\"1,00\",2026-11-25")
                .contains("line 2: amount_paisa must be a positive integer")
        );
        assert!(err("\u{feff}txn,amount\r\n").contains("line 1: the header must be"));
        assert!(err("\u{feff}\r\n# only a comment\r\n").contains("the file is empty"));
    }
}

/// A settlement file as imported, with what its import found (from its `settlement.imported`
/// event, which also counts the payments missing from the file).
#[derive(Debug, Clone, Serialize)]
pub struct Imported {
    pub id: i64,
    pub rail: String,
    pub name: String,
    pub imported_by: String,
    pub imported_at: OffsetDateTime,
    pub lines: i64,
    pub matched: i64,
    pub corrected: i64,
    pub missing_here: i64,
    pub missing_there: i64,
    pub amount_differs: i64,
    /// Paisa settled to the bank by the matched lines.
    pub settled: Money,
}

const IMPORTED_COLS: &str = "id, rail, name, imported_by, imported_at, lines";

fn imported(tx: &mut dyn Tx, r: &crate::sql::Row) -> Result<Imported, StoreError> {
    let id = r.i64(0)?;
    let counts = events::for_subject(tx, &format!("settlement:{id}"))?
        .into_iter()
        .find(|e| e.kind == "settlement.imported")
        .and_then(|e| serde_json::from_str::<serde_json::Value>(&e.payload).ok())
        .unwrap_or(serde_json::Value::Null);
    let n = |k: &str| {
        counts
            .get(k)
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(0)
    };
    Ok(Imported {
        id,
        rail: r.text(1)?,
        name: r.text(2)?,
        imported_by: r.text(3)?,
        imported_at: efine_core::clock::from_micros(r.i64(4)?),
        lines: r.i64(5)?,
        matched: n("matched"),
        corrected: n("corrected"),
        missing_here: n("missing_here"),
        missing_there: n("missing_there"),
        amount_differs: n("amount_differs"),
        settled: Money::from_paisa(n("settled"))?,
    })
}

/// The most recent imports, newest first.
pub fn history(tx: &mut dyn Tx, limit: i64) -> Result<Vec<Imported>, StoreError> {
    let files = tx.query(
        &format!("SELECT {IMPORTED_COLS} FROM settlement_files ORDER BY id DESC LIMIT $1"),
        params![limit],
    )?;
    files.iter().map(|r| imported(tx, r)).collect()
}

/// A line of a settlement file and the challan it concerns, where known.
pub type LinkedItem = (Item, Option<String>);

/// One imported file's lines that were not simply matched, in file order, each with the
/// challan it concerns where one of our payment attempts is known by its reference or the
/// rail's transaction id.
pub fn exceptions(
    tx: &mut dyn Tx,
    file_id: i64,
) -> Result<Option<(Imported, Vec<LinkedItem>)>, StoreError> {
    let Some(file) = tx.query_opt(
        "SELECT rail FROM settlement_files WHERE id = $1",
        params![file_id],
    )?
    else {
        return Ok(None);
    };
    let rail = file.text(0)?;
    let head = history_one(tx, file_id)?;
    let rows = tx.query(
        "SELECT i.line, i.rail_txn_id, i.reference, i.amount_paisa, i.outcome, i.detail,
                (SELECT a.challan_number FROM payment_attempts a
                  WHERE a.reference = i.reference OR (a.rail = $2 AND a.rail_txn_id = i.rail_txn_id)
                  LIMIT 1)
         FROM settlement_items i WHERE i.file_id = $1 AND i.outcome <> 'matched'
         ORDER BY i.line LIMIT 5000",
        params![file_id, rail.as_str()],
    )?;
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        items.push((
            Item {
                line: Some(r.i64(0)?),
                rail_txn_id: r.text(1)?,
                reference: r.opt_text(2)?,
                amount: Money::from_paisa(r.i64(3)?)?,
                outcome: r.text(4)?,
                detail: r.text(5)?,
            },
            r.opt_text(6)?,
        ));
    }
    Ok(head.map(|h| (h, items)))
}

fn history_one(tx: &mut dyn Tx, file_id: i64) -> Result<Option<Imported>, StoreError> {
    let r = tx.query_opt(
        &format!("SELECT {IMPORTED_COLS} FROM settlement_files WHERE id = $1"),
        params![file_id],
    )?;
    r.map(|r| imported(tx, &r)).transpose()
}
