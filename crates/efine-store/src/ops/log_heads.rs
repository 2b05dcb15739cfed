//! Published heads of the event log (`log_heads`): the chain head signed with the signing key of
//! the day, kept as a history. A copy anyone saved proves later that the database still holds
//! every published head: `check` compares each with the event of the same sequence.

use crate::sql::Tx;
use crate::{params, StoreError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use efine_core::clock::{from_micros, to_micros};
use efine_core::qr::{KeyId, KeyRing, TokenSigner};
use time::OffsetDateTime;

/// One published head, as stored and as published.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LogHead {
    /// The sequence number of the last event at publication.
    pub seq: i64,
    /// That event's hash, 64 hex digits.
    pub hash: String,
    /// When it was published, to the second (the signature covers it).
    #[serde(with = "time::serde::rfc3339")]
    pub published_at: OffsetDateTime,
    /// The signing key (`/.well-known/efine-keys.json`).
    pub kid: String,
    /// Ed25519 over the head, base64url without padding.
    pub signature: String,
}

fn row(r: &crate::sql::Row) -> Result<LogHead, StoreError> {
    Ok(LogHead {
        seq: r.i64(0)?,
        hash: r.text(1)?,
        published_at: from_micros(r.i64(2)?),
        kid: r.text(3)?,
        signature: r.text(4)?,
    })
}

const COLUMNS: &str = "seq, hash, published_at, kid, signature";

/// Every published head, oldest first.
pub fn list(tx: &mut dyn Tx) -> Result<Vec<LogHead>, StoreError> {
    tx.query(
        &format!("SELECT {COLUMNS} FROM log_heads ORDER BY seq"),
        &[],
    )?
    .iter()
    .map(row)
    .collect()
}

/// The last published head.
pub fn latest(tx: &mut dyn Tx) -> Result<Option<LogHead>, StoreError> {
    tx.query_opt(
        &format!("SELECT {COLUMNS} FROM log_heads ORDER BY seq DESC LIMIT 1"),
        &[],
    )?
    .map(|r| row(&r))
    .transpose()
}

/// What `publish` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Published {
    /// A new head was signed and stored.
    New(LogHead),
    /// The head has not moved since it was last published: that one stands.
    Unchanged(LogHead),
    /// `min_gap` has not passed since the last publication (the daily job on several nodes).
    NotDue(LogHead),
    /// The event log is empty: there is no head to sign.
    Empty,
}

fn hash_bytes(hex_hash: &str) -> Result<[u8; 32], StoreError> {
    hex::decode(hex_hash)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| StoreError::Corrupt(format!("bad chain hash {hex_hash}")))
}

/// Signs the current chain head with `signer` and stores it, unless the head was already
/// published or, with `min_gap`, a head was published less than `min_gap` ago. Runs in a write,
/// so it reads the head every other write in the batch has left.
pub fn publish(
    tx: &mut dyn Tx,
    signer: &TokenSigner,
    at: OffsetDateTime,
    min_gap: Option<time::Duration>,
) -> Result<Published, StoreError> {
    let (seq, hash) = match tx.chain_head() {
        Some(h) => (h.seq, h.hash.clone()),
        None => {
            let r = tx.query_one("SELECT seq, hash FROM chain_head WHERE id = 1", &[])?;
            (r.i64(0)?, r.text(1)?)
        }
    };
    if seq == 0 {
        return Ok(Published::Empty);
    }
    if let Some(last) = latest(tx)? {
        if last.seq == seq {
            return Ok(Published::Unchanged(last));
        }
        if min_gap.is_some_and(|gap| last.published_at > at - gap) {
            return Ok(Published::NotDue(last));
        }
    }
    let published_at = at
        .replace_nanosecond(0)
        .map_err(|e| StoreError::Db(format!("time: {e}")))?;
    let sig = signer.sign_log_head(seq, &hash_bytes(&hash)?, published_at.unix_timestamp());
    let head = LogHead {
        seq,
        hash,
        published_at,
        kid: signer.key_id().to_string(),
        signature: URL_SAFE_NO_PAD.encode(sig),
    };
    tx.exec(
        &format!("INSERT INTO log_heads ({COLUMNS}) VALUES ($1, $2, $3, $4, $5)"),
        params![
            head.seq,
            head.hash.as_str(),
            to_micros(head.published_at),
            head.kid.as_str(),
            head.signature.as_str()
        ],
    )?;
    Ok(Published::New(head))
}

/// Why a published head is not borne out by the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadFinding {
    /// The signature does not hold (or names a key the database does not know): the copy was
    /// not published by this system, or it was altered.
    Signature { seq: i64, problem: String },
    /// The database has no event with this sequence: the log was cut short.
    Missing { seq: i64 },
    /// The database's event with this sequence has another hash: the chain was rewritten.
    Diverged {
        seq: i64,
        published: String,
        found: String,
    },
}

impl std::fmt::Display for HeadFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeadFinding::Signature { seq, problem } => {
                write!(f, "published head {seq}: {problem}")
            }
            HeadFinding::Missing { seq } => write!(
                f,
                "published head {seq}: the database has no event {seq} (the log was cut short)"
            ),
            HeadFinding::Diverged {
                seq,
                published,
                found,
            } => write!(
                f,
                "published head {seq}: the database's event {seq} has hash {found}, but {published} \
                 was published (the chain was rewritten)"
            ),
        }
    }
}

/// Checks each head of a saved copy against the database: its signature under `ring` (the
/// database's public keys) and the hash of the event with its sequence. Returns every finding.
pub fn check(
    tx: &mut dyn Tx,
    heads: &[LogHead],
    ring: &KeyRing,
) -> Result<Vec<HeadFinding>, StoreError> {
    let mut findings = Vec::new();
    for h in heads {
        let signed = (|| {
            let kid = KeyId::parse(&h.kid).map_err(|e| e.to_string())?;
            let hash =
                hash_bytes(&h.hash).map_err(|_| "the hash is not 64 hex digits".to_string())?;
            let sig = URL_SAFE_NO_PAD
                .decode(&h.signature)
                .map_err(|_| "the signature is not base64url".to_string())?;
            ring.verify_log_head(kid, h.seq, &hash, h.published_at.unix_timestamp(), &sig)
                .map_err(|e| e.to_string())
        })();
        if let Err(problem) = signed {
            findings.push(HeadFinding::Signature {
                seq: h.seq,
                problem,
            });
            continue;
        }
        match tx.query_opt("SELECT hash FROM events WHERE seq = $1", params![h.seq])? {
            None => findings.push(HeadFinding::Missing { seq: h.seq }),
            Some(r) => {
                let found = r.text(0)?;
                if !found.eq_ignore_ascii_case(&h.hash) {
                    findings.push(HeadFinding::Diverged {
                        seq: h.seq,
                        published: h.hash.clone(),
                        found,
                    });
                }
            }
        }
    }
    Ok(findings)
}
