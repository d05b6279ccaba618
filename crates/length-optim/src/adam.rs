//! Adam (Kingma & Ba, 2014), LENGTH's `Adam(learning_rate=0.001, beta1=0.9, beta2=0.999,
//! eps=1e-8)`, bias-corrected.
//!
//! Each parameter `p` has a first moment `m` and a second moment `v`, zero before the layer's
//! first update, and each layer counts its own updates `t` (1 on the first). With gradient `g`:
//!
//! ```text
//! m     ← β1 · m + (1 − β1) · g
//! v     ← β2 · v + (1 − β2) · g²
//! m̂     = m / (1 − β1ᵗ)
//! v̂     = v / (1 − β2ᵗ)
//! delta = η · m̂ / (√v̂ + ε)
//! p     ← p − delta
//! ```
//!
//! The element-wise arithmetic is arranged as PyTorch arranges it, with the two bias corrections
//! computed once per step (in `f64`), except that `√v` is multiplied by the reciprocal of
//! `√(1 − β2ᵗ)` instead of divided by it (one rounding apart; one division fewer per element):
//! `delta = (η / (1 − β1ᵗ)) · m / (√v · (1 / √(1 − β2ᵗ)) + ε)`.
//!
//! A first moment below 10⁻³⁰ and a subnormal second moment are set to zero: arithmetic on
//! subnormal numbers is slow on x86, and it changes no parameter by anything it can represent
//! (see `fused::flush_tiny`).
//!
//! State is kept per layer ([`LayerId`]), per parameter within the layer; two layers never share
//! moments or step counts.
//!
//! ```
//! use length_autograd::{ElementwiseStep, LayerId, Optimizer};
//! use length_optim::Adam;
//! use ndarray::array;
//!
//! let mut adam = Adam::default(); // η = 0.001
//! let layer = LayerId::fresh();
//! let gradient = array![0.5f32, -3.0].into_dyn();
//!
//! // The first bias-corrected step moves every parameter by about η, whatever the gradient's size.
//! let deltas = adam.run_update_rule(&[gradient.view()], layer);
//! assert!((deltas[0][0] - 0.001).abs() < 1e-7);
//! assert!((deltas[0][1] + 0.001).abs() < 1e-7);
//! assert_eq!(adam.steps(layer), 1);
//! ```

use std::collections::HashMap;

use length_autograd::{ElementwiseStep, LayerId, Optimizer};
use length_tensor::Tensor;
use ndarray::{ArrayViewD, ArrayViewMutD};

use crate::error::{ConfigError, decay_rate, non_negative};
use crate::fused::{self, flush_subnormal, flush_tiny};
use crate::state::{assert_parameters_match, assert_state_shapes, zeros_like, zeros_of_shapes};

/// Hyperparameters of [`Adam`]; the defaults are LENGTH's (and the paper's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamConfig {
    /// The step size `η`. Default 0.001.
    pub learning_rate: f32,
    /// Decay rate `β1` of the first moment. Default 0.9.
    pub beta1: f32,
    /// Decay rate `β2` of the second moment. Default 0.999.
    pub beta2: f32,
    /// `ε`, added to `√v̂` so the division is safe. Default 1e-8.
    pub eps: f32,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            learning_rate: 0.001,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

impl AdamConfig {
    /// `Ok` if the learning rate and `ε` are finite and `>= 0` and both betas are in `[0, 1)`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_as("Adam")
    }

    pub(crate) fn validate_as(&self, optimizer: &'static str) -> Result<(), ConfigError> {
        non_negative(optimizer, "learning_rate", self.learning_rate)?;
        decay_rate(optimizer, "beta1", self.beta1)?;
        decay_rate(optimizer, "beta2", self.beta2)?;
        non_negative(optimizer, "eps", self.eps)
    }
}

/// The Adam optimizer; see the [module docs](self) for the formula.
#[derive(Debug, Clone)]
pub struct Adam {
    config: AdamConfig,
    layers: HashMap<LayerId, LayerState>,
}

