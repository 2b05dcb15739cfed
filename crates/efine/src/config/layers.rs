//! Where a setting comes from, and how to name it back to the operator: the file, the
//! environment and the command line as `figment` providers, each of which spells a key the way
//! the operator wrote it (`key` in the file, `EFINE_KEY`, `--key`).

use super::raw::{KEYS, SECRETS};
use anyhow::{bail, Result};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use serde::Serialize;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

const ENV_PREFIX: &str = "EFINE_";
const FLAGS: &str = "command line";
const ENVIRONMENT: &str = "environment";

/// The environment variable of a key: `1bill_password` is `EFINE_1BILL_PASSWORD`.
pub fn env_name(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.to_ascii_uppercase())
}

/// The flag of a key, if it has one (secrets have none): `1bill_username` is
/// `--onebill-username`, since a flag cannot start with a digit.
pub fn flag_name(key: &str) -> Option<String> {
    if SECRETS.contains(&key) {
        return None;
    }
    let key = key
        .strip_prefix("1bill_")
        .map_or_else(|| key.to_string(), |rest| format!("onebill_{rest}"));
    Some(format!("--{}", key.replace('_', "-")))
}

/// Every way to give a key, for messages: "`token_hours` in efine.toml, EFINE_TOKEN_HOURS or
/// --token-hours".
pub fn all_names(key: &str) -> String {
    match flag_name(key) {
        Some(flag) => format!("`{key}` in efine.toml, {} or {flag}", env_name(key)),
        None => format!("`{key}` in efine.toml or {}", env_name(key)),
    }
}

/// The `efine.toml` layer, read and parsed here so that a syntax error shows its line but never
/// the line's text (which may hold a secret).
pub struct File {
    pub path: PathBuf,
    dict: Dict,
}

impl File {
    pub fn read(path: &Path, named_by: &str) -> Result<File> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("{named_by}: cannot read {}: {e}", path.display()))?;
        let table: toml::Table = toml::from_str(&text).map_err(|e| {
            let line = e
                .span()
                .map(|s| format!(" (line {})", text[..s.start].lines().count().max(1)))
                .unwrap_or_default();
            anyhow::anyhow!(
                "{} is not valid TOML{line}: {}",
                path.display(),
                e.message()
            )
        })?;
        let dict = Value::serialize(&table)
            .ok()
            .and_then(Value::into_dict)
            .unwrap_or_default();
        Ok(File {
            path: path.to_path_buf(),
            dict,
        })
    }
}

impl Provider for File {
    fn metadata(&self) -> Metadata {
        let path = self.path.display().to_string();
        Metadata::named(path.clone()).interpolater(move |_: &Profile, keys: &[&str]| {
            format!("`{}` in {path}", keys.join("."))
        })
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.dict.clone()))
    }
}

/// The `EFINE_*` layer. Values stay strings (figment's own environment provider would read
/// `123456` as a number, which a password field then refuses); numbers and booleans are read
/// from strings when the field needs one. An empty variable counts as unset.
pub struct Environment;

impl Provider for Environment {
    fn metadata(&self) -> Metadata {
        Metadata::named(ENVIRONMENT)
            .interpolater(|_: &Profile, keys: &[&str]| env_name(&keys.join(".")))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut dict = Dict::new();
        for key in KEYS {
            let var = env_name(key);
            match std::env::var(&var) {
                Ok(v) if v.trim().is_empty() => {}
                Ok(v) => {
                    dict.insert(key.to_string(), Value::from(v));
                }
                Err(std::env::VarError::NotPresent) => {}
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(format!("{var} is not valid UTF-8").into())
                }
            }
        }
        Ok(Profile::Default.collect(dict))
    }
}

/// The command-line layer: the flags a command was given, gathered from its argument groups.
#[derive(Default)]
pub struct Flags(Dict);

impl Flags {
    /// Adds a group of flags; fields left unset (`None`) are skipped when serialised, so they do
    /// not hide the file or the environment.
    pub fn with<T: Serialize>(mut self, group: &T) -> Flags {
        if let Some(d) = Value::serialize(group).ok().and_then(Value::into_dict) {
            self.0.extend(d);
        }
        self
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }
}

impl Provider for Flags {
    fn metadata(&self) -> Metadata {
        Metadata::named(FLAGS).interpolater(|_: &Profile, keys: &[&str]| {
            let key = keys.join(".");
            flag_name(&key).unwrap_or(key)
        })
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.0.clone()))
    }
}

/// How each key was given, after layering: "--listen", "EFINE_LISTEN", "`listen` in
/// /etc/efine/efine.toml", or the key alone when it kept its default.
pub struct Names {
    figment: Figment,
}

impl Names {
    pub fn new(figment: Figment) -> Names {
        Names { figment }
    }

