//! The citizen portal: server-rendered pages that work without JavaScript, in English and Urdu
//! (built on [`crate::i18n`]).

use crate::i18n::{esc, ltr, money, tr, trf, Lang};
use efine_core::Money;

/// The body of "payment received": amount and challan when known, the receipt number, and
/// links to the receipt.
pub fn paid_body(lang: Lang, receipt: &str, detail: Option<(Money, &str)>) -> String {
    let mut b = String::from("<div class=ok>");
    if let Some((amount, challan)) = detail {
        b.push_str(&format!(
            "<p>{}</p>",
            trf(
                lang,
                "pay.received_body",
                &[
                    ("amount", &esc(&money(lang, amount))),
                    ("challan", &ltr(challan))
                ]
            )
        ));
    }
    b.push_str(&format!(
        "<p>{}: <strong class=big>{}</strong></p></div>",
        tr(lang, "pay.receipt_number"),
        ltr(receipt)
    ));
    b.push_str(&format!(
        "<p><a class=button href=\"/payments/{r}/receipt.pdf\">{}</a></p>",
        tr(lang, "pay.receipt_pdf"),
        r = esc(receipt)
    ));
    b
}
