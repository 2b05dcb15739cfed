//! Background work on the signing keys and the published log head: picking up a key rotation
//! made by another process, and publishing the signed chain head once a day.

use crate::jobs::Jobs;
use efine_store::keys::{KeyError, Keys};
use efine_store::ops::log_heads::{self, Published};
use efine_store::{Store, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// How often a server checks the database for a rotated signing key.
pub const KEYS_POLL: Duration = Duration::from_secs(30);
/// How often the log-head job looks whether a day has passed since the last publication.
pub const HEAD_POLL: Duration = Duration::from_secs(3600);
/// The least time between two heads published by the daily job (publishing on demand is not
/// held to it). A little under a day, so a job that runs hourly publishes once a day.
pub const HEAD_EVERY: time::Duration = time::Duration::hours(23);

/// Reloads `keys` every `every` when another process has rotated (`efine keys rotate`), so
/// servers sign with the new key without a restart.
pub fn spawn_refresh(jobs: &Jobs, keys: Arc<Keys>, every: Duration) {
    jobs.spawn_every("signing keys", every, move |_stop| {
        let keys = keys.clone();
        async move { keys.refresh().await.map(|_| ()) }
    });
}

/// Signs and stores the current chain head with the current signing key. With `min_gap`, does
/// nothing if a head was published less than that ago (several nodes run the daily job).
pub async fn publish_head(
    store: &Store,
    keys: &Keys,
    min_gap: Option<time::Duration>,
) -> Result<Published, KeyError> {
    keys.refresh().await?;
    let set = keys.current();
    let at = store.now();
    Ok(store
        .write(move |tx| log_heads::publish(tx, &set.signer, at, min_gap))
        .await?)
}

/// Publishes the chain head once a day (checked every `every`).
pub fn spawn_daily_head(jobs: &Jobs, store: Store, keys: Arc<Keys>, every: Duration) {
    jobs.spawn_every("log head", every, move |_stop| {
        let (store, keys) = (store.clone(), keys.clone());
        async move {
            if let Published::New(h) = publish_head(&store, &keys, Some(HEAD_EVERY)).await? {
                tracing::info!(seq = h.seq, hash = %h.hash, key = %h.kid, "log head published");
            }
            Ok::<_, KeyError>(())
        }
    });
}

/// The published heads, oldest first.
pub async fn heads(store: &Store) -> Result<Vec<log_heads::LogHead>, StoreError> {
    store.read(log_heads::list).await
}
