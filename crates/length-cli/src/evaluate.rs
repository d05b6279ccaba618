//! `length evaluate`: a saved model's test loss, accuracy and confusion matrix.
//!
//! The test pass runs the model without a graph ([`Model::infer`]) over *every* test sample,
//! including the last, smaller batch, and averages per sample. The confusion matrix counts, for
//! each true class (row), how often each class was predicted (column): the diagonal holds the
//! correct answers, and a large number off it names two classes the model mixes up.

use std::fmt::Write;

use anyhow::Context;
use length_autograd::{Function, Value};
use length_data::{BatchConfig, Batches, Samples};
use length_layers::{MLP, Model};
use length_tensor::argmax_rows;

use crate::args::{DataSetName, EvaluateArgs};
use crate::data::{self, LoadRequest};
use crate::metrics::Tally;
use crate::model::{self, CLASSES};

/// `counts[true][predicted]` over a test set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfusionMatrix {
    /// Rows: true class; columns: predicted class.
    pub counts: [[usize; CLASSES]; CLASSES],
}

/// What a test pass measured.
pub struct Evaluation {
    /// Loss and accuracy over every sample.
    pub tally: Tally,
    /// How each class was classified.
    pub confusion: ConfusionMatrix,
}

/// Runs `model` (in evaluation mode) over every sample of `samples`, `batch_size` at a time.
pub fn measure(model: &MLP, samples: &Samples, batch_size: usize) -> anyhow::Result<Evaluation> {
    let config = BatchConfig {
        batch_size,
        scale: Some(1.0),
        sample_dimensions: 1,
        keep_last_batch: true,
    };
    let mut loss_function = model.config().loss;
    let mut batches = Batches::in_order(samples, &config);
    let mut tally = Tally::default();
    let mut confusion = ConfusionMatrix::default();
    while let Some(batch) = batches.next_batch() {
        let logits = model.infer(batch.images_2d())?;
        let predictions = argmax_rows(logits.view());
        let mut correct = 0;
        for (&predicted, &label) in predictions.iter().zip(batch.labels_u8) {
            confusion.counts[usize::from(label)][predicted] += 1;
            correct += usize::from(predicted == usize::from(label));
        }
        let loss = loss_function.forward(&[
            &Value::Tensor(logits.into_dyn()),
            &Value::Labels(batch.labels.to_owned()),
        ])?;
        let loss = loss.first().copied().context("the loss is empty")?;
        tally.add_batch(loss, batch.len(), correct);
    }
    Ok(Evaluation { tally, confusion })
}

/// Runs `length evaluate`.
pub fn run(args: EvaluateArgs) -> anyhow::Result<()> {
    crate::on_thread_pool(args.common.threads, || evaluate(args))
}

/// Loads the model and the test set, measures, prints.
fn evaluate(args: EvaluateArgs) -> anyhow::Result<()> {
    let loaded = model::load(&args.model)?;
    let name = args
        .data_set
        .or(loaded.data_set)
        .unwrap_or(DataSetName::Mnist);
    let data = data::load(&LoadRequest {
        name,
        data_dir: args.common.data_dir.clone(),
        with_train: false,
        batch_size: args.batch_size,
        shuffle_seed: None,
    })?;
    let test = data
        .test_samples()
        .context("the test split was not loaded")?;
    let evaluation = measure(&loaded.model, test, args.batch_size)?;
    println!(
        "{} test set, {} samples: loss {:.4}  accuracy {:.4}",
        name.title(),
        evaluation.tally.samples,
        evaluation.tally.mean_loss(),
        evaluation.tally.accuracy()
    );
    println!();
    print!(
        "{}",
        confusion_table(&evaluation.confusion, name.class_names())
    );
    Ok(())
}

/// The confusion matrix as a table: one row per true class, one column per predicted class,
/// and each class's recall (correct / total of its row) at the end.
pub fn confusion_table(confusion: &ConfusionMatrix, names: &[&str; CLASSES]) -> String {
    let width = confusion
        .counts
        .iter()
        .flatten()
        .max()
        .map_or(1, |max| max.to_string().len())
        .max(3);
    let label_width = names.iter().map(|n| n.len()).max().unwrap_or(1).max(4);
    let mut table = String::new();
    let _ = writeln!(
        table,
        "{:label_width$}  predicted →",
        "true ↓",
        label_width = label_width
    );
    let _ = write!(table, "{:label_width$} ", "");
    for class in 0..CLASSES {
        let _ = write!(table, " {class:>width$}");
    }
    let _ = writeln!(table, "  recall");
    for (class, row) in confusion.counts.iter().enumerate() {
        let _ = write!(table, "{:>label_width$} ", names[class]);
        for count in row {
            let _ = write!(table, " {count:>width$}");
        }
        let total: usize = row.iter().sum();
        let recall = if total > 0 {
            format!("{:.3}", row[class] as f64 / total as f64)
        } else {
            "-".to_string()
        };
        let _ = writeln!(table, "  {recall}");
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{ActivationName, ArchitectureArgs, Hidden, InitName, LossName};

    #[test]
    fn every_sample_counts_once_including_the_last_partial_batch() {
        // 7 samples in batches of 3: 3 + 3 + 1.
        let pixels: Vec<u8> = (0..7 * 784).map(|i| (i % 251) as u8).collect();
        let labels: Vec<u8> = vec![0, 1, 2, 3, 4, 5, 6];
        let samples = Samples::new(pixels, labels, [28, 28]).unwrap();
        let architecture = ArchitectureArgs {
            hidden: Hidden(vec![8]),
            activation: ActivationName::Relu,
            loss: LossName::Mse,
            dropout: 0.0,
        };
        let model = model::config_from_args(&architecture, InitName::Xavier, 1)
            .build()
            .unwrap();
        let evaluation = measure(&model, &samples, 3).unwrap();
        assert_eq!(evaluation.tally.samples, 7);
        let counted: usize = evaluation.confusion.counts.iter().flatten().sum();
        assert_eq!(counted, 7);
        let diagonal: usize = (0..CLASSES)
            .map(|c| evaluation.confusion.counts[c][c])
            .sum();
        assert_eq!(diagonal, evaluation.tally.correct);
        // The same figures with one batch of all 7.
        let whole = measure(&model, &samples, 7).unwrap();
        assert_eq!(whole.confusion, evaluation.confusion);
        assert!((whole.tally.mean_loss() - evaluation.tally.mean_loss()).abs() < 1e-6);
    }

    #[test]
    fn the_table_has_a_row_per_class_and_recalls() {
        let mut confusion = ConfusionMatrix::default();
        confusion.counts[7][7] = 3;
        confusion.counts[7][1] = 1;
        let table = confusion_table(&confusion, &crate::data::DIGITS);
        assert_eq!(table.lines().count(), 2 + CLASSES);
        let row_7 = table.lines().nth(2 + 7).unwrap();
        assert!(row_7.trim_start().starts_with('7'), "{row_7}");
        assert!(row_7.ends_with("0.750"), "{row_7}");
    }
}
