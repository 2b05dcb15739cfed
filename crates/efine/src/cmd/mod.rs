//! One module per command. Each takes the checked [`Settings`](crate::config::Settings) and its
//! own arguments; what several commands share (opening the database) is here.

pub mod audit;
pub mod backup;
pub mod bank;
pub mod escalate;
pub mod keys;
pub mod ledger;
pub mod migrate;
pub mod notifier;
pub mod outbox;
pub mod qr;
pub mod recon;
pub mod serve;
pub mod stats;
pub mod user;

use crate::config::DbSettings;
use anyhow::{Context, Result};
use efine_store::ops::catalogue;
use efine_store::{catalogue_seed, Location, Store};

/// Opens the database and applies pending migrations.
pub async fn connect(db: &DbSettings) -> Result<Store> {
    connect_with(db, db.options.clone()).await
}

/// [`connect`] with other store options than the settings' (a bulk load's larger cache).
async fn connect_with(db: &DbSettings, options: efine_store::StoreOptions) -> Result<Store> {
    Store::open_with(db.location.clone(), options)
        .await
        .with_context(|| match &db.location {
            Location::Sqlite(p) => format!("opening the database {}", p.display()),
            Location::Postgres { .. } => "opening the PostgreSQL database".to_string(),
        })
}

/// Opens the store, migrated, with the catalogue loaded.
pub async fn open(db: &DbSettings) -> Result<Store> {
    open_with(db, db.options.clone()).await
}

/// [`open`] with other store options than the settings'.
pub async fn open_with(db: &DbSettings, options: efine_store::StoreOptions) -> Result<Store> {
    let store = connect_with(db, options).await?;
    let text = match &db.catalogue {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("reading catalogue {}", path.display()))?,
        None => catalogue_seed::KP.to_string(),
    };
    let cat = catalogue_seed::parse(&text).context("the catalogue file is not valid")?;
    let now = store.now();
    let loaded = store
        .write(move |tx| catalogue::load_if_empty(tx, &cat, now))
        .await?;
    if loaded {
        tracing::info!("catalogue loaded");
    }
    Ok(store)
}
