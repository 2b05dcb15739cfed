//! Staff accounts and bearer tokens. Passwords are hashed by the caller (Argon2id is slow on
//! purpose and must not run on the writer thread); tokens are stored as their SHA-256.

use crate::ops::events;
use crate::sql::{Row, Tx};
use crate::{params, StoreError};
use efine_core::auth::{Principal, Role};
use efine_core::clock::to_micros;
use efine_core::{DepartmentCode, DistrictCode};
use time::OffsetDateTime;

pub struct NewUser {
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub department: Option<DepartmentCode>,
    pub district: Option<DistrictCode>,
}

/// Usernames: 3 to 64 of lowercase letters, digits, `.`, `_`, `-`.
pub fn check_username(u: &str) -> Result<String, StoreError> {
    let u = u.trim().to_ascii_lowercase();
    if (3..=64).contains(&u.len())
        && u.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
    {
        Ok(u)
    } else {
        Err(StoreError::invalid(
            "username",
            "3 to 64 lowercase letters, digits, '.', '_' or '-'",
        ))
    }
}

pub fn add(
    tx: &mut dyn Tx,
    user: &NewUser,
    actor: &str,
    at: OffsetDateTime,
) -> Result<Principal, StoreError> {
    let username = check_username(&user.username)?;
    if user.role.needs_department() && user.department.is_none() {
        return Err(StoreError::invalid(
            "department",
            format!("a {} must belong to a department", user.role.as_str()),
        ));
    }
    if user.role.needs_district() && user.district.is_none() {
        return Err(StoreError::invalid(
            "district",
            format!("a {} must belong to a district", user.role.as_str()),
        ));
    }
    if let Some(d) = &user.department {
        if crate::ops::catalogue::department_by_code(tx, d)?.is_none() {
            return Err(StoreError::invalid(
                "department",
                format!("no department {d}"),
            ));
        }
    }
    if let Some(d) = &user.district {
        if crate::ops::catalogue::district_by_code(tx, d)?.is_none() {
            return Err(StoreError::invalid("district", format!("no district {d}")));
        }
    }
    let taken = tx
        .query_opt(
            "SELECT id FROM users WHERE username = $1",
            params![username.as_str()],
        )?
        .is_some();
    if taken {
        return Err(StoreError::conflict(
            "username_taken",
            format!("a user named {username} already exists"),
        ));
    }
    let id = tx
        .query_one(
            "INSERT INTO users (username, password_hash, role, department, district, active, created_at)
             VALUES ($1, $2, $3, $4, $5, 1, $6) RETURNING id",
            params![
                username.as_str(),
                user.password_hash.as_str(),
                user.role.as_str(),
                user.department.as_ref().map(|d| d.as_str()),
                user.district.as_ref().map(|d| d.as_str()),
                to_micros(at)
            ],
        )?
        .i64(0)?;
    events::append(
        tx,
        at,
        "user.created",
        &format!("user:{username}"),
        actor,
        &serde_json::json!({
            "role": user.role.as_str(),
            "department": user.department,
            "district": user.district,
        }),
    )?;
    Ok(Principal {
        user_id: id,
        username,
        role: user.role,
        department: user.department.clone(),
        district: user.district.clone(),
    })
}

pub(crate) fn principal(r: &Row, offset: usize) -> Result<Principal, StoreError> {
    let role = r.text(offset + 2)?;
    Ok(Principal {
        user_id: r.i64(offset)?,
        username: r.text(offset + 1)?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
        department: r
            .opt_text(offset + 3)?
            .map(|d| DepartmentCode::parse(&d))
            .transpose()?,
        district: r
            .opt_text(offset + 4)?
            .map(|d| DistrictCode::parse(&d))
            .transpose()?,
    })
}

/// Whether any active admin account exists: without one nobody can manage staff from the
/// console, so a first start says how to create it.
pub fn has_admin(tx: &mut dyn Tx) -> Result<bool, StoreError> {
    Ok(tx
        .query_opt(
            "SELECT id FROM users WHERE role = 'admin' AND active = 1 LIMIT 1",
            params![],
        )?
        .is_some())
}

/// An active user's principal and password hash, for login.
pub fn for_login(
    tx: &mut dyn Tx,
    username: &str,
) -> Result<Option<(Principal, String)>, StoreError> {
    let u = username.trim().to_ascii_lowercase();
    tx.query_opt(
        "SELECT id, username, role, department, district, password_hash
         FROM users WHERE username = $1 AND active = 1",
        params![u.as_str()],
    )?
    .map(|r| Ok((principal(&r, 0)?, r.text(5)?)))
    .transpose()
}

pub fn create_token(
    tx: &mut dyn Tx,
    user: &Principal,
    token_hash: &str,
    at: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> Result<(), StoreError> {
    tx.exec(
        "INSERT INTO api_tokens (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        params![token_hash, user.user_id, to_micros(at), to_micros(expires_at)],
    )?;
    events::append(
        tx,
        at,
        "auth.token_issued",
        &format!("user:{}", user.username),
        &user.username,
        &serde_json::json!({ "expires_at": to_micros(expires_at) }),
    )?;
    Ok(())
}

/// The principal behind a token that has not expired and whose user is active.
pub fn by_token(
    tx: &mut dyn Tx,
    token_hash: &str,
    now: OffsetDateTime,
) -> Result<Option<Principal>, StoreError> {
    tx.query_opt(
        "SELECT u.id, u.username, u.role, u.department, u.district
         FROM api_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = $1 AND t.expires_at > $2 AND u.active = 1",
        params![token_hash, to_micros(now)],
    )?
    .map(|r| principal(&r, 0))
    .transpose()
}

/// Hashes a password with Argon2id (the crate's default parameters: 19 MiB, 2 passes). Slow on
/// purpose: call from a blocking thread.
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Db(format!("hashing failed: {e}")))
}

/// Checks a password against a stored Argon2 hash, in constant time. Slow on purpose.
pub fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    match PasswordHash::new(hash) {
        Ok(parsed) => argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A new random bearer token and the hash under which it is stored.
pub fn new_token() -> (String, String) {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

pub fn token_hash(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}
