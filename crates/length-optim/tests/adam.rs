//! Adam: LENGTH's behavioural tests, a hand-computed two-step example, per-layer state.

// LENGTH's test values, verbatim (more digits than an f32 holds).
#![allow(clippy::excessive_precision)]

mod common;

use common::two_steps::{self, adamw_reference};
use common::{assert_bits_eq, assert_close_to_f64, views, wiggle};
use length_autograd::{LayerId, LearningRate, Optimizer};
use length_optim::{Adam, AdamConfig, ConfigError};
use length_tensor::Tensor;
use ndarray::array;

/// Positive gradients: LENGTH's SGD test matrix.
fn positive_gradient() -> Tensor {
    array![
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
    .into_dyn()
}

/// LENGTH's check that a first step on positive gradients moves each parameter by less than the
/// learning rate: exactly, the first bias-corrected step is `η·g/(g + ε) < η`.
///
/// In f32 the margin `ε/g` must be resolvable for the strict inequality to be observable: with
/// `ε = 1e-8` and LENGTH's gradients (0.07 … 0.92) it is below f32's resolution (6e-8), and the
/// delta rounds to `η` give or take an ulp or two (PyTorch's and NumPy's f32 Adam do the same).
/// So: gradients small enough for `ε` to register must give deltas strictly below `η`, and
/// LENGTH's gradients must not exceed `η` by more than rounding.
#[test]
fn first_step_on_positive_gradients_moves_less_than_the_learning_rate() {
    let mut adam = Adam::default();
    let learning_rate = adam.learning_rate();
    assert_eq!(learning_rate, 0.001);

    let small = positive_gradient().mapv(|g| 1e-3 * g); // ε/g ≥ 1e-5
    let deltas = adam.run_update_rule(&[small.view()], LayerId::fresh());
    assert!(
        deltas[0].iter().all(|&d| d > 0.0 && d < learning_rate),
        "expected 0 < delta < {learning_rate}: {}",
        deltas[0]
    );

    let deltas = adam.run_update_rule(&[positive_gradient().view()], LayerId::fresh());
    let rounding = 4.0 * f32::EPSILON * learning_rate;
    assert!(
        deltas[0]
            .iter()
            .all(|&d| d > 0.0 && d <= learning_rate + rounding),
        "expected 0 < delta <= {learning_rate} (+ rounding): {}",
        deltas[0]
    );
}

/// LENGTH's momentum test: after 5 positive steps one negated gradient is not enough to turn
/// the first moment around, five more are.
#[test]
fn the_first_moment_turns_around_slowly() {
    let mut adam = Adam::default();
    let layer = LayerId::fresh();
    let positive = positive_gradient();
    let negative = -&positive;
    for _ in 0..5 {
        let deltas = adam.run_update_rule(&[positive.view()], layer);
        assert!(deltas[0].iter().all(|&d| d > 0.0));
    }
    let deltas = adam.run_update_rule(&[negative.view()], layer);
    assert!(
        deltas[0].iter().all(|&d| d > 0.0),
        "one negative step already reversed: {}",
        deltas[0]
    );
    let mut deltas = deltas;
    for _ in 0..5 {
        deltas = adam.run_update_rule(&[negative.view()], layer);
    }
    assert!(
        deltas[0].iter().all(|&d| d < 0.0),
        "five more negative steps did not reverse: {}",
        deltas[0]
    );
    assert_eq!(adam.steps(layer), 11);
}

#[test]
fn two_steps_match_the_formula() {
    let config = AdamConfig {
        learning_rate: 0.01,
        ..AdamConfig::default()
    };
    // Adam is AdamW without weight decay.
    let expected = adamw_reference(&config, 0.0, &two_steps::start(), &two_steps::gradients());
    // Sanity of the reference itself: the first bias-corrected step is ≈ η·sign(g).
    assert!((expected[0][0] - (0.5 - 0.01)).abs() < 1e-8);

    let parameters = two_steps::run(&mut Adam::new(config));
    for (step, parameter) in parameters.iter().enumerate() {
        assert_close_to_f64(parameter, &expected[step], 2.5e-7);
    }
}

#[test]
fn layers_do_not_share_state() {
    let gradient = positive_gradient();
    let (first, second) = (LayerId::fresh(), LayerId::fresh());

    let mut shared = Adam::default();
    for _ in 0..5 {
        shared.run_update_rule(&[gradient.view()], first);
    }
    // The second layer's first step is a first step, whatever the first layer has done.
    let second_deltas = shared.run_update_rule(&[gradient.view()], second);
    let fresh_deltas = Adam::default().run_update_rule(&[gradient.view()], LayerId::fresh());
    assert_bits_eq(
        second_deltas[0].view(),
        fresh_deltas[0].view(),
        "second layer",
    );
    assert_eq!(shared.steps(first), 5);
    assert_eq!(shared.steps(second), 1);
    assert_eq!(shared.steps(LayerId::fresh()), 0);
}

#[test]
fn interleaved_layers_evolve_as_if_alone() {
    let (a, b) = (LayerId::fresh(), LayerId::fresh());
    let gradients_a: Vec<Tensor> = (0..4).map(|k| wiggle(&[4, 3], k, -1.0, 1.0)).collect();
    let gradients_b: Vec<Tensor> = (0..4).map(|k| wiggle(&[4, 3], 10 + k, -1.0, 1.0)).collect();

    let mut together = Adam::default();
    let mut alone_a = Adam::default();
    let mut alone_b = Adam::default();
    for (ga, gb) in gradients_a.iter().zip(&gradients_b) {
        let together_a = together.run_update_rule(&[ga.view()], a);
        let together_b = together.run_update_rule(&[gb.view()], b);
        let expected_a = alone_a.run_update_rule(&[ga.view()], a);
        let expected_b = alone_b.run_update_rule(&[gb.view()], b);
        assert_bits_eq(together_a[0].view(), expected_a[0].view(), "layer a");
        assert_bits_eq(together_b[0].view(), expected_b[0].view(), "layer b");
    }
}

#[test]
fn state_is_kept_per_parameter_within_a_layer() {
    // Weights and biases of one layer: each must see only its own gradient history.
    let layer = LayerId::fresh();
    let weights = [wiggle(&[2, 3], 1, -1.0, 1.0), wiggle(&[2, 3], 2, -1.0, 1.0)];
    let biases = [wiggle(&[2], 3, -1.0, 1.0), wiggle(&[2], 4, -1.0, 1.0)];
    let mut both = Adam::default();
    let mut weights_only = Adam::default();
    let mut biases_only = Adam::default();
    for step in 0..2 {
        let deltas = both.run_update_rule(
            &views(&[weights[step].clone(), biases[step].clone()]),
            layer,
        );
        let expected_w = weights_only.run_update_rule(&[weights[step].view()], layer);
        let expected_b = biases_only.run_update_rule(&[biases[step].view()], layer);
        assert_bits_eq(deltas[0].view(), expected_w[0].view(), "weights");
        assert_bits_eq(deltas[1].view(), expected_b[0].view(), "biases");
    }
}

#[test]
fn a_changed_learning_rate_applies_from_the_next_step() {
    let gradient = positive_gradient();
    let layer = LayerId::fresh();
    let mut slow = Adam::default();
    let mut fast = Adam::default();
    slow.run_update_rule(&[gradient.view()], layer);
    fast.run_update_rule(&[gradient.view()], layer);
    fast.set_learning_rate(0.002);
    assert_eq!(fast.learning_rate(), 0.002);
    let slow_deltas = slow.run_update_rule(&[gradient.view()], layer);
    let fast_deltas = fast.run_update_rule(&[gradient.view()], layer);
    for (s, f) in slow_deltas[0].iter().zip(fast_deltas[0].iter()) {
        assert!((f / s - 2.0).abs() < 1e-6, "{f} is not twice {s}");
    }
}

#[test]
#[should_panic(
    expected = "was first updated with parameters of shapes [[3, 5]], now with gradients of shapes [[5, 3]]"
)]
fn a_layer_must_keep_its_parameter_shapes() {
    let mut adam = Adam::default();
    let layer = LayerId::fresh();
    adam.run_update_rule(&[Tensor::zeros(vec![3, 5]).view()], layer);
    adam.run_update_rule(&[Tensor::zeros(vec![5, 3]).view()], layer);
}

#[test]
fn invalid_configs_are_errors() {
    let default = AdamConfig::default();
    let cases = [
        (
            AdamConfig {
                learning_rate: -1.0,
                ..default
            },
            "learning_rate",
        ),
        (
            AdamConfig {
                beta1: 1.0,
                ..default
            },
            "beta1",
        ),
        (
            AdamConfig {
                beta1: -0.1,
                ..default
            },
            "beta1",
        ),
        (
            AdamConfig {
                beta2: f32::NAN,
                ..default
            },
            "beta2",
        ),
        (
            AdamConfig {
                eps: -1e-8,
                ..default
            },
            "eps",
        ),
    ];
    for (config, field) in cases {
        let error = Adam::try_new(config).unwrap_err();
        let name = match error {
            ConfigError::Negative { name, .. } | ConfigError::NotADecayRate { name, .. } => name,
        };
        assert_eq!(name, field, "{error}");
        assert!(error.to_string().starts_with("Adam: "), "{error}");
    }
    assert_eq!(Adam::try_new(default).unwrap().config(), &default);
}
