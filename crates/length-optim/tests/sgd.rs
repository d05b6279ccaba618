//! SGD: LENGTH's test numbers, configuration and shape checks.

// LENGTH's test values, verbatim (more digits than an f32 holds).
#![allow(clippy::excessive_precision)]

mod common;

use common::{ATOL, RTOL, assert_allclose, views};
use length_autograd::{LayerId, LearningRate, Optimizer};
use length_optim::{ConfigError, Sgd, SgdConfig};
use ndarray::{Array2, array};

/// LENGTH's `test_sgd`: `SGD(0.0017)` turns these gradients into these deltas.
#[test]
fn length_sgd_deltas() {
    let gradients = array![
        [
            0.78266141f32,
            0.87160521,
            0.91545263,
            0.41808932,
            0.63775016
        ],
        [0.16893565, 0.25077806, 0.88390805, 0.92372049, 0.0741453],
        [0.63734837, 0.28873811, 0.20229677, 0.12343409, 0.08427269],
    ]
    .into_dyn();
    let expected: Array2<f32> = array![
        [0.00133052, 0.00148173, 0.00155627, 0.00071075, 0.00108418],
        [0.00028719, 0.00042632, 0.00150264, 0.00157032, 0.00012605],
        [0.00108349, 0.00049085, 0.0003439, 0.00020984, 0.00014326],
    ];
    let mut sgd = Sgd::with_learning_rate(0.0017);
    let deltas = sgd.run_update_rule(&[gradients.view()], LayerId::fresh());
    assert_eq!(deltas.len(), 1);
    assert_allclose(deltas[0].view(), expected.view().into_dyn(), ATOL, RTOL);
    // The same with a tolerance the 8-digit reference values allow, so a wrong rounding shows.
    assert_allclose(deltas[0].view(), expected.view().into_dyn(), 6e-9, 0.0);
}

#[test]
fn update_subtracts_the_delta_from_each_parameter() {
    let mut sgd = Sgd::with_learning_rate(0.25);
    let mut weights = array![[1.0f32, 2.0], [3.0, 4.0]].into_dyn();
    let mut biases = array![1.0f32].into_dyn();
    let gradients = [
        array![[4.0f32, 0.0], [-4.0, 1.0]].into_dyn(),
        array![2.0f32].into_dyn(),
    ];
    sgd.update(
        &mut [weights.view_mut(), biases.view_mut()],
        &views(&gradients),
        LayerId::fresh(),
    );
    assert_eq!(weights, array![[0.0f32, 2.0], [4.0, 3.75]].into_dyn());
    assert_eq!(biases, array![0.5f32].into_dyn());
}

#[test]
fn learning_rate_can_be_read_and_set() {
    let mut sgd = Sgd::default();
    assert_eq!(sgd.learning_rate(), 0.1);
    sgd.set_learning_rate(0.01);
    assert_eq!(sgd.learning_rate(), 0.01);
    assert_eq!(sgd.config().learning_rate, 0.01);
    let gradient = array![1.0f32].into_dyn();
    let deltas = sgd.run_update_rule(&[gradient.view()], LayerId::fresh());
    assert_eq!(deltas[0][0], 0.01);
}

#[test]
fn invalid_learning_rates_are_errors() {
    for bad in [-0.1f32, f32::NAN, f32::INFINITY] {
        let error = Sgd::try_new(SgdConfig { learning_rate: bad }).unwrap_err();
        assert!(matches!(
            error,
            ConfigError::Negative {
                name: "learning_rate",
                ..
            }
        ));
    }
    assert!(Sgd::try_new(SgdConfig { learning_rate: 0.0 }).is_ok());
}

#[test]
#[should_panic(expected = "SGD: learning_rate must be a finite number >= 0, got -1")]
fn new_panics_on_an_invalid_config() {
    Sgd::with_learning_rate(-1.0);
}

#[test]
#[should_panic(expected = "SGD::update: parameter 0 is [2, 3] but its gradient is [3, 2]")]
fn update_panics_on_mismatched_shapes() {
    let mut parameter = Array2::<f32>::zeros((2, 3)).into_dyn();
    let gradient = Array2::<f32>::zeros((3, 2)).into_dyn();
    Sgd::default().update(
        &mut [parameter.view_mut()],
        &[gradient.view()],
        LayerId::fresh(),
    );
}

#[test]
#[should_panic(expected = "SGD::update: 2 parameters but 1 gradients")]
fn update_panics_on_a_missing_gradient() {
    let mut a = array![1.0f32].into_dyn();
    let mut b = array![1.0f32].into_dyn();
    let gradient = array![1.0f32].into_dyn();
    Sgd::default().update(
        &mut [a.view_mut(), b.view_mut()],
        &[gradient.view()],
        LayerId::fresh(),
    );
}
