//! Store conformance suite: one set of cases, each run against both backends.
//!
//! Every case is an `async fn(TestDb)` written once; `conformance!` expands it into a
//! `sqlite_<name>` test (a fresh file in a temporary directory) and a `postgres_<name>` test (a
//! fresh schema on the server named by `EFINE_TEST_DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`).

mod common;

use common::*;
use efine_core::auth::Role;
use efine_core::challan::Challan;
use efine_core::clock::ManualClock;
use efine_core::{ChallanNumber, ChallanStatus, Cnic, Money, Psid, VehicleNumber};
use efine_store::ops::audit::Finding;
use efine_store::ops::catalogue::{self, ScheduleChange};
use efine_store::ops::{challans, events, users};
use efine_store::sql::Dialect;
use efine_store::testing::RawSql;
use efine_store::{IdempotencyKey, StoreError};
use std::collections::HashSet;
use std::sync::Arc;
use time::macros::{date, datetime};
use time::Duration;

macro_rules! conformance {
    ($($case:ident => $sqlite:ident, $postgres:ident;)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $sqlite() {
                $case(TestDb::sqlite()).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $postgres() {
                $case(TestDb::postgres()).await
            }
        )*
    };
}

conformance! {
    catalogue_versions => sqlite_catalogue_versions, postgres_catalogue_versions;
    users_and_tokens => sqlite_users_and_tokens, postgres_users_and_tokens;
    issue_and_lookup => sqlite_issue_and_lookup, postgres_issue_and_lookup;
    refusals_leave_nothing => sqlite_refusals_leave_nothing, postgres_refusals_leave_nothing;
    idempotency => sqlite_idempotency, postgres_idempotency;
    concurrent_gap_free => sqlite_concurrent_gap_free, postgres_concurrent_gap_free;
    concurrent_two_writers_gap_free =>
        sqlite_concurrent_two_writers_gap_free, postgres_concurrent_two_writers_gap_free;
    group_commit_isolates_failures =>
        sqlite_group_commit_isolates_failures, postgres_group_commit_isolates_failures;
    tamper_detection => sqlite_tamper_detection, postgres_tamper_detection;
    acknowledged_writes_survive_reopen =>
        sqlite_acknowledged_writes_survive_reopen, postgres_acknowledged_writes_survive_reopen;
    stats_rebuild_equals_live =>
        sqlite_stats_rebuild_equals_live, postgres_stats_rebuild_equals_live;
    schedule_change_in_force_on_every_node =>
        sqlite_schedule_change_in_force_on_every_node,
        postgres_schedule_change_in_force_on_every_node;
    idempotency_scopes_and_stored_keys =>
        sqlite_idempotency_scopes_and_stored_keys, postgres_idempotency_scopes_and_stored_keys;
    stats_tally_under_rollback =>
        sqlite_stats_tally_under_rollback, postgres_stats_tally_under_rollback;
    escalation_visits_only_due =>
        sqlite_escalation_visits_only_due, postgres_escalation_visits_only_due;
    batch_holds_rows_until_commit =>
        sqlite_batch_holds_rows_until_commit, postgres_batch_holds_rows_until_commit;
}

const TRF: &str = "traffic-police";
const EXC: &str = "excise-taxation";
const PSH: &str = "peshawar";
const SWAT: &str = "swat";

fn kp() -> efine_core::catalogue::Catalogue {
    efine_store::catalogue_seed::parse(efine_store::catalogue_seed::KP).expect("KP parses")
}

fn assert_invalid(r: Result<impl std::fmt::Debug, StoreError>, want_field: &str) {
    match r {
        Err(StoreError::Invalid { field, .. }) => assert_eq!(field, want_field),
        other => panic!("expected Invalid({want_field}), got {other:?}"),
    }
}

fn assert_conflict(r: Result<impl std::fmt::Debug, StoreError>, want_code: &str) {
    match r {
        Err(StoreError::Conflict { code, .. }) => assert_eq!(code, want_code),
        other => panic!("expected Conflict({want_code}), got {other:?}"),
    }
}

fn assert_forbidden(r: Result<impl std::fmt::Debug, StoreError>) {
    match r {
        Err(StoreError::Forbidden(_)) => {}
        other => panic!("expected Forbidden, got {other:?}"),
    }
}

// 1. The catalogue loads once, reads back whole, and versions offences without touching issued
//    challans.
async fn catalogue_versions(db: TestDb) {
    let (store, clock) = db.open_at(datetime!(2026-03-14 10:00 UTC)).await;
    let seed = kp();

    assert!(load_kp(&store).await, "the first load loads");
    assert!(!load_kp(&store).await, "a second load must do nothing");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM districts").await, 38);
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM offences").await,
        seed.offences.len() as i64,
        "the second load must not duplicate offences"
    );
    assert_eq!(head(&store).await.0, 1, "one catalogue.loaded event");

    let trf = dep(TRF);
    let exc = dep(EXC);
    let (districts, departments, all, trf_offences, exc_offences) = {
        let (trf, exc) = (trf.clone(), exc.clone());
        store
            .read(move |tx| {
                Ok((
                    catalogue::districts(tx)?,
                    catalogue::departments(tx)?,
                    catalogue::offences(tx, None)?,
                    catalogue::offences(tx, Some(&trf))?,
                    catalogue::offences(tx, Some(&exc))?,
                ))
            })
            .await
            .unwrap()
    };
    assert_eq!(districts.len(), 38);
    let peshawar = districts.iter().find(|d| d.code.as_str() == PSH).unwrap();
    assert_eq!(peshawar.abbr.as_str(), "PSH");
    assert_eq!(peshawar.number, 38);
    assert!(departments.len() >= 8, "{} departments", departments.len());
    assert_eq!(departments.len(), seed.departments.len());
    assert_eq!(all.len(), seed.offences.len());
    let trf_seed = seed.offences.iter().filter(|o| o.department == trf).count();
    assert!(trf_seed >= 4);
    assert_eq!(trf_offences.len(), trf_seed);
    assert!(trf_offences.iter().all(|o| o.department == trf));
    assert!(!exc_offences.is_empty());
    assert!(exc_offences.iter().all(|o| o.department == exc));
    assert_eq!(
        all.len(),
        seed.departments
            .iter()
            .map(|d| seed
                .offences
                .iter()
                .filter(|o| o.department == d.code)
                .count())
            .sum::<usize>()
    );

    let officer = add_officer(&store, "officer1", TRF, PSH).await;
    let seeded = seed
        .offences
        .iter()
        .find(|o| o.department == trf && o.code.as_str() == "no-helmet")
        .unwrap()
        .clone();
    let before = issue_ok(&store, &officer, request(TRF, PSH, "no-helmet")).await;
    assert_eq!(before.amount, seeded.amount);
    assert_eq!(before.offence_version, 1);

    // A schedule change: a new version, in force from now.
    clock.advance(Duration::days(1));
    let new_amount = Money::from_paisa(seeded.amount.paisa() + 25_000).unwrap();
    let change = ScheduleChange {
        department: trf.clone(),
        code: off("no-helmet"),
        amount: new_amount,
        days_to_pay: 10,
    };
    let at = store.now();
    let changed = store
        .write(move |tx| catalogue::change_offence(tx, &change, "admin", at))
        .await
        .unwrap();
    assert_eq!(changed.version, 2);
    assert_eq!(changed.amount, new_amount);

    let unknown = ScheduleChange {
        department: trf.clone(),
        code: off("no-such-offence"),
        amount: new_amount,
        days_to_pay: 10,
    };
    assert_invalid(
        store
            .write(move |tx| catalogue::change_offence(tx, &unknown, "admin", at))
            .await,
        "offence_code",
    );

    let (current, listed) = {
        let trf = trf.clone();
        store
            .read(move |tx| {
                Ok((
                    catalogue::current_offence(tx, &trf, &off("no-helmet"))?,
                    catalogue::offences(tx, Some(&trf))?,
                ))
            })
            .await
            .unwrap()
    };
    let (_, current) = current.expect("current offence");
    assert_eq!(current.version, 2);
    assert_eq!(current.amount, new_amount);
    assert_eq!(current.days_to_pay, 10);
    assert_eq!(listed.len(), trf_seed, "the list shows each offence once");
    let listed_helmet = listed
        .iter()
        .find(|o| o.code.as_str() == "no-helmet")
        .unwrap();
    assert_eq!(listed_helmet.version, 2);
    assert_eq!(listed_helmet.amount, new_amount);

    let after = issue_ok(&store, &officer, request(TRF, PSH, "no-helmet")).await;
    assert_eq!(after.amount, new_amount);
    assert_eq!(after.offence_version, 2);
    assert_eq!(after.due_date, date!(2026 - 03 - 15) + Duration::days(10));

    // The challan issued before the change keeps its amount, version and due date.
    let number = before.number.clone();
    let (reread, names) = store
        .read(move |tx| {
            let c = challans::by_number(tx, &number)?.expect("still there");
            let names = catalogue::names_for(tx, &c)?;
            Ok((c, names))
        })
        .await
        .unwrap();
    assert_eq!(reread, before);
    assert_eq!(reread.amount, seeded.amount);
    assert_eq!(reread.offence_version, 1);
    assert_eq!(names.offence_en, seeded.name_en);
    assert_eq!(names.district_en, "Peshawar");

    assert_eq!(verify_challans(&store).await, Ok(2));
    // catalogue.loaded, user.created, 2 x challan.issued, catalogue.offence_changed
    assert_eq!(verify_chain(&store).await, Ok(5));
}

