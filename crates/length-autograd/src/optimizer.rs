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

/// The learning rate of an optimizer, which schedules change between epochs: a super-trait of
/// [`Optimizer`] and [`ElementwiseOptimizer`](crate::ElementwiseOptimizer), so each optimizer
/// states it once.
pub trait LearningRate {
    /// The current learning rate.
    fn learning_rate(&self) -> f32;

    /// Sets the learning rate, as a schedule does between epochs.
    fn set_learning_rate(&mut self, learning_rate: f32);
}

/// An update rule: turns a layer's parameter gradients into the deltas that train it.
///
/// An element-wise rule (each element's delta depends on its own gradient and state only: SGD,
/// momentum, Adam) implements [`ElementwiseOptimizer`](crate::ElementwiseOptimizer) instead and
/// gets this trait, with its fast paths, from the one rule it states. Any other rule implements
/// LENGTH's [`run_update_rule`](Optimizer::run_update_rule) (and [`LearningRate`]); the other
/// methods have defaults built on it. Here is one that looks at a whole gradient at once,
/// normalised gradient descent `delta = η · g / ‖g‖`:
///
/// ```
/// use length_autograd::{LayerId, LearningRate, Optimizer};
/// use length_tensor::Tensor;
/// use ndarray::{ArrayViewD, array};
///
/// struct Normalized { learning_rate: f32 }
///
/// impl Optimizer for Normalized {
///     fn run_update_rule(&mut self, gradients: &[ArrayViewD<f32>], _: LayerId) -> Vec<Tensor> {
///         gradients
///             .iter()
///             .map(|g| {
///                 let norm = g.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
///                 g.mapv(|x| self.learning_rate * x / norm)
///             })
///             .collect()
///     }
/// }
///
/// impl LearningRate for Normalized {
///     fn learning_rate(&self) -> f32 { self.learning_rate }
///     fn set_learning_rate(&mut self, learning_rate: f32) { self.learning_rate = learning_rate }
/// }
///
/// let mut optimizer = Normalized { learning_rate: 0.5 };
/// let mut weights = array![1.0f32, 1.0].into_dyn();
/// let gradient = array![3.0f32, 4.0].into_dyn();
/// optimizer.update(&mut [weights.view_mut()], &[gradient.view()], LayerId::fresh());
/// assert_eq!(weights, array![1.0 - 0.3, 1.0 - 0.4].into_dyn());
/// // Not element-wise: a layer gets whole gradients.
/// assert!(optimizer.begin_elementwise_step(LayerId::fresh(), &[&[2]]).is_none());
/// ```
pub trait Optimizer: LearningRate {
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
    /// layer. [`ElementwiseOptimizer`](crate::ElementwiseOptimizer)s get this for free.
    fn begin_elementwise_step(
        &mut self,
        layer: LayerId,
        shapes: &[&[usize]],
    ) -> Option<Box<dyn ElementwiseStep + '_>> {
        let _ = (layer, shapes);
        None
    }
}

/// One update of one layer by an element-wise optimizer, applied by the layer to pieces of its
/// parameters (see [`Optimizer::begin_elementwise_step`]).
///
/// ```
/// use length_autograd::{LayerId, Optimizer};
/// # use length_autograd::{ElementwiseOptimizer, LayerStates, LearningRate};
/// # struct Halve(LayerStates);
/// # impl ElementwiseOptimizer for Halve {
/// #     const NAME: &'static str = "Halve";
/// #     type State = [f32; 0];
/// #     type Step = ();
/// #     fn step(&self, _: u64) {}
/// #     fn delta(_: (), _: f32, g: f32, _: &mut [f32; 0]) -> f32 { 0.5 * g }
/// #     fn layer_states(&self) -> &LayerStates { &self.0 }
/// #     fn layer_states_mut(&mut self) -> &mut LayerStates { &mut self.0 }
/// # }
/// # impl LearningRate for Halve {
/// #     fn learning_rate(&self) -> f32 { 0.5 }
/// #     fn set_learning_rate(&mut self, _: f32) {}
/// # }
/// let mut optimizer = Halve(LayerStates::new()); // p -= 0.5 · g, element by element
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

    /// The rate `η` if this step is plain gradient descent, `p ← p − η·g` for every element
    /// (computed as exactly that: the product, then the subtraction), with no state: a layer may
    /// then have the weight-gradient product apply it in the microkernel's registers
    /// (`length_tensor::matmul_at_b_descend_into`), with the same bits as [`apply`]. `None` (the
    /// default) for any other rule.
    ///
    /// [`apply`]: ElementwiseStep::apply
    fn descent_rate(&self) -> Option<f32> {
        None
    }
}
