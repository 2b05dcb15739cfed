//! The QR and log-head signing keys, kept in the database and sealed at rest.
//!
//! Every key ever used is a row of `signing_keys` (`ops::signing_keys`); the newest signs, all of
//! them verify, so rotating never invalidates a printed challan. The private key is sealed with
//! AES-256-GCM under a key-encryption key (`Kek`) that never enters the database: it comes from
//! the environment or a file, the same on every node, so every node sharing a PostgreSQL
//! database signs and verifies with the same keys. `Keys` holds the keys loaded in a running
//! server and reloads them when another process rotates (`refresh`, polled by a job and tried
//! whenever a token names a key it does not know).
//!
//! Older releases kept the keys in `<data dir>/signing-keys.json`; on the first start against a
//! database without keys, that file's keys are sealed and imported, in order, so tokens already
//! printed keep verifying.
//!
//! The signing and verification themselves are pure and live in `efine_core::qr`.

use crate::ops::signing_keys::{self, KeyRow, NewKey};
use crate::{Store, StoreError};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use efine_core::qr::{KeyId, KeyRing, TokenSigner};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use time::OffsetDateTime;

/// The key file of older releases, imported into the database on first start.
pub const FILE_NAME: &str = "signing-keys.json";
/// Where `efine` keeps a key-encryption key it made itself, when none is configured.
pub const KEK_FILE_NAME: &str = "key-encryption-key";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a valid key file: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error(
        "{path}: readable by others (mode {mode:o}); key files must be owner-only: chmod 600 it"
    )]
    Permissions { path: PathBuf, mode: u32 },
    /// The key-encryption key as configured is not 32 bytes (the value is never shown).
    #[error("the key-encryption key must be 32 bytes, written as 64 hex digits or base64")]
    BadKek,
    /// A sealed key does not open: another key-encryption key sealed it, or it was altered.
    #[error(
        "signing key {kid} does not open with this key-encryption key (id {kek}; the key was \
         sealed under {sealed_with}): every node must use the same key-encryption key"
    )]
    WrongKek {
        kid: String,
        kek: String,
        sealed_with: String,
    },
    #[error("signing key {kid} in the database is not valid: {message}")]
    Corrupt { kid: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The key-encryption key: 32 bytes that seal the signing keys in the database. Never printed
/// (`Debug` shows only its id) and never stored beside the keys it seals.
#[derive(Clone)]
pub struct Kek {
    key: [u8; 32],
    id: String,
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Kek({})", self.id)
    }
}

impl Kek {
    pub fn from_bytes(key: [u8; 32]) -> Kek {
        // The id tells which key-encryption key sealed a row without revealing it.
        let d = Sha256::digest([b"efine-kek-id\0".as_slice(), &key].concat());
        Kek {
            key,
            id: hex::encode(&d[..4]),
        }
    }

    /// A fresh key from the operating system's generator.
    pub fn generate() -> Kek {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Kek::from_bytes(key)
    }