// 2. Users: the rules on adding one; tokens: lookup and expiry; passwords.
async fn users_and_tokens(db: TestDb) {
    let (store, clock) = db.open_at(datetime!(2026-03-14 10:00 UTC)).await;
    load_kp(&store).await;
    let start = head(&store).await;

    assert_invalid(
        add_user(&store, "nodep", Role::Officer, None, Some(PSH)).await,
        "department",
    );
    assert_invalid(
        add_user(&store, "nodist", Role::Officer, Some(TRF), None).await,
        "district",
    );
    assert_invalid(
        add_user(
            &store,
            "baddep",
            Role::Officer,
            Some("no-such-department"),
            Some(PSH),
        )
        .await,
        "department",
    );
    assert_invalid(
        add_user(
            &store,
            "baddist",
            Role::Officer,
            Some(TRF),
            Some("atlantis"),
        )
        .await,
        "district",
    );
    assert_invalid(
        add_user(&store, "x", Role::Officer, Some(TRF), Some(PSH)).await,
        "username",
    );
    assert_eq!(head(&store).await, start, "refused adds record no event");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM users").await, 0);

    let officer = add_officer(&store, "Officer1", TRF, PSH).await;
    assert_eq!(officer.username, "officer1", "usernames are lower-cased");
    assert_eq!(officer.role, Role::Officer);
    assert_eq!(officer.department, Some(dep(TRF)));
    assert_eq!(officer.district, Some(dis(PSH)));
    let supervisor = add_user(&store, "super1", Role::Supervisor, Some(TRF), None)
        .await
        .expect("a supervisor needs no district");
    assert_ne!(supervisor.user_id, officer.user_id);

    assert_conflict(
        add_user(&store, "officer1", Role::Officer, Some(TRF), Some(SWAT)).await,
        "username_taken",
    );
    assert_conflict(
        add_user(&store, "OFFICER1", Role::Auditor, None, None).await,
        "username_taken",
    );
    assert_eq!(head(&store).await.0, start.0 + 2);

    let login = store
        .read(|tx| users::for_login(tx, " OFFICER1 "))
        .await
        .unwrap()
        .expect("the officer can log in");
    assert_eq!(login.principal, officer);
    assert_eq!(login.password_hash, "not-a-real-hash");
    assert!(store
        .read(|tx| users::for_login(tx, "nobody"))
        .await
        .unwrap()
        .is_none());

    // Tokens.
    let (token, hash) = users::new_token();
    assert_eq!(users::token_hash(&token), hash);
    assert_ne!(token, hash, "the token itself is never stored");
    let issued_at = store.now();
    let expires = issued_at + Duration::hours(1);
    {
        let (officer, hash) = (officer.clone(), hash.clone());
        store
            .write(move |tx| users::create_token(tx, &officer, &hash, issued_at, expires))
            .await
            .unwrap();
    }
    let lookup = |store: &efine_store::Store, hash: String| {
        let now = store.now();
        let store = store.clone();
        async move {
            store
                .read(move |tx| users::by_token(tx, &hash, now))
                .await
                .unwrap()
        }
    };
    assert_eq!(lookup(&store, hash.clone()).await, Some(officer.clone()));
    assert_eq!(lookup(&store, users::token_hash("forged")).await, None);
    assert_eq!(
        lookup(&store, token.clone()).await,
        None,
        "the raw token is not the key"
    );
    clock.advance(Duration::minutes(59));
    assert_eq!(lookup(&store, hash.clone()).await, Some(officer.clone()));
    clock.set(expires);
    assert_eq!(
        lookup(&store, hash.clone()).await,
        None,
        "expired at expiry"
    );
    clock.advance(Duration::hours(1));
    assert_eq!(lookup(&store, hash.clone()).await, None, "expired");

    // Passwords (Argon2: slow on purpose, so on a blocking thread).
    let (ok, wrong, other_salt, garbage) = tokio::task::spawn_blocking(|| {
        let h = users::hash_password("correct horse battery").unwrap();
        let h2 = users::hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(!h.contains("correct horse"));
        (
            users::verify_password("correct horse battery", &h),
            users::verify_password("correct horse batterY", &h),
            h != h2,
            users::verify_password("anything", "not-a-real-hash"),
        )
    })
    .await
    .unwrap();
    assert!(ok, "the right password verifies");
    assert!(!wrong, "a wrong password does not");
    assert!(other_salt, "each hash has its own salt");
    assert!(!garbage, "a malformed stored hash never verifies");
}

// 3. Issuing: amount and due date from the catalogue, numbers, PSIDs and every lookup.
async fn issue_and_lookup(db: TestDb) {
    // 19:30 UTC is 00:30 the next day in Karachi.
    let (store, clock) = db.open_at(datetime!(2026-03-14 19:30 UTC)).await;
    load_kp(&store).await;
    let officer = add_officer(&store, "officer1", TRF, PSH).await;
    let (_, helmet) = store
        .read(|tx| catalogue::current_offence(tx, &dep(TRF), &off("no-helmet")))
        .await
        .unwrap()
        .unwrap();

    let mut new = request(TRF, PSH, "no-helmet");
    new.vehicle = Some(VehicleNumber::parse("pes 1234").unwrap());
    new.cnic = Some(Cnic::parse("17301-1234567-1").unwrap());
    new.name = Some("Test Person".into());
    new.notes = Some("near the roundabout".into());
    new.location.lat_micro = Some(34_012_345);
    new.location.lon_micro = Some(71_543_210);
    new.location.text = Some("University Road".into());
    let c1 = issue_ok(&store, &officer, new.clone()).await;
    assert_eq!(c1.number.to_string(), "TRF-PSH-2026-000001");
    assert_eq!(c1.amount, helmet.amount);
    assert_eq!(c1.kind, helmet.kind);
    assert_eq!(c1.offence_version, helmet.version);
    assert_eq!(
        c1.due_date,
        date!(2026 - 03 - 15) + Duration::days(i64::from(helmet.days_to_pay)),
        "due = the local (Karachi) issue date + days_to_pay"
    );
    assert_eq!(c1.issued_at, datetime!(2026-03-14 19:30 UTC));
    assert_eq!(c1.status, ChallanStatus::Unpaid);
    assert_eq!(c1.officer, "officer1");
    assert_eq!(c1.vehicle.as_ref().unwrap().as_str(), "PES-1234");

    clock.advance(Duration::hours(1));
    let mut second = request(TRF, PSH, "no-seat-belt");
    second.vehicle = Some(VehicleNumber::parse("PES1234").unwrap());
    second.cnic = Some(Cnic::parse("1730112345671").unwrap());
    let c2 = issue_ok(&store, &officer, second).await;
    assert_eq!(c2.number.to_string(), "TRF-PSH-2026-000002");

    let mut third = request(TRF, PSH, "no-helmet");
    third.vehicle = Some(VehicleNumber::parse("LEA-777").unwrap());
    third.cnic = Some(Cnic::parse("42101-7654321-3").unwrap());
    let c3 = issue_ok(&store, &officer, third).await;
    assert_eq!(c3.number.to_string(), "TRF-PSH-2026-000003");

    // PSIDs: year 26, department 01, district 38, sequence, check digit.
    let p1 = Psid::parse(c1.psid.as_str()).expect("a valid PSID");
    assert_eq!(p1, Psid::for_challan(2026, 1, 38, 1));
    assert!(p1.as_str().starts_with("260138000000001"), "{p1}");
    let psids: HashSet<_> = [&c1, &c2, &c3].iter().map(|c| c.psid.clone()).collect();
    assert_eq!(psids.len(), 3);

    let (by_psid, by_number, by_typed_number, missing, by_vehicle, by_cnic, other) = {
        let p1 = p1.clone();
        store
            .read(move |tx| {
                Ok((
                    challans::by_psid(tx, &p1)?,
                    challans::by_number(tx, &ChallanNumber::parse("TRF-PSH-2026-000002").unwrap())?,
                    challans::by_number(tx, &ChallanNumber::parse("trf psh 2026 3").unwrap())?,
                    challans::by_number(tx, &ChallanNumber::parse("TRF-PSH-2026-000004").unwrap())?,
                    challans::by_vehicle(tx, &VehicleNumber::parse("PES-1234").unwrap(), 10)?,
                    challans::by_cnic(tx, &Cnic::parse("17301-1234567-1").unwrap(), 10)?,
                    challans::by_vehicle(tx, &VehicleNumber::parse("lea777").unwrap(), 10)?,
                ))
            })
            .await
            .unwrap()
    };
    assert_eq!(
        by_psid.as_ref(),
        Some(&c1),
        "the row reads back exactly as issued"
    );
    assert_eq!(by_number.as_ref(), Some(&c2));
    assert_eq!(by_typed_number.as_ref(), Some(&c3));
    assert_eq!(missing, None);
    let numbers = |cs: &[Challan]| cs.iter().map(|c| c.number.to_string()).collect::<Vec<_>>();
    assert_eq!(
        numbers(&by_vehicle),
        ["TRF-PSH-2026-000002", "TRF-PSH-2026-000001"],
        "newest first"
    );
    assert_eq!(numbers(&by_cnic), numbers(&by_vehicle));
    assert_eq!(numbers(&other), ["TRF-PSH-2026-000003"]);
    let limited = store
        .read(|tx| challans::by_vehicle(tx, &VehicleNumber::parse("PES 1234").unwrap(), 1))
        .await
        .unwrap();
    assert_eq!(numbers(&limited), ["TRF-PSH-2026-000002"]);
    // Two at the same instant: the later issued is still listed first.
    let mut same_instant = request(TRF, PSH, "no-seat-belt");
    same_instant.vehicle = Some(VehicleNumber::parse("LEA 777").unwrap());
    let c3b = issue_ok(&store, &officer, same_instant).await;
    assert_eq!(c3b.issued_at, c3.issued_at);
    let both = store
        .read(|tx| challans::by_vehicle(tx, &VehicleNumber::parse("LEA-777").unwrap(), 10))
        .await
        .unwrap();
    assert_eq!(
        numbers(&both),
        ["TRF-PSH-2026-000004", "TRF-PSH-2026-000003"]
    );

    // The number's year is the local year: 19:30 UTC on 31 December is already next year.
    clock.set(datetime!(2026-12-31 19:30 UTC));
    let c4 = issue_ok(&store, &officer, request(TRF, PSH, "no-helmet")).await;
    assert_eq!(c4.number.to_string(), "TRF-PSH-2027-000001");
    assert_eq!(c4.psid, Psid::for_challan(2027, 1, 38, 1));
    assert_eq!(
        c4.due_date,
        date!(2027 - 01 - 01) + Duration::days(i64::from(helmet.days_to_pay))
    );

    assert_eq!(verify_challans(&store).await, Ok(5));
}