/// One layer's Adam state.
#[derive(Debug, Clone)]
struct LayerState {
    /// How many updates this layer has had: `t` of the bias corrections.
    steps: u64,
    /// `m`, one array per parameter.
    first_moments: Vec<Tensor>,
    /// `v`, one array per parameter.
    second_moments: Vec<Tensor>,
}

/// The scalar rule of one step. Every Adam and AdamW update goes through it (in
/// [`Adam::fused_step`]), so they all compute bit-identical deltas.
#[derive(Clone, Copy)]
struct Step {
    beta1: f32,
    one_minus_beta1: f32,
    beta2: f32,
    one_minus_beta2: f32,
    eps: f32,
    /// `η / (1 − β1ᵗ)`
    step_size: f32,
    /// `1 / √(1 − β2ᵗ)`: multiplying by it is several times cheaper than dividing by `√(1 − β2ᵗ)`
    /// in the per-element pass (one division per element instead of two).
    inverse_sqrt_bias_correction2: f32,
}

impl Step {
    /// The constants of step number `t` (1 on a layer's first update).
    fn new(config: &AdamConfig, t: u64) -> Self {
        // Bias corrections in f64: β2ᵗ stays accurate for large t, and they are computed once.
        let t = t as f64;
        let bias_correction1 = 1.0 - f64::from(config.beta1).powf(t);
        let bias_correction2 = 1.0 - f64::from(config.beta2).powf(t);
        Step {
            beta1: config.beta1,
            one_minus_beta1: 1.0 - config.beta1,
            beta2: config.beta2,
            one_minus_beta2: 1.0 - config.beta2,
            eps: config.eps,
            step_size: (f64::from(config.learning_rate) / bias_correction1) as f32,
            inverse_sqrt_bias_correction2: (1.0 / bias_correction2.sqrt()) as f32,
        }
    }

    /// Updates one parameter's moments and returns the delta to subtract from it.
    #[inline(always)]
    fn delta(self, m: &mut f32, v: &mut f32, g: f32) -> f32 {
        *m = flush_tiny(self.beta1 * *m + self.one_minus_beta1 * g);
        *v = flush_subnormal(self.beta2 * *v + self.one_minus_beta2 * (g * g));
        self.step_size * *m / (v.sqrt() * self.inverse_sqrt_bias_correction2 + self.eps)
    }
}

impl Adam {
    /// An Adam optimizer with the given hyperparameters.
    ///
    /// # Panics
    /// If the configuration is invalid; use [`Adam::try_new`] for values from outside.
    pub fn new(config: AdamConfig) -> Self {
        Self::try_new(config).unwrap_or_else(|error| panic!("{error}"))
    }

