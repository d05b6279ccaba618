//! Property tests: every function's backward pass matches the numerical gradient on random
//! shapes and values.
//!
//! Tolerances: ε = 1e-2 with `atol = 1e-3`, `rtol = 1e-2`. With outputs of at most a few dozen
//! elements of size ≤ ~30, f32 rounding adds at most ~1e-4 to a central difference at this ε,
//! and the truncation error of these smooth functions (inputs kept where their third derivatives
//! are small) is of the same order; a wrong factor, sign or term is off by 1e-1 or more.

use length_autograd::functions::{
    Add, Dropout, MeanSquaredError, ReLU, Sigmoid, Softmax, SoftmaxCrossEntropy, Sum,
};
use length_autograd::{
    Function, Graph, Tolerance, Value, check_allclose, check_gradients, compute_numerical_gradient,
};
use length_tensor::{Labels, Tensor};
use proptest::prelude::*;

const TOLERANCE: Tolerance = Tolerance {
    eps: 1e-2,
    atol: 1e-3,
    rtol: 1e-2,
};

/// A (rows, columns) tensor with elements in `low..high`.
fn matrix(low: f32, high: f32) -> impl Strategy<Value = Tensor> {
    (1usize..6, 1usize..7).prop_flat_map(move |(rows, columns)| {
        proptest::collection::vec(low..high, rows * columns)
            .prop_map(move |data| Tensor::from_shape_vec(vec![rows, columns], data).unwrap())
    })
}

/// A tensor of the given shape with elements in `low..high`.
fn like(shape: Vec<usize>, low: f32, high: f32) -> impl Strategy<Value = Tensor> {
    let size: usize = shape.iter().product();
    proptest::collection::vec(low..high, size)
        .prop_map(move |data| Tensor::from_shape_vec(shape.clone(), data).unwrap())
}

/// Scores (rows, classes), one valid label per row, and a scalar output gradient.
fn scores_and_labels() -> impl Strategy<Value = (Tensor, Labels, Tensor)> {
    (1usize..6, 1usize..7).prop_flat_map(|(rows, classes)| {
        (
            like(vec![rows, classes], -2.0, 2.0),
            proptest::collection::vec(0..classes as u32, rows).prop_map(Labels::from),
            like(vec![], -2.0, 2.0),
        )
    })
}

fn check(
    function: &mut dyn Function,
    inputs: &[Value],
    gradient: &Tensor,
) -> Result<(), TestCaseError> {
    check_gradients(function, inputs, gradient, TOLERANCE).map_err(TestCaseError::fail)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn add((a, b, g) in matrix(-1.0, 1.0).prop_flat_map(|a| {
        let shape = a.shape().to_vec();
        (Just(a), like(shape.clone(), -1.0, 1.0), like(shape, -1.0, 1.0))
    })) {
        check(&mut Add, &[a.into(), b.into()], &g)?;
    }

    #[test]
    fn sum(x in matrix(-1.0, 1.0), g in -2.0f32..2.0) {
        check(&mut Sum, &[x.into()], &Tensor::from_elem(vec![], g))?;
    }

    #[test]
    fn relu_away_from_the_kink((x, g) in matrix(0.05, 1.0).prop_flat_map(|magnitude| {
        let shape = magnitude.shape().to_vec();
        let size = magnitude.len();
        (Just(magnitude), proptest::collection::vec(any::<bool>(), size), like(shape, -1.0, 1.0))
            .prop_map(|(magnitude, signs, g)| {
                let mut x = magnitude;
                x.iter_mut().zip(signs).for_each(|(v, negative)| if negative { *v = -*v });
                (x, g)
            })
    })) {
        check(&mut ReLU, &[x.into()], &g)?;
    }

    #[test]
    fn sigmoid((x, g) in matrix(-3.0, 3.0).prop_flat_map(|x| {
        let shape = x.shape().to_vec();
        (Just(x), like(shape, -1.0, 1.0))
    })) {
        check(&mut Sigmoid, &[x.into()], &g)?;
    }

    #[test]
    fn softmax((x, g) in matrix(-2.0, 2.0).prop_flat_map(|x| {
        let shape = x.shape().to_vec();
        (Just(x), like(shape, -1.0, 1.0))
    })) {
        check(&mut Softmax, &[x.into()], &g)?;
    }

    #[test]
    fn softmax_cross_entropy((scores, labels, g) in scores_and_labels()) {
        check(&mut SoftmaxCrossEntropy, &[scores.into(), labels.into()], &g)?;
    }

    #[test]
    fn mean_squared_error_against_a_tensor((x, t) in matrix(-1.0, 1.0).prop_flat_map(|x| {
        let shape = x.shape().to_vec();
        (Just(x), like(shape, -1.0, 1.0))
    }), g in -2.0f32..2.0) {
        check(&mut MeanSquaredError, &[x.into(), t.into()], &Tensor::from_elem(vec![], g))?;
    }

    #[test]
    fn mean_squared_error_against_labels((scores, labels, g) in scores_and_labels()) {
        check(&mut MeanSquaredError, &[scores.into(), labels.into()], &g)?;
    }

    #[test]
    fn dropout_is_x_times_its_mask(
        (x, g) in matrix(-1.0, 1.0).prop_flat_map(|x| {
            let shape = x.shape().to_vec();
            (Just(x), like(shape, -1.0, 1.0))
        }),
        ratio in 0.0f32..0.95,
        seed in any::<u64>(),
    ) {
        let mut dropout = Dropout::new(ratio, seed).unwrap();
        let value = Value::Tensor(x.clone());
        let y = dropout.forward(&[&value]).unwrap();
        let mask = dropout.mask().clone();
        prop_assert!(mask.iter().all(|&m| m == 0.0 || (m - 1.0 / (1.0 - ratio)).abs() < 1e-6));
        let computed = dropout.backward(&[&value], &y, &g, &[true]);
        let numerical = compute_numerical_gradient(|x| &x[0] * &mask, &[x], &g, TOLERANCE.eps);
        check_allclose(computed[0].as_ref().unwrap(), &numerical[0], TOLERANCE.atol, TOLERANCE.rtol)
            .map_err(TestCaseError::fail)?;
    }

    #[test]
    fn a_value_used_in_many_places_gets_the_sum((x, uses) in (matrix(-1.0, 1.0), 1usize..5)) {
        // y = Σ_k Σ(x) over `uses` separate Sum nodes, added up: ∂y/∂x = uses everywhere.
        let mut graph = Graph::new();
        let input = graph.input(x.clone());
        let mut total = graph.apply(Sum, &[input]).unwrap();
        for _ in 1..uses {
            let again = graph.apply(Sum, &[input]).unwrap();
            total = graph.apply(Add, &[total, again]).unwrap();
        }
        graph.backward_gradients_only(total);
        let expected = Tensor::from_elem(x.shape(), uses as f32);
        prop_assert_eq!(graph.gradient(input).unwrap(), &expected);
    }
}