// 4. Refusals leave nothing half-written: no number used, no event appended.
async fn refusals_leave_nothing(db: TestDb) {
    let (store, _clock) = db.open_at(datetime!(2026-03-14 10:00 UTC)).await;
    load_kp(&store).await;
    let officer = add_officer(&store, "officer1", TRF, PSH).await;
    let c1 = issue_ok(&store, &officer, request(TRF, PSH, "no-helmet")).await;
    assert_eq!(c1.number.seq(), 1);
    let exc_offence = store
        .read(|tx| catalogue::offences(tx, Some(&dep(EXC))))
        .await
        .unwrap()
        .remove(0)
        .code;

    let before = head(&store).await;
    assert_forbidden(issue(&store, &officer, request(TRF, SWAT, "no-helmet")).await);
    assert_forbidden(issue(&store, &officer, request(EXC, PSH, exc_offence.as_str())).await);
    assert_invalid(
        issue(&store, &officer, request(TRF, PSH, "no-such-offence")).await,
        "offence_code",
    );
    assert_invalid(
        issue(&store, &officer, request(TRF, "atlantis", "no-helmet")).await,
        "district",
    );
    // An operation that issues a challan and then fails: the whole of it is rolled back,
    // including the number it drew.
    {
        let officer = officer.clone();
        let at = store.now();
        let r = store
            .write(move |tx| {
                let outcome = challans::issue(tx, &officer, &request(TRF, PSH, "no-helmet"), at)?;
                // Report what was written through the error (never panic on the writer).
                Err::<(), _>(StoreError::conflict(
                    "test_abort",
                    outcome.number.to_string(),
                ))
            })
            .await;
        match r {
            Err(StoreError::Conflict { code, message }) => {
                assert_eq!(code, "test_abort");
                assert_eq!(
                    message, "TRF-PSH-2026-000002",
                    "it had drawn the next number"
                );
            }
            other => panic!("expected the operation's own error, got {other:?}"),
        }
    }
    assert_eq!(head(&store).await, before, "failures append no event");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM challans").await, 1);

    let c2 = issue_ok(&store, &officer, request(TRF, PSH, "no-helmet")).await;
    assert_eq!(c2.number.to_string(), "TRF-PSH-2026-000002", "no gap");
    assert_eq!(head(&store).await.0, before.0 + 1);
    assert_eq!(
        count(&store, "SELECT MAX(value) FROM counters").await,
        2,
        "the counter stands at the last issued number"
    );
    assert_eq!(verify_challans(&store).await, Ok(2));
    assert!(verify_chain(&store).await.is_ok());
}

// 5. Idempotency keys: a replay answers the first response; a reused key with another body is
//    refused; only one challan exists.
async fn idempotency(db: TestDb) {
    let (store, _clock) = db.open_at(datetime!(2026-03-14 10:00 UTC)).await;
    load_kp(&store).await;
    let officer = add_officer(&store, "officer1", TRF, PSH).await;
    let key = |hash: &str| {
        Some(IdempotencyKey {
            key: "key-0001".into(),
            request_hash: hash.into(),
        })
    };

    let first = issue_with(&store, &officer, request(TRF, PSH, "no-helmet"), key("h1"))
        .await
        .unwrap();
    let (challan, first_status, first_body) = match first {
        IssueOutcome::Issued {
            challan,
            status,
            body,
        } => (*challan, status, body),
        other => panic!("expected Issued, got {other:?}"),
    };
    assert_eq!(first_status, 201);
    assert_eq!(first_body, render(&challan).1);
    let after_first = head(&store).await;

    for _ in 0..2 {
        match issue_with(&store, &officer, request(TRF, PSH, "no-helmet"), key("h1"))
            .await
            .unwrap()
        {
            IssueOutcome::Replayed { status, body } => {
                assert_eq!(status, first_status);
                assert_eq!(body, first_body);
            }
            other => panic!("expected Replayed, got {other:?}"),
        }
    }
    assert_conflict(
        issue_with(
            &store,
            &officer,
            request(TRF, PSH, "no-seat-belt"),
            key("h2"),
        )
        .await,
        "idempotency_key_reused",
    );
    assert_eq!(count(&store, "SELECT COUNT(*) FROM challans").await, 1);
    assert_eq!(head(&store).await, after_first, "replays append no event");

    // Keys belong to their user: another officer's identical key is a new request.
    let other = add_officer(&store, "officer2", TRF, PSH).await;
    let c2 = issued(
        issue_with(&store, &other, request(TRF, PSH, "no-helmet"), key("h1"))
            .await
            .unwrap(),
    );
    assert_eq!(c2.number.seq(), 2);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM challans").await, 2);

    // A retry storm: the same new key sent 20 times at once through two stores on the database
    // (a client retrying against two servers) issues exactly one challan.
    let second_store = db.open().await.with_clock(store.clock());
    let storm: Vec<_> = (0..20)
        .map(|i| {
            let s = if i % 2 == 0 {
                store.clone()
            } else {
                second_store.clone()
            };
            let officer = officer.clone();
            tokio::spawn(async move {
                let k = IdempotencyKey {
                    key: "key-0002".into(),
                    request_hash: "h3".into(),
                };
                issue_with(&s, &officer, request(TRF, PSH, "no-helmet"), Some(k)).await
            })
        })
        .collect();
    let (mut fresh, mut bodies) = (Vec::new(), HashSet::new());
    for h in storm {
        match h.await.unwrap().expect("a retry is never an error") {
            IssueOutcome::Issued { challan, body, .. } => {
                fresh.push(*challan);
                bodies.insert(body);
            }
            IssueOutcome::Replayed { body, .. } => {
                bodies.insert(body);
            }
        }
    }
    assert_eq!(fresh.len(), 1, "exactly one retry issues");
    assert_eq!(fresh[0].number.seq(), 3);
    assert_eq!(bodies.len(), 1, "every retry gets the same body");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM challans").await, 3);
    assert_eq!(verify_challans(&store).await, Ok(3));
}

/// Issues `n` challans at once from `tasks`, spread over the stores and officers given.
async fn issue_concurrently(
    stores: &[efine_store::Store],
    officers: &[efine_core::auth::Principal],
    n: usize,
) -> Vec<Challan> {
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let store = stores[i % stores.len()].clone();
            let officer = officers[i % officers.len()].clone();
            let offence = if i % 2 == 0 {
                "no-helmet"
            } else {
                "no-seat-belt"
            };
            tokio::spawn(
                async move { issue_ok(&store, &officer, request(TRF, PSH, offence)).await },
            )
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for h in handles {
        out.push(h.await.expect("issuing task"));
    }
    out
}

fn assert_gap_free(issued: &[Challan], n: u64) {
    let mut seqs: Vec<u64> = issued.iter().map(|c| c.number.seq()).collect();
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (1..=n).collect::<Vec<_>>(),
        "numbers 1..={n}, no gap, no duplicate"
    );
    let psids: HashSet<_> = issued.iter().map(|c| c.psid.clone()).collect();
    assert_eq!(psids.len() as u64, n, "PSIDs unique");
    for c in issued {
        assert_eq!(c.psid, Psid::for_challan(2026, 1, 38, c.number.seq()));
    }
}

