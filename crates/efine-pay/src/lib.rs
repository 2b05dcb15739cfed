//! E-Fine payment rails. Each rail's wire format lives in one module (`onebill`, `jazzcash`), so
//! a change of specification is a change in one place; each turns the rail's messages into the
//! same few outcomes (`RailOutcome`). The `sandbox` module speaks the same formats and signatures
//! from the rail's side, so the whole flow runs offline and in tests.
//!
//! - `easypaisa` / `sandbox_easypaisa`: Easypaisa hosted checkout (AES `merchantHashedReq`), its
//!   unsigned postback, and the `inquire-transaction` answer every Easypaisa credit comes from.
//! - `card` / `sandbox_card`: the bank's hosted card gateway: a signed checkout redirect, and
//!   notifications signed `Efine-Card-Signature: t=..,v1=..` (HMAC-SHA256, key rotation, 300 s).
//!
//! No IO and no SQL here: crediting is the store's job (`efine_store::ops::payments`).
//! Depends only on `efine-core`.

pub mod card;
pub mod easypaisa;
pub mod jazzcash;
pub mod onebill;
pub mod raast;
pub mod sandbox;
pub mod sandbox_card;
pub mod sandbox_easypaisa;
pub mod sandbox_raast;

use efine_core::Money;

/// What a rail says happened to a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RailOutcome {
    /// Money taken: credit once.
    Confirmed {
        amount: Money,
        /// The rail's own id for the transaction (retrieval reference, STAN...).
        rail_txn_id: String,
    },
    /// Under way (e.g. an over-the-counter voucher not yet paid): ask again later.
    Pending,
    Failed {
        reason: String,
    },
}
