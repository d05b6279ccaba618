//! Matrix multiplication in the three forms a fully connected layer needs.
//!
//! With weights `W` stored as (outputs, inputs), as LENGTH recommends, and a batch `x` of shape
//! (batch, inputs):
//! - forward: `y = x · Wᵀ + b` — [`matmul_a_bt`], [`matmul_a_bt_into`] (bias fused into the write);
//!   `y = max(x · Wᵀ + b, 0)` — [`matmul_a_bt_relu_into`] (ReLU fused too)
//! - gradient to the input: `dx = g · W` — [`matmul_a_b`], [`matmul_a_b_into`]; taken back
//!   through the ReLU that produced x — [`matmul_a_b_relu_backward_into`]
//! - gradient to the weights: `dW = gᵀ · x` — [`matmul_at_b`], [`matmul_at_b_into`]; or an
//!   optimizer's step applied to W piece by piece as the product is computed —
//!   [`matmul_at_b_update_into`]
//!
//! All eight run the packed, blocked SGEMM of this crate: for an (m, k) by (k, n) product they do
//! m·n·k multiply-adds on the fastest SIMD path the CPU supports (see [`crate::kernel_path`]),
//! split over rayon's threads by output tiles when the product has at least 2²⁰ flops, with
//! results bit-identical for any number of threads. Operands may be any ndarray views:
//! standard, transposed (`.t()`), stepped slices, empty. The `_into` forms write into a
//! caller-provided buffer and, after the first call of a given size on a thread, allocate
//! nothing.

use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut2};

use crate::gemm::{self, MatMut, MatRef, Output, TileUpdate};

/// `a · bᵀ` for `a` of shape (m, k) and `b` of shape (n, k); returns (m, n).
///
/// O(m·n·k), parallel over output tiles. This is the forward pass of a fully connected layer
/// with weights stored as (outputs, inputs).
///
/// # Panics
/// If the inner dimensions differ; the message names both shapes.
///
/// ```
/// use length_tensor::{matmul_a_bt, ndarray::array};
/// let x = array![[1.0f32, 2.0]];
/// let w = array![[3.0f32, 4.0], [5.0, 6.0], [0.0, 1.0]];
/// assert_eq!(matmul_a_bt(x.view(), w.view()), array![[11.0, 17.0, 2.0]]);
/// ```
pub fn matmul_a_bt(a: ArrayView2<f32>, b: ArrayView2<f32>) -> Array2<f32> {
    let mut out = Array2::zeros((a.nrows(), b.nrows()));
    matmul_a_bt_into(a, b, None, out.view_mut());
    out
}

/// `out = a · bᵀ (+ bias)`, writing into a caller-provided (m, n) buffer; `bias` (length n) is
/// added to every row in the same pass (it seeds the accumulators, so it costs no extra sweep
/// over `out`).
///
/// O(m·n·k), parallel over output tiles; no allocation once this thread's packing buffer has
/// grown to the shape (a non-contiguous `bias` is copied first).
///
/// # Panics
/// If the inner dimensions differ, `out` is not (m, n), or `bias` does not have n elements; the
/// message names the shapes.
///
/// ```
/// use length_tensor::{matmul_a_bt_into, ndarray::{array, Array2}};
/// let x = array![[1.0f32, 2.0], [3.0, 4.0]];
/// let w = array![[1.0f32, 1.0]];
/// let b = array![0.5f32];
/// let mut y = Array2::zeros((2, 1));
/// matmul_a_bt_into(x.view(), w.view(), Some(b.view()), y.view_mut());
/// assert_eq!(y, array![[3.5], [7.5]]);
/// ```
pub fn matmul_a_bt_into(
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    bias: Option<ArrayView1<f32>>,
    out: ArrayViewMut2<f32>,
) {
    a_bt_into("matmul_a_bt", a, b, bias, out, Output::Store);
}

