//! PDF layout with Pango and cairo. Each document is drawn twice: once to measure how long the
//! content is (a roll's page is exactly as long as its content), once for real.

use crate::{qr_modules, ChallanDocument, DocError, Paper, ReceiptDocument};

const PT_PER_MM: f64 = 72.0 / 25.4;
const LATIN: &str = "Noto Sans";
const URDU: &str = "Noto Nastaliq Urdu";

struct Geometry {
    width: f64,
    margin: f64,
    /// Font size of body text, in points.
    body: f64,
    /// A4 puts label, value and Urdu label on one line; the roll stacks them.
    wide: bool,
}

impl Geometry {
    fn of(paper: Paper) -> Geometry {
        match paper {
            Paper::A4 => Geometry {
                width: 210.0 * PT_PER_MM,
                margin: 15.0 * PT_PER_MM,
                body: 10.0,
                wide: true,
            },
            Paper::Roll58 => Geometry {
                width: 58.0 * PT_PER_MM,
                // 58 mm rolls print about 48 mm.
                margin: 5.0 * PT_PER_MM,
                body: 7.0,
                wide: false,
            },
        }
    }
    fn inner(&self) -> f64 {
        self.width - 2.0 * self.margin
    }
}

#[derive(Clone, Copy)]
enum Align {
    Start,
    Centre,
}

struct Pen<'a> {
    cr: &'a cairo::Context,
    g: &'a Geometry,
    y: f64,
}

impl Pen<'_> {
    fn layout(&self, text: &str, family: &str, size: f64, bold: bool, width: f64) -> pango::Layout {
        let layout = pangocairo::functions::create_layout(self.cr);
        let mut font = pango::FontDescription::new();
        font.set_family(family);
        font.set_absolute_size(size * pango::SCALE as f64);
        if bold {
            font.set_weight(pango::Weight::Bold);
        }
        layout.set_font_description(Some(&font));
        layout.set_width((width * pango::SCALE as f64) as i32);
        layout.set_wrap(pango::WrapMode::WordChar);
        // Pango picks each paragraph's direction from its first strong character (auto_dir),
        // and for a right-to-left paragraph swaps Left for Right: `Start` therefore puts Urdu
        // against the right margin and English against the left.
        layout.set_auto_dir(true);
        layout.set_text(text);
        layout
    }

    fn show(&self, layout: &pango::Layout, x: f64, y: f64) -> f64 {
        self.cr.move_to(x, y);
        pangocairo::functions::show_layout(self.cr, layout);
        let (_, h) = layout.size();
        h as f64 / pango::SCALE as f64
    }

    /// A paragraph across the full width.
    fn para(&mut self, text: &str, family: &str, size: f64, bold: bool, align: Align) {
        let l = self.layout(text, family, size, bold, self.g.inner());
        if let Align::Centre = align {
            l.set_alignment(pango::Alignment::Center);
        }
        self.y += self.show(&l, self.g.margin, self.y);
    }

    fn en(&mut self, text: &str) {
        self.para(text, LATIN, self.g.body, false, Align::Start);
    }

    fn ur(&mut self, text: &str) {
        self.para(text, URDU, self.g.body, false, Align::Start);
    }

    /// English title left, Urdu title right, on one line.
    fn title(&mut self, en: &str, ur: &str, size: f64) {
        let g = self.g;
        if g.wide {
            let half = g.inner() / 2.0;
            let l = self.layout(en, LATIN, size, true, half);
            let r = self.layout(ur, URDU, size, true, half);
            let h1 = self.show(&l, g.margin, self.y);
            let h2 = self.show(&r, g.margin + half, self.y);
            self.y += h1.max(h2);
        } else {
            self.para(en, LATIN, size, true, Align::Centre);
            self.para(ur, URDU, size, true, Align::Centre);
        }
    }

    /// One field: English label, value, Urdu label.
    fn field(&mut self, en: &str, ur: &str, value: &str) {
        self.field_ur(en, ur, value, None);
    }

    /// One field whose value also has an Urdu form, shown under it.
    fn field_ur(&mut self, en: &str, ur: &str, value: &str, value_ur: Option<&str>) {
        let g = self.g;
        let size = g.body;
        if g.wide {
            let w = g.inner();
            let (lw, vw, uw) = (w * 0.28, w * 0.44, w * 0.28);
            let l = self.layout(en, LATIN, size, false, lw);
            let v = self.layout(value, LATIN, size, true, vw);
            let u = self.layout(ur, URDU, size, false, uw);
            let mut hv = self.show(&v, g.margin + lw, self.y + 2.0);
            if let Some(t) = value_ur {
                let vu = self.layout(t, URDU, size, false, vw - 6.0);
                hv += self.show(&vu, g.margin + lw, self.y + 2.0 + hv);
            }
            let h = self.show(&l, g.margin, self.y + 2.0).max(hv).max(self.show(
                &u,
                g.margin + lw + vw,
                self.y,
            ));
            self.y += h + 2.0;
        } else {
            let half = g.inner() / 2.0;
            let l = self.layout(en, LATIN, size, false, half);
            let u = self.layout(ur, URDU, size * 0.9, false, half);
            let h =
                self.show(&l, g.margin, self.y + 2.0)
                    .max(self.show(&u, g.margin + half, self.y));
            self.y += h;
            let v = self.layout(value, LATIN, size * 1.1, true, g.inner());
            self.y += self.show(&v, g.margin, self.y);
            if let Some(t) = value_ur {
                let vu = self.layout(t, URDU, size, false, g.inner());
                self.y += self.show(&vu, g.margin, self.y);
            }
            self.y += 1.0;
        }
        self.rule(0.3);
    }

    fn rule(&mut self, weight: f64) {
        self.cr.set_line_width(weight);
        self.cr.move_to(self.g.margin, self.y + 1.0);
        self.cr.line_to(self.g.width - self.g.margin, self.y + 1.0);
        let _ = self.cr.stroke();
        self.y += 3.0;
    }

    fn gap(&mut self, pt: f64) {
        self.y += pt;
    }

    /// The QR code, centred, `size` points square including a 4-module quiet zone.
    fn qr(&mut self, data: &str, size: f64) -> Result<(), DocError> {
        let modules = qr_modules(data)?;
        let n = modules.len() as f64 + 8.0;
        let m = size / n;
        let x0 = (self.g.width - size) / 2.0 + 4.0 * m;
        let y0 = self.y + 4.0 * m;
        self.cr.set_source_rgb(0.0, 0.0, 0.0);
        for (r, row) in modules.iter().enumerate() {
            for (c, dark) in row.iter().enumerate() {
                if *dark {
                    // A hair of overlap so anti-aliasing leaves no seams between modules.
                    self.cr
                        .rectangle(x0 + c as f64 * m, y0 + r as f64 * m, m + 0.05, m + 0.05);
                }
            }
        }
        self.cr
            .fill()
            .map_err(|e| DocError::Render(e.to_string()))?;
        self.y += size;
        Ok(())
    }
}

