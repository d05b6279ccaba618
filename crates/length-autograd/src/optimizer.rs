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

    /// `Some(η)` when this optimizer updates every parameter exactly as `p -= η * g` (in `f32`,
    /// the multiply and the subtraction each rounded), keeping no state: plain SGD. A layer may
    /// then fold the step into the product that computes a parameter's gradient and never store
    /// that gradient (see [`Layer::prepare_update`](crate::Layer::prepare_update)); the
    /// parameters come out bit-identical. The default, `None`, is right for every other rule.
    fn plain_step_size(&self) -> Option<f32> {
        None
    }

    /// The current learning rate.
    fn learning_rate(&self) -> f32;

    /// Sets the learning rate, as a schedule does between epochs.
    fn set_learning_rate(&mut self, learning_rate: f32);
}
