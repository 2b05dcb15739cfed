//! `efine loadgen`: issues challans over HTTP from many concurrent clients and reports
//! throughput and latency percentiles. Talks only to the URL it is given (use a local server).

use anyhow::{bail, Context, Result};
use clap::Args;
use hdrhistogram::Histogram;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Args, Debug, Clone)]
pub struct LoadgenArgs {
    /// Base URL of a running E-Fine server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    clients: u64,
    /// Total requests across all clients.
    #[arg(long, default_value_t = 2000)]
    requests: u64,
    /// An officer account to issue as.
    #[arg(
        long,
        env = "EFINE_LOADGEN_USERNAME",
        default_value = "demo.officer.peshawar"
    )]
    username: String,
    #[arg(
        long,
        env = "EFINE_LOADGEN_PASSWORD",
        default_value = "demo-password",
        hide_default_value = true
    )]
    password: String,
    /// The second-factor secret (base32) of a user whose role needs one (the `summary`
    /// scenario's admin or auditor): the login code is made from it. Environment only.
    #[arg(skip = std::env::var("EFINE_LOADGEN_TOTP_SECRET").ok())]
    totp_secret: Option<String>,
    /// The officer's department (offences are drawn from its schedule).
    #[arg(long, default_value = "traffic-police")]
    department: String,
    /// `issue`: issue challans. `pay`: issue the challans first (not timed), then pay each once
    /// through the 1Bill biller API as banks do (timed). `summary`: read the statistics summary,
    /// grouped by district, department, offence and officer in turn (log in as a user who sees
    /// everything, e.g. `--username demo.admin`).
    #[arg(long, default_value = "issue", value_parser = ["issue", "pay", "summary"])]
    scenario: String,
    #[arg(long, env = "EFINE_1BILL_USERNAME", default_value = "sandbox-bank")]
    onebill_username: String,
    #[arg(
        long,
        env = "EFINE_1BILL_PASSWORD",
        default_value = "sandbox-1bill",
        hide_default_value = true,
        hide_env_values = true
    )]
    onebill_password: String,
}

