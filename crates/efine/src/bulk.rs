//! `efine bulk-issue`: fills a database with synthetic challans for measurements, written through
//! the real issuance path (numbers, events, statistics) in large write batches, spread over the
//! districts, a staff of officers per district, the traffic schedule and the past year, with a
//! share of them paid at the counter. Never point it at a production database.

use anyhow::{Context, Result};
use clap::Args;
use efine_core::auth::{Principal, Role};
use efine_core::challan::Location;
use efine_core::clock::KARACHI;
use efine_core::{DepartmentCode, OffenceCode, VehicleNumber};
use efine_store::ops::{catalogue, challans, payments, users};
use efine_store::{NewChallan, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Instant;

#[derive(Args, Debug, Clone)]
pub struct BulkArgs {
    /// How many challans to write.
    #[arg(long, default_value_t = 100_000)]
    pub challans: u64,
    /// Officers per district.
    #[arg(long, default_value_t = 4)]
    pub officers: u32,
    /// Spread over this many days before now.
    #[arg(long, default_value_t = 365)]
    pub days: i64,
    /// Percent of the challans paid (at a counter, on the day after issue).
    #[arg(long, default_value_t = 70)]
    pub paid_percent: u32,
    /// Operations per write batch.
    #[arg(long, default_value_t = 2_000)]
    pub batch: usize,
}

pub async fn run(store: &Store, args: &BulkArgs) -> Result<()> {
    let trf = DepartmentCode::parse("traffic-police")?;
    let t = trf.clone();
    let offences: Vec<OffenceCode> = store
        .read(move |tx| catalogue::offences(tx, Some(&t)))
        .await?
        .into_iter()
        .filter(|o| o.kind == efine_core::OffenceKind::Fine)
        .map(|o| o.code)
        .collect();
    let districts = store.read(catalogue::districts).await?;
    anyhow::ensure!(
        !offences.is_empty() && !districts.is_empty(),
        "no catalogue"
    );
    let now = store.now();
    let run_id = now.unix_timestamp();
    let mut officers: Vec<Principal> = Vec::new();
    let cashier_name = format!("bulk.{run_id}.cashier");
    for d in &districts {
        for n in 0..args.officers {
            let new = users::NewUser {
                username: format!("bulk.{run_id}.{}.{n}", d.code),
                // Not a password hash: these accounts cannot log in.
                password_hash: "!".into(),
                role: Role::Officer,
                department: Some(trf.clone()),
                district: Some(d.code.clone()),
            };
            officers.push(
                store
                    .write(move |tx| users::add(tx, &new, "bulk", now))
                    .await?,
            );
        }
    }
    let cashier = users::NewUser {
        username: cashier_name.clone(),
        password_hash: "!".into(),
        role: Role::Finance,
        department: None,
        district: None,
    };
    store
        .write(move |tx| users::add(tx, &cashier, "bulk", now))
        .await?;

    let bar = indicatif::ProgressBar::new(args.challans);
    bar.set_message("writing challans");
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(args.challans);
    let mut pending = Vec::with_capacity(args.batch);
    for i in 0..args.challans {
        let officer = officers[rng.gen_range(0..officers.len())].clone();
        let day = rng.gen_range(1..=args.days.max(1));
        let minute = rng.gen_range(7 * 60..23 * 60);
        let at = (now - time::Duration::days(day))
            .to_offset(KARACHI)
            .replace_time(time::Time::MIDNIGHT)
            + time::Duration::minutes(minute);
        let pay = rng.gen_range(0..100) < args.paid_percent;
        let new = NewChallan {
            department: trf.clone(),
            offence: offences[rng.gen_range(0..offences.len())].clone(),
            district: officer
                .district
                .clone()
                .context("officer without district")?,
            vehicle: Some(VehicleNumber::parse(&format!(
                "BLK-{}",
                rng.gen_range(1..100_000)
            ))?),
            vehicle_authority: None,
            cnic: None,
            mobile: None,
            name: None,
            location: Location {
                lat_micro: Some(rng.gen_range(31_500_000..36_000_000)),
                lon_micro: Some(rng.gen_range(70_000_000..73_500_000)),
                text: None,
            },
            notes: None,
        };
        let cashier = cashier_name.clone();
        pending.push(store.submit(move |tx| {
            let challan = challans::issue(tx, &officer, &new, at)?;
            if pay {
                let paid_at = at + time::Duration::days(1);
                let (_, due) = payments::payable(
                    tx,
                    &challan.number,
                    efine_core::clock::karachi_date(paid_at),
                )?;
                payments::pay_at_counter(tx, &challan.number, due, &cashier, paid_at)?;
            }
            Ok(())
        }));
        if pending.len() >= args.batch {
            for p in pending.drain(..) {
                p.await?;
            }
            bar.set_position(i + 1);
        }
    }
    for p in pending.drain(..) {
        p.await?;
    }
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "wrote {} challans ({}% paid) for {} officers in {secs:.1} s: {:.0} challans/s ({} backend)",
        args.challans,
        args.paid_percent,
        officers.len(),
        args.challans as f64 / secs,
        store.backend()
    );
    Ok(())
}
