//! SGD with momentum, optionally Nesterov's, in PyTorch's convention.
//!
//! Each parameter `p` has a velocity `v`, zero before the layer's first update. With gradient
//! `g`, learning rate `η` and momentum `μ`:
//!
//! ```text
//! v     ← μ · v + g
//! delta = η · v                 (classical momentum)
//! delta = η · (g + μ · v)       (Nesterov, with the new v)
//! p     ← p − delta
//! ```
//!
//! This is `torch.optim.SGD(momentum=μ, nesterov=…)` with no dampening and no weight decay: the
//! velocity accumulates raw gradients and the learning rate scales the step, so changing `η`
//! mid-training takes effect at once. (The other common convention, `v ← μ·v + η·g`, folds the
//! learning rate into the velocity; the two agree while `η` is constant.)
//!
//! Velocities are kept per layer ([`LayerId`]) and per parameter within the layer. A velocity
//! that decays below 10⁻³⁰ is set to zero (see `fused::flush_tiny`).
//!
//! ```
//! use length_autograd::{LayerId, Optimizer};
//! use length_optim::Momentum;
//! use ndarray::array;
//!
//! let mut momentum = Momentum::with_learning_rate(0.1); // μ = 0.9
//! let layer = LayerId::fresh();
//! let gradient = array![1.0f32].into_dyn();
//!
//! let first = momentum.run_update_rule(&[gradient.view()], layer);
//! assert_eq!(first[0][0], 0.1); // v = 1
//! let second = momentum.run_update_rule(&[gradient.view()], layer);
//! assert_eq!(second[0][0], 0.1 * (0.9 + 1.0)); // v = 0.9·1 + 1
//! ```

#[cfg(doc)]
use length_autograd::LayerId;
use length_autograd::{ElementwiseOptimizer, LayerStates, LearningRate};

use crate::error::{ConfigError, non_negative};
use crate::flush::flush_tiny;

/// Hyperparameters of [`Momentum`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MomentumConfig {
    /// The step size `η`. Default 0.01 (with `μ = 0.9` the steady-state step is `η/(1−μ)`, ten
    /// times as large).
    pub learning_rate: f32,
    /// The momentum `μ`: how much of the previous velocity is kept. Default 0.9.
    pub momentum: f32,
    /// Use Nesterov's look-ahead step `η·(g + μ·v)` instead of `η·v`. Default `false`.
    pub nesterov: bool,
}

impl Default for MomentumConfig {
    fn default() -> Self {
        MomentumConfig {
            learning_rate: 0.01,
            momentum: 0.9,
            nesterov: false,
        }
    }
}

impl MomentumConfig {
    /// `Ok` if the learning rate and momentum are finite and `>= 0`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        non_negative("Momentum", "learning_rate", self.learning_rate)?;
        non_negative("Momentum", "momentum", self.momentum)
    }
}

/// SGD with (optionally Nesterov) momentum; see the [module docs](self) for the formula.
#[derive(Debug, Clone)]
pub struct Momentum {
    config: MomentumConfig,
    /// One velocity array per parameter, per layer.
    velocities: LayerStates,
}

impl Momentum {
    /// A momentum optimizer with the given hyperparameters.
    ///
    /// # Panics
    /// If the configuration is invalid; use [`Momentum::try_new`] for values from outside.
    pub fn new(config: MomentumConfig) -> Self {
        Self::try_new(config).unwrap_or_else(|error| panic!("{error}"))
    }

    /// A momentum optimizer, or the reason the configuration is invalid.
    pub fn try_new(config: MomentumConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Momentum {
            config,
            velocities: LayerStates::new(),
        })
    }

    /// Classical momentum `μ = 0.9` with the given learning rate.
    ///
    /// # Panics
    /// If `learning_rate` is negative or not finite.
    pub fn with_learning_rate(learning_rate: f32) -> Self {
        Self::new(MomentumConfig {
            learning_rate,
            ..MomentumConfig::default()
        })
    }

    /// Nesterov momentum with the given learning rate and momentum `μ`.
    ///
    /// # Panics
    /// If either value is negative or not finite.
    pub fn nesterov(learning_rate: f32, momentum: f32) -> Self {
        Self::new(MomentumConfig {
            learning_rate,
            momentum,
            nesterov: true,
        })
    }

    /// The hyperparameters in use (the learning rate as last set).
    pub fn config(&self) -> &MomentumConfig {
        &self.config
    }
}

impl Default for Momentum {
    fn default() -> Self {
        Self::new(MomentumConfig::default())
    }
}

impl ElementwiseOptimizer for Momentum {
    const NAME: &'static str = "Momentum";
    /// The velocity `v`.
    type State = [f32; 1];
    /// The hyperparameters.
    type Step = MomentumConfig;

    fn step(&self, _t: u64) -> MomentumConfig {
        self.config
    }

    /// `v ← μ·v + g`, then `η·v` (or Nesterov's `η·(g + μ·v)`).
    #[inline(always)]
    fn delta(config: MomentumConfig, _p: f32, g: f32, [velocity]: &mut [f32; 1]) -> f32 {
        *velocity = flush_tiny(config.momentum * *velocity + g);
        if config.nesterov {
            config.learning_rate * (g + config.momentum * *velocity)
        } else {
            config.learning_rate * *velocity
        }
    }

    fn layer_states(&self) -> &LayerStates {
        &self.velocities
    }

    fn layer_states_mut(&mut self) -> &mut LayerStates {
        &mut self.velocities
    }
}

impl LearningRate for Momentum {
    fn learning_rate(&self) -> f32 {
        self.config.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.config.learning_rate = learning_rate;
    }
}