async fn assert_gap_free_in_db(store: &efine_store::Store, n: i64) {
    let (rows, min, max, distinct) = store
        .read(|tx| {
            let r = tx.query_one(
                "SELECT COUNT(*), MIN(seq), MAX(seq), COUNT(DISTINCT seq) FROM challans",
                &[],
            )?;
            Ok((r.i64(0)?, r.i64(1)?, r.i64(2)?, r.i64(3)?))
        })
        .await
        .unwrap();
    assert_eq!((rows, min, max, distinct), (n, 1, n, n));
}

// 6a. 200 concurrent issues through one store: numbers exactly 1..=200.
async fn concurrent_gap_free(db: TestDb) {
    let (store, _clock) = db.open_at(datetime!(2026-03-14 10:00 UTC)).await;
    load_kp(&store).await;
    let mut officers = Vec::new();
    for i in 1..=4 {
        officers.push(add_officer(&store, &format!("officer{i}"), TRF, PSH).await);
    }
    let issued = issue_concurrently(std::slice::from_ref(&store), &officers, 200).await;
    assert_gap_free(&issued, 200);
    assert_gap_free_in_db(&store, 200).await;
    // catalogue.loaded + 4 x user.created + 200 x challan.issued
    assert_eq!(verify_chain(&store).await, Ok(205));
    assert_eq!(verify_challans(&store).await, Ok(200));
}

// 6b. The same with two stores on one database: two processes' worth of writers. Token grants
//     (which touch only the chain head) are mixed in, so the two writers' batches take their locks
//     in different orders unless each batch takes the chain head first.
async fn concurrent_two_writers_gap_free(db: TestDb) {
    // Both open (and migrate) the fresh database at the same time, like two processes starting.
    let clock = Arc::new(ManualClock::new(datetime!(2026-03-14 10:00 UTC)));
    let (a, b) = tokio::join!(db.open(), db.open());
    let (a, b) = (a.with_clock(clock.clone()), b.with_clock(clock.clone()));
    load_kp(&a).await;
    assert!(
        !load_kp(&b).await,
        "the second store sees the first's catalogue"
    );
    let mut officers = Vec::new();
    for i in 1..=4 {
        let store = if i % 2 == 0 { &a } else { &b };
        officers.push(add_officer(store, &format!("officer{i}"), TRF, PSH).await);
    }
    // 8 workers, 4 on each store, each issuing 25 challans one after another and granting a
    // token after every third, so batches start and mix both kinds of operation.
    let workers: Vec<_> = (0..8usize)
        .map(|w| {
            let store = if w % 2 == 0 { a.clone() } else { b.clone() };
            let officer = officers[w % officers.len()].clone();
            tokio::spawn(async move {
                let (mut issued, mut grants) = (Vec::new(), 0);
                for j in 0..25usize {
                    issued.push(issue_ok(&store, &officer, request(TRF, PSH, "no-helmet")).await);
                    if (j + w) % 3 == 0 {
                        let (_, hash) = users::new_token();
                        let at = store.now();
                        let officer = officer.clone();
                        store
                            .write(move |tx| {
                                users::create_token(
                                    tx,
                                    &officer,
                                    &hash,
                                    at,
                                    at + Duration::hours(1),
                                )
                            })
                            .await
                            .expect("granting a token");
                        grants += 1;
                    }
                }
                (issued, grants)
            })
        })
        .collect();
    let (mut issued, mut grants) = (Vec::new(), 0u64);
    for h in workers {
        let (i, g) = h.await.expect("worker");
        issued.extend(i);
        grants += g;
    }
    assert_eq!(grants, 67);
    assert_gap_free(&issued, 200);
    assert_gap_free_in_db(&a, 200).await;
    assert_gap_free_in_db(&b, 200).await;
    assert_eq!(count(&a, "SELECT COUNT(*) FROM api_tokens").await, 67);
    // catalogue.loaded + 4 x user.created + 200 x challan.issued + 67 x auth.token_issued
    assert_eq!(verify_chain(&a).await, Ok(272));
    assert_eq!(verify_chain(&b).await, Ok(272));
    assert_eq!(verify_challans(&a).await, Ok(200));
}

// 7. One batch, good and failing operations mixed: each failure rolls back alone.
async fn group_commit_isolates_failures(db: TestDb) {
    let (store, _clock) = db.open_at(datetime!(2026-03-14 10:00 UTC)).await;
    load_kp(&store).await;
    let officer = add_officer(&store, "officer1", TRF, PSH).await;
    let at = store.now();
    let start = head(&store).await;

    // Hold the writer so that everything submitted next queues up and runs as one batch.
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let blocker = store.submit(move |_tx| {
        let _ = started_tx.send(());
        release_rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .map_err(|_| StoreError::Db("never released".into()))
    });
    started_rx.await.expect("the blocker runs on the writer");

    const N: usize = 60;
    type Answer = Result<(u64, Option<i64>), StoreError>;
    let mut pending: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = Answer> + Send>>> =
        Vec::new();
    for i in 0..N {
        let officer = officer.clone();
        let fut: std::pin::Pin<Box<dyn std::future::Future<Output = Answer> + Send>> = match i % 6 {
            // A good issue; on PostgreSQL it also reports its transaction.
            0 | 2 | 4 => Box::pin(store.submit(move |tx| {
                let c = challans::issue(tx, &officer, &request(TRF, PSH, "no-helmet"), at)?;
                let txid = match tx.dialect() {
                    Dialect::Postgres => Some(tx.query_one("SELECT txid_current()", &[])?.i64(0)?),
                    Dialect::Sqlite => None,
                };
                Ok((c.number.seq(), txid))
            })),
            // Writes, then fails.
            1 => Box::pin(store.submit(move |tx| {
                challans::issue(tx, &officer, &request(TRF, PSH, "no-helmet"), at)?;
                Err(StoreError::conflict(
                    "test_abort",
                    "failing after the write",
                ))
            })),
            // A statement the database refuses (a PostgreSQL transaction is aborted by it).
            3 => Box::pin(store.submit(move |tx| {
                tx.exec(
                    "INSERT INTO counters (name, value) VALUES ('scratch', 1)",
                    &[],
                )?;
                tx.exec(
                    "INSERT INTO counters (name, value) VALUES ('scratch', 2)",
                    &[],
                )?;
                Ok((0, None))
            })),
            // Refused by the operation itself.
            _ => Box::pin(store.submit(move |tx| {
                challans::issue(tx, &officer, &request(TRF, SWAT, "no-helmet"), at)
                    .map(|_| (0, None))
            })),
        };
        pending.push(fut);
    }
    release_tx.send(()).unwrap();
    blocker.await.expect("the blocker commits");

    let mut next = 1;
    let mut txids = HashSet::new();
    for (i, fut) in pending.into_iter().enumerate() {
        let answer = fut.await;
        match i % 6 {
            0 | 2 | 4 => {
                let (seq, txid) = answer.unwrap_or_else(|e| panic!("op {i} failed: {e:?}"));
                assert_eq!(seq, next, "good operations get contiguous numbers in order");
                next += 1;
                txids.insert(txid);
            }
            1 => assert_conflict(answer, "test_abort"),
            3 => assert!(
                matches!(answer, Err(StoreError::Db(_))),
                "op {i}: {answer:?}"
            ),
            _ => assert_forbidden(answer),
        }
    }
    let good = (N / 2) as i64;
    assert_eq!(next as i64, good + 1);
    if db.is_postgres() {
        assert_eq!(txids.len(), 1, "the good operations ran in one batch");
    }
    assert_eq!(count(&store, "SELECT COUNT(*) FROM challans").await, good);
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM counters WHERE name = 'scratch'"
        )
        .await,
        0
    );
    assert_eq!(head(&store).await.0, start.0 + good);
    assert_eq!(verify_chain(&store).await, Ok(start.0 as u64 + good as u64));
    assert_eq!(verify_challans(&store).await, Ok(good as u64));

    // The writer carries on after the failing batch.
    let c = issue_ok(&store, &officer, request(TRF, PSH, "no-helmet")).await;
    assert_eq!(c.number.seq() as i64, good + 1);
}