/// `out = max(a · bᵀ (+ bias), 0)`: [`matmul_a_bt_into`] through ReLU, the forward pass of a
/// fully connected layer with its activation fused. The microkernel rectifies each tile of the
/// product in its registers before storing it, so the activation costs no pass of its own over
/// `out`; the result is bit-identical to [`matmul_a_bt_into`] followed by
/// [`relu_into`](crate::relu_into).
///
/// # Panics
/// As [`matmul_a_bt_into`].
///
/// ```
/// use length_tensor::{matmul_a_bt_relu_into, ndarray::{array, Array2}};
/// let x = array![[1.0f32, 2.0], [3.0, -4.0]];
/// let w = array![[1.0f32, 1.0]];
/// let mut y = Array2::zeros((2, 1));
/// matmul_a_bt_relu_into(x.view(), w.view(), Some(array![0.5f32].view()), y.view_mut());
/// assert_eq!(y, array![[3.5], [0.0]]); // 3 + 0.5, and max(-1 + 0.5, 0)
/// ```
pub fn matmul_a_bt_relu_into(
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    bias: Option<ArrayView1<f32>>,
    out: ArrayViewMut2<f32>,
) {
    a_bt_into("matmul_a_bt_relu", a, b, bias, out, Output::StoreRelu);
}

/// `out = a · bᵀ (+ bias)`, stored as `output` says, after checking the shapes (`name` opens
/// the messages).
fn a_bt_into(
    name: &str,
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    bias: Option<ArrayView1<f32>>,
    mut out: ArrayViewMut2<f32>,
    output: Output,
) {
    assert_eq!(
        a.ncols(),
        b.ncols(),
        "{name}: a is {:?} and b is {:?}; a·bᵀ needs equal column counts",
        a.shape(),
        b.shape()
    );
    assert_eq!(
        out.dim(),
        (a.nrows(), b.nrows()),
        "{name}: out is {:?} but a·bᵀ is {:?}",
        out.shape(),
        (a.nrows(), b.nrows())
    );
    if let Some(bias) = &bias {
        assert_eq!(
            bias.len(),
            b.nrows(),
            "{name}: bias has {} elements but a·bᵀ has {} columns",
            bias.len(),
            b.nrows()
        );
    }
    let bias_copy;
    let bias = match &bias {
        None => None,
        Some(bias) => match bias.as_slice() {
            Some(slice) => Some(slice),
            None => {
                bias_copy = bias.to_vec();
                Some(bias_copy.as_slice())
            }
        },
    };
    gemm::gemm_with(
        MatRef::from_view(&a),
        MatRef::from_view(&b).t(),
        MatMut::from_view(&mut out),
        bias,
        output,
    );
}

/// `a · b` for `a` of shape (m, k) and `b` of shape (k, n); returns (m, n).
///
/// O(m·n·k), parallel over output tiles. This is the gradient to a fully connected layer's
/// input, `g · W`.
///
/// # Panics
/// If the inner dimensions differ; the message names both shapes.
///
/// ```
/// use length_tensor::{matmul_a_b, ndarray::array};
/// let g = array![[1.0f32, -1.0]];
/// let w = array![[3.0f32, 4.0], [5.0, 6.0]];
/// assert_eq!(matmul_a_b(g.view(), w.view()), array![[-2.0, -2.0]]);
/// ```
pub fn matmul_a_b(a: ArrayView2<f32>, b: ArrayView2<f32>) -> Array2<f32> {
    let mut out = Array2::zeros((a.nrows(), b.ncols()));
    matmul_a_b_into(a, b, out.view_mut());
    out
}

/// `out = a · b`, writing into a caller-provided (m, n) buffer.
///
/// O(m·n·k), parallel over output tiles; no allocation once this thread's packing buffers have
/// grown to the shape. This is a layer's input gradient `g · W`: with few rows (a batch) and a
/// long k, k is cut into two fixed halves computed side by side, each from the rows of `W` its
/// thread also updates, and their sum is the result (the same bits for any number of threads).
///
/// # Panics
/// If the inner dimensions differ or `out` is not (m, n); the message names the shapes.
pub fn matmul_a_b_into(a: ArrayView2<f32>, b: ArrayView2<f32>, out: ArrayViewMut2<f32>) {
    a_b_into("matmul_a_b", a, b, None, out);
}

