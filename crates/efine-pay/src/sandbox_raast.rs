//! The biller's bank's side of Raast (sandbox): what a payer's bank app does with a scanned QR,
//! and the signed notification and inquiry answer the biller's bank sends, in the same wire
//! format as [`crate::raast`], so the whole flow runs offline and in tests.

use crate::card;
use crate::raast::{self, Decoded, InquiryAnswer, NotificationBody, PaymentReport, QrError};

/// What a bank app would pay for a scanned QR: the QR read (CRC checked), the payee's IBAN the
/// app would show, and a report of the payment as the biller's bank would send it.
pub fn pay_scanned(
    payload: &str,
    raast_txn_id: &str,
    paid_at: time::OffsetDateTime,
    payer_bank: &str,
) -> Result<(Decoded, PaymentReport), QrError> {
    let d = raast::decode(payload)?;
    if d.fields.get("01").map(String::as_str) != Some("12") {
        return Err(QrError::Field {
            field: "01",
            why: "not a dynamic QR",
        });
    }
    if d.account.get("00").map(String::as_str) != Some(raast::RAAST_AID) {
        return Err(QrError::Field {
            field: "28",
            why: "not a Raast merchant account",
        });
    }
    let psid = d.psid().ok_or(QrError::Field {
        field: "62-01",
        why: "no bill reference",
    })?;
    let amount = d.amount().ok_or(QrError::Field {
        field: "54",
        why: "no amount",
    })?;
    let report = PaymentReport {
        raast_txn_id: raast_txn_id.into(),
        bill_reference: psid.into(),
        amount_paisa: amount.paisa(),
        currency: "PKR".into(),
        paid_at: paid_at
            .format(&time::format_description::well_known::Rfc3339)
            .expect("a valid time formats"),
        payer_bank: Some(payer_bank.into()),
        status: "credited".into(),
    };
    Ok((d, report))
}

/// The notification for `report`: the raw body and the [`raast::SIGNATURE_HEADER`] value,
/// signed with each of `secrets` at `now` (unix seconds).
pub fn notification(secrets: &[&str], report: &PaymentReport, now: i64) -> (Vec<u8>, String) {
    let body = serde_json::to_vec(&NotificationBody {
        id: format!("evt_{}_{}", report.raast_txn_id, report.status),
        payment: report.clone(),
    })
    .expect("a plain struct serialises");
    let sigs: Vec<String> = secrets.iter().map(|s| card::sign(s, now, &body)).collect();
    (body.clone(), card::signature_header(now, &sigs))
}

/// The inquiry answer for a bill reference.
pub fn inquiry_answer(psid: &str, reports: Vec<PaymentReport>) -> Vec<u8> {
    serde_json::to_vec(&InquiryAnswer {
        bill_reference: psid.into(),
        payments: reports,
    })
    .expect("a plain struct serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raast::{Bill, Biller};
    use efine_core::Money;

    #[test]
    fn a_scanned_qr_becomes_a_report_the_biller_accepts() {
        let biller = Biller {
            iban: "PK36SCBL0000001123456702".into(),
            name: "GOVT OF KP E-FINE".into(),
            city: "PESHAWAR".into(),
            mcc: "9399".into(),
            notification_secrets: vec!["s1".into()],
            tolerance_secs: 300,
        };
        let qr = raast::encode(
            &biller,
            &Bill {
                psid: "10261000000810".into(),
                amount: Money::from_rupees(750).unwrap(),
                due: None,
                label: None,
            },
        )
        .unwrap();
        let at = time::macros::datetime!(2026-12-01 10:00 +05:00);
        let (_, report) = pay_scanned(&qr, "RST1", at, "MEZN").unwrap();
        assert_eq!(report.amount_paisa, 75_000);
        let (body, header) = notification(&["s1"], &report, 1_800_000_000);
        let (_, p) =
            raast::verify_notification(&biller, &body, Some(&header), 1_800_000_000).unwrap();
        assert_eq!(p.psid, "10261000000810");
        assert_eq!(p.amount, Money::from_rupees(750).unwrap());
        let (body2, header2) = notification(&["wrong"], &report, 1_800_000_000);
        assert!(
            raast::verify_notification(&biller, &body2, Some(&header2), 1_800_000_000).is_err()
        );
    }
}
