//! ESC/POS for 58 mm thermal printers (the Bluetooth printers officers carry): initialise, text,
//! the printer's own QR command (`GS ( k`, so the code is sharp at any dot pitch), feed and cut.
//!
//! Cheap thermal printers have no Urdu code page and no shaping, so the slip is in English (ASCII
//! only); the Urdu text is on the PDF and the verification page the QR code leads to.

use crate::{ChallanDocument, ReceiptDocument};

const ESC: u8 = 0x1b;
const GS: u8 = 0x1d;
/// Characters per line in font A on 58 mm paper (384 dots / 12).
pub const LINE: usize = 32;

/// Builds an ESC/POS stream.
#[derive(Debug, Default)]
pub struct EscPos {
    out: Vec<u8>,
}

impl EscPos {
    /// Starts with `ESC @` (initialise the printer).
    pub fn new() -> EscPos {
        EscPos {
            out: vec![ESC, b'@'],
        }
    }

    /// `ESC a n`: 0 left, 1 centre.
    pub fn centre(&mut self, on: bool) -> &mut Self {
        self.out.extend_from_slice(&[ESC, b'a', u8::from(on)]);
        self
    }

    /// `ESC E n`: emphasised.
    pub fn bold(&mut self, on: bool) -> &mut Self {
        self.out.extend_from_slice(&[ESC, b'E', u8::from(on)]);
        self
    }

    /// One line of text; anything outside printable ASCII becomes `?`, so no byte in the text
    /// can be taken for a command.
    pub fn line(&mut self, text: &str) -> &mut Self {
        self.out.extend(text.chars().map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c as u8
            } else {
                b'?'
            }
        }));
        self.out.push(b'\n');
        self
    }

    /// A label and a value on one line if they fit, else on two.
    pub fn pair(&mut self, label: &str, value: &str) -> &mut Self {
        let (l, v) = (label.chars().count(), value.chars().count());
        if l + 1 + v <= LINE {
            let pad = " ".repeat(LINE - l - v);
            self.line(&format!("{label}{pad}{value}"))
        } else {
            self.line(label);
            self.line(&format!("{value:>LINE$}"))
        }
    }

    /// The QR code by the printer's native command (`GS ( k`, function 165, 167, 169, 180, 181):
    /// model 2, module size `dots`, error correction M, store the data, print it.
    pub fn qr(&mut self, data: &[u8], dots: u8) -> &mut Self {
        let fun = |out: &mut Vec<u8>, body: &[u8]| {
            let len = body.len() as u16;
            out.extend_from_slice(&[GS, b'(', b'k', (len & 0xff) as u8, (len >> 8) as u8]);
            out.extend_from_slice(body);
        };
        fun(&mut self.out, &[0x31, 0x41, 0x32, 0x00]); // model 2
        fun(&mut self.out, &[0x31, 0x43, dots.clamp(1, 16)]); // module size
        fun(&mut self.out, &[0x31, 0x45, 0x31]); // error correction M
        let mut store = vec![0x31, 0x50, 0x30];
        store.extend_from_slice(data);
        fun(&mut self.out, &store); // store in the symbol area
        fun(&mut self.out, &[0x31, 0x51, 0x30]); // print
        self
    }

    /// `ESC d n`: feed n lines.
    pub fn feed(&mut self, lines: u8) -> &mut Self {
        self.out.extend_from_slice(&[ESC, b'd', lines]);
        self
    }

    /// `GS V 66 0`: feed to the cutter and cut (partially, where the printer has a cutter).
    pub fn cut(&mut self) -> &mut Self {
        self.out.extend_from_slice(&[GS, b'V', 66, 0]);
        self
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.out
    }
}

/// The slip an officer prints on the spot for a challan.
pub fn challan(d: &ChallanDocument) -> Vec<u8> {
    let mut p = EscPos::new();
    p.centre(true)
        .bold(true)
        .line("GOVT OF KHYBER PAKHTUNKHWA")
        .line(&d.department_en)
        .line(if d.kind == "fee" {
            "FEE VOUCHER"
        } else {
            "CHALLAN"
        })
        .bold(false)
        .centre(false)
        .line(&"-".repeat(LINE))
        .pair("Challan", &d.challan_number)
        .pair("PSID", &d.psid)
        .line(&d.offence_en)
        .pair("District", &d.district_en)
        .pair("Issued", &d.issued_at);
    if let Some(v) = &d.vehicle {
        p.pair("Vehicle", v);
    }
    p.line(&"-".repeat(LINE))
        .bold(true)
        .pair("Pay by", &d.due_date)
        .pair("Amount", &d.amount_by_due_date)
        .bold(false)
        .pair(
            &format!("From {}", d.surcharge_from),
            &d.amount_after_due_date,
        )
        .line(&"-".repeat(LINE))
        .line("Pay with the PSID at any bank,")
        .line("ATM, internet banking (1Bill),")
        .line("JazzCash or Easypaisa.")
        .centre(true)
        .qr(d.verify_url.as_bytes(), 4)
        .line("Scan to verify");
    if let Some(raast) = &d.raast_qr {
        p.line(&"-".repeat(LINE))
            .line("Pay by Raast: scan with")
            .line("any bank app")
            .qr(raast.as_bytes(), 3);
    }
    p.centre(false).feed(3).cut();
    p.into_bytes()
}

/// The slip for a payment receipt (printed at a counter). Wired when payments record receipts.
pub fn receipt(d: &ReceiptDocument) -> Vec<u8> {
    let mut p = EscPos::new();
    p.centre(true)
        .bold(true)
        .line("GOVT OF KHYBER PAKHTUNKHWA")
        .line(&d.department_en)
        .line("PAYMENT RECEIPT")
        .bold(false)
        .centre(false)
        .line(&"-".repeat(LINE))
        .pair("Receipt", &d.receipt_number)
        .pair("Challan", &d.challan_number)
        .pair("PSID", &d.psid)
        .line(&d.offence_en)
        .pair("District", &d.district_en)
        .line(&"-".repeat(LINE))
        .bold(true)
        .pair("Paid", &d.amount_paid)
        .bold(false)
        .pair("On", &d.paid_at)
        .pair("By", &d.paid_by)
        .centre(true)
        .qr(d.verify_url.as_bytes(), 4)
        .line("Scan to verify")
        .centre(false)
        .feed(3)
        .cut();
    p.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_store_length_counts_the_three_header_bytes() {
        let mut p = EscPos::new();
        p.qr(b"abc", 4);
        let b = p.into_bytes();
        let store = b
            .windows(8)
            .position(|w| w[..3] == [GS, b'(', b'k'] && w[5..8] == [0x31, 0x50, 0x30])
            .expect("store command");
        assert_eq!(b[store + 3], 6);
        assert_eq!(b[store + 4], 0);
        assert_eq!(&b[store + 8..store + 11], b"abc");
    }

    #[test]
    fn text_cannot_smuggle_commands() {
        let mut p = EscPos::new();
        p.line("a\x1b@b\u{1d}ü");
        assert_eq!(p.into_bytes(), b"\x1b@a?@b??\n");
    }
}
