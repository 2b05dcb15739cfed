//! `efine import --generate N`: a synthetic import file for tests and measurements, from the
//! built-in KP catalogue. Half the challans fall in the four pilot districts in the pilot's
//! proportions, the rest anywhere; seven in ten are traffic challans; issue times spread over
//! the years before today, in the day's working hours; the paid share is paid within two months
//! of issue, the amount due on that day (discounts and surcharges as the schedule says), over the
//! rails in a plausible mix. Most numbers are E-Fine numbers, some are an earlier system's own
//! format and some are missing, so every path of the import is taken.

use super::COLUMNS;
use anyhow::Result;
use efine_core::catalogue::{Offence, OffenceKind};
use efine_core::clock::{karachi_date, KARACHI};
use efine_core::penalty::{self, Adjustments, Terms};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::io::Write;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// The pilot districts and their weight among the pilot's challans (Peshawar 4,219, Swat 891,
/// Abbottabad 289, DI Khan 36).
const PILOT: &[(&str, u32)] = &[
    ("peshawar", 4219),
    ("swat", 891),
    ("abbottabad", 289),
    ("dera-ismail-khan", 36),
];

const RAILS: &[(&str, u32)] = &[
    ("1bill", 45),
    ("jazzcash", 15),
    ("easypaisa", 15),
    ("card", 10),
    ("counter", 10),
    ("raast", 5),
];

fn weighted<'a>(rng: &mut StdRng, items: &'a [(&'a str, u32)]) -> &'a str {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut pick = rng.gen_range(0..total);
    for (name, w) in items {
        if pick < *w {
            return name;
        }
        pick -= w;
    }
    items[0].0
}

pub fn write(
    out: impl Write,
    n: u64,
    seed: u64,
    years: i64,
    paid_percent: u32,
    now: OffsetDateTime,
) -> Result<()> {
    let cat = efine_store::catalogue_seed::parse(efine_store::catalogue_seed::KP)?;
    let mut offences: HashMap<String, Vec<&Offence>> = HashMap::new();
    for o in cat.offences.iter().filter(|o| o.kind == OffenceKind::Fine) {
        offences
            .entry(o.department.to_string())
            .or_default()
            .push(o);
    }
    let departments: Vec<_> = cat
        .departments
        .iter()
        .filter(|d| offences.contains_key(d.code.as_str()))
        .collect();
    anyhow::ensure!(!departments.is_empty(), "the catalogue has no fines");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut seqs: HashMap<String, u64> = HashMap::new();
    let mut w = csv::Writer::from_writer(std::io::BufWriter::with_capacity(1 << 20, out));
    w.write_record(COLUMNS)?;
    let days = (years.max(1) * 365).max(2);
    let today = karachi_date(now);
    let plates = [
        "PES", "LEA", "ABT", "SWT", "MRD", "KHI", "ISB", "DIK", "BNU", "KHT",
    ];
    for i in 0..n {
        let district = if rng.gen_bool(0.5) {
            let name = weighted(&mut rng, PILOT);
            cat.districts
                .iter()
                .find(|d| d.code.as_str() == name)
                .unwrap_or(&cat.districts[0])
        } else {
            &cat.districts[rng.gen_range(0..cat.districts.len())]
        };
        let department = if rng.gen_range(0..10) < 7 {
            departments
                .iter()
                .find(|d| d.code.as_str() == "traffic-police")
                .unwrap_or(&departments[0])
        } else {
            &departments[rng.gen_range(0..departments.len())]
        };
        let list = &offences[department.code.as_str()];
        let offence = list[rng.gen_range(0..list.len())];
        let day = today - Duration::days(rng.gen_range(1..days));
        let issued_at = day
            .with_hms(
                rng.gen_range(7..23),
                rng.gen_range(0..60),
                rng.gen_range(0..60),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .assume_offset(KARACHI);
        let year = day.year();
        let key = format!("{}-{}-{year}", department.abbr, district.abbr);
        let seq = seqs.entry(key.clone()).or_insert(0);
        *seq += 1;
        let number = match rng.gen_range(0..100) {
            0..=89 => format!("{key}-{:06}", *seq),
            90..=94 => format!("{}/{year}/{i}", district.abbr),
            _ => String::new(),
        };
        let traffic = department.code.as_str() == "traffic-police";
        let vehicle = if traffic || rng.gen_bool(0.2) {
            format!(
                "{}-{}",
                plates[rng.gen_range(0..plates.len())],
                rng.gen_range(1..10_000)
            )
        } else {
            String::new()
        };
        let cnic = if rng.gen_range(0..10) < 4 {
            format!(
                "{:05}-{:07}-{}",
                rng.gen_range(11_000..17_999),
                rng.gen_range(0..10_000_000),
                rng.gen_range(1..10)
            )
        } else {
            String::new()
        };
        let (name, mobile) = if rng.gen_range(0..10) < 3 {
            (
                format!("Citizen {i}"),
                format!("03{:09}", rng.gen_range(0..1_000_000_000u64)),
            )
        } else {
            (String::new(), String::new())
        };
        let due = efine_core::challan::due_date(day, offence.days_to_pay);
        let mut paid = [String::new(), String::new(), String::new(), String::new()];
        if rng.gen_range(0..100) < paid_percent {
            let mut paid_at = issued_at
                + Duration::days(rng.gen_range(0..60))
                + Duration::minutes(rng.gen_range(0..600));
            if paid_at >= now {
                paid_at = issued_at + Duration::minutes(rng.gen_range(1..60));
            }
            let adjustments = Adjustments::default();
            let terms = Terms {
                amount: offence.amount,
                issued_on: day,
                due_date: due,
                schedule: &offence.penalty,
                adjustments: &adjustments,
            };
            let amount = penalty::amount_due(&terms, karachi_date(paid_at));
            let rail = weighted(&mut rng, RAILS);
            paid = [
                paid_at.to_offset(KARACHI).format(&Rfc3339)?,
                amount.paisa().to_string(),
                rail.to_string(),
                format!("GEN{seed}-{i}"),
            ];
        }
        let issued = issued_at.format(&Rfc3339)?;
        let officer = format!("officer.{}.{}", district.code, rng.gen_range(1..6));
        let amount = offence.amount.paisa().to_string();
        let due = due.to_string();
        w.write_record([
            number.as_str(),
            "",
            department.code.as_str(),
            district.code.as_str(),
            offence.code.as_str(),
            vehicle.as_str(),
            "",
            cnic.as_str(),
            name.as_str(),
            mobile.as_str(),
            officer.as_str(),
            issued.as_str(),
            amount.as_str(),
            due.as_str(),
            paid[0].as_str(),
            paid[1].as_str(),
            paid[2].as_str(),
            paid[3].as_str(),
            "",
            "",
        ])?;
    }
    w.flush()?;
    Ok(())
}