fn render(
    paper: Paper,
    draw: impl Fn(&mut Pen) -> Result<(), DocError>,
) -> Result<Vec<u8>, DocError> {
    let g = Geometry::of(paper);
    let err = |e: cairo::Error| DocError::Render(e.to_string());
    // Pass 1: measure.
    let height = {
        let surface =
            cairo::RecordingSurface::create(cairo::Content::ColorAlpha, None).map_err(err)?;
        let cr = cairo::Context::new(&surface).map_err(err)?;
        let mut pen = Pen {
            cr: &cr,
            g: &g,
            y: g.margin,
        };
        draw(&mut pen)?;
        pen.y + g.margin
    };
    let page_height = match paper {
        Paper::A4 => 297.0 * PT_PER_MM,
        Paper::Roll58 => height,
    };
    let surface =
        cairo::PdfSurface::for_stream(g.width, page_height, Vec::<u8>::new()).map_err(err)?;
    {
        let cr = cairo::Context::new(&surface).map_err(err)?;
        let mut pen = Pen {
            cr: &cr,
            g: &g,
            y: g.margin,
        };
        draw(&mut pen)?;
        cr.show_page().map_err(err)?;
    }
    let out = surface
        .finish_output_stream()
        .map_err(|e| DocError::Render(e.to_string()))?;
    out.downcast::<Vec<u8>>()
        .map(|b| *b)
        .map_err(|_| DocError::Render("unexpected output stream".into()))
}

fn header(p: &mut Pen, department_en: &str, department_ur: &str) {
    let big = p.g.body * if p.g.wide { 1.4 } else { 1.5 };
    p.title(
        "Government of Khyber Pakhtunkhwa",
        "حکومتِ خیبر پختونخوا",
        big,
    );
    p.title(department_en, department_ur, p.g.body * 1.2);
    p.rule(1.0);
}

