//! Helpers for reading a function's inputs, with errors that name the function.
//!
//! Every built-in function starts its `forward` with these, and a function you write yourself can
//! too:
//!
//! ```
//! use length_autograd::{inputs, AutogradError, Value};
//! use ndarray::array;
//!
//! let x = Value::from(array![[1.0f32, 2.0]]);
//! let labels = Value::from(array![0u32]);
//! let given = [&x, &labels];
//! inputs::expect_count("MyLoss", &given, 2);
//! let scores = inputs::matrix("MyLoss", &given, 0)?;
//! assert_eq!(scores.dim(), (1, 2));
//! assert!(inputs::matrix("MyLoss", &given, 1).is_err()); // labels are not a tensor
//! # Ok::<(), AutogradError>(())
//! ```

use length_tensor::{Labels, Tensor};
use ndarray::{ArrayView2, Ix2};

use crate::{AutogradError, Value};

/// Panics unless exactly `count` inputs were given: calling a function with the wrong number of
/// inputs is a mistake in the code that builds the graph.
pub fn expect_count(function: &str, inputs: &[&Value], count: usize) {
    assert_eq!(
        inputs.len(),
        count,
        "{function} takes {count} input(s) but got {}",
        inputs.len()
    );
}

/// Input `index` as a tensor, or a [`WrongInputKind`](AutogradError::WrongInputKind) error.
pub fn tensor<'v>(
    function: &str,
    inputs: &[&'v Value],
    index: usize,
) -> Result<&'v Tensor, AutogradError> {
    let value = inputs[index];
    value.as_tensor().ok_or(AutogradError::WrongInputKind {
        function: function.to_string(),
        index,
        expected: "a tensor",
        got: value.kind(),
    })
}

/// Input `index` as a two-dimensional (rows, columns) view, or an error if it is labels or has
/// another number of dimensions.
pub fn matrix<'v>(
    function: &str,
    inputs: &[&'v Value],
    index: usize,
) -> Result<ArrayView2<'v, f32>, AutogradError> {
    let tensor = tensor(function, inputs, index)?;
    tensor.view().into_dimensionality::<Ix2>().map_err(|_| {
        AutogradError::shape(
            function,
            format!(
                "input {index} must be a matrix (rows, columns), got shape {:?}",
                tensor.shape()
            ),
        )
    })
}

/// Input `index` as class labels, or a [`WrongInputKind`](AutogradError::WrongInputKind) error.
pub fn labels<'v>(
    function: &str,
    inputs: &[&'v Value],
    index: usize,
) -> Result<&'v Labels, AutogradError> {
    let value = inputs[index];
    value.as_labels().ok_or(AutogradError::WrongInputKind {
        function: function.to_string(),
        index,
        expected: "labels",
        got: value.kind(),
    })
}

/// Checks that there is one label per row of `scores` and that every label names a column.
pub fn check_labels(
    function: &str,
    scores: ArrayView2<f32>,
    labels: &Labels,
) -> Result<(), AutogradError> {
    if labels.len() != scores.nrows() {
        return Err(AutogradError::shape(
            function,
            format!(
                "{} labels for {} rows of scores (shape {:?})",
                labels.len(),
                scores.nrows(),
                scores.shape()
            ),
        ));
    }
    let classes = scores.ncols();
    match labels.iter().position(|&label| label as usize >= classes) {
        Some(sample) => Err(AutogradError::LabelOutOfRange {
            function: function.to_string(),
            label: labels[sample],
            sample,
            classes,
        }),
        None => Ok(()),
    }
}
