//! Charts for the dashboard, drawn on the server as SVG with `plotters` (its SVG backend writes
//! text as `<text>` elements, so no font files are read). Money is plotted in whole rupees as
//! integers.
//!
//! The charts carry only the plot: the title and the legend are HTML around them (see
//! `figures`), so they stay readable on a phone and never cover the data. Axis labels are large
//! for the drawing's width (it is scaled down on a phone), the value axis has round steps and
//! thousands separators in the reader's digits (`fmt`), and a period that is not over yet (today,
//! this week) is drawn lighter rather than as a fall.

use plotters::prelude::*;

pub const BLUE: RGBColor = RGBColor(31, 95, 160);
pub const GREEN: RGBColor = RGBColor(17, 105, 31);
const W: u32 = 560;
const H: u32 = 280;
const FONT: u32 = 17;

type DrawResult<T> = Result<T, Box<dyn std::error::Error>>;

fn finish(svg: String, r: DrawResult<()>, what: &str) -> String {
    match r {
        Ok(()) => svg,
        Err(e) => {
            tracing::warn!("chart {what}: {e}");
            String::new()
        }
    }
}

fn label_at(labels: &[String], x: i64) -> String {
    usize::try_from(x)
        .ok()
        .and_then(|i| labels.get(i))
        .cloned()
        .unwrap_or_default()
}

/// A round top for the value axis and its step (1, 2 or 5 times a power of ten), with at most
/// five steps: 0..50 by 10, 0..2,000,000 by 500,000.
pub fn nice_top(max: i64) -> (i64, i64) {
    let max = max.max(1);
    let mut pow = 1i64;
    loop {
        for m in [1, 2, 5] {
            let step = m * pow;
            let steps = (max + step - 1) / step;
            if steps <= 5 {
                return (steps.max(1) * step, step);
            }
        }
        pow = pow.saturating_mul(10);
    }
}

/// The reader's number format for an axis.
pub type Fmt<'a> = &'a dyn Fn(i64) -> String;

/// Challans issued per day (bars) and how many of them are paid by now (a line over them):
/// both stay visible where they are equal. With `partial_last`, the last bar (today) is lighter.
pub fn issued_paid(
    labels: &[String],
    issued: &[i64],
    paid: &[i64],
    partial_last: bool,
    fmt: Fmt<'_>,
) -> String {
    let mut svg = String::new();
    let r = (|| -> DrawResult<()> {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        root.fill(&WHITE)?;
        let max = issued.iter().chain(paid).copied().max().unwrap_or(0);
        let (top, step) = nice_top(max);
        let n = issued.len().max(1) as i64;
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(34)
            .y_label_area_size(72)
            .build_cartesian_2d(0..n, 0..top)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(6)
            .y_labels((top / step + 1) as usize)
            .label_style(("sans-serif", FONT))
            .x_label_formatter(&|x| label_at(labels, *x))
            .y_label_formatter(&|y| fmt(*y))
            .draw()?;
        let last = issued.len().saturating_sub(1);
        chart.draw_series(issued.iter().enumerate().map(|(i, v)| {
            let x = i as i64;
            let tint = if partial_last && i == last { 0.2 } else { 0.45 };
            let mut bar = Rectangle::new([(x, 0), (x + 1, *v)], BLUE.mix(tint).filled());
            bar.set_margin(0, 0, 1, 1);
            bar
        }))?;
        chart.draw_series(LineSeries::new(
            paid.iter().enumerate().map(|(x, y)| (x as i64, *y)),
            GREEN.stroke_width(3),
        ))?;
        root.present()?;
        Ok(())
    })();
    finish(svg, r, "issued and paid")
}

/// Bars, one per label; with `partial_last`, the last bar (this week so far) is lighter.
pub fn bars(labels: &[String], values: &[i64], partial_last: bool, fmt: Fmt<'_>) -> String {
    let mut svg = String::new();
    let r = (|| -> DrawResult<()> {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        root.fill(&WHITE)?;
        let (top, step) = nice_top(values.iter().copied().max().unwrap_or(0));
        let n = values.len().max(1) as i64;
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(34)
            .y_label_area_size(100)
            .build_cartesian_2d(0..n, 0..top)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(labels.len().clamp(1, 7))
            .y_labels((top / step + 1) as usize)
            .label_style(("sans-serif", FONT))
            .x_label_formatter(&|x| label_at(labels, *x))
            .y_label_formatter(&|y| fmt(*y))
            .draw()?;
        let last = values.len().saturating_sub(1);
        chart.draw_series(values.iter().enumerate().map(|(i, v)| {
            let x = i as i64;
            let color = if partial_last && i == last {
                BLUE.mix(0.35)
            } else {
                BLUE.mix(1.0)
            };
            let mut bar = Rectangle::new([(x, 0), (x + 1, *v)], color.filled());
            bar.set_margin(0, 0, 4, 4);
            bar
        }))?;
        root.present()?;
        Ok(())
    })();
    finish(svg, r, "bars")
}

