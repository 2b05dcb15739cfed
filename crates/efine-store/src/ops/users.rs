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

/// What a login checks: an active user's principal, password hash and TOTP secret (`None`
/// before enrolment).
#[derive(Debug, Clone)]
pub struct LoginAccount {
    pub principal: Principal,
    pub password_hash: String,
    pub totp_secret: Option<String>,
}

/// An active user's principal and password hash, for login.
pub fn for_login(tx: &mut dyn Tx, username: &str) -> Result<Option<LoginAccount>, StoreError> {
    let u = username.trim().to_ascii_lowercase();
    tx.query_opt(
        "SELECT id, username, role, department, district, password_hash, totp_secret
         FROM users WHERE username = $1 AND active = 1",
        params![u.as_str()],
    )?
    .map(|r| {
        Ok(LoginAccount {
            principal: principal(&r, 0)?,
            password_hash: r.text(5)?,
            totp_secret: r.opt_text(6)?,
        })
    })
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
         WHERE t.token_hash = $1 AND t.expires_at > $2 AND u.active = 1
           AND t.created_at >= u.sessions_after",
        params![token_hash, to_micros(now)],
    )?
    .map(|r| principal(&r, 0))
    .transpose()
}

/// Ends the bearer token whose hash is `token_hash` (its expiry becomes now); an event records
/// it. The token's own holder calls it (`DELETE /api/v1/auth/token`).
pub fn revoke_token(
    tx: &mut dyn Tx,
    user: &Principal,
    token_hash: &str,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    let n = tx.exec(
        "UPDATE api_tokens SET expires_at = $1 WHERE token_hash = $2 AND user_id = $3 AND expires_at > $1",
        params![to_micros(at), token_hash, user.user_id],
    )?;
    if n > 0 {
        events::append(
            tx,
            at,
            "auth.token_revoked",
            &format!("user:{}", user.username),
            &user.username,
            &serde_json::json!({}),
        )?;
    }
    Ok(())
}

/// An account as the admin's list and `efine user list` show it.
#[derive(Debug, Clone)]
pub struct Account {
    pub principal: Principal,
    pub active: bool,
    /// Enrolled in the second factor.
    pub enrolled: bool,
    /// A role grant waits for a second admin.
    pub pending_grant: bool,
}

/// Every account, by username.
pub fn list(tx: &mut dyn Tx) -> Result<Vec<Account>, StoreError> {
    tx.query(
        "SELECT u.id, u.username, u.role, u.department, u.district, u.active,
                CASE WHEN u.totp_secret IS NULL THEN 0 ELSE 1 END,
                (SELECT COUNT(*) FROM role_grants g WHERE g.user_id = u.id AND g.status = 'pending')
         FROM users u ORDER BY u.username",
        params![],
    )?
    .iter()
    .map(|r| {
        Ok(Account {
            principal: principal(r, 0)?,
            active: r.i64(5)? == 1,
            enrolled: r.i64(6)? == 1,
            pending_grant: r.i64(7)? > 0,
        })
    })
    .collect()
}

fn account(tx: &mut dyn Tx, username: &str) -> Result<Account, StoreError> {
    let u = check_username(username)?;
    list_one(tx, &u)?.ok_or_else(|| StoreError::NotFound(format!("user {u}")))
}

fn list_one(tx: &mut dyn Tx, username: &str) -> Result<Option<Account>, StoreError> {
    Ok(list(tx)?
        .into_iter()
        .find(|a| a.principal.username == username))
}

/// Disables an account: every bearer token and console session it holds ends at once (they
/// stop being accepted, and stay ended if the account is enabled again).
pub fn disable(
    tx: &mut dyn Tx,
    username: &str,
    actor: &str,
    at: OffsetDateTime,
) -> Result<Principal, StoreError> {
    let a = account(tx, username)?;
    if a.principal.username == actor {
        return Err(StoreError::refused(
            "own_account",
            "an admin cannot disable their own account",
        ));
    }
    tx.exec(
        "UPDATE users SET active = 0, sessions_after = $1 WHERE id = $2",
        params![to_micros(at) + 1, a.principal.user_id],
    )?;
    events::append(
        tx,
        at,
        "user.disabled",
        &format!("user:{}", a.principal.username),
        actor,
        &serde_json::json!({}),
    )?;
    Ok(a.principal)
}

