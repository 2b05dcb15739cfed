//! Server-rendered HTML pages: small, no JavaScript, English and Urdu (`?lang=ur`, right to
//! left). Every value is escaped on the way in.

pub mod console;
pub mod dashboard;

use crate::views::VerificationView;

pub use crate::i18n::Lang;
use crate::i18n::{self, tr};

pub use crate::html::escape as esc;

fn reason_ur(code: &str) -> &'static str {
    match code {
        "malformed" => "یہ ای-فائن کا کوڈ نہیں ہے: اسے پڑھا نہیں جا سکتا۔",
        "unknown_key" => "یہ کوڈ ایسی کلید سے دستخط شدہ ہے جسے ای-فائن نہیں جانتا۔",
        "bad_signature" => "دستخط درست نہیں: کوڈ میں تبدیلی یا جعل سازی کی گئی ہے۔",
        "no_such_record" => "اس نمبر کا کوئی ریکارڈ موجود نہیں۔",
        "record_mismatch" => "کوڈ کی معلومات ریکارڈ سے مطابقت نہیں رکھتیں۔",
        _ => "یہ دستاویز اصلی نہیں ہے۔",
    }
}

fn status_ur(s: &str) -> &'static str {
    match s {
        "unpaid" => "غیر ادا شدہ",
        "paid" => "ادا شدہ",
        "cancelled" => "منسوخ",
        _ => "",
    }
}

/// The verification page for a scanned QR code.
pub fn verification(v: &VerificationView, token: &str, lang: Lang) -> String {
    let mut body = String::new();
    if v.genuine {
        body.push_str(&format!(
            "<div class=\"verdict ok\">&#10004; {}</div>",
            tr(lang, "verify.genuine")
        ));
        let what = match v.kind.as_deref() {
            Some("receipt") => tr(lang, "verify.this_receipt_was_issued"),
            _ => tr(lang, "verify.this_challan_was_issued"),
        };
        body.push_str(&format!("<p>{what}</p>"));
        if lang == Lang::En {
            body.push_str(&format!("<p>{}</p>", esc(&v.summary)));
        }
    } else {
        body.push_str(&format!(
            "<div class=\"verdict bad\">&#10008; {}</div>",
            tr(lang, "verify.not_genuine")
        ));
        let reason = match lang {
            Lang::En => esc(v.reason.as_deref().unwrap_or("not genuine")),
            Lang::Ur => reason_ur(v.reason_code.as_deref().unwrap_or("")).to_string(),
        };
        body.push_str(&format!(
            "<p><strong>{}</strong> {reason}</p><p>{}</p>",
            tr(lang, "verify.reason"),
            tr(lang, "verify.do_not_pay_through")
        ));
    }
    if let Some(c) = &v.challan {
        let rows: Vec<(&str, String)> = vec![
            (
                tr(lang, "verify.challan_number"),
                format!("<span class=num>{}</span>", esc(&c.challan_number)),
            ),
            (
                tr(lang, "verify.psid"),
                format!("<span class=num>{}</span>", esc(&c.psid)),
            ),
            (
                tr(lang, "verify.status"),
                match lang {
                    Lang::En => esc(&c.status),
                    Lang::Ur => status_ur(&c.status).to_string(),
                },
            ),
            (
                tr(lang, "verify.department"),
                esc(match lang {
                    Lang::En => &c.department_name_en,
                    Lang::Ur => &c.department_name_ur,
                }),
            ),
            (
                tr(lang, "verify.district"),
                esc(match lang {
                    Lang::En => &c.district_name_en,
                    Lang::Ur => &c.district_name_ur,
                }),
            ),
            (
                tr(lang, "verify.offence"),
                esc(match lang {
                    Lang::En => &c.offence_name_en,
                    Lang::Ur => &c.offence_name_ur,
                }),
            ),
        ];
        let mut rows = rows;
        match &c.paid {
            // Paid: what was paid, when, how and the receipt; nothing is due.
            Some(p) => {
                rows.push((
                    tr(lang, "verify.amount_paid"),
                    format!("<span class=num>{}</span>", esc(&p.amount_display)),
                ));
                rows.push((
                    tr(lang, "verify.paid_on"),
                    format!("<span class=num>{}</span>", esc(&p.paid_on)),
                ));
                rows.push((tr(lang, "verify.paid_by"), esc(&p.rail_label)));
                rows.push((
                    tr(lang, "verify.receipt"),
                    format!(
                        "<a href=\"/payments/{r}/receipt.pdf\"><span class=num>{r}</span></a>",
                        r = esc(&p.receipt_number)
                    ),
                ));
            }
            None if c.status == "unpaid" => {
                rows.push((
                    tr(lang, "verify.amount_due_today"),
                    format!("<span class=num>{}</span>", esc(&c.amount_due_display)),
                ));
                rows.push((
                    tr(lang, "verify.due_date"),
                    format!("<span class=num>{}</span>", esc(&c.due_date)),
                ));
                rows.push((
                    tr(lang, "verify.amount_after_the_due"),
                    format!(
                        "<span class=num>{}</span>",
                        esc(&c.amount_after_due_date_display)
                    ),
                ));
            }
            None => {}
        }
        rows.push((
            tr(lang, "verify.vehicle"),
            format!(
                "<span class=num>{}</span>",
                esc(c.vehicle_number.as_deref().unwrap_or("-"))
            ),
        ));
        body.push_str("<table>");
        for (k, val) in rows {
            body.push_str(&format!("<tr><th>{k}</th><td>{val}</td></tr>"));
        }
        body.push_str("</table>");
        body.push_str(&format!(
            "<p><a href=\"/challans/{n}/receipt.pdf\">{}</a> &middot; \
             <a href=\"/challans/{n}/receipt.pdf?paper=58mm\">{}</a></p>",
            tr(lang, "verify.challan_pdf_a4"),
            tr(lang, "verify.n_58_mm_slip_pdf"),
            n = esc(&c.challan_number),
        ));
    }
    if let Some(kid) = &v.key_id {
        body.push_str(&format!(
            "<p><small>{} <span class=num>{}</span></small></p>",
            tr(lang, "verify.signing_key"),
            esc(kid)
        ));
    }
    // Only a token made of base64url characters is put back into a link; anything else came
    // from a hand-made URL and its language switch goes to the home page instead.
    let linkable = token
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let here = if linkable {
        format!("/v/{token}")
    } else {
        "/".to_string()
    };
    i18n::page(lang, &here, tr(lang, "verify.e_fine_verification"), &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
