//! Column sums, softmax, log-softmax and argmax: definitions and numerical robustness.

mod common;

use common::{Operand, SplitMix, any_layout, dimension};
use length_tensor::ndarray::{Array1, Array2, array};
use length_tensor::{
    argmax_rows, column_sums, column_sums_into, log_softmax_rows, relu_backward_column_sums_into,
    relu_backward_into, softmax_rows,
};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Column sums equal an f64 sum within `m · ε` relative to `Σ|a_ij|` (m additions).
    #[test]
    fn column_sums_match_reference(
        rows in dimension(), cols in dimension(), layout in any_layout(), seed in any::<u64>(),
    ) {
        let mut rng = SplitMix(seed);
        let a = Operand::random(rows, cols, layout, &mut rng);
        let sums = column_sums(a.view());
        prop_assert_eq!(sums.len(), cols);
        for (j, &s) in sums.iter().enumerate() {
            let column = a.view().column(j).to_owned();
            let exact: f64 = column.iter().map(|&v| f64::from(v)).sum();
            let scale: f64 = column.iter().map(|&v| f64::from(v).abs()).sum();
            let tolerance = rows as f64 * f64::from(f32::EPSILON) * scale;
            prop_assert!((f64::from(s) - exact).abs() <= tolerance, "column {}: {} vs {}", j, s, exact);
        }
    }

    /// The gradient through ReLU and its column sums in one pass give the bits of
    /// `relu_backward_into` then `column_sums_into`, for every layout of the output (64 x 1031
    /// and 300 x 300 are split between threads).
    #[test]
    fn relu_backward_column_sums_equal_the_two_passes(
        (rows, cols) in prop_oneof![
            (dimension(), dimension()),
            Just((64usize, 1031usize)),
            Just((300usize, 300usize)),
        ],
        layouts in (any_layout(), any_layout(), any_layout()), seed in any::<u64>(),
    ) {
        let mut rng = SplitMix(seed);
        let y = Operand::random(rows, cols, layouts.0, &mut rng);
        let grad = Operand::random(rows, cols, layouts.1, &mut rng);
        let mut out = Operand::random(rows, cols, layouts.2, &mut rng);
        let mut sums = Array1::from_elem(cols, f32::NAN);
        relu_backward_column_sums_into(y.view(), grad.view(), out.view_mut(), sums.view_mut());
        let mut through = Array2::from_elem((rows, cols), f32::NAN);
        relu_backward_into(y.view().into_dyn(), grad.view().into_dyn(), through.view_mut().into_dyn());
        let expected_sums = column_sums(through.view());
        prop_assert!(out.view().iter().zip(&through).all(|(x, e)| x.to_bits() == e.to_bits()));
        prop_assert!(sums.iter().zip(&expected_sums).all(|(x, e)| x.to_bits() == e.to_bits()));
    }

    /// Softmax rows are probability vectors; log-softmax is their logarithm; inputs up to ±1e4
    /// give no NaN or infinity; argmax picks a largest element, which softmax ranks highest.
    #[test]
    fn softmax_rows_are_distributions(
        rows in 1usize..40, cols in 1usize..40, scale in prop_oneof![Just(1.0f32), Just(1e4f32)],
        seed in any::<u64>(),
    ) {
        let mut rng = SplitMix(seed);
        let x = Array2::from_shape_simple_fn((rows, cols), || scale * rng.next_f32());
        let p = softmax_rows(x.view());
        let log_p = log_softmax_rows(x.view());
        let best = argmax_rows(x.view());
        prop_assert!(p.iter().chain(log_p.iter()).all(|v| v.is_finite()));
        for i in 0..rows {
            let row = p.row(i);
            let total: f32 = row.sum();
            // The kernel's sum of n exponentials is within n·ε of exact, each quotient within
            // ε/2 of exact, and summing the n quotients here adds another n·ε: (2n + 2)·ε.
            let tolerance = (2.0 * cols as f32 + 2.0) * f32::EPSILON;
            prop_assert!((total - 1.0).abs() <= tolerance, "row {} sums to {}", i, total);
            prop_assert!(row.iter().all(|&v| (0.0..=1.0).contains(&v)));
            for j in 0..cols {
                // log p = (x - M) - log Σ carries a few roundings relative to its own size, so
                // exp(log p) matches p to a few ε·(1 + |log p|), relative; below f32's normal
                // range only an absolute bound makes sense.
                let (l, q) = (log_p[[i, j]], p[[i, j]]);
                prop_assert!(l <= 0.0);
                let tolerance = 4.0 * f32::EPSILON * (1.0 + l.abs()) * q + f32::MIN_POSITIVE;
                prop_assert!((l.exp() - q).abs() <= tolerance, "exp({}) vs {}", l, q);
            }
            let max = x.row(i).fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            prop_assert_eq!(x[[i, best[i]]], max);
            prop_assert!(x.row(i).iter().take(best[i]).all(|&v| v < max), "argmax is the first maximum");
            prop_assert_eq!(p.row(i).fold(0.0f32, |m, &v| m.max(v)), p[[i, best[i]]]);
        }
    }
}