    /// An Adam optimizer, or the reason the configuration is invalid.
    pub fn try_new(config: AdamConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self::new_unchecked(config))
    }

    pub(crate) fn new_unchecked(config: AdamConfig) -> Self {
        Adam {
            config,
            layers: HashMap::new(),
        }
    }

    /// Adam with the default betas and `ε` and the given learning rate.
    ///
    /// # Panics
    /// If `learning_rate` is negative or not finite.
    pub fn with_learning_rate(learning_rate: f32) -> Self {
        Self::new(AdamConfig {
            learning_rate,
            ..AdamConfig::default()
        })
    }

    /// The hyperparameters in use (the learning rate as last set).
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }

    /// How many updates `layer` has had (`t` of its last step); 0 for a layer never seen.
    pub fn steps(&self, layer: LayerId) -> u64 {
        self.layers.get(&layer).map_or(0, |state| state.steps)
    }

    /// Counts one more update of `layer`, whose parameters have `shapes` (creating zero moments
    /// on its first update), and returns the step's constants with the layer's state.
    ///
    /// # Panics
    /// If the layer was updated before with parameters of other shapes.
    fn begin_step<'s>(
        &mut self,
        layer: LayerId,
        shapes: impl ExactSizeIterator<Item = &'s [usize]> + Clone,
    ) -> (Step, &mut LayerState) {
        let zeros = || zeros_of_shapes(shapes.clone());
        let state = self.layers.entry(layer).or_insert_with(|| LayerState {
            steps: 0,
            first_moments: zeros(),
            second_moments: zeros(),
        });
        assert_state_shapes("Adam", &state.first_moments, shapes, layer);
        state.steps += 1;
        (Step::new(&self.config, state.steps), state)
    }

    /// One Adam step for `layer`, as one fused pass per parameter: advances the layer's moments
    /// (zeros before its first update) and, for each element, calls `apply(output, adam_delta)`
    /// with the element of `outputs` and the Adam delta of the same element of `gradients`.
    ///
    /// Every update of Adam and AdamW is this pass; they differ only in what `outputs` holds
    /// (fresh deltas or the parameters) and in `apply` (store, subtract, decay and subtract).
    pub(crate) fn fused_step<A>(
        &mut self,
        outputs: &mut [ArrayViewMutD<f32>],
        gradients: &[ArrayViewD<f32>],
        layer: LayerId,
        apply: A,
    ) where
        A: Fn(&mut f32, f32) + Sync + Copy,
    {
        debug_assert_eq!(outputs.len(), gradients.len());
        let shapes = gradients.iter().map(|gradient| gradient.shape());
        let (step, state) = self.begin_step(layer, shapes);
        let moments = state
            .first_moments
            .iter_mut()
            .zip(&mut state.second_moments);
        for ((output, (m, v)), gradient) in outputs.iter_mut().zip(moments).zip(gradients) {
            fused::zip_3(
                output.view_mut(),
                m.view_mut(),
                v.view_mut(),
                gradient.view(),
                move |output, m, v, g| apply(output, step.delta(m, v, g)),
            );
        }
    }

    /// One Adam step for `layer` (parameters of `shapes`) to apply piece by piece
    /// ([`Optimizer::begin_elementwise_step`]), `apply(p, adam_delta)` for each element, as
    /// [`fused_step`](Adam::fused_step) would.
    pub(crate) fn elementwise_step<A>(
        &mut self,
        layer: LayerId,
        shapes: &[&[usize]],
        apply: A,
    ) -> Box<dyn ElementwiseStep + '_>
    where
        A: Fn(&mut f32, f32) + Sync + Copy + 'static,
    {
        let (step, state) = self.begin_step(layer, shapes.iter().copied());
        let moments = state
            .first_moments
            .iter_mut()
            .zip(&mut state.second_moments)
            .map(|(m, v)| (m.as_mut_ptr(), v.as_mut_ptr(), m.len()))
            .collect();
        Box::new(AdamStep {
            step,
            moments,
            apply,
        })
    }
}

/// One Adam (or AdamW) step applied piece by piece: the same arithmetic as
/// [`Adam::fused_step`] on the moments of the same elements, `apply(p, adam_delta)` for each.
struct AdamStep<A> {
    step: Step,
    /// Per parameter: its first and second moments (contiguous, row-major) and their length.
    moments: Vec<(*mut f32, *mut f32, usize)>,
    apply: A,
}

// SAFETY: `apply` touches the moments of the elements of its piece only, and the caller updates
// each element once per step (`ElementwiseStep`'s contract): threads never share an element. The
// moments outlive the step, which borrows the optimizer mutably.
unsafe impl<A: Sync> Sync for AdamStep<A> {}

