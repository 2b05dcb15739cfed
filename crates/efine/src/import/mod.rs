//! `efine import`: challans and their payments from an earlier system, one CSV row per challan
//! (the format is in docs/import.md and `efine import --help`), and `efine import --generate`,
//! which writes a synthetic file of that format for tests and measurements.
//!
//! The file is read once to take its SHA-256 (the key its progress is kept under) and count its
//! lines, then parsed here, chunk by chunk, into domain types; each chunk is one write in the
//! store (`ops::import::chunk`), which records the file's progress in the same transaction. While
//! the writer commits one chunk, this thread parses the next.

pub mod generate;

use anyhow::{Context, Result};
use clap::Args;
use efine_core::clock::KARACHI;
use efine_core::payment::Rail;
use efine_core::text::{FreeText, TextKind};
use efine_core::{Cnic, DepartmentCode, DistrictCode, MobileNumber, Money, OffenceCode};
use efine_store::ops::catalogue;
use efine_store::ops::import::{self, Chunk, ImportPayment, ImportRecord, LineError};
use efine_store::{NewChallan, Store};
use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use time::OffsetDateTime;

const AFTER_HELP: &str = "\
The file is CSV (RFC 4180, UTF-8) with a header line naming its columns, in any order:

  number             the earlier system's challan number; kept when it is an E-Fine number of
                     the row's department, district and issue year (TRF-PSH-2024-000123), else
                     the challan gets the next free number and the earlier one is kept beside it
  psid               the earlier system's PSID (kept in the challan's event)
  department *       department code (traffic-police)
  district *         district code (peshawar)
  offence_code *     an offence of the department's schedule (no-helmet)
  vehicle            vehicle number (PES-1234)
  vehicle_authority  the registering authority
  cnic               13 digits, dashes optional
  name               the offender's name
  mobile             03XXXXXXXXX or +923XXXXXXXXX
  officer            the earlier system's officer (kept in the challan's event)
  issued_at *        RFC 3339 (2024-03-05T10:15:00+05:00) or local time 2024-03-05 10:15[:00]
  amount_paisa *     the amount charged, in paisa (Rs 1,200 = 120000)
  due_date           YYYY-MM-DD; by default the offence's days to pay
  paid_at            when it was paid (as issued_at); empty if unpaid
  paid_amount_paisa  the amount paid: what was due on that day (with discount or surcharge)
  rail               1bill, jazzcash, easypaisa, card, counter or raast
  reference          the rail's transaction id (unique per rail)
  location           where the challan was issued (text)
  notes              free text

Columns marked * are required; paid_at, paid_amount_paisa and rail go together. A bad line is
reported as `line N: field: why` and nothing of its chunk is written. Interrupted imports resume
from the last committed line when the same command is run again; a file imported before is not
imported twice.";

#[derive(Args, Debug, Clone)]
#[command(after_long_help = AFTER_HELP)]
pub struct ImportArgs {
    /// The CSV file (see --help for its columns).
    #[arg(required_unless_present = "generate")]
    pub file: Option<PathBuf>,
    /// Check every line against the format and the catalogue, and write nothing.
    #[arg(long)]
    pub check: bool,
    /// Records per transaction.
    #[arg(long, default_value_t = 2_000)]
    pub chunk: usize,
    /// SQLite: MiB of page cache for the importing connection (large files write index pages
    /// all over the database).
    #[arg(long, default_value_t = 1024)]
    pub sqlite_cache_mib: u32,
    /// Write a synthetic file of N records to standard output instead, for tests and
    /// measurements: the pilot's mix of districts, the catalogue's offences, dates over
    /// --years, --paid-percent paid. Its numbers start at 1 per department, district and year:
    /// import it into a database without challans of those years.
    #[arg(long, value_name = "N")]
    pub generate: Option<u64>,
    /// With --generate: the random seed (the same seed writes the same file).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// With --generate: spread the challans over this many years before today.
    #[arg(long, default_value_t = 3)]
    pub years: i64,
    /// With --generate: percent of the challans paid.
    #[arg(long, default_value_t = 90)]
    pub paid_percent: u32,
}