#[test]
fn extreme_logits_give_one_hot_softmax() {
    let x = array![[1e4f32, -1e4, 0.0], [-1e4, -1e4, -1e4]];
    let p = softmax_rows(x.view());
    assert_eq!(p.row(0), array![1.0, 0.0, 0.0]);
    assert!(p.row(1).iter().all(|&v| (v - 1.0 / 3.0).abs() < 1e-7));
    let log_p = log_softmax_rows(x.view());
    assert_eq!(log_p[[0, 0]], 0.0);
    assert_eq!(log_p[[0, 1]], -2e4);
}

#[test]
fn column_sums_of_a_large_matrix_use_every_row() {
    // Integers: the sums are exact whatever the order, so the parallel path must match exactly.
    let a = Array2::from_shape_fn((300, 1000), |(i, j)| ((i * 7 + j) % 13) as f32);
    let expected =
        Array1::from_shape_fn(1000, |j| (0..300).map(|i| ((i * 7 + j) % 13) as f32).sum());
    assert_eq!(column_sums(a.view()), expected);
    assert_eq!(column_sums(a.t().t()), expected);
    let mut out = Array1::from_elem(1000, f32::NAN);
    column_sums_into(a.view(), out.view_mut());
    assert_eq!(out, expected);
}

#[test]
fn column_sums_add_parts_of_32_rows_in_order() {
    // The documented order, written out: each part of 32 rows summed row by row, then the parts
    // added in increasing order. Random values, so another order would change some bits. 64 x 512
    // is a batch's gradient, split between threads; 70 x 3 is three parts on the calling thread.
    for (rows, cols, seed) in [(64, 512, 21), (70, 3, 22)] {
        let mut rng = SplitMix(seed);
        let a = Array2::from_shape_simple_fn((rows, cols), || rng.next_f32() - 0.5);
        let expected = Array1::from_shape_fn(cols, |j| {
            let part_sums = (0..rows)
                .step_by(32)
                .map(|first| (first..rows.min(first + 32)).fold(0.0f32, |sum, i| sum + a[[i, j]]));
            part_sums.reduce(|total, part| total + part).unwrap()
        });
        let bits = |v: &Array1<f32>| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(&column_sums(a.view())),
            bits(&expected),
            "{rows} x {cols}"
        );
        let y = Array2::from_elem((rows, cols), 1.0f32); // every gradient passes ReLU
        let (mut out, mut sums) = (Array2::zeros((rows, cols)), Array1::zeros(cols));
        relu_backward_column_sums_into(y.view(), a.view(), out.view_mut(), sums.view_mut());
        assert_eq!(
            bits(&sums),
            bits(&expected),
            "through ReLU, {rows} x {cols}"
        );
    }
}

#[test]
fn argmax_takes_the_first_of_ties() {
    assert_eq!(
        argmax_rows(array![[1.0f32, 3.0, 3.0], [2.0, 2.0, 2.0]].view()),
        array![1, 0]
    );
    assert_eq!(
        argmax_rows(Array2::<f32>::zeros((2, 0)).view()),
        array![0, 0]
    );
    assert_eq!(argmax_rows(Array2::<f32>::zeros((0, 3)).view()).len(), 0);
}

/// The documented NaN rule (never largest unless first), and the same answers for a matrix in
/// column-major order, which goes the strided way rather than row by row as slices.
#[test]
fn argmax_treats_nan_alike_in_every_layout() {
    let x = array![
        [f32::NAN, 5.0, 1.0],
        [1.0, f32::NAN, 2.0],
        [-1.0, -3.0, f32::NAN],
        [0.5, 4.0, 4.5]
    ];
    let expected = array![0, 2, 0, 2];
    assert_eq!(argmax_rows(x.view()), expected);
    let transposed = x.t().as_standard_layout().into_owned();
    let column_major = transposed.t();
    assert!(column_major.as_slice().is_none());
    assert_eq!(argmax_rows(column_major.view()), expected);
}

#[test]
#[should_panic(expected = "column_sums: a is [2, 3] but out has 2 elements")]
fn column_sums_names_mismatched_shapes() {
    let mut out = Array1::zeros(2);
    column_sums_into(Array2::zeros((2, 3)).view(), out.view_mut());
}

#[test]
#[should_panic(expected = "relu_backward_column_sums: y is [2, 3], grad [2, 3] and out [3, 2]")]
fn relu_backward_column_sums_names_mismatched_shapes() {
    let (y, grad) = (Array2::zeros((2, 3)), Array2::zeros((2, 3)));
    let (mut out, mut sums) = (Array2::zeros((3, 2)), Array1::zeros(3));
    relu_backward_column_sums_into(y.view(), grad.view(), out.view_mut(), sums.view_mut());
}
