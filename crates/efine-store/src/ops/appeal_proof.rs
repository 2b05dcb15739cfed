//! Proof that an appeal comes from the person charged (`efine_core::appeal_proof`): one-time
//! codes sent through the notification outbox to the challan's mobile, and the CNIC check for
//! challans without one. `appeal_codes` keeps only a salted hash of each code, its expiry and
//! its wrong tries; `appeal_proof_failures` counts wrong CNICs per challan.
//!
//! The SMS itself is a row of `notifications`, like every message: the worker delivers it and
//! retries it. Its text holds the code in the clear for the gateway, which is why a code is
//! worth nothing after `CODE_TTL`.

use crate::ops::{challans, notify};
use crate::sql::Tx;
use crate::{params, StoreError};
use efine_core::appeal_proof::{self, Code, NotNow, ProofError};
use efine_core::challan::Challan;
use efine_core::clock::{from_micros, to_micros};
use efine_core::notify::{message_key, Channel, Reason, Texts};
use efine_core::{ChallanNumber, Cnic};
use time::{Duration, OffsetDateTime};

/// A code on its way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeSent {
    pub challan_number: String,
    /// The mobile it goes to, E.164 (mask it before showing it).
    pub to: String,
    pub expires_at: OffsetDateTime,
}

fn challan(tx: &mut dyn Tx, number: &ChallanNumber) -> Result<Challan, StoreError> {
    challans::by_number(tx, number)?.ok_or_else(|| StoreError::NotFound("challan".into()))
}

/// Where a code for this challan goes: the mobile written on it, else the mobile of the
/// recipient the notifications worker found for it (the registered owner of the vehicle).
fn mobile(tx: &mut dyn Tx, c: &Challan) -> Result<Option<String>, StoreError> {
    if let Some(m) = &c.mobile {
        return Ok(Some(m.e164().to_string()));
    }
    Ok(notify::recipient(tx, &c.number.to_string())?.and_then(|r| r.mobile))
}

/// Records a new code for the challan (only `code.hash(number, salt)` is kept) and queues the
/// SMS that carries it. `Ok(Err(_))` when the challan has had too many codes, or one too
/// recently. 404 for no such challan; 409 `no_mobile` when there is no mobile to send to (the
/// CNIC is then the proof), `challan_paid` or `challan_cancelled`.
pub fn send_code(
    tx: &mut dyn Tx,
    texts: &Texts,
    number: &ChallanNumber,
    code: &Code,
    salt: &str,
    now: OffsetDateTime,
) -> Result<Result<CodeSent, NotNow>, StoreError> {
    let c = challan(tx, number)?;
    match c.status {
        efine_core::challan::ChallanStatus::Unpaid => {}
        efine_core::challan::ChallanStatus::Paid => {
            return Err(StoreError::Conflict {
                code: "challan_paid".into(),
                message: "the challan is paid: it can no longer be appealed".into(),
            })
        }
        efine_core::challan::ChallanStatus::Cancelled => {
            return Err(StoreError::Conflict {
                code: "challan_cancelled".into(),
                message: "the challan is cancelled".into(),
            })
        }
        efine_core::challan::ChallanStatus::Expired => {
            return Err(StoreError::Conflict {
                code: "challan_expired".into(),
                message: "the voucher expired unpaid".into(),
            })
        }
    }
    if tx
        .query_opt(
            "SELECT 1 FROM appeals WHERE challan_number = $1",
            params![c.number.to_string()],
        )?
        .is_some()
    {
        return Err(StoreError::Conflict {
            code: "appeal_exists".into(),
            message: "this challan has already been appealed".into(),
        });
    }
    let Some(to) = mobile(tx, &c)? else {
        return Err(StoreError::Conflict {
            code: "no_mobile".into(),
            message: "this challan has no mobile number to send a code to: give the CNIC on \
                      the challan with the appeal instead"
                .into(),
        });
    };
    let num = number.to_string();
    let sent = tx
        .query(
            "SELECT created_at FROM appeal_codes WHERE challan_number = $1 AND created_at > $2",
            params![num.as_str(), to_micros(now - Duration::DAY)],
        )?
        .iter()
        .map(|r| r.i64(0).map(from_micros))
        .collect::<Result<Vec<_>, _>>()?;
    if let Err(e) = appeal_proof::may_send(&sent, now) {
        return Ok(Err(e));
    }
    let n = tx
        .query_one(
            "SELECT COALESCE(MAX(n), 0) + 1 FROM appeal_codes WHERE challan_number = $1",
            params![num.as_str()],
        )?
        .i64(0)?;
    let expires_at = now + appeal_proof::CODE_TTL;
    tx.exec(
        "INSERT INTO appeal_codes (challan_number, n, code_hash, salt, sent_to, created_at,
             expires_at, tries)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0)",
        params![
            num.as_str(),
            n,
            code.hash(&num, salt),
            salt,
            to.as_str(),
            to_micros(now),
            to_micros(expires_at)
        ],
    )?;
    let reason = Reason::AppealCode { n };
    let lang = crate::ops::notify::language(tx, &num)?;
    let body = texts
        .render_in(
            &reason,
            &[
                ("challan", num.clone()),
                ("code", code.as_str().to_string()),
                (
                    "minutes",
                    appeal_proof::CODE_TTL.whole_minutes().to_string(),
                ),
            ],
            lang,
        )
        .map_err(|e| StoreError::Corrupt(format!("message texts: {e}")))?;
    tx.exec(
        "INSERT INTO notifications (key, challan_number, reason, channel, recipient, body,
             event_seq, created_at, status, attempts, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, 'pending', 0, $7)
         ON CONFLICT (key) DO NOTHING",
        params![
            message_key(&num, &reason, Channel::Sms),
            num.as_str(),
            reason.as_key(),
            Channel::Sms.as_str(),
            to.as_str(),
            body,
            to_micros(now)
        ],
    )?;
    Ok(Ok(CodeSent {
        challan_number: num,
        to,
        expires_at,
    }))
}

