//! Reductions along rows and columns: column sums (the bias gradient), softmax, log-softmax and
//! argmax per row.
//!
//! - Column sums: `s_j = Σ_i a_ij`, taken in parts of 32 rows ([`ROWS_PER_PART`]): each part's
//!   sums in increasing `i`, then the parts' sums added in increasing order.
//! - Softmax: `softmax(x)_j = exp(x_j - M) / Σ_k exp(x_k - M)` with `M = max_k x_k`;
//!   subtracting the row maximum keeps every `exp` in (0, 1] and the sum in [1, n], so inputs of
//!   any size (±1e4) give finite results that sum to 1 within rounding.
//! - Log-softmax: `log_softmax(x)_j = (x_j - M) - log Σ_k exp(x_k - M)`, subtracting the small
//!   `log Σ` from the already-shifted `x_j - M` (adding it to a large `M` first would round it
//!   to the precision of `M`).
//! - Argmax: the index of the first largest element of each row.
//!
//! Each is O(m·n) for an (m, n) matrix. Large inputs are split over threads by whole rows: the
//! column sums' parts on the kernels' team, the rest on rayon's pool. Every output is computed
//! in an order that the shape alone fixes, so results are bit-identical for any number of
//! threads.

use std::ops::Range;

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis, Zip, s};
use rayon::prelude::*;

use crate::activation::relu_gradient_scalar;
use crate::elementwise::PARALLEL_MIN_EXPENSIVE;
use crate::gemm::{Slot, Workspace};
use crate::team;

/// Below this many elements an argmax runs on the calling thread. Its input was just written by
/// every thread (a product's output), so a split that does not match pays for reading the other
/// cores' caches.
const PARALLEL_MIN_REDUCE: usize = 1 << 16;

/// Rows per part of a column sum ([`sum_in_row_parts`]). The parts are fixed by the shape alone,
/// so the sums are bit-identical for any number of threads; a batch of 64 is two parts, one
/// for each of two threads.
///
/// Parts of whole rows, not blocks of columns: two threads that split a row-major matrix by
/// columns write next to each other in every row, which is slow even where the halves start on
/// a cache line (a loop of two threads writing the halves of a 64 x 512 matrix took 12.5 µs
/// with column halves, 3.7 µs with row halves). On two threads (AMD Zen 4), the ReLU backward
/// pass with the column sums of a 64 x 512 gradient took 13-32 µs split into two blocks of 256
/// columns, 3.5-5.3 µs split into two parts of 32 rows, and 5.2-5.4 µs on one thread (a loop of
/// calls on warm arrays). Inside a training step, it took 8.6 and 15.3 µs in two parts against
/// 14.9 and 29 µs on the calling thread, for the second and the first layer, and a step 22-29 µs
/// less; split into two blocks of columns again later, 18-20 and 13-15 µs against 10-12 and
/// 5-6 µs in parts of rows.
pub(crate) const ROWS_PER_PART: usize = 32;

/// Below this many elements the parts of a column sum run one after another on the calling
/// thread.
const PARALLEL_MIN_SUMS: usize = 1 << 15;

/// Rows per parallel task of the row-wise reductions.
const ROW_BLOCK: usize = 16;

/// The sum of each column of an (m, n) matrix: a vector of length n.
///
/// ```
/// use length_tensor::{column_sums, ndarray::array};
/// assert_eq!(column_sums(array![[1.0f32, 2.0], [3.0, 4.0]].view()), array![4.0, 6.0]);
/// ```
pub fn column_sums(a: ArrayView2<f32>) -> Array1<f32> {
    let mut out = Array1::zeros(a.ncols());
    column_sums_into(a, out.view_mut());
    out
}

/// `out[j] = Σ_i a[i, j]`, writing into a caller-provided buffer of length n.
///
/// O(m·n); the rows are summed in parts of 32 rows, in parallel when `a` has at least 2¹⁵
/// elements, and the parts' sums added in increasing order, whatever the number of threads.
///
/// # Panics
/// If `out` does not have one element per column; the message names the shapes.
pub fn column_sums_into(a: ArrayView2<f32>, out: ArrayViewMut1<f32>) {
    assert_eq!(
        out.len(),
        a.ncols(),
        "column_sums: a is {:?} but out has {} elements",
        a.shape(),
        out.len()
    );
    sum_in_row_parts(a.nrows(), out, |rows, sums| {
        sums.fill(0.0);
        for row in a.slice(s![rows, ..]).rows() {
            Zip::from(&mut *sums)
                .and(&row)
                .for_each(|sum, &v| *sum += v);
        }
    });
}