// 8. Tampering behind the store's back is detected and named.
async fn tamper_detection(db: TestDb) {
    let (store, clock) = db.open_at(datetime!(2026-03-14 10:00 UTC)).await;
    load_kp(&store).await;
    let officer = add_officer(&store, "officer1", TRF, PSH).await;
    let mut issued = Vec::new();
    for _ in 0..4 {
        clock.advance(Duration::minutes(5));
        issued.push(issue_ok(&store, &officer, request(TRF, PSH, "no-helmet")).await);
    }
    let chain_len = head(&store).await.0 as u64;
    assert_eq!(verify_chain(&store).await, Ok(chain_len));
    assert_eq!(verify_challans(&store).await, Ok(4));
    let target = issued[1].number.to_string();
    let target_event = {
        let target = target.clone();
        store
            .read(move |tx| events::for_subject(tx, &target))
            .await
            .unwrap()
    };
    assert_eq!(target_event.len(), 1);
    let seq = target_event[0].seq;

    // (c) With the trigger in place, events cannot be changed or removed.
    let update = format!("UPDATE events SET payload = '{{}}' WHERE seq = {seq}");
    let refused = db.raw(&update).await;
    assert!(refused.is_err(), "UPDATE on events must fail: {refused:?}");
    let refused = db
        .raw(&format!("DELETE FROM events WHERE seq = {seq}"))
        .await;
    assert!(refused.is_err(), "DELETE on events must fail: {refused:?}");
    let refused = db
        .raw(&format!("DELETE FROM challans WHERE number = '{target}'"))
        .await;
    assert!(
        refused.is_err(),
        "DELETE on challans must fail: {refused:?}"
    );
    assert_eq!(verify_chain(&store).await, Ok(chain_len));
    assert_eq!(verify_challans(&store).await, Ok(4));

    // (a) A challan's amount changed: named by the challan check; the chain itself is intact.
    db.raw(&format!(
        "UPDATE challans SET amount_paisa = amount_paisa - 100 WHERE number = '{target}'"
    ))
    .await
    .unwrap();
    match verify_challans(&store).await {
        Err(Finding::Challan { number, .. }) => assert_eq!(number, target),
        other => panic!("expected a challan finding, got {other:?}"),
    }
    assert_eq!(verify_chain(&store).await, Ok(chain_len));

    // (b) With the trigger out of the way, an edited event breaks the chain at that event.
    let disable = if db.is_postgres() {
        "ALTER TABLE events DISABLE TRIGGER events_append_only"
    } else {
        "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete"
    };
    db.raw(disable).await.unwrap();

    // (d) First, the last event removed: every remaining link holds, but the head no longer
    //     matches the log.
    db.raw(&format!("DELETE FROM events WHERE seq = {chain_len}"))
        .await
        .unwrap();
    match verify_chain(&store).await {
        Err(Finding::Head { .. }) => {}
        other => panic!("expected a chain-head finding, got {other:?}"),
    }

    // Then an event in the middle edited: named by its sequence number.
    db.raw(&format!(
        "UPDATE events SET payload = replace(payload, 'no-helmet', 'no-seat-belt') WHERE seq = {seq}"
    ))
    .await
    .unwrap();
    let edited = store
        .read(move |tx| Ok(events::page(tx, seq - 1, 1)?.remove(0)))
        .await
        .unwrap();
    assert_eq!(edited.seq, seq);
    assert_ne!(edited.payload, target_event[0].payload, "the edit took");
    match verify_chain(&store).await {
        Err(Finding::Chain { seq: at, reason }) => {
            assert_eq!(at, seq, "{reason}");
        }
        other => panic!("expected a chain finding at {seq}, got {other:?}"),
    }
}

// 9. An acknowledged write is on disk: it survives closing and reopening the store.
async fn acknowledged_writes_survive_reopen(db: TestDb) {
    let (store, _clock) = db.open_at(datetime!(2026-03-14 10:00 UTC)).await;
    load_kp(&store).await;
    let officer = add_officer(&store, "officer1", TRF, PSH).await;
    let c1 = issue_ok(&store, &officer, request(TRF, PSH, "no-helmet")).await;
    let head_before = head(&store).await;
    drop(store);

    let (store, _clock) = db.open_at(datetime!(2026-03-14 11:00 UTC)).await;
    assert!(!load_kp(&store).await, "the catalogue is still there");
    // Acknowledged means synced: the settings that make a commit durable are in force.
    let settings = store
        .read(|tx| {
            Ok(match tx.dialect() {
                Dialect::Sqlite => (
                    tx.query_one("PRAGMA synchronous", &[])?.i64(0)?.to_string(),
                    tx.query_one("PRAGMA journal_mode", &[])?.text(0)?,
                ),
                Dialect::Postgres => (
                    tx.query_one("SELECT current_setting('synchronous_commit')", &[])?
                        .text(0)?,
                    String::new(),
                ),
            })
        })
        .await
        .unwrap();
    if db.is_postgres() {
        // anything but "off" flushes the commit record before COMMIT returns
        assert_ne!(settings.0, "off");
    } else {
        // synchronous = FULL (2), write-ahead log
        assert_eq!(settings, ("2".to_string(), "wal".to_string()));
    }
    let number = c1.number.clone();
    let reread = store
        .read(move |tx| challans::by_number(tx, &number))
        .await
        .unwrap();
    assert_eq!(reread.as_ref(), Some(&c1));
    assert_eq!(head(&store).await, head_before);
    let login = store
        .read(|tx| users::for_login(tx, "officer1"))
        .await
        .unwrap();
    assert_eq!(login.map(|l| l.principal), Some(officer.clone()));
    // The counter survived too: the next number follows on.
    let c2 = issue_ok(&store, &officer, request(TRF, PSH, "no-helmet")).await;
    assert_eq!(c2.number.to_string(), "TRF-PSH-2026-000002");
    assert_eq!(verify_chain(&store).await, Ok(head_before.0 as u64 + 1));
    assert_eq!(verify_challans(&store).await, Ok(2));
}

/// Every statistics row and every figure the API reads, as text to compare.
async fn stats_snapshot(store: &efine_store::Store) -> String {
    use efine_store::ops::stats::{self, Dim, Range, Scope};
    store
        .read(|tx| {
            let mut out = String::new();
            for t in stats::TABLES {
                let rows = tx.query(&format!("SELECT * FROM {t} ORDER BY 1, 2, 3, 4, 5"), &[])?;
                out.push_str(&format!("{t}: {rows:?}\n"));
            }
            let day = Range {
                from: Some(date!(2026 - 11 - 24)),
                to: Some(date!(2026 - 11 - 24)),
            };
            let psh = Scope {
                department: Some(TRF.into()),
                district: Some(PSH.into()),
            };
            for dim in Dim::ALL {
                for (scope, range) in [
                    (Scope::all(), Range::default()),
                    (Scope::all(), day),
                    (psh.clone(), Range::default()),
                ] {
                    let rows = stats::summary(tx, dim, &scope, range)?;
                    out.push_str(&format!("summary {dim:?} {scope:?} {range:?}: {rows:?}\n"));
                }
            }
            let all = Scope::all();
            let r = Range::default();
            out.push_str(&format!(
                "trends: {:?}\ncollections: {:?}\nby district: {:?}\nrails: {:?}\n\
                 hotspots: {:?}\nofficers: {:?}\n",
                stats::issued_daily(tx, &all, r)?,
                stats::collections_daily(tx, &all, r)?,
                stats::collections_by_district_daily(tx, &all, r)?,
                stats::collections_by_rail(tx, &all, r)?,
                stats::hotspots(tx, &all, 20)?,
                stats::officer_figures(tx, &all, r)?,
            ));
            Ok(out)
        })
        .await
        .unwrap()
}

async fn wipe_stats(db: &TestDb) {
    for t in efine_store::ops::stats::TABLES {
        db.raw(&format!("DELETE FROM {t}")).await.unwrap();
    }
}

