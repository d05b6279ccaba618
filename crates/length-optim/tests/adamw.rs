//! AdamW: hand-computed steps, the decay's place in `run_update_rule` and `update`.

mod common;

use common::two_steps::{self, adamw_reference};
use common::{assert_bits_eq, assert_close_to_f64, views, wiggle};
use length_autograd::{LayerId, LearningRate, Optimizer};
use length_optim::{Adam, AdamConfig, AdamW, AdamWConfig, ConfigError};
use length_tensor::Tensor;

fn check_two_steps(config: AdamWConfig) {
    let adam = AdamConfig {
        learning_rate: config.learning_rate,
        beta1: config.beta1,
        beta2: config.beta2,
        eps: config.eps,
    };
    let expected = adamw_reference(
        &adam,
        config.weight_decay,
        &two_steps::start(),
        &two_steps::gradients(),
    );

    let parameters = two_steps::run(&mut AdamW::new(config));
    for (step, parameter) in parameters.iter().enumerate() {
        assert_close_to_f64(parameter, &expected[step], 2.5e-7);
    }
}

#[test]
fn two_steps_match_the_formula() {
    check_two_steps(AdamWConfig {
        learning_rate: 0.01,
        weight_decay: 0.5,
        ..AdamWConfig::default()
    });
}

#[test]
fn two_steps_with_the_default_decay_match_the_formula() {
    check_two_steps(AdamWConfig::default());
}

#[test]
fn the_decay_is_decoupled_from_the_moments() {
    // With a zero gradient Adam's step is zero, so only the decay acts: p·(1 − η·λ) per step.
    let mut adamw = AdamW::new(AdamWConfig {
        learning_rate: 0.1,
        weight_decay: 0.5,
        ..AdamWConfig::default()
    });
    let layer = LayerId::fresh();
    let mut parameter = Tensor::from_elem(vec![2], 4.0f32);
    let gradient = Tensor::zeros(vec![2]);
    for expected in [3.8f32, 3.61] {
        adamw.update(&mut [parameter.view_mut()], &[gradient.view()], layer);
        assert!((parameter[0] - expected).abs() < 1e-6, "{parameter}");
    }
    // Then a gradient: the first moment has seen only zeros and this gradient.
    let plain = AdamConfig {
        learning_rate: 0.1,
        ..AdamConfig::default()
    };
    let mut reference = Adam::new(plain);
    let gradient = Tensor::from_elem(vec![2], 1.0f32);
    let zeros = Tensor::zeros(vec![2]);
    reference.run_update_rule(&[zeros.view()], layer);
    reference.run_update_rule(&[zeros.view()], layer);
    let adam_part = reference.run_update_rule(&[gradient.view()], layer);
    let complete = adamw.run_update_rule_with_decay(&[parameter.view()], &[gradient.view()], layer);
    let decay = 0.1f32 * 0.5 * parameter[0];
    assert_eq!(complete[0][0], decay + adam_part[0][0]);
}

#[test]
fn run_update_rule_is_exactly_adams() {
    let config = AdamWConfig {
        learning_rate: 0.003,
        beta1: 0.8,
        beta2: 0.99,
        eps: 1e-6,
        weight_decay: 0.1,
    };
    let mut adamw = AdamW::new(config);
    let mut adam = Adam::new(AdamConfig {
        learning_rate: 0.003,
        beta1: 0.8,
        beta2: 0.99,
        eps: 1e-6,
    });
    let layer = LayerId::fresh();
    for k in 0..3 {
        let gradients = [
            wiggle(&[3, 4], k, -1.0, 1.0),
            wiggle(&[4], 7 + k, -1.0, 1.0),
        ];
        let got = adamw.run_update_rule(&views(&gradients), layer);
        let expected = adam.run_update_rule(&views(&gradients), layer);
        for (g, e) in got.iter().zip(&expected) {
            assert_bits_eq(g.view(), e.view(), "AdamW::run_update_rule vs Adam");
        }
    }
    assert_eq!(adamw.steps(layer), 3);
}

#[test]
fn zero_decay_updates_exactly_like_adam() {
    let mut adamw = AdamW::new(AdamWConfig {
        weight_decay: 0.0,
        ..AdamWConfig::default()
    });
    let mut adam = Adam::default();
    let layer = LayerId::fresh();
    let mut p_adamw = wiggle(&[5, 6], 1, -1.0, 1.0);
    let mut p_adam = p_adamw.clone();
    for k in 0..3 {
        let gradient = wiggle(&[5, 6], 10 + k, -1.0, 1.0);
        adamw.update(&mut [p_adamw.view_mut()], &[gradient.view()], layer);
        adam.update(&mut [p_adam.view_mut()], &[gradient.view()], layer);
        assert_bits_eq(p_adamw.view(), p_adam.view(), "AdamW(λ = 0) vs Adam");
    }
}

#[test]
fn config_round_trips_and_errors() {
    let config = AdamWConfig::default();
    assert_eq!(config.weight_decay, 0.01);
    assert_eq!(config.learning_rate, 0.001);
    let mut adamw = AdamW::new(config);
    assert_eq!(adamw.config(), config);
    adamw.set_learning_rate(0.02);
    assert_eq!(adamw.learning_rate(), 0.02);
    assert_eq!(adamw.config().learning_rate, 0.02);

    let error = AdamW::try_new(AdamWConfig {
        weight_decay: -0.01,
        ..config
    })
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "AdamW: weight_decay must be a finite number >= 0, got -0.01"
    );
    let error = AdamW::try_new(AdamWConfig {
        beta1: 1.5,
        ..config
    })
    .unwrap_err();
    assert!(matches!(
        error,
        ConfigError::NotADecayRate {
            optimizer: "AdamW",
            name: "beta1",
            ..
        }
    ));
}
