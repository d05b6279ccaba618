//! AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay, in PyTorch's convention.
//!
//! With weight decay `λ`, each update first shrinks the parameter towards zero by `η·λ·p` (using
//! the parameter's value before this update), then takes the [Adam](crate::adam) step, whose
//! moments see only the gradient — the decay never enters `m` or `v`:
//!
//! ```text
//! m, v, adam_delta   as in Adam
//! delta = η · λ · p + adam_delta
//! p     ← p − delta
//! ```
//!
//! This is `torch.optim.AdamW`: mathematically `p ← p·(1 − η·λ)` followed by the Adam step
//! (we subtract the two terms in one rounding, so the last bit may differ from PyTorch's).
//! The decay applies to every parameter the layer hands over, biases included, as PyTorch's does
//! by default.
//!
//! # The decay needs the parameters
//!
//! LENGTH's [`Optimizer::run_update_rule`] sees only gradients, so it cannot compute `η·λ·p`.
//! Here it returns **the Adam part only** (exactly what [`Adam`] would return) and leaves the
//! decay out. The complete update is applied by [`Optimizer::update`], which sees the
//! parameters and is what the training loop calls; when you need the complete deltas instead,
//! call [`AdamW::run_update_rule_with_decay`]. Both give bit-identical results.
//!
//! ```
//! use length_autograd::{ElementwiseStep, LayerId, Optimizer};
//! use length_optim::{AdamW, AdamWConfig};
//! use ndarray::array;
//!
//! let mut adamw = AdamW::new(AdamWConfig { weight_decay: 0.5, ..AdamWConfig::default() });
//! let mut weights = array![2.0f32].into_dyn();
//! let gradient = array![0.0f32].into_dyn();
//!
//! // A zero gradient: Adam's step is zero, so only the decay η·λ·p = 0.001·0.5·2 acts.
//! adamw.update(&mut [weights.view_mut()], &[gradient.view()], LayerId::fresh());
//! assert_eq!(weights[0], 2.0 - 0.001 * 0.5 * 2.0);
//! ```

use length_autograd::{ElementwiseStep, LayerId, Optimizer};
use length_tensor::Tensor;
use ndarray::{ArrayViewD, ArrayViewMutD};

use crate::adam::{Adam, AdamConfig};
use crate::error::{ConfigError, non_negative};
use crate::state::assert_parameters_match;

/// Hyperparameters of [`AdamW`]: Adam's, plus the weight decay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWConfig {
    /// The step size `η`. Default 0.001.
    pub learning_rate: f32,
    /// Decay rate `β1` of the first moment. Default 0.9.
    pub beta1: f32,
    /// Decay rate `β2` of the second moment. Default 0.999.
    pub beta2: f32,
    /// `ε`, added to `√v̂` so the division is safe. Default 1e-8.
    pub eps: f32,
    /// The decoupled weight decay `λ`. Default 0.01 (PyTorch's).
    pub weight_decay: f32,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self::from_adam(&AdamConfig::default(), 0.01)
    }
}

impl AdamWConfig {
    /// `Ok` if the Adam hyperparameters are valid and the weight decay is finite and `>= 0`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.adam().validate_as("AdamW")?;
        non_negative("AdamW", "weight_decay", self.weight_decay)
    }

    /// Adam's hyperparameters with the weight decay `λ`.
    fn from_adam(adam: &AdamConfig, weight_decay: f32) -> Self {
        AdamWConfig {
            learning_rate: adam.learning_rate,
            beta1: adam.beta1,
            beta2: adam.beta2,
            eps: adam.eps,
            weight_decay,
        }
    }

    /// The hyperparameters of the Adam part: all but the weight decay.
    fn adam(&self) -> AdamConfig {
        AdamConfig {
            learning_rate: self.learning_rate,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
        }
    }
}

/// Adam with decoupled weight decay; see the [module docs](self) for the formula and for how
/// [`Optimizer::run_update_rule`] treats the decay.
#[derive(Debug, Clone)]
pub struct AdamW {
    /// The Adam part: moments, step counts, learning rate.
    adam: Adam,
    weight_decay: f32,
}

impl AdamW {
    /// An AdamW optimizer with the given hyperparameters.
    ///
    /// # Panics
    /// If the configuration is invalid; use [`AdamW::try_new`] for values from outside.
    pub fn new(config: AdamWConfig) -> Self {
        Self::try_new(config).unwrap_or_else(|error| panic!("{error}"))
    }

