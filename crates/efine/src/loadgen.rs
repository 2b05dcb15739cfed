//! `efine loadgen`: drives a running server over HTTP from many concurrent clients and reports
//! throughput and latency percentiles. Talks only to the URL it is given (use a local server).
//!
//! A run measures work, never replays: every run draws a fresh random run id, so its
//! Idempotency-Keys (`loadgen-<run>-<n>`) and vehicle numbers were never sent before, and after
//! the timed part it checks what the server stored against what it sent. For `issue` every 201
//! must carry a challan number no other answer carried, and the issued count in the statistics
//! summary must have grown by exactly the number of 201s; for `pay` the paid count must have
//! grown by exactly the number of successful payments. A run whose figures do not add up fails
//! loudly instead of printing a throughput.

use anyhow::{bail, ensure, Context, Result};
use clap::Args;
use hdrhistogram::Histogram;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Args, Debug, Clone)]
pub struct LoadgenArgs {
    /// Base URL of a running E-Fine server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    clients: u64,
    /// Total timed requests across all clients.
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
    /// through the 1Bill biller API as banks do (timed). `lookup`: issue a set of challans (not
    /// timed), then look their vehicles up through `POST /api/v1/public/lookup` (the server's
    /// lookup limit must allow the rate: `EFINE_PUBLIC_LOOKUPS_PER_MINUTE`). `view`: the same
    /// set, read through `GET /api/v1/public/challans/{number}`. `summary`: read the statistics
    /// summary, grouped by district, department, offence and officer in turn.
    #[arg(long, default_value = "issue", value_parser = ["issue", "pay", "lookup", "view", "summary"])]
    scenario: String,
    /// How many challans the `lookup` and `view` scenarios issue first and then read in turn.
    #[arg(long, default_value_t = 500)]
    set: u64,
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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Issue,
    Pay,
    Lookup,
    View,
    Summary,
}

impl Scenario {
    fn parse(s: &str) -> Scenario {
        match s {
            "pay" => Scenario::Pay,
            "lookup" => Scenario::Lookup,
            "view" => Scenario::View,
            "summary" => Scenario::Summary,
            _ => Scenario::Issue,
        }
    }
    fn describe(self) -> &'static str {
        match self {
            Scenario::Issue => "issue challans (POST /api/v1/challans)",
            Scenario::Pay => "pay challans through 1Bill (POST /api/v1/1bill/bill-payment)",
            Scenario::Lookup => "public lookup by vehicle (POST /api/v1/public/lookup)",
            Scenario::View => "public view (GET /api/v1/public/challans/{number})",
            Scenario::Summary => "statistics summary (GET /api/v1/stats/summary, group_by cycling)",
        }
    }
    fn ok(self, answer: &str) -> bool {
        match self {
            Scenario::Issue => answer == "201",
            Scenario::Pay => answer == "1bill 00",
            _ => answer == "200",
        }
    }
}

/// A challan issued before the timed part, to be paid or read.
struct Issued {
    number: String,
    psid: String,
    amount: i64,
    vehicle: String,
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
    codes: Vec<String>,
    run: u64,
}

impl Client {
    /// The plate of this run's `n`th challan (`setup` for those issued before the timed part):
    /// four letters drawn from the run id, then the number, so no earlier run used it.
    fn vehicle(&self, setup: bool, n: u64) -> String {
        let letters: String = (0..4)
            .map(|k| char::from(b'A' + ((self.run >> (k * 5)) % 26) as u8))
            .collect();
        format!(
            "{letters}{}{}",
            if setup { "S" } else { "" },
            n % 100_000_000
        )
    }

    /// Issues one challan with a key and a plate no earlier run used; the answer's status and
    /// body.
    async fn issue(
        &self,
        setup: bool,
        n: u64,
        rng: &mut impl Rng,
    ) -> Result<(u16, serde_json::Value)> {
        let vehicle = self.vehicle(setup, n);
        let body = json!({
            "offence_code": self.codes[rng.gen_range(0..self.codes.len())],
            "vehicle_number": vehicle,
            "location": {"lat": 34.0 + rng.gen_range(0.0..0.1), "lon": 71.5 + rng.gen_range(0.0..0.1)},
        });
        let resp = self
            .http
            .post(format!("{}/api/v1/challans", self.base))
            .bearer_auth(&self.token)
            .header(
                "Idempotency-Key",
                format!(
                    "loadgen-{:016x}-{}{n}",
                    self.run,
                    if setup { "setup-" } else { "" }
                ),
            )
            .json(&body)
            .send()
            .await?;
        let status = resp.status().as_u16();
        let v = resp.json().await.unwrap_or_default();
        Ok((status, v))
    }

