//! ReLU and sigmoid: definitions, the forward/backward relation, layouts and shapes.

mod common;

use common::{Operand, SplitMix, any_layout, dimension};
use length_tensor::ndarray::{Array2, ArrayD, Ix2, IxDyn, s};
use length_tensor::{
    relu, relu_backward, relu_backward_into, relu_in_place, relu_into, sigmoid, sigmoid_in_place,
};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// ReLU's backward pass is the forward pass's mask (`relu(x) > 0`) times the incoming
    /// gradient, on any layout, and the `_into` forms agree with the allocating ones.
    #[test]
    fn relu_backward_is_forward_mask_times_gradient(
        rows in dimension(), cols in dimension(),
        layouts in (any_layout(), any_layout(), any_layout()), seed in any::<u64>(),
    ) {
        let mut rng = SplitMix(seed);
        let x = Operand::random(rows, cols, layouts.0, &mut rng);
        let grad = Operand::random(rows, cols, layouts.1, &mut rng);
        let (x, grad) = (x.view().into_dyn(), grad.view().into_dyn());

        let forward = relu(x.view());
        let backward = relu_backward(x.view(), grad.view());
        let mask = forward.mapv(|y| if y > 0.0 { 1.0f32 } else { 0.0 });
        prop_assert_eq!(&backward, &(&mask * &grad));
        prop_assert_eq!(&forward, &x.mapv(|v| v.max(0.0)));

        let mut out = Operand::random(rows, cols, layouts.2, &mut rng);
        out.view_mut().fill(f32::NAN);
        relu_into(x.view(), out.view_mut().into_dyn());
        prop_assert_eq!(&out.view().into_dyn(), &forward);
        out.view_mut().fill(f32::NAN);
        relu_backward_into(x.view(), grad.view(), out.view_mut().into_dyn());
        prop_assert_eq!(&out.view().into_dyn(), &backward);
    }

    /// The in-place forms give the allocating forms' values, on any layout.
    #[test]
    fn in_place_activations_equal_the_allocating_ones(
        rows in dimension(), cols in dimension(), layout in any_layout(), seed in any::<u64>(),
    ) {
        let mut rng = SplitMix(seed);
        let mut x = Operand::random(rows, cols, layout, &mut rng);
        let original = x.view().into_dyn().to_owned();
        relu_in_place(x.view_mut().into_dyn());
        prop_assert_eq!(&x.view().into_dyn(), &relu(original.view()));
        let mut x = Operand::random(rows, cols, layout, &mut rng);
        let original = x.view().into_dyn().to_owned();
        sigmoid_in_place(x.view_mut().into_dyn());
        prop_assert_eq!(&x.view().into_dyn(), &sigmoid(original.view()));
    }
}

/// Large enough to take the parallel path (2²⁰ elements), contiguous and strided.
#[test]
fn relu_on_a_large_batch_matches_the_definition() {
    let mut rng = SplitMix(3);
    let x = Array2::from_shape_simple_fn((1024, 1024), || rng.next_f32()).into_dyn();
    let g = Array2::from_shape_simple_fn((1024, 1024), || rng.next_f32()).into_dyn();
    assert_eq!(relu(x.view()), x.mapv(|v| v.max(0.0)));
    let expected = ndarray_select(&x, &g);
    assert_eq!(relu_backward(x.view(), g.view()), expected);
    let xt = x.t();
    let gt = g.t();
    assert_eq!(relu_backward(xt.view(), gt.view()), expected.t());

    // In place, contiguous (the team's chunks) and every other column (not contiguous).
    let mut in_place = x.clone();
    relu_in_place(in_place.view_mut());
    assert_eq!(in_place, x.mapv(|v| v.max(0.0)));
    let mut strided = x.clone().into_dimensionality::<Ix2>().unwrap();
    let every_other_column = s![.., ..;2];
    let expected = sigmoid(strided.slice(every_other_column).into_dyn());
    sigmoid_in_place(strided.slice_mut(every_other_column).into_dyn());
    assert_eq!(strided.slice(every_other_column).into_dyn(), expected);
    assert_eq!(
        strided.slice(s![.., 1..;2]),
        x.slice(s![.., 1..;2]),
        "the columns between are left alone"
    );
}

fn ndarray_select(x: &ArrayD<f32>, g: &ArrayD<f32>) -> ArrayD<f32> {
    let mut out = g.clone();
    out.zip_mut_with(x, |o, &v| {
        if v <= 0.0 {
            *o = 0.0;
        }
    });
    out
}

#[test]
fn relu_edge_values() {
    let x = ArrayD::from_shape_vec(IxDyn(&[4]), vec![f32::NAN, -0.0, 0.0, f32::INFINITY]).unwrap();
    let y = relu(x.view());
    assert_eq!(y.as_slice().unwrap(), &[0.0, 0.0, 0.0, f32::INFINITY]);
    assert!(y.iter().all(|v| v.is_sign_positive()));
    let g = ArrayD::from_elem(IxDyn(&[4]), 2.0f32);
    assert_eq!(
        relu_backward(x.view(), g.view()).as_slice().unwrap(),
        &[0.0, 0.0, 0.0, 2.0]
    );
}

#[test]
fn sigmoid_is_stable_and_symmetric() {
    let x = ArrayD::from_shape_vec(IxDyn(&[5]), vec![-1e4, -3.0, 0.0, 3.0, 1e4]).unwrap();
    let y = sigmoid(x.view());
    assert!(y.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)));
    assert_eq!(y[[2]], 0.5);
    assert!((y[[1]] + y[[3]] - 1.0).abs() < 1e-6);
    assert!((y[[3]] - 1.0 / (1.0 + (-3.0f32).exp())).abs() < 1e-7);
    let big = ArrayD::from_shape_fn(IxDyn(&[100, 100]), |i| (i[0] as f32 - i[1] as f32) / 10.0);
    let expected = big.mapv(|v| 1.0 / (1.0 + (-v).exp()));
    let actual = sigmoid(big.view());
    assert!(
        actual
            .iter()
            .zip(&expected)
            .all(|(a, e)| (a - e).abs() < 1e-6)
    );
}

#[test]
#[should_panic(expected = "relu_backward: x is [2, 3] but the second operand is [3, 2]")]
fn relu_backward_names_mismatched_shapes() {
    let x = ArrayD::<f32>::zeros(IxDyn(&[2, 3]));
    let g = ArrayD::<f32>::zeros(IxDyn(&[3, 2]));
    relu_backward(x.view(), g.view());
}
