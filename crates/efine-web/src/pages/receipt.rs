//! "Payment received": the part of the page every rail's return shows once a payment is
//! credited (hosted checkout returns and card returns), with the receipt number and links.

use crate::i18n::{money, tr, Lang};
use crate::pages::shell::{ltr, trf_html};
use efine_core::Money;
use maud::{html, Markup};

/// The body of "payment received": amount and challan when known, the receipt number, and
/// links to the receipt.
pub fn paid_body(lang: Lang, receipt: &str, detail: Option<(Money, &str)>) -> Markup {
    html! {
        div class="ok" {
            @if let Some((amount, challan)) = detail {
                p {
                    (trf_html(lang, "pay.received_body", &[
                        ("amount", html! { (money(lang, amount)) }),
                        ("challan", ltr(challan)),
                    ]))
                }
            }
            p {
                (tr(lang, "pay.receipt_number")) ": "
                strong class="big" id="receipt-number" { (ltr(receipt)) }
            }
        }
        p {
            a class="button" href={ "/payments/" (receipt) "/receipt.pdf" } {
                (tr(lang, "pay.receipt_pdf"))
            }
        }
        @if let Some((_, challan)) = detail {
            p { a href={ "/c/" (challan) } { (tr(lang, "pay.back_to_challan")) } }
        }
    }
}