fn qr_block(p: &mut Pen, url: &str) -> Result<(), DocError> {
    p.gap(4.0);
    let size = if p.g.wide { 190.0 } else { p.g.inner() };
    p.qr(url, size)?;
    p.para(
        "Scan to check that this document is genuine. Only trust the page at the address in the code.",
        LATIN,
        p.g.body * 0.85,
        false,
        Align::Centre,
    );
    p.para(
        "اس دستاویز کے اصلی ہونے کی تصدیق کے لیے کوڈ اسکین کریں۔",
        URDU,
        p.g.body * 0.85,
        false,
        Align::Centre,
    );
    Ok(())
}

/// The challan (or fee voucher) with the QR code, amounts, due and surcharge dates and how to pay
/// with the PSID, in English and Urdu.
pub fn challan_pdf(d: &ChallanDocument, paper: Paper) -> Result<Vec<u8>, DocError> {
    render(paper, |p| {
        header(p, &d.department_en, &d.department_ur);
        if d.kind == "fee" {
            p.title("FEE VOUCHER", "فیس واؤچر", p.g.body * 1.4);
        } else {
            p.title("CHALLAN", "چالان", p.g.body * 1.4);
        }
        p.gap(2.0);
        p.field("Challan number", "چالان نمبر", &d.challan_number);
        p.field("PSID (pay with this)", "پی ایس آئی ڈی", &d.psid);
        p.field_ur("Offence", "خلاف ورزی", &d.offence_en, Some(&d.offence_ur));
        p.field(
            "District",
            "ضلع",
            &format!("{} / {}", d.district_en, d.district_ur),
        );
        p.field("Issued", "جاری کردہ", &d.issued_at);
        if let Some(v) = &d.vehicle {
            p.field("Vehicle", "گاڑی نمبر", v);
        }
        if let Some(n) = &d.name {
            p.field("Name", "نام", n);
        }
        p.field(
            "Amount by due date",
            "مقررہ تاریخ تک رقم",
            &d.amount_by_due_date,
        );
        p.field("Due date", "آخری تاریخ", &d.due_date);
        p.field(
            &format!("Amount from {}", d.surcharge_from),
            &format!("{} سے رقم", d.surcharge_from),
            &d.amount_after_due_date,
        );
        p.field("Status", "حیثیت", &status_en(&d.status));
        p.gap(4.0);
        p.para("How to pay", LATIN, p.g.body, true, Align::Start);
        p.en(&format!(
            "Pay with PSID {} at any bank branch, ATM or internet banking (bill payment: \
             1Bill / E-Fine KP), or in the JazzCash or Easypaisa app. Keep the receipt.",
            d.psid
        ));
        p.para("ادائیگی کا طریقہ", URDU, p.g.body, true, Align::Start);
        p.ur(&format!(
            "کسی بھی بینک برانچ، اے ٹی ایم، انٹرنیٹ بینکنگ (بل کی ادائیگی) یا \
             جاز کیش اور ایزی پیسہ ایپ سے پی ایس آئی ڈی {} کے ذریعے ادائیگی کریں۔ رسید سنبھال کر رکھیں۔",
            d.psid
        ));
        qr_block(p, &d.verify_url)
    })
}

/// The payment receipt with its QR code. Wired to a route when payments record receipts.
pub fn receipt_pdf(d: &ReceiptDocument, paper: Paper) -> Result<Vec<u8>, DocError> {
    render(paper, |p| {
        header(p, &d.department_en, &d.department_ur);
        p.title("PAYMENT RECEIPT", "رسیدِ ادائیگی", p.g.body * 1.4);
        p.gap(2.0);
        p.field("Receipt number", "رسید نمبر", &d.receipt_number);
        p.field("Challan number", "چالان نمبر", &d.challan_number);
        p.field("PSID", "پی ایس آئی ڈی", &d.psid);
        p.field_ur("Offence", "خلاف ورزی", &d.offence_en, Some(&d.offence_ur));
        p.field(
            "District",
            "ضلع",
            &format!("{} / {}", d.district_en, d.district_ur),
        );
        p.field("Amount paid", "ادا شدہ رقم", &d.amount_paid);
        p.field("Paid on", "تاریخِ ادائیگی", &d.paid_at);
        p.field("Paid by", "ذریعۂ ادائیگی", &d.paid_by);
        qr_block(p, &d.verify_url)
    })
}

fn status_en(s: &str) -> String {
    match s {
        "unpaid" => "Unpaid / غیر ادا شدہ".into(),
        "paid" => "Paid / ادا شدہ".into(),
        "cancelled" => "Cancelled / منسوخ".into(),
        other => other.into(),
    }
}
