//! `efine bank pay PSID`: acts as a bank on the 1Bill biller API, as a branch or ATM would:
//! inquire, then pay the full amount due today.

use crate::config::Settings;
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use efine_core::clock::KARACHI;
use efine_core::Money;
use secrecy::ExposeSecret;
use serde_json::Value;

#[derive(Subcommand)]
pub enum BankCommand {
    /// Inquire a consumer number (PSID) and pay what is due today.
    Pay {
        psid: String,
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// The bank's 1Bill mnemonic.
        #[arg(long, default_value = "SANDBOX")]
        mnemonic: String,
        /// The bank's 1Bill user name (default: EFINE_1BILL_USERNAME, else the sandbox's). The
        /// password is EFINE_1BILL_PASSWORD or `1bill_password` in efine.toml (else the
        /// sandbox's), never a flag.
        #[arg(long)]
        username: Option<String>,
        /// The six-digit STAN (default: derived from the time).
        #[arg(long)]
        stan: Option<u32>,
    },
}

pub async fn run(settings: &Settings, cmd: BankCommand) -> Result<std::process::ExitCode> {
    let BankCommand::Pay {
        psid,
        url,
        mnemonic,
        username,
        stan,
    } = cmd;
    let rails = &settings.rails;
    let username = username
        .or_else(|| rails.onebill_username.clone())
        .unwrap_or_else(|| "sandbox-bank".into());
    let password = rails
        .onebill_password
        .as_ref()
        .map_or("sandbox-1bill", |p| p.expose_secret())
        .to_string();
    let base = url.trim_end_matches('/');
    let http = reqwest::Client::new();
    let inquiry: Value = http
        .post(format!("{base}/api/v1/1bill/bill-inquiry"))
        .json(&serde_json::json!({
            "userName": username, "password": password,
            "consumerNumber": psid, "bankMnemonic": mnemonic, "reserved": ""
        }))
        .send()
        .await
        .with_context(|| format!("cannot reach {base}"))?
        .json()
        .await?;
    println!("inquiry: {inquiry}");
    if inquiry["Response_Code"] != "00" {
        bail!("inquiry refused with code {}", inquiry["Response_Code"]);
    }
    if inquiry["Bill_Status"] != "U" {
        bail!("the bill is not unpaid (status {})", inquiry["Bill_Status"]);
    }
    let now = time::OffsetDateTime::now_utc().to_offset(KARACHI);
    let today = efine_pay::onebill::format_date(now.date());
    let field = if today.as_str() <= inquiry["Due_Date"].as_str().unwrap_or("") {
        "Amount_Within_DueDate"
    } else {
        "Amount_After_DueDate"
    };
    let amount: i64 = inquiry[field]
        .as_str()
        .and_then(|a| a.trim_start_matches('+').parse().ok())
        .context("no amount in the inquiry")?;
    let amount = Money::from_paisa(amount)?;
    let stan = stan.unwrap_or((now.unix_timestamp() % 1_000_000) as u32);
    let req = efine_pay::sandbox::bank_payment(
        &username,
        &password,
        &psid,
        amount,
        stan,
        time::PrimitiveDateTime::new(now.date(), now.time()),
        &mnemonic,
    );
    let paid: Value = http
        .post(format!("{base}/api/v1/1bill/bill-payment"))
        .json(&req)
        .send()
        .await?
        .json()
        .await?;
    println!("payment of {amount}: {paid}");
    Ok(if paid["response_Code"] == "00" {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(1)
    })
}
