//! `efine serve`: the HTTP server and its background jobs.

use crate::config::{DbFlags, NotifyFlags, RailFlags, ServeFlags, Settings};
use anyhow::{Context, Result};
use clap::Args;
use efine_store::ops::users;
use efine_store::{Location, Store};
use secrecy::ExposeSecret;
use std::process::ExitCode;

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbFlags,
    #[command(flatten)]
    pub serve: ServeFlags,
    /// Also load demo data that follows the KP pilot (once; later starts keep it).
    #[arg(long)]
    pub demo: bool,
    #[command(flatten)]
    pub rails: RailFlags,
    #[command(flatten)]
    pub notify: NotifyFlags,
}

pub async fn run(settings: &Settings, demo: bool) -> Result<ExitCode> {
    let s = &settings.serve;
    let payments = settings.payments(demo)?;
    let store = super::open(&settings.db).await?;
    let keys = std::sync::Arc::new(
        efine_store::keys::Keys::open(&store, settings.db.kek()?, Some(&settings.db.data_dir))
            .await
            .context("signing keys")?,
    );
    tracing::info!(key = %keys.current().signer.key_id(), "signing key loaded");
    super::stats::rebuild_if_empty(&store).await?;
    let notifier = super::notifier::build(&settings.notify, &store)?;
    if settings.notify.sms_url.is_none() && !(settings.rails.sandbox || demo) {
        tracing::warn!(
            "no SMS gateway is configured (`sms_url` in efine.toml or EFINE_SMS_URL): the sandbox \
             provider records every notification as sent without sending it, so nobody receives \
             an SMS"
        );
    }
    if demo {
        crate::demo::load(&store, &payments).await?;
    }
    let state = efine_web::AppState::new(
        store.clone(),
        efine_web::WebConfig {
            token_ttl: time::Duration::hours(s.token_hours),
            public_url: s.public_url.clone(),
            appeal_window_days: s.appeal_window_days,
            views_per_minute: s.views_per_minute,
            checkouts_per_minute: s.checkouts_per_minute,
            open_attempts_per_challan: s.open_attempts_per_challan,
            trusted_proxies: s.trusted_proxies.clone(),
            first_admin_command: first_admin_command(settings),
            metrics_token: s
                .metrics_token
                .as_ref()
                .map(|t| efine_web::metrics::MetricsToken::new(t.expose_secret().trim())),
            lookups_per_minute: s.public_lookups_per_minute,
            login_policy: efine_core::auth::throttle::Policy {
                free_failures: s.login_free_failures,
                lock_after: s.login_lock_after.max(s.login_free_failures + 1),
                lock_for: time::Duration::minutes(s.login_lock_minutes),
                ..Default::default()
            },
            console_idle: time::Duration::minutes(s.console_idle_minutes),
        },
        payments,
        keys,
    )?;
    let jobs = efine_service::jobs::Jobs::new();
    let state = state.with_jobs(&jobs).with_texts(notifier.texts());
    start_jobs(&jobs, &state, notifier, &store, settings);
    let listener = tokio::net::TcpListener::bind(&s.listen)
        .await
        .with_context(|| format!("cannot listen on {} (EFINE_LISTEN / --listen)", s.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(backend = store.backend(), "listening on http://{addr}");
    println!(
        "E-Fine listening on http://{addr} ({} backend)",
        store.backend()
    );
    if !store.read(users::has_admin).await? {
        tracing::warn!(
            "no administrator account exists yet: see standard output for how to create one"
        );
        println!(
            "\nNo administrator account exists yet, so nobody can sign in to the console.\n\
             Create the first one on this machine:\n\n    {}\n\n\
             It reads the password from standard input (at least 10 characters), never from the \
             command line;\nrun it with this server's settings (the same EFINE_DATABASE_URL or \
             efine.toml). Then sign in at\n{}/staff/login\n",
            first_admin_command(settings),
            s.public_url
        );
    }
    // On the signal the jobs are told to stop at once, so they wind down while requests drain
    // (and the live statistics streams end rather than hold the drain open); once the last
    // request is answered, wait for the jobs.
    let stopping = jobs.token();
    let served = efine_web::serve(listener, state, async move {
        shutdown_signal().await;
        stopping.cancel();
    })
    .await;
    jobs.shutdown().await;
    served?;
    Ok(ExitCode::SUCCESS)
}

/// The exact command that creates the first admin against this server's database: its data
/// directory, or its SQLite file when that lives elsewhere. A PostgreSQL URL is never printed (it
/// may carry a password); the command reads it from the same environment or file as the server.
fn first_admin_command(settings: &Settings) -> String {
    let db = &settings.db;
    let target = match &db.location {
        Location::Sqlite(file) if *file == db.data_dir.join("efine.db") => {
            format!(
                " --data-dir {}",
                shell_word(&db.data_dir.display().to_string())
            )
        }
        Location::Sqlite(file) => format!(
            " --database-url {}",
            shell_word(&format!("sqlite://{}", file.display()))
        ),
        Location::Postgres { .. } => String::new(),
    };
    format!("efine user add{target} --username admin --role admin --password-stdin")
}

/// A word as a POSIX shell reads it back: as it is when it holds nothing special, else quoted.
fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'-' | b'_' | b':' | b'+' | b'=')
        });
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Starts the background jobs: the notifications worker, the pending-payment poller and the
/// escalation job. Kept together so that moving the jobs to `efine-service` rewires one place.
fn start_jobs(
    jobs: &efine_service::jobs::Jobs,
    state: &efine_web::AppState,
    notifier: efine_service::notify::Notifier,
    store: &Store,
    settings: &Settings,
) {
    let s = &settings.serve;
    std::sync::Arc::new(notifier.with_metrics(state.ctx.metrics.clone())).spawn(jobs);
    efine_service::poller::spawn(
        jobs,
        state.ctx.clone(),
        efine_service::poller::PollerConfig {
            early_every: std::time::Duration::from_secs(s.poll_early_minutes * 60),
            early_window: (
                time::Duration::minutes(s.poll_min_age_minutes),
                time::Duration::minutes(2 * s.poll_min_age_minutes),
            ),
            late_every: std::time::Duration::from_secs(s.poll_late_hours * 3600),
        },
    );
    efine_service::escalation::spawn(
        jobs,
        store.clone(),
        std::time::Duration::from_secs(s.escalation_minutes * 60),
    );
    efine_service::keys::spawn_refresh(jobs, state.keys.clone(), efine_service::keys::KEYS_POLL);
    efine_service::keys::spawn_daily_head(
        jobs,
        store.clone(),
        state.keys.clone(),
        efine_service::keys::HEAD_POLL,
    );
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
