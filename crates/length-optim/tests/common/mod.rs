//! Helpers shared by the integration tests.

#![allow(dead_code)] // Each test file uses a different subset.

use length_tensor::Tensor;
use ndarray::{ArrayD, ArrayViewD};

pub mod two_steps;

/// LENGTH's default tolerances (numpy's `allclose`: `|a − e| ≤ atol + rtol·|e|`).
pub const ATOL: f32 = 1e-5;
pub const RTOL: f32 = 1e-4;

/// Panics, naming the first offending element, unless `actual` and `expected` have the same
/// shape and `|actual − expected| ≤ atol + rtol·|expected|` everywhere.
pub fn assert_allclose(actual: ArrayViewD<f32>, expected: ArrayViewD<f32>, atol: f32, rtol: f32) {
    assert_eq!(actual.shape(), expected.shape(), "shapes differ");
    for ((index, &a), &e) in actual.indexed_iter().zip(expected.iter()) {
        assert!(
            (a - e).abs() <= atol + rtol * e.abs(),
            "at {index:?}: got {a}, expected {e} (atol {atol}, rtol {rtol})\n\
             actual:\n{actual}\nexpected:\n{expected}"
        );
    }
}

/// Panics unless `actual` (f32) agrees with the `f64` reference to within `relative` of each
/// reference value. The hand-computed tests use 2.5e-7, about two f32 ulps (2⁻²³ ≈ 1.2e-7): what
/// rounding along a few-operation formula allows (measured worst: 4.0e-8); a wrong formula misses
/// by orders of magnitude more.
pub fn assert_close_to_f64(actual: &[f32], expected: &[f64], relative: f64) {
    assert_eq!(actual.len(), expected.len(), "lengths differ");
    for (index, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        let error = (f64::from(a) - e).abs();
        assert!(
            error <= relative * e.abs(),
            "element {index}: got {a}, expected {e} (relative error {:e} > {relative:e})",
            error / e.abs()
        );
    }
}

/// Panics unless the arrays hold the same bits, element for element (so `-0.0 ≠ 0.0`).
pub fn assert_bits_eq(actual: ArrayViewD<f32>, expected: ArrayViewD<f32>, what: &str) {
    assert_eq!(actual.shape(), expected.shape(), "{what}: shapes differ");
    for ((index, &a), &e) in actual.indexed_iter().zip(expected.iter()) {
        assert!(
            a.to_bits() == e.to_bits(),
            "{what}: at {index:?} got {a:e}, expected {e:e} (bits differ)"
        );
    }
}

/// A deterministic, irregular array of the given shape with values in `[low, high)`.
pub fn wiggle(shape: &[usize], seed: u64, low: f32, high: f32) -> Tensor {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    ArrayD::from_shape_fn(shape.to_vec(), |_| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let unit = (state >> 40) as f32 / (1u64 << 24) as f32;
        low + (high - low) * unit
    })
}

/// Views of each array, as `Optimizer` takes them.
pub fn views(arrays: &[Tensor]) -> Vec<ArrayViewD<'_, f32>> {
    arrays.iter().map(|array| array.view()).collect()
}

/// The f32 values of an array, as f64s would be compared.
pub fn values(array: &Tensor) -> Vec<f32> {
    array.iter().copied().collect()
}
