//! Matrix multiplication in the three forms a fully connected layer needs.
//!
//! With weights `W` stored as (outputs, inputs), as LENGTH recommends:
//! - forward: `y = x · Wᵀ (+ b)` — [`matmul_a_bt`]
//! - gradient to the input: `dx = g · W` — [`matmul_a_b`]
//! - gradient to the weights: `dW = gᵀ · x` — [`matmul_at_b`]

use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut2};

/// `a · bᵀ` for `a` of shape (m, k) and `b` of shape (n, k); returns (m, n).
///
/// # Panics
/// If the inner dimensions differ; the message names both shapes.
pub fn matmul_a_bt(a: ArrayView2<f32>, b: ArrayView2<f32>) -> Array2<f32> {
    let mut out = Array2::zeros((a.nrows(), b.nrows()));
    matmul_a_bt_into(a, b, None, out.view_mut());
    out
}

/// `out = a · bᵀ (+ bias)`, writing into a caller-provided (m, n) buffer; `bias` (length n) is
/// added to every row in the same pass.
pub fn matmul_a_bt_into(
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    bias: Option<ArrayView1<f32>>,
    mut out: ArrayViewMut2<f32>,
) {
    assert_eq!(
        a.ncols(),
        b.ncols(),
        "matmul_a_bt: a is {:?} and b is {:?}; a·bᵀ needs equal column counts",
        a.shape(),
        b.shape()
    );
    assert_eq!(
        out.dim(),
        (a.nrows(), b.nrows()),
        "matmul_a_bt: out is {:?} but a·bᵀ is {:?}",
        out.shape(),
        (a.nrows(), b.nrows())
    );
    if let Some(bias) = &bias {
        assert_eq!(
            bias.len(),
            b.nrows(),
            "matmul_a_bt: bias has {} elements but a·bᵀ has {} columns",
            bias.len(),
            b.nrows()
        );
    }
    for i in 0..a.nrows() {
        for j in 0..b.nrows() {
            let mut s = 0.0f32;
            for p in 0..a.ncols() {
                s += a[[i, p]] * b[[j, p]];
            }
            out[[i, j]] = s + bias.as_ref().map_or(0.0, |b| b[j]);
        }
    }
}

/// `a · b` for `a` of shape (m, k) and `b` of shape (k, n); returns (m, n).
pub fn matmul_a_b(a: ArrayView2<f32>, b: ArrayView2<f32>) -> Array2<f32> {
    let mut out = Array2::zeros((a.nrows(), b.ncols()));
    matmul_a_b_into(a, b, out.view_mut());
    out
}

/// `out = a · b`, writing into a caller-provided (m, n) buffer.
pub fn matmul_a_b_into(a: ArrayView2<f32>, b: ArrayView2<f32>, out: ArrayViewMut2<f32>) {
    matmul_a_bt_into(a, b.t(), None, out);
}

/// `aᵀ · b` for `a` of shape (k, m) and `b` of shape (k, n); returns (m, n).
pub fn matmul_at_b(a: ArrayView2<f32>, b: ArrayView2<f32>) -> Array2<f32> {
    let mut out = Array2::zeros((a.ncols(), b.ncols()));
    matmul_at_b_into(a, b, out.view_mut());
    out
}

/// `out = aᵀ · b`, writing into a caller-provided (m, n) buffer.
pub fn matmul_at_b_into(a: ArrayView2<f32>, b: ArrayView2<f32>, out: ArrayViewMut2<f32>) {
    matmul_a_bt_into(a.t(), b.t(), None, out);
}
