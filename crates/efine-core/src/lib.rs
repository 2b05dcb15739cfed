//! E-Fine domain core: the rules and the types that make wrong states unrepresentable.
//!
//! Everything that decides lives here: money arithmetic (`Money`, integer paisa), the identifiers
//! citizens and banks type (`Cnic`, `MobileNumber`, `VehicleNumber`, `ChallanNumber`, `Psid`), the
//! catalogue (departments, districts, offences and fees), the lifecycles of challans, payment
//! attempts, appeals, cancellation requests and refunds as transition tables, the penalty
//! schedule (amount due on a given day, surcharge, enforcement stages), personal-data masking,
//! staff roles and who may do what (`auth::Principal::may`), the hash chain of the audit log, and
//! the signing and verification of QR tokens (`qr`).
//!
//! This crate must not depend on IO, async runtimes, SQL or HTTP. Values of its types are valid by
//! construction (`parse` or `TryFrom`), so callers never re-check them.

pub mod appeal;
pub mod appeal_proof;
pub mod audit;
pub mod auth;
pub mod cancellation;
pub mod catalogue;
pub mod challan;
pub mod clock;
pub mod code;
pub mod device;
pub mod fees;
pub mod i18n;
pub mod ids;
pub mod ledger;
pub mod mask;
pub mod money;
pub mod notify;
pub mod payment;
pub mod penalty;
pub mod psid;
pub mod qr;
pub mod refund;
pub mod stats;
pub mod text;

pub use catalogue::{Department, District, Offence, OffenceKind};
pub use challan::{ChallanEvent, ChallanStatus};
pub use code::{DepartmentCode, DistrictCode, OffenceCode, ServiceCode};
pub use ids::{ChallanNumber, Cnic, MobileNumber, VehicleNumber};
pub use money::Money;
pub use psid::Psid;

/// Why a value could not be parsed. The message is safe to show to the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl ParseError {
    pub fn new(msg: impl Into<String>) -> Self {
        ParseError(msg.into())
    }
}