/// `out = (a · b) · [y > 0]` element by element: a layer's input gradient `g · W` taken back
/// through the ReLU whose output `y` is the layer's input, which makes it the gradient of that
/// ReLU's input (the pre-activation of the layer below). The microkernel gates each tile of the
/// product in its registers before storing it (a product with k in two halves, in the pass that
/// adds them), so the way back through ReLU costs no pass of its own; the result is
/// bit-identical to [`matmul_a_b_into`] followed by
/// [`relu_backward_into`](crate::relu_backward_into) (zero where `y` is 0 or NaN).
///
/// # Panics
/// As [`matmul_a_b_into`], and if `y` is not (m, n).
///
/// ```
/// use length_tensor::{matmul_a_b_relu_backward_into, ndarray::{array, Array2}};
/// let g = array![[1.0f32, -1.0]];
/// let w = array![[3.0f32, 4.0], [5.0, 6.0]];
/// let y = array![[0.5f32, 0.0]]; // the ReLU was on for the first input only
/// let mut dz = Array2::zeros((1, 2));
/// matmul_a_b_relu_backward_into(g.view(), w.view(), y.view(), dz.view_mut());
/// assert_eq!(dz, array![[-2.0, 0.0]]); // g · W = [-2, -2], gated by y > 0
/// ```
pub fn matmul_a_b_relu_backward_into(
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    y: ArrayView2<f32>,
    out: ArrayViewMut2<f32>,
) {
    assert_eq!(
        y.dim(),
        out.dim(),
        "matmul_a_b_relu_backward: y is {:?} but out is {:?}; they must match",
        y.shape(),
        out.shape()
    );
    a_b_into("matmul_a_b_relu_backward", a, b, Some(y), out);
}

/// `out = a · b`, gated by `gate > 0` when given, after checking the shapes (`name` opens the
/// messages).
fn a_b_into(
    name: &str,
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    gate: Option<ArrayView2<f32>>,
    mut out: ArrayViewMut2<f32>,
) {
    assert_eq!(
        a.ncols(),
        b.nrows(),
        "{name}: a is {:?} and b is {:?}; a·b needs a's columns to equal b's rows",
        a.shape(),
        b.shape()
    );
    assert_eq!(
        out.dim(),
        (a.nrows(), b.ncols()),
        "{name}: out is {:?} but a·b is {:?}",
        out.shape(),
        (a.nrows(), b.ncols())
    );
    gemm::gemm_a_b(
        MatRef::from_view(&a),
        MatRef::from_view(&b),
        MatMut::from_view(&mut out),
        gate.as_ref().map(MatRef::from_view),
    );
}

/// `aᵀ · b` for `a` of shape (k, m) and `b` of shape (k, n); returns (m, n).
///
/// O(m·n·k), parallel over output tiles. This is the gradient to a fully connected layer's
/// weights, `gᵀ · x`, summed over the batch (k is the batch size).
///
/// # Panics
/// If the row counts differ; the message names both shapes.
///
/// ```
/// use length_tensor::{matmul_at_b, ndarray::array};
/// let g = array![[1.0f32], [2.0]];
/// let x = array![[3.0f32, 4.0], [5.0, 6.0]];
/// assert_eq!(matmul_at_b(g.view(), x.view()), array![[13.0, 16.0]]);
/// ```
pub fn matmul_at_b(a: ArrayView2<f32>, b: ArrayView2<f32>) -> Array2<f32> {
    let mut out = Array2::zeros((a.ncols(), b.ncols()));
    matmul_at_b_into(a, b, out.view_mut());
    out
}

/// `out = aᵀ · b`, writing into a caller-provided (m, n) buffer.
///
/// O(m·n·k), parallel over output tiles; no allocation once this thread's packing buffer has
/// grown to the shape.
///
/// # Panics
/// If the row counts differ or `out` is not (m, n); the message names the shapes.
pub fn matmul_at_b_into(a: ArrayView2<f32>, b: ArrayView2<f32>, out: ArrayViewMut2<f32>) {
    at_b_into("matmul_at_b", a, b, out, Output::Store);
}