/// What an appeal carries to prove who lodges it.
#[derive(Debug, Clone, Default)]
pub struct Proof {
    pub code: Option<Code>,
    pub cnic: Option<Cnic>,
}

/// A proof that held; `consume` it in the transaction that lodges the appeal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    Code { challan_number: String, n: i64 },
    Cnic,
}

/// Checks a proof for an appeal against `number`. A wrong code counts a try and a wrong CNIC a
/// failure, written in this transaction, so the caller must commit even when it answers
/// `Ok(Err(_))` (nothing else is written then).
pub fn check(
    tx: &mut dyn Tx,
    number: &ChallanNumber,
    proof: &Proof,
    now: OffsetDateTime,
) -> Result<Result<Accepted, ProofError>, StoreError> {
    let c = challan(tx, number)?;
    let num = number.to_string();
    if mobile(tx, &c)?.is_some() {
        let Some(code) = &proof.code else {
            return Ok(Err(ProofError::CodeRequired));
        };
        let Some(row) = tx.query_opt(
            "SELECT n, code_hash, salt, expires_at, tries, used_at FROM appeal_codes
             WHERE challan_number = $1 ORDER BY n DESC LIMIT 1",
            params![num.as_str()],
        )?
        else {
            return Ok(Err(ProofError::CodeRequired));
        };
        let (n, hash, salt, expires, tries) = (
            row.i64(0)?,
            row.text(1)?,
            row.text(2)?,
            from_micros(row.i64(3)?),
            row.i64(4)?,
        );
        if row.opt_i64(5)?.is_some() || expires <= now {
            return Ok(Err(ProofError::CodeExpired));
        }
        if tries >= appeal_proof::MAX_TRIES {
            return Ok(Err(ProofError::CodeVoid));
        }
        if appeal_proof::same(&code.hash(&num, &salt), &hash) {
            return Ok(Ok(Accepted::Code {
                challan_number: num,
                n,
            }));
        }
        tx.exec(
            "UPDATE appeal_codes SET tries = tries + 1 WHERE challan_number = $1 AND n = $2",
            params![num.as_str(), n],
        )?;
        let left = appeal_proof::MAX_TRIES - tries - 1;
        return Ok(Err(if left == 0 {
            ProofError::CodeVoid
        } else {
            ProofError::CodeWrong { tries_left: left }
        }));
    }
    let Some(on_challan) = &c.cnic else {
        return Ok(Err(ProofError::NoProofPossible));
    };
    let failures = tx
        .query_one(
            "SELECT COUNT(*) FROM appeal_proof_failures WHERE challan_number = $1 AND at > $2",
            params![num.as_str(), to_micros(now - Duration::DAY)],
        )?
        .i64(0)?;
    if failures >= appeal_proof::CNIC_FAILURES_PER_DAY {
        return Ok(Err(ProofError::CnicLocked));
    }
    let Some(given) = &proof.cnic else {
        return Ok(Err(ProofError::CnicRequired));
    };
    if appeal_proof::same(given.digits(), on_challan.digits()) {
        return Ok(Ok(Accepted::Cnic));
    }
    tx.exec(
        "INSERT INTO appeal_proof_failures (challan_number, at) VALUES ($1, $2)",
        params![num.as_str(), to_micros(now)],
    )?;
    Ok(Err(ProofError::CnicWrong))
}

/// Marks a code used, in the transaction that lodged the appeal with it.
pub fn consume(
    tx: &mut dyn Tx,
    accepted: &Accepted,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    if let Accepted::Code { challan_number, n } = accepted {
        tx.exec(
            "UPDATE appeal_codes SET used_at = $1 WHERE challan_number = $2 AND n = $3",
            params![to_micros(now), challan_number.as_str(), *n],
        )?;
    }
    Ok(())
}

/// What proof an appeal against this challan needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Needed {
    /// A code sent to this mobile (E.164; mask it before showing it).
    Code { mobile: String },
    /// The CNIC on the challan.
    Cnic,
    /// Neither is possible online.
    Nothing,
}

/// What proof an appeal against `number` needs (404 for no such challan).
pub fn needed(tx: &mut dyn Tx, number: &ChallanNumber) -> Result<Needed, StoreError> {
    let c = challan(tx, number)?;
    Ok(match (mobile(tx, &c)?, &c.cnic) {
        (Some(mobile), _) => Needed::Code { mobile },
        (None, Some(_)) => Needed::Cnic,
        (None, None) => Needed::Nothing,
    })
}