    /// From its text: 64 hex digits, or base64 (standard or URL-safe) of 32 bytes. Surrounding
    /// white space (a file's final newline) is ignored.
    pub fn parse(text: &str) -> Result<Kek, KeyError> {
        let t = text.trim();
        let bytes = if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(t).ok()
        } else {
            STANDARD
                .decode(t)
                .ok()
                .or_else(|| URL_SAFE_NO_PAD.decode(t.trim_end_matches('=')).ok())
        };
        bytes
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .map(Kek::from_bytes)
            .ok_or(KeyError::BadKek)
    }

    /// Reads a key file, which must be readable by its owner only.
    pub fn read_file(path: &Path) -> Result<Kek, KeyError> {
        let f = std::fs::File::open(path).map_err(io(path))?;
        check_mode(path, &f)?;
        let mut text = String::new();
        std::io::Read::read_to_string(&mut &f, &mut text).map_err(io(path))?;
        Kek::parse(&text)
    }

    /// Reads `path`, or creates it (owner-only, 64 hex digits) with a fresh key if it does not
    /// exist. Safe when several processes start at once: only one creator wins.
    pub fn load_or_create_file(path: &Path) -> Result<Kek, KeyError> {
        match Kek::read_file(path) {
            Err(KeyError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {}
            other => return other,
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let kek = Kek::generate();
        // tempfile creates with mode 0600.
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io(dir))?;
        tmp.write_all(format!("{}\n", hex::encode(kek.key)).as_bytes())
            .map_err(io(dir))?;
        tmp.as_file().sync_all().map_err(io(dir))?;
        let tmp = tmp.into_temp_path();
        match std::fs::hard_link(&tmp, path) {
            Ok(()) => {
                tracing::info!(path = %path.display(), kek = %kek.id, "created a key-encryption key");
                Ok(kek)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Kek::read_file(path),
            Err(e) => Err(io(path)(e)),
        }
    }

    /// Its public id: the first 4 bytes of a hash of the key, hex.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new_from_slice(&self.key).expect("32 bytes")
    }

    /// Seals a signing key's 32 secret bytes; the key id is bound in as associated data.
    fn seal(&self, kid: &str, secret: &[u8; 32]) -> String {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = self
            .cipher()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret,
                    aad: kid.as_bytes(),
                },
            )
            .expect("AES-GCM sealing of 32 bytes cannot fail");
        STANDARD.encode([nonce.as_slice(), &ct].concat())
    }

    fn open(&self, row: &KeyRow) -> Result<[u8; 32], KeyError> {
        let wrong = || KeyError::WrongKek {
            kid: row.kid.clone(),
            kek: self.id.clone(),
            sealed_with: row.kek_id.clone(),
        };
        let raw = STANDARD
            .decode(&row.sealed)
            .map_err(|_| KeyError::Corrupt {
                kid: row.kid.clone(),
                message: "the sealed key is not base64".into(),
            })?;
        if raw.len() < 12 {
            return Err(wrong());
        }
        let (nonce, ct) = raw.split_at(12);
        let secret = self
            .cipher()
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: row.kid.as_bytes(),
                },
            )
            .map_err(|_| wrong())?;
        secret.try_into().map_err(|_| KeyError::Corrupt {
            kid: row.kid.clone(),
            message: "the sealed key is not 32 bytes".into(),
        })
    }
}

/// One published verification key (`/.well-known/efine-keys.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedKey {
    /// 8 hex digits: the first 4 bytes of SHA-256 of the public key.
    pub kid: String,
    /// Always `Ed25519`.
    pub alg: String,
    /// The 32-byte public key, base64url without padding.
    pub public_key: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Whether this key signs new tokens (the others still verify).
    pub active: bool,
    /// An officer's device key (`TRF-PSH-007`): it signs the challans that device issues
    /// offline. Absent for the server's keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// The device's officer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub officer: Option<String>,
    /// When the device was enrolled.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub valid_from: Option<OffsetDateTime>,
    /// When the device was revoked: tokens it signed for a later time are refused.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub revoked_at: Option<OffsetDateTime>,
}

impl PublishedKey {
    /// The published entry of an officer's device key.
    pub fn of_device(d: &crate::ops::devices::Device) -> PublishedKey {
        PublishedKey {
            kid: d.kid.clone(),
            alg: "Ed25519".into(),
            public_key: d.public_key.clone(),
            created_at: d.valid_from,
            active: false,
            device: Some(d.id.clone()),
            officer: Some(d.officer.clone()),
            valid_from: Some(d.valid_from),
            revoked_at: d.revoked_at,
        }
    }
}

/// The public half of a key set: what verifiers need, and nothing secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedKeys {
    pub keys: Vec<PublishedKey>,
}

impl PublishedKeys {
    /// A key ring from a published set (e.g. a downloaded `efine-keys.json`). Each key's id is
    /// recomputed from the key and must match the one published.
    pub fn ring(&self) -> Result<KeyRing, String> {
        let mut ring = KeyRing::new();
        for k in &self.keys {
            if k.alg != "Ed25519" {
                return Err(format!("key {}: algorithm {} is not Ed25519", k.kid, k.alg));
            }
            let bytes: [u8; 32] = URL_SAFE_NO_PAD
                .decode(&k.public_key)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| format!("key {}: public_key is not 32 bytes of base64url", k.kid))?;
            let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                .map_err(|_| format!("key {}: not an Ed25519 public key", k.kid))?;
            let kid = match k.revoked_at {
                Some(at) => ring.add_revoked(key, at),
                None => ring.add(key),
            };
            if kid.to_string() != k.kid {
                return Err(format!("key {}: its id should be {kid}", k.kid));
            }
        }
        Ok(ring)
    }
}

/// Loaded keys: the active signer and every key that verifies.
#[derive(Debug)]
pub struct KeySet {
    pub signer: TokenSigner,
    pub ring: KeyRing,
    pub published: PublishedKeys,
    /// The number of the newest key (`ops::signing_keys::version`) when this set was loaded.
    pub version: i64,
}