// 11. Statistics recounted from the record equal those kept as each write landed: after issuing
//     (across a local midnight, with repeated plates), paying on two rails (one at a reduced
//     amount), cancelling, rejecting a cancellation, and appeals reduced, quashed and upheld.
async fn stats_rebuild_equals_live(db: TestDb) {
    use efine_core::penalty::AppealOutcome;
    use efine_store::ops::{appeals, cancellations, payments, stats};
    // 18:30 UTC is 23:30 in Karachi: off hours, and the local day turns an hour later.
    let (store, clock) = db.open_at(datetime!(2026-11-23 18:30 UTC)).await;
    load_kp(&store).await;
    let psh = add_officer(&store, "officer.psh", TRF, PSH).await;
    let swat = add_officer(&store, "officer.swt", TRF, SWAT).await;
    let sup_a = add_user(&store, "sup.a", Role::Supervisor, Some(TRF), None)
        .await
        .unwrap();
    let sup_b = add_user(&store, "sup.b", Role::Supervisor, Some(TRF), None)
        .await
        .unwrap();
    let ticket = |district: &str, plate: Option<&str>, cell: i64| {
        let mut n = request(TRF, district, "no-helmet");
        n.vehicle = plate.map(|p| VehicleNumber::parse(p).unwrap());
        n.location.lat_micro = Some(34_010_000 + cell * 10_000);
        n.location.lon_micro = Some(71_520_000);
        n
    };
    let mut c = vec![issue_ok(&store, &psh, ticket(PSH, Some("PES-1"), 0)).await];
    clock.advance(Duration::hours(1)); // 00:30 on the 24th: PES-1 again is a new day
    for (plate, cell) in [
        (Some("PES-1"), 0),
        (Some("PES-1"), 1),
        (Some("PES-2"), 1),
        (None, 2),
        (Some("PES-3"), 0),
        (Some("PES-4"), 0),
    ] {
        c.push(issue_ok(&store, &psh, ticket(PSH, plate, cell)).await);
    }
    for _ in 0..2 {
        c.push(issue_ok(&store, &swat, ticket(SWAT, Some("SWT-9"), 5)).await);
    }
    clock.advance(Duration::hours(8));

    // Paid at a counter and through 1Bill.
    let at = store.now();
    let n0 = c[0].number.clone();
    store
        .write(move |tx| {
            let (_, due) = payments::payable(tx, &n0, efine_core::clock::karachi_date(at))?;
            payments::pay_at_counter(tx, &n0, due, "cashier.one", at)
        })
        .await
        .unwrap();
    let (n7, p7) = (c[7].number.clone(), c[7].psid.clone());
    store
        .write(move |tx| {
            let day = efine_core::clock::karachi_date(at);
            let (_, due) = payments::payable(tx, &n7, day)?;
            payments::pay_bill(tx, &p7, due, day, "HBL-000123", "HBL", at)
        })
        .await
        .unwrap();

    // One cancellation approved, one rejected.
    for (i, approve) in [(2, true), (3, false)] {
        let (n, a, b) = (c[i].number.clone(), sup_a.clone(), sup_b.clone());
        store
            .write(move |tx| {
                let r = cancellations::request(tx, &a, &n, "wrong vehicle", at)?;
                cancellations::decide(tx, &b, r.id, approve, None, at)
            })
            .await
            .unwrap();
    }
    // Appeals: reduced (then paid at the reduced amount), quashed, upheld.
    for (i, outcome, amount) in [
        (
            4,
            AppealOutcome::Reduce,
            Some(Money::from_paisa(30_000).unwrap()),
        ),
        (5, AppealOutcome::Quash, None),
        (6, AppealOutcome::Uphold, None),
    ] {
        let (n, b) = (c[i].number.clone(), sup_b.clone());
        store
            .write(move |tx| {
                let a = appeals::lodge(tx, &n, "I was wearing a helmet", None, 30, at)?;
                appeals::decide(tx, &b, a.id, outcome, amount, None, at)
            })
            .await
            .unwrap();
    }
    clock.advance(Duration::days(1));
    let at = store.now();
    let n4 = c[4].number.clone();
    store
        .write(move |tx| {
            let (_, due) = payments::payable(tx, &n4, efine_core::clock::karachi_date(at))?;
            assert_eq!(due.paisa(), 30_000);
            payments::pay_at_counter(tx, &n4, due, "cashier.one", at)
        })
        .await
        .unwrap();

    // The live figures say what happened.
    let officers = store
        .read(|tx| stats::officer_figures(tx, &stats::Scope::all(), stats::Range::default()))
        .await
        .unwrap();
    let f = |name: &str| officers.iter().find(|o| o.officer == name).unwrap().clone();
    let (p, s) = (f("officer.psh"), f("officer.swt"));
    assert_eq!((p.issued, p.paid, p.paid_cash), (7, 2, 2));
    assert_eq!((p.off_hours, p.repeat_plate), (7, 1), "{p:?}");
    assert_eq!((p.cancel_requests, p.reductions), (2, 1));
    assert_eq!(
        (s.issued, s.paid, s.paid_cash, s.repeat_plate),
        (2, 1, 0, 1)
    );
    let live = stats_snapshot(&store).await;
    assert!(live.contains("code: \"peshawar\""), "{live}");

    // A rebuild over live figures replaces them: the same, not doubled.
    let r = store
        .write(|tx| stats::rebuild(tx, &mut |_, _| {}))
        .await
        .unwrap();
    assert_eq!(
        (
            r.challans,
            r.payments,
            r.cancellation_requests,
            r.cancelled,
            r.reductions
        ),
        (9, 3, 2, 2, 1)
    );
    assert_eq!(stats_snapshot(&store).await, live);
    assert_eq!(
        store
            .write(|tx| stats::rebuild_if_empty(tx, &mut |_, _| {}))
            .await
            .unwrap(),
        None,
        "figures present: nothing to do"
    );

    // As if the statistics tables had just been added to this database.
    wipe_stats(&db).await;
    let empty = stats_snapshot(&store).await;
    assert_ne!(empty, live);
    assert!(!empty.contains("code: \"peshawar\""), "{empty}");
    assert!(store.read(stats::need_rebuild).await.unwrap());
    let mut seen = Vec::new();
    let r = store
        .write(move |tx| {
            let r = stats::rebuild_if_empty(tx, &mut |done, total| seen.push((done, total)))?;
            Ok((r, seen))
        })
        .await
        .unwrap();
    assert_eq!(r.0.map(|r| r.challans), Some(9));
    assert_eq!(r.1.last(), Some(&(9, 9)), "progress reaches the total");
    assert_eq!(stats_snapshot(&store).await, live);
    assert!(!store.read(stats::need_rebuild).await.unwrap());

    // Live writes go on counting on top of the rebuilt figures.
    issue_ok(&store, &psh, ticket(PSH, Some("PES-1"), 0)).await;
    let after = stats_snapshot(&store).await;
    store
        .write(|tx| stats::rebuild(tx, &mut |_, _| {}))
        .await
        .unwrap();
    assert_eq!(stats_snapshot(&store).await, after);
}

// 11. Issuing uses the writer's in-memory catalogue, never a stale price: a schedule change
//     acknowledged through one store (another node on the same database) is in force for the
//     next issue through the other, and a change and an issue queued back to back on one store
//     (one batch) issue at the new price too.
async fn schedule_change_in_force_on_every_node(db: TestDb) {
    let (a, _clock) = db.open_at(datetime!(2026-03-14 10:00 UTC)).await;
    load_kp(&a).await;
    let b = db.open().await.with_clock(a.clock());
    let officer = add_officer(&a, "officer1", TRF, PSH).await;
    let change = |amount: i64, days: u16| ScheduleChange {
        department: dep(TRF),
        code: off("no-helmet"),
        amount: Money::from_paisa(amount).unwrap(),
        days_to_pay: days,
    };
    let change_through = |store: &efine_store::Store, amount: i64, days: u16| {
        let ch = change(amount, days);
        let at = store.now();
        store.submit(move |tx| catalogue::change_offence(tx, &ch, "admin", at))
    };

    // Both writers have loaded the catalogue.
    let c1 = issue_ok(&a, &officer, request(TRF, PSH, "no-helmet")).await;
    let c2 = issue_ok(&b, &officer, request(TRF, PSH, "no-helmet")).await;
    assert_eq!((c1.offence_version, c2.offence_version), (1, 1));
    assert_eq!(c1.amount, c2.amount);

    // Changed through b: a's next issue is at the new price and version.
    let v2 = change_through(&b, 77_700, 9).await.unwrap();
    assert_eq!(v2.version, 2);
    let c3 = issue_ok(&a, &officer, request(TRF, PSH, "no-helmet")).await;
    assert_eq!(c3.offence_version, 2);
    assert_eq!(c3.amount, Money::from_paisa(77_700).unwrap());
    assert_eq!(c3.due_date, date!(2026 - 03 - 14) + Duration::days(9));

    // Changed through a, then issued through b.
    change_through(&a, 88_800, 10).await.unwrap();
    let c4 = issue_ok(&b, &officer, request(TRF, PSH, "no-helmet")).await;
    assert_eq!(
        (c4.offence_version, c4.amount),
        (3, Money::from_paisa(88_800).unwrap())
    );

    // A change and issues queued together on one writer: the issues after the change use it,
    // the one before does not; a change that rolls back changes nothing.
    let officer2 = officer.clone();
    let at = a.now();
    let before = a.submit({
        let o = officer.clone();
        move |tx| challans::issue(tx, &o, &request(TRF, PSH, "no-helmet"), at)
    });
    let changed = change_through(&a, 99_900, 11);
    let after =
        a.submit(move |tx| challans::issue(tx, &officer2, &request(TRF, PSH, "no-helmet"), at));
    let failed = a.submit(move |tx| {
        catalogue::change_offence(tx, &change(11_100, 3), "admin", at)?;
        Err::<(), _>(StoreError::conflict("test_abort", "rolled back"))
    });
    let officer3 = officer.clone();
    let last =
        a.submit(move |tx| challans::issue(tx, &officer3, &request(TRF, PSH, "no-helmet"), at));
    let (before, after, last) = (
        before.await.unwrap(),
        after.await.unwrap(),
        last.await.unwrap(),
    );
    changed.await.unwrap();
    assert_conflict(failed.await, "test_abort");
    assert_eq!(
        (before.offence_version, before.amount),
        (3, Money::from_paisa(88_800).unwrap())
    );
    for c in [&after, &last] {
        assert_eq!(
            (c.offence_version, c.amount),
            (4, Money::from_paisa(99_900).unwrap())
        );
    }
    // And the other node sees version 4, not the rolled-back change.
    let c5 = issue_ok(&b, &officer, request(TRF, PSH, "no-helmet")).await;
    assert_eq!(
        (c5.offence_version, c5.amount),
        (4, Money::from_paisa(99_900).unwrap())
    );
    assert_eq!(verify_challans(&a).await, Ok(8));
    assert!(verify_chain(&a).await.is_ok());
}

