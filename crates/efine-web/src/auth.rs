//! Bearer-token authentication for staff and officers' devices.

use crate::error::ApiError;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use efine_core::auth::Principal;
use efine_store::ops::users;

/// The authenticated caller. A handler that takes `Staff` is closed to anyone without a valid,
/// unexpired token.
pub struct Staff(pub Principal);

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <token>"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 128)
            .ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <token>"))?;
        let hash = users::token_hash(token);
        let now = state.store.now();
        let principal = state
            .store
            .read(move |tx| users::by_token(tx, &hash, now))
            .await?
            .ok_or_else(|| ApiError::unauthorized("the token is unknown or has expired"))?;
        Ok(Staff(principal))
    }
}

/// Why a login was refused.
#[derive(Debug)]
pub enum LoginRefused {
    /// Wrong username, password or second-factor code (one answer for all three, so a guess
    /// learns nothing about which part was wrong).
    Wrong,
    /// Too many failures from this account or address: try again at this instant.
    Blocked(time::OffsetDateTime),
    /// The role needs a second factor and the account has none yet; enrolment is in the
    /// console (the console lets such a login in to its enrolment page only).
    NotEnrolled,
    /// The database failed.
    Store(efine_store::StoreError),
}

impl From<efine_store::StoreError> for LoginRefused {
    fn from(e: efine_store::StoreError) -> Self {
        LoginRefused::Store(e)
    }
}

impl LoginRefused {
    /// The JSON answer: 401, 429 with `Retry-After`, 403 or the store's status.
    pub fn into_api(self, now: time::OffsetDateTime) -> axum::response::Response {
        use axum::response::IntoResponse;
        match self {
            LoginRefused::Wrong => ApiError::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "unauthorized",
                "wrong username, password or code",
            )
            .into_response(),
            LoginRefused::Blocked(until) => {
                let secs = (until - now).whole_seconds().max(1);
                let mut r = ApiError::new(
                    axum::http::StatusCode::TOO_MANY_REQUESTS,
                    "login_throttled",
                    format!("too many failed logins; try again in {secs} s"),
                )
                .into_response();
                if let Ok(v) = axum::http::HeaderValue::from_str(&secs.to_string()) {
                    r.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
                }
                r
            }
            LoginRefused::NotEnrolled => ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "second_factor_not_enrolled",
                "this role signs in with an authenticator code; sign in to the staff console \
                 once to set it up, or have an operator run `efine user enrol-totp`",
            )
            .into_response(),
            LoginRefused::Store(e) => ApiError::from(e).into_response(),
        }
    }
}

/// A login that passed: who, and whether the account still has to enrol its second factor.
pub struct LoggedIn {
    pub principal: Principal,
    pub must_enrol: bool,
}

/// The one login check of the token API and the console: throttling per account and per client
/// address (counted before the password is checked, given back when it was right; failures and
/// locks are events), the password (Argon2id; a dummy hash for unknown names), and for roles
/// that need it the second factor (`code`: a TOTP code or a one-time recovery code). With
/// `allow_unenrolled`, an account that needs a second factor but has none passes with
/// `must_enrol` (the console then shows only the enrolment page).
pub async fn login(
    state: &AppState,
    peer: std::net::IpAddr,
    username: &str,
    password: &str,
    code: Option<&str>,
    allow_unenrolled: bool,
) -> Result<LoggedIn, LoginRefused> {
    use efine_core::auth::totp;
    use efine_store::ops::throttle::{self, Key};
    let policy = state.config.login_policy;
    let valid_name = users::check_username(username).ok();
    let address = vec![Key::new(format!("address:{peer}"), policy.scaled(3))];
    let account_keys: Vec<Key> = valid_name
        .iter()
        .map(|u| Key::new(format!("account:{u}"), policy))
        .collect();
    let all: Vec<Key> = address.iter().chain(&account_keys).cloned().collect();
    let subject = match &valid_name {
        Some(u) => format!("user:{u}"),
        None => "login:invalid-username".to_string(),
    };
    let now = state.store.now();
    let acc = account_keys.clone();
    let reserved = match state
        .store
        .write(move |tx| throttle::reserve(tx, &all, &acc, now))
        .await?
    {
        Ok(r) => r,
        Err(until) => {
            tracing::warn!(%peer, "login refused: throttled");
            return Err(LoginRefused::Blocked(until));
        }
    };
    let fail = |reason: &'static str| {
        let store = state.store.clone();
        let reserved = reserved.clone();
        let subject = subject.clone();
        let address = address.clone();
        async move {
            store
                .write(move |tx| throttle::failed(tx, &subject, &reserved, &address, reason, now))
                .await?;
            Err::<LoggedIn, LoginRefused>(LoginRefused::Wrong)
        }
    };
    if username.len() > 64 || password.len() > 1024 || code.is_some_and(|c| c.len() > 64) {
        return fail("too_long").await;
    }
    let found = match &valid_name {
        Some(u) => {
            let u = u.clone();
            state.store.read(move |tx| users::for_login(tx, &u)).await?
        }
        None => None,
    };
    let hash = found
        .as_ref()
        .map(|a| a.password_hash.clone())
        .unwrap_or_else(|| state.dummy_hash.clone());
    let pw = password.to_string();
    let ok = tokio::task::spawn_blocking(move || users::verify_password(&pw, &hash))
        .await
        .unwrap_or(false);
    let account = match (ok, found) {
        (true, Some(a)) => a,
        _ => return fail("password").await,
    };
    let mut must_enrol = false;
    if account.principal.role.needs_second_factor() {
        match (
            &account.totp_secret,
            code.map(str::trim).filter(|c| !c.is_empty()),
        ) {
            (None, _) if allow_unenrolled => must_enrol = true,
            (None, _) => {
                give_back(state, &account_keys).await?;
                return Err(LoginRefused::NotEnrolled);
            }
            (Some(_), None) => return fail("second_factor_missing").await,
            (Some(secret), Some(c)) => {
                let good = if totp::looks_like_recovery_code(c) {
                    let h = totp::recovery_code_hash(c);
                    let p = account.principal.clone();
                    state
                        .store
                        .write(move |tx| users::use_recovery_code(tx, &p, &h, now))
                        .await?
                } else {
                    match totp::TotpSecret::parse_base32(secret)
                        .and_then(|s| s.verify(c, now.unix_timestamp()))
                    {
                        None => false,
                        // A code counts once: its step must be newer than the last accepted.
                        Some(step) => {
                            let p = account.principal.clone();
                            let fresh = state
                                .store
                                .write(move |tx| users::accept_totp_step(tx, &p, step))
                                .await?;
                            if !fresh {
                                return fail("second_factor_reused").await;
                            }
                            true
                        }
                    }
                };
                if !good {
                    return fail("second_factor").await;
                }
            }
        }
    }
    give_back(state, &account_keys).await?;
    Ok(LoggedIn {
        principal: account.principal,
        must_enrol,
    })
}

/// A right password (and code): the account's count starts again.
async fn give_back(
    state: &AppState,
    account: &[efine_store::ops::throttle::Key],
) -> Result<(), efine_store::StoreError> {
    let reset = account.to_vec();
    state
        .store
        .write(move |tx| efine_store::ops::throttle::succeeded(tx, &reset))
        .await
}