    /// The issued and paid totals of the summary this user sees.
    async fn totals(&self) -> Result<(i64, i64)> {
        let v: serde_json::Value = self
            .http
            .get(format!(
                "{}/api/v1/stats/summary?group_by=officer",
                self.base
            ))
            .bearer_auth(&self.token)
            .send()
            .await?
            .error_for_status()
            .context("reading the statistics summary to count what was stored")?
            .json()
            .await?;
        Ok((
            v["total"]["issued"].as_i64().context("no issued total")?,
            v["total"]["paid"].as_i64().context("no paid total")?,
        ))
    }
}

pub async fn run(args: LoadgenArgs) -> Result<()> {
    if args.clients == 0 || args.requests == 0 {
        bail!("--clients and --requests must be at least 1");
    }
    let scenario = Scenario::parse(&args.scenario);
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
    let codes: Vec<String> = offences
        .iter()
        .filter_map(|o| o["code"].as_str().map(str::to_string))
        .collect();
    if codes.is_empty() {
        bail!("department {} has no offences", args.department);
    }
    // A fresh key space per run, from the operating system's generator: nothing this run sends
    // can be a replay of an earlier run's request.
    let run: u64 = rand::rngs::OsRng.gen();
    let client = Arc::new(Client {
        http,
        base: base.clone(),
        token,
        codes,
        run,
    });

    // The challans to pay or read, issued beforehand and not timed.
    let setup_count = match scenario {
        Scenario::Pay => args.requests,
        Scenario::Lookup | Scenario::View => args.set.max(1),
        _ => 0,
    };
    let mut issued: Vec<Issued> = Vec::new();
    if setup_count > 0 {
        let setup = indicatif::ProgressBar::new(setup_count);
        setup.set_message("issuing the challans to use");
        let mut rng = rand::rngs::StdRng::from_entropy();
        for i in 0..setup_count {
            let (status, v) = client.issue(true, i, &mut rng).await?;
            ensure!(status == 201, "setup issue answered {status}: {v}");
            issued.push(Issued {
                number: v["challan_number"].as_str().context("no number")?.into(),
                psid: v["psid"].as_str().context("no psid")?.into(),
                amount: v["amount_due"].as_i64().context("no amount")?,
                vehicle: client.vehicle(true, i),
            });
            setup.inc(1);
        }
        setup.finish_and_clear();
    }
    let before = match scenario {
        Scenario::Issue | Scenario::Pay => Some(client.totals().await?),
        _ => None,
    };

    let issued = Arc::new(issued);
    let numbers: Arc<Mutex<Vec<String>>> = Arc::default();
    let next = Arc::new(AtomicU64::new(0));
    let total = args.requests;
    let bar = indicatif::ProgressBar::new(args.requests);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.clients {
        let client = client.clone();
        let issued = issued.clone();
        let numbers = numbers.clone();
        let next = next.clone();
        let bar = bar.clone();
        let (user, pass) = (args.onebill_username.clone(), args.onebill_password.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::from_entropy();
            let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
            let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
            let base = &client.base;
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= total {
                    break;
                }
                let t = Instant::now();
                let answer = match scenario {
                    Scenario::Issue => match client.issue(false, i, &mut rng).await {
                        Ok((status, v)) => {
                            if status == 201 {
                                if let Some(n) = v["challan_number"].as_str() {
                                    numbers.lock().expect("numbers").push(n.to_string());
                                }
                            }
                            status.to_string()
                        }
                        Err(e) => error_kind(&e),
                    },
                    Scenario::Pay => {
                        let bill = &issued[i as usize];
                        let now =
                            time::OffsetDateTime::now_utc().to_offset(efine_core::clock::KARACHI);
                        let req = efine_pay::sandbox::bank_payment(
                            &user,
                            &pass,
                            &bill.psid,
                            efine_core::Money::from_paisa(bill.amount)?,
                            // The bank's six-digit STAN, distinct within the run.
                            ((run % 500_000 + i) % 1_000_000) as u32,
                            time::PrimitiveDateTime::new(now.date(), now.time()),
                            "LOADGEN",
                        );
                        match client
                            .http
                            .post(format!("{base}/api/v1/1bill/bill-payment"))
                            .json(&req)
                            .send()
                            .await
                        {
                            Ok(resp) => {
                                let v: serde_json::Value = resp.json().await.unwrap_or_default();
                                format!("1bill {}", v["response_Code"].as_str().unwrap_or("?"))
                            }
                            Err(e) => error_kind(&e.into()),
                        }
                    }
                    Scenario::Lookup | Scenario::View | Scenario::Summary => {
                        let request = match scenario {
                            Scenario::Lookup => {
                                let c = &issued[(i % issued.len() as u64) as usize];
                                client
                                    .http
                                    .post(format!("{base}/api/v1/public/lookup"))
                                    .json(&json!({"vehicle": c.vehicle}))
                            }
                            Scenario::View => {
                                let c = &issued[(i % issued.len() as u64) as usize];
                                client
                                    .http
                                    .get(format!("{base}/api/v1/public/challans/{}", c.number))
                            }
                            _ => {
                                let group = ["district", "department", "offence", "officer"]
                                    [(i % 4) as usize];
                                client
                                    .http
                                    .get(format!("{base}/api/v1/stats/summary?group_by={group}"))
                                    .bearer_auth(&client.token)
                            }
                        };
                        match request.send().await {
                            Ok(resp) => {
                                let s = resp.status().as_u16().to_string();
                                let _ = resp.bytes().await;
                                s
                            }
                            Err(e) => error_kind(&e.into()),
                        }
                    }
                };
                hist.record(t.elapsed().as_micros().max(1) as u64)?;
                *statuses.entry(answer).or_default() += 1;
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
    println!("scenario: {}", scenario.describe());
    println!("run: {run:016x}");
    println!("clients: {}  requests: {}", args.clients, hist.len());
    println!(
        "responses: {}",
        statuses
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let succeeded: u64 = statuses
        .iter()
        .filter(|(k, _)| scenario.ok(k))
        .map(|(_, v)| *v)
        .sum();
    let failed = hist.len() - succeeded;
    if let Some((issued_before, paid_before)) = before {
        let (issued_after, paid_after) = client.totals().await?;
        let numbers = numbers.lock().expect("numbers");
        let distinct: HashSet<&String> = numbers.iter().collect();
        let (what, grew) = match scenario {
            Scenario::Issue => ("issued", issued_after - issued_before),
            _ => ("paid", paid_after - paid_before),
        };
        println!(
            "stored: {grew} {what} (statistics summary before and after), {succeeded} acknowledged{}",
            if scenario == Scenario::Issue {
                format!(", {} distinct challan numbers", distinct.len())
            } else {
                String::new()
            }
        );
        check_stored(scenario, succeeded, grew, distinct.len() as u64)?;
    }
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
    if failed > 0 {
        bail!("{failed} requests did not succeed");
    }
    Ok(())
}

fn error_kind(e: &anyhow::Error) -> String {
    match e.downcast_ref::<reqwest::Error>() {
        Some(e) if e.is_timeout() => "timeout".into(),
        _ => "connection error".into(),
    }
}

/// Whether what the server stored matches what it acknowledged: every acknowledged request
/// stored once (the statistics grew by exactly that many) and, for issuance, every
/// acknowledgement a different challan (no answer was a replay of another).
fn check_stored(scenario: Scenario, acknowledged: u64, grew: i64, distinct: u64) -> Result<()> {
    if grew != acknowledged as i64 {
        bail!(
            "the server stored {grew} but acknowledged {acknowledged}: the figures above do not \
             measure what they claim"
        );
    }
    if scenario == Scenario::Issue && distinct != acknowledged {
        bail!(
            "{acknowledged} issues acknowledged but only {distinct} distinct challan numbers: \
             some answers were replays"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_count_must_match_what_was_acknowledged() {
        assert!(check_stored(Scenario::Issue, 100, 100, 100).is_ok());
        assert!(check_stored(Scenario::Pay, 40, 40, 0).is_ok());
        let short = check_stored(Scenario::Issue, 100, 53, 100).unwrap_err();
        assert!(short.to_string().contains("stored 53 but acknowledged 100"));
        let replays = check_stored(Scenario::Issue, 100, 100, 60).unwrap_err();
        assert!(replays.to_string().contains("only 60 distinct"));
        assert!(check_stored(Scenario::Pay, 40, 41, 0).is_err());
    }
}
