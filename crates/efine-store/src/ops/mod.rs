//! Store operations, written once over `&mut dyn Tx` and run by either backend.

pub mod audit;
pub mod catalogue;
pub mod challans;
pub mod events;
pub mod ledger;
pub mod notify;
pub mod payments;
pub mod recon;
pub mod refunds;
pub mod users;
