//! Stochastic gradient descent, LENGTH's `SGD(learning_rate)`.
//!
//! For each parameter `p` with gradient `g` and learning rate `η`:
//!
//! ```text
//! delta = η · g
//! p     ← p − delta
//! ```
//!
//! It keeps no state per element; [`ElementwiseOptimizer`] derives LENGTH's `run_update_rule`,
//! the in-place `update` and the step fused into the weight-gradient product from the rule.
//!
//! ```
//! use length_autograd::{LayerId, Optimizer};
//! use length_optim::Sgd;
//! use ndarray::array;
//!
//! let mut sgd = Sgd::with_learning_rate(0.5);
//! let gradient = array![1.0f32, -2.0].into_dyn();
//!
//! // LENGTH's interface: deltas for the layer to subtract.
//! let deltas = sgd.run_update_rule(&[gradient.view()], LayerId::fresh());
//! assert_eq!(deltas[0], array![0.5f32, -1.0].into_dyn());
//!
//! // The in-place, fused form the training loop uses.
//! let mut weights = array![1.0f32, 1.0].into_dyn();
//! sgd.update(&mut [weights.view_mut()], &[gradient.view()], LayerId::fresh());
//! assert_eq!(weights, array![0.5f32, 2.0].into_dyn());
//! ```

use length_autograd::{ElementwiseOptimizer, LayerStates, LearningRate};

use crate::error::{ConfigError, non_negative};

/// Hyperparameters of [`Sgd`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SgdConfig {
    /// The step size `η`. Default 0.1, the course's setting for the MNIST MLP.
    pub learning_rate: f32,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig { learning_rate: 0.1 }
    }
}

impl SgdConfig {
    /// `Ok` if every hyperparameter is in range (the learning rate finite and `>= 0`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        non_negative("SGD", "learning_rate", self.learning_rate)
    }
}

/// Plain stochastic gradient descent: `p ← p − η·g`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sgd {
    config: SgdConfig,
    /// How many updates each layer has had.
    states: LayerStates,
}

impl Sgd {
    /// An SGD optimizer with the given hyperparameters.
    ///
    /// # Panics
    /// If the configuration is invalid; use [`Sgd::try_new`] for values from outside.
    pub fn new(config: SgdConfig) -> Self {
        Self::try_new(config).unwrap_or_else(|error| panic!("{error}"))
    }

    /// An SGD optimizer, or the reason the configuration is invalid.
    pub fn try_new(config: SgdConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Sgd {
            config,
            states: LayerStates::new(),
        })
    }

    /// LENGTH's `SGD(learning_rate)`.
    ///
    /// # Panics
    /// If `learning_rate` is negative or not finite.
    pub fn with_learning_rate(learning_rate: f32) -> Self {
        Self::new(SgdConfig { learning_rate })
    }

    /// The hyperparameters in use (the learning rate as last set).
    pub fn config(&self) -> &SgdConfig {
        &self.config
    }
}

impl Default for Sgd {
    fn default() -> Self {
        Self::new(SgdConfig::default())
    }
}

impl ElementwiseOptimizer for Sgd {
    const NAME: &'static str = "SGD";
    type State = [f32; 0];
    /// The learning rate `η`.
    type Step = f32;

    fn step(&self, _t: u64) -> f32 {
        self.config.learning_rate
    }

    /// `delta = η · g`.
    #[inline(always)]
    fn delta(learning_rate: f32, _p: f32, g: f32, _state: &mut [f32; 0]) -> f32 {
        learning_rate * g
    }

    /// `delta` is `η · g`: the step runs in the weight-gradient product's microkernel.
    fn descent_rate(learning_rate: f32) -> Option<f32> {
        Some(learning_rate)
    }

    fn layer_states(&self) -> &LayerStates {
        &self.states
    }

    fn layer_states_mut(&mut self) -> &mut LayerStates {
        &mut self.states
    }
}

impl LearningRate for Sgd {
    fn learning_rate(&self) -> f32 {
        self.config.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.config.learning_rate = learning_rate;
    }
}
