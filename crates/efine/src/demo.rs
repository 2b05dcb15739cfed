//! Demo data that follows the KP pilot (shared reference: Peshawar 4,219 challans, Swat 891,
//! Abbottabad 289, Dera Ismail Khan 36), issued through the real issuance path by demo officers.
//! The paid side of the pilot arrives with the payment rails, through their sandboxes.

use anyhow::{Context, Result};
use efine_core::auth::{Principal, Role};
use efine_core::challan::Location;
use efine_core::{DepartmentCode, DistrictCode, OffenceCode, VehicleNumber};
use efine_store::ops::{catalogue, challans, users};
use efine_store::{NewChallan, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

struct PilotDistrict {
    code: &'static str,
    issued: u32,
    paid: u32,
    /// Plate prefixes commonly seen there.
    plates: &'static [&'static str],
    /// Officers issuing there (the first is demo.officer.<district>, then .2, .3, ...).
    officers: u32,
    /// Centre, in micro-degrees.
    centre: (i64, i64),
}

const PILOT: &[PilotDistrict] = &[
    PilotDistrict {
        code: "peshawar",
        officers: 5,
        paid: 4201,
        issued: 4219,
        plates: &["PES", "PR", "LEB", "ICT"],
        centre: (34_008_000, 71_578_000),
    },
    PilotDistrict {
        code: "swat",
        officers: 2,
        paid: 875,
        issued: 891,
        plates: &["SWT", "SWA", "PES"],
        centre: (34_773_000, 72_360_000),
    },
    PilotDistrict {
        code: "abbottabad",
        officers: 1,
        paid: 282,
        issued: 289,
        plates: &["ATD", "ABT", "RIM"],
        centre: (34_168_000, 73_221_000),
    },
    PilotDistrict {
        code: "dera-ismail-khan",
        officers: 1,
        paid: 36,
        issued: 36,
        plates: &["DIK", "DI", "MN"],
        centre: (31_832_000, 70_902_000),
    },
];

/// The demo officer who issues a third of their challans late at night: the anomaly a new user
/// finds on the dashboard, explained by its figures.
pub const PLANTED_OFFICER: &str = "demo.officer.peshawar.5";

/// The password of every demo account. Demo data only: never use `--demo` in production.
pub const DEMO_PASSWORD: &str = "demo-password";

/// The second-factor secret (RFC 6238, base32) of every demo account whose role needs one,
/// published in the README so that anyone trying the demo can make codes
/// (`oathtool --totp -b ...` or any authenticator app). Demo data is public already (the
/// password above); a real account enrols its own secret by QR at its first console sign-in.
pub const DEMO_TOTP_SECRET: &str = "EFINEDEMOEFINEDEMOEFINEDEMOEFINE";

/// A pending cancellation request and a pending appeal on the newest unpaid Peshawar challans,
/// so the supervisors' queues are not empty.
async fn open_requests(store: &Store, officers: &[efine_core::auth::Principal]) -> Result<()> {
    use efine_store::ops::{appeals, cancellations};
    let Some(officer) = officers.first().cloned() else {
        return Ok(());
    };
    let now = store.now();
    let peshawar = DistrictCode::parse("peshawar")?;
    store
        .write(move |tx| {
            let numbers =
                challans::newest_in_status(tx, &peshawar, efine_core::ChallanStatus::Unpaid, 2)?;
            if let Some(n) = numbers.first() {
                cancellations::request(
                    tx,
                    &officer,
                    n,
                    "demo: the driver showed a valid exemption",
                    now,
                )?;
            }
            if let Some(n) = numbers.get(1) {
                appeals::lodge(tx, n, "demo: the signal was not working", None, 365, now)?;
            }
            Ok(())
        })
        .await?;
    Ok(())
}