    pub fn written(&self, key: &str) -> String {
        match self.figment.find_metadata(key) {
            Some(md) => md.interpolate(&Profile::Default, &[key]),
            None => format!("`{key}`"),
        }
    }

    pub fn given_as_flag(&self, key: &str) -> bool {
        self.figment
            .find_metadata(key)
            .is_some_and(|md| md.name == FLAGS)
    }

    /// A wrong value, named as the operator wrote it and with every other way to give it.
    pub fn invalid(&self, key: &str, problem: impl std::fmt::Display) -> anyhow::Error {
        anyhow::anyhow!(
            "{} {problem} (the setting {})",
            self.written(key),
            all_names(key)
        )
    }
}

/// Turns figment's error into one line per wrong value, named as the operator wrote it. A
/// secret's (or the database URL's) value is never part of the message.
pub fn describe(error: figment::Error, file: Option<&Path>) -> anyhow::Error {
    let lines: Vec<String> = error
        .into_iter()
        .map(|e| {
            let key = e.path.join(".");
            if let figment::error::Kind::UnknownField(name, _) = &e.kind {
                let file = file.map_or_else(|| "efine.toml".into(), |f| f.display().to_string());
                return format!(
                    "`{name}` in {file} is not a setting E-Fine knows (the README's \
                     Configuration section lists them)"
                );
            }
            let written = e
                .metadata
                .as_ref()
                .map(|md| md.interpolate(&Profile::Default, &e.path))
                .unwrap_or_else(|| format!("`{key}`"));
            if SECRETS.contains(&key.as_str()) || key == "database_url" {
                format!("{written} has the wrong type (text is expected; the value is not shown)")
            } else {
                format!("{written}: {}", e.kind)
            }
        })
        .collect();
    anyhow::anyhow!("{}", lines.join("\n"))
}

/// Flags that once carried secrets: refused before parsing, with where the secret goes instead.
/// `--password` is the 1Bill password of `bank pay` and the officer's password of `loadgen`.
const SECRET_FLAGS: &[(&str, &str, &str)] = &[
    (
        "--onebill-password",
        "EFINE_1BILL_PASSWORD",
        "1bill_password",
    ),
    (
        "--jazzcash-password",
        "EFINE_JAZZCASH_PASSWORD",
        "jazzcash_password",
    ),
    (
        "--jazzcash-integrity-salt",
        "EFINE_JAZZCASH_INTEGRITY_SALT",
        "jazzcash_integrity_salt",
    ),
    (
        "--easypaisa-hash-key",
        "EFINE_EASYPAISA_HASH_KEY",
        "easypaisa_hash_key",
    ),
    (
        "--easypaisa-password",
        "EFINE_EASYPAISA_PASSWORD",
        "easypaisa_password",
    ),
    (
        "--card-session-secret",
        "EFINE_CARD_SESSION_SECRET",
        "card_session_secret",
    ),
    (
        "--card-webhook-secrets",
        "EFINE_CARD_WEBHOOK_SECRETS",
        "card_webhook_secrets",
    ),
    (
        "--raast-notification-secrets",
        "EFINE_RAAST_NOTIFICATION_SECRETS",
        "raast_notification_secrets",
    ),
    (
        "--raast-api-password",
        "EFINE_RAAST_API_PASSWORD",
        "raast_api_password",
    ),
    ("--sms-password", "EFINE_SMS_PASSWORD", "sms_password"),
    ("--registry-token", "EFINE_REGISTRY_TOKEN", "registry_token"),
];

/// Refuses a secret given as a flag, naming the flag but never echoing its value.
pub fn refuse_secret_flags(args: &[OsString]) -> Result<()> {
    let mut command = None;
    let mut skip_value = false;
    for arg in args.iter().skip(1) {
        let Some(arg) = arg.to_str() else { continue };
        if arg == "--" {
            break;
        }
        if skip_value {
            skip_value = false;
            continue;
        }
        if arg == "--config" {
            skip_value = true;
            continue;
        }
        if command.is_none() && !arg.starts_with('-') {
            command = Some(arg);
            continue;
        }
        let flag = arg.split_once('=').map_or(arg, |(f, _)| f);
        let hit = SECRET_FLAGS
            .iter()
            .find(|(f, _, _)| *f == flag)
            .map(|(_, var, key)| format!("set {var} in the environment or `{key}` in efine.toml"))
            .or_else(|| match (flag, command) {
                ("--password", Some("bank")) => Some(
                    "set EFINE_1BILL_PASSWORD in the environment or `1bill_password` in \
                     efine.toml"
                        .into(),
                ),
                ("--password", Some("loadgen")) => {
                    Some("set EFINE_LOADGEN_PASSWORD in the environment".into())
                }
                _ => None,
            });
        if let Some(instead) = hit {
            bail!(
                "{flag}: a secret is not accepted on the command line, where other users of \
                 the machine can read it; {instead}"
            );
        }
    }
    Ok(())
}
