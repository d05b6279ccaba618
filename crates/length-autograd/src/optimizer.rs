//! The contract between a layer and the optimizer that trains it.
//!
//! As in LENGTH, a layer hands its parameter gradients to the optimizer during the backward pass
//! and applies the deltas it gets back: `new = old - delta`. An optimizer that keeps state per
//! layer (Adam's moment estimates, momentum's velocity) tells layers apart by their [`LayerId`].

use std::sync::atomic::{AtomicU64, Ordering};

use length_tensor::Tensor;
use ndarray::{ArrayViewD, ArrayViewMutD};

/// A process-unique name for one layer's parameters, so an optimizer can keep state per layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LayerId(u64);

impl LayerId {
    /// A new id, different from every other id handed out in this process.
    ///
    /// ```
    /// use length_autograd::LayerId;
    /// assert_ne!(LayerId::fresh(), LayerId::fresh());
    /// ```
    pub fn fresh() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        LayerId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// An update rule: turns a layer's parameter gradients into the deltas that train it.
///
/// Implement [`run_update_rule`](Optimizer::run_update_rule) (LENGTH's method); override
/// [`update`](Optimizer::update) too when the rule can be applied in place in one fused pass per
/// parameter array, which is how the training loop calls it.
pub trait Optimizer {
    /// LENGTH's update rule: given one layer's parameter gradients (in the layer's parameter
    /// order), return one delta per parameter, each of the gradient's shape. The layer then sets
    /// `parameter = parameter - delta`.
    fn run_update_rule(&mut self, gradients: &[ArrayViewD<f32>], layer: LayerId) -> Vec<Tensor>;

    /// Applies the rule in place: `parameters[i] -= delta_i`. The default calls
    /// [`run_update_rule`](Optimizer::run_update_rule) and subtracts; optimizers override it with a
    /// fused pass that allocates nothing.
    ///
    /// # Panics
    /// If `parameters` and `gradients` differ in number or shapes.
    fn update(
        &mut self,
        parameters: &mut [ArrayViewMutD<f32>],
        gradients: &[ArrayViewD<f32>],
        layer: LayerId,
    ) {
        assert_eq!(
            parameters.len(),
            gradients.len(),
            "Optimizer::update: {} parameters but {} gradients",
            parameters.len(),
            gradients.len()
        );
        let deltas = self.run_update_rule(gradients, layer);
        for (parameter, delta) in parameters.iter_mut().zip(&deltas) {
            assert_eq!(
                parameter.shape(),
                delta.shape(),
                "Optimizer::update: parameter is {:?} but delta is {:?}",
                parameter.shape(),
                delta.shape()
            );
            *parameter -= delta;
        }
    }

    /// Begins one update of `layer`, whose parameters have `shapes`, for the layer to apply
    /// piece by piece while it computes the gradients ([`ElementwiseStep`]), or `None` (the
    /// default) to be handed whole gradients by [`update`](Optimizer::update).
    ///
    /// An optimizer whose rule is element-wise (each parameter element's new value depends only on
    /// its own gradient and state) may return `Some`: a fully connected layer then applies the
    /// step to its weights a few rows at a time, as the weight-gradient product finishes them,
    /// and the gradient never reaches memory (SGD, Momentum, Adam and AdamW do). The result is
    /// bit-identical to [`update`](Optimizer::update), and the step counts as one update of the
    /// layer.
    fn begin_elementwise_step(
        &mut self,
        layer: LayerId,
        shapes: &[&[usize]],
    ) -> Option<Box<dyn ElementwiseStep + '_>> {
        let _ = (layer, shapes);
        None
    }

    /// The current learning rate.
    fn learning_rate(&self) -> f32;

    /// Sets the learning rate, as a schedule does between epochs.
    fn set_learning_rate(&mut self, learning_rate: f32);
}

/// One update of one layer by an element-wise optimizer, applied by the layer to pieces of its
/// parameters (see [`Optimizer::begin_elementwise_step`]).
///
/// ```
/// use length_autograd::{LayerId, Optimizer};
/// # use length_autograd::ElementwiseStep;
/// # struct Halve;
/// # impl ElementwiseStep for Halve {
/// #     fn apply(&self, _: usize, _: usize, p: &mut [f32], g: &[f32]) {
/// #         for (p, g) in p.iter_mut().zip(g) { *p -= 0.5 * g; }
/// #     }
/// # }
/// # struct Plain;
/// # impl Optimizer for Plain {
/// #     fn run_update_rule(&mut self, g: &[ndarray::ArrayViewD<f32>], _: LayerId) -> Vec<length_tensor::Tensor> {
/// #         g.iter().map(|g| g.mapv(|g| 0.5 * g)).collect()
/// #     }
/// #     fn begin_elementwise_step(&mut self, _: LayerId, _: &[&[usize]]) -> Option<Box<dyn ElementwiseStep + '_>> {
/// #         Some(Box::new(Halve))
/// #     }
/// #     fn learning_rate(&self) -> f32 { 0.5 }
/// #     fn set_learning_rate(&mut self, _: f32) {}
/// # }
/// let mut optimizer = Plain; // p -= 0.5 · g, element by element
/// let layer = LayerId::fresh();
/// let step = optimizer.begin_elementwise_step(layer, &[&[2, 2]]).expect("element-wise");
/// let mut weights = [1.0f32, 1.0, 1.0, 1.0];
/// step.apply(0, 0, &mut weights[..2], &[2.0, 4.0]); // row 0 ...
/// step.apply(0, 2, &mut weights[2..], &[0.0, -2.0]); // ... and row 1, in any order
/// assert_eq!(weights, [0.0, -1.0, 1.0, 2.0]);
/// ```
pub trait ElementwiseStep: Sync {
    /// Updates elements `offset .. offset + parameter.len()` (in row-major order) of the layer's
    /// parameter number `index`, given their gradients. Each element is updated exactly once per
    /// step; pieces may be updated at the same time from several threads.
    ///
    /// # Panics
    /// If the piece lies outside the parameter or the lengths differ.
    fn apply(&self, index: usize, offset: usize, parameter: &mut [f32], gradient: &[f32]);
}
