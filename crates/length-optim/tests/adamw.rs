//! AdamW: hand-computed steps, the decay's place in `run_update_rule` and `update`.

mod common;

use common::{assert_bits_eq, assert_close_to_f64, values, views, wiggle};
use length_autograd::{LayerId, Optimizer};
use length_optim::{Adam, AdamConfig, AdamW, AdamWConfig, ConfigError};
use length_tensor::Tensor;

/// PyTorch's AdamW written out in f64: `p ← p − η·λ·p`, then Adam's step (moments of `g` only).
fn adamw_reference(
    config: &AdamWConfig,
    parameter: &[f64],
    gradients: &[Vec<f64>],
) -> Vec<Vec<f64>> {
    let (beta1, beta2) = (f64::from(config.beta1), f64::from(config.beta2));
    let (learning_rate, eps) = (f64::from(config.learning_rate), f64::from(config.eps));
    let weight_decay = f64::from(config.weight_decay);
    let mut p = parameter.to_vec();
    let mut m = vec![0.0; p.len()];
    let mut v = vec![0.0; p.len()];
    let mut history = Vec::new();
    for (step, g) in gradients.iter().enumerate() {
        let t = (step + 1) as i32;
        for i in 0..p.len() {
            p[i] -= learning_rate * weight_decay * p[i];
            m[i] = beta1 * m[i] + (1.0 - beta1) * g[i];
            v[i] = beta2 * v[i] + (1.0 - beta2) * g[i] * g[i];
            let m_hat = m[i] / (1.0 - beta1.powi(t));
            let v_hat = v[i] / (1.0 - beta2.powi(t));
            p[i] -= learning_rate * m_hat / (v_hat.sqrt() + eps);
        }
        history.push(p.clone());
    }
    history
}

fn check_two_steps(config: AdamWConfig) {
    let start = [0.5f32, -1.0, 2.0];
    let steps = [[0.1f32, -0.2, 0.3], [-0.05, 0.4, 0.3]];
    let to_f64 = |xs: &[f32]| xs.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>();
    let gradients: Vec<Vec<f64>> = steps.iter().map(|g| to_f64(g)).collect();
    let expected = adamw_reference(&config, &to_f64(&start), &gradients);

    let mut adamw = AdamW::new(config);
    let layer = LayerId::fresh();
    let mut parameter = Tensor::from_shape_vec(vec![3], start.to_vec()).unwrap();
    for (step, g) in steps.iter().enumerate() {
        let gradient = Tensor::from_shape_vec(vec![3], g.to_vec()).unwrap();
        adamw.update(&mut [parameter.view_mut()], &[gradient.view()], layer);
        assert_close_to_f64(&values(&parameter), &expected[step], 2.5e-7);
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