pub async fn load(store: &Store, rails: &efine_web::payments::PaymentsConfig) -> Result<()> {
    let exists = store
        .read(|tx| users::for_login(tx, "demo.admin"))
        .await?
        .is_some();
    if exists {
        tracing::info!("demo data already loaded");
        return Ok(());
    }
    let trf = DepartmentCode::parse("traffic-police")?;
    let hash = tokio::task::spawn_blocking(|| users::hash_password(DEMO_PASSWORD)).await??;
    let now = store.now();

    let mut accounts = vec![
        ("demo.admin".to_string(), Role::Admin, None, None),
        ("demo.auditor".to_string(), Role::Auditor, None, None),
        ("demo.finance".to_string(), Role::Finance, None, None),
        (
            "demo.supervisor".to_string(),
            Role::Supervisor,
            Some(trf.clone()),
            None,
        ),
        // A second supervisor, so a cancellation requested by one is approved by the other.
        (
            "demo.supervisor2".to_string(),
            Role::Supervisor,
            Some(trf.clone()),
            None,
        ),
    ];
    for d in PILOT {
        for n in 1..=d.officers {
            let name = if n == 1 {
                format!("demo.officer.{}", d.code)
            } else {
                format!("demo.officer.{}.{n}", d.code)
            };
            accounts.push((
                name,
                Role::Officer,
                Some(trf.clone()),
                Some(DistrictCode::parse(d.code)?),
            ));
        }
    }
    let mut officers = Vec::new();
    for (username, role, department, district) in accounts {
        let new = users::NewUser {
            username,
            password_hash: hash.clone(),
            role,
            department,
            district,
        };
        let p = store
            .write(move |tx| {
                let p = users::add(tx, &new, "demo", now)?;
                if p.role.needs_second_factor() {
                    users::enrol_totp(tx, &p, DEMO_TOTP_SECRET, &[], now)?;
                }
                Ok(p)
            })
            .await?;
        if p.role == Role::Officer {
            officers.push(p);
        }
    }

    let t = trf.clone();
    let offences: Vec<OffenceCode> = store
        .read(move |tx| catalogue::offences(tx, Some(&t)))
        .await?
        .into_iter()
        .filter(|o| o.kind == efine_core::OffenceKind::Fine)
        .map(|o| o.code)
        .collect();
    anyhow::ensure!(
        !offences.is_empty(),
        "the catalogue has no traffic offences"
    );

    let total: u64 = PILOT.iter().map(|p| u64::from(p.issued)).sum();
    let bar = indicatif::ProgressBar::new(total);
    bar.set_message("issuing demo challans");
    let mut rng = StdRng::seed_from_u64(4219);
    let mut issued = Vec::new();
    for d in PILOT {
        let team: Vec<&Principal> = officers
            .iter()
            .filter(|o| o.district.as_ref().map(|c| c.as_str()) == Some(d.code))
            .collect();
        let (lat, lon) = d.centre;
        // Spread over the 90 days before now, in working hours, issued in time order so numbers
        // follow the calendar as they would in the field.
        let mut times: Vec<time::OffsetDateTime> = (0..d.issued)
            .map(|_| {
                let days_ago = rng.gen_range(1..90);
                let local_minute = rng.gen_range(8 * 60..20 * 60);
                (now - time::Duration::days(days_ago)).replace_time(time::Time::MIDNIGHT)
                    + time::Duration::minutes(local_minute - 5 * 60)
            })
            .collect();
        times.sort();
        let mut pending = Vec::new();
        for (i, mut at) in times.into_iter().enumerate() {
            let officer = team[i % team.len()];
            if officer.username == PLANTED_OFFICER && i % 3 == 0 {
                // The planted anomaly: a third of this officer's challans issued 22:00-23:59.
                let local = at.to_offset(efine_core::clock::KARACHI);
                let minute = i64::from(local.hour()) * 60 + i64::from(local.minute());
                at += time::Duration::minutes(22 * 60 + minute % 120 - minute);
            }
            let prefix = d.plates[rng.gen_range(0..d.plates.len())];
            let plate = format!("{prefix}-{}", rng.gen_range(100..10_000));
            let new = NewChallan {
                department: trf.clone(),
                offence: offences[rng.gen_range(0..offences.len())].clone(),
                district: DistrictCode::parse(d.code)?,
                vehicle: Some(VehicleNumber::parse(&plate)?),
                vehicle_authority: Some(if prefix == "ICT" { "ICT" } else { "KP" }.into()),
                cnic: None,
                mobile: None,
                name: None,
                location: Location {
                    lat_micro: Some(lat + rng.gen_range(-20_000..20_000)),
                    lon_micro: Some(lon + rng.gen_range(-20_000..20_000)),
                    text: None,
                },
                notes: Some(format!("demo challan {}", i + 1)),
            };
            let officer = officer.clone();
            pending.push(store.submit(move |tx| challans::issue(tx, &officer, &new, at)));
            if pending.len() == 512 {
                for p in pending.drain(..) {
                    issued.push((d.code, p.await?));
                    bar.inc(1);
                }
            }
        }
        for p in pending.drain(..) {
            issued.push((d.code, p.await?));
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    pay_pilot(store, rails, issued, &mut rng).await?;
    open_requests(store, &officers).await?;
    println!(
        "demo data loaded: {total} challans in the four pilot districts; demo accounts \
         demo.admin, demo.auditor, demo.finance, demo.supervisor, demo.supervisor2 and \
         demo.officer.<district> (Peshawar also .2 to .5, Swat .2), \
         password '{DEMO_PASSWORD}'; supervisors, finance, auditors and admins also type the \
         code of the authenticator secret {DEMO_TOTP_SECRET} (oathtool --totp -b {DEMO_TOTP_SECRET})"
    );
    Ok(())
}

/// Pays the pilot's paid share of each district's challans through the rails' sandboxes: banks on
/// 1Bill and payers on JazzCash's hosted page, each message in the rail's wire format and
/// signature, credited by the same store functions the HTTP handlers call.
async fn pay_pilot(
    store: &Store,
    rails: &efine_web::payments::PaymentsConfig,
    issued: Vec<(&'static str, efine_core::challan::Challan)>,
    rng: &mut StdRng,
) -> Result<()> {
    use efine_core::clock::{karachi_date, KARACHI};
    use efine_core::payment::Rail;
    use efine_pay::jazzcash::{self, Checkout};
    use efine_pay::sandbox::{self, Choice};
    use efine_store::ops::payments::{self, BillPayment, Credit};
    use rand::seq::SliceRandom;

    let onebill = rails
        .onebill
        .clone()
        .context("demo needs the 1Bill sandbox")?;
    let jc = rails
        .jazzcash
        .clone()
        .context("demo needs the JazzCash sandbox")?;
    let now = store.now();
    let mut to_pay = Vec::new();
    for d in PILOT {
        let mut mine: Vec<_> = issued
            .iter()
            .filter(|(code, _)| *code == d.code)
            .map(|(_, c)| c.clone())
            .collect();
        mine.shuffle(rng);
        to_pay.extend(mine.into_iter().take(d.paid as usize));
    }
    // Paid within the days allowed, mostly early, never in the future.
    let mut plan: Vec<_> = to_pay
        .into_iter()
        .map(|c| {
            let days = (c.due_date - karachi_date(c.issued_at)).whole_days().max(1);
            let at = (c.issued_at + time::Duration::minutes(rng.gen_range(30..days * 24 * 60)))
                .min(now - time::Duration::minutes(1));
            // A mix like the province's: banks and ATMs most, then wallets, cards, counters.
            let rail = match rng.gen_range(0..100) {
                0..=44 => Rail::OneBill,
                45..=69 => Rail::Jazzcash,
                70..=84 => Rail::Easypaisa,
                85..=94 => Rail::Card,
                _ => Rail::Counter,
            };
            (at, rail, c)
        })
        .collect();
    plan.sort_by_key(|(at, ..)| *at);
    let bar = indicatif::ProgressBar::new(plan.len() as u64);
    bar.set_message("paying demo challans through the sandboxes");
    let mut pending = Vec::new();
    for (i, (at, rail, c)) in plan.into_iter().enumerate() {
        let local = at.to_offset(KARACHI);
        let local = time::PrimitiveDateTime::new(local.date(), local.time());
        let amount = c.amount_due(karachi_date(at));
        let fut = match rail {
            Rail::OneBill => {
                let bank = ["HBL", "UBL", "MCB", "BOK", "ABL"][i % 5];
                let req = sandbox::bank_payment(
                    &onebill.username,
                    &onebill.password,
                    c.psid.as_str(),
                    amount,
                    i as u32,
                    local,
                    bank,
                );
                let parsed = req.parse()?;
                let psid = c.psid.clone();
                Box::pin(store.submit(move |tx| {
                    match payments::pay_bill(
                        tx,
                        &psid,
                        parsed.amount,
                        parsed.tran_date,
                        &parsed.rail_txn_id(),
                        &format!("1bill:{bank}"),
                        at,
                    )? {
                        BillPayment::Credited(Credit::Paid(_)) => Ok(()),
                        other => Err(efine_store::StoreError::Corrupt(format!(
                            "demo 1Bill payment: {other:?}"
                        ))),
                    }
                }))
                    as std::pin::Pin<
                        Box<
                            dyn std::future::Future<Output = Result<(), efine_store::StoreError>>
                                + Send,
                        >,
                    >
            }
            Rail::Jazzcash => {
                let merchant = jc.merchant.clone();
                let return_url = format!("{}/payments/jazzcash/return", rails.public_url);
                Box::pin(store.submit(move |tx| {
                    let (a, ch) =
                        payments::start_attempt(tx, &c.number, Rail::Jazzcash, "citizen", at)?;
                    let request = jazzcash::checkout_fields(
                        &merchant,
                        &Checkout {
                            reference: &a.reference,
                            amount: a.amount,
                            bill_reference: &a.challan_number,
                            description: "Challan",
                            return_url: &return_url,
                            at_local: local,
                            valid_for: time::Duration::hours(1),
                            psid: ch.psid.as_str(),
                        },
                    );
                    let answer = sandbox::jazzcash_return(
                        &merchant,
                        &request,
                        Choice::Success,
                        &format!("{:012}", a.id),
                    )
                    .map_err(|e| efine_store::StoreError::Corrupt(e.into()))?;
                    let msg = jazzcash::parse_return(&merchant, &answer)
                        .map_err(|e| efine_store::StoreError::Corrupt(e.to_string()))?;
                    confirmed(tx, &a, msg.outcome, "jazzcash", at)
                }))
            }
            Rail::Easypaisa => {
                let ep = rails
                    .easypaisa
                    .clone()
                    .context("demo needs the Easypaisa sandbox")?;
                Box::pin(store.submit(move |tx| {
                    let (a, _) =
                        payments::start_attempt(tx, &c.number, Rail::Easypaisa, "citizen", at)?;
                    // Easypaisa is credited only from its inquiry answer.
                    let answer = efine_pay::sandbox_easypaisa::inquiry_response(
                        &ep.store,
                        &a.reference,
                        a.amount,
                        Choice::Success,
                        &format!("EP{:010}", a.id),
                    );
                    let body = serde_json::to_vec(&answer)
                        .map_err(|e| efine_store::StoreError::Corrupt(e.to_string()))?;
                    let inquiry =
                        efine_pay::easypaisa::parse_inquiry(&ep.store, &a.reference, &body)
                            .map_err(|e| efine_store::StoreError::Corrupt(e.to_string()))?;
                    confirmed(tx, &a, inquiry.outcome, "easypaisa", at)
                }))
            }
            Rail::Card => {
                let cg = rails.card.clone().context("demo needs the card sandbox")?;
                Box::pin(store.submit(move |tx| {
                    let (a, _) = payments::start_attempt(tx, &c.number, Rail::Card, "citizen", at)?;
                    let secret = cg
                        .gateway
                        .webhook_secrets
                        .first()
                        .cloned()
                        .unwrap_or_default();
                    let (body, header) = efine_pay::sandbox_card::notification(
                        &secret,
                        &a.reference,
                        a.amount,
                        Choice::Success,
                        &format!("CG{:010}", a.id),
                        at.unix_timestamp(),
                    );
                    let n = efine_pay::card::verify_notification(
                        &cg.gateway,
                        &body,
                        Some(&header),
                        at.unix_timestamp(),
                    )
                    .map_err(|e| efine_store::StoreError::Corrupt(e.to_string()))?;
                    confirmed(tx, &a, n.outcome, "card", at)
                }))
            }
            _ => Box::pin(store.submit(move |tx| {
                payments::pay_at_counter(tx, &c.number, amount, "demo.finance", at).map(|_| ())
            })),
        };
        pending.push(fut);
        if pending.len() == 512 {
            for p in pending.drain(..) {
                p.await?;
                bar.inc(1);
            }
        }
    }
    for p in pending.drain(..) {
        p.await?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(())
}

fn confirmed(
    tx: &mut dyn efine_store::sql::Tx,
    a: &efine_store::ops::payments::Attempt,
    outcome: efine_pay::RailOutcome,
    actor: &str,
    at: time::OffsetDateTime,
) -> Result<(), efine_store::StoreError> {
    match outcome {
        efine_pay::RailOutcome::Confirmed { rail_txn_id, .. } => {
            efine_store::ops::payments::credit(tx, a, &rail_txn_id, actor, at)?;
            Ok(())
        }
        other => Err(efine_store::StoreError::Corrupt(format!(
            "demo {actor}: {other:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use efine_store::ops::stats::{self, Dim, Range, Scope};
    use efine_store::{catalogue_seed, Location, Store};

    /// The demo reproduces the pilot table in the statistics and plants its one anomaly.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn demo_reproduces_the_pilot_in_the_summary() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(Location::Sqlite(dir.path().join("efine.db")))
            .await
            .unwrap();
        let cat = catalogue_seed::parse(catalogue_seed::KP).unwrap();
        let now = store.now();
        store
            .write(move |tx| efine_store::ops::catalogue::load_if_empty(tx, &cat, now))
            .await
            .unwrap();
        let rails = efine_web::payments::sandbox("http://127.0.0.1:9");
        super::load(&store, &rails).await.unwrap();
        let rows = store
            .read(|tx| stats::summary(tx, Dim::District, &Scope::all(), Range::default()))
            .await
            .unwrap();
        let got: Vec<(&str, i64, i64)> = rows
            .iter()
            .map(|r| (r.code.as_str(), r.issued, r.paid))
            .collect();
        assert_eq!(
            got,
            vec![
                ("peshawar", 4219, 4201),
                ("swat", 891, 875),
                ("abbottabad", 289, 282),
                ("dera-ismail-khan", 36, 36),
            ]
        );
        let figs = store
            .read(|tx| stats::officer_figures(tx, &Scope::all(), Range::default()))
            .await
            .unwrap();
        let flags = efine_core::stats::officer_anomalies(&figs);
        // The demo opens one cancellation request on purpose (so the supervisors' queue has
        // something to show); with every other officer at zero it stands out on its own, so
        // that metric is left out here: the pilot's planted pattern is the off-hours one.
        let flagged: Vec<(&str, &str)> = flags
            .iter()
            .map(|f| (f.subject.as_str(), f.metric.as_str()))
            .filter(|(_, m)| *m != "cancellation_requests")
            .collect();
        assert_eq!(
            flagged,
            vec![(super::PLANTED_OFFICER, "off_hours")],
            "{flags:?}"
        );
    }
}