/// The published keys of the rows, oldest first; every id checked against its public key.
pub fn published(rows: &[KeyRow]) -> Result<PublishedKeys, KeyError> {
    let keys = rows
        .iter()
        .enumerate()
        .map(|(i, r)| PublishedKey {
            kid: r.kid.clone(),
            alg: "Ed25519".into(),
            public_key: r.public_key.clone(),
            created_at: r.created_at,
            active: i + 1 == rows.len(),
            device: None,
            officer: None,
            valid_from: None,
            revoked_at: None,
        })
        .collect();
    let set = PublishedKeys { keys };
    set.ring().map_err(|message| KeyError::Corrupt {
        kid: rows.last().map(|r| r.kid.clone()).unwrap_or_default(),
        message,
    })?;
    Ok(set)
}

/// The verifying keys in the database (no key-encryption key needed): what `efine audit verify
/// --against` checks published heads with.
pub async fn ring(store: &Store) -> Result<KeyRing, KeyError> {
    let rows = store.read(signing_keys::list).await?;
    published(&rows)?
        .ring()
        .map_err(|message| KeyError::Corrupt {
            kid: String::new(),
            message,
        })
}

fn key_set(rows: &[KeyRow], kek: &Kek) -> Result<KeySet, KeyError> {
    let published = published(rows)?;
    let ring = published.ring().map_err(|message| KeyError::Corrupt {
        kid: String::new(),
        message,
    })?;
    let last = rows.last().ok_or_else(|| KeyError::Corrupt {
        kid: String::new(),
        message: "there is no signing key".into(),
    })?;
    // Only the signing key is opened; the older ones verify with their public keys.
    let signer = TokenSigner::from_secret(&kek.open(last)?);
    if signer.key_id().to_string() != last.kid {
        return Err(KeyError::Corrupt {
            kid: last.kid.clone(),
            message: format!("the sealed secret belongs to key {}", signer.key_id()),
        });
    }
    Ok(KeySet {
        signer,
        ring,
        published,
        version: last.n,
    })
}

fn new_key(kek: &Kek, secret: [u8; 32], created_at: OffsetDateTime) -> NewKey {
    let s = TokenSigner::from_secret(&secret);
    let kid = s.key_id().to_string();
    NewKey {
        sealed: kek.seal(&kid, &secret),
        public_key: URL_SAFE_NO_PAD.encode(s.verifying_key().as_bytes()),
        kid,
        created_at,
        kek_id: kek.id.clone(),
    }
}

fn fresh_secret() -> [u8; 32] {
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    secret
}

/// The signing keys of a running server, reloaded when another process adds one.
pub struct Keys {
    store: Store,
    kek: Kek,
    current: RwLock<Arc<KeySet>>,
    /// Serialises reloads, so a burst of unknown key ids reads the table once.
    reloading: tokio::sync::Mutex<()>,
    /// When the database was last asked for the key version.
    checked: std::sync::Mutex<std::time::Instant>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keys({})", self.current().signer.key_id())
    }
}

impl Keys {
    /// Loads the keys from the database. A database without keys gets the keys of an older
    /// release's key file in `legacy_dir` (if there is one), else a fresh key; several nodes
    /// starting at once add them once.
    pub async fn open(
        store: &Store,
        kek: Kek,
        legacy_dir: Option<&Path>,
    ) -> Result<Keys, KeyError> {
        let mut rows = store.read(signing_keys::list).await?;
        if rows.is_empty() {
            let now = store.now();
            let (new, from) = match legacy_dir.map(|d| d.join(FILE_NAME)) {
                Some(path) => match read(&path)? {
                    Some(file) => (legacy_keys(&path, &file, &kek)?, Some(path)),
                    None => (vec![new_key(&kek, fresh_secret(), now)], None),
                },
                None => (vec![new_key(&kek, fresh_secret(), now)], None),
            };
            let count = new.len();
            let added = store
                .write(move |tx| signing_keys::add_if_none(tx, &new))
                .await?;
            if added {
                match from {
                    Some(path) => tracing::info!(
                        path = %path.display(),
                        keys = count,
                        "imported the signing keys of the key file into the database, sealed; \
                         the file is no longer read and may be removed once backed up"
                    ),
                    None => tracing::info!("created a signing key in the database"),
                }
            }
            rows = store.read(signing_keys::list).await?;
        }
        let set = key_set(&rows, &kek)?;
        Ok(Keys {
            store: store.clone(),
            kek,
            current: RwLock::new(Arc::new(set)),
            reloading: tokio::sync::Mutex::new(()),
            checked: std::sync::Mutex::new(std::time::Instant::now()),
        })
    }

