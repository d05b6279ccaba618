//! # length-tensor
//!
//! The array type the whole LENGTH workspace computes with, and the kernels that do the heavy
//! lifting. Arrays are [`ndarray`] arrays of `f32` (LENGTH's `DTYPE` is float32); this crate adds
//! the handful of operations a multi-layer perceptron spends its time in, written to be fast
//! (rayon-parallel) and deterministic (bit-identical results for any number of threads).
//!
//! Nothing here knows about graphs, gradients or data sets.
//!
//! ```
//! use length_tensor::{matmul_a_bt, relu, ndarray::array};
//!
//! // A fully connected layer's forward pass: x · Wᵀ, weights stored as (outputs, inputs).
//! let x = array![[1.0f32, 2.0], [3.0, 4.0]];
//! let w = array![[1.0f32, 0.0], [0.0, -1.0], [1.0, 1.0]];
//! let y = matmul_a_bt(x.view(), w.view());
//! assert_eq!(y, array![[1.0, -2.0, 3.0], [3.0, -4.0, 7.0]]);
//! assert_eq!(relu(y.view().into_dyn()), array![[1.0, 0.0, 3.0], [3.0, 0.0, 7.0]].into_dyn());
//! ```

pub use ndarray;

mod activation;
mod matmul;
mod reduce;

pub use activation::{relu, relu_backward, relu_backward_into, relu_into, sigmoid};
pub use matmul::{
    matmul_a_b, matmul_a_b_into, matmul_a_bt, matmul_a_bt_into, matmul_at_b, matmul_at_b_into,
};
pub use reduce::{argmax_rows, column_sums, column_sums_into, log_softmax_rows, softmax_rows};

/// An n-dimensional array of `f32`: the value type of every node in a LENGTH graph.
pub type Tensor = ndarray::ArrayD<f32>;

/// A two-dimensional array of `f32`, (rows, columns): a batch of samples, or a weight matrix.
pub type Matrix = ndarray::Array2<f32>;

/// Class labels, one per sample: what the loss functions and `accuracy` accept directly.
pub type Labels = ndarray::Array1<u32>;
