//! `efine audit verify`: recompute the event hash chain and check every record against its
//! events, all in one read snapshot so that a server taking payments meanwhile cannot make an
//! intact record look altered.

use crate::config::{DbFlags, Settings};
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use efine_store::ops::audit::{self, Since, Step};
use efine_store::ops::log_heads::{self, LogHead, Published};
use std::io::IsTerminal;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Recompute the event hash chain and check every challan against its events. Exits 0 when
    /// intact, 1 naming the first altered record otherwise. Prints the head it verified.
    Verify {
        /// Check only the chain after this event (a head an earlier run printed) and the
        /// records its new events touch.
        #[arg(long, value_name = "SEQ")]
        since: Option<i64>,
        /// The hash an earlier run verified for event SEQ (64 hex digits); without it, the
        /// hash stored with event SEQ is taken as it stands.
        #[arg(long, value_name = "HEX", requires = "since")]
        hash: Option<String>,
        /// Also check a saved copy of the published log heads (the JSON of
        /// /api/v1/public/log-heads, or of one head): each must be signed by a key of this
        /// database and match the event of its sequence, so a chain rewritten after it was
        /// published is caught.
        #[arg(long, value_name = "FILE")]
        against: Option<std::path::PathBuf>,
        #[command(flatten)]
        db: DbFlags,
    },
    /// Sign the current head of the event log (sequence and hash) with the signing key and add
    /// it to the published history (`/api/v1/public/log-heads`). Servers also do this daily.
    PublishHead {
        #[command(flatten)]
        db: DbFlags,
    },
}

impl AuditCommand {
    pub fn db(&self) -> &DbFlags {
        match self {
            AuditCommand::Verify { db, .. } | AuditCommand::PublishHead { db } => db,
        }
    }
}

pub async fn run(settings: &Settings, cmd: AuditCommand) -> Result<ExitCode> {
    let (since, hash, against) = match cmd {
        AuditCommand::Verify {
            since,
            hash,
            against,
            ..
        } => (since, hash, against),
        AuditCommand::PublishHead { .. } => return publish_head(settings).await,
    };
    // Read the copy first: a file that cannot be read stops the run before the long check.
    let heads = against.as_deref().map(read_heads).transpose()?;
    let since = match since {
        None => None,
        Some(seq) if seq < 0 => bail!("--since takes an event sequence number, 0 or more"),
        Some(seq) => Some(Since {
            seq,
            hash: hash.as_deref().map(parse_hash).transpose()?,
        }),
    };
    let store = super::connect(&settings.db).await?;
    let chain = verify(&store, since).await?;
    let Some((path, heads)) = heads.map(|h| (against.unwrap_or_default(), h)) else {
        return Ok(chain);
    };
    let ring = efine_store::keys::ring(&store).await?;
    let n = heads.len();
    let findings = store
        .read_snapshot(move |tx| log_heads::check(tx, &heads, &ring))
        .await?;
    if findings.is_empty() {
        println!(
            "published heads intact: the {n} heads in {} are signed by this system's keys and \
             the database still holds each of them",
            path.display()
        );
        return Ok(chain);
    }
    for f in &findings {
        println!("DIVERGED: {f}");
    }
    Ok(ExitCode::from(1))
}

/// The heads of a saved copy: the history (`{"heads": [...]}`), a list, or one head.
fn read_heads(path: &std::path::Path) -> Result<Vec<LogHead>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the published heads {}", path.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let list = match v {
        serde_json::Value::Object(mut o) if o.contains_key("heads") => o["heads"].take(),
        serde_json::Value::Object(o) if o.contains_key("seq") => {
            serde_json::Value::Array(vec![serde_json::Value::Object(o)])
        }
        other => other,
    };
    let heads: Vec<LogHead> = serde_json::from_value(list).with_context(|| {
        format!(
            "{} does not hold published log heads (the JSON of /api/v1/public/log-heads)",
            path.display()
        )
    })?;
    if heads.is_empty() {
        bail!("{} holds no published heads", path.display());
    }
    Ok(heads)
}

async fn publish_head(settings: &Settings) -> Result<ExitCode> {
    let store = super::connect(&settings.db).await?;
    let keys =
        efine_store::keys::Keys::open(&store, settings.db.kek()?, Some(&settings.db.data_dir))
            .await
            .context("signing keys")?;
    let (word, h) = match efine_service::keys::publish_head(&store, &keys, None).await? {
        Published::New(h) => ("published", h),
        Published::Unchanged(h) | Published::NotDue(h) => ("already published", h),
        Published::Empty => bail!("the event log is empty: there is no head to publish"),
    };
    println!(
        "{word}: event {}, hash {}, signed by key {} at {}",
        h.seq,
        h.hash,
        h.kid,
        h.published_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}

fn parse_hash(s: &str) -> Result<efine_core::audit::Hash> {
    let s = s.trim();
    let mut h = [0u8; 32];
    if s.len() != 64 || !s.is_ascii() {
        bail!("--hash takes the 64 hex digits a previous run printed");
    }
    for (i, b) in h.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| {
            anyhow::anyhow!("--hash takes the 64 hex digits a previous run printed")
        })?;
    }
    Ok(h)
}

pub async fn verify(store: &efine_store::Store, since: Option<Since>) -> Result<ExitCode> {
    // A bar only for a person watching: in a log or a pipe it would be noise.
    let bar = if std::io::stdout().is_terminal() {
        indicatif::ProgressBar::new(0)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} {wide_bar} {pos}/{len}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message("verifying the event chain");
    let b = bar.clone();
    let outcome = store
        .read_snapshot(move |tx| {
            audit::verify(tx, since, &mut |step| match step {
                Step::Events { done, total } => {
                    b.set_length(total);
                    b.set_position(done);
                }
                Step::Challans(n) => {
                    b.set_style(indicatif::ProgressStyle::default_spinner());
                    b.set_message(format!("{n} challans checked"));
                    b.tick();
                }
                Step::Requests(n) => {
                    b.set_message(format!("{n} cancellation requests and appeals checked"));
                    b.tick();
                }
            })
        })
        .await?;
    bar.finish_and_clear();
    match outcome {
        Ok(r) => {
            let what = format!(
                "{} events chained, {} challans match their events, and {} cancellation requests \
                 and appeals match theirs",
                r.events, r.challans, r.requests
            );
            match r.since {
                None => println!("intact: {what}"),
                Some(s) => {
                    println!("intact since event {}: {what}", s.seq);
                    if s.hash.is_none() && s.seq > 0 {
                        println!(
                            "(event {}'s hash was read from the log, not checked against one \
                             verified before: pass --hash to check it)",
                            s.seq
                        );
                    }
                }
            }
            println!("verified head: event {}, hash {}", r.head_seq, r.head_hash);
            println!(
                "next run: efine audit verify --since {} --hash {}",
                r.head_seq, r.head_hash
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(f) => {
            println!("TAMPERED: {f}");
            Ok(ExitCode::from(1))
        }
    }
}
