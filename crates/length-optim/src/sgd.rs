//! Stochastic gradient descent, LENGTH's `SGD(learning_rate)`.
//!
//! For each parameter `p` with gradient `g` and learning rate `η`:
//!
//! ```text
//! delta = η · g
//! p     ← p − delta
//! ```
//!
//! It keeps no state, so [`LayerId`]s play no part.
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

use length_autograd::{ElementwiseStep, LayerId, Optimizer};
use length_tensor::Tensor;
use ndarray::{ArrayViewD, ArrayViewMutD};

use crate::error::{ConfigError, non_negative};
use crate::fused;
use crate::state::assert_parameters_match;

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
        Ok(Sgd { config })
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

impl Optimizer for Sgd {
    /// Returns `η · g` for every gradient `g`.
    fn run_update_rule(&mut self, gradients: &[ArrayViewD<f32>], _layer: LayerId) -> Vec<Tensor> {
        let learning_rate = self.config.learning_rate;
        gradients
            .iter()
            .map(|gradient| {
                let mut delta = Tensor::zeros(gradient.raw_dim());
                fused::zip_1(delta.view_mut(), gradient.view(), move |delta, g| {
                    *delta = learning_rate * g;
                });
                delta
            })
            .collect()
    }

    /// `p ← p − η·g` in one pass per parameter, allocating nothing.
    fn update(
        &mut self,
        parameters: &mut [ArrayViewMutD<f32>],
        gradients: &[ArrayViewD<f32>],
        _layer: LayerId,
    ) {
        assert_parameters_match("SGD::update", parameters, gradients);
        let learning_rate = self.config.learning_rate;
        for (parameter, gradient) in parameters.iter_mut().zip(gradients) {
            fused::zip_1(parameter.view_mut(), gradient.view(), move |p, g| {
                *p -= learning_rate * g;
            });
        }
    }

    /// SGD is element-wise: a layer may apply `p -= η * g` to each piece of a parameter as its
    /// gradient is computed.
    fn begin_elementwise_step(
        &mut self,
        _layer: LayerId,
        _shapes: &[&[usize]],
    ) -> Option<Box<dyn ElementwiseStep + '_>> {
        Some(Box::new(SgdStep {
            learning_rate: self.config.learning_rate,
        }))
    }

    fn learning_rate(&self) -> f32 {
        self.config.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.config.learning_rate = learning_rate;
    }
}

/// One SGD step applied piece by piece: `p -= η * g`, as [`Sgd::update`](Optimizer::update).
struct SgdStep {
    learning_rate: f32,
}

impl ElementwiseStep for SgdStep {
    fn apply(&self, _index: usize, _offset: usize, parameter: &mut [f32], gradient: &[f32]) {
        assert_eq!(
            parameter.len(),
            gradient.len(),
            "SGD: piece and gradient differ"
        );
        let learning_rate = self.learning_rate;
        fused::slices_1(move |p, g| *p -= learning_rate * g, parameter, gradient);
    }
}
