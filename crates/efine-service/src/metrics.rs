//! The service layer's own figures for `/metrics`: errors met on the payment rails and
//! notification deliveries that failed. Per process, from zero at start (see
//! `efine_store::metrics`). Background job rounds are counted by [`crate::jobs::Jobs`].

use efine_core::payment::Rail;
use efine_store::metrics::Counters;

pub struct Metrics {
    /// By rail and kind: `unverified` (a message whose signature or form did not check),
    /// `refused` (a verified message that could not be applied: unknown reference, wrong
    /// amount, a conflicting credit), `inquiry` (a status inquiry that got no usable answer).
    pub rail_errors: Counters,
    /// By kind: `retry` (a temporary failure; the message is tried again later) and `given_up`
    /// (the message is marked failed).
    pub delivery_failures: Counters,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            rail_errors: Counters::new(&["rail", "kind"]),
            delivery_failures: Counters::new(&["kind"]),
        }
    }
}

impl Metrics {
    pub fn rail_error(&self, rail: Rail, kind: &str) {
        self.rail_errors.inc(&[rail.as_str(), kind]);
    }

    pub fn encode(&self, out: &mut String) {
        self.rail_errors.encode(
            out,
            "efine_rail_errors_total",
            "Payment rail messages that could not be verified (unverified) or applied \
             (refused), and status inquiries that failed (inquiry).",
        );
        self.delivery_failures.encode(
            out,
            "efine_notification_delivery_failures_total",
            "Notification deliveries that failed: to be retried (retry) or given up (given_up).",
        );
    }
}