    /// The keys as last loaded.
    pub fn current(&self) -> Arc<KeySet> {
        self.current.read().expect("not poisoned").clone()
    }

    /// Reloads the keys if another process has added one; returns whether they changed.
    pub async fn refresh(&self) -> Result<bool, KeyError> {
        let _one = self.reloading.lock().await;
        *self.checked.lock().expect("not poisoned") = std::time::Instant::now();
        let version = self.store.read(signing_keys::version).await?;
        if version == self.current().version {
            return Ok(false);
        }
        let rows = self.store.read(signing_keys::list).await?;
        let set = key_set(&rows, &self.kek)?;
        tracing::info!(key = %set.signer.key_id(), "signing keys reloaded");
        *self.current.write().expect("not poisoned") = Arc::new(set);
        Ok(true)
    }

    /// `refresh` for a token that names an unknown key, at most once a second: forged tokens
    /// with made-up key ids cost one small read a second, not one per request.
    pub async fn refresh_on_miss(&self) -> Result<bool, KeyError> {
        let last = *self.checked.lock().expect("not poisoned");
        if last.elapsed() < std::time::Duration::from_secs(1) {
            return Ok(false);
        }
        self.refresh().await
    }

    /// Adds a new signing key (the old ones keep verifying) and loads it here; returns its id.
    /// Other processes pick it up at their next refresh.
    pub async fn rotate(&self) -> Result<KeyId, KeyError> {
        let kid = rotate(&self.store, &self.kek).await?;
        self.refresh().await?;
        Ok(kid)
    }
}

/// Adds a new signing key to the database, sealed under `kek`; returns its id. The key-encryption
/// key must open the current keys, so a rotation with a wrong one cannot split the key set.
pub async fn rotate(store: &Store, kek: &Kek) -> Result<KeyId, KeyError> {
    let rows = store.read(signing_keys::list).await?;
    if let Some(last) = rows.last() {
        kek.open(last)?;
    }
    let key = new_key(kek, fresh_secret(), store.now());
    let kid = KeyId::parse(&key.kid).map_err(|e| KeyError::Corrupt {
        kid: key.kid.clone(),
        message: e.to_string(),
    })?;
    store.write(move |tx| signing_keys::add(tx, &key)).await?;
    Ok(kid)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredKey {
    kid: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    /// The 32 secret bytes, hex.
    secret: String,
}

/// The key file of older releases.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeyFile {
    keys: Vec<StoredKey>,
}

/// An older release's key file's keys, sealed for the database, oldest first.
fn legacy_keys(path: &Path, file: &KeyFile, kek: &Kek) -> Result<Vec<NewKey>, KeyError> {
    let invalid = |message: String| KeyError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    if file.keys.is_empty() {
        return Err(invalid("it holds no keys".into()));
    }
    file.keys
        .iter()
        .map(|k| {
            let secret: [u8; 32] = hex::decode(&k.secret)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| invalid(format!("key {}: secret is not 64 hex digits", k.kid)))?;
            let key = new_key(kek, secret, k.created_at);
            if key.kid != k.kid {
                return Err(invalid(format!(
                    "key {}: the secret belongs to key {}",
                    k.kid, key.kid
                )));
            }
            Ok(key)
        })
        .collect()
}

#[cfg(unix)]
fn check_mode(path: &Path, f: &std::fs::File) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = f.metadata().map_err(io(path))?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::Permissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_mode(_: &Path, _: &std::fs::File) -> Result<(), KeyError> {
    Ok(())
}

