//! Softmax cross-entropy against integer labels, averaged over the batch:
//!
//! ```text
//! L = −(1/n) Σ_i log softmax(x_i)[t_i]
//! ∂L/∂x_ij = (softmax(x_i)_j − [j = t_i]) / n
//! ```
//!
//! The log-softmax is computed stably (`x − max − log Σ e^{x − max}`). Labels get no gradient.

use length_tensor::{Tensor, log_softmax_rows, softmax_rows};
use ndarray::Ix2;

use crate::{AutogradError, Function, Value, inputs};

/// The mean over the batch of `−log softmax(scores)[label]`, LENGTH's `softmax_cross_entropy`.
///
/// Inputs: scores (samples, classes) and one label per sample. Output: a scalar (shape `()`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SoftmaxCrossEntropy;

const NAME: &str = "SoftmaxCrossEntropy";

impl Function for SoftmaxCrossEntropy {
    fn name(&self) -> &str {
        NAME
    }

    fn forward(&mut self, inputs: &[&Value]) -> Result<Tensor, AutogradError> {
        inputs::expect_count(NAME, inputs, 2);
        let scores = inputs::matrix(NAME, inputs, 0)?;
        let labels = inputs::labels(NAME, inputs, 1)?;
        inputs::check_labels(NAME, scores, labels)?;
        let log_probabilities = log_softmax_rows(scores);
        let total: f64 = labels
            .iter()
            .enumerate()
            .map(|(i, &t)| f64::from(log_probabilities[[i, t as usize]]))
            .sum();
        let mean = -total / scores.nrows().max(1) as f64;
        Ok(super::scalar(mean as f32))
    }

    fn backward(
        &mut self,
        inputs: &[&Value],
        _output: &Tensor,
        output_gradient: &Tensor,
        _needs_gradient: &[bool],
    ) -> Vec<Option<Tensor>> {
        let scores = inputs[0]
            .as_tensor()
            .and_then(|x| x.view().into_dimensionality::<Ix2>().ok())
            .expect("forward checked the scores");
        let labels = inputs[1].as_labels().expect("forward checked the labels");
        let g = output_gradient.iter().next().copied().unwrap_or_default();
        let scale = g / scores.nrows().max(1) as f32;
        let mut gradient = softmax_rows(scores);
        for (i, &t) in labels.iter().enumerate() {
            gradient[[i, t as usize]] -= 1.0;
        }
        gradient.mapv_inplace(|v| v * scale);
        vec![Some(gradient.into_dyn()), None]
    }
}

#[cfg(test)]
mod tests {
    use length_tensor::Labels;
    use ndarray::array;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::functions::uniform;
    use crate::{Tolerance, check_gradients};

    fn lengths_data(seed: u64) -> (Tensor, Labels) {
        let data = uniform(&[10, 20], -1.0, 1.0, seed);
        let mut rng = ChaCha8Rng::seed_from_u64(seed + 100);
        let labels = Labels::from_shape_fn(10, |_| rng.random_range(0..20));
        (data, labels)
    }

    #[test]
    fn forward_is_mean_negative_log_softmax_at_the_label() -> Result<(), AutogradError> {
        let (data, labels) = lengths_data(10);
        let loss = SoftmaxCrossEntropy
            .forward(&[&Value::Tensor(data.clone()), &Value::Labels(labels.clone())])?;
        let mut expected = 0.0f64;
        for (i, &t) in labels.iter().enumerate() {
            let row = data
                .index_axis(ndarray::Axis(0), i)
                .mapv(|v| f64::from(v).exp());
            expected -= (row[t as usize] / row.sum()).ln();
        }
        expected /= 10.0;
        let loss = f64::from(loss[[]]);
        assert!(
            (loss - expected).abs() <= 1e-5 + 1e-4 * expected.abs(),
            "{loss} vs {expected}"
        );
        Ok(())
    }

    #[test]
    fn backward_matches_numerical_gradient_and_labels_get_none() {
        // LENGTH: output gradient 2, eps 1e-2, atol 1e-4; check_gradients also fails if the
        // labels get a gradient.
        let (data, labels) = lengths_data(11);
        let gradient = Tensor::from_elem(vec![], 2.0);
        let tolerance = Tolerance {
            eps: 1e-2,
            atol: 1e-4,
            ..Tolerance::default()
        };
        check_gradients(
            &mut SoftmaxCrossEntropy,
            &[data.into(), labels.into()],
            &gradient,
            tolerance,
        )
        .unwrap();
    }

    #[test]
    fn labels_out_of_range_are_an_error() {
        let scores = Value::from(array![[0.0f32, 1.0], [1.0, 0.0]]);
        let labels = Value::from(array![1u32, 2]);
        let error = SoftmaxCrossEntropy
            .forward(&[&scores, &labels])
            .unwrap_err();
        assert_eq!(
            error,
            AutogradError::LabelOutOfRange {
                function: NAME.to_string(),
                label: 2,
                sample: 1,
                classes: 2
            }
        );
    }

    #[test]
    fn too_few_labels_are_an_error() {
        let scores = Value::from(array![[0.0f32, 1.0], [1.0, 0.0]]);
        let labels = Value::from(array![1u32]);
        let error = SoftmaxCrossEntropy
            .forward(&[&scores, &labels])
            .unwrap_err();
        assert!(
            matches!(error, AutogradError::ShapeMismatch { .. }),
            "{error}"
        );
    }
}
