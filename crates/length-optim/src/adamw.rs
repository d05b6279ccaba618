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
//! Here it returns **the Adam part only** (what [`Adam`] would return: the rule with `p = 0`) and
//! leaves the decay out. The complete update is applied by [`Optimizer::update`], which sees the
//! parameters and is what the training loop calls; when you need the complete deltas instead,
//! call [`AdamW::run_update_rule_with_decay`]. Both give bit-identical results.
//!
//! ```
//! use length_autograd::{LayerId, Optimizer};
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

#[cfg(doc)]
use length_autograd::Optimizer;
use length_autograd::{ElementwiseOptimizer, LayerId, LayerStates, LearningRate};
use length_tensor::Tensor;
use ndarray::ArrayViewD;

use crate::adam::{Adam, AdamConfig, AdamStep};
use crate::error::{ConfigError, non_negative};

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
    /// Advances the layer's moments exactly as [`Optimizer::update`]
    /// does, and `p − delta` is bit-identical to what `update` would have stored.
    ///
    /// # Panics
    /// If `parameters` and `gradients` differ in number or shapes.
    pub fn run_update_rule_with_decay(
        &mut self,
        parameters: &[ArrayViewD<f32>],
        gradients: &[ArrayViewD<f32>],
        layer: LayerId,
    ) -> Vec<Tensor> {
        self.run_update_rule_with_parameters(parameters, gradients, layer)
    }
}

impl Default for AdamW {
    fn default() -> Self {
        Self::new(AdamWConfig::default())
    }
}

impl ElementwiseOptimizer for AdamW {
    const NAME: &'static str = "AdamW";
    /// Adam's moments `m` and `v`.
    type State = [f32; 2];
    /// Adam's constants, and the decay `η·λ`.
    type Step = (AdamStep, f32);

    fn step(&self, t: u64) -> (AdamStep, f32) {
        let decay = self.adam.config().learning_rate * self.weight_decay;
        (self.adam.step(t), decay)
    }

    /// `η·λ·p + adam_delta`.
    #[inline(always)]
    fn delta((adam, decay): (AdamStep, f32), p: f32, g: f32, [m, v]: &mut [f32; 2]) -> f32 {
        let adam_delta = adam.delta(m, v, g);
        decay * p + adam_delta
    }

    fn layer_states(&self) -> &LayerStates {
        self.adam.layer_states()
    }

    fn layer_states_mut(&mut self) -> &mut LayerStates {
        self.adam.layer_states_mut()
    }
}

impl LearningRate for AdamW {
    fn learning_rate(&self) -> f32 {
        self.adam.learning_rate()
    }

    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.adam.set_learning_rate(learning_rate);
    }
}
