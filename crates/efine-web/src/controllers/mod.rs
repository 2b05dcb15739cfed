//! One file per resource; handlers parse, call one store function, render.

pub mod appeals;
pub mod auth;
pub mod cancellations;
pub mod cash;
pub mod catalogue;
pub mod challans;
pub mod checkout;
pub mod documents;
pub mod health;
pub mod onebill;
pub mod public;
pub mod rails;
pub mod recon;
pub mod refunds;
pub mod stats;
pub mod vehicles;
pub mod verify;
