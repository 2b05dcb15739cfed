//! Server-rendered HTML pages: small, no JavaScript, English and Urdu (`?lang=ur`, right to
//! left). Every value is escaped on the way in.

use crate::views::VerificationView;

use crate::i18n;
pub use crate::i18n::Lang;

pub use crate::html::escape as esc;

fn t(lang: Lang, en: &'static str, ur: &'static str) -> &'static str {
    match lang {
        Lang::En => en,
        Lang::Ur => ur,
    }
}

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
            t(lang, "GENUINE", "اصلی")
        ));
        let what = match v.kind.as_deref() {
            Some("receipt") => t(
                lang,
                "This receipt was issued by E-Fine.",
                "یہ رسید ای-فائن نے جاری کی ہے۔",
            ),
            _ => t(
                lang,
                "This challan was issued by E-Fine.",
                "یہ چالان ای-فائن نے جاری کیا ہے۔",
            ),
        };
        body.push_str(&format!("<p>{what}</p>"));
        if lang == Lang::En {
            body.push_str(&format!("<p>{}</p>", esc(&v.summary)));
        }
    } else {
        body.push_str(&format!(
            "<div class=\"verdict bad\">&#10008; {}</div>",
            t(lang, "NOT GENUINE", "اصلی نہیں")
        ));
        let reason = match lang {
            Lang::En => esc(v.reason.as_deref().unwrap_or("not genuine")),
            Lang::Ur => reason_ur(v.reason_code.as_deref().unwrap_or("")).to_string(),
        };
        body.push_str(&format!(
            "<p><strong>{}</strong> {reason}</p><p>{}</p>",
            t(lang, "Reason:", "وجہ:"),
            t(
                lang,
                "Do not pay through any link or person that gave you this document. Pay only with \
                 the PSID at a bank, ATM, internet banking, JazzCash or Easypaisa.",
                "اس دستاویز کے ساتھ دیے گئے کسی لنک یا شخص کو ادائیگی نہ کریں۔ صرف بینک، اے ٹی ایم، \
                 انٹرنیٹ بینکنگ، جاز کیش یا ایزی پیسہ سے پی ایس آئی ڈی کے ذریعے ادائیگی کریں۔"
            )
        ));
    }
    if let Some(c) = &v.challan {
        let rows: Vec<(&str, String)> = vec![
            (
                t(lang, "Challan number", "چالان نمبر"),
                format!("<span class=num>{}</span>", esc(&c.challan_number)),
            ),
            (
                t(lang, "PSID", "پی ایس آئی ڈی"),
                format!("<span class=num>{}</span>", esc(&c.psid)),
            ),
            (
                t(lang, "Status", "حیثیت"),
                match lang {
                    Lang::En => esc(&c.status),
                    Lang::Ur => status_ur(&c.status).to_string(),
                },
            ),
            (
                t(lang, "Department", "محکمہ"),
                esc(match lang {
                    Lang::En => &c.department_name_en,
                    Lang::Ur => &c.department_name_ur,
                }),
            ),
            (
                t(lang, "District", "ضلع"),
                esc(match lang {
                    Lang::En => &c.district_name_en,
                    Lang::Ur => &c.district_name_ur,
                }),
            ),
            (
                t(lang, "Offence", "خلاف ورزی"),
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
                    t(lang, "Amount paid", "ادا شدہ رقم"),
                    format!("<span class=num>{}</span>", esc(&p.amount_display)),
                ));
                rows.push((
                    t(lang, "Paid on", "تاریخ ادائیگی"),
                    format!("<span class=num>{}</span>", esc(&p.paid_on)),
                ));
                rows.push((t(lang, "Paid by", "ذریعہ ادائیگی"), esc(&p.rail_label)));
                rows.push((
                    t(lang, "Receipt", "رسید"),
                    format!(
                        "<a href=\"/payments/{r}/receipt.pdf\"><span class=num>{r}</span></a>",
                        r = esc(&p.receipt_number)
                    ),
                ));
            }
            None if c.status == "unpaid" => {
                rows.push((
                    t(lang, "Amount due today", "آج واجب الادا رقم"),
                    format!("<span class=num>{}</span>", esc(&c.amount_due_display)),
                ));
                rows.push((
                    t(lang, "Due date", "آخری تاریخ"),
                    format!("<span class=num>{}</span>", esc(&c.due_date)),
                ));
                rows.push((
                    t(lang, "Amount after the due date", "آخری تاریخ کے بعد رقم"),
                    format!(
                        "<span class=num>{}</span>",
                        esc(&c.amount_after_due_date_display)
                    ),
                ));
            }
            None => {}
        }
        rows.push((
            t(lang, "Vehicle", "گاڑی نمبر"),
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
            t(lang, "Challan (PDF, A4)", "چالان (پی ڈی ایف)"),
            t(lang, "58 mm slip (PDF)", "۵۸ ملی میٹر پرچی"),
            n = esc(&c.challan_number),
        ));
    }
    if let Some(kid) = &v.key_id {
        body.push_str(&format!(
            "<p><small>{} <span class=num>{}</span></small></p>",
            t(lang, "Signing key:", "دستخطی کلید:"),
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
    i18n::page(
        lang,
        &here,
        t(lang, "E-Fine verification", "ای-فائن تصدیق"),
        &body,
    )
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
