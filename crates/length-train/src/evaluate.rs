//! Testing a model: loss, accuracy and confusion matrix over every sample of a set.
//!
//! The test pass runs the model without a graph ([`Model::infer`]) over *every* sample, including
//! the last, smaller batch, and averages per sample (see [`Tally`]). The confusion matrix counts,
//! for each true class (row), how often each class was predicted (column): the diagonal holds
//! the correct answers, and a large number off it names two classes the model mixes up.

use length_autograd::{Function, Value};
use length_data::{BatchConfig, Batches, Samples};
use length_layers::{Loss, Model};
use length_tensor::argmax_rows;

use crate::{Tally, TrainError};

/// `count(true class, predicted class)` over a set of samples.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfusionMatrix {
    classes: usize,
    /// Row-major `classes × classes` counts.
    counts: Vec<usize>,
}

impl ConfusionMatrix {
    /// An all-zero matrix for `classes` classes.
    pub fn new(classes: usize) -> Self {
        ConfusionMatrix {
            classes,
            counts: vec![0; classes * classes],
        }
    }

    /// The number of classes (rows and columns).
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// How often a sample of class `actual` was predicted as `predicted`.
    ///
    /// # Panics
    /// If either class is not below [`classes`](Self::classes).
    pub fn count(&self, actual: usize, predicted: usize) -> usize {
        self.row(actual)[predicted]
    }

    /// The predictions for the samples of class `actual`, one count per predicted class.
    ///
    /// # Panics
    /// If `actual` is not below [`classes`](Self::classes).
    pub fn row(&self, actual: usize) -> &[usize] {
        assert!(
            actual < self.classes,
            "class {actual} of a {0}x{0} confusion matrix",
            self.classes
        );
        &self.counts[actual * self.classes..(actual + 1) * self.classes]
    }

    /// Counts one sample of class `actual` predicted as `predicted`.
    ///
    /// # Panics
    /// If either class is not below [`classes`](Self::classes).
    pub fn add(&mut self, actual: usize, predicted: usize) {
        assert!(
            actual < self.classes && predicted < self.classes,
            "({actual}, {predicted}) in a {0}x{0} confusion matrix",
            self.classes
        );
        self.counts[actual * self.classes + predicted] += 1;
    }

    /// The number of correct predictions: the sum of the diagonal.
    pub fn correct(&self) -> usize {
        (0..self.classes)
            .map(|class| self.count(class, class))
            .sum()
    }
}

/// What a test pass measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// The mean loss per sample.
    pub loss: f64,
    /// The fraction of samples classified correctly.
    pub accuracy: f64,
    /// The number of samples.
    pub samples: usize,
    /// The sums behind `loss` and `accuracy`.
    pub tally: Tally,
    /// How each class was classified.
    pub confusion: ConfusionMatrix,
}