pub async fn run(args: LoadgenArgs) -> Result<()> {
    if args.clients == 0 || args.requests == 0 {
        bail!("--clients and --requests must be at least 1");
    }
    let base = args.url.trim_end_matches('/').to_string();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients as usize)
        .timeout(Duration::from_secs(30))
        .build()?;
    let resp = http
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({
            "username": args.username,
            "password": args.password,
            "code": args.totp_secret.as_deref()
                .and_then(efine_core::auth::totp::TotpSecret::parse_base32)
                .map(|s| s.code_at(time::OffsetDateTime::now_utc().unix_timestamp())),
        }))
        .send()
        .await
        .with_context(|| format!("cannot reach {base}"))?;
    if !resp.status().is_success() {
        bail!("login as {} failed: {}", args.username, resp.text().await?);
    }
    let token: serde_json::Value = resp.json().await?;
    let token = token["token"]
        .as_str()
        .context("no token in the login response")?
        .to_string();
    let offences: Vec<serde_json::Value> = http
        .get(format!("{base}/api/v1/catalogue/offences"))
        .query(&[("department", args.department.as_str())])
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let codes: Arc<Vec<String>> = Arc::new(
        offences
            .iter()
            .filter_map(|o| o["code"].as_str().map(str::to_string))
            .collect(),
    );
    if codes.is_empty() {
        bail!("department {} has no offences", args.department);
    }

    let pay = args.scenario == "pay";
    let summary = args.scenario == "summary";
    // For the pay scenario: the PSIDs and amounts to pay, issued beforehand and not timed.
    let mut bills: Vec<(String, i64)> = Vec::new();
    if pay {
        let setup = indicatif::ProgressBar::new(args.requests);
        setup.set_message("issuing the challans to pay");
        let mut rng = rand::rngs::StdRng::seed_from_u64(99);
        for _ in 0..args.requests {
            let v: serde_json::Value = http
                .post(format!("{base}/api/v1/challans"))
                .bearer_auth(&token)
                .json(&json!({
                    "offence_code": codes[rng.gen_range(0..codes.len())],
                    "vehicle_number": format!("PAY-{}", rng.gen_range(1000..100_000)),
                }))
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            bills.push((
                v["psid"].as_str().context("no psid")?.to_string(),
                v["amount_due"].as_i64().context("no amount")?,
            ));
            setup.inc(1);
        }
        setup.finish_and_clear();
    }
    let bills = Arc::new(bills);
    let next = Arc::new(AtomicU64::new(0));
    let total = args.requests;
    let bar = indicatif::ProgressBar::new(args.requests);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..args.clients {
        let http = http.clone();
        let base = base.clone();
        let token = token.clone();
        let codes = codes.clone();
        let bills = bills.clone();
        let next = next.clone();
        let bar = bar.clone();
        let (user, pass) = (args.onebill_username.clone(), args.onebill_password.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(client);
            let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
            let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= total {
                    break;
                }
                let request = if summary {
                    let group = ["district", "department", "offence", "officer"][(i % 4) as usize];
                    http.get(format!("{base}/api/v1/stats/summary?group_by={group}"))
                        .bearer_auth(&token)
                } else if pay {
                    let (psid, amount) = &bills[i as usize];
                    let now = time::OffsetDateTime::now_utc().to_offset(efine_core::clock::KARACHI);
                    let req = efine_pay::sandbox::bank_payment(
                        &user,
                        &pass,
                        psid,
                        efine_core::Money::from_paisa(*amount)?,
                        i as u32,
                        time::PrimitiveDateTime::new(now.date(), now.time()),
                        "LOADGEN",
                    );
                    http.post(format!("{base}/api/v1/1bill/bill-payment")).json(&req)
                } else {
                    let body = json!({
                        "offence_code": codes[rng.gen_range(0..codes.len())],
                        "vehicle_number": format!("LGN-{}", rng.gen_range(1000..100_000)),
                        "location": {"lat": 34.0 + rng.gen_range(0.0..0.1), "lon": 71.5 + rng.gen_range(0.0..0.1)},
                    });
                    http.post(format!("{base}/api/v1/challans"))
                        .bearer_auth(&token)
                        .header("Idempotency-Key", format!("loadgen-{client}-{}", rng.gen::<u64>()))
                        .json(&body)
                };
                let t = Instant::now();
                let key = match request.send().await {
                    Ok(resp) if pay => {
                        let v: serde_json::Value = resp.json().await.unwrap_or_default();
                        format!("1bill {}", v["response_Code"].as_str().unwrap_or("?"))
                    }
                    Ok(resp) => {
                        let s = resp.status().as_u16().to_string();
                        let _ = resp.bytes().await;
                        s
                    }
                    Err(e) if e.is_timeout() => "timeout".into(),
                    Err(_) => "connection error".into(),
                };
                hist.record(t.elapsed().as_micros().max(1) as u64)?;
                *statuses.entry(key).or_default() += 1;
                bar.inc(1);
            }
            anyhow::Ok((hist, statuses))
        }));
    }
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
    for t in tasks {
        let (h, s) = t.await??;
        hist.add(h)?;
        for (k, v) in s {
            *statuses.entry(k).or_default() += v;
        }
    }
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    let ms = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "scenario: {}",
        if summary {
            "statistics summary (GET /api/v1/stats/summary, group_by cycling)"
        } else if pay {
            "pay challans through 1Bill (POST /api/v1/1bill/bill-payment)"
        } else {
            "issue challans (POST /api/v1/challans)"
        }
    );
    println!("clients: {}  requests: {}", args.clients, hist.len());
    println!(
        "responses: {}",
        statuses
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "throughput: {:.0} requests/s over {:.2} s",
        hist.len() as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    println!(
        "latency ms: p50 {:.2}  p95 {:.2}  p99 {:.2}  max {:.2}",
        ms(0.50),
        ms(0.95),
        ms(0.99),
        hist.max() as f64 / 1000.0
    );
    let failed: u64 = statuses
        .iter()
        .filter(|(k, _)| {
            let ok = if summary { "200" } else { "201" };
            !matches!(k.as_str(), "1bill 00") && k.as_str() != ok
        })
        .map(|(_, v)| *v)
        .sum();
    if failed > 0 {
        bail!("{failed} requests did not succeed");
    }
    Ok(())
}