/// The columns a file may have.
const COLUMNS: &[&str] = &[
    "number",
    "psid",
    "department",
    "district",
    "offence_code",
    "vehicle",
    "vehicle_authority",
    "cnic",
    "name",
    "mobile",
    "officer",
    "issued_at",
    "amount_paisa",
    "due_date",
    "paid_at",
    "paid_amount_paisa",
    "rail",
    "reference",
    "location",
    "notes",
];
const REQUIRED: &[&str] = &[
    "department",
    "district",
    "offence_code",
    "issued_at",
    "amount_paisa",
];

/// A refused field: (field, why).
type Refusal = (&'static str, String);

/// Where each column is in the file's rows.
struct Columns(HashMap<&'static str, usize>);

impl Columns {
    fn from_header(header: &csv::StringRecord) -> Result<Columns, Refusal> {
        let mut at = HashMap::new();
        for (i, name) in header.iter().enumerate() {
            let name = name.trim().trim_start_matches('\u{feff}');
            let Some(known) = COLUMNS.iter().find(|c| **c == name) else {
                return Err((
                    "header",
                    format!(
                        "unknown column {name:?}; the columns are {}",
                        COLUMNS.join(", ")
                    ),
                ));
            };
            if at.insert(*known, i).is_some() {
                return Err(("header", format!("column {name} appears twice")));
            }
        }
        for r in REQUIRED {
            if !at.contains_key(r) {
                return Err(("header", format!("column {r} is required")));
            }
        }
        Ok(Columns(at))
    }

    /// The trimmed value of a column, `None` when empty or absent.
    fn get<'r>(&self, row: &'r csv::StringRecord, name: &str) -> Option<&'r str> {
        self.0
            .get(name)
            .and_then(|i| row.get(*i))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }
}

/// What a row must name that exists: the catalogue's districts, departments and offences.
struct Known {
    districts: HashSet<String>,
    departments: HashSet<String>,
    offences: HashSet<(String, String)>,
}

impl Known {
    async fn load(store: &Store) -> Result<Known> {
        let (districts, departments, offences) = store
            .read(|tx| {
                Ok((
                    catalogue::districts(tx)?,
                    catalogue::departments(tx)?,
                    catalogue::offences(tx, None)?,
                ))
            })
            .await?;
        Ok(Known {
            districts: districts.iter().map(|d| d.code.to_string()).collect(),
            departments: departments.iter().map(|d| d.code.to_string()).collect(),
            offences: offences
                .iter()
                .map(|o| (o.department.to_string(), o.code.to_string()))
                .collect(),
        })
    }
}

fn parse_instant(field: &'static str, v: &str) -> Result<OffsetDateTime, Refusal> {
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;
    if let Ok(t) = OffsetDateTime::parse(v, &Rfc3339) {
        return Ok(t);
    }
    let local = time::PrimitiveDateTime::parse(
        v,
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
    )
    .or_else(|_| {
        time::PrimitiveDateTime::parse(
            v,
            format_description!("[year]-[month]-[day] [hour]:[minute]"),
        )
    });
    match local {
        Ok(t) => Ok(t.assume_offset(KARACHI)),
        Err(_) => Err((
            field,
            format!("{v:?} is not a time: use 2024-03-05T10:15:00+05:00 or 2024-03-05 10:15"),
        )),
    }
}

fn parse_paisa(field: &'static str, v: &str) -> Result<Money, Refusal> {
    let n: i64 = v
        .parse()
        .map_err(|_| (field, format!("{v:?} is not a whole number of paisa")))?;
    if n <= 0 {
        return Err((field, format!("{n} is not a positive amount")));
    }
    Money::from_paisa(n).map_err(|e| (field, e.to_string()))
}

fn text(
    cols: &Columns,
    row: &csv::StringRecord,
    field: &'static str,
    kind: TextKind,
    max: usize,
) -> Result<Option<String>, Refusal> {
    FreeText::parse_optional(field, cols.get(row, field), kind, max)
        .map(|t| t.map(FreeText::into_string))
        .map_err(|e| (field, e.to_string()))
}

