//! Reductions along rows and columns: column sums (the bias gradient), softmax, log-softmax and
//! argmax per row.

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut1, Axis};

/// The sum of each column of an (m, n) matrix: a vector of length n.
pub fn column_sums(a: ArrayView2<f32>) -> Array1<f32> {
    let mut out = Array1::zeros(a.ncols());
    column_sums_into(a, out.view_mut());
    out
}

/// `out[j] = Σ_i a[i, j]`, writing into a caller-provided buffer of length n.
pub fn column_sums_into(a: ArrayView2<f32>, mut out: ArrayViewMut1<f32>) {
    assert_eq!(
        out.len(),
        a.ncols(),
        "column_sums: a is {:?} but out has {} elements",
        a.shape(),
        out.len()
    );
    out.fill(0.0);
    for row in a.rows() {
        out += &row;
    }
}

/// `exp(x) / Σ exp(x)` along each row, computed stably (the row maximum is subtracted first).
pub fn softmax_rows(x: ArrayView2<f32>) -> Array2<f32> {
    let mut out = log_softmax_rows(x);
    out.mapv_inplace(f32::exp);
    out
}

/// `x - log Σ exp(x)` along each row, computed stably.
pub fn log_softmax_rows(x: ArrayView2<f32>) -> Array2<f32> {
    let mut out = x.to_owned();
    for mut row in out.axis_iter_mut(Axis(0)) {
        let max = row.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let log_sum = row.fold(0.0f32, |s, &v| s + (v - max).exp()).ln() + max;
        row.mapv_inplace(|v| v - log_sum);
    }
    out
}

/// The index of the largest element of each row (the first one on ties).
pub fn argmax_rows(x: ArrayView2<f32>) -> Array1<usize> {
    x.rows()
        .into_iter()
        .map(|row| {
            let mut best = 0;
            for (j, &v) in row.iter().enumerate() {
                if v > row[best] {
                    best = j;
                }
            }
            best
        })
        .collect()
}