/// Runs `model` over every sample of `samples`, `batch_size` at a time (pixels scaled to 0-1,
/// each image flattened to one row), and measures its mean `loss`, accuracy and confusion matrix.
///
/// The model is used as it is: put it in evaluation mode first ([`Model::set_training`]`(false)`)
/// so that dropout is off. Any batch size gives the same accuracy and confusion matrix; the loss
/// may differ in its last bits.
///
/// # Errors
/// [`TrainError::Setting`] for a batch size of 0, [`TrainError::LabelOutOfRange`] for a label the
/// model has no output for, and the model's or loss's own errors when the samples do not fit it.
///
/// # Example
/// ```
/// use length_data::Samples;
/// use length_layers::{Loss, MlpConfig, Model};
/// use length_train::evaluate;
///
/// let samples = Samples::new(vec![0; 5 * 4], vec![0, 1, 2, 1, 0], [2, 2])?;
/// let mut model = MlpConfig::new(vec![4, 8, 3]).seed(1).build()?;
/// model.set_training(false);
/// let evaluation = evaluate(&model, &samples, 2, Loss::MeanSquaredError)?;
/// assert_eq!(evaluation.samples, 5);
/// assert_eq!(evaluation.confusion.classes(), 3);
/// assert!(evaluation.loss.is_finite());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn evaluate<M: Model + ?Sized>(
    model: &M,
    samples: &Samples,
    batch_size: usize,
    mut loss: Loss,
) -> Result<Evaluation, TrainError> {
    if batch_size == 0 {
        return Err(TrainError::Setting(
            "the evaluation batch size must be at least 1".to_owned(),
        ));
    }
    let config = BatchConfig {
        batch_size,
        scale: Some(1.0),
        sample_dimensions: 1,
        keep_last_batch: true,
    };
    let mut batches = Batches::in_order(samples, &config);
    let mut tally = Tally::default();
    let mut confusion: Option<ConfusionMatrix> = None;
    while let Some(batch) = batches.next_batch() {
        let logits = model.infer(batch.images_2d())?;
        let classes = logits.ncols();
        let confusion = confusion.get_or_insert_with(|| ConfusionMatrix::new(classes));
        let predictions = argmax_rows(logits.view());
        let mut correct = 0;
        for (&predicted, &label) in predictions.iter().zip(batch.labels_u8) {
            let label = usize::from(label);
            if label >= classes {
                return Err(TrainError::LabelOutOfRange { label, classes });
            }
            confusion.add(label, predicted);
            correct += usize::from(predicted == label);
        }
        let batch_loss = loss.forward(&[
            &Value::Tensor(logits.into_dyn()),
            &Value::Labels(batch.labels.to_owned()),
        ])?;
        let batch_loss = batch_loss.first().copied().ok_or_else(|| {
            TrainError::Setting(format!("the loss {} gave no value", loss.name()))
        })?;
        tally.add_batch(batch_loss, batch.len(), correct);
    }
    Ok(Evaluation {
        loss: tally.mean_loss(),
        accuracy: tally.accuracy(),
        samples: tally.samples,
        tally,
        confusion: confusion.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use length_layers::MlpConfig;

    fn seven_samples() -> Samples {
        let pixels: Vec<u8> = (0..7 * 784).map(|i| (i % 251) as u8).collect();
        Samples::new(pixels, vec![0, 1, 2, 3, 4, 5, 6], [28, 28]).unwrap()
    }

    #[test]
    fn every_sample_counts_once_including_the_last_partial_batch() {
        // 7 samples in batches of 3: 3 + 3 + 1.
        let samples = seven_samples();
        let model = MlpConfig::new(vec![784, 8, 10]).seed(1).build().unwrap();
        let evaluation = evaluate(&model, &samples, 3, Loss::MeanSquaredError).unwrap();
        assert_eq!(evaluation.samples, 7);
        let counted: usize = (0..10)
            .map(|c| evaluation.confusion.row(c).iter().sum::<usize>())
            .sum();
        assert_eq!(counted, 7);
        assert_eq!(evaluation.confusion.correct(), evaluation.tally.correct);
        // The same figures with one batch of all 7.
        let whole = evaluate(&model, &samples, 7, Loss::MeanSquaredError).unwrap();
        assert_eq!(whole.confusion, evaluation.confusion);
        assert!((whole.loss - evaluation.loss).abs() < 1e-6);
    }

    #[test]
    fn labels_the_model_cannot_predict_are_an_error() {
        let samples = seven_samples();
        let model = MlpConfig::new(vec![784, 4, 3]).seed(1).build().unwrap();
        let error = evaluate(&model, &samples, 7, Loss::MeanSquaredError).unwrap_err();
        assert!(
            matches!(
                error,
                TrainError::LabelOutOfRange {
                    label: 3,
                    classes: 3
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn a_batch_size_of_zero_is_refused() {
        let samples = seven_samples();
        let model = MlpConfig::new(vec![784, 10]).seed(1).build().unwrap();
        assert!(matches!(
            evaluate(&model, &samples, 0, Loss::MeanSquaredError),
            Err(TrainError::Setting(_))
        ));
    }
}