/// One row into a record, or the first field refused.
fn parse_row(
    cols: &Columns,
    known: &Known,
    row: &csv::StringRecord,
    line: u64,
    now: OffsetDateTime,
) -> Result<ImportRecord, Refusal> {
    let required = |name: &'static str| {
        cols.get(row, name)
            .ok_or_else(|| (name, "is required".to_string()))
    };
    let department = required("department")?;
    if !known.departments.contains(department) {
        return Err(("department", format!("no department {department}")));
    }
    let district = required("district")?;
    if !known.districts.contains(district) {
        return Err(("district", format!("no district {district}")));
    }
    let offence = required("offence_code")?;
    if !known
        .offences
        .contains(&(department.to_string(), offence.to_string()))
    {
        return Err((
            "offence_code",
            format!("{department} has no offence {offence}"),
        ));
    }
    let issued_at = parse_instant("issued_at", required("issued_at")?)?;
    if issued_at > now {
        return Err(("issued_at", "is in the future".into()));
    }
    let amount = parse_paisa("amount_paisa", required("amount_paisa")?)?;
    let due_date = cols
        .get(row, "due_date")
        .map(|v| {
            time::Date::parse(v, time::macros::format_description!("[year]-[month]-[day]"))
                .map_err(|_| ("due_date", format!("{v:?} is not a date (YYYY-MM-DD)")))
        })
        .transpose()?;
    if let Some(d) = due_date {
        if d < efine_core::clock::karachi_date(issued_at) {
            return Err(("due_date", "is before the day of issue".into()));
        }
    }
    let payment = match (
        cols.get(row, "paid_at"),
        cols.get(row, "paid_amount_paisa"),
        cols.get(row, "rail"),
    ) {
        (None, None, None) => None,
        (Some(paid_at), Some(paid), Some(rail)) => {
            let paid_at = parse_instant("paid_at", paid_at)?;
            if paid_at > now {
                return Err(("paid_at", "is in the future".into()));
            }
            if paid_at < issued_at {
                return Err(("paid_at", "is before issued_at".into()));
            }
            Some(ImportPayment {
                paid_at,
                amount: parse_paisa("paid_amount_paisa", paid)?,
                rail: Rail::parse(rail).ok_or_else(|| {
                    (
                        "rail",
                        format!(
                            "{rail:?} is not a rail: 1bill, jazzcash, easypaisa, card, counter \
                             or raast"
                        ),
                    )
                })?,
                reference: text(cols, row, "reference", TextKind::Line, 100)?,
            })
        }
        (None, _, _) => return Err(("paid_at", "is required with a payment".into())),
        (_, None, _) => return Err(("paid_amount_paisa", "is required with paid_at".into())),
        (_, _, None) => return Err(("rail", "is required with paid_at".into())),
    };
    Ok(ImportRecord {
        line,
        earlier_number: text(cols, row, "number", TextKind::Line, 64)?,
        earlier_psid: text(cols, row, "psid", TextKind::Line, 32)?,
        earlier_officer: text(cols, row, "officer", TextKind::Name, 100)?,
        challan: NewChallan {
            department: DepartmentCode::parse(department)
                .map_err(|e| ("department", e.to_string()))?,
            offence: OffenceCode::parse(offence).map_err(|e| ("offence_code", e.to_string()))?,
            district: DistrictCode::parse(district).map_err(|e| ("district", e.to_string()))?,
            vehicle: cols
                .get(row, "vehicle")
                .map(efine_core::VehicleNumber::parse)
                .transpose()
                .map_err(|e| ("vehicle", e.to_string()))?,
            vehicle_authority: text(cols, row, "vehicle_authority", TextKind::Line, 60)?,
            cnic: cols
                .get(row, "cnic")
                .map(Cnic::parse)
                .transpose()
                .map_err(|e| ("cnic", e.to_string()))?,
            mobile: cols
                .get(row, "mobile")
                .map(MobileNumber::parse)
                .transpose()
                .map_err(|e| ("mobile", e.to_string()))?,
            name: text(cols, row, "name", TextKind::Name, 100)?,
            location: efine_core::challan::Location {
                lat_micro: None,
                lon_micro: None,
                text: text(cols, row, "location", TextKind::Line, 200)?,
            },
            notes: text(cols, row, "notes", TextKind::Lines, 1000)?,
        },
        issued_at,
        amount,
        due_date,
        payment,
    })
}

