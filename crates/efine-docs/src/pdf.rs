//! PDF layout with Pango and cairo. Each document is drawn twice: once to measure how long the
//! content is (a roll's page is exactly as long as its content), once for real. Every fixed
//! string, English and Urdu, comes from the translation tables in `efine_core::i18n`.

use crate::{qr_modules, ChallanDocument, DocError, Paper, ReceiptDocument};
use efine_core::i18n::{tr, trf, Lang};

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
        self.qr_at(data, size, (self.g.width - size) / 2.0)?;
        self.y += size;
        Ok(())
    }

    /// Text in two columns (each line: text and font family), centred in each; the taller
    /// column moves the pen.
    fn columns(&mut self, left: &[(&str, &str)], right: &[(&str, &str)], size: f64) {
        let g = self.g;
        let half = g.inner() / 2.0;
        let mut heights = [0.0, 0.0];
        for (i, col) in [left, right].into_iter().enumerate() {
            for (text, family) in col {
                let l = self.layout(text, family, size, false, half - 8.0);
                l.set_alignment(pango::Alignment::Center);
                heights[i] += self.show(&l, g.margin + half * i as f64 + 4.0, self.y + heights[i]);
            }
        }
        self.y += heights[0].max(heights[1]);
    }

    /// A QR code `size` points square whose left edge is at `x`; the pen does not move.
    fn qr_at(&mut self, data: &str, size: f64, x: f64) -> Result<(), DocError> {
        let modules = qr_modules(data)?;
        let n = modules.len() as f64 + 8.0;
        let m = size / n;
        let x0 = x + 4.0 * m;
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

/// A string in English and in Urdu: each document prints both.
fn en_ur(key: &'static str) -> (&'static str, &'static str) {
    (tr(Lang::En, key), tr(Lang::Ur, key))
}

/// A [`Pen::title`] from one translation key.
fn title(p: &mut Pen, key: &'static str, size: f64) {
    let (en, ur) = en_ur(key);
    p.title(en, ur, size);
}

/// A [`Pen::field`] labelled by one translation key.
fn field(p: &mut Pen, key: &'static str, value: &str) {
    let (en, ur) = en_ur(key);
    p.field(en, ur, value);
}

fn header(p: &mut Pen, department_en: &str, department_ur: &str) {
    let big = p.g.body * if p.g.wide { 1.4 } else { 1.5 };
    title(p, "doc.government", big);
    p.title(department_en, department_ur, p.g.body * 1.2);
    p.rule(1.0);
}

fn qr_block(p: &mut Pen, url: &str) -> Result<(), DocError> {
    p.gap(4.0);
    let size = if p.g.wide { 190.0 } else { p.g.inner() };
    p.qr(url, size)?;
    let (en, ur) = en_ur("doc.scan");
    p.para(en, LATIN, p.g.body * 0.85, false, Align::Centre);
    p.para(ur, URDU, p.g.body * 0.85, false, Align::Centre);
    Ok(())
}

/// The challan (or fee voucher) with the QR code, amounts, due and surcharge dates and how to pay
/// with the PSID, in English and Urdu.
pub fn challan_pdf(d: &ChallanDocument, paper: Paper) -> Result<Vec<u8>, DocError> {
    render(paper, |p| {
        header(p, &d.department_en, &d.department_ur);
        if d.kind == "fee" {
            title(p, "doc.fee_voucher", p.g.body * 1.4);
        } else {
            title(p, "doc.challan", p.g.body * 1.4);
        }
        p.gap(2.0);
        field(p, "doc.challan_number", &d.challan_number);
        field(p, "doc.psid_pay_with", &d.psid);
        let (en, ur) = en_ur("doc.offence");
        p.field_ur(en, ur, &d.offence_en, Some(&d.offence_ur));
        field(
            p,
            "doc.district",
            &format!("{} / {}", d.district_en, d.district_ur),
        );
        field(p, "doc.issued", &d.issued_at);
        if let Some(v) = &d.vehicle {
            field(p, "doc.vehicle", v);
        }
        if let Some(n) = &d.name {
            field(p, "doc.name", n);
        }
        field(p, "doc.amount_by_due_date", &d.amount_by_due_date);
        field(p, "doc.due_date", &d.due_date);
        let from = [("date", d.surcharge_from.as_str())];
        p.field(
            &trf(Lang::En, "doc.amount_from", &from),
            &trf(Lang::Ur, "doc.amount_from", &from),
            &d.amount_after_due_date,
        );
        field(p, "doc.status", &status(&d.status));
        p.gap(4.0);
        let psid = [("psid", d.psid.as_str())];
        p.para(
            tr(Lang::En, "doc.how_to_pay"),
            LATIN,
            p.g.body,
            true,
            Align::Start,
        );
        p.en(&trf(Lang::En, "doc.how_to_pay_body", &psid));
        p.para(
            tr(Lang::Ur, "doc.how_to_pay"),
            URDU,
            p.g.body,
            true,
            Align::Start,
        );
        p.ur(&trf(Lang::Ur, "doc.how_to_pay_body", &psid));
        match &d.raast_qr {
            Some(raast) if p.g.wide => qr_pair(p, &d.verify_url, raast),
            Some(raast) => {
                qr_block(p, &d.verify_url)?;
                raast_block(p, raast)
            }
            None => qr_block(p, &d.verify_url),
        }
    })
}

/// On A4: the verification QR and the Raast QR side by side, each with its caption, so the
/// page still holds everything.
fn qr_pair(p: &mut Pen, verify_url: &str, raast: &str) -> Result<(), DocError> {
    p.gap(4.0);
    let size = 170.0;
    let half = p.g.inner() / 2.0;
    let left = p.g.margin + (half - size) / 2.0;
    p.qr_at(verify_url, size, left)?;
    p.qr_at(raast, size, left + half)?;
    p.y += size;
    let (scan_en, scan_ur) = en_ur("doc.scan");
    let (title_en, title_ur) = en_ur("doc.raast_title");
    let (raast_en, raast_ur) = en_ur("doc.raast_scan");
    let by_raast_en = format!("{title_en}: {raast_en}");
    let by_raast_ur = format!("{title_ur}: {raast_ur}");
    p.columns(
        &[(scan_en, LATIN), (scan_ur, URDU)],
        &[(&by_raast_en, LATIN), (&by_raast_ur, URDU)],
        p.g.body * 0.85,
    );
    Ok(())
}

/// On the roll: the Raast QR under the verification QR; scanned by any bank app, it pays the
/// amount due to the biller's account.
fn raast_block(p: &mut Pen, payload: &str) -> Result<(), DocError> {
    p.gap(6.0);
    p.rule(0.5);
    title(p, "doc.raast_title", p.g.body * 1.1);
    p.qr(payload, p.g.inner())?;
    let (en, ur) = en_ur("doc.raast_scan");
    p.para(en, LATIN, p.g.body * 0.85, false, Align::Centre);
    p.para(ur, URDU, p.g.body * 0.85, false, Align::Centre);
    Ok(())
}

/// The payment receipt with its QR code. Wired to a route when payments record receipts.
pub fn receipt_pdf(d: &ReceiptDocument, paper: Paper) -> Result<Vec<u8>, DocError> {
    render(paper, |p| {
        header(p, &d.department_en, &d.department_ur);
        title(p, "doc.receipt", p.g.body * 1.4);
        p.gap(2.0);
        field(p, "doc.receipt_number", &d.receipt_number);
        field(p, "doc.challan_number", &d.challan_number);
        field(p, "doc.psid", &d.psid);
        let (en, ur) = en_ur("doc.offence");
        p.field_ur(en, ur, &d.offence_en, Some(&d.offence_ur));
        field(
            p,
            "doc.district",
            &format!("{} / {}", d.district_en, d.district_ur),
        );
        field(p, "doc.amount_paid", &d.amount_paid);
        field(p, "doc.paid_on", &d.paid_at);
        field(p, "doc.paid_by", &d.paid_by);
        qr_block(p, &d.verify_url)
    })
}

/// The status in both languages, e.g. `Unpaid / غیر ادا شدہ`.
fn status(s: &str) -> String {
    let key = match s {
        "unpaid" => "doc.status_unpaid",
        "paid" => "doc.status_paid",
        "cancelled" => "doc.status_cancelled",
        other => return other.into(),
    };
    let (en, ur) = en_ur(key);
    format!("{en} / {ur}")
}
