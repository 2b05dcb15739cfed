//! `efine user add`: a member of staff, with the password read from standard input.

use crate::config::{DbFlags, Settings};
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use efine_core::auth::Role;
use efine_core::{DepartmentCode, DistrictCode};
use efine_store::ops::users;
use std::io::Read;
use std::process::ExitCode;

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
        /// Read the password from standard input (the only way: never on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

impl UserCommand {
    pub fn db(&self) -> &DbFlags {
        match self {
            UserCommand::Add { db, .. } => db,
        }
    }
}

pub async fn run(settings: &Settings, cmd: UserCommand) -> Result<ExitCode> {
    let UserCommand::Add {
        username,
        role,
        department,
        district,
        ..
    } = cmd;
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
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .context("reading the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']).to_string();
    if password.chars().count() < 10 {
        bail!("the password must be at least 10 characters");
    }
    let store = super::open(&settings.db).await?;
    let hash = tokio::task::spawn_blocking(move || users::hash_password(&password)).await??;
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
    Ok(ExitCode::SUCCESS)
}
