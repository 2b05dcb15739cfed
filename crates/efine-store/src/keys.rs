//! QR signing keys on disk: `<data dir>/signing-keys.json`, readable by the owner only.
//!
//! The file lists every key ever used, oldest first; the last one signs, all of them verify, so
//! rotating never invalidates a printed challan. Keys live in the data directory whichever
//! database backend is in use. Several `efine serve` processes that share a PostgreSQL database
//! must share this file too (same data directory or a copy), or the tokens one signs will not
//! verify on another.
//!
//! The signing and verification themselves are pure and live in `efine_core::qr`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use efine_core::qr::{KeyId, KeyRing, TokenSigner};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

pub const FILE_NAME: &str = "signing-keys.json";

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
        "{path}: readable by others (mode {mode:o}); signing keys must be owner-only: chmod 600 it"
    )]
    Permissions { path: PathBuf, mode: u32 },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredKey {
    kid: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    /// The 32 secret bytes, hex.
    secret: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeyFile {
    keys: Vec<StoredKey>,
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
            let kid = ring
                .add_bytes(&bytes)
                .map_err(|e| format!("key {}: {e}", k.kid))?;
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
}

fn new_key(now: OffsetDateTime) -> StoredKey {
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let kid = TokenSigner::from_secret(&secret).key_id();
    StoredKey {
        kid: kid.to_string(),
        created_at: now,
        secret: hex::encode(secret),
    }
}

fn key_set(path: &Path, file: &KeyFile) -> Result<KeySet, KeyError> {
    let invalid = |message: String| KeyError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    if file.keys.is_empty() {
        return Err(invalid("it holds no keys".into()));
    }
    let mut ring = KeyRing::new();
    let mut published = Vec::new();
    let mut signer = None;
    for (i, k) in file.keys.iter().enumerate() {
        let secret: [u8; 32] = hex::decode(&k.secret)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| invalid(format!("key {}: secret is not 64 hex digits", k.kid)))?;
        let s = TokenSigner::from_secret(&secret);
        if s.key_id().to_string() != k.kid {
            return Err(invalid(format!(
                "key {}: the secret belongs to key {}",
                k.kid,
                s.key_id()
            )));
        }
        ring.add(s.verifying_key());
        let active = i + 1 == file.keys.len();
        published.push(PublishedKey {
            kid: k.kid.clone(),
            alg: "Ed25519".into(),
            public_key: URL_SAFE_NO_PAD.encode(s.verifying_key().as_bytes()),
            created_at: k.created_at,
            active,
        });
        if active {
            signer = Some(s);
        }
    }
    Ok(KeySet {
        signer: signer.expect("non-empty"),
        ring,
        published: PublishedKeys { keys: published },
    })
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

/// Writes `file` to a fresh owner-only temporary file beside `path`; returns its path.
fn write_temp(path: &Path, file: &KeyFile) -> Result<tempfile::TempPath, KeyError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    // tempfile creates with mode 0600.
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io(dir))?;
    let text = serde_json::to_string_pretty(file).expect("serialisable");
    tmp.write_all(text.as_bytes()).map_err(io(dir))?;
    tmp.as_file().sync_all().map_err(io(dir))?;
    Ok(tmp.into_temp_path())
}

fn ensure_dir(dir: &Path) -> Result<(), KeyError> {
    std::fs::create_dir_all(dir).map_err(io(dir))
}

/// Loads the keys in `data_dir`, creating the first key if there is none. Safe when several
/// processes start at once: the file appears whole (hard link of a finished temporary file) and
/// only one creator wins.
pub fn load_or_create(data_dir: &Path, now: OffsetDateTime) -> Result<KeySet, KeyError> {
    let path = data_dir.join(FILE_NAME);
    if let Some(file) = read(&path)? {
        return key_set(&path, &file);
    }
    ensure_dir(data_dir)?;
    let file = KeyFile {
        keys: vec![new_key(now)],
    };
    let tmp = write_temp(&path, &file)?;
    match std::fs::hard_link(&tmp, &path) {
        Ok(()) => {
            tracing::info!(path = %path.display(), "created a QR signing key");
            key_set(&path, &file)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let file = read(&path)?.ok_or_else(|| KeyError::Invalid {
                path: path.clone(),
                message: "vanished while starting".into(),
            })?;
            key_set(&path, &file)
        }
        Err(e) => Err(io(&path)(e)),
    }
}

/// Adds a new signing key; the old ones keep verifying. Returns the new key's id. Running
/// servers pick it up when restarted.
pub fn rotate(data_dir: &Path, now: OffsetDateTime) -> Result<KeyId, KeyError> {
    let path = data_dir.join(FILE_NAME);
    let mut file = match read(&path)? {
        Some(f) => f,
        None => {
            ensure_dir(data_dir)?;
            KeyFile { keys: vec![] }
        }
    };
    let mut key = new_key(now);
    while file.keys.iter().any(|k| k.kid == key.kid) {
        key = new_key(now);
    }
    file.keys.push(key);
    key_set(&path, &file)?;
    let tmp = write_temp(&path, &file)?;
    tmp.persist(&path).map_err(|e| io(&path)(e.error))?;
    Ok(key_set(&path, &file)?.signer.key_id())
}

#[cfg(test)]
mod tests {
    use super::*;
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

    #[test]
    fn created_owner_only_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_create(dir.path(), now()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(FILE_NAME))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let b = load_or_create(dir.path(), now()).unwrap();
        assert_eq!(a.signer.key_id(), b.signer.key_id());
        assert_eq!(a.published, b.published);
    }

    #[test]
    fn rotation_keeps_old_tokens_valid() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path(), now()).unwrap();
        let old_token = first.signer.sign(&payload()).unwrap();
        let new_kid = rotate(dir.path(), now()).unwrap();
        let after = load_or_create(dir.path(), now()).unwrap();
        assert_eq!(after.signer.key_id(), new_kid);
        assert_ne!(new_kid, first.signer.key_id());
        assert_eq!(
            after.ring.verify(&old_token).unwrap().0,
            first.signer.key_id()
        );
        let ring = after.published.ring().unwrap();
        assert_eq!(ring.len(), 2);
        assert!(ring.verify(&old_token).is_ok());
        assert_eq!(after.published.keys.iter().filter(|k| k.active).count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        load_or_create(dir.path(), now()).unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            load_or_create(dir.path(), now()),
            Err(KeyError::Permissions { .. })
        ));
    }

    #[test]
    fn a_published_set_with_a_wrong_id_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut set = load_or_create(dir.path(), now()).unwrap().published;
        set.keys[0].kid = "00000000".into();
        assert!(set.ring().is_err());
    }
}
