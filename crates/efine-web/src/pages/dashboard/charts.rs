//! Charts for the dashboard, drawn on the server as SVG with `plotters` (its SVG backend writes
//! text as `<text>` elements, so no font files are read). Money is plotted in whole rupees as
//! integers.

use plotters::prelude::*;

const BLUE: RGBColor = RGBColor(31, 95, 160);
const GREEN: RGBColor = RGBColor(17, 105, 31);
const GREY: RGBColor = RGBColor(120, 120, 120);
const W: u32 = 640;
const H: u32 = 260;

type DrawResult<T> = Result<T, Box<dyn std::error::Error>>;

fn finish(svg: String, r: DrawResult<()>, title: &str) -> String {
    match r {
        Ok(()) => svg,
        Err(e) => {
            tracing::warn!("chart {title}: {e}");
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

/// Lines over labelled points (e.g. days), each series with a name.
pub fn lines(title: &str, labels: &[String], series: &[(&str, Vec<i64>)]) -> String {
    let mut svg = String::new();
    let r = (|| -> DrawResult<()> {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        root.fill(&WHITE)?;
        let max = series
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .max()
            .unwrap_or(0)
            .max(1);
        let n = labels.len().max(2) as i64;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(56)
            .build_cartesian_2d(0..n - 1, 0..max + max / 10 + 1)?;
        chart
            .configure_mesh()
            .x_labels(6)
            .y_labels(5)
            .x_label_formatter(&|x| label_at(labels, *x))
            .draw()?;
        for (i, (name, values)) in series.iter().enumerate() {
            let color = [BLUE, GREEN, GREY][i % 3];
            chart
                .draw_series(LineSeries::new(
                    values.iter().enumerate().map(|(x, y)| (x as i64, *y)),
                    color.stroke_width(2),
                ))?
                .label(*name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(GREY)
            .draw()?;
        root.present()?;
        Ok(())
    })();
    finish(svg, r, title)
}

/// Bars, one per label.
pub fn bars(title: &str, labels: &[String], values: &[i64]) -> String {
    let mut svg = String::new();
    let r = (|| -> DrawResult<()> {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        root.fill(&WHITE)?;
        let max = values.iter().copied().max().unwrap_or(0).max(1);
        let n = values.len().max(1) as i64;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(72)
            .build_cartesian_2d(0..n, 0..max + max / 10 + 1)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(labels.len().clamp(1, 12))
            .y_labels(5)
            .x_label_formatter(&|x| label_at(labels, *x))
            .draw()?;
        chart.draw_series(values.iter().enumerate().map(|(i, v)| {
            let x = i as i64;
            let mut bar = Rectangle::new([(x, 0), (x + 1, *v)], BLUE.filled());
            bar.set_margin(0, 0, 4, 4);
            bar
        }))?;
        root.present()?;
        Ok(())
    })();
    finish(svg, r, title)
}

/// History and a forecast with its interval band (whole rupees per day).
pub fn forecast(
    title: &str,
    (collected, forecast): (&str, &str),
    labels: &[String],
    history: &[i64],
    estimate: &[(i64, i64, i64)],
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
            .unwrap_or(0)
            .max(1);
        let n = (history.len() + estimate.len()).max(2) as i64;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(72)
            .build_cartesian_2d(0..n - 1, 0..max + max / 10 + 1)?;
        chart
            .configure_mesh()
            .x_labels(6)
            .y_labels(5)
            .x_label_formatter(&|x| label_at(labels, *x))
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
        chart
            .draw_series(LineSeries::new(
                history.iter().enumerate().map(|(x, y)| (x as i64, *y)),
                BLUE.stroke_width(2),
            ))?
            .label(collected)
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE));
        chart
            .draw_series(LineSeries::new(
                estimate
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (h + i as i64, e.0)),
                GREEN.stroke_width(2),
            ))?
            .label(forecast)
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], GREEN));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(GREY)
            .draw()?;
        root.present()?;
        Ok(())
    })();
    finish(svg, r, title)
}

/// A grid of location cells shaded by how many challans each holds (cells in millionths of a
/// degree, 10,000 wide).
pub fn hotspots(title: &str, cells: &[(i64, i64, i64)]) -> String {
    let mut svg = String::new();
    let r = (|| -> DrawResult<()> {
        let root = SVGBackend::with_string(&mut svg, (W / 2 + 40, H)).into_drawing_area();
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
            .caption(title, ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(64)
            .build_cartesian_2d(lon0..lon1 + 10_000, lat0..lat1 + 10_000)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(3)
            .y_labels(4)
            .x_label_formatter(&|x| format!("{:.2}E", *x as f64 / 1e6))
            .y_label_formatter(&|y| format!("{:.2}N", *y as f64 / 1e6))
            .draw()?;
        chart.draw_series(cells.iter().map(|(lat, lon, n)| {
            // Darker for more challans; at least a faint tint so every cell shows.
            let shade = 0.15 + 0.85 * (*n as f64 / max as f64);
            Rectangle::new(
                [(*lon, *lat), (*lon + 10_000, *lat + 10_000)],
                RGBColor(161, 18, 18).mix(shade).filled(),
            )
        }))?;
        root.present()?;
        Ok(())
    })();
    finish(svg, r, title)
}

#[cfg(test)]
mod tests {
    #[test]
    fn draws_svg_with_text() {
        let labels: Vec<String> = (1..=5).map(|d| format!("11-{d:02}")).collect();
        let svg = super::lines("Issued", &labels, &[("issued", vec![3, 5, 2, 8, 4])]);
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
        assert!(svg.contains("Issued") && svg.contains("<polyline"));
        let bars = super::bars("Rails", &["1bill".into(), "card".into()], &[10, 20]);
        assert!(bars.contains("1bill") && bars.contains("<rect"));
        let grid = super::hotspots("Hotspots", &[(34_000_000, 71_500_000, 4)]);
        assert!(grid.contains("<rect"));
    }

    /// A new installation has no payments: empty charts still draw (no labels once made the
    /// axis code loop until it overflowed).
    #[test]
    fn empty_data_draws_empty_charts() {
        let bars = super::bars("Rails", &[], &[]);
        assert!(bars.starts_with("<svg") && bars.contains("Rails"), "{bars}");
        let lines = super::lines("Issued", &[], &[("issued", vec![])]);
        assert!(lines.starts_with("<svg"), "{lines}");
        let f = super::forecast("Forecast", ("collected", "forecast"), &[], &[], &[]);
        assert!(f.starts_with("<svg"), "{f}");
        let grid = super::hotspots("Hotspots", &[]);
        assert!(grid.starts_with("<svg"), "{grid}");
    }
}
