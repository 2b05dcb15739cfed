//! The job runner: a job runs its first round at once and then at its interval, failed rounds are
//! tried again, no round starts after shutdown, a round under way when shutdown is called is
//! finished (its write is in the database afterwards, on SQLite and PostgreSQL), and a job that
//! ignores the token is abandoned by name after the grace period.
//!
//! Waits are loops with generous failure guards, never timing assertions.

use efine_service::jobs::Jobs;
use efine_store::ops::catalogue;
use efine_store::{catalogue_seed, Location, Store, StoreError};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Waits until `done` holds, failing the test after 20 s.
async fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A job that counts its rounds.
fn counting(jobs: &Jobs, every: Duration) -> Arc<AtomicUsize> {
    let rounds = Arc::new(AtomicUsize::new(0));
    let r = rounds.clone();
    jobs.spawn_every("counter", every, move |_| {
        r.fetch_add(1, Ordering::SeqCst);
        async { Ok::<_, StoreError>(()) }
    });
    rounds
}

#[tokio::test]
async fn first_round_runs_at_once() {
    let jobs = Jobs::new();
    // An hour's interval: only the first round can have run.
    let rounds = counting(&jobs, Duration::from_secs(3600));
    until("the first round", || rounds.load(Ordering::SeqCst) == 1).await;
    let stopped = jobs.shutdown().await;
    assert_eq!(stopped.stopped, 1);
    assert!(stopped.abandoned.is_empty());
    assert_eq!(rounds.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn no_round_starts_after_shutdown() {
    let every = Duration::from_millis(10);
    let jobs = Jobs::new();
    let rounds = counting(&jobs, every);
    until("three rounds", || rounds.load(Ordering::SeqCst) >= 3).await;
    let stopped = jobs.shutdown().await;
    assert_eq!(stopped.stopped, 1);
    let after = rounds.load(Ordering::SeqCst);
    // Several intervals later the count has not moved.
    tokio::time::sleep(every * 10).await;
    assert_eq!(rounds.load(Ordering::SeqCst), after);
}

#[tokio::test]
async fn a_failed_round_is_tried_again_at_the_next_tick() {
    let jobs = Jobs::new();
    let rounds = Arc::new(AtomicUsize::new(0));
    let r = rounds.clone();
    jobs.spawn_every("failing", Duration::from_millis(10), move |_| {
        r.fetch_add(1, Ordering::SeqCst);
        async { Err::<(), _>(StoreError::Db("the database is away".into())) }
    });
    until("rounds after failures", || {
        rounds.load(Ordering::SeqCst) >= 3
    })
    .await;
    assert!(jobs.shutdown().await.abandoned.is_empty());
}

#[tokio::test]
async fn a_job_that_ignores_the_token_is_abandoned_after_the_grace_period() {
    let jobs = Jobs::with_grace(Duration::from_millis(200));
    let started = Arc::new(AtomicUsize::new(0));
    let s = started.clone();
    jobs.spawn_every("stuck", Duration::from_secs(3600), move |_| {
        s.fetch_add(1, Ordering::SeqCst);
        std::future::pending::<Result<(), StoreError>>()
    });
    let rounds = counting(&jobs, Duration::from_secs(3600));
    until("both jobs started", || {
        started.load(Ordering::SeqCst) == 1 && rounds.load(Ordering::SeqCst) == 1
    })
    .await;
    let stopped = jobs.shutdown().await;
    assert_eq!(stopped.abandoned, vec!["stuck".to_string()]);
    assert_eq!(stopped.stopped, 1);
}

#[tokio::test]
async fn nothing_starts_once_shutdown_has_begun() {
    let jobs = Jobs::new();
    let late = jobs.clone();
    jobs.shutdown().await;
    assert!(late.is_stopping());
    assert!(
        !late.spawn_every("late", Duration::from_millis(10), |_| async {
            Ok::<_, StoreError>(())
        })
    );
}

/// A round that is under way when shutdown is called: it waits until shutdown has begun, then
/// writes through the store. Shutdown waits for it, so the write is there afterwards.
async fn round_in_progress_completes(loc: Location) {
    let store = Store::open(loc).await.expect("open store");
    let jobs = Jobs::new();
    let started = Arc::new(tokio::sync::Notify::new());
    let rounds = Arc::new(AtomicUsize::new(0));
    let (st, s, r) = (store.clone(), started.clone(), rounds.clone());
    jobs.spawn_every("writer", Duration::from_secs(3600), move |stop| {
        let (store, started, rounds) = (st.clone(), s.clone(), r.clone());
        async move {
            rounds.fetch_add(1, Ordering::SeqCst);
            started.notify_one();
            stop.cancelled().await;
            let cat = catalogue_seed::parse(catalogue_seed::KP)?;
            let now = store.now();
            store
                .write(move |tx| catalogue::load_if_empty(tx, &cat, now))
                .await?;
            Ok::<_, StoreError>(())
        }
    });
    tokio::time::timeout(Duration::from_secs(20), started.notified())
        .await
        .expect("the round started");
    let stopped = jobs.shutdown().await;
    assert_eq!(stopped.stopped, 1);
    assert!(stopped.abandoned.is_empty());
    assert_eq!(rounds.load(Ordering::SeqCst), 1);
    let departments = store
        .read(|tx| catalogue::departments(tx))
        .await
        .expect("read");
    assert!(
        !departments.is_empty(),
        "the round's write is in the database"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_in_progress_completes_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    round_in_progress_completes(Location::Sqlite(dir.path().join("efine.db"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_in_progress_completes_postgres() {
    let url = std::env::var("EFINE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let suffix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    round_in_progress_completes(Location::Postgres {
        url,
        schema: Some(format!("jobs_{suffix:x}")),
    })
    .await;
}
