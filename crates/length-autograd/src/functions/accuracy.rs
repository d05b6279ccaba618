//! Classification accuracy: the fraction of rows whose largest score is at the label,
//!
//! ```text
//! accuracy = (1/n) Σ_i [argmax_j x_ij = t_i]     ∈ [0, 1]
//! ```
//!
//! A step function of the scores: it has no useful gradient, so backward passes none back.

use length_tensor::{Tensor, argmax_rows};

use crate::{AutogradError, Function, Value, inputs};

/// The fraction of samples whose highest score is at their label, LENGTH's `accuracy`.
///
/// Inputs: scores (samples, classes) and one label per sample. Output: a scalar in `[0, 1]`
/// (shape `()`). Ties go to the first maximum.
#[derive(Debug, Clone, Copy, Default)]
pub struct Accuracy;

const NAME: &str = "Accuracy";

impl Function for Accuracy {
    fn name(&self) -> &str {
        NAME
    }

    fn forward(&mut self, inputs: &[&Value]) -> Result<Tensor, AutogradError> {
        inputs::expect_count(NAME, inputs, 2);
        let scores = inputs::matrix(NAME, inputs, 0)?;
        let labels = inputs::labels(NAME, inputs, 1)?;
        inputs::check_labels(NAME, scores, labels)?;
        let correct = argmax_rows(scores)
            .iter()
            .zip(labels)
            .filter(|&(&predicted, &label)| predicted == label as usize)
            .count();
        let fraction = correct as f64 / scores.nrows().max(1) as f64;
        Ok(super::scalar(fraction as f32))
    }

    fn backward(
        &mut self,
        inputs: &[&Value],
        _output: &Tensor,
        _output_gradient: &Tensor,
        _needs_gradient: &[bool],
    ) -> Vec<Option<Tensor>> {
        vec![None; inputs.len()]
    }
}

#[cfg(test)]
mod tests {
    use length_tensor::Labels;
    use ndarray::array;

    use super::*;
    use crate::Graph;

    fn lengths_scores() -> Tensor {
        array![
            [-10.0f32, -10.0, -5.0, -4.0, 5.0, -1.0],
            [-10.0, -10.0, 7.0, 3.0, 4.0, -1.0]
        ]
        .into_dyn()
    }

    fn accuracy(labels: Labels) -> f32 {
        let scores = Value::Tensor(lengths_scores());
        Accuracy
            .forward(&[&scores, &Value::Labels(labels)])
            .unwrap()[[]]
    }

    #[test]
    fn forward_counts_correct_rows() {
        assert_eq!(accuracy(array![4, 0]), 0.5);
        assert_eq!(accuracy(array![4, 2]), 1.0);
    }

    #[test]
    fn backward_passes_no_gradient() -> Result<(), AutogradError> {
        let mut graph = Graph::new();
        let scores = graph.input(lengths_scores());
        let labels = graph.labels(array![4, 0]);
        let accuracy = graph.apply(Accuracy, &[scores, labels])?;
        graph.backward_gradients_only(accuracy);
        assert!(graph.gradient(scores).is_none());
        assert!(graph.gradient(labels).is_none());
        Ok(())
    }
}