/// Column sums of an m-row matrix in parts of [`ROWS_PER_PART`] rows: `part(rows, sums)` makes
/// a pass over `rows` that writes their column sums into `sums` (one per column, to be zeroed
/// first), and `out` gets the parts' sums added in increasing order. The parts run in parallel
/// on the kernels' team when the matrix has at least 2¹⁵ elements, else one after another.
///
/// The parts are the same for any number of threads, and so is every sum: each is taken in the
/// same order. A matrix of up to 32 rows is one part: its sums are the plain row-by-row sums.
fn sum_in_row_parts(
    m: usize,
    mut out: ArrayViewMut1<f32>,
    part: impl Fn(Range<usize>, &mut [f32]) + Sync,
) {
    let n = out.len();
    if n == 0 {
        return;
    }
    let parts = m.div_ceil(ROWS_PER_PART).max(1);
    let rows = |index: usize| index * ROWS_PER_PART..((index + 1) * ROWS_PER_PART).min(m);
    let mut partial = Workspace::take(Slot::Sums, parts * n);
    let partial = partial.as_mut_slice();
    if parts > 1 && team::split_pays(m * n, PARALLEL_MIN_SUMS) {
        team::for_each_chunk_mut(partial, n, |index, sums| part(rows(index), sums));
    } else {
        for (index, sums) in partial.chunks_exact_mut(n).enumerate() {
            part(rows(index), sums);
        }
    }
    let mut parts = partial.chunks_exact(n);
    let first = parts.next().expect("at least one part");
    Zip::from(&mut out)
        .and(first)
        .for_each(|out, &sum| *out = sum);
    for sums in parts {
        Zip::from(&mut out)
            .and(sums)
            .for_each(|out, &sum| *out += sum);
    }
}

/// The gradient through ReLU and its column sums, in one pass: `out = grad · [y > 0]` and
/// `sums[j] = Σ_i out[i, j]`.
///
/// This is the backward step of a fully connected layer with ReLU fused into its output `y`
/// (`max(x · Wᵀ + b, 0)`, so `y > 0` exactly where the pre-activation is): `grad` is the
/// gradient of `y`, `out` the gradient of the pre-activation, and `sums` the bias gradient. The
/// result is bit-identical to [`relu_backward_into`](crate::relu_backward_into) followed by
/// [`column_sums_into`], with one pass over the arrays instead of two.
///
/// O(m·n); in parts of 32 rows, in parallel for at least 2¹⁵ elements, as [`column_sums_into`]
/// takes its sums.
///
/// # Panics
/// If `y`, `grad` and `out` differ in shape, or `sums` does not have one element per column; the
/// message names the shapes.
///
/// ```
/// use length_tensor::{relu_backward_column_sums_into, ndarray::{array, Array1, Array2}};
/// let y = array![[0.0f32, 2.0], [1.0, 3.0]];
/// let grad = array![[10.0f32, 20.0], [30.0, 40.0]];
/// let (mut out, mut sums) = (Array2::zeros((2, 2)), Array1::zeros(2));
/// relu_backward_column_sums_into(y.view(), grad.view(), out.view_mut(), sums.view_mut());
/// assert_eq!(out, array![[0.0, 20.0], [30.0, 40.0]]);
/// assert_eq!(sums, array![30.0, 60.0]);
/// ```
pub fn relu_backward_column_sums_into(
    y: ArrayView2<f32>,
    grad: ArrayView2<f32>,
    mut out: ArrayViewMut2<f32>,
    sums: ArrayViewMut1<f32>,
) {
    assert!(
        y.dim() == grad.dim() && y.dim() == out.dim(),
        "relu_backward_column_sums: y is {:?}, grad {:?} and out {:?}; they must match",
        y.shape(),
        grad.shape(),
        out.shape()
    );
    assert_eq!(
        sums.len(),
        y.ncols(),
        "relu_backward_column_sums: y is {:?} but sums has {} elements",
        y.shape(),
        sums.len()
    );
    // One part of the rows: `out = grad · [y > 0]` and the column sums of `out`.
    let pass = |y: ArrayView2<f32>,
                grad: ArrayView2<f32>,
                mut out: ArrayViewMut2<f32>,
                sums: &mut [f32]| {
        sums.fill(0.0);
        for ((y, grad), mut out) in y.rows().into_iter().zip(grad.rows()).zip(out.rows_mut()) {
            let through = |out: &mut f32, sum: &mut f32, y: f32, grad: f32| {
                *out = relu_gradient_scalar(y, grad);
                *sum += *out;
            };
            match (out.as_slice_mut(), y.as_slice(), grad.as_slice()) {
                // Contiguous rows: plain slices, which the compiler vectorizes.
                (Some(out), Some(y), Some(grad)) => {
                    for (((out, sum), &y), &grad) in
                        out.iter_mut().zip(sums.iter_mut()).zip(y).zip(grad)
                    {
                        through(out, sum, y, grad);
                    }
                }
                _ => Zip::from(&mut out)
                    .and(&mut *sums)
                    .and(&y)
                    .and(&grad)
                    .for_each(|out, sum, &y, &grad| through(out, sum, y, grad)),
            }
        }
    };
    if !out.is_standard_layout() {
        // Rare: through a row-major copy, so that the parts are rows of memory as below.
        let mut standard = Array2::zeros(out.raw_dim());
        relu_backward_column_sums_into(y, grad, standard.view_mut(), sums);
        out.assign(&standard);
        return;
    }
    let (m, n) = out.dim();
    let out_rows = team::SendPointer(out.as_mut_ptr());
    sum_in_row_parts(m, sums, |rows, sums| {
        // SAFETY: `out` is in standard layout and borrowed mutably for the whole call; these
        // rows of it are this part's alone, and each part runs once.
        let out = unsafe {
            ArrayViewMut2::from_shape_ptr((rows.len(), n), out_rows.get().add(rows.start * n))
        };
        pass(
            y.slice(s![rows.clone(), ..]),
            grad.slice(s![rows, ..]),
            out,
            sums,
        );
    });
}

