//! `length evaluate`: a saved model's test loss, accuracy and confusion matrix.
//!
//! The measuring is the training library's [`length_train::evaluate()`]: the model runs without a
//! graph over *every* test sample, including the last, smaller batch, and the figures are
//! averages per sample. The confusion matrix counts, for each true class (row), how often each
//! class was predicted (column): the diagonal holds the correct answers, and a large number off it
//! names two classes the model mixes up.

use std::fmt::Write;

use anyhow::Context;
use length_train::{ConfusionMatrix, evaluate as measure};

use crate::args::{DataSetName, EvaluateArgs};
use crate::data::{self, LoadRequest};
use crate::model::{self, CLASSES};

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
    let loss = loaded.model.config().loss;
    let evaluation = measure(&loaded.model, test, args.batch_size, loss)?;
    println!(
        "{} test set, {} samples: loss {:.4}  accuracy {:.4}",
        name.title(),
        evaluation.samples,
        evaluation.loss,
        evaluation.accuracy
    );
    println!();
    print!(
        "{}",
        confusion_table(&evaluation.confusion, name.class_names())
    );
    Ok(())
}

/// The confusion matrix as a table: one row per true class, one column per predicted class,
/// and each class's recall (correct / total of its row) at the end. `names` names the first
/// [`CLASSES`] classes.
pub fn confusion_table(confusion: &ConfusionMatrix, names: &[&str; CLASSES]) -> String {
    let width = (0..confusion.classes())
        .flat_map(|class| confusion.row(class).iter())
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
    for class in 0..confusion.classes() {
        let _ = write!(table, " {class:>width$}");
    }
    let _ = writeln!(table, "  recall");
    for class in 0..confusion.classes() {
        let row = confusion.row(class);
        let name = names.get(class).copied().unwrap_or("?");
        let _ = write!(table, "{name:>label_width$} ");
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

    #[test]
    fn the_table_has_a_row_per_class_and_recalls() {
        let mut confusion = ConfusionMatrix::new(CLASSES);
        for _ in 0..3 {
            confusion.add(7, 7);
        }
        confusion.add(7, 1);
        let table = confusion_table(&confusion, &crate::data::DIGITS);
        assert_eq!(table.lines().count(), 2 + CLASSES);
        let row_7 = table.lines().nth(2 + 7).unwrap();
        assert!(row_7.trim_start().starts_with('7'), "{row_7}");
        assert!(row_7.ends_with("0.750"), "{row_7}");
    }
}
