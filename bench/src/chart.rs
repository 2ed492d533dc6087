//! The SVG chart: throughput (records/s, log scale) against records per batch (log scale),
//! one line per module, for the smallest values on untagged batches in the official engine.

use plotters::prelude::*;

use crate::engines::EngineKind;
use crate::inputs::{bytes_label, group, Shape, Tagging};
use crate::measure::Results;
use crate::report::si;

/// The chart as an SVG document.
pub fn svg(r: &Results) -> Result<String, String> {
    let value = r.config.value_sizes.iter().copied().min().unwrap_or(64);
    let mut series: Vec<(&str, Vec<(f64, f64)>)> = Vec::new();
    for (i, s) in r.subjects.iter().enumerate() {
        let points: Vec<(f64, f64)> = r
            .config
            .batch_sizes
            .iter()
            .filter_map(|&records| {
                let shape = Shape {
                    records,
                    value,
                    tagging: Tagging::Untagged,
                };
                r.rate(i, EngineKind::Official, shape)
                    .map(|rate| (records as f64, rate.records_per_s))
            })
            .collect();
        if !points.is_empty() {
            series.push((s.name, points));
        }
    }
    let ys = series.iter().flat_map(|(_, p)| p.iter().map(|(_, y)| *y));
    let (lo, hi) = ys.fold((f64::MAX, f64::MIN), |(lo, hi), y| (lo.min(y), hi.max(y)));
    let (lo, hi) = if lo <= hi {
        (lo / 2.0, hi * 2.0)
    } else {
        (1.0, 10.0)
    };
    let max_batch = r.config.batch_sizes.iter().copied().max().unwrap_or(1) as f64;

    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (960, 600)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let caption = format!(
            "Throughput, {} values, untagged, official engine (fluvio-smartengine 0.50.1)",
            bytes_label(value)
        );
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 20))
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(
                (0.7f64..max_batch * 1.5).log_scale(),
                (lo.max(1.0)..hi).log_scale(),
            )
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("records per batch")
            .y_desc("records/s")
            .max_light_lines(1)
            .x_label_formatter(&|x| group(x.round() as u64))
            .y_label_formatter(&|y| si(*y))
            .y_labels(12)
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 16))
            .draw()
            .map_err(err)?;
        for (idx, (name, points)) in series.into_iter().enumerate() {
            let color = Palette99::pick(idx).to_rgba();
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)).point_size(4))
                .map_err(err)?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3))
                });
        }
        chart
            .configure_series_labels()
            .label_font(("sans-serif", 14))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(out)
}

fn err(e: impl std::fmt::Display) -> String {
    format!("cannot draw the chart: {e}")
}