/// Updates `out` element by element from `aᵀ · b` without storing the product: an optimizer's
/// step folded into the product that computes the weight gradient.
///
/// For each finished piece of the product, `update(i, j0, out_row, product)` is called with
/// `out_row` = row i of `out`, columns `j0 .. j0 + out_row.len()`, and `product` the same
/// elements of `aᵀ · b`. Every element of `out` is in exactly one call; calls for different
/// pieces may run at the same time on different threads. The product is computed a band of a
/// few rows at a time, and each finished band is handed to `update` whole rows at a time (when
/// `out`'s rows are contiguous), so the update reads `out` front to back. The product's elements
/// are bit-identical to [`matmul_at_b_into`]'s into a buffer laid out like `out`, so an
/// element-wise rule gives the same result as computing the gradient first and updating after.
///
/// O(m·n·k), parallel over bands of rows; for k up to the kernel's longest k block (1024 on
/// AVX-512) no allocation once this thread's packing buffers have grown (longer k goes through a
/// temporary product).
///
/// # Panics
/// If the row counts differ or `out` is not (m, n); the message names the shapes.
///
/// ```
/// use length_tensor::{matmul_at_b_update_into, ndarray::array};
/// let g = array![[1.0f32], [2.0]];
/// let x = array![[3.0f32, 4.0], [5.0, 6.0]];
/// let mut w = array![[1.0f32, 1.0]];
/// // Plain SGD with step 0.5: gᵀ·x = [13, 16].
/// matmul_at_b_update_into(g.view(), x.view(), w.view_mut(), &|_, _, w, gradient| {
///     for (w, g) in w.iter_mut().zip(gradient) {
///         *w -= 0.5 * g;
///     }
/// });
/// assert_eq!(w, array![[-5.5, -7.0]]);
/// ```
pub fn matmul_at_b_update_into(
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    out: ArrayViewMut2<f32>,
    update: TileUpdate<'_>,
) {
    at_b_into("matmul_at_b_update", a, b, out, Output::update(update));
}

/// `out ← out − rate · aᵀ·b` without storing the product: a step of plain gradient descent
/// (SGD) folded into the product that computes the weight gradient, each element computed as
/// `w - rate * g` with `g` the element of `aᵀ · b`.
///
/// The result is bit-identical to [`matmul_at_b_update_into`] with the rule `*w -= rate * g`,
/// and so to computing the gradient first and subtracting after. The difference is where the
/// step happens: when `out`'s rows are contiguous, the microkernel subtracts each finished
/// tile of the product from the tile of `out` in its registers, with no buffer for the product
/// and no rule to call, and the weights are read and written once, by the tile that computes
/// their gradient. Inside a training step of the course's MLP with SGD, the 784-input layer's
/// update took 0.91-0.92x the time of the rule on one thread and 0.94-0.96x on two (Intel Xeon
/// with AVX-512; two alternating runs of an epoch each, timed per operation).
///
/// O(m·n·k), parallel over bands of rows like [`matmul_at_b_update_into`].
///
/// ```
/// use length_tensor::{matmul_at_b_descend_into, ndarray::array};
/// let g = array![[1.0f32], [2.0]];
/// let x = array![[3.0f32, 4.0], [5.0, 6.0]];
/// let mut w = array![[1.0f32, 1.0]];
/// // gᵀ·x = [13, 16]; with rate 0.5, w - 0.5 · [13, 16].
/// matmul_at_b_descend_into(g.view(), x.view(), w.view_mut(), 0.5);
/// assert_eq!(w, array![[-5.5, -7.0]]);
/// ```
///
/// # Panics
/// If the row counts differ or `out` is not (m, n); the message names the shapes.
pub fn matmul_at_b_descend_into(
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    out: ArrayViewMut2<f32>,
    rate: f32,
) {
    at_b_into("matmul_at_b_descend", a, b, out, Output::Descend(rate));
}

/// `aᵀ · b` stored into `out` or updating it as `output` says, after checking the shapes (a
/// mismatch panics, naming `function` and the shapes): the body of the three `aᵀ · b` forms.
fn at_b_into(
    function: &str,
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    mut out: ArrayViewMut2<f32>,
    output: Output,
) {
    assert_eq!(
        a.nrows(),
        b.nrows(),
        "{function}: a is {:?} and b is {:?}; aᵀ·b needs equal row counts",
        a.shape(),
        b.shape()
    );
    assert_eq!(
        out.dim(),
        (a.ncols(), b.ncols()),
        "{function}: out is {:?} but aᵀ·b is {:?}",
        out.shape(),
        (a.ncols(), b.ncols())
    );
    gemm::gemm_with(
        MatRef::from_view(&a).t(),
        MatRef::from_view(&b),
        MatMut::from_view(&mut out),
        None,
        output,
    );
}
