//! Element-wise activations: ReLU and sigmoid, each forward and backward.
//!
//! - ReLU: `y = max(x, 0)`; its gradient passes `g` where `x > 0` and blocks it elsewhere:
//!   `dx = g · [x > 0]`. (At `x = 0` the derivative is taken as 0, as in LENGTH.)
//! - Sigmoid: `σ(x) = 1 / (1 + e⁻ˣ)`, evaluated without overflow for large `|x|`.
//!
//! All are O(n) in the number of elements. Contiguous arrays of at least 2¹⁴ elements (ReLU) or
//! 2¹² elements (sigmoid, one `exp` each) are split over the kernels' threads in chunks; smaller
//! ones run on the calling thread, where they take about as long as a parallel phase would. Each
//! output element depends on its own inputs only, so results do not depend on the number of
//! threads.

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD};

use crate::Tensor;
use crate::elementwise::{
    PARALLEL_MIN_CHEAP, PARALLEL_MIN_EXPENSIVE, map_in_place, map_into, map2_into,
};

/// ReLU of one element: `x` if `x > 0`, else `+0` (also for NaN and `-0`).
#[inline]
pub(crate) fn relu_scalar(x: f32) -> f32 {
    if x > 0.0 { x } else { 0.0 }
}

/// `max(x, 0)` element by element, into a new array of `x`'s shape (standard layout).
///
/// ```
/// use length_tensor::{relu, ndarray::array};
/// let x = array![-1.0f32, 0.0, 2.5].into_dyn();
/// assert_eq!(relu(x.view()), array![0.0, 0.0, 2.5].into_dyn());
/// ```
pub fn relu(x: ArrayViewD<f32>) -> Tensor {
    let mut out = output_like(&x);
    relu_into(x, out.view_mut());
    out
}

/// `x = max(x, 0)` element by element, in place: no array is allocated.
///
/// ```
/// use length_tensor::{relu_in_place, ndarray::array};
/// let mut x = array![[-1.0f32, 0.0], [2.5, -0.5]];
/// relu_in_place(x.view_mut().into_dyn());
/// assert_eq!(x, array![[0.0, 0.0], [2.5, 0.0]]);
/// ```
pub fn relu_in_place(x: ArrayViewMutD<f32>) {
    map_in_place(x, PARALLEL_MIN_CHEAP, relu_scalar);
}

/// `out = max(x, 0)`, writing into a caller-provided buffer of the same shape.
///
/// # Panics
/// If the shapes differ; the message names both.
pub fn relu_into(x: ArrayViewD<f32>, out: ArrayViewMutD<f32>) {
    map_into("relu", x, out, PARALLEL_MIN_CHEAP, relu_scalar);
}

/// The gradient of ReLU: `grad` where `x > 0`, zero elsewhere.
///
/// ```
/// use length_tensor::{relu_backward, ndarray::array};
/// let x = array![-1.0f32, 0.0, 2.5].into_dyn();
/// let g = array![10.0f32, 20.0, 30.0].into_dyn();
/// assert_eq!(relu_backward(x.view(), g.view()), array![0.0, 0.0, 30.0].into_dyn());
/// ```
///
/// # Panics
/// If the shapes differ; the message names both.
pub fn relu_backward(x: ArrayViewD<f32>, grad: ArrayViewD<f32>) -> Tensor {
    let mut out = output_like(&x);
    relu_backward_into(x, grad, out.view_mut());
    out
}

/// `out = grad * (x > 0)`, writing into a caller-provided buffer.
///
/// # Panics
/// If the shapes differ; the message names them.
pub fn relu_backward_into(x: ArrayViewD<f32>, grad: ArrayViewD<f32>, out: ArrayViewMutD<f32>) {
    map2_into(
        "relu_backward",
        x,
        grad,
        out,
        PARALLEL_MIN_CHEAP,
        relu_gradient_scalar,
    );
}

/// ReLU's gradient at one element: `grad` where `x > 0`, else `0` (also at `x = 0` and NaN).
#[inline]
pub(crate) fn relu_gradient_scalar(x: f32, grad: f32) -> f32 {
    if x > 0.0 { grad } else { 0.0 }
}

/// The logistic function `1 / (1 + e^-x)` element by element, stable for large `|x|`.
///
/// ```
/// use length_tensor::{sigmoid, ndarray::array};
/// let y = sigmoid(array![0.0f32, 1e4, -1e4].into_dyn().view());
/// assert_eq!(y, array![0.5, 1.0, 0.0].into_dyn());
/// ```
pub fn sigmoid(x: ArrayViewD<f32>) -> Tensor {
    let mut out = output_like(&x);
    map_into(
        "sigmoid",
        x,
        out.view_mut(),
        PARALLEL_MIN_EXPENSIVE,
        sigmoid_scalar,
    );
    out
}

/// `x = σ(x)` element by element, in place: no array is allocated.
///
/// ```
/// use length_tensor::{sigmoid_in_place, ndarray::array};
/// let mut x = array![0.0f32, 1e4, -1e4];
/// sigmoid_in_place(x.view_mut().into_dyn());
/// assert_eq!(x, array![0.5, 1.0, 0.0]);
/// ```
pub fn sigmoid_in_place(x: ArrayViewMutD<f32>) {
    map_in_place(x, PARALLEL_MIN_EXPENSIVE, sigmoid_scalar);
}

/// The logistic function of one element, without overflow: `e^x` is only taken of `x < 0`.
#[inline]
fn sigmoid_scalar(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// The gradient of the sigmoid from its output: `out = grad · y · (1 − y)` for `y = σ(x)`, which
/// spares the exponential.
///
/// ```
/// use length_tensor::{sigmoid_backward_into, ndarray::{array, Array1}};
/// let y = array![0.5f32, 1.0, 0.0];
/// let mut out = Array1::zeros(3);
/// sigmoid_backward_into(y.view().into_dyn(), array![4.0f32, 4.0, 4.0].view().into_dyn(), out.view_mut().into_dyn());
/// assert_eq!(out, array![1.0, 0.0, 0.0]);
/// ```
///
/// # Panics
/// If the shapes differ; the message names them.
pub fn sigmoid_backward_into(y: ArrayViewD<f32>, grad: ArrayViewD<f32>, out: ArrayViewMutD<f32>) {
    map2_into(
        "sigmoid_backward",
        y,
        grad,
        out,
        PARALLEL_MIN_CHEAP,
        |y, g| g * y * (1.0 - y),
    );
}

/// A zeroed standard-layout array of `x`'s shape, for a result the caller overwrites next (the
/// zero fill is one streaming pass; it keeps this file free of `unsafe`).
fn output_like(x: &ArrayViewD<f32>) -> Tensor {
    ArrayD::zeros(x.raw_dim())
}
