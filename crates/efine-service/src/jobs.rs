//! The background job runner: one shutdown token and the set of tasks started under it.
//!
//! `efine serve` makes one [`Jobs`], starts every background job through it, and calls
//! [`Jobs::shutdown`] once the server has finished its in-flight requests. A job started with
//! [`Jobs::spawn_every`] runs in rounds; a round is never cut short from outside: when the token
//! is cancelled the job either finishes the round it is in or, checking the token it is given
//! between two write transactions, abandons the rest of it, and no further round starts. So a
//! write already submitted to the store always completes, and a round leaves nothing half done
//! that the next round (on this node after a restart, or on another node) cannot carry on.
//!
//! A job that has not stopped within the grace period is logged by name and left behind: the
//! process is exiting, and one stuck outgoing call must not hold the shutdown hostage.

use std::fmt::Display;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long [`Jobs::shutdown`] waits for all jobs together before abandoning the rest.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(30);

/// The shutdown token and the tasks running under it. Clones share both: any clone may start
/// tasks (the live-statistics watcher starts its own on first use), and shutting down through
/// one stops them all.
#[derive(Clone)]
pub struct Jobs {
    inner: Arc<Inner>,
}

struct Inner {
    token: CancellationToken,
    /// `None` once shutdown has begun: nothing new is started after that.
    tasks: Mutex<Option<Vec<Task>>>,
    grace: Duration,
    /// Rounds run by each `spawn_every` job, by job name and outcome (`ok`, `failed`).
    runs: Arc<efine_store::metrics::Counters>,
}

struct Task {
    name: String,
    handle: JoinHandle<()>,
}

/// What [`Jobs::shutdown`] saw.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stopped {
    /// Tasks that had ended by the end of the grace period (including any that ended before).
    pub stopped: usize,
    /// Names of the tasks that were still running when the grace period ran out.
    pub abandoned: Vec<String>,
}

impl Default for Jobs {
    fn default() -> Self {
        Jobs::new()
    }
}

impl Jobs {
    pub fn new() -> Jobs {
        Jobs::with_grace(DEFAULT_GRACE)
    }

    /// A runner whose shutdown waits at most `grace` for its jobs.
    pub fn with_grace(grace: Duration) -> Jobs {
        Jobs {
            inner: Arc::new(Inner {
                token: CancellationToken::new(),
                tasks: Mutex::new(Some(Vec::new())),
                grace,
                runs: Arc::new(efine_store::metrics::Counters::new(&["job", "outcome"])),
            }),
        }
    }

    /// The shutdown token. Cancelling it asks every job to stop without waiting for them;
    /// `efine serve` does so on the signal, so that jobs wind down while requests drain.
    pub fn token(&self) -> CancellationToken {
        self.inner.token.clone()
    }

    pub fn is_stopping(&self) -> bool {
        self.inner.token.is_cancelled()
    }

    /// Starts a task that watches the token itself and returns once it is cancelled. Returns
    /// false, starting nothing, once shutdown has begun.
    pub fn spawn<F, Fut>(&self, name: &str, task: F) -> bool
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let mut tasks = self.inner.tasks.lock().unwrap_or_else(|e| e.into_inner());
        let Some(tasks) = tasks.as_mut().filter(|_| !self.inner.token.is_cancelled()) else {
            return false;
        };
        tasks.push(Task {
            name: name.to_string(),
            handle: tokio::spawn(task(self.inner.token.clone())),
        });
        true
    }

    /// Runs `job` at once and then every `every` until the token is cancelled. Each round is
    /// awaited to its end (the job is handed the token to abandon a round early at a clean
    /// point); a failed round is logged with the job's name and the job tries again at the next
    /// tick. A round that overruns the interval delays the next tick rather than bunching them.
    pub fn spawn_every<F, Fut, E>(&self, name: &str, every: Duration, mut job: F) -> bool
    where
        F: FnMut(CancellationToken) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Display,
    {
        let job_name = name.to_string();
        let runs = self.inner.runs.clone();
        self.spawn(name, move |stop| async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    // A tick and the token ready together: stopping wins.
                    biased;
                    _ = stop.cancelled() => break,
                    _ = tick.tick() => {}
                }
                if let Err(e) = job(stop.clone()).await {
                    runs.inc(&[job_name.as_str(), "failed"]);
                    tracing::error!(job = %job_name, error = %e, "round failed; retrying at the next tick");
                } else {
                    runs.inc(&[job_name.as_str(), "ok"]);
                }
            }
            tracing::debug!(job = %job_name, "stopped");
        })
    }

    /// Rounds run by each job started with `spawn_every`, by job name and outcome (`ok`,
    /// `failed`), in the Prometheus text format.
    pub fn encode_runs(&self, out: &mut String) {
        self.inner.runs.encode(
            out,
            "efine_job_runs_total",
            "Rounds of each background job (notifications, escalation, early poll, daily poll) \
             by outcome.",
        );
    }

    /// Rounds of `job` that ended with `outcome` (`ok` or `failed`).
    pub fn runs(&self, job: &str, outcome: &str) -> u64 {
        self.inner.runs.get(&[job, outcome])
    }

    /// Cancels the token and waits for every task, at most the grace period in all; a task
    /// still running then is logged and aborted. Nothing can be started afterwards.
    pub async fn shutdown(self) -> Stopped {
        self.inner.token.cancel();
        let tasks = self
            .inner
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap_or_default();
        let deadline = tokio::time::Instant::now() + self.inner.grace;
        let mut out = Stopped::default();
        for mut t in tasks {
            match tokio::time::timeout_at(deadline, &mut t.handle).await {
                Ok(Ok(())) => out.stopped += 1,
                Ok(Err(e)) => {
                    out.stopped += 1;
                    if e.is_panic() {
                        tracing::error!(job = %t.name, "job had panicked");
                    }
                }
                Err(_) => {
                    tracing::warn!(
                        job = %t.name,
                        grace_seconds = self.inner.grace.as_secs_f64(),
                        "job did not stop in time; abandoned"
                    );
                    t.handle.abort();
                    out.abandoned.push(t.name);
                }
            }
        }
        tracing::info!(
            stopped = out.stopped,
            abandoned = out.abandoned.len(),
            "background jobs stopped"
        );
        out
    }
}