// 12. The idempotency module on its own: a key meets only keys of its user and kind, and a key
//     stored before the module existed (a row written by the old issuing code) still replays.
async fn idempotency_scopes_and_stored_keys(db: TestDb) {
    use efine_store::ops::idempotency::{self, Processing, Scope};
    use efine_store::SavedResponse;
    let (store, _clock) = db.open_at(datetime!(2026-03-14 10:00 UTC)).await;
    load_kp(&store).await;
    let officer = add_officer(&store, "officer1", TRF, PSH).await;
    let user = officer.user_id;
    let key = |k: &str, h: &str| IdempotencyKey {
        key: k.into(),
        request_hash: h.into(),
    };
    let at = store.now();
    store
        .write(move |tx| {
            tx.exec(
                "INSERT INTO idempotency_keys (user_id, key, request_hash, response_status,
                                               response_body, created_at)
                 VALUES ($1, 'stored-before', 'h-old', 201, '{\"old\":true}', 0)",
                efine_store::params![user],
            )
        })
        .await
        .unwrap();
    let look = |scope: Scope, k: IdempotencyKey| {
        store.write(move |tx| idempotency::try_processing(tx, &scope, &k))
    };
    assert_eq!(
        look(Scope::api(user), key("stored-before", "h-old"))
            .await
            .unwrap(),
        Processing::Replay(SavedResponse {
            status: 201,
            body: "{\"old\":true}".into()
        })
    );
    assert_conflict(
        look(Scope::api(user), key("stored-before", "h-new")).await,
        "idempotency_key_reused",
    );
    // The console's keys are another kind: the API key of the same name is not theirs.
    assert_eq!(
        look(Scope::console(user), key("stored-before", "h-new"))
            .await
            .unwrap(),
        Processing::New
    );
    let saved = SavedResponse {
        status: 201,
        body: "TRF-PSH-2026-000009".into(),
    };
    let s2 = saved.clone();
    store
        .write(move |tx| {
            idempotency::save_response(tx, &Scope::console(user), &key("form-1", "f"), &s2, at)
        })
        .await
        .unwrap();
    assert_eq!(
        look(Scope::console(user), key("form-1", "f"))
            .await
            .unwrap(),
        Processing::Replay(saved)
    );
    assert_eq!(
        look(Scope::api(user), key("form-1", "f")).await.unwrap(),
        Processing::New
    );
    // Another user's keys never meet these.
    let other = add_officer(&store, "officer2", TRF, PSH).await.user_id;
    assert_eq!(
        look(Scope::console(other), key("form-1", "other"))
            .await
            .unwrap(),
        Processing::New
    );
}

// 14. Statistics are tallied per batch and written once before COMMIT: in one batch mixing good
//     issues (repeated plates, shared cells), operations that issue and then fail, a rebuild and
//     a rebuild that fails, the figures kept are exactly those the successful operations imply,
//     as a recount from the record (`stats rebuild`) finds them.
async fn stats_tally_under_rollback(db: TestDb) {
    use efine_store::ops::stats;
    let (store, _clock) = db.open_at(datetime!(2026-11-24 06:00 UTC)).await;
    load_kp(&store).await;
    let officer = add_officer(&store, "officer1", TRF, PSH).await;
    let at = store.now();
    let ticket = |plate: &str, cell: i64| {
        let mut n = request(TRF, PSH, "no-helmet");
        n.vehicle = Some(VehicleNumber::parse(plate).unwrap());
        n.location.lat_micro = Some(34_010_000 + cell * 10_000);
        n.location.lon_micro = Some(71_520_000);
        n
    };
    // One issue before, so the batch adds to rows that exist.
    issue_ok(&store, &officer, ticket("PES-1", 0)).await;

    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let blocker = store.submit(move |_tx| {
        let _ = started_tx.send(());
        release_rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .map_err(|_| StoreError::Db("never released".into()))
    });
    started_rx.await.expect("the blocker runs on the writer");
    const N: usize = 40;
    let mut pending = Vec::new();
    for i in 0..N {
        let officer = officer.clone();
        let plate = format!("PES-{}", 1 + i % 4);
        let t = ticket(&plate, (i % 3) as i64);
        pending.push(store.submit(move |tx| -> Result<bool, StoreError> {
            match i % 8 {
                // Issues, then fails: its figures go with it.
                1 | 5 => {
                    challans::issue(tx, &officer, &t, at)?;
                    Err(StoreError::conflict(
                        "test_abort",
                        "failing after the write",
                    ))
                }
                // A recount in the middle of the batch: what the batch tallied so far is in it.
                3 if i == 3 => {
                    stats::rebuild(tx, &mut |_, _| {})?;
                    Ok(false)
                }
                // Issues, recounts, then fails: the batch's tally so far must survive.
                3 => {
                    challans::issue(tx, &officer, &t, at)?;
                    stats::rebuild(tx, &mut |_, _| {})?;
                    Err(StoreError::conflict(
                        "test_abort",
                        "failing after a recount",
                    ))
                }
                // Issues twice, the second inside a nested savepoint that fails.
                7 => {
                    challans::issue(tx, &officer, &t, at)?;
                    let inner = efine_store::sql::nested(tx, |tx| {
                        challans::issue(tx, &officer, &t, at)?;
                        Err::<(), _>(StoreError::conflict("inner", "inner failure"))
                    })?;
                    assert!(inner.is_err());
                    Ok(true)
                }
                _ => {
                    challans::issue(tx, &officer, &t, at)?;
                    Ok(true)
                }
            }
        }));
    }
    release_tx.send(()).unwrap();
    blocker.await.expect("the blocker commits");
    let mut good = 1;
    for (i, fut) in pending.into_iter().enumerate() {
        match (i % 8, fut.await) {
            (1 | 5, r) => assert_conflict(r, "test_abort"),
            (3, r) if i != 3 => assert_conflict(r, "test_abort"),
            (_, Ok(issued)) => good += i64::from(issued),
            (_, Err(e)) => panic!("op {i}: {e:?}"),
        }
    }
    assert_eq!(count(&store, "SELECT COUNT(*) FROM challans").await, good);
    let live = stats_snapshot(&store).await;
    let summary = store
        .read(|tx| {
            stats::summary(
                tx,
                stats::Dim::Officer,
                &stats::Scope::all(),
                stats::Range::default(),
            )
        })
        .await
        .unwrap();
    assert_eq!(summary.len(), 1);
    assert_eq!(summary[0].issued, good, "{summary:?}");
    store
        .write(|tx| stats::rebuild(tx, &mut |_, _| {}))
        .await
        .unwrap();
    assert_eq!(live, stats_snapshot(&store).await);
    assert_eq!(verify_chain(&store).await.map(|_| ()), Ok(()));
}

// 15. The escalation run visits only challans whose next step is due (`next_step_on`): nothing
//     before the surcharge day, the unpaid ones on it, nothing on a second run the same day, and
//     neither paid challans nor ones issued since.
async fn escalation_visits_only_due(db: TestDb) {
    use efine_store::ops::{enforcement, payments};
    let (store, clock) = db.open_at(datetime!(2026-03-02 06:00 UTC)).await;
    load_kp(&store).await;
    let officer = add_officer(&store, "officer1", TRF, PSH).await;
    let mut issued = Vec::new();
    for _ in 0..4 {
        issued.push(issue_ok(&store, &officer, request(TRF, PSH, "no-helmet")).await);
    }
    let at = store.now();
    let paid = issued[3].number.clone();
    store
        .write(move |tx| {
            let (_, due) = payments::payable(tx, &paid, efine_core::clock::karachi_date(at))?;
            payments::pay_at_counter(tx, &paid, due, "cashier.one", at)
        })
        .await
        .unwrap();
    let surcharge_on = issued[0]
        .next_step_on()
        .expect("an unpaid challan has a next step");
    assert_eq!(Some(surcharge_on), issued[0].terms().surcharge_from());
    let column = |n: &ChallanNumber| {
        let n = n.to_string();
        let store = store.clone();
        async move {
            store
                .read(move |tx| {
                    tx.query_one(
                        "SELECT next_step_on FROM challans WHERE number = $1",
                        efine_store::params![n],
                    )?
                    .opt_text(0)
                })
                .await
                .unwrap()
        }
    };
    assert_eq!(
        column(&issued[0].number).await,
        Some(surcharge_on.to_string())
    );
    assert_eq!(column(&issued[3].number).await, None, "paid: no next step");
    let run = |store: &efine_store::Store| {
        let store = store.clone();
        async move {
            let at = store.now();
            store
                .write(move |tx| enforcement::escalate(tx, at, 0, 1000))
                .await
                .unwrap()
                .0
        }
    };
    let local_morning = |d: time::Date| d.with_time(time::macros::time!(01:00)).assume_utc();

    // The day before the surcharge: nothing is due, nothing is read.
    clock.set(local_morning(surcharge_on.previous_day().unwrap()));
    assert_eq!(run(&store).await.examined, 0);
    // The surcharge day: the three unpaid challans, not the paid one.
    clock.set(local_morning(surcharge_on));
    let late = issue_ok(&store, &officer, request(TRF, PSH, "no-helmet")).await;
    let r = run(&store).await;
    assert_eq!((r.examined, r.surcharged), (3, 3), "{r:?}");
    // Again the same day: all recorded, nothing read.
    let r = run(&store).await;
    assert_eq!((r.examined, r.surcharged, r.escalated), (0, 0, 0), "{r:?}");
    // Each visited challan's next step moved on past today (its next stage, or none).
    for c in &issued[..3] {
        let next = column(&c.number).await;
        assert!(
            next.as_deref()
                .is_none_or(|d| d > surcharge_on.to_string().as_str()),
            "{next:?}"
        );
    }
    assert_eq!(
        column(&late.number).await,
        late.next_step_on().map(|d| d.to_string())
    );
    assert!(late.next_step_on().unwrap() > surcharge_on);
    assert_eq!(verify_chain(&store).await.map(|_| ()), Ok(()));
}

