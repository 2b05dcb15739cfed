//! Store operations, written once over `&mut dyn Tx` and run by either backend.

pub mod appeal_proof;
pub mod appeals;
pub mod audit;
pub mod cancellations;
pub mod catalogue;
mod challan_row;
pub mod challans;
pub mod console;
mod counters;
pub mod devices;
pub mod enforcement;
pub mod events;
pub mod fees;
mod guard;
pub mod idempotency;
pub mod import;
pub mod ledger;
pub mod log_heads;
pub mod notify;
pub mod payments;
pub mod recon;
pub mod refunds;
pub mod schedule;
pub mod signing_keys;
pub mod stats;
pub mod throttle;
pub mod users;
