//! Renders the documents, rasterises them with `pdftoppm` (Debian's poppler-utils, as a reader's
//! viewer would) and reads the QR code back with a decoder. Set `EFINE_DOCS_OUT=DIR` to keep the
//! PDFs and PNGs for a look.

use efine_docs::{challan_pdf, receipt_pdf, ChallanDocument, Paper, ReceiptDocument};
use std::path::Path;
use std::process::Command;

fn challan() -> ChallanDocument {
    ChallanDocument {
        challan_number: "TRF-PSH-2026-004219".into(),
        psid: "2601380000042195".into(),
        department_en: "Traffic Police".into(),
        department_ur: "ٹریفک پولیس".into(),
        district_en: "Peshawar".into(),
        district_ur: "پشاور".into(),
        offence_en: "Riding a motorcycle without a helmet".into(),
        offence_ur: "بغیر ہیلمٹ موٹر سائیکل چلانا".into(),
        kind: "fine".into(),
        amount_by_due_date: "Rs 500".into(),
        amount_after_due_date: "Rs 1,000".into(),
        due_date: "2026-12-09".into(),
        surcharge_from: "2026-12-10".into(),
        issued_at: "2026-11-24 14:05".into(),
        status: "unpaid".into(),
        vehicle: Some("PES-1234".into()),
        name: Some("M******* A***".into()),
        verify_url: format!("http://127.0.0.1:8080/v/{}", "A".repeat(170)),
        raast_qr: None,
    }
}

/// Rasterises page 1 at `dpi` and returns every QR code found on it.
pub fn decode_pdf_qr(pdf: &[u8], dpi: u32, keep: Option<(&Path, &str)>) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let pdf_path = dir.path().join("doc.pdf");
    std::fs::write(&pdf_path, pdf).unwrap();
    let status = Command::new("pdftoppm")
        .args(["-r", &dpi.to_string(), "-png", "-singlefile"])
        .arg(&pdf_path)
        .arg(dir.path().join("page"))
        .status()
        .expect("pdftoppm (Debian poppler-utils) must be installed: scripts/test installs it");
    assert!(status.success());
    let png = dir.path().join("page.png");
    if let Some((out, name)) = keep {
        std::fs::create_dir_all(out).unwrap();
        std::fs::copy(&pdf_path, out.join(format!("{name}.pdf"))).unwrap();
        std::fs::copy(&png, out.join(format!("{name}.png"))).unwrap();
    }
    let img = image::open(&png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_, s)| s))
        .collect()
}

fn keep() -> Option<std::path::PathBuf> {
    std::env::var_os("EFINE_DOCS_OUT").map(Into::into)
}

#[test]
fn challan_pdfs_carry_a_readable_qr_code() {
    let d = challan();
    for (paper, name, dpi) in [
        (Paper::A4, "challan-a4", 150),
        (Paper::Roll58, "challan-58mm", 200),
    ] {
        let pdf = challan_pdf(&d, paper).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let out = keep();
        let codes = decode_pdf_qr(&pdf, dpi, out.as_deref().map(|p| (p, name)));
        assert_eq!(codes, vec![d.verify_url.clone()], "{name}");
    }
}

fn receipt() -> ReceiptDocument {
    ReceiptDocument {
        receipt_number: "RCP-2026-00000042".into(),
        challan_number: "TRF-PSH-2026-004219".into(),
        psid: "2601380000042195".into(),
        department_en: "Traffic Police".into(),
        department_ur: "ٹریفک پولیس".into(),
        district_en: "Peshawar".into(),
        district_ur: "پشاور".into(),
        offence_en: "Riding a motorcycle without a helmet".into(),
        offence_ur: "بغیر ہیلمٹ موٹر سائیکل چلانا".into(),
        amount_paid: "Rs 500".into(),
        paid_at: "2026-11-25 10:12".into(),
        paid_by: "JazzCash".into(),
        verify_url: "http://127.0.0.1:8080/v/receipt-token".into(),
    }
}

#[test]
fn receipt_pdf_carries_a_readable_qr_code() {
    let r = receipt();
    for (paper, name, dpi) in [
        (Paper::A4, "receipt-a4", 150),
        (Paper::Roll58, "receipt-58mm", 200),
    ] {
        let pdf = receipt_pdf(&r, paper).unwrap();
        let out = keep();
        let codes = decode_pdf_qr(&pdf, dpi, out.as_deref().map(|p| (p, name)));
        assert_eq!(codes, vec![r.verify_url.clone()], "{name}");
    }
}

#[test]
fn escpos_slip_has_init_qr_and_cut() {
    let d = challan();
    let b = efine_docs::escpos::challan(&d);
    assert_eq!(&b[..2], b"\x1b@");
    let has = |needle: &[u8]| b.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"\x1d(k\x04\x001A2\x00"), "QR model");
    assert!(has(b"\x1d(k\x03\x001Q0"), "QR print");
    let mut store = b"1P0".to_vec();
    store.extend_from_slice(d.verify_url.as_bytes());
    assert!(has(&store), "QR store with the URL");
    assert!(b.ends_with(b"\x1dVB\x00"), "cut");
    assert!(has(b"TRF-PSH-2026-004219"));
}

#[test]
fn escpos_receipt_slip_has_init_qr_and_cut() {
    let r = receipt();
    let b = efine_docs::escpos::receipt(&r);
    assert_eq!(&b[..2], b"\x1b@");
    let has = |needle: &[u8]| b.windows(needle.len()).any(|w| w == needle);
    let mut store = b"1P0".to_vec();
    store.extend_from_slice(r.verify_url.as_bytes());
    assert!(has(&store), "QR store with the URL");
    assert!(has(b"RCP-2026-00000042"));
    assert!(b.ends_with(b"\x1dVB\x00"), "cut");
}
