//! The per-epoch metrics file.
//!
//! The averages come from the training library ([`length_train::Tally`]: per sample, in `f64`, in
//! batch order); [`MetricsWriter`] writes one [`EpochMetrics`] row per epoch, as CSV or as JSON lines.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;

use crate::args::MetricsFormat;

/// What one epoch of training measured: one row of the metrics file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochMetrics {
    /// 1-based epoch number.
    pub epoch: usize,
    /// The learning rate used during the epoch.
    pub learning_rate: f32,
    /// Mean training loss over the epoch's samples.
    pub train_loss: f64,
    /// Training accuracy over the epoch's samples.
    pub train_accuracy: f64,
    /// Mean test loss over every test sample.
    pub test_loss: f64,
    /// Test accuracy over every test sample.
    pub test_accuracy: f64,
    /// Wall-clock seconds the epoch's training loop took (without the test pass).
    pub seconds: f64,
    /// Training samples per second of the training loop.
    pub samples_per_second: f64,
    /// Effective matmul speed of the training loop, GFLOP/s (see `throughput.rs`).
    pub gflop_per_second: f64,
}

/// The column names, in the order of CSV columns and JSON keys.
const COLUMNS: [&str; 9] = [
    "epoch",
    "learning_rate",
    "train_loss",
    "train_accuracy",
    "test_loss",
    "test_accuracy",
    "seconds",
    "samples_per_second",
    "gflop_per_second",
];

/// Writes [`EpochMetrics`] rows to a file, flushing after each so a crash keeps what was written.
pub struct MetricsWriter {
    out: BufWriter<File>,
    format: MetricsFormat,
}

impl MetricsWriter {
    /// Creates (or truncates) `path`; a CSV file gets its header row at once.
    pub fn create(path: &Path, format: MetricsFormat) -> anyhow::Result<Self> {
        let file = File::create(path)
            .with_context(|| format!("cannot create the metrics file {}", path.display()))?;
        let mut writer = MetricsWriter {
            out: BufWriter::new(file),
            format,
        };
        if format == MetricsFormat::Csv {
            writeln!(writer.out, "{}", COLUMNS.join(","))?;
            writer.out.flush()?;
        }
        Ok(writer)
    }

    /// Appends one row.
    pub fn write(&mut self, row: &EpochMetrics) -> anyhow::Result<()> {
        match self.format {
            MetricsFormat::Csv => writeln!(
                self.out,
                "{},{},{},{},{},{},{:.3},{:.0},{:.2}",
                row.epoch,
                row.learning_rate,
                row.train_loss,
                row.train_accuracy,
                row.test_loss,
                row.test_accuracy,
                row.seconds,
                row.samples_per_second,
                row.gflop_per_second
            )?,
            MetricsFormat::JsonLines => {
                let object = serde_json::json!({
                    COLUMNS[0]: row.epoch,
                    COLUMNS[1]: shortest_f64(row.learning_rate),
                    COLUMNS[2]: finite_or_null(row.train_loss),
                    COLUMNS[3]: finite_or_null(row.train_accuracy),
                    COLUMNS[4]: finite_or_null(row.test_loss),
                    COLUMNS[5]: finite_or_null(row.test_accuracy),
                    COLUMNS[6]: (row.seconds * 1000.0).round() / 1000.0,
                    COLUMNS[7]: row.samples_per_second.round(),
                    COLUMNS[8]: (row.gflop_per_second * 100.0).round() / 100.0,
                });
                writeln!(self.out, "{object}")?;
            }
        }
        self.out.flush().context("cannot write the metrics file")
    }
}

/// An `f32` as the `f64` with the same shortest decimal form (`0.1`, not `0.10000000149…`).
fn shortest_f64(value: f32) -> f64 {
    value.to_string().parse().unwrap_or(f64::from(value))
}

/// JSON has no NaN or infinity: such values are written as `null`.
fn finite_or_null(value: f64) -> serde_json::Value {
    if value.is_finite() {
        value.into()
    } else {
        serde_json::Value::Null
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(epoch: usize) -> EpochMetrics {
        EpochMetrics {
            epoch,
            learning_rate: 0.1,
            train_loss: 0.25,
            train_accuracy: 0.5,
            test_loss: 0.125,
            test_accuracy: 0.75,
            seconds: 1.5,
            samples_per_second: 40_000.0,
            gflop_per_second: 128.3,
        }
    }

    #[test]
    fn csv_has_a_header_and_one_row_per_epoch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.csv");
        let mut writer = MetricsWriter::create(&path, MetricsFormat::Csv).unwrap();
        writer.write(&row(1)).unwrap();
        writer.write(&row(2)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "epoch,learning_rate,train_loss,train_accuracy,test_loss,test_accuracy,seconds,\
                 samples_per_second,gflop_per_second",
                "1,0.1,0.25,0.5,0.125,0.75,1.500,40000,128.30",
                "2,0.1,0.25,0.5,0.125,0.75,1.500,40000,128.30",
            ]
        );
    }

    #[test]
    fn json_lines_are_objects_with_the_same_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.jsonl");
        let mut writer = MetricsWriter::create(&path, MetricsFormat::JsonLines).unwrap();
        writer.write(&row(3)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let value: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(value["epoch"], 3);
        assert_eq!(value["test_accuracy"], 0.75);
        assert_eq!(value["seconds"], 1.5);
        assert_eq!(value["samples_per_second"], 40_000.0);
        assert_eq!(value["gflop_per_second"], 128.3);
        assert_eq!(value["learning_rate"], 0.1);
        assert_eq!(value.as_object().unwrap().len(), COLUMNS.len());
    }
}
