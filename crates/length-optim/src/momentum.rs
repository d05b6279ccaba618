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
//! use length_autograd::{ElementwiseStep, LayerId, Optimizer};
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

use std::collections::HashMap;

use length_autograd::{ElementwiseStep, LayerId, Optimizer};
use length_tensor::Tensor;
use ndarray::{ArrayViewD, ArrayViewMutD};

use crate::error::{ConfigError, non_negative};
use crate::fused::{self, flush_tiny};
use crate::state::{assert_parameters_match, assert_state_shapes, zeros_of_shapes};

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
    velocities: HashMap<LayerId, Vec<Tensor>>,
}

/// The scalar rule, shared by [`Optimizer::run_update_rule`] and [`Optimizer::update`] so both
/// compute bit-identical deltas.
#[derive(Clone, Copy)]
struct Step {
    learning_rate: f32,
    momentum: f32,
    nesterov: bool,
}

impl Step {
    /// Updates one velocity and returns the delta to subtract from its parameter.
    #[inline(always)]
    fn delta(self, velocity: &mut f32, g: f32) -> f32 {
        *velocity = flush_tiny(self.momentum * *velocity + g);
        if self.nesterov {
            self.learning_rate * (g + self.momentum * *velocity)
        } else {
            self.learning_rate * *velocity
        }
    }
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
            velocities: HashMap::new(),
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

    fn step(&self) -> Step {
        Step {
            learning_rate: self.config.learning_rate,
            momentum: self.config.momentum,
            nesterov: self.config.nesterov,
        }
    }

    /// The layer's velocities, one per parameter of `shapes`, created as zeros on its first
    /// update.
    fn velocities_for<'s>(
        &mut self,
        shapes: impl ExactSizeIterator<Item = &'s [usize]> + Clone,
        layer: LayerId,
    ) -> &mut [Tensor] {
        let velocities = self
            .velocities
            .entry(layer)
            .or_insert_with(|| zeros_of_shapes(shapes.clone()));
        assert_state_shapes("Momentum", velocities, shapes, layer);
        velocities
    }
}

impl Default for Momentum {
    fn default() -> Self {
        Self::new(MomentumConfig::default())
    }
}

impl Optimizer for Momentum {
    /// Advances the layer's velocities and returns one delta per gradient.
    fn run_update_rule(&mut self, gradients: &[ArrayViewD<f32>], layer: LayerId) -> Vec<Tensor> {
        let step = self.step();
        let velocities = self.velocities_for(gradients.iter().map(|g| g.shape()), layer);
        velocities
            .iter_mut()
            .zip(gradients)
            .map(|(velocity, gradient)| {
                let mut delta = Tensor::zeros(gradient.raw_dim());
                fused::zip_2(
                    delta.view_mut(),
                    velocity.view_mut(),
                    gradient.view(),
                    move |delta, v, g| *delta = step.delta(v, g),
                );
                delta
            })
            .collect()
    }

    /// Advances the velocities and updates the parameters in one pass per parameter.
    fn update(
        &mut self,
        parameters: &mut [ArrayViewMutD<f32>],
        gradients: &[ArrayViewD<f32>],
        layer: LayerId,
    ) {
        assert_parameters_match("Momentum::update", parameters, gradients);
        let step = self.step();
        let velocities = self.velocities_for(gradients.iter().map(|g| g.shape()), layer);
        for ((parameter, velocity), gradient) in
            parameters.iter_mut().zip(velocities).zip(gradients)
        {
            fused::zip_2(
                parameter.view_mut(),
                velocity.view_mut(),
                gradient.view(),
                move |p, v, g| *p -= step.delta(v, g),
            );
        }
    }

    /// Momentum is element-wise: a layer may apply the step to pieces of a parameter as the
    /// weight-gradient product finishes them, bit-identical to `update`.
    fn begin_elementwise_step(
        &mut self,
        layer: LayerId,
        shapes: &[&[usize]],
    ) -> Option<Box<dyn ElementwiseStep + '_>> {
        let step = self.step();
        let velocities = self
            .velocities_for(shapes.iter().copied(), layer)
            .iter_mut()
            .map(|velocity| (velocity.as_mut_ptr(), velocity.len()))
            .collect();
        Some(Box::new(MomentumStep { step, velocities }))
    }

    fn learning_rate(&self) -> f32 {
        self.config.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.config.learning_rate = learning_rate;
    }
}

/// One momentum step applied piece by piece: the same arithmetic as
/// [`Momentum::update`](Optimizer::update) on the velocities of the same elements.
struct MomentumStep {
    step: Step,
    /// Per parameter: its velocities (contiguous, row-major) and their length.
    velocities: Vec<(*mut f32, usize)>,
}

// SAFETY: `apply` touches the velocities of the elements of its piece only, and the caller
// updates each element once per step (`ElementwiseStep`'s contract): threads never share an
// element. The velocities outlive the step, which borrows the optimizer mutably.
unsafe impl Sync for MomentumStep {}

impl ElementwiseStep for MomentumStep {
    fn apply(&self, index: usize, offset: usize, parameter: &mut [f32], gradient: &[f32]) {
        let (velocity, len) = self.velocities[index];
        assert!(
            parameter.len() == gradient.len() && offset + parameter.len() <= len,
            "Momentum: a piece of {} elements at {offset} of a parameter of {len}, gradient {}",
            parameter.len(),
            gradient.len()
        );
        // SAFETY: inside the velocities (asserted), and no other piece covers these elements.
        let velocity =
            unsafe { std::slice::from_raw_parts_mut(velocity.add(offset), parameter.len()) };
        let step = self.step;
        fused::slices_2(
            move |p, v, g| *p -= step.delta(v, g),
            parameter,
            velocity,
            gradient,
        );
    }
}
