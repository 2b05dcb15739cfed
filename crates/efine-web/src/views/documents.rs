//! What the printed challan and receipt show (PDF, ESC/POS). Personal data is masked: the
//! document URLs are public. Times are local (Asia/Karachi).

use super::*;
use efine_core::challan::Challan;
use efine_core::mask;
use efine_store::ops::catalogue::Names;

/// What a challan's printed documents show. Personal data is masked: the document URLs are
/// public. Times are local (Asia/Karachi).
pub fn challan_document(
    c: &Challan,
    names: Names,
    verify_url: String,
) -> efine_docs::ChallanDocument {
    let local = c.issued_at.to_offset(efine_core::clock::KARACHI);
    let issued_at = format!("{} {:02}:{:02}", local.date(), local.hour(), local.minute());
    efine_docs::ChallanDocument {
        challan_number: c.number.to_string(),
        psid: c.psid.to_string(),
        department_en: names.department_en,
        department_ur: names.department_ur,
        district_en: names.district_en,
        district_ur: names.district_ur,
        offence_en: names.offence_en,
        offence_ur: names.offence_ur,
        kind: c.kind.as_str().into(),
        // The base amount (a reduced amount after an appeal); an early-payment discount is
        // applied at payment, not printed as the amount.
        amount_by_due_date: c.terms().base().to_string(),
        amount_after_due_date: after_due(c).to_string(),
        due_date: c.terms().effective_due_date().to_string(),
        surcharge_from: c
            .terms()
            .effective_due_date()
            .next_day()
            .unwrap_or(c.due_date)
            .to_string(),
        issued_at,
        status: c.status.as_str().into(),
        vehicle: c.vehicle.as_ref().map(|v| v.to_string()),
        name: c.name.as_deref().map(mask::name),
        verify_url,
        raast_qr: None,
    }
}

/// What a payment receipt's printed documents show. Times are local (Asia/Karachi).
pub fn receipt_document(
    r: &efine_store::ops::payments::Receipt,
    c: &Challan,
    names: Names,
    verify_url: String,
) -> efine_docs::ReceiptDocument {
    let local = r.paid_at.to_offset(efine_core::clock::KARACHI);
    efine_docs::ReceiptDocument {
        receipt_number: r.number.clone(),
        challan_number: c.number.to_string(),
        psid: c.psid.to_string(),
        department_en: names.department_en,
        department_ur: names.department_ur,
        district_en: names.district_en,
        district_ur: names.district_ur,
        offence_en: names.offence_en,
        offence_ur: names.offence_ur,
        amount_paid: r.amount.to_string(),
        paid_at: format!("{} {:02}:{:02}", local.date(), local.hour(), local.minute()),
        paid_by: r.rail.label().to_string(),
        verify_url,
    }
}