// 16. A batch holds its events, idempotency keys and counter values back until its end. In one
//     batch: a key saved by one operation answers a replay in the next; an operation that fails
//     after issuing leaves no challan, event, key or number; reads of the event log inside the
//     batch see the batch's events; a failed statement on `counters` and a failed nested
//     savepoint, each after the held rows were written in their savepoint, lose nothing of the
//     operations before them. Numbers stay gap-free and the chain intact.
async fn batch_holds_rows_until_commit(db: TestDb) {
    use efine_store::ops::idempotency::{self, Processing, Scope};
    use efine_store::SavedResponse;
    let (store, _clock) = db.open_at(datetime!(2026-03-14 10:00 UTC)).await;
    load_kp(&store).await;
    let officer = add_officer(&store, "officer1", TRF, PSH).await;
    let at = store.now();
    let start = head(&store).await;

    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let blocker = store.submit(move |_tx| {
        let _ = started_tx.send(());
        release_rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .map_err(|_| StoreError::Db("never released".into()))
    });
    started_rx.await.expect("the blocker runs on the writer");

    /// What one operation of the batch came to: a challan's sequence number or a replayed body,
    /// the events it read, and its transaction (PostgreSQL).
    #[derive(Debug, PartialEq)]
    enum Done {
        Issued(u64, String),
        Replayed(String),
        Read(u64, usize, usize),
    }
    type Answer = Result<(Done, Option<i64>), StoreError>;
    fn txid(tx: &mut dyn efine_store::sql::Tx) -> Result<Option<i64>, StoreError> {
        match tx.dialect() {
            Dialect::Postgres => Ok(Some(tx.query_one("SELECT txid_current()", &[])?.i64(0)?)),
            Dialect::Sqlite => Ok(None),
        }
    }
    let key = |k: &str, h: &str| IdempotencyKey {
        key: k.into(),
        request_hash: h.into(),
    };
    // Issues with a key, as the API does; then `then` runs in the same operation.
    let keyed =
        |k: IdempotencyKey, then: fn(&mut dyn efine_store::sql::Tx) -> Result<(), StoreError>| {
            let officer = officer.clone();
            store.submit(move |tx| -> Answer {
                let scope = Scope::api(officer.user_id);
                if let Processing::Replay(r) = idempotency::try_processing(tx, &scope, &k)? {
                    return Ok((Done::Replayed(r.body), txid(tx)?));
                }
                let c = challans::issue(tx, &officer, &request(TRF, PSH, "no-helmet"), at)?;
                let body = c.number.to_string();
                let saved = SavedResponse {
                    status: 201,
                    body: body.clone(),
                };
                idempotency::save_response(tx, &scope, &k, &saved, at)?;
                then(tx)?;
                Ok((Done::Issued(c.number.seq(), body), txid(tx)?))
            })
        };
    fn ok(_: &mut dyn efine_store::sql::Tx) -> Result<(), StoreError> {
        Ok(())
    }
    fn abort(_: &mut dyn efine_store::sql::Tx) -> Result<(), StoreError> {
        Err(StoreError::conflict(
            "test_abort",
            "failing after the write",
        ))
    }
    let mut pending: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = Answer> + Send>>> = vec![
        // 0: issues and saves K1.
        Box::pin(keyed(key("K1", "h1"), ok)),
        // 1: the same key and request: the response saved just before, still held in memory.
        Box::pin(keyed(key("K1", "h1"), ok)),
        // 2: issues and saves K2, then fails: its challan, number, event and key go.
        Box::pin(keyed(key("K2", "h2"), abort)),
        // 3: K2 again: new, since the failed operation left nothing.
        Box::pin(keyed(key("K2", "h2"), ok)),
    ];
    // 4: issues, then reads the event log: its own event and the batch's earlier ones are there.
    {
        let officer = officer.clone();
        pending.push(Box::pin(store.submit(move |tx| -> Answer {
            let c = challans::issue(tx, &officer, &request(TRF, PSH, "no-helmet"), at)?;
            let own = events::for_subject(tx, &c.number.to_string())?.len();
            let all = events::page(tx, start.0, 1000)?.len();
            Ok((Done::Read(c.number.seq(), own, all), txid(tx)?))
        })));
    }
    // 5: issues, then a statement on `counters` (which writes the held values inside this
    //    savepoint) that the database refuses: the rollback takes the held values' writes too,
    //    and they are written again later.
    {
        let officer = officer.clone();
        pending.push(Box::pin(store.submit(move |tx| -> Answer {
            challans::issue(tx, &officer, &request(TRF, PSH, "no-helmet"), at)?;
            tx.exec(
                "INSERT INTO counters (name, value) VALUES ('scratch', 1)",
                &[],
            )?;
            tx.exec(
                "INSERT INTO counters (name, value) VALUES ('scratch', 2)",
                &[],
            )?;
            Ok((Done::Read(0, 0, 0), None))
        })));
    }
    // 6: issues, then inside a nested savepoint issues again, reads the log (writing the held
    //    events there) and fails: the outer challan stays, the inner one goes.
    {
        let officer = officer.clone();
        pending.push(Box::pin(store.submit(move |tx| -> Answer {
            let c = challans::issue(tx, &officer, &request(TRF, PSH, "no-helmet"), at)?;
            let mut seen = 0;
            let inner = efine_store::sql::nested(tx, |tx| {
                let d = challans::issue(tx, &officer, &request(TRF, PSH, "no-helmet"), at)?;
                seen = events::for_subject(tx, &d.number.to_string())?.len();
                Err::<(), _>(StoreError::conflict("inner", "inner failure"))
            })?;
            let seen = if inner.is_err() { seen } else { 99 };
            Ok((Done::Read(c.number.seq(), seen, 0), txid(tx)?))
        })));
    }
    // 7: K1 with another request: refused.
    pending.push(Box::pin(keyed(key("K1", "other"), ok)));
    // 8: an issue with a new key after all that.
    pending.push(Box::pin(keyed(key("K3", "h3"), ok)));
    release_tx.send(()).unwrap();
    blocker.await.expect("the blocker commits");

    let mut answers = Vec::new();
    for fut in pending {
        answers.push(fut.await);
    }
    let mut txids = HashSet::new();
    let mut done = Vec::new();
    for (i, a) in answers.into_iter().enumerate() {
        match (i, a) {
            (2, r) => assert_conflict(r, "test_abort"),
            (5, r) => assert!(matches!(r, Err(StoreError::Db(_))), "op 5: {r:?}"),
            (7, r) => assert_conflict(r, "idempotency_key_reused"),
            (_, Ok((d, t))) => {
                txids.insert(t);
                done.push(d);
            }
            (i, Err(e)) => panic!("op {i}: {e:?}"),
        }
    }
    let number = |seq: u64| format!("TRF-PSH-2026-{seq:06}");
    assert_eq!(
        done,
        vec![
            Done::Issued(1, number(1)),
            Done::Replayed(number(1)),
            Done::Issued(2, number(2)),
            // Its own event, and the batch's three so far.
            Done::Read(3, 1, 3),
            // The inner challan's event was in the log inside its savepoint.
            Done::Read(4, 1, 0),
            Done::Issued(5, number(5)),
        ]
    );
    if db.is_postgres() {
        assert_eq!(txids.len(), 1, "the operations ran in one batch");
    }
    assert_eq!(count(&store, "SELECT COUNT(*) FROM challans").await, 5);
    assert_eq!(count(&store, "SELECT MAX(seq) FROM challans").await, 5);
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM idempotency_keys").await,
        3
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM counters WHERE name = 'scratch'"
        )
        .await,
        0
    );
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM events").await,
        start.0 + 5
    );
    assert_eq!(head(&store).await.0, start.0 + 5);
    assert_eq!(verify_chain(&store).await, Ok(start.0 as u64 + 5));
    assert_eq!(verify_challans(&store).await, Ok(5));

    // After the batch: the keys answer from the database, and the counter goes on from there.
    let replay = keyed(key("K2", "h2"), ok).await.unwrap().0;
    assert_eq!(replay, Done::Replayed(number(2)));
    let next = keyed(key("K4", "h4"), ok).await.unwrap().0;
    assert_eq!(next, Done::Issued(6, number(6)));
    assert_eq!(verify_chain(&store).await, Ok(start.0 as u64 + 6));
}
