//! `efine user add|list|disable|enable|reset-password|enrol-totp`: staff accounts from the
//! operator's shell.
//! Passwords come from standard input (`--password-stdin`) or the environment
//! (`EFINE_USER_PASSWORD`), never from a flag (`ps` shows every process's arguments), and pass
//! the one password policy (`efine_core::auth::password`). The shell is the bootstrap path (the
//! first admin); whoever runs it has the database anyway, so a role given here needs no second
//! admin. Every change is an event under the actor `cli`. `enrol-totp` sets up the second
//! factor (RFC 6238) of an account whose role needs one, so that it can get a bearer token
//! without a console sign-in: the base32 secret comes from standard input only, and is never
//! printed.

use crate::config::{DbFlags, Settings};
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use efine_core::auth::totp::{self, TotpSecret};
use efine_core::auth::Role;
use efine_core::{DepartmentCode, DistrictCode};
use efine_store::ops::users;
use std::io::Read;
use std::process::ExitCode;

/// Where a new password may come from besides standard input.
const PASSWORD_ENV: &str = "EFINE_USER_PASSWORD";

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a member of staff. The password is read from standard input.
    Add {
        #[command(flatten)]
        db: DbFlags,
        #[arg(long)]
        username: String,
        /// officer, supervisor, department_admin, finance, auditor or admin.
        #[arg(long)]
        role: String,
        /// Department code (officer, supervisor, department_admin).
        #[arg(long)]
        department: Option<String>,
        /// District code (officer; optional for others).
        #[arg(long)]
        district: Option<String>,
        /// Read the password from standard input (or set EFINE_USER_PASSWORD; never on the
        /// command line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List every account: role, department, district, state, second factor.
    List {
        #[command(flatten)]
        db: DbFlags,
    },
    /// Disable an account: it can no longer sign in, and every token and session it holds ends.
    Disable {
        #[command(flatten)]
        db: DbFlags,
        username: String,
    },
    /// Enable a disabled account (its old tokens and sessions stay ended).
    Enable {
        #[command(flatten)]
        db: DbFlags,
        username: String,
    },
    /// Set a new password (standard input or EFINE_USER_PASSWORD); every token and session ends.
    ResetPassword {
        #[command(flatten)]
        db: DbFlags,
        username: String,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Enrol the account's second factor: a base32 TOTP secret (RFC 6238, SHA-1, 30 s, 6
    /// digits; 32 characters) read from standard input. Prints fresh recovery codes; earlier
    /// ones end.
    EnrolTotp {
        #[command(flatten)]
        db: DbFlags,
        username: String,
        /// Read the secret from standard input (required: never on the command line).
        #[arg(long)]
        secret_stdin: bool,
    },
}

impl UserCommand {
    pub fn db(&self) -> &DbFlags {
        match self {
            UserCommand::Add { db, .. }
            | UserCommand::List { db }
            | UserCommand::Disable { db, .. }
            | UserCommand::Enable { db, .. }
            | UserCommand::ResetPassword { db, .. }
            | UserCommand::EnrolTotp { db, .. } => db,
        }
    }
}

/// The new password: standard input with `--password-stdin`, else `EFINE_USER_PASSWORD`.
fn read_password(stdin: bool) -> Result<String> {
    if stdin {
        let mut password = String::new();
        std::io::stdin()
            .read_to_string(&mut password)
            .context("reading the password from standard input")?;
        return Ok(password.trim_end_matches(['\r', '\n']).to_string());
    }
    match std::env::var(PASSWORD_ENV) {
        Ok(p) if !p.is_empty() => Ok(p),
        _ => {
            bail!("give the password on standard input with --password-stdin, or in {PASSWORD_ENV}")
        }
    }
}

/// The password checked against the policy and hashed (Argon2id, on a blocking thread).
async fn checked_hash(username: &str, password: String) -> Result<String> {
    let u = username.trim().to_ascii_lowercase();
    efine_core::auth::password::check(&u, &password)?;
    Ok(tokio::task::spawn_blocking(move || users::hash_checked_password(&u, &password)).await??)
}

pub async fn run(settings: &Settings, cmd: UserCommand) -> Result<ExitCode> {
    match cmd {
        UserCommand::Add {
            username,
            role,
            department,
            district,
            password_stdin,
            ..
        } => {
            add(
                settings,
                username,
                role,
                department,
                district,
                password_stdin,
            )
            .await
        }
        UserCommand::List { .. } => {
            let store = super::open(&settings.db).await?;
            let list = store.read(users::list).await?;
            println!(
                "{:<32} {:<17} {:<22} {:<16} {:<9} second factor",
                "username", "role", "department", "district", "state"
            );
            for a in list {
                let p = &a.principal;
                let state = if a.pending_grant {
                    "awaiting"
                } else if a.active {
                    "active"
                } else {
                    "disabled"
                };
                println!(
                    "{:<32} {:<17} {:<22} {:<16} {:<9} {}",
                    p.username,
                    p.role.as_str(),
                    p.department.as_ref().map(|d| d.as_str()).unwrap_or("-"),
                    p.district.as_ref().map(|d| d.as_str()).unwrap_or("-"),
                    state,
                    if a.enrolled { "enrolled" } else { "-" }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::Disable { username, .. } => {
            let store = super::open(&settings.db).await?;
            let now = store.now();
            let p = store
                .write(move |tx| users::disable(tx, &username, "cli", now))
                .await?;
            println!("disabled {}; its tokens and sessions are ended", p.username);
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::Enable { username, .. } => {
            let store = super::open(&settings.db).await?;
            let now = store.now();
            let p = store
                .write(move |tx| users::enable(tx, &username, "cli", now))
                .await?;
            println!("enabled {}", p.username);
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::ResetPassword {
            username,
            password_stdin,
            ..
        } => {
            let password = read_password(password_stdin)?;
            let hash = checked_hash(&username, password).await?;
            let store = super::open(&settings.db).await?;
            let now = store.now();
            let p = store
                .write(move |tx| users::reset_password(tx, &username, &hash, "cli", now))
                .await?;
            println!(
                "new password set for {}; its tokens and sessions are ended",
                p.username
            );
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::EnrolTotp {
            username,
            secret_stdin,
            ..
        } => enrol_totp(settings, username, secret_stdin).await,
    }
}

/// Stores the secret read from standard input as the account's second factor, with fresh
/// recovery codes (printed once, for the operator to hand over).
async fn enrol_totp(settings: &Settings, username: String, stdin: bool) -> Result<ExitCode> {
    if !stdin {
        bail!("give the base32 secret on standard input with --secret-stdin");
    }
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("reading the secret from standard input")?;
    let secret = TotpSecret::parse_base32(&input).context(
        "the secret on standard input is not base32 for 20 bytes (32 characters A-Z, 2-7)",
    )?;
    let codes: Vec<String> = (0..totp::RECOVERY_CODES)
        .map(|_| {
            let mut b = [0u8; 15];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
            totp::recovery_code(b)
        })
        .collect();
    let hashes: Vec<String> = codes.iter().map(|c| totp::recovery_code_hash(c)).collect();
    let b32 = secret.base32();
    let store = super::open(&settings.db).await?;
    let now = store.now();
    let p = store
        .write(move |tx| users::enrol_totp_for(tx, &username, &b32, &hashes, "cli", now))
        .await?;
    println!(
        "second factor enrolled for {}; recovery codes (each works once, earlier ones ended):",
        p.username
    );
    for c in &codes {
        println!("  {c}");
    }
    Ok(ExitCode::SUCCESS)
}

async fn add(
    settings: &Settings,
    username: String,
    role: String,
    department: Option<String>,
    district: Option<String>,
    password_stdin: bool,
) -> Result<ExitCode> {
    let role = Role::parse(&role).with_context(|| {
        format!(
            "--role {role}: use officer, supervisor, department_admin, finance, auditor or admin"
        )
    })?;
    let department = department
        .map(|d| DepartmentCode::parse(&d))
        .transpose()
        .context("--department")?;
    let district = district
        .map(|d| DistrictCode::parse(&d))
        .transpose()
        .context("--district")?;
    let password = read_password(password_stdin)?;
    let hash = checked_hash(&username, password).await?;
    let store = super::open(&settings.db).await?;
    let new = users::NewUser {
        username,
        password_hash: hash,
        role,
        department,
        district,
    };
    let now = store.now();
    let p = store
        .write(move |tx| users::add(tx, &new, "cli", now))
        .await?;
    println!(
        "added {} ({}{}{})",
        p.username,
        p.role.as_str(),
        p.department.map(|d| format!(", {d}")).unwrap_or_default(),
        p.district.map(|d| format!(", {d}")).unwrap_or_default()
    );
    if p.role.needs_second_factor() {
        println!(
            "{} sets up the second factor at the first console sign-in \
             (or: efine user enrol-totp {} --secret-stdin)",
            p.username, p.username
        );
    }
    Ok(ExitCode::SUCCESS)
}
