//! Rows of `signing_keys`: the QR and log-head signing keys, sealed. Sealing and opening are in
//! `crate::keys`; this module only stores and reads the rows.

use crate::sql::Tx;
use crate::{params, StoreError};
use efine_core::clock::{from_micros, to_micros};
use time::OffsetDateTime;

/// One stored key. `sealed` opens only with the key-encryption key named by `kek_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRow {
    pub n: i64,
    pub kid: String,
    pub created_at: OffsetDateTime,
    /// The public key, base64url without padding.
    pub public_key: String,
    pub sealed: String,
    pub kek_id: String,
}

/// Every key, oldest first (the last one signs).
pub fn list(tx: &mut dyn Tx) -> Result<Vec<KeyRow>, StoreError> {
    tx.query(
        "SELECT n, kid, created_at, public_key, sealed, kek_id FROM signing_keys ORDER BY n",
        &[],
    )?
    .iter()
    .map(|r| {
        Ok(KeyRow {
            n: r.i64(0)?,
            kid: r.text(1)?,
            created_at: from_micros(r.i64(2)?),
            public_key: r.text(3)?,
            sealed: r.text(4)?,
            kek_id: r.text(5)?,
        })
    })
    .collect()
}

/// The number of the newest key (0 when there is none): a cheap check of whether another node
/// has rotated.
pub fn version(tx: &mut dyn Tx) -> Result<i64, StoreError> {
    tx.query_one("SELECT COALESCE(MAX(n), 0) FROM signing_keys", &[])?
        .i64(0)
}

/// A key to add: everything but its number, which the store gives.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub kid: String,
    pub created_at: OffsetDateTime,
    pub public_key: String,
    pub sealed: String,
    pub kek_id: String,
}

/// Adds `key` after the newest; returns its number. Writes are serialised (one writer per
/// process, and on PostgreSQL every batch holds the chain-head lock), so two rotations never
/// take the same number.
pub fn add(tx: &mut dyn Tx, key: &NewKey) -> Result<i64, StoreError> {
    let n = version(tx)? + 1;
    tx.exec(
        "INSERT INTO signing_keys (n, kid, created_at, public_key, sealed, kek_id)
         VALUES ($1, $2, $3, $4, $5, $6)",
        params![
            n,
            key.kid.as_str(),
            to_micros(key.created_at),
            key.public_key.as_str(),
            key.sealed.as_str(),
            key.kek_id.as_str()
        ],
    )?;
    Ok(n)
}

/// Adds `keys` in order if the table is empty; returns whether it did. Several nodes starting at
/// once on one database: the first write adds, the others find keys and add nothing.
pub fn add_if_none(tx: &mut dyn Tx, keys: &[NewKey]) -> Result<bool, StoreError> {
    if version(tx)? != 0 {
        return Ok(false);
    }
    for k in keys {
        add(tx, k)?;
    }
    Ok(true)
}
