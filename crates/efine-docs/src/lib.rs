//! E-Fine documents: the challan and the payment receipt as PDF (A4 or a 58 mm roll), in English
//! and Urdu with the signed QR code, and as an ESC/POS byte stream for 58 mm thermal printers.
//!
//! Text is laid out by Pango (HarfBuzz shaping, the Unicode bidirectional algorithm) and drawn by
//! cairo into PDF, so Urdu comes out joined and right to left. Fonts are found by fontconfig:
//! Noto Sans and Noto Nastaliq Urdu from Debian's `fonts-noto-core`; no font file is shipped.
//!
//! The input is plain data assembled by the caller ([`ChallanDocument`], [`ReceiptDocument`]);
//! this crate does no IO of its own and knows nothing of HTTP or the database. Depends on
//! `efine-core` for the few domain types it prints.

pub mod escpos;
mod pdf;

pub use pdf::{challan_pdf, receipt_pdf};

/// What a challan document shows. Personal data is masked by the caller where the document is
/// public.
#[derive(Debug, Clone)]
pub struct ChallanDocument {
    pub challan_number: String,
    pub psid: String,
    pub department_en: String,
    pub department_ur: String,
    pub district_en: String,
    pub district_ur: String,
    pub offence_en: String,
    pub offence_ur: String,
    /// `fine` or `fee`.
    pub kind: String,
    /// e.g. `Rs 500`.
    pub amount_by_due_date: String,
    pub amount_after_due_date: String,
    /// Local day, `YYYY-MM-DD`.
    pub due_date: String,
    /// The first local day the surcharge applies.
    pub surcharge_from: String,
    /// Local time, e.g. `2026-11-24 14:05`.
    pub issued_at: String,
    /// `unpaid`, `paid`, `cancelled`.
    pub status: String,
    pub vehicle: Option<String>,
    pub name: Option<String>,
    /// The URL the QR code carries: `<public base URL>/v/<token>`.
    pub verify_url: String,
    /// The Raast QR's text (EMVCo merchant-presented, dynamic: the PSID as bill number, the
    /// amount due), printed as a second QR code any bank app pays; `None` when Raast is not
    /// configured or nothing is payable.
    pub raast_qr: Option<String>,
}

/// What a payment receipt shows.
#[derive(Debug, Clone)]
pub struct ReceiptDocument {
    pub receipt_number: String,
    pub challan_number: String,
    pub psid: String,
    pub department_en: String,
    pub department_ur: String,
    pub district_en: String,
    pub district_ur: String,
    pub offence_en: String,
    pub offence_ur: String,
    /// e.g. `Rs 500`.
    pub amount_paid: String,
    /// Local time, e.g. `2026-11-24 14:05`.
    pub paid_at: String,
    /// How it was paid, e.g. `JazzCash`, `1Bill (HBL)`.
    pub paid_by: String,
    pub verify_url: String,
}

/// The page the document is laid out for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paper {
    /// 210 x 297 mm.
    A4,
    /// A 58 mm receipt roll; the page is as long as the content.
    Roll58,
}

impl Paper {
    /// `a4` or `58mm`.
    pub fn parse(s: &str) -> Option<Paper> {
        match s {
            "a4" | "A4" => Some(Paper::A4),
            "58mm" | "58" | "roll" => Some(Paper::Roll58),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DocError {
    #[error("cannot draw the document: {0}")]
    Render(String),
    #[error("cannot make the QR code: {0}")]
    Qr(String),
}

/// The QR code for `data` as rows of dark (`true`) and light modules, without the quiet zone.
pub fn qr_modules(data: &str) -> Result<Vec<Vec<bool>>, DocError> {
    let code = qrcode::QrCode::with_error_correction_level(data, qrcode::EcLevel::M)
        .map_err(|e| DocError::Qr(e.to_string()))?;
    let w = code.width();
    let colors = code.to_colors();
    Ok(colors
        .chunks(w)
        .map(|row| row.iter().map(|c| *c == qrcode::Color::Dark).collect())
        .collect())
}
