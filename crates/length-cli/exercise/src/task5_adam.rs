//! # Task 5 (bonus): Adam
//!
//! Adam (Kingma & Ba, 2015) gives every parameter its own step size. It keeps, per parameter
//! element, a running mean of the gradient `m` (the first moment, like momentum) and of the
//! squared gradient `v` (the second moment), and steps by their ratio. In step `t` = 1, 2, …
//! of a layer, for each gradient `g`:
//!
//! ```text
//! m     = β₁ · m + (1 − β₁) · g                  m and v start at zero, one pair per parameter
//! v     = β₂ · v + (1 − β₂) · g²
//! m̂     = m / (1 − β₁ᵗ)                          bias correction: m and v start at zero, so
//! v̂     = v / (1 − β₂ᵗ)                          early on they are too small; this undoes that
//! delta = learning_rate · m̂ / (√v̂ + ε)
//! ```
//!
//! with LENGTH's defaults `learning_rate = 0.001`, `β₁ = 0.9`, `β₂ = 0.999`, `ε = 1e-8`.
//!
//! Unlike SGD, Adam has *state*, and the state belongs to one layer: a network of three layers
//! has three step counts and three sets of `m` and `v`. The [`LayerId`] handed to
//! `run_update_rule` says whose gradients these are; [`Adam`] keeps an [`AdamState`] per layer
//! in a `HashMap`.
//!
//! The library's `length_optim::Adam` states the same rule through `ElementwiseOptimizer`: the
//! delta of one element, with that element's `[m, v]` as its state, while the library keeps the
//! per-layer state and the step count for it. Here you write the whole of it, as LENGTH does.
//!
//! Hints from the notebook, in our words:
//! - `self.states.entry(layer).or_insert_with(|| ...)` gets a layer's state, creating it (with
//!   zero moments of the gradients' shapes) on the layer's first step.
//! - Count the step *before* computing the corrections: the first step has `t = 1`.
//! - `beta.powi(t)` is βᵗ. `ndarray::Zip` updates `m` and `v` in place and computes the delta in
//!   one walk over the elements.
//!
//! Test it: `cargo test --release task5`.

use std::collections::HashMap;

use length_autograd::{LayerId, LearningRate, Optimizer};
use length_tensor::Tensor;
use ndarray::{ArrayViewD, Zip};

/// What Adam remembers about one layer.
#[derive(Debug, Clone, Default)]
pub struct AdamState {
    /// How many updates this layer has had.
    pub step: i32,
    /// The first moments, one array per parameter (of the parameter's shape).
    pub m: Vec<Tensor>,
    /// The second moments, one array per parameter.
    pub v: Vec<Tensor>,
}

/// The Adam optimizer with bias correction, LENGTH's `Adam`.
///
/// ```
/// use length_autograd::{LayerId, Optimizer};
/// use length_exercise::Adam;
/// use ndarray::array;
///
/// let mut adam = Adam::new(0.001);
/// let gradient = array![0.5f32, -0.25].into_dyn();
/// let deltas = adam.run_update_rule(&[gradient.view()], LayerId::fresh());
/// // The first step is about learning_rate · sign(gradient).
/// assert!((deltas[0][0] - 0.001).abs() < 1e-6 && (deltas[0][1] + 0.001).abs() < 1e-6);
/// ```
#[derive(Debug, Clone)]
pub struct Adam {
    /// The step size (0.001).
    pub learning_rate: f32,
    /// The decay of the first moment (0.9).
    pub beta1: f32,
    /// The decay of the second moment (0.999).
    pub beta2: f32,
    /// Added to `√v̂` so the step never divides by zero (1e-8).
    pub eps: f32,
    /// Each layer's state, by the layer's id.
    pub states: HashMap<LayerId, AdamState>,
}

impl Adam {
    /// Adam with the given learning rate and LENGTH's other defaults.
    pub fn new(learning_rate: f32) -> Self {
        Adam {
            learning_rate,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            states: HashMap::new(),
        }
    }
}

impl Default for Adam {
    fn default() -> Self {
        Adam::new(0.001)
    }
}

impl Optimizer for Adam {
    /// Updates `layer`'s moments with `gradients` and returns one delta per gradient.
    fn run_update_rule(&mut self, gradients: &[ArrayViewD<f32>], layer: LayerId) -> Vec<Tensor> {
        // SOLUTION BEGIN Task 5: count the layer's step, update its m and v, return the bias-corrected deltas
        let (learning_rate, beta1, beta2, eps) =
            (self.learning_rate, self.beta1, self.beta2, self.eps);
        let state = self.states.entry(layer).or_insert_with(|| AdamState {
            step: 0,
            m: gradients
                .iter()
                .map(|g| Tensor::zeros(g.raw_dim()))
                .collect(),
            v: gradients
                .iter()
                .map(|g| Tensor::zeros(g.raw_dim()))
                .collect(),
        });
        state.step += 1;
        let m_correction = 1.0 - beta1.powi(state.step);
        let v_correction = 1.0 - beta2.powi(state.step);
        gradients
            .iter()
            .zip(state.m.iter_mut().zip(state.v.iter_mut()))
            .map(|(gradient, (m, v))| {
                Zip::from(m).and(v).and(gradient).map_collect(|m, v, &g| {
                    *m = beta1 * *m + (1.0 - beta1) * g;
                    *v = beta2 * *v + (1.0 - beta2) * g * g;
                    let m_hat = *m / m_correction;
                    let v_hat = *v / v_correction;
                    learning_rate * m_hat / (v_hat.sqrt() + eps)
                })
            })
            .collect()
        // SOLUTION END
    }
}

/// The learning rate, which the schedule changes between epochs.
impl LearningRate for Adam {
    fn learning_rate(&self) -> f32 {
        self.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.learning_rate = learning_rate;
    }
}
