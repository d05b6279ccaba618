//! Helpers shared by the integration tests: seeded random matrices in several memory layouts,
//! and a naive triple-loop reference product accumulated in f64.

#![allow(dead_code)] // each test binary uses its own subset

use length_tensor::ndarray::{Array2, ArrayView2, ArrayViewMut2, s};
use proptest::prelude::*;

/// A tiny deterministic generator (SplitMix64), so tests need no `rand` dependency.
pub struct SplitMix(pub u64);

impl SplitMix {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
}

/// How a logical (rows, cols) matrix is laid out in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Row-major and contiguous.
    Standard,
    /// Column-major: a row-major (cols, rows) array seen through `.t()`.
    Transposed,
    /// Every second row and every third column of a larger array.
    Stepped,
    /// Rows in reverse order (a negative row stride).
    Reversed,
}

/// Any of the layouts.
pub fn any_layout() -> impl Strategy<Value = Layout> {
    prop_oneof![
        Just(Layout::Standard),
        Just(Layout::Transposed),
        Just(Layout::Stepped),
        Just(Layout::Reversed),
    ]
}

/// A dimension: 0, 1, small, primes, the batch size and sizes that straddle tile widths.
pub fn dimension() -> impl Strategy<Value = usize> {
    prop_oneof![
        Just(0usize),
        Just(1),
        2usize..=17,
        prop::sample::select(vec![23usize, 31, 47, 48, 49, 53, 64, 65, 97]),
    ]
}

/// A shared dimension k: like [`dimension`], plus values above the k-block limit (512) so the
/// accumulation across blocks is exercised.
pub fn shared_dimension() -> impl Strategy<Value = usize> {
    prop_oneof![
        4 => dimension(),
        1 => prop::sample::select(vec![513usize, 600, 1031]),
    ]
}

/// A matrix with random values stored in a given layout; `view()` shows it as (rows, cols).
#[derive(Clone, Debug)]
pub struct Operand {
    backing: Array2<f32>,
    layout: Layout,
}

impl Operand {
    /// A (rows, cols) matrix of values uniform in [-1, 1), laid out as `layout`.
    pub fn random(rows: usize, cols: usize, layout: Layout, rng: &mut SplitMix) -> Operand {
        let (backing_rows, backing_cols) = match layout {
            Layout::Standard | Layout::Reversed => (rows, cols),
            Layout::Transposed => (cols, rows),
            Layout::Stepped => (2 * rows, 3 * cols),
        };
        let backing = Array2::from_shape_simple_fn((backing_rows, backing_cols), || rng.next_f32());
        Operand { backing, layout }
    }

    /// The logical (rows, cols) view.
    pub fn view(&self) -> ArrayView2<'_, f32> {
        match self.layout {
            Layout::Standard => self.backing.view(),
            Layout::Transposed => self.backing.t(),
            Layout::Stepped => self.backing.slice(s![..;2, ..;3]),
            Layout::Reversed => self.backing.slice(s![..;-1, ..]),
        }
    }

    /// The logical (rows, cols) view, writable.
    pub fn view_mut(&mut self) -> ArrayViewMut2<'_, f32> {
        match self.layout {
            Layout::Standard => self.backing.view_mut(),
            Layout::Transposed => self.backing.view_mut().reversed_axes(),
            Layout::Stepped => self.backing.slice_mut(s![..;2, ..;3]),
            Layout::Reversed => self.backing.slice_mut(s![..;-1, ..]),
        }
    }
}

/// `a · b` by the textbook triple loop, accumulated in f64, together with `Σ_p |a_ip| |b_pj|`
/// (the scale of the rounding error of an f32 evaluation).
pub fn reference_product(a: ArrayView2<f32>, b: ArrayView2<f32>) -> (Array2<f64>, Array2<f64>) {
    let (m, k) = a.dim();
    let n = b.ncols();
    assert_eq!(b.nrows(), k);
    let mut product = Array2::zeros((m, n));
    let mut magnitude = Array2::zeros((m, n));
    for i in 0..m {
        for j in 0..n {
            let (mut sum, mut abs_sum) = (0.0f64, 0.0f64);
            for p in 0..k {
                let term = f64::from(a[[i, p]]) * f64::from(b[[p, j]]);
                sum += term;
                abs_sum += term.abs();
            }
            product[[i, j]] = sum;
            magnitude[[i, j]] = abs_sum;
        }
    }
    (product, magnitude)
}

/// Checks `actual` against the f64 reference within the f32 error bound for a length-k dot
/// product (plus one addition of the bias).
///
/// The tolerance: any order of summing k products in f32, fused or not, is within
/// `γ_k · Σ|a_ip b_pj|` of the exact sum, with `γ_k = k·u / (1 - k·u)` and `u = 2⁻²⁴`
/// (Higham, *Accuracy and Stability of Numerical Algorithms*, §3.1). Adding a bias costs one
/// more rounding. We allow `(k + 2) · f32::EPSILON` (that is `(2k + 4)·u`, about twice the
/// worst-case bound and far below a real bug such as a missing or doubled term, whose error is
/// of the size of one term) times `Σ|a_ip b_pj| + |bias_j|`.
pub fn assert_close(
    actual: ArrayView2<f32>,
    reference: &Array2<f64>,
    magnitude: &Array2<f64>,
    bias: Option<&[f32]>,
    k: usize,
    context: &str,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(actual.dim(), reference.dim(), "{}: shape", context);
    let per_unit = (k as f64 + 2.0) * f64::from(f32::EPSILON);
    for ((i, j), &value) in actual.indexed_iter() {
        let bias_j = bias.map_or(0.0, |bias| f64::from(bias[j]));
        let expected = reference[[i, j]] + bias_j;
        let tolerance = per_unit * (magnitude[[i, j]] + bias_j.abs());
        let error = (f64::from(value) - expected).abs();
        prop_assert!(
            error <= tolerance,
            "{}: element ({}, {}) is {} but the reference is {} (error {:e} > tolerance {:e})",
            context,
            i,
            j,
            value,
            expected,
            error,
            tolerance
        );
    }
    Ok(())
}
