//! E-Fine services: what the system does between a parsed request and its rendered answer, and
//! the work that runs in the background.
//!
//! A handler in `efine-web` (or a command of the binary) parses its input into `efine-core`
//! types, calls one function here with a [`Context`], and renders what it returns. Here live the
//! rules that need IO: the one path every rail's confirmation goes through, checkout start,
//! refunds and cash, the rails' HTTP clients, and the background jobs (notifications, escalation,
//! the pending-payment poller), each of which stops when the shutdown token is cancelled.
//!
//! Depends on `efine-core`, `efine-store`, `efine-pay` and `efine-docs`; must not depend on HTTP
//! serving or on `efine-web`.

pub mod cash;
pub mod checkout;
pub mod error;
pub mod escalation;
pub mod jobs;
pub mod keys;
pub mod live;
pub mod metrics;
pub mod notify;
pub mod onebill;
pub mod outcome;
pub mod poller;
pub mod raast;
pub mod rails;
pub mod refunds;

pub use error::ServiceError;

use efine_store::keys::Keys;
use efine_store::Store;
use std::sync::Arc;

/// What a service function needs: the store (with its clock), the signing keys and the outgoing
/// HTTP client. Cheap to clone.
#[derive(Clone)]
pub struct Context {
    pub store: Store,
    /// QR signing key and every key that still verifies.
    pub keys: Arc<Keys>,
    /// Outgoing calls (the rails' inquiries, SMS and e-mail providers, the vehicle registry).
    pub http: reqwest::Client,
    /// The rails this server takes payments on, and the address citizens reach it at.
    pub payments: Arc<rails::PaymentsConfig>,
    /// Rail errors and delivery failures, for `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
}