/// Enables a disabled account. Its old tokens and sessions stay ended; the enabler becomes one
/// of the account's sponsors (it can never decide their requests).
pub fn enable(
    tx: &mut dyn Tx,
    username: &str,
    actor: &str,
    at: OffsetDateTime,
) -> Result<Principal, StoreError> {
    let a = account(tx, username)?;
    if a.pending_grant {
        return Err(StoreError::conflict(
            "grant_pending",
            "the account's role waits for a second admin's approval",
        ));
    }
    tx.exec(
        "UPDATE users SET active = 1 WHERE id = $1",
        params![a.principal.user_id],
    )?;
    events::append(
        tx,
        at,
        "user.enabled",
        &format!("user:{}", a.principal.username),
        actor,
        &serde_json::json!({}),
    )?;
    Ok(a.principal)
}

/// Sets a new password (hashed by [`hash_checked_password`]) and ends every token and session.
/// The second factor stays as it is, so a reset alone does not hand over an account that has
/// one; the resetter becomes a sponsor.
pub fn reset_password(
    tx: &mut dyn Tx,
    username: &str,
    password_hash: &str,
    actor: &str,
    at: OffsetDateTime,
) -> Result<Principal, StoreError> {
    let a = account(tx, username)?;
    tx.exec(
        "UPDATE users SET password_hash = $1, sessions_after = $2 WHERE id = $3",
        params![password_hash, to_micros(at) + 1, a.principal.user_id],
    )?;
    events::append(
        tx,
        at,
        "user.password_reset",
        &format!("user:{}", a.principal.username),
        actor,
        &serde_json::json!({}),
    )?;
    Ok(a.principal)
}

/// Whoever created, enabled, reset or granted a role to `username`'s account, from the event
/// log: they can never decide that account's four-eyes requests, nor it theirs.
pub fn sponsors(tx: &mut dyn Tx, username: &str) -> Result<Vec<String>, StoreError> {
    let rows = tx.query(
        "SELECT DISTINCT actor FROM events WHERE subject = $1
           AND kind IN ('user.created', 'user.enabled', 'user.password_reset',
                        'user.grant_requested', 'user.grant_approved')",
        params![format!("user:{username}").as_str()],
    )?;
    rows.iter().map(|r| r.text(0)).collect()
}

/// Stores the second factor's secret and the hashes of fresh recovery codes (replacing any
/// earlier ones).
pub fn enrol_totp(
    tx: &mut dyn Tx,
    user: &Principal,
    secret_base32: &str,
    recovery_hashes: &[String],
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    enrol_totp_as(tx, user, secret_base32, recovery_hashes, &user.username, at)
}

/// [`enrol_totp`] by an operator from the shell (`efine user enrol-totp`): the account is found
/// by username, and the event names `actor` rather than the account itself.
pub fn enrol_totp_for(
    tx: &mut dyn Tx,
    username: &str,
    secret_base32: &str,
    recovery_hashes: &[String],
    actor: &str,
    at: OffsetDateTime,
) -> Result<Principal, StoreError> {
    let a = account(tx, username)?;
    enrol_totp_as(tx, &a.principal, secret_base32, recovery_hashes, actor, at)?;
    Ok(a.principal)
}

fn enrol_totp_as(
    tx: &mut dyn Tx,
    user: &Principal,
    secret_base32: &str,
    recovery_hashes: &[String],
    actor: &str,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    tx.exec(
        "UPDATE users SET totp_secret = $1, totp_last_step = NULL WHERE id = $2",
        params![secret_base32, user.user_id],
    )?;
    tx.exec(
        "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL",
        params![to_micros(at), user.user_id],
    )?;
    for h in recovery_hashes {
        tx.exec(
            "INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)",
            params![user.user_id, h.as_str(), to_micros(at)],
        )?;
    }
    events::append(
        tx,
        at,
        "user.totp_enrolled",
        &format!("user:{}", user.username),
        actor,
        &serde_json::json!({ "recovery_codes": recovery_hashes.len() }),
    )?;
    Ok(())
}

/// Records that the TOTP code of `step` (a 30-second step since the epoch) was accepted for
/// `user`: true if `step` is newer than every step accepted before, false if a code of this step
/// or a later one was already used (the code is then refused, ASVS 6.5.1). One conditional
/// update, so two logins racing with the same code cannot both win, on any node.
pub fn accept_totp_step(tx: &mut dyn Tx, user: &Principal, step: i64) -> Result<bool, StoreError> {
    let n = tx.exec(
        "UPDATE users SET totp_last_step = $1
         WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
        params![step, user.user_id],
    )?;
    Ok(n > 0)
}

