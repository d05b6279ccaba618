//! Mean squared error over all elements:
//!
//! ```text
//! L = (1/N) Σ_k (x_k − t_k)²        (N = number of elements of x)
//! ∂L/∂x = 2 (x − t) / N · g,   ∂L/∂t = −∂L/∂x
//! ```
//!
//! The target is a tensor of `x`'s shape, or integer labels, which stand for the one-hot matrix
//! of `x`'s (samples, classes) shape (`t_ij = [j = label_i]`) and get no gradient. LENGTH's MLP
//! trains with this loss.

use length_tensor::Tensor;
use ndarray::{Ix2, Zip};

use crate::{AutogradError, Function, Value, inputs, pool};

/// The mean of `(x − target)²` over all elements, LENGTH's `mean_squared_error`.
///
/// Inputs: `x`, and a target tensor of the same shape or one label per row of a 2-D `x`.
/// Output: a scalar (shape `()`).
#[derive(Debug, Clone, Copy, Default)]
pub struct MeanSquaredError;

const NAME: &str = "MeanSquaredError";

impl Function for MeanSquaredError {
    fn name(&self) -> &str {
        NAME
    }

    fn forward(&mut self, inputs: &[&Value]) -> Result<Tensor, AutogradError> {
        inputs::expect_count(NAME, inputs, 2);
        let x = inputs::tensor(NAME, inputs, 0)?;
        let squared_sum: f64 = match inputs[1] {
            Value::Tensor(target) => {
                if target.shape() != x.shape() {
                    return Err(AutogradError::shape(
                        NAME,
                        format!(
                            "x has shape {:?} but the target has shape {:?}",
                            x.shape(),
                            target.shape()
                        ),
                    ));
                }
                x.iter()
                    .zip(target)
                    .map(|(&x, &t)| f64::from(x - t).powi(2))
                    .sum()
            }
            Value::Labels(labels) => {
                let x = inputs::matrix(NAME, inputs, 0)?;
                inputs::check_labels(NAME, x, labels)?;
                // Row by row: 0.76 µs for 64 x 10 against 1.24 µs through `indexed_iter`, the
                // same sum in the same order.
                let mut squared_sum = 0.0;
                for (row, &label) in x.rows().into_iter().zip(labels) {
                    for (j, &x) in row.iter().enumerate() {
                        squared_sum += f64::from(x - one_hot(label, j)).powi(2);
                    }
                }
                squared_sum
            }
        };
        let mean = squared_sum / x.len().max(1) as f64;
        Ok(super::scalar(mean as f32))
    }

    fn backward(
        &mut self,
        inputs: &[&Value],
        _output: &Tensor,
        output_gradient: &Tensor,
        needs_gradient: &[bool],
    ) -> Vec<Option<Tensor>> {
        let x = inputs[0].as_tensor().expect("forward checked x");
        let g = output_gradient.iter().next().copied().unwrap_or_default();
        let scale = 2.0 * g / x.len().max(1) as f32;
        let mut gradient = pool::take(x.raw_dim());
        match inputs[1] {
            Value::Tensor(target) => {
                Zip::from(&mut gradient)
                    .and(x)
                    .and(target)
                    .for_each(|d, &x, &t| *d = scale * (x - t));
                let target_gradient = needs_gradient[1].then(|| {
                    let mut negated = pool::take(gradient.raw_dim());
                    Zip::from(&mut negated)
                        .and(&gradient)
                        .for_each(|n, &d| *n = -d);
                    negated
                });
                vec![Some(gradient), target_gradient]
            }
            Value::Labels(labels) => {
                let x = x
                    .view()
                    .into_dimensionality::<Ix2>()
                    .expect("forward checked x");
                let matrix = gradient
                    .view_mut()
                    .into_dimensionality::<Ix2>()
                    .expect("x is a matrix");
                Zip::indexed(matrix)
                    .and(x)
                    .for_each(|(i, j), d, &x| *d = scale * (x - one_hot(labels[i], j)));
                vec![Some(gradient), None]
            }
        }
    }
}

/// Element `(i, j)` of the one-hot matrix of label `label` in row `i`.
fn one_hot(label: u32, j: usize) -> f32 {
    if label as usize == j { 1.0 } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;
    use crate::{Tolerance, check_gradients};

    fn lengths_case() -> (Tensor, Tensor) {
        let x = array![
            [0.0f32, 0.0, 0.0, 1.0],
            [1.0, 0.0, 0.0, 1.0],
            [2.0, 0.0, 1.0, 0.0]
        ];
        let target = array![
            [1.0f32, 0.0, 0.0, 1.0],
            [0.0, 0.0, 0.0, 1.0],
            [0.0, 0.0, 0.0, 0.0]
        ];
        (x.into_dyn(), target.into_dyn())
    }

    fn mse(x: Value, target: Value) -> f32 {
        MeanSquaredError.forward(&[&x, &target]).unwrap()[[]]
    }

    #[test]
    fn equal_inputs_give_zero() {
        let a = array![0.0f32, 0.0, 0.0, 1.0];
        assert_eq!(mse(a.clone().into(), a.into()), 0.0);
    }

    #[test]
    fn forward_matches_lengths_number() {
        let (x, target) = lengths_case();
        assert!((mse(x.into(), target.into()) - 0.583).abs() <= 1e-3);
    }

    #[test]
    fn integer_labels_are_one_hot() {
        let (x, _) = lengths_case();
        assert!((mse(x.into(), array![3u32, 0, 1].into()) - 0.583).abs() <= 1e-3);
    }

    #[test]
    fn backward_matches_numerical_gradient_for_both_inputs() {
        let (x, target) = lengths_case();
        let gradient = Tensor::from_elem(vec![], 2.0);
        check_gradients(
            &mut MeanSquaredError,
            &[x.into(), target.into()],
            &gradient,
            Tolerance::default(),
        )
        .unwrap();
    }

    #[test]
    fn backward_gives_labels_no_gradient() {
        // check_gradients fails if the labels get a gradient.
        let (x, _) = lengths_case();
        let gradient = Tensor::from_elem(vec![], 2.0);
        let inputs = [x.into(), array![3u32, 0, 1].into()];
        check_gradients(
            &mut MeanSquaredError,
            &inputs,
            &gradient,
            Tolerance::default(),
        )
        .unwrap();
    }

    #[test]
    fn mismatched_target_is_an_error() {
        let error = MeanSquaredError
            .forward(&[&array![1.0f32, 2.0].into(), &array![1.0f32].into()])
            .unwrap_err();
        assert!(error.to_string().contains("[2]") && error.to_string().contains("[1]"));
    }
}
