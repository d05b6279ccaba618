//! # Task 3: mean squared error
//!
//! The loss says how far the network's output `x` (samples, classes) is from the target `t` of
//! the same shape: the mean, over all N = samples · classes elements, of the squared difference.
//!
//! ```text
//! forward    L     = (1/N) Σ_ij (x_ij − t_ij)²          a scalar (shape [])
//! backward   ∂L/∂x = 2/N · (x − t) · g                  (samples, classes)
//!            ∂L/∂t = −∂L/∂x                             (when the target is a tensor)
//! ```
//!
//! `g` is the gradient of the loss itself: a scalar, 1 when the loss is the end of the graph.
//!
//! The labels of MNIST are class numbers (a `5` for a five), not rows of ten numbers. The loss
//! compares the output with their *one-hot* encoding: row `i` is all zeros except a one in column
//! `label_i`. So you write three parts:
//!
//! 1. [`one_hot`]: labels (samples) to the one-hot matrix (samples, classes);
//! 2. [`Function::forward`]: the mean of the squared differences;
//! 3. [`Function::backward`]: the gradients. Labels are not differentiable: return `None` for
//!    them. A target given as a tensor gets `−∂L/∂x` (the course's tests give one).
//!
//! Hints from the notebook, in our words:
//! - Don't forget either factor of the derivative: the 2 from the square, the 1/N from the mean.
//! - `(&x - &t).mapv(|d| d * d).sum()` is the sum of squares; `x.len()` is N.
//! - The loss is a 0-dimensional tensor: `Tensor::from_elem(vec![], loss)`; its gradient `g` is
//!   one as well, read it with `output_gradient[[]]`.
//!
//! Test it: `cargo test --release task3`.

use length_autograd::{AutogradError, Function, Value, inputs};
use length_tensor::Tensor;
use ndarray::{Array2, ArrayView1, ArrayView2};

/// The one-hot matrix of `labels`: row `i` has a 1 in column `labels[i]` and 0 elsewhere.
///
/// ```
/// use length_exercise::one_hot;
/// use ndarray::array;
///
/// assert_eq!(
///     one_hot(array![2u32, 0].view(), 3),
///     array![[0.0f32, 0.0, 1.0], [1.0, 0.0, 0.0]]
/// );
/// ```
///
/// # Panics
/// If a label is not below `num_classes` (the loss checks the labels before it calls this).
pub fn one_hot(labels: ArrayView1<u32>, num_classes: usize) -> Array2<f32> {
    // SOLUTION BEGIN Task 3 (one-hot): a (labels, num_classes) matrix of zeros with a 1 at [i, labels[i]]
    let mut matrix = Array2::zeros((labels.len(), num_classes));
    for (i, &label) in labels.iter().enumerate() {
        matrix[[i, label as usize]] = 1.0;
    }
    matrix
    // SOLUTION END
}

/// Mean squared error between the output and a target, LENGTH's `mean_squared_error`.
///
/// Inputs: the output `x` (samples, classes), and either the labels (one per sample) or a
/// target tensor of `x`'s shape. Output: the loss, a scalar.
///
/// ```
/// use length_autograd::{Function, Value};
/// use length_exercise::MeanSquaredError;
/// use ndarray::array;
///
/// let x = Value::from(array![[0.0f32, 1.0], [0.5, 0.5]]);
/// let labels = Value::from(array![1u32, 0]);
/// let loss = MeanSquaredError.forward(&[&x, &labels])?;
/// assert_eq!(loss[[]], (0.0 + 0.0 + 0.25 + 0.25) / 4.0);
/// # Ok::<(), length_autograd::AutogradError>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct MeanSquaredError;

const NAME: &str = "MeanSquaredError";

/// The output `x` and the target as a matrix of `x`'s shape (one-hot if the target is labels).
fn output_and_target<'v>(
    inputs: &[&'v Value],
) -> Result<(ArrayView2<'v, f32>, Array2<f32>), AutogradError> {
    inputs::expect_count(NAME, inputs, 2);
    let x = inputs::matrix(NAME, inputs, 0)?;
    let target = match inputs[1] {
        Value::Labels(labels) => {
            inputs::check_labels(NAME, x, labels)?;
            one_hot(labels.view(), x.ncols())
        }
        Value::Tensor(_) => {
            let target = inputs::matrix(NAME, inputs, 1)?;
            if target.shape() != x.shape() {
                return Err(AutogradError::shape(
                    NAME,
                    format!(
                        "the output has shape {:?} but the target has shape {:?}",
                        x.shape(),
                        target.shape()
                    ),
                ));
            }
            target.to_owned()
        }
    };
    Ok((x, target))
}

impl Function for MeanSquaredError {
    fn name(&self) -> &str {
        NAME
    }

    /// `(1/N) Σ (x − t)²` as a 0-dimensional tensor.
    fn forward(&mut self, inputs: &[&Value]) -> Result<Tensor, AutogradError> {
        let (x, t) = output_and_target(inputs)?;
        // SOLUTION BEGIN Task 3 (forward): the mean over all elements of (x − t)², as a tensor of shape []
        let squared_sum: f32 = (&x - &t).mapv(|d| d * d).sum();
        let loss = squared_sum / x.len() as f32;
        Ok(Tensor::from_elem(vec![], loss))
        // SOLUTION END
    }

    /// `∂L/∂x = 2/N · (x − t) · g`; `−∂L/∂x` for a target tensor, `None` for labels.
    fn backward(
        &mut self,
        inputs: &[&Value],
        _output: &Tensor,
        output_gradient: &Tensor,
        _needs_gradient: &[bool],
    ) -> Vec<Option<Tensor>> {
        let (x, t) = output_and_target(inputs).expect("forward checked the inputs");
        let g = output_gradient[[]];
        // SOLUTION BEGIN Task 3 (backward): 2/N · (x − t) · g for x; −that for a target tensor, None for labels
        let scale = 2.0 * g / x.len() as f32;
        let x_gradient = (&x - &t).mapv(|d| scale * d).into_dyn();
        let target_gradient = match inputs[1] {
            Value::Labels(_) => None,
            Value::Tensor(_) => Some(x_gradient.mapv(|d| -d)),
        };
        vec![Some(x_gradient), target_gradient]
        // SOLUTION END
    }
}