/// Spends a recovery code: true if it was the user's and unused (it is now used).
pub fn use_recovery_code(
    tx: &mut dyn Tx,
    user: &Principal,
    code_hash: &str,
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    let n = tx.exec(
        "UPDATE recovery_codes SET used_at = $1
         WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
        params![to_micros(at), user.user_id, code_hash],
    )?;
    if n > 0 {
        events::append(
            tx,
            at,
            "user.recovery_code_used",
            &format!("user:{}", user.username),
            &user.username,
            &serde_json::json!({}),
        )?;
    }
    Ok(n > 0)
}

/// Adds an account from the admin console. A role that approves others' requests waits for a
/// second admin: the account is created inactive with a pending grant (`user.grant_requested`),
/// and [`decide_grant`] by another admin activates it.
pub fn add_by_admin(
    tx: &mut dyn Tx,
    user: &NewUser,
    admin: &Principal,
    at: OffsetDateTime,
) -> Result<Principal, StoreError> {
    let p = add(tx, user, &admin.username, at)?;
    if user.role.approves() {
        tx.exec(
            "UPDATE users SET active = 0 WHERE id = $1",
            params![p.user_id],
        )?;
        tx.exec(
            "INSERT INTO role_grants (user_id, role, requested_by, requested_at, status)
             VALUES ($1, $2, $3, $4, 'pending')",
            params![
                p.user_id,
                user.role.as_str(),
                admin.username.as_str(),
                to_micros(at)
            ],
        )?;
        events::append(
            tx,
            at,
            "user.grant_requested",
            &format!("user:{}", p.username),
            &admin.username,
            &serde_json::json!({ "role": user.role.as_str() }),
        )?;
    }
    Ok(p)
}

/// A role grant waiting for a second admin.
#[derive(Debug, Clone)]
pub struct Grant {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub requested_by: String,
}

/// Grants waiting for a decision, oldest first.
pub fn pending_grants(tx: &mut dyn Tx) -> Result<Vec<Grant>, StoreError> {
    tx.query(
        "SELECT g.id, u.username, g.role, g.requested_by FROM role_grants g
         JOIN users u ON u.id = g.user_id WHERE g.status = 'pending' ORDER BY g.id",
        params![],
    )?
    .iter()
    .map(|r| {
        let role = r.text(2)?;
        Ok(Grant {
            id: r.i64(0)?,
            username: r.text(1)?,
            role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
            requested_by: r.text(3)?,
        })
    })
    .collect()
}

/// A second admin approves (the account becomes active) or rejects a pending grant. The
/// approver is neither the requester nor an account the requester made
/// (`efine_core::auth::four_eyes`).
pub fn decide_grant(
    tx: &mut dyn Tx,
    id: i64,
    approve: bool,
    admin: &Principal,
    at: OffsetDateTime,
) -> Result<Grant, StoreError> {
    use efine_core::auth::{Action, Scope};
    admin
        .may(Action::ManageUsers, &Scope::ANY)
        .map_err(|e| StoreError::Forbidden(e.to_string()))?;
    let g = pending_grants(tx)?
        .into_iter()
        .find(|g| g.id == id)
        .ok_or_else(|| StoreError::NotFound(format!("pending grant {id}")))?;
    let sponsors = sponsors(tx, &admin.username)?;
    if let Err(e) = admin.may_decide(&sponsors, &g.requested_by) {
        return Err(StoreError::refused("four_eyes", e.to_string()));
    }
    if admin.username == g.username {
        return Err(StoreError::refused(
            "four_eyes",
            "nobody approves their own role",
        ));
    }
    let status = if approve { "approved" } else { "rejected" };
    tx.exec(
        "UPDATE role_grants SET status = $1, decided_by = $2, decided_at = $3
         WHERE id = $4 AND status = 'pending'",
        params![status, admin.username.as_str(), to_micros(at), id],
    )?;
    if approve {
        tx.exec(
            "UPDATE users SET active = 1 WHERE username = $1",
            params![g.username.as_str()],
        )?;
    }
    events::append(
        tx,
        at,
        if approve {
            "user.grant_approved"
        } else {
            "user.grant_rejected"
        },
        &format!("user:{}", g.username),
        &admin.username,
        &serde_json::json!({ "role": g.role.as_str(), "requested_by": g.requested_by }),
    )?;
    Ok(g)
}

/// Checks `password` against the one password policy (`efine_core::auth::password`) for
/// `username`, then hashes it. Every way of setting a password goes through here. Slow on
/// purpose: call from a blocking thread.
pub fn hash_checked_password(username: &str, password: &str) -> Result<String, StoreError> {
    efine_core::auth::password::check(username, password)
        .map_err(|e| StoreError::invalid("password", e.to_string()))?;
    hash_password(password)
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
