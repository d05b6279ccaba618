//! Learning curves: loss and accuracy per epoch, for the training and the test set, drawn with
//! [`plotters`] as SVG or PNG.
//!
//! Two panels side by side share the epoch axis: on the left the mean loss, on the right the
//! accuracy. A test curve that rises while the training curve keeps falling is what overfitting
//! looks like. Text is set in DejaVu Sans, embedded in the binary, so drawing works without any
//! system fonts. A PNG is drawn into an RGB buffer and encoded with the [`image`] crate that
//! `length predict` reads images with, so the program carries one PNG codec, not two.

use std::ops::Range;
use std::path::Path;
use std::sync::Once;

use anyhow::anyhow;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::args::PlotFormat;
use crate::metrics::EpochMetrics;

/// Width and height of the picture in pixels.
const SIZE: (u32, u32) = (1100, 440);

/// The training curves' colour.
const TRAIN: RGBColor = RGBColor(31, 119, 180);
/// The test curves' colour.
const TEST: RGBColor = RGBColor(214, 39, 40);

/// Draws `history` to `path` in `format`; `title` heads the picture.
pub fn draw_curves(
    path: &Path,
    format: PlotFormat,
    history: &[EpochMetrics],
    title: &str,
) -> anyhow::Result<()> {
    register_font();
    let result = match format {
        PlotFormat::Svg => draw(
            SVGBackend::new(path, SIZE).into_drawing_area(),
            history,
            title,
        )
        .map_err(|e| e.to_string()),
        PlotFormat::Png => draw_png(path, history, title),
    };
    result.map_err(|e| anyhow!("cannot draw the plot {}: {e}", path.display()))
}

/// Draws into an RGB buffer, then writes the buffer as a PNG.
fn draw_png(path: &Path, history: &[EpochMetrics], title: &str) -> Result<(), String> {
    let (width, height) = SIZE;
    let mut rgb = vec![0; 3 * width as usize * height as usize];
    draw(
        BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area(),
        history,
        title,
    )
    .map_err(|e| e.to_string())?;
    image::save_buffer_with_format(
        path,
        &rgb,
        width,
        height,
        image::ExtendedColorType::Rgb8,
        image::ImageFormat::Png,
    )
    .map_err(|e| e.to_string())
}

/// Makes the embedded DejaVu Sans the `sans-serif` font, once per process.
fn register_font() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // The bytes are a valid TrueType font shipped by the `dejavu` crate.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
    });
}

/// One curve: a name, a colour, and a value per epoch.
struct Curve {
    name: &'static str,
    color: RGBColor,
    points: Vec<(f64, f64)>,
}

/// The curve of `value` over the epochs, leaving out non-finite values.
fn curve(
    name: &'static str,
    color: RGBColor,
    history: &[EpochMetrics],
    value: fn(&EpochMetrics) -> f64,
) -> Curve {
    let points = history
        .iter()
        .map(|m| (m.epoch as f64, value(m)))
        .filter(|(_, y)| y.is_finite())
        .collect();
    Curve {
        name,
        color,
        points,
    }
}

/// Draws both panels onto `root`.
fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    history: &[EpochMetrics],
    title: &str,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 22))?;
    let (left, right) = root.split_horizontally(SIZE.0 / 2);
    let loss = [
        curve("train", TRAIN, history, |m| m.train_loss),
        curve("test", TEST, history, |m| m.test_loss),
    ];
    let accuracy = [
        curve("train", TRAIN, history, |m| m.train_accuracy),
        curve("test", TEST, history, |m| m.test_accuracy),
    ];
    let epochs = history.iter().map(|m| m.epoch).max().unwrap_or(1);
    draw_panel(&left, "loss", &loss, epochs, loss_range(&loss))?;
    draw_panel(
        &right,
        "accuracy",
        &accuracy,
        epochs,
        accuracy_range(&accuracy),
    )?;
    root.present()
}

/// From 0 to a little above the largest loss.
fn loss_range(curves: &[Curve]) -> Range<f64> {
    let max = values(curves).fold(0.0, f64::max);
    0.0..if max > 0.0 { max * 1.1 } else { 1.0 }
}

/// From a little below the smallest accuracy to 1.
fn accuracy_range(curves: &[Curve]) -> Range<f64> {
    let min = values(curves).fold(1.0, f64::min);
    (min - 0.05).clamp(0.0, 0.95)..1.0
}

/// Every value of every curve.
fn values(curves: &[Curve]) -> impl Iterator<Item = f64> + '_ {
    curves.iter().flat_map(|c| c.points.iter().map(|&(_, y)| y))
}

/// One panel: axes, a line with dots per curve, and a legend.
fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    y_label: &str,
    curves: &[Curve],
    epochs: usize,
    y_range: Range<f64>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    // One epoch still gets an x axis with some width around its single point.
    let x_range = if epochs > 1 {
        1.0..epochs as f64
    } else {
        0.5..1.5
    };
    let mut chart = ChartBuilder::on(area)
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x_range, y_range)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(y_label)
        .x_labels(epochs.clamp(2, 12))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .bold_line_style(RGBColor(210, 210, 210))
        .light_line_style(RGBColor(240, 240, 240))
        .axis_desc_style(("sans-serif", 16))
        .label_style(("sans-serif", 13))
        .draw()?;
    for curve in curves {
        let color = curve.color;
        chart
            .draw_series(LineSeries::new(
                curve.points.iter().copied(),
                color.stroke_width(2),
            ))?
            .label(curve.name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
        chart.draw_series(
            curve
                .points
                .iter()
                .map(|&point| Circle::new(point, 4, color.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history() -> Vec<EpochMetrics> {
        (1..=3)
            .map(|epoch| EpochMetrics {
                epoch,
                learning_rate: 0.1,
                train_loss: 1.0 / epoch as f64,
                train_accuracy: 0.8 + 0.05 * epoch as f64,
                test_loss: 1.1 / epoch as f64,
                test_accuracy: 0.78 + 0.05 * epoch as f64,
                seconds: 1.0,
                samples_per_second: 60_000.0,
                gflop_per_second: 192.45,
            })
            .collect()
    }

    #[test]
    fn svg_has_the_titles_and_curves() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("curves.svg");
        draw_curves(&path, PlotFormat::Svg, &history(), "MNIST, SGD").unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..100.min(svg.len())]);
        for text in ["MNIST, SGD", "epoch", "loss", "accuracy", "train", "test"] {
            assert!(svg.contains(text), "the SVG lacks {text:?}");
        }
        assert!(svg.contains("<polyline"), "the SVG has no curve");
    }

    #[test]
    fn png_is_a_png_of_the_right_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("curves.png");
        draw_curves(&path, PlotFormat::Png, &history()[..1], "one epoch").unwrap();
        let decoder =
            png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
        let reader = decoder.read_info().unwrap();
        assert_eq!((reader.info().width, reader.info().height), SIZE);
    }
}
