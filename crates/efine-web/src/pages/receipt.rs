//! "Payment received": the part of the page every rail's return shows once a payment is
//! credited (hosted checkout returns and card returns): what was paid for which challan, by
//! which rail and when, the receipt number, its PDF and its signed QR code.

use crate::i18n::{date, money, tr, Lang};
use crate::pages::shell::{ltr, trf_html};
use efine_core::clock::karachi_date;
use efine_store::ops::payments::Receipt;
use maud::{html, Markup};

/// The body of "payment received", with the receipt's QR code when there is one.
pub fn paid_body(lang: Lang, r: &Receipt, qr: Option<Markup>) -> Markup {
    html! {
        div class="ok" id="payment-result" {
            p id="payment-what" {
                (trf_html(lang, "pay.received_body", &[
                    ("amount", html! { (money(lang, r.amount)) }),
                    ("challan", ltr(&r.challan_number)),
                ]))
            }
            p {
                (tr(lang, "portal.paid_by")) ": "
                span id="paid-by" { (crate::pages::portal::challan::rail_label(lang, r.rail.as_str())) } br;
                (tr(lang, "portal.paid_on")) ": " (date(lang, karachi_date(r.paid_at)))
            }
            p {
                (tr(lang, "pay.receipt_number")) ": "
                strong class="big" id="receipt-number" { (ltr(&r.number)) }
            }
        }
        p {
            a class="button" href={ "/payments/" (r.number) "/receipt.pdf" } {
                (tr(lang, "pay.receipt_pdf"))
            }
        }
        @if let Some(q) = qr {
            div id="receipt-qr" { (q) }
            p class="hint" { (tr(lang, "pay.receipt_qr_hint")) }
        }
        p { a id="back" href={ "/c/" (r.challan_number) } { (tr(lang, "pay.back_to_challan")) } }
    }
}