/// History and a forecast with its interval band (whole rupees per day).
pub fn forecast(
    labels: &[String],
    history: &[i64],
    estimate: &[(i64, i64, i64)],
    fmt: Fmt<'_>,
) -> String {
    let mut svg = String::new();
    let r = (|| -> DrawResult<()> {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        root.fill(&WHITE)?;
        let max = history
            .iter()
            .copied()
            .chain(estimate.iter().map(|e| e.2))
            .max()
            .unwrap_or(0);
        let (top, step) = nice_top(max);
        let n = (history.len() + estimate.len()).max(2) as i64;
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(34)
            .y_label_area_size(100)
            .build_cartesian_2d(0..n - 1, 0..top)?;
        chart
            .configure_mesh()
            .x_labels(6)
            .y_labels((top / step + 1) as usize)
            .label_style(("sans-serif", FONT))
            .x_label_formatter(&|x| label_at(labels, *x))
            .y_label_formatter(&|y| fmt(*y))
            .draw()?;
        let h = history.len() as i64;
        let mut band: Vec<(i64, i64)> = estimate
            .iter()
            .enumerate()
            .map(|(i, e)| (h + i as i64, e.2))
            .collect();
        band.extend(
            estimate
                .iter()
                .enumerate()
                .rev()
                .map(|(i, e)| (h + i as i64, e.1)),
        );
        chart.draw_series(std::iter::once(Polygon::new(band, GREEN.mix(0.2).filled())))?;
        chart.draw_series(LineSeries::new(
            history.iter().enumerate().map(|(x, y)| (x as i64, *y)),
            BLUE.stroke_width(2),
        ))?;
        chart.draw_series(LineSeries::new(
            estimate
                .iter()
                .enumerate()
                .map(|(i, e)| (h + i as i64, e.0)),
            GREEN.stroke_width(2),
        ))?;
        root.present()?;
        Ok(())
    })();
    finish(svg, r, "forecast")
}

/// A grid of location cells shaded by how many challans each holds (cells in millionths of a
/// degree, 10,000 wide); the page prints the scale beside it.
pub fn hotspots(cells: &[(i64, i64, i64)]) -> String {
    let mut svg = String::new();
    let r = (|| -> DrawResult<()> {
        let root = SVGBackend::with_string(&mut svg, (W / 2 + 60, H)).into_drawing_area();
        root.fill(&WHITE)?;
        let (lat0, lat1) = cells
            .iter()
            .fold((i64::MAX, i64::MIN), |(a, b), c| (a.min(c.0), b.max(c.0)));
        let (lon0, lon1) = cells
            .iter()
            .fold((i64::MAX, i64::MIN), |(a, b), c| (a.min(c.1), b.max(c.1)));
        if cells.is_empty() {
            root.present()?;
            return Ok(());
        }
        let max = cells.iter().map(|c| c.2).max().unwrap_or(1).max(1);
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(34)
            .y_label_area_size(76)
            .build_cartesian_2d(lon0..lon1 + 10_000, lat0..lat1 + 10_000)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(3)
            .y_labels(4)
            .label_style(("sans-serif", FONT - 2))
            .x_label_formatter(&|x| format!("{:.2}E", *x as f64 / 1e6))
            .y_label_formatter(&|y| format!("{:.2}N", *y as f64 / 1e6))
            .draw()?;
        chart.draw_series(cells.iter().map(|(lat, lon, n)| {
            Rectangle::new(
                [(*lon, *lat), (*lon + 10_000, *lat + 10_000)],
                RED_SCALE.mix(shade(*n, max)).filled(),
            )
        }))?;
        root.present()?;
        Ok(())
    })();
    finish(svg, r, "hotspots")
}

/// The hotspot cells' colour; a cell's tint grows with its count.
pub const RED_SCALE: RGBColor = RGBColor(161, 18, 18);

/// Darker for more challans; at least a faint tint so every cell shows.
pub fn shade(n: i64, max: i64) -> f64 {
    0.15 + 0.85 * (n as f64 / max.max(1) as f64)
}

#[cfg(test)]
mod tests {
    fn plain(n: i64) -> String {
        n.to_string()
    }

    #[test]
    fn draws_svg_with_text() {
        let labels: Vec<String> = (1..=5).map(|d| format!("{d} Nov")).collect();
        let svg = super::issued_paid(&labels, &[3, 5, 2, 8, 4], &[3, 5, 2, 8, 4], true, &plain);
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
        assert!(svg.contains("1 Nov") && svg.contains("<polyline") && svg.contains("<rect"));
        let bars = super::bars(&["1bill".into(), "card".into()], &[10, 20], false, &plain);
        assert!(bars.contains("1bill") && bars.contains("<rect"));
        let grid = super::hotspots(&[(34_000_000, 71_500_000, 4)]);
        assert!(grid.contains("<rect"));
    }

    /// The value axis gets round steps and the reader's format, not "1500000".
    #[test]
    fn value_axis_is_round_and_formatted() {
        assert_eq!(super::nice_top(45), (50, 10));
        assert_eq!(super::nice_top(1_500_000), (1_500_000, 500_000));
        assert_eq!(super::nice_top(1_600_000), (2_000_000, 500_000));
        assert_eq!(super::nice_top(0), (1, 1));
        assert_eq!(super::nice_top(7), (8, 2));
        let fmt = |n: i64| format!("<{n}>");
        let svg = super::bars(&["a".into()], &[1_500_000], false, &fmt);
        assert!(
            svg.contains("&lt;500000&gt;") || svg.contains("<500000>"),
            "{svg}"
        );
        assert!(!svg.contains(">1500000<"), "{svg}");
    }

    /// A new installation has no payments: empty charts still draw (no labels once made the
    /// axis code loop until it overflowed).
    #[test]
    fn empty_data_draws_empty_charts() {
        let bars = super::bars(&[], &[], false, &plain);
        assert!(bars.starts_with("<svg"), "{bars}");
        let lines = super::issued_paid(&[], &[], &[], false, &plain);
        assert!(lines.starts_with("<svg"), "{lines}");
        let f = super::forecast(&[], &[], &[], &plain);
        assert!(f.starts_with("<svg"), "{f}");
        let grid = super::hotspots(&[]);
        assert!(grid.starts_with("<svg"), "{grid}");
    }
}