/// `exp(x) / Σ exp(x)` along each row, computed stably (the row maximum is subtracted first).
///
/// O(m·n); parallel over blocks of rows when `x` has at least 2¹² elements.
///
/// ```
/// use length_tensor::{softmax_rows, ndarray::array};
/// let p = softmax_rows(array![[0.0f32, 0.0], [1e4, -1e4]].view());
/// assert_eq!(p, array![[0.5, 0.5], [1.0, 0.0]]);
/// ```
pub fn softmax_rows(x: ArrayView2<f32>) -> Array2<f32> {
    let mut out = x.to_owned();
    for_each_row_block(&mut out, |mut row| {
        let max = row_max(row.view());
        row.mapv_inplace(|v| (v - max).exp());
        let sum = row.fold(0.0f32, |s, &e| s + e);
        row.mapv_inplace(|e| e / sum);
    });
    out
}

/// `x - log Σ exp(x)` along each row, computed stably.
///
/// O(m·n); parallel over blocks of rows when `x` has at least 2¹² elements.
///
/// ```
/// use length_tensor::{log_softmax_rows, ndarray::array};
/// let l = log_softmax_rows(array![[0.0f32, 0.0]].view());
/// assert_eq!(l, array![[-std::f32::consts::LN_2, -std::f32::consts::LN_2]]);
/// ```
pub fn log_softmax_rows(x: ArrayView2<f32>) -> Array2<f32> {
    let mut out = x.to_owned();
    for_each_row_block(&mut out, |mut row| {
        let max = row_max(row.view());
        let log_sum = row.fold(0.0f32, |s, &v| s + (v - max).exp()).ln();
        row.mapv_inplace(|v| (v - max) - log_sum);
    });
    out
}

/// The largest element of a row (`-∞` for an empty row).
fn row_max(row: ndarray::ArrayView1<f32>) -> f32 {
    row.fold(f32::NEG_INFINITY, |m, &v| m.max(v))
}

/// Applies `f` to every row of `a`, in parallel over blocks of rows when `a` is large.
fn for_each_row_block(a: &mut Array2<f32>, f: impl Fn(ArrayViewMut1<f32>) + Sync + Send) {
    if team::split_pays(a.len(), PARALLEL_MIN_EXPENSIVE) && a.nrows() > 1 {
        a.axis_chunks_iter_mut(Axis(0), ROW_BLOCK)
            .into_par_iter()
            .for_each(|mut block| block.rows_mut().into_iter().for_each(&f));
    } else {
        a.rows_mut().into_iter().for_each(f);
    }
}

/// The index of the largest element of each row (the first one on ties; NaN is never largest
/// unless it comes first). A row of length zero gives 0.
///
/// O(m·n); parallel over rows when `x` has at least 2¹⁶ elements.
///
/// ```
/// use length_tensor::{argmax_rows, ndarray::array};
/// assert_eq!(argmax_rows(array![[0.1f32, 0.7, 0.7], [3.0, 1.0, 2.0]].view()), array![1, 0]);
/// ```
pub fn argmax_rows(x: ArrayView2<f32>) -> Array1<usize> {
    if team::split_pays(x.len(), PARALLEL_MIN_REDUCE) && x.nrows() > 1 {
        let indices: Vec<usize> = x
            .axis_iter(Axis(0))
            .into_par_iter()
            .map(|row| argmax(row.iter()))
            .collect();
        Array1::from(indices)
    } else if let (Some(elements), 1..) = (x.as_slice(), x.ncols()) {
        // A contiguous matrix with columns (`chunks_exact` needs at least one), such as a
        // layer's logits, goes row by row as slices.
        elements.chunks_exact(x.ncols()).map(argmax).collect()
    } else {
        x.rows().into_iter().map(|row| argmax(row.iter())).collect()
    }
}

/// The index of the first largest value (0 when there is none), found without a branch on the
/// values: which element of a row is the largest changes from row to row, and a mispredicted
/// branch costs more than the comparison. A batch of 64 x 10 logits that changes every call (997
/// random batches in turn): 0.27 µs against 1.9 µs with `if v > largest { .. }`.
fn argmax<'a>(values: impl IntoIterator<Item = &'a f32>) -> usize {
    let mut values = values.into_iter();
    let Some(&first) = values.next() else {
        return 0;
    };
    let (mut best, mut largest) = (0, first);
    for (j, &v) in (1..).zip(values) {
        let larger = v > largest;
        best = if larger { j } else { best };
        largest = if larger { v } else { largest };
    }
    best
}