/// The file's SHA-256 (hex) and its number of lines.
fn digest(path: &Path) -> Result<(String, u64)> {
    use sha2::{Digest, Sha256};
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut lines = 0u64;
    let mut last = b'\n';
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        lines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
        last = buf[n - 1];
    }
    if last != b'\n' {
        lines += 1;
    }
    Ok((hex::encode(h.finalize()), lines))
}

pub async fn run(store: &Store, args: &ImportArgs) -> Result<ExitCode> {
    let path = args.file.as_deref().context("name the file to import")?;
    let chunk_size = args.chunk.max(1);
    let (digest, lines) = digest(path)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let known = Known::load(store).await?;
    let now = store.now();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(std::io::BufReader::with_capacity(
            1 << 20,
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?,
        ));
    let cols = match reader.headers() {
        Ok(h) => match Columns::from_header(h) {
            Ok(c) => c,
            Err((field, why)) => return refused(1, field, &why),
        },
        Err(e) => return refused(1, "header", &e.to_string()),
    };

    let (done, importer) = if args.check {
        (
            import::Progress {
                lines_done: 1,
                records: 0,
                finished: false,
            },
            None,
        )
    } else {
        let d = digest.clone();
        let name = file_name.clone();
        store
            .write(move |tx| {
                let p = import::start(tx, &d, &name, now)?;
                Ok((p, import::importer(tx, now)?))
            })
            .await
            .map(|(p, i)| (p, Some(i)))?
    };
    if done.finished {
        println!(
            "{} was imported before ({} records): nothing to do",
            path.display(),
            done.records
        );
        return Ok(ExitCode::SUCCESS);
    }
    let total = lines.saturating_sub(1);
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:30}] {human_pos}/{human_len} lines, {per_sec}, ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(if args.check { "checking" } else { "importing" });
    bar.set_position(done.lines_done.saturating_sub(1));
    if done.lines_done > 1 {
        bar.reset_eta();
        eprintln!(
            "resuming {} after line {} ({} records imported before)",
            path.display(),
            done.lines_done,
            done.records
        );
    }

    let started = Instant::now();
    let mut after_line = done.lines_done;
    let mut records = Vec::with_capacity(chunk_size);
    let mut last_line = after_line;
    let mut written = 0u64;
    let mut paid = 0u64;
    let mut checked = 0u64;
    let mut in_flight: VecDeque<InFlight> = VecDeque::new();
    let mut row = csv::StringRecord::new();
    loop {
        let more = match reader.read_record(&mut row) {
            Ok(m) => m,
            Err(e) => {
                let line = e.position().map_or(last_line + 1, |p| p.line());
                bar.finish_and_clear();
                return refused(line, "csv", &e.to_string());
            }
        };
        if more {
            let line = row.position().map_or(last_line + 1, |p| p.line());
            if line <= after_line {
                continue;
            }
            match parse_row(&cols, &known, &row, line, now) {
                Ok(r) => {
                    paid += u64::from(r.payment.is_some());
                    records.push(r);
                }
                Err((field, why)) => {
                    bar.finish_and_clear();
                    if let Some(code) = drain(&mut in_flight, &mut written, &bar).await? {
                        return Ok(code);
                    }
                    if !args.check {
                        eprintln!(
                            "nothing of lines {}..={line} was written; the import stands after \
                             line {after_line}",
                            after_line + 1
                        );
                    }
                    return refused(line, field, &why);
                }
            }
            last_line = line;
        }
        let full = records.len() >= chunk_size;
        if !(full || (!more && !records.is_empty())) {
            if !more {
                break;
            }
            continue;
        }
        let batch = std::mem::replace(&mut records, Vec::with_capacity(chunk_size));
        if args.check {
            checked += batch.len() as u64;
            bar.set_position(last_line - 1);
        } else {
            let chunk = Chunk {
                digest: digest.clone(),
                after_line,
                last_line,
                records: batch,
            };
            let failed = Arc::new(Mutex::new(None));
            let f = failed.clone();
            let importer = importer.clone().context("no import account")?;
            let at = now;
            let fut = store.submit(move |tx| {
                let mut slot = None;
                let r = import::chunk(tx, &importer, &chunk, &mut slot, at);
                if let Ok(mut g) = f.lock() {
                    *g = slot;
                }
                r
            });
            in_flight.push_back(InFlight {
                answer: Box::pin(fut),
                failed,
                after_line,
                last_line,
            });
            while in_flight.len() > 2 {
                if let Some(code) = settle(&mut in_flight, &mut written, &bar).await? {
                    return Ok(code);
                }
            }
        }
        after_line = last_line;
        if !more {
            break;
        }
    }
    while !in_flight.is_empty() {
        if let Some(code) = settle(&mut in_flight, &mut written, &bar).await? {
            return Ok(code);
        }
    }
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    if args.check {
        println!(
            "{}: {checked} records, every line valid ({paid} paid); nothing written",
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let d = digest.clone();
    let finished = store.now();
    store
        .write(move |tx| import::finish(tx, &d, finished))
        .await?;
    println!(
        "imported {written} records ({paid} paid) from {} in {secs:.1} s: {:.0} records/s \
         ({} backend); {} records were imported by earlier runs",
        path.display(),
        written as f64 / secs.max(1e-9),
        store.backend(),
        done.records
    );
    Ok(ExitCode::SUCCESS)
}

/// A chunk submitted to the writer and not yet answered.
struct InFlight {
    answer: Pin<Box<dyn Future<Output = Result<u64, efine_store::StoreError>> + Send>>,
    /// The record the chunk was refused for, if it was.
    failed: Arc<Mutex<Option<LineError>>>,
    after_line: u64,
    last_line: u64,
}

/// Awaits the oldest chunk in flight. On a refused record, prints its line and field and
/// returns the exit code.
async fn settle(
    in_flight: &mut VecDeque<InFlight>,
    written: &mut u64,
    bar: &indicatif::ProgressBar,
) -> Result<Option<ExitCode>> {
    let Some(InFlight {
        answer,
        failed,
        after_line: after,
        last_line: last,
    }) = in_flight.pop_front()
    else {
        return Ok(None);
    };
    match answer.await {
        Ok(n) => {
            *written += n;
            bar.set_position(last - 1);
            Ok(None)
        }
        Err(e) => {
            bar.finish_and_clear();
            // Later chunks queued behind this one fail on the progress check: nothing to report.
            in_flight.clear();
            let line_error = failed.lock().ok().and_then(|mut g| g.take());
            eprintln!(
                "nothing of lines {}..={last} was written; the import stands after line {after}",
                after + 1
            );
            match line_error {
                Some(LineError { line, error }) => {
                    eprintln!("error: line {line}: {error}");
                    Ok(Some(ExitCode::from(1)))
                }
                None => Err(e).context("writing a chunk"),
            }
        }
    }
}

/// Awaits every chunk in flight (before reporting a line refused while parsing); the exit code
/// if one of them was refused.
async fn drain(
    in_flight: &mut VecDeque<InFlight>,
    written: &mut u64,
    bar: &indicatif::ProgressBar,
) -> Result<Option<ExitCode>> {
    while !in_flight.is_empty() {
        if let Some(code) = settle(in_flight, written, bar).await? {
            return Ok(Some(code));
        }
    }
    Ok(None)
}

fn refused(line: u64, field: &str, why: &str) -> Result<ExitCode> {
    eprintln!("error: line {line}: {field}: {why}");
    Ok(ExitCode::from(1))
}