    /// An AdamW optimizer, or the reason the configuration is invalid.
    pub fn try_new(config: AdamWConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(AdamW {
            adam: Adam::new_unchecked(config.adam()),
            weight_decay: config.weight_decay,
        })
    }

    /// AdamW with the default betas, `ε` and weight decay (0.01) and the given learning rate.
    ///
    /// # Panics
    /// If `learning_rate` is negative or not finite.
    pub fn with_learning_rate(learning_rate: f32) -> Self {
        Self::new(AdamWConfig {
            learning_rate,
            ..AdamWConfig::default()
        })
    }

    /// The hyperparameters in use (the learning rate as last set).
    pub fn config(&self) -> AdamWConfig {
        AdamWConfig::from_adam(self.adam.config(), self.weight_decay)
    }

    /// How many updates `layer` has had; 0 for a layer never seen.
    pub fn steps(&self, layer: LayerId) -> u64 {
        self.adam.steps(layer)
    }

    /// The complete deltas, decay included: `η·λ·p + adam_delta` for each parameter `p`.
    /// Advances the layer's moments exactly as [`Optimizer::update`] does, and
    /// `p − delta` is bit-identical to what `update` would have stored.
    ///
    /// # Panics
    /// If `parameters` and `gradients` differ in number or shapes.
    pub fn run_update_rule_with_decay(
        &mut self,
        parameters: &[ArrayViewD<f32>],
        gradients: &[ArrayViewD<f32>],
        layer: LayerId,
    ) -> Vec<Tensor> {
        let mut deltas: Vec<Tensor> = parameters.iter().map(|p| p.to_owned()).collect();
        let mut views: Vec<ArrayViewMutD<f32>> = deltas.iter_mut().map(|d| d.view_mut()).collect();
        assert_parameters_match("AdamW::run_update_rule_with_decay", &views, gradients);
        let decay = self.decay_factor();
        // Each `delta` holds its parameter `p` on entry.
        self.adam
            .fused_step(&mut views, gradients, layer, move |delta, adam_delta| {
                *delta = decay * *delta + adam_delta
            });
        deltas
    }

    /// `η·λ`, the fraction of each parameter the decay removes per update.
    fn decay_factor(&self) -> f32 {
        self.adam.learning_rate() * self.weight_decay
    }
}

impl Default for AdamW {
    fn default() -> Self {
        Self::new(AdamWConfig::default())
    }
}

impl Optimizer for AdamW {
    /// **The Adam part only** (the decay needs the parameters, which this method does not see):
    /// advances the moments and returns what [`Adam`] would. See the [module docs](self);
    /// [`AdamW::run_update_rule_with_decay`] returns the complete deltas.
    fn run_update_rule(&mut self, gradients: &[ArrayViewD<f32>], layer: LayerId) -> Vec<Tensor> {
        self.adam.run_update_rule(gradients, layer)
    }

    /// `p ← p − (η·λ·p + adam_delta)`, advancing the moments, in one pass per parameter,
    /// allocating nothing after the layer's first update.
    fn update(
        &mut self,
        parameters: &mut [ArrayViewMutD<f32>],
        gradients: &[ArrayViewD<f32>],
        layer: LayerId,
    ) {
        assert_parameters_match("AdamW::update", parameters, gradients);
        let decay = self.decay_factor();
        self.adam
            .fused_step(parameters, gradients, layer, move |p, adam_delta| {
                *p -= decay * *p + adam_delta
            });
    }

    /// AdamW is element-wise, as Adam: `p ← p − (η·λ·p + adam_delta)` on pieces of the
    /// parameters as the weight-gradient product finishes them, bit-identical to `update`.
    fn begin_elementwise_step(
        &mut self,
        layer: LayerId,
        shapes: &[&[usize]],
    ) -> Option<Box<dyn ElementwiseStep + '_>> {
        let decay = self.decay_factor();
        let step = self
            .adam
            .elementwise_step(layer, shapes, move |p, adam_delta| {
                *p -= decay * *p + adam_delta
            });
        Some(step)
    }

    fn learning_rate(&self) -> f32 {
        self.adam.learning_rate()
    }

    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.adam.set_learning_rate(learning_rate);
    }
}
