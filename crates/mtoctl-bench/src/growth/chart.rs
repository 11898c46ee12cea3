//! The growth chart: wall time (left) and peak resident memory (right) of each phase against
//! the principals in scope, both on log-log axes (a power law is a straight line, its slope the
//! exponent), each measured series with the better of its two fits dashed over the measured
//! range (a line `a + b·x` bends on these axes while `a` dominates). SVG through `plotters`.

use std::path::Path;

use anyhow::Context;
use plotters::prelude::*;

use super::{Fit, Series};

const COLOURS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
];

/// What a panel shows of a series: its points and their fits.
type Pick = fn(&Series) -> (&[(f64, f64)], Option<Fit>);

/// `f` at `x`, by the better of its two fits.
fn predict(f: &Fit, x: f64) -> f64 {
    if f.better() == "power" {
        f.power_c * x.powf(f.power_k)
    } else {
        f.linear_a + f.linear_b * x
    }
}

/// Bounds of a log axis around `values` (positive), widened to whole powers of ten.
fn log_range(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let (lo, hi) = values
        .filter(|v| *v > 0.0)
        .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return 0.1..10.0;
    }
    let lo = 10f64.powf(lo.log10().floor());
    let hi = 10f64.powf(hi.log10().ceil());
    if hi > lo { lo..hi } else { lo..lo * 10.0 }
}

/// One panel: `series` with `y` chosen by `pick`, and each series' better fit dashed.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    y_desc: &str,
    series: &[Series],
    pick: Pick,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let xs = log_range(series.iter().flat_map(|s| pick(s).0.iter().map(|p| p.0)));
    let ys = log_range(series.iter().flat_map(|s| pick(s).0.iter().map(|p| p.1)));
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(xs.clone().log_scale(), ys.log_scale())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc("principals in scope (app role assignments)")
        .y_desc(y_desc)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| {
            if *y >= 1.0 {
                format!("{y:.0}")
            } else {
                format!("{y}")
            }
        })
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for (i, s) in series.iter().enumerate() {
        let (points, fit) = pick(s);
        if points.is_empty() {
            continue;
        }
        let colour = COLOURS[i % COLOURS.len()];
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                colour.stroke_width(2),
            ))
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .label(s.phase.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 4, colour.filled())))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if let Some(f) = fit {
            // Sampled evenly on the log axis between the first and the last measurement.
            let (lo, hi) = (points[0].0.ln(), points[points.len() - 1].0.ln());
            let fitted: Vec<(f64, f64)> = (0..=40)
                .map(|i| (lo + (hi - lo) * f64::from(i) / 40.0).exp())
                .map(|x| (x, predict(&f, x)))
                .filter(|p| p.1 > 0.0)
                .collect();
            chart
                .draw_series(DashedLineSeries::new(fitted, 6, 4, colour.stroke_width(1)))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

/// Writes the chart of `series` to `path` (SVG), titled with `title`.
pub fn write(path: &Path, title: &str, series: &[Series]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
    }
    let root = SVGBackend::new(path, (1200, 520)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
    let root = root
        .titled(title, ("sans-serif", 22))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (left, right) = root.split_horizontally(600);
    panel(&left, "wall time (dashed: fit)", "seconds", series, |s| {
        (&s.wall, s.wall_fit)
    })?;
    panel(
        &right,
        "peak resident memory of mtoctl (dashed: fit)",
        "MiB",
        series,
        |s| (&s.rss, s.rss_fit),
    )?;
    root.present()
        .with_context(|| format!("cannot write the chart `{}`", path.display()))?;
    Ok(())
}
