//! The live-statistics watcher: the event log's last sequence number as this node last saw it,
//! behind the dashboard's server-sent events.
//!
//! One task per process polls the database once a second, so a change written by any node
//! sharing the database reaches this node's live pages within about a second. The task starts
//! with the first subscriber and stops with the job runner; once it has stopped, subscribers see
//! their channel close, which ends the event streams, so a server draining its requests on
//! shutdown does not wait on open dashboards.

use crate::jobs::Jobs;
use efine_store::ops::stats;
use efine_store::Store;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::watch;

/// How often the watcher reads the last sequence number.
const EVERY: Duration = Duration::from_secs(1);

pub struct Live {
    jobs: Jobs,
    rx: OnceLock<watch::Receiver<i64>>,
}

impl Default for Live {
    /// A watcher under a runner of its own, never shut down (tests, tools).
    fn default() -> Self {
        Live::new(Jobs::new())
    }
}

impl Live {
    /// A watcher whose task runs under `jobs`.
    pub fn new(jobs: Jobs) -> Live {
        Live {
            jobs,
            rx: OnceLock::new(),
        }
    }

    /// The sequence number now and as it moves; starts the watcher on first use.
    pub fn subscribe(&self, store: &Store) -> watch::Receiver<i64> {
        self.rx
            .get_or_init(|| {
                let (tx, rx) = watch::channel(0);
                let store = store.clone();
                let tx = Arc::new(tx);
                // Refused once shutdown has begun: `tx` is dropped and subscribers see the end.
                self.jobs.spawn_every("live statistics", EVERY, move |_| {
                    let (store, tx) = (store.clone(), tx.clone());
                    async move {
                        let seq = store.read(stats::last_seq).await?;
                        tx.send_if_modified(|v| {
                            let changed = *v != seq;
                            *v = seq;
                            changed
                        });
                        Ok::<_, efine_store::StoreError>(())
                    }
                });
                rx
            })
            .clone()
    }
}