impl<A> ElementwiseStep for AdamStep<A>
where
    A: Fn(&mut f32, f32) + Sync + Copy,
{
    fn apply(&self, index: usize, offset: usize, parameter: &mut [f32], gradient: &[f32]) {
        let (m, v, len) = self.moments[index];
        assert!(
            parameter.len() == gradient.len() && offset + parameter.len() <= len,
            "Adam: a piece of {} elements at {offset} of a parameter of {len}, gradient {}",
            parameter.len(),
            gradient.len()
        );
        // SAFETY: inside the moments (asserted), and no other piece covers these elements.
        let (m, v) = unsafe {
            (
                std::slice::from_raw_parts_mut(m.add(offset), parameter.len()),
                std::slice::from_raw_parts_mut(v.add(offset), parameter.len()),
            )
        };
        let (step, apply) = (self.step, self.apply);
        fused::slices_3(
            move |p, m, v, g| apply(p, step.delta(m, v, g)),
            parameter,
            m,
            v,
            gradient,
        );
    }
}

impl Default for Adam {
    fn default() -> Self {
        Self::new(AdamConfig::default())
    }
}

impl Optimizer for Adam {
    /// Advances the layer's moments by one step and returns one delta per gradient.
    fn run_update_rule(&mut self, gradients: &[ArrayViewD<f32>], layer: LayerId) -> Vec<Tensor> {
        let mut deltas = zeros_like(gradients);
        let mut views: Vec<ArrayViewMutD<f32>> = deltas.iter_mut().map(|d| d.view_mut()).collect();
        self.fused_step(&mut views, gradients, layer, |delta, adam_delta| {
            *delta = adam_delta
        });
        deltas
    }

    /// Advances the moments and updates the parameters in one pass per parameter, allocating
    /// nothing after the layer's first update.
    fn update(
        &mut self,
        parameters: &mut [ArrayViewMutD<f32>],
        gradients: &[ArrayViewD<f32>],
        layer: LayerId,
    ) {
        assert_parameters_match("Adam::update", parameters, gradients);
        self.fused_step(parameters, gradients, layer, |p, adam_delta| {
            *p -= adam_delta
        });
    }

    /// Adam is element-wise: a layer may apply the step to pieces of a parameter as the
    /// weight-gradient product finishes them (a band of rows at a time), which saves writing the
    /// gradient and reading it back: training steps of the 784-512-512-10 MLP ran 8-10 % faster
    /// on 2 threads and 16 % on one than with the separate pass (MNIST batches, alternating blocks
    /// of 16 steps, medians of ~900 steps). The moments are those of `update`, bit for bit.
    fn begin_elementwise_step(
        &mut self,
        layer: LayerId,
        shapes: &[&[usize]],
    ) -> Option<Box<dyn ElementwiseStep + '_>> {
        Some(self.elementwise_step(layer, shapes, |p, adam_delta| *p -= adam_delta))
    }

    fn learning_rate(&self) -> f32 {
        self.config.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.config.learning_rate = learning_rate;
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    #[test]
    fn first_moments_that_decay_below_1e_minus_30_become_zero() {
        // After one gradient of 1e-20, m = 1e-21 (and v = 1e-43, rounded to 0). With zero gradients
        // m decays by 0.9 a step: below 1e-30 after about 200 steps, where η·m (η = 0.001) is still
        // a normal number; unflushed, η·m would turn subnormal after about 300 steps and m itself
        // after about 400.
        let mut adam = Adam::default();
        let layer = LayerId::fresh();
        adam.run_update_rule(&[array![1e-20f32, 1.0].into_dyn().view()], layer);
        let zero = array![0.0f32, 0.0].into_dyn();
        for _ in 0..450 {
            let deltas = adam.run_update_rule(&[zero.view()], layer);
            let state = &adam.layers[&layer];
            let m = state.first_moments[0][0];
            assert!(m == 0.0 || m.abs() >= 1e-30, "a tiny first moment: {m:e}");
            assert!(!deltas[0][0].is_subnormal());
            assert!(!state.second_moments[0][0].is_subnormal());
        }
        let state = &adam.layers[&layer];
        assert_eq!(state.first_moments[0][0], 0.0);
        // The other element's moments are still normal numbers and keep decaying.
        assert!(state.first_moments[0][1] > 0.0 && state.second_moments[0][1] > 0.0);
    }
}
