//! Momentum (classical and Nesterov): hand-computed steps, per-layer state, configuration.

mod common;

use common::two_steps;
use common::{assert_bits_eq, assert_close_to_f64};
use length_autograd::{LayerId, LearningRate, Optimizer};
use length_optim::{ConfigError, Momentum, MomentumConfig};
use length_tensor::Tensor;

/// PyTorch's rule written out in f64: `v ← μ·v + g`, `p ← p − η·v` or `p ← p − η·(g + μ·v)`.
fn momentum_reference(
    config: &MomentumConfig,
    parameter: &[f64],
    gradients: &[Vec<f64>],
) -> Vec<Vec<f64>> {
    let (learning_rate, mu) = (f64::from(config.learning_rate), f64::from(config.momentum));
    let mut p = parameter.to_vec();
    let mut v = vec![0.0; p.len()];
    let mut history = Vec::new();
    for g in gradients {
        for i in 0..p.len() {
            v[i] = mu * v[i] + g[i];
            let step = if config.nesterov {
                g[i] + mu * v[i]
            } else {
                v[i]
            };
            p[i] -= learning_rate * step;
        }
        history.push(p.clone());
    }
    history
}

fn check_two_steps(config: MomentumConfig) {
    let expected = momentum_reference(&config, &two_steps::start(), &two_steps::gradients());

    let parameters = two_steps::run(&mut Momentum::new(config));
    for (step, parameter) in parameters.iter().enumerate() {
        assert_close_to_f64(parameter, &expected[step], 2.5e-7);
    }
}

#[test]
fn classical_two_steps_match_the_formula() {
    check_two_steps(MomentumConfig {
        learning_rate: 0.1,
        momentum: 0.9,
        nesterov: false,
    });
}

#[test]
fn nesterov_two_steps_match_the_formula() {
    check_two_steps(MomentumConfig {
        learning_rate: 0.1,
        momentum: 0.9,
        nesterov: true,
    });
}

#[test]
fn second_deltas_by_hand() {
    // g = 1 twice, η = 0.5, μ = 0.5: v₁ = 1, v₂ = 1.5.
    let gradient = Tensor::from_elem(vec![1], 1.0f32);
    let layer = LayerId::fresh();
    let mut classical = Momentum::new(MomentumConfig {
        learning_rate: 0.5,
        momentum: 0.5,
        nesterov: false,
    });
    let mut nesterov = Momentum::nesterov(0.5, 0.5);
    let classical_deltas: Vec<f32> = (0..2)
        .map(|_| classical.run_update_rule(&[gradient.view()], layer)[0][0])
        .collect();
    let nesterov_deltas: Vec<f32> = (0..2)
        .map(|_| nesterov.run_update_rule(&[gradient.view()], layer)[0][0])
        .collect();
    assert_eq!(classical_deltas, [0.5, 0.75]); // η·v
    assert_eq!(nesterov_deltas, [0.75, 0.875]); // η·(g + μ·v)
}

#[test]
fn zero_momentum_is_plain_sgd() {
    let mut momentum = Momentum::new(MomentumConfig {
        learning_rate: 0.3,
        momentum: 0.0,
        nesterov: false,
    });
    let layer = LayerId::fresh();
    for k in 0..3 {
        let gradient = common::wiggle(&[4, 4], k, -1.0, 1.0);
        let deltas = momentum.run_update_rule(&[gradient.view()], layer);
        assert_bits_eq(deltas[0].view(), gradient.mapv(|g| 0.3 * g).view(), "delta");
    }
}

#[test]
fn layers_do_not_share_velocities() {
    let gradient = Tensor::from_elem(vec![2], 1.0f32);
    let (first, second) = (LayerId::fresh(), LayerId::fresh());
    let mut momentum = Momentum::with_learning_rate(1.0);
    for _ in 0..3 {
        momentum.run_update_rule(&[gradient.view()], first);
    }
    let deltas = momentum.run_update_rule(&[gradient.view()], second);
    assert_eq!(deltas[0], Tensor::from_elem(vec![2], 1.0f32));
}

#[test]
fn defaults_and_errors() {
    let config = MomentumConfig::default();
    assert_eq!(
        (config.learning_rate, config.momentum, config.nesterov),
        (0.01, 0.9, false)
    );
    let mut momentum = Momentum::default();
    momentum.set_learning_rate(0.5);
    assert_eq!(momentum.learning_rate(), 0.5);
    let error = Momentum::try_new(MomentumConfig {
        momentum: -0.5,
        ..config
    })
    .unwrap_err();
    assert!(
        matches!(
            error,
            ConfigError::Negative {
                name: "momentum",
                ..
            }
        ),
        "{error}"
    );
}