fn read(path: &Path) -> Result<Option<KeyFile>, KeyError> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(path)(e)),
    };
    check_mode(path, &f)?;
    let file: KeyFile =
        serde_json::from_reader(std::io::BufReader::new(f)).map_err(|e| KeyError::Invalid {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    Ok(Some(file))
}

/// Test support: a legacy key file as older releases wrote it, with one fresh key; returns the
/// key's signer (to make tokens the import must keep verifying).
#[doc(hidden)]
pub fn write_legacy_file(dir: &Path, created_at: OffsetDateTime) -> Result<TokenSigner, KeyError> {
    let secret = fresh_secret();
    let s = TokenSigner::from_secret(&secret);
    let file = KeyFile {
        keys: vec![StoredKey {
            kid: s.key_id().to_string(),
            created_at,
            secret: hex::encode(secret),
        }],
    };
    let path = dir.join(FILE_NAME);
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io(dir))?;
    tmp.write_all(
        serde_json::to_string_pretty(&file)
            .expect("serialisable")
            .as_bytes(),
    )
    .map_err(io(dir))?;
    tmp.persist(&path).map_err(|e| io(&path)(e.error))?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Location;
    use efine_core::qr::TokenPayload;

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap()
    }

    fn payload() -> TokenPayload {
        TokenPayload {
            kind: efine_core::qr::TokenKind::Challan,
            number: "TRF-PSH-2026-000001".into(),
            amount: efine_core::Money::from_rupees(500).unwrap(),
            department: efine_core::DepartmentCode::parse("traffic-police").unwrap(),
            district: efine_core::DistrictCode::parse("peshawar").unwrap(),
            at: now(),
        }
    }

    async fn store(dir: &Path) -> Store {
        Store::open(Location::Sqlite(dir.join("efine.db")))
            .await
            .unwrap()
    }

    #[test]
    fn a_kek_parses_from_hex_or_base64_and_never_prints() {
        let hex_text = "00".repeat(31) + "01";
        let a = Kek::parse(&format!("{hex_text}\n")).unwrap();
        let mut bytes = [0u8; 32];
        bytes[31] = 1;
        let b = Kek::parse(&STANDARD.encode(bytes)).unwrap();
        assert_eq!(a.id(), b.id());
        assert!(matches!(Kek::parse("0011"), Err(KeyError::BadKek)));
        assert!(!format!("{a:?}").contains(&hex_text));
    }

    #[tokio::test]
    async fn keys_are_sealed_and_open_only_with_their_kek() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path()).await;
        let kek = Kek::generate();
        let keys = Keys::open(&store, kek.clone(), None).await.unwrap();
        let set = keys.current();
        let rows = store.read(signing_keys::list).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].kid, set.signer.key_id().to_string());
        assert_eq!(rows[0].kek_id, kek.id());
        // The column holds neither the secret nor anything that opens without the kek.
        let raw = STANDARD.decode(&rows[0].sealed).unwrap();
        assert_eq!(raw.len(), 12 + 32 + 16);
        let secret = kek.open(&rows[0]).unwrap();
        assert!(!raw.windows(32).any(|w| w == secret));
        assert!(!rows[0].sealed.contains(&hex::encode(secret)));
        // Another kek is refused with a message that names both ids and no secret.
        let other = Kek::generate();
        let e = Keys::open(&store, other.clone(), None).await.unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, KeyError::WrongKek { .. }), "{msg}");
        assert!(msg.contains(other.id()) && msg.contains(kek.id()), "{msg}");
        // A sealed key moved to another row (another key id) does not open.
        let mut moved = rows[0].clone();
        moved.kid = "00000000".into();
        assert!(kek.open(&moved).is_err());
    }

    #[tokio::test]
    async fn a_legacy_key_file_is_imported_and_its_tokens_still_verify() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path()).await;
        let old = write_legacy_file(dir.path(), now()).unwrap();
        let token = old.sign(&payload()).unwrap();
        let keys = Keys::open(&store, Kek::generate(), Some(dir.path()))
            .await
            .unwrap();
        assert_eq!(keys.current().signer.key_id(), old.key_id());
        assert_eq!(keys.current().ring.verify(&token).unwrap().0, old.key_id());
        // Imported once: a second start (the file still there) adds nothing.
        let again = Keys::open(&store, keys.kek.clone(), Some(dir.path()))
            .await
            .unwrap();
        assert_eq!(again.current().published.keys.len(), 1);
    }

    #[tokio::test]
    async fn a_rotation_by_another_process_is_picked_up_and_old_tokens_verify() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path()).await;
        let kek = Kek::generate();
        let a = Keys::open(&store, kek.clone(), None).await.unwrap();
        let first = a.current().signer.key_id();
        let old_token = a.current().signer.sign(&payload()).unwrap();
        assert!(!a.refresh().await.unwrap());
        let new_kid = rotate(&store, &kek).await.unwrap();
        assert_ne!(new_kid, first);
        assert!(a.refresh().await.unwrap());
        let set = a.current();
        assert_eq!(set.signer.key_id(), new_kid);
        assert_eq!(set.ring.verify(&old_token).unwrap().0, first);
        let ring = set.published.ring().unwrap();
        assert_eq!(ring.len(), 2);
        assert_eq!(set.published.keys.iter().filter(|k| k.active).count(), 1);
        assert_eq!(ring_of(&store).await.len(), 2);
        // A rotation with another kek is refused before anything is written.
        assert!(rotate(&store, &Kek::generate()).await.is_err());
        assert_eq!(store.read(signing_keys::version).await.unwrap(), 2);
    }

    async fn ring_of(store: &Store) -> KeyRing {
        ring(store).await.unwrap()
    }
}
