//! The rails' sandboxes, served by E-Fine itself with `--demo` (or `EFINE_SANDBOX=1`): each
//! stands in for the provider's own site and API, speaking its wire format and signing with the
//! sandbox credentials, so the whole payment flow runs offline and in tests. Also the vehicle
//! registry's sandbox.
//!
//! Mounted only when the sandboxes are on ([`router`] is merged by `crate::router` then), with a
//! state of its own ([`SandboxState`]): nothing of it is in a production server's state or routes.

mod card;
mod easypaisa;
pub(crate) mod jazzcash;
mod raast;
mod registry;

use axum::routing::{get, post};
use axum::Router;
use efine_core::clock::Clock;
use efine_core::Money;
use efine_pay::jazzcash::Fields;
use efine_pay::sandbox::Choice;
use efine_service::rails::PaymentsConfig;
use maud::{html, Markup, DOCTYPE};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Order reference -> (the payer's choice, amount, the rail's transaction id): what the hosted
/// pages remember for the rails' inquiry answers.
pub type SandboxOrders = HashMap<String, (Choice, Money, String)>;

#[derive(Clone)]
pub struct SandboxState {
    /// The rails' settings: the sandboxes sign with the same (sandbox) secrets.
    pub payments: Arc<PaymentsConfig>,
    /// The card sandbox notifies the merchant server to server.
    pub http: reqwest::Client,
    pub clock: Arc<dyn Clock>,
    pub orders: Arc<Mutex<SandboxOrders>>,
    /// The Raast payments the biller's bank holds, by PSID, for its inquiry answers.
    pub raast: Arc<Mutex<HashMap<String, Vec<efine_pay::raast::PaymentReport>>>>,
    pub registry: Arc<efine_service::notify::registry::SandboxRegistry>,
}

impl SandboxState {
    fn remember(&self, reference: String, order: (Choice, Money, String)) {
        self.orders
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(reference, order);
    }

    fn recall(&self, reference: &str) -> Option<(Choice, Money, String)> {
        self.orders
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(reference)
            .cloned()
    }
}

/// Every sandbox route, with its state applied.
pub fn router(state: SandboxState) -> Router {
    Router::new()
        .route("/sandbox/jazzcash/merchantform", post(jazzcash::form))
        .route("/sandbox/jazzcash/complete", post(jazzcash::complete))
        .route(
            "/sandbox/jazzcash/ApplicationAPI/API/PaymentInquiry/Inquire",
            post(jazzcash::inquire),
        )
        .route("/sandbox/easypaisa/checkout", post(easypaisa::checkout))
        .route("/sandbox/easypaisa/complete", post(easypaisa::complete))
        .route(
            "/sandbox/easypaisa/easypay-service/rest/v4/inquire-transaction",
            post(easypaisa::inquire),
        )
        .route("/sandbox/card/pay", get(card::pay))
        .route("/sandbox/card/complete", post(card::complete))
        .route("/sandbox/raast/app", get(raast::app).post(raast::pay))
        .route("/sandbox/raast/bills/{psid}/payments", get(raast::inquire))
        .route("/sandbox/registry/owner", post(registry::owner))
        .with_state(state)
}

/// The hosted pages' one inline style (allowed by hash in their Content Security Policy).
pub const PAGE_STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;line-height:1.5}button{font-size:1rem;padding:.6rem 1rem;margin:.3rem 0}";

/// A small, self-contained page, as a provider's hosted page would be: no scripts or assets
/// needed to read it.
fn page(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " - E-Fine" }
                style { (PAGE_STYLE) }
            }
            body {
                h1 { (title) }
                (body)
            }
        }
    }
    .into_string()
}

/// The fields, carried on as hidden inputs.
fn hidden(fields: &Fields) -> Markup {
    html! {
        @for (k, v) in fields {
            input type="hidden" name=(k) value=(v);
        }
    }
}

/// One form per choice the payer can make on a hosted page.
fn choice_forms(action: &str, fields: &Fields, pending_label: &str) -> Markup {
    html! {
        @for (choice, label) in [("success", "Pay"), ("failure", "Fail the payment"), ("pending", pending_label)] {
            form method="post" action=(action) {
                (hidden(fields))
                input type="hidden" name="sandbox_choice" value=(choice);
                button type="submit" { (label) }
            }
        }
    }
}

/// Reads and removes the payer's choice and the answer format from a hosted page's form.
fn take_choice(fields: &mut Fields) -> (Choice, bool) {
    let choice = fields
        .remove("sandbox_choice")
        .and_then(|c| Choice::parse(&c))
        .unwrap_or(Choice::Failure);
    let json = fields.remove("sandbox_format").as_deref() == Some("json");
    (choice, json)
}

/// `PREFIX` and the digits of a reference: a rail transaction id unique per attempt.
fn txn_id(prefix: &str, reference: &str) -> String {
    let digits: String = reference.chars().filter(char::is_ascii_digit).collect();
    format!("{prefix}{digits}")
}
