//! The hand-computed example of the Adam, AdamW and momentum tests: a parameter of three elements
//! and the gradients of two steps, run through an optimizer's `update` and through the f64
//! formulas the tests write out.

use length_autograd::{LayerId, Optimizer};
use length_optim::AdamConfig;
use length_tensor::Tensor;

use super::values;

/// The parameter before the first step.
pub const START: [f32; 3] = [0.5, -1.0, 2.0];

/// The gradient of each step.
pub const GRADIENTS: [[f32; 3]; 2] = [[0.1, -0.2, 0.3], [-0.05, 0.4, 0.3]];

/// [`START`] in f64, as the reference formulas take it.
pub fn start() -> Vec<f64> {
    to_f64(&START)
}

/// [`GRADIENTS`] in f64, as the reference formulas take them.
pub fn gradients() -> Vec<Vec<f64>> {
    GRADIENTS.iter().map(|g| to_f64(g)).collect()
}

fn to_f64(xs: &[f32]) -> Vec<f64> {
    xs.iter().map(|&x| f64::from(x)).collect()
}

/// The parameter after each step, taking the steps with `optimizer.update` on one fresh layer.
pub fn run(optimizer: &mut impl Optimizer) -> Vec<Vec<f32>> {
    let layer = LayerId::fresh();
    let mut parameter = Tensor::from_shape_vec(vec![3], START.to_vec()).unwrap();
    GRADIENTS
        .iter()
        .map(|g| {
            let gradient = Tensor::from_shape_vec(vec![3], g.to_vec()).unwrap();
            optimizer.update(&mut [parameter.view_mut()], &[gradient.view()], layer);
            values(&parameter)
        })
        .collect()
}

/// PyTorch's AdamW written out in f64: `p ← p − η·λ·p`, then Adam's step (moments of `g` only).
/// With `weight_decay` 0 this is Adam, the formulas of `length_optim::adam`'s module docs.
/// Returns the parameter after each step.
pub fn adamw_reference(
    config: &AdamConfig,
    weight_decay: f32,
    parameter: &[f64],
    gradients: &[Vec<f64>],
) -> Vec<Vec<f64>> {
    let (beta1, beta2) = (f64::from(config.beta1), f64::from(config.beta2));
    let (learning_rate, eps) = (f64::from(config.learning_rate), f64::from(config.eps));
    let weight_decay = f64::from(weight_decay);
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
